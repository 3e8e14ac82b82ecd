/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_body: streaming body inspection (mt_body_*): body buffers, patterns
 * split across segments at every byte, gzip/deflate (made here with zlib)
 * including split, corrupt and bomb inputs, positional keywords within the
 * inspection window, rules mixing head and body, pool exhaustion, abort,
 * and no allocation during the body calls. No EAL; runs under ASan/UBSan.
 */
#include "tu_eal.h"
#include "mt_engine_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <CUnit/Basic.h>
#include <zlib.h>

#include "mt_engine.h"

/* ---------- transactions ---------- */

struct tx {
	struct mt_txn t;
	struct mt_flow_tuple tup;
};

static struct mt_slice
sl(const char *s)
{
	struct mt_slice x = {(const uint8_t *)s, (uint32_t)strlen(s)};
	return x;
}

/* "Name: value" headers; Content-Encoding and Content-Type get their slots */
static void
headers(struct mt_http_msg *m, const char *const *h)
{
	for (int k = 0; k < MT_HDR__COUNT; k++)
		m->known[k] = -1;
	m->n_headers = 0;
	for (int i = 0; h != NULL && h[i] != NULL; i++) {
		const char *colon = strchr(h[i], ':');
		struct mt_header *x = &m->headers[m->n_headers];
		const char *v = colon + 1;

		while (*v == ' ')
			v++;
		x->name.p = (const uint8_t *)h[i];
		x->name.len = (uint32_t)(colon - h[i]);
		x->value = sl(v);
		if (x->name.len == 16 && strncasecmp(h[i], "Content-Encoding", 16) == 0)
			m->known[MT_HDR_CONTENT_ENCODING] = (int16_t)m->n_headers;
		if (x->name.len == 12 && strncasecmp(h[i], "Content-Type", 12) == 0)
			m->known[MT_HDR_CONTENT_TYPE] = (int16_t)m->n_headers;
		m->n_headers++;
	}
}

/* POST uri from 192.0.2.10:40000 to 10.0.0.5:8080, response 200 */
static void
mk(struct tx *x, const char *uri, const char *const *reqh, const char *const *resph)
{
	memset(x, 0, sizeof(*x));
	x->tup.family = 4;
	x->tup.proto = 6;
	x->tup.client_port = 40000;
	x->tup.server_port = 8080;
	inet_pton(AF_INET, "192.0.2.10", x->tup.client_ip);
	inet_pton(AF_INET, "10.0.0.5", x->tup.server_ip);
	x->t.tuple = &x->tup;
	x->t.req.method = sl("POST");
	x->t.req.uri = sl(uri);
	x->t.req.http_major = x->t.req.http_minor = 1;
	headers(&x->t.req, reqh);
	x->t.resp.status_code = 200;
	x->t.resp.reason = sl("OK");
	x->t.resp.http_major = x->t.resp.http_minor = 1;
	headers(&x->t.resp, resph);
}

static struct mt_engine *
engine(const struct mt_engine_params *p, const char *rules)
{
	struct mt_errors er = {0};
	struct mt_engine *e = mt_engine_build_text(p, rules, "<test>", &er);

	if (e == NULL) {
		fprintf(stderr, "engine build failed for:\n%s\n", rules);
		for (size_t i = 0; i < er.n; i++)
			fprintf(stderr, "  %u [%s] %s\n", er.v[i].line, er.v[i].keyword,
				er.v[i].reason);
	}
	mt_errors_clear(&er);
	return e;
}

/* sids hit while feeding @p chunks, bit (sid-1) set; where[sid-1] = 0 when
 * decided by a data call, 1 at the end. -1 on error; -2: no body needed. */
struct run {
	uint64_t sids;
	int where[64];
	int rc;
};

static struct run
feed(const struct mt_engine *e, struct mt_scratch *s, const struct tx *x, int dir,
     const uint8_t *const *chunks, const uint32_t *lens, int n)
{
	struct run r = {0};
	struct mt_body *b = NULL;
	struct mt_result res;
	int rc = mt_body_begin(e, s, &x->t, dir, &b);

	if (rc < 0 || b == NULL) {
		r.rc = rc < 0 ? rc : -2;
		return r;
	}
	for (int i = 0; i < n; i++) {
		rc = mt_body_data(e, s, b, &x->t, chunks[i], lens[i], &res);
		if (rc < 0) {
			mt_body_abort(s, b);
			r.rc = rc;
			return r;
		}
		for (uint32_t h = 0; h < res.n_hits; h++) {
			r.sids |= 1ull << (res.hits[h].rule->sid - 1);
			r.where[res.hits[h].rule->sid - 1] = 0;
		}
	}
	rc = mt_body_end(e, s, b, &x->t, &res);
	if (rc < 0) {
		r.rc = rc;
		return r;
	}
	for (uint32_t h = 0; h < res.n_hits; h++) {
		CU_ASSERT(!(r.sids & (1ull << (res.hits[h].rule->sid - 1)))); /* once only */
		r.sids |= 1ull << (res.hits[h].rule->sid - 1);
		r.where[res.hits[h].rule->sid - 1] = 1;
	}
	return r;
}

static struct run
feed1(const struct mt_engine *e, struct mt_scratch *s, const struct tx *x, int dir,
      const void *p, uint32_t len)
{
	const uint8_t *c[1] = {p};
	uint32_t l[1] = {len};

	return feed(e, s, x, dir, c, l, 1);
}

#define SID(n) (1ull << ((n) - 1))

struct cq {
	const char *name;
	uint64_t v;
	int found;
};

static void
counter_cb(void *arg, const char *n, uint64_t v)
{
	struct cq *q = arg;

	if (strcmp(n, q->name) == 0) {
		q->v = v;
		q->found++;
	}
}

static uint64_t
counter(const struct mt_scratch *s, const char *name)
{
	struct cq q = {name, 0, 0};

	mt_scratch_counters(s, counter_cb, &q);
	CU_ASSERT_EQUAL(q.found, 1);
	return q.v;
}

/* ---------- compression helpers ---------- */


/* ---------- tests ---------- */

static const char *const H_GZ[] = {"Content-Encoding: gzip", NULL};
static const char *const H_XGZ[] = {"Content-Encoding:  X-Gzip ", NULL};
static const char *const H_DEFL[] = {"Content-Encoding: deflate", NULL};
static const char *const H_BR[] = {"Content-Encoding: br", NULL};

#define R(sid, opts) "alert http any any -> any any (" opts " sid:" #sid ";)\n"

static void
test_buffers(void)
{
	struct mt_engine *e = engine(NULL,
		R(1, "http.request_body; content:\"evil\";")
		R(2, "content:\"evil\"; http_client_body;")
		R(3, "pcre:\"/ev[i]l/P\";")
		R(4, "file_data; content:\"evil\";")
		R(5, "flow:to_server; file.data; content:\"evil\";")
		R(6, "http.response_body; content:\"evil\";")
		R(7, "content:\"evil\"; http_server_body;")
		R(8, "pcre:\"/ev[i]l/Q\";")
		R(9, "flow:to_client; file_data; content:\"evil\";")
		R(10, "http.uri; content:\"evil\";"));
	struct mt_scratch *s;
	struct tx x;
	struct run r;

	CU_ASSERT_FATAL(e != NULL);
	s = mt_scratch_create(e);
	CU_ASSERT_FATAL(s != NULL);
	mk(&x, "/upload", NULL, NULL);
	r = feed1(e, s, &x, MT_DIR_TO_SERVER, "a very evil body", 16);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2) | SID(3) | SID(4) | SID(5));
	/* file_data without a flow direction: both bodies, as in Suricata */
	r = feed1(e, s, &x, MT_DIR_TO_CLIENT, "a very evil body", 16);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.sids, SID(4) | SID(6) | SID(7) | SID(8) | SID(9));
	r = feed1(e, s, &x, MT_DIR_TO_SERVER, "a very good body", 16);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.sids, 0);
	/* body rules are not evaluated on heads */
	{
		struct mt_result res;
		mk(&x, "/evil", NULL, NULL);
		CU_ASSERT_EQUAL(mt_match_request(e, s, &x.t, &res), 1);
		CU_ASSERT_EQUAL(res.hits[0].rule->sid, 10);
	}
	CU_ASSERT_EQUAL(mt_body_begin(e, s, &x.t, 2, &(struct mt_body *){NULL}), -EINVAL);
	CU_ASSERT_EQUAL(counter(s, "body_begun"), 3);
	CU_ASSERT_EQUAL(counter(s, "body_ended"), 3);
	CU_ASSERT_EQUAL(counter(s, "body_in_use"), 0);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

static void
test_no_body_rules(void)
{
	struct mt_engine *e = engine(NULL, R(1, "http.uri; content:\"x\";")
				     R(2, "http.request_body; content:\"x\";"));
	struct mt_scratch *s = mt_scratch_create(e);
	struct mt_body *b = (struct mt_body *)1;
	struct tx x;

	CU_ASSERT_FATAL(s != NULL);
	mk(&x, "/", NULL, NULL);
	/* no rule for response bodies: nothing to do */
	CU_ASSERT_EQUAL(mt_body_begin(e, s, &x.t, MT_DIR_TO_CLIENT, &b), 0);
	CU_ASSERT_PTR_NULL(b);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

/* Every split point of a pattern across two data calls. */
static void
test_split_every_byte(void)
{
	struct mt_engine *e = engine(NULL,
		R(1, "http.request_body; content:\"EVIL-PAYLOAD-XYZ\";")
		R(2, "http.request_body; content:\"evil-payload\"; nocase; content:\"tail\"; distance:0;")
		R(3, "http.request_body; pcre:\"/PAYLOAD-X[YZ]{2}/\";")
		R(4, "http.request_body; content:\"absent-pattern\";"));
	static const char body[] = "prefix.....EVIL-PAYLOAD-XYZ.....tail";
	uint32_t n = (uint32_t)strlen(body);
	struct mt_scratch *s = mt_scratch_create(e);
	struct tx x;

	CU_ASSERT_FATAL(s != NULL);
	mk(&x, "/", NULL, NULL);
	for (uint32_t cut = 0; cut <= n; cut++) {
		const uint8_t *c[2] = {(const uint8_t *)body, (const uint8_t *)body + cut};
		uint32_t l[2] = {cut, n - cut};
		struct run r = feed(e, s, &x, 0, c, l, 2);

		CU_ASSERT_EQUAL(r.rc, 0);
		CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2) | SID(3));
		/* the single-content rule is decided by the stream, in a data call */
		CU_ASSERT_EQUAL(r.where[0], 0);
		CU_ASSERT_EQUAL(r.where[1], 1);
	}
	/* one byte per call */
	{
		const uint8_t *c[64];
		uint32_t l[64];
		struct run r;

		for (uint32_t i = 0; i < n; i++) {
			c[i] = (const uint8_t *)body + i;
			l[i] = 1;
		}
		r = feed(e, s, &x, 0, c, l, (int)n);
		CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2) | SID(3));
	}
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

static void
test_positional(void)
{
	struct mt_engine *e = engine(NULL,
		R(1, "http.request_body; content:\"{\\\"op\\\"\"; startswith;")
		R(2, "http.request_body; content:\"admin\"; offset:7; depth:5;")
		R(3, "http.request_body; content:\"admin\"; depth:8;")
		R(4, "http.request_body; content:\"op\"; content:\"admin\"; distance:3; within:5;")
		R(5, "http.request_body; content:\"admin\"; content:!\"readonly\";")
		R(6, "http.request_body; bsize:23;")
		R(7, "http.request_body; content:\"}\"; endswith;")
		R(8, "http.request_body; content:\"admin\"; isdataat:5,relative;")
		R(9, "http.request_body; content:\"admin\"; isdataat:!6,relative;")
		R(10, "http.request_body; content:\"ADMIN\";")
		R(11, "http.request_body; content:\"ADMIN\"; nocase; fast_pattern;")
		R(12, "http.request_body; content:\"op\"; depth:3;"));
	static const char body[] = "{\"op\":\"admin\",\"x\":true}";
	struct mt_scratch *s = mt_scratch_create(e);
	struct tx x;
	struct run r;

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(strlen(body), 23);
	mk(&x, "/", NULL, NULL);
	r = feed1(e, s, &x, 0, body, 23);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2) | SID(4) | SID(5) | SID(6) | SID(7) | SID(8) |
				SID(11));
	/* "op" ends at 4 > depth 3: the stream match is not enough */
	CU_ASSERT(!(r.sids & SID(12)));
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

/* Window: rules that need positions see the first MT_BODY_WINDOW bytes;
 * single-content rules are decided by the stream at any depth. */
static void
test_window(void)
{
	struct mt_engine *e = engine(NULL,
		R(1, "http.request_body; content:\"deep-secret\";")
		R(2, "http.request_body; content:\"deep-secret\"; content:\"!\"; distance:0;")
		R(3, "http.request_body; content:\"early\"; content:\"x\"; distance:0;")
		R(4, "http.request_body; bsize:>1000;"));
	uint32_t n = MT_BODY_WINDOW * 3;
	uint8_t *body = malloc(n);
	struct mt_scratch *s = mt_scratch_create(e);
	struct tx x;
	struct run r;
	uint32_t off = MT_BODY_WINDOW * 2;
	const uint8_t *c[3];
	uint32_t l[3];
	uint64_t before;

	CU_ASSERT_FATAL(s != NULL && body != NULL);
	memset(body, '.', n);
	memcpy(body + 10, "early-x", 7);
	memcpy(body + off, "deep-secret!", 12);
	mk(&x, "/", NULL, NULL);
	before = counter(s, "body_bytes_beyond_window");
	/* three calls: the window fills in the first; rules 3 and 4 are then
	 * decided in that call already */
	for (int i = 0; i < 3; i++) {
		c[i] = body + (size_t)i * MT_BODY_WINDOW;
		l[i] = MT_BODY_WINDOW;
	}
	r = feed(e, s, &x, 0, c, l, 3);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.sids, SID(1) | SID(3) | SID(4));
	CU_ASSERT_EQUAL(r.where[0], 0);
	CU_ASSERT_EQUAL(r.where[2], 0);
	CU_ASSERT_EQUAL(r.where[3], 0);
	CU_ASSERT_EQUAL(counter(s, "body_bytes_beyond_window") - before, 2ull * MT_BODY_WINDOW);
	/* inside the window the two-content rule does fire */
	memset(body, '.', n);
	memcpy(body + 500, "deep-secret!", 12);
	r = feed1(e, s, &x, 0, body, 2000);
	CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2) | SID(4));
	free(body);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

static void
test_head_and_body(void)
{
	struct mt_engine *e = engine(NULL,
		R(1, "http.uri; content:\"/upload\"; http.request_body; content:\"<?php\";")
		R(2, "http.method; content:\"POST\"; http.content_type; content:\"xml\"; "
		     "http.request_body; content:\"<!ENTITY\"; content:\"SYSTEM\"; distance:0;")
		R(3, "flow:to_client; http.uri; content:\"/api/users\"; http.stat_code; "
		     "content:\"200\"; http.response_body; content:\"password\";")
		R(4, "flow:to_client; http.header; content:\"X-Debug\"; file_data; content:\"trace\";")
		"alert http any any -> 10.0.0.99 any (http.request_body; content:\"<?php\"; sid:5;)\n");
	struct mt_scratch *s = mt_scratch_create(e);
	static const char *const hx[] = {"Content-Type: application/xml", NULL};
	static const char *const hd[] = {"X-Debug: 1", NULL};
	static const char xxe[] = "<?xml?><!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>";
	struct tx x;
	struct run r;

	CU_ASSERT_FATAL(s != NULL);
	mk(&x, "/upload", NULL, NULL);
	r = feed1(e, s, &x, 0, "<?php system($_GET[c]); ?>", 26);
	CU_ASSERT_EQUAL(r.sids, SID(1)); /* sid 5: wrong destination */
	mk(&x, "/other", NULL, NULL);
	r = feed1(e, s, &x, 0, "<?php system($_GET[c]); ?>", 26);
	CU_ASSERT_EQUAL(r.rc, -2); /* no rule can match: no body state taken */
	mk(&x, "/x", hx, NULL);
	r = feed1(e, s, &x, 0, xxe, (uint32_t)strlen(xxe));
	CU_ASSERT_EQUAL(r.sids, SID(2));
	mk(&x, "/api/users", NULL, hd);
	r = feed1(e, s, &x, 1, "[{\"password\":\"x\",\"trace\":1}]", 28);
	CU_ASSERT_EQUAL(r.sids, SID(3) | SID(4));
	x.t.resp.status_code = 500;
	r = feed1(e, s, &x, 1, "[{\"password\":\"x\",\"trace\":1}]", 28);
	CU_ASSERT_EQUAL(r.sids, SID(4));
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

#define BODY_RULES \
	R(1, "file_data; content:\"union select\";") \
	R(2, "file_data; content:\"id=1\"; startswith; content:\"union\"; distance:0;") \
	R(3, "flow:to_client; file_data; content:\"stacktrace\";")

static void
check_compressed(const struct mt_engine *e, struct mt_scratch *s, const char *const *h, int wbits)
{
	static const char plain[] = "id=1' union select password from users --";
	size_t zl;
	uint8_t *z = tu_deflate(plain, strlen(plain), wbits, &zl);
	struct tx x;

	mk(&x, "/", h, NULL);
	for (size_t cut = 0; cut <= zl; cut++) {
		const uint8_t *c[2] = {z, z + cut};
		uint32_t l[2] = {(uint32_t)cut, (uint32_t)(zl - cut)};
		struct run r = feed(e, s, &x, 0, c, l, 2);

		CU_ASSERT_EQUAL(r.rc, 0);
		CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2));
	}
	free(z);
}

static void
test_inflate(void)
{
	struct mt_engine *e = engine(NULL, BODY_RULES);
	struct mt_scratch *s = mt_scratch_create(e);
	static const char *const none[] = {NULL};

	CU_ASSERT_FATAL(s != NULL);
	check_compressed(e, s, H_GZ, 15 + 16);
	check_compressed(e, s, H_XGZ, 15 + 16);
	check_compressed(e, s, H_DEFL, 15);   /* zlib-wrapped, as RFC 9110 says */
	CU_ASSERT_EQUAL(counter(s, "inflate_raw_deflate"), 0);
	check_compressed(e, s, H_DEFL, -15);  /* raw deflate, as many servers send */
	CU_ASSERT(counter(s, "inflate_raw_deflate") > 0);
	CU_ASSERT_EQUAL(counter(s, "inflate_errors"), 0);
	/* without Content-Encoding the compressed bytes are matched as they are */
	{
		size_t zl;
		uint8_t *z = tu_deflate("union select", 12, 31, &zl);
		struct tx x;
		struct run r;

		mk(&x, "/", none, NULL);
		r = feed1(e, s, &x, 0, z, (uint32_t)zl);
		CU_ASSERT_EQUAL(r.sids, 0);
		/* unsupported coding: raw bytes, counted */
		mk(&x, "/", H_BR, NULL);
		r = feed1(e, s, &x, 0, "union select", 12);
		CU_ASSERT_EQUAL(r.sids, SID(1));
		CU_ASSERT_EQUAL(counter(s, "encoding_unsupported"), 1);
		/* response bodies are inflated too */
		mk(&x, "/", NULL, H_GZ);
		free(z);
		z = tu_deflate("java stacktrace at", 18, 31, &zl);
		r = feed1(e, s, &x, 1, z, (uint32_t)zl);
		CU_ASSERT_EQUAL(r.sids, SID(3));
		free(z);
	}
	CU_ASSERT(counter(s, "inflate_bodies") > 0);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

/* ---------- tap: decoded bytes for another inspector ---------- */

struct tap_buf {
	uint8_t b[4096];
	size_t n;
	unsigned calls;
};

static void
tap_cb(void *ctx, const uint8_t *p, uint32_t n)
{
	struct tap_buf *t = ctx;

	CU_ASSERT_FATAL(t->n + n <= sizeof(t->b));
	memcpy(t->b + t->n, p, n);
	t->n += n;
	t->calls++;
}

/* Feed @p p cut at @p cut with a tap; @return what set_tap said. */
static int
feed_tapped(const struct mt_engine *e, struct mt_scratch *s, const struct tx *x, int dir,
	    const uint8_t *p, size_t len, size_t cut, struct tap_buf *t, uint64_t *sids)
{
	struct mt_body *b = NULL;
	struct mt_result res;
	int tap;

	*sids = 0;
	t->n = 0;
	t->calls = 0;
	CU_ASSERT_FATAL(mt_body_begin(e, s, &x->t, dir, &b) == 0 && b != NULL);
	tap = mt_body_set_tap(b, tap_cb, t);
	CU_ASSERT(mt_body_data(e, s, b, &x->t, p, (uint32_t)cut, &res) >= 0);
	for (uint32_t h = 0; h < res.n_hits; h++)
		*sids |= 1ull << (res.hits[h].rule->sid - 1);
	CU_ASSERT(mt_body_data(e, s, b, &x->t, p + cut, (uint32_t)(len - cut), &res) >= 0);
	for (uint32_t h = 0; h < res.n_hits; h++)
		*sids |= 1ull << (res.hits[h].rule->sid - 1);
	CU_ASSERT(mt_body_end(e, s, b, &x->t, &res) >= 0);
	for (uint32_t h = 0; h < res.n_hits; h++)
		*sids |= 1ull << (res.hits[h].rule->sid - 1);
	return tap;
}

static void
test_tap(void)
{
	static const char plain[] = "{\"trace\":\"java stacktrace at Foo.bar\",\"card\":\"4111 1111 1111 1111\"}";
	static const struct { const char *const *h; int wbits; } codings[] = {
		{ H_GZ, 15 + 16 }, { H_XGZ, 15 + 16 }, { H_DEFL, 15 }, { H_DEFL, -15 },
	};
	static const char *const none[] = {NULL};
	struct mt_engine *e = engine(NULL, BODY_RULES);
	struct mt_scratch *s = mt_scratch_create(e);
	struct tap_buf t;
	struct tx x;
	uint64_t sids;

	CU_ASSERT_FATAL(s != NULL);
	/* the tap sees the inflated body, whatever the cut, and the rules the same */
	for (size_t k = 0; k < sizeof(codings) / sizeof(codings[0]); k++) {
		size_t zl;
		uint8_t *z = tu_deflate(plain, strlen(plain), codings[k].wbits, &zl);
		unsigned bad = 0;

		mk(&x, "/", NULL, codings[k].h);
		for (size_t cut = 0; cut <= zl; cut++) {
			int tap = feed_tapped(e, s, &x, 1, z, zl, cut, &t, &sids);

			bad += tap != 1 || t.n != strlen(plain) || memcmp(t.b, plain, t.n) != 0 ||
			       sids != SID(3);
		}
		CU_ASSERT_EQUAL(bad, 0);
		free(z);
	}
	/* plain body: the tap sees the bytes as they are, and says so */
	mk(&x, "/", NULL, none);
	CU_ASSERT_EQUAL(feed_tapped(e, s, &x, 1, (const uint8_t *)plain, strlen(plain), 9, &t,
				    &sids), 0);
	CU_ASSERT(t.n == strlen(plain) && memcmp(t.b, plain, t.n) == 0);
	/* corrupt gzip: the tap gets the raw bytes the rules see, counted once */
	{
		uint8_t junk[200];
		uint64_t e0 = counter(s, "inflate_errors");

		junk[0] = 0x1f;
		junk[1] = 0x8b;
		for (size_t i = 2; i < sizeof(junk); i++)
			junk[i] = (uint8_t)(i * 37 + 11);
		mk(&x, "/", NULL, H_GZ);
		CU_ASSERT_EQUAL(feed_tapped(e, s, &x, 1, junk, sizeof(junk), 1, &t, &sids), 1);
		CU_ASSERT_EQUAL(counter(s, "inflate_errors"), e0 + 1);
		CU_ASSERT(t.n == sizeof(junk) && memcmp(t.b, junk, t.n) == 0);
	}
	/* no tap on a body that is not open */
	CU_ASSERT_EQUAL(mt_body_set_tap(NULL, tap_cb, &t), -EINVAL);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

static void
test_inflate_corrupt(void)
{
	struct mt_engine *e = engine(NULL, BODY_RULES
		R(4, "http.request_body; content:\"raw-tail-marker\";"));
	struct mt_scratch *s = mt_scratch_create(e);
	static const char plain[] = "id=1' union select password from users --";
	struct tx x;
	struct run r;
	size_t zl;

	CU_ASSERT_FATAL(s != NULL);
	mk(&x, "/", H_GZ, NULL);
	/* claims gzip, is plain text: inspected raw from the first byte */
	r = feed1(e, s, &x, 0, plain, (uint32_t)strlen(plain));
	CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2));
	CU_ASSERT_EQUAL(counter(s, "inflate_errors"), 1);
	/* the same in 3-byte pieces */
	{
		const uint8_t *c[16];
		uint32_t l[16];
		int k = 0;

		for (uint32_t i = 0; i < strlen(plain); i += 3, k++) {
			c[k] = (const uint8_t *)plain + i;
			l[k] = strlen(plain) - i < 3 ? (uint32_t)(strlen(plain) - i) : 3;
		}
		r = feed(e, s, &x, 0, c, l, k);
		CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2));
		CU_ASSERT_EQUAL(counter(s, "inflate_errors"), 2);
	}
	/* valid gzip of stored blocks whose second block header is damaged:
	 * the first block stays inspected decoded, the rest is passed raw */
	{
		static const char p1[] = "id=1' union select password from users --";
		static const char p2[] = "raw-tail-marker";
		z_stream zs;
		uint8_t out[512];
		size_t o1;

		memset(&zs, 0, sizeof(zs));
		CU_ASSERT_FATAL(deflateInit2(&zs, 0, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		zs.next_in = (Bytef *)(uintptr_t)p1;
		zs.avail_in = (uInt)strlen(p1);
		CU_ASSERT_FATAL(deflate(&zs, Z_FULL_FLUSH) == Z_OK);
		o1 = sizeof(out) - zs.avail_out;
		zs.next_in = (Bytef *)(uintptr_t)p2;
		zs.avail_in = (uInt)strlen(p2);
		CU_ASSERT_FATAL(deflate(&zs, Z_FINISH) == Z_STREAM_END);
		zl = sizeof(out) - zs.avail_out;
		deflateEnd(&zs);
		CU_ASSERT_FATAL(memmem(out + o1, zl - o1, p2, strlen(p2)) != NULL);
		/* intact, in two calls: decoded, no error */
		{
			const uint8_t *c[2] = {out, out + o1};
			uint32_t l[2] = {(uint32_t)o1, (uint32_t)(zl - o1)};
			uint64_t errs0 = counter(s, "inflate_errors");

			r = feed(e, s, &x, 0, c, l, 2);
			CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2) | SID(4));
			CU_ASSERT_EQUAL(counter(s, "inflate_errors"), errs0);
			/* stored block: header byte, LEN, NLEN = ~LEN */
			CU_ASSERT_FATAL((uint8_t)(out[o1 + 3] ^ out[o1 + 1]) == 0xff);
			out[o1 + 3] ^= 0x55;
			r = feed(e, s, &x, 0, c, l, 2);
			CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2) | SID(4));
			CU_ASSERT_EQUAL(counter(s, "inflate_errors"), errs0 + 1);
			/* and with no raw passthrough the tail would have been lost:
			 * the marker was never decoded */
		}
	}
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

static void
test_inflate_bomb(void)
{
	struct mt_engine *e = engine(NULL,
		R(1, "http.request_body; content:\"BEFORE-CAP\";")
		R(2, "http.request_body; content:\"AFTER-CAP\";"));
	struct mt_scratch *s = mt_scratch_create(e);
	size_t n = 8u * 1024u * 1024u, zl;
	char *plain = calloc(1, n);
	uint8_t *z;
	struct tx x;
	struct run r;

	CU_ASSERT_FATAL(s != NULL && plain != NULL);
	memcpy(plain + MT_INFLATE_CAP - 100, "BEFORE-CAP", 10);
	memcpy(plain + n - 100, "AFTER-CAP", 9);
	z = tu_deflate(plain, n, 31, &zl);
	CU_ASSERT(zl < 64 * 1024); /* a real bomb: > 100x */
	mk(&x, "/", H_GZ, NULL);
	{
		const uint8_t *c[2] = {z, z + zl / 3};
		uint32_t l[2] = {(uint32_t)(zl / 3), (uint32_t)(zl - zl / 3)};
		uint64_t insp = counter(s, "body_bytes_inspected");

		r = feed(e, s, &x, 0, c, l, 2);
		CU_ASSERT_EQUAL(r.rc, 0);
		CU_ASSERT_EQUAL(r.sids, SID(1));
		CU_ASSERT_EQUAL(counter(s, "inflate_cap_hits"), 1);
		CU_ASSERT_EQUAL(counter(s, "body_bytes_inspected") - insp, MT_INFLATE_CAP);
	}
	free(z);
	free(plain);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

static void
test_pool_and_abort(void)
{
	struct mt_engine_params p = {.max_bodies = 2};
	struct mt_engine *e = engine(&p, R(1, "http.request_body; content:\"evil\";"));
	struct mt_scratch *s = mt_scratch_create(e);
	struct mt_body *b1 = NULL, *b2 = NULL, *b3 = (struct mt_body *)1;
	struct mt_result res;
	struct tx x;

	CU_ASSERT_FATAL(s != NULL);
	mk(&x, "/", NULL, NULL);
	CU_ASSERT_EQUAL(mt_body_begin(e, s, &x.t, 0, &b1), 0);
	CU_ASSERT_EQUAL(mt_body_begin(e, s, &x.t, 0, &b2), 0);
	CU_ASSERT_PTR_NOT_NULL(b1);
	CU_ASSERT_PTR_NOT_NULL(b2);
	CU_ASSERT_EQUAL(mt_body_begin(e, s, &x.t, 0, &b3), -ENOBUFS);
	CU_ASSERT_PTR_NULL(b3);
	CU_ASSERT_EQUAL(counter(s, "body_pool_exhausted"), 1);
	CU_ASSERT_EQUAL(counter(s, "body_in_use"), 2);
	/* interleaved bodies keep separate streams */
	CU_ASSERT_EQUAL(mt_body_data(e, s, b1, &x.t, (const uint8_t *)"ev", 2, &res), 0);
	CU_ASSERT_EQUAL(mt_body_data(e, s, b2, &x.t, (const uint8_t *)"xx", 2, &res), 0);
	CU_ASSERT_EQUAL(mt_body_data(e, s, b2, &x.t, (const uint8_t *)"il", 2, &res), 0);
	CU_ASSERT_EQUAL(mt_body_data(e, s, b1, &x.t, (const uint8_t *)"il", 2, &res), 1);
	mt_body_abort(s, b2);
	CU_ASSERT_EQUAL(counter(s, "body_in_use"), 1);
	CU_ASSERT_EQUAL(mt_body_begin(e, s, &x.t, 0, &b3), 0);
	CU_ASSERT_PTR_NOT_NULL(b3);
	CU_ASSERT_EQUAL(mt_body_end(e, s, b1, &x.t, &res), 0); /* already reported */
	/* the body outlives nothing: abort after the engine is gone */
	mt_engine_destroy(e);
	mt_body_abort(s, b3);
	CU_ASSERT_EQUAL(counter(s, "body_in_use"), 0);
	CU_ASSERT_EQUAL(counter(s, "body_aborted"), 2);
	mt_scratch_destroy(s);
}

/* Confirmation against a rule generation the scratch was not made for is refused. */
static void
test_wrong_engine(void)
{
	struct mt_engine *a = engine(NULL, R(1, "http.request_body; content:\"a\";"));
	struct mt_engine *b = engine(NULL, R(1, "http.response_body; content:\"b\";"));
	struct mt_scratch *s = mt_scratch_create(a);
	struct mt_body *x1 = NULL;
	struct mt_result res;
	struct tx x;

	CU_ASSERT_FATAL(s != NULL && b != NULL);
	mk(&x, "/", NULL, NULL);
	CU_ASSERT_EQUAL(mt_body_begin(a, s, &x.t, 0, &x1), 0);
	CU_ASSERT_EQUAL(mt_body_data(b, s, x1, &x.t, (const uint8_t *)"a", 1, &res), -EINVAL);
	CU_ASSERT_EQUAL(mt_body_end(b, s, x1, &x.t, &res), -EINVAL);
	CU_ASSERT_EQUAL(mt_body_data(a, s, x1, &x.t, (const uint8_t *)"a", 1, &res), 1);
	CU_ASSERT_EQUAL(mt_body_end(a, s, x1, &x.t, &res), 0);
	CU_ASSERT_EQUAL(mt_scratch_prepare(s, b), 0);
	CU_ASSERT_EQUAL(feed1(b, s, &x, 1, "b", 1).sids, SID(1));
	mt_scratch_destroy(s);
	mt_engine_destroy(a);
	mt_engine_destroy(b);
}

/* The streaming databases go through the on-disk cache too. */
static void
test_cache(void)
{
	char dir[] = "/tmp/mt_body_cacheXXXXXX";
	struct mt_engine_params p = {0};
	const char *rules = BODY_RULES R(4, "http.request_body; content:\"evil\";");

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	p.cache_dir = dir;
	for (int round = 0; round < 2; round++) {
		struct mt_engine *e = engine(&p, rules);
		struct mt_scratch *s;
		struct tx x;
		const uint8_t *c[2] = {(const uint8_t *)"ev", (const uint8_t *)"il union select"};
		uint32_t l[2] = {2, 15};

		CU_ASSERT_FATAL(e != NULL);
		CU_ASSERT_EQUAL(e->from_cache, round == 1);
		s = mt_scratch_create(e);
		CU_ASSERT_FATAL(s != NULL);
		mk(&x, "/", NULL, NULL);
		CU_ASSERT_EQUAL(feed(e, s, &x, 0, c, l, 2).sids, SID(1) | SID(4));
		mt_scratch_destroy(s);
		mt_engine_destroy(e);
	}
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CU_ASSERT_EQUAL(system(cmd), 0);
	}
}

static void
test_rule_errors(void)
{
	static const char *const bad[] = {
		R(1, "http.request_body; content:\"a\"; http.response_body; content:\"b\";"),
		R(1, "flow:to_client; http.request_body; content:\"a\";"),
		R(1, "http.request_body; content:\"a\"; http.stat_code; content:\"200\";"),
		R(1, "http.response_body.raw; content:\"a\";"),
		R(1, "flow:to_server; http.response_body; content:\"a\";"),
	};
	struct mt_errors er = {0};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mt_engine *e = mt_engine_build_text(NULL, bad[i], "<t>", &er);

		CU_ASSERT_PTR_NULL(e);
		CU_ASSERT(er.n >= 1);
		mt_errors_clear(&er);
	}
}

/* ---------- no allocation in the body calls ---------- */

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
	struct mt_engine *e = engine(NULL, BODY_RULES
		R(4, "http.request_body; pcre:\"/select\\s+password/\";")
		R(5, "http.request_body; content:\"x\"; threshold:type limit, track by_src, count 1, seconds 60;"));
	struct mt_scratch *s;
	static const char plain[] = "id=1' union select password from users -- x";
	size_t zl;
	uint8_t *z = tu_deflate(plain, strlen(plain), 31, &zl);
	struct tx x, xg;
	long before;

	CU_ASSERT_FATAL(e != NULL);
	before = n_allocs;
	s = mt_scratch_create(e);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT(n_allocs > before);
	mk(&x, "/", NULL, NULL);
	mk(&xg, "/", H_GZ, NULL);
	before = n_allocs;
	for (int i = 0; i < 20; i++) {
		const uint8_t *c[2] = {(const uint8_t *)plain, (const uint8_t *)plain + 9};
		uint32_t l[2] = {9, (uint32_t)strlen(plain) - 9};
		struct run r = feed(e, s, &x, 0, c, l, 2);

		CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2) | SID(4) | (i == 0 ? SID(5) : 0));
		r = feed1(e, s, &xg, 0, z, (uint32_t)zl);
		CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2) | SID(4));
		r = feed1(e, s, &xg, 0, plain, 20); /* corrupt: passthrough */
		CU_ASSERT(r.sids & SID(1));
		{
			struct mt_body *b = NULL;
			CU_ASSERT_EQUAL(mt_body_begin(e, s, &x.t, 0, &b), 0);
			mt_body_abort(s, b);
		}
	}
	CU_ASSERT_EQUAL(n_allocs, before);
	free(z);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
#else
	fprintf(stderr, "(allocation count skipped under AddressSanitizer)\n");
#endif
}

/* A body rule whose only body keyword is a pcre is selected by the pcre's
 * prefilter form in the stream database (MT_BM_PREFILTER_RE), not
 * confirmed against every window: it still fires where the pcre matches,
 * including end-anchored forms, and when the window is cut short a match
 * ending at the window's end (where the stream sees more bytes) counts. */
static void
test_pcre_prefilter(void)
{
	struct mt_engine *e = engine(NULL,
		"alert http any any -> any any (flow:to_client; file_data; "
		"pcre:\"/\\bgh[pousr]_[A-Za-z0-9]{8}\\b/\"; sid:1;)\n"
		"alert http any any -> any any (flow:to_client; file_data; pcre:\"/tail$/\"; sid:2;)\n"
		"alert http any any -> any any (flow:to_client; file_data; "
		"pcre:\"/word\\b/\"; sid:3;)\n");
	struct mt_scratch *s;
	struct tx x;
	struct run r;
	uint8_t *big;
	uint32_t n = MT_BODY_WINDOW + 64;

	CU_ASSERT_FATAL(e != NULL);
	s = mt_scratch_create(e);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(e->body[1].mode[0], MT_BM_PREFILTER_RE);
	CU_ASSERT_EQUAL(e->body[1].mode[1], MT_BM_PREFILTER_RE);
	mk(&x, "/", NULL, NULL);
	r = feed1(e, s, &x, 1, "token ghp_abcdEF12 here, then a tail", 36);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.sids, SID(1) | SID(2));
	r = feed1(e, s, &x, 1, "token ghp_abcdEF123 here, tails", 31);
	CU_ASSERT_EQUAL(r.sids, 0);
	r = feed1(e, s, &x, 1, "nothing to see, words", 21);
	CU_ASSERT_EQUAL(r.sids, 0);
	/* window cut: "word" ends the window, "s" follows in the stream */
	big = malloc(n);
	CU_ASSERT_FATAL(big != NULL);
	memset(big, '.', n);
	memcpy(big + MT_BODY_WINDOW - 4, "words", 5);
	memcpy(big + MT_BODY_WINDOW - 8, "tail", 4);
	r = feed1(e, s, &x, 1, big, n);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.sids, SID(3));
	free(big);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

int
main(void)
{
	CU_pSuite su;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	su = CU_add_suite("matchers_body", NULL, NULL);
	CU_add_test(su, "buffers", test_buffers);
	CU_add_test(su, "no_body_rules", test_no_body_rules);
	CU_add_test(su, "split_every_byte", test_split_every_byte);
	CU_add_test(su, "positional", test_positional);
	CU_add_test(su, "window", test_window);
	CU_add_test(su, "head_and_body", test_head_and_body);
	CU_add_test(su, "inflate", test_inflate);
	CU_add_test(su, "inflate_corrupt", test_inflate_corrupt);
	CU_add_test(su, "tap", test_tap);
	CU_add_test(su, "inflate_bomb", test_inflate_bomb);
	CU_add_test(su, "pool_and_abort", test_pool_and_abort);
	CU_add_test(su, "wrong_engine", test_wrong_engine);
	CU_add_test(su, "cache", test_cache);
	CU_add_test(su, "rule_errors", test_rule_errors);
	CU_add_test(su, "no_alloc", test_no_alloc);
	CU_add_test(su, "pcre_prefilter", test_pcre_prefilter);
	return tu_run_all();
}
