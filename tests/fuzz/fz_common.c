/* SPDX-License-Identifier: Apache-2.0 */
#include "fz_common.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

volatile uint32_t fz_sink;

static char fz_prefix[64];

void
fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FUZZ FINDING: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

static void
fz_eal_cleanup(void)
{
	char cmd[160];

	rte_eal_cleanup();
	/* rte_eal_cleanup() leaves the runtime directory behind. */
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", fz_prefix);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove /var/run/dpdk/%s\n", fz_prefix);
}

void
fz_eal_init(const char *name)
{
	static int done;
	char prefix_arg[96];
	char *argv[] = {
		(char *)name, "--no-huge", "-m", "512", "--no-pci", "--no-telemetry",
		"--no-shconf", "-l", "0", "--log-level", "*:error", prefix_arg, NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	if (done)
		return;
	snprintf(fz_prefix, sizeof(fz_prefix), "ag_%s_%d", name, (int)getpid());
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", fz_prefix);
	if (rte_eal_init(argc, argv) < 0)
		fz_fail("rte_eal_init failed");
	atexit(fz_eal_cleanup);
	done = 1;
}

static int
fz_is_rules(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 6 && strcmp(d->d_name + n - 6, ".rules") == 0;
}

struct mt_engine *
fz_rule_pack(const char *extra)
{
	const char *dir = FUZZ_SRCDIR "/configs/rules";
	struct dirent **list = NULL;
	struct mt_errors errs = { 0 };
	struct mt_engine *e;
	const char **files;
	int n, i;

	n = scandir(dir, &list, fz_is_rules, alphasort);
	if (n <= 0)
		fz_fail("no rule files in %s", dir);
	files = calloc((size_t)n + 1, sizeof(*files));
	for (i = 0; i < n; i++) {
		char *p = NULL;

		if (asprintf(&p, "%s/%s", dir, list[i]->d_name) < 0)
			fz_fail("out of memory");
		files[i] = p;
		free(list[i]);
	}
	free(list);
	if (extra != NULL)
		files[n++] = strdup(extra);
	e = mt_engine_build_files(NULL, files, (size_t)n, &errs);
	if (e == NULL)
		fz_fail("the rule pack does not build (%zu errors, first: %s:%u %s)", errs.n,
			errs.n ? errs.v[0].file : "?", errs.n ? errs.v[0].line : 0,
			errs.n ? errs.v[0].reason : strerror(errno));
	mt_errors_clear(&errs);
	for (i = 0; i < n; i++)
		free((void *)files[i]);
	free(files);
	return e;
}

static uint32_t
fz_touch(const struct mt_slice *s, const char *what)
{
	uint32_t h = 0, i;

	if (s->len != 0 && s->p == NULL)
		fz_fail("%s: %u bytes at NULL", what, s->len);
	for (i = 0; i < s->len; i++)
		h = h * 31u + s->p[i];
	return h;
}

static uint32_t
fz_touch_msg(const struct mt_http_msg *m)
{
	uint32_t h = 0;
	unsigned int i;

	if (m->n_headers > MT_MAX_HEADERS)
		fz_fail("n_headers %u > %u", m->n_headers, MT_MAX_HEADERS);
	h += fz_touch(&m->method, "method");
	h += fz_touch(&m->uri, "uri");
	h += fz_touch(&m->reason, "reason");
	for (i = 0; i < m->n_headers; i++) {
		h += fz_touch(&m->headers[i].name, "header name");
		h += fz_touch(&m->headers[i].value, "header value");
	}
	for (i = 0; i < MT_HDR__COUNT; i++)
		if (m->known[i] >= (int)m->n_headers || m->known[i] < -1)
			fz_fail("known[%u] = %d with %u headers", i, m->known[i], m->n_headers);
	return h;
}

uint32_t
fz_touch_txn(const struct mt_txn *t)
{
	if (t->tuple == NULL)
		fz_fail("transaction without a tuple");
	return fz_touch_msg(&t->req) + fz_touch_msg(&t->resp) + t->tuple->client_port;
}
