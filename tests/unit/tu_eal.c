/* SPDX-License-Identifier: Apache-2.0 */
#include "tu_eal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include <rte_eal.h>

static char tu_prefix[64];

static void
tu_eal_cleanup(void)
{
	char cmd[160];

	rte_eal_cleanup();
	/* rte_eal_cleanup() leaves the runtime directory behind. */
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", tu_prefix);
	if (system(cmd) != 0)
		fprintf(stderr, "tu: could not remove /var/run/dpdk/%s\n", tu_prefix);
}

int
tu_eal_init(const char *test_name)
{
	char prefix_arg[96];
	char *argv[] = {
		(char *)test_name, "--no-huge", "-m", "256", "--no-pci",
		"--no-telemetry", "-l", "0", "--log-level", "*:warning",
		prefix_arg, NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	snprintf(tu_prefix, sizeof(tu_prefix), "ag_%s_%d", test_name, (int)getpid());
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", tu_prefix);
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "tu: rte_eal_init failed\n");
		return -1;
	}
	atexit(tu_eal_cleanup);
	return 0;
}

int
tu_run_all(void)
{
	unsigned int failures;

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	/* Tests that could not run (setup failures) count as failures too. */
	if (CU_get_number_of_suites_failed() > 0)
		failures++;
	CU_cleanup_registry();
	return failures ? 1 : 0;
}

char *
tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		if (len != NULL)
			*len = (size_t)n;
	}
	return buf;
}

uint8_t *
tu_deflate(const void *in, size_t len, int wbits, size_t *olen)
{
	z_stream z;
	size_t cap;
	uint8_t *out;

	memset(&z, 0, sizeof(z));
	CU_ASSERT_FATAL(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	cap = deflateBound(&z, len) + 64;
	out = malloc(cap);
	CU_ASSERT_FATAL(out != NULL);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	CU_ASSERT_FATAL(deflate(&z, Z_FINISH) == Z_STREAM_END);
	*olen = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}
