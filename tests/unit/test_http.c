/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP session suite. Needs EAL (the session and spill pools are
 * rte_mempools) but runs without hugepages (EAL --no-huge) and under
 * ASan/UBSan.
 *
 * Recording callbacks copy everything they are shown (slices are only
 * valid inside the callback). Every segment is fed from its own buffer
 * that ends right before a PROT_NONE page, and once dp_http_data() returns
 * the whole buffer is made PROT_NONE (and kept mapped until the end of the
 * run, so its address cannot be reused): a slice into an earlier segment
 * that survives the call crashes the test instead of reading stale bytes.
 */
#include "dp_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/mman.h>

#include <rte_mempool.h>

#include "tu_eal.h"

/* ---- guarded segments --------------------------------------------------- */

struct seg_map {
	uint8_t *map;
	size_t len;
};

#define MAX_MAPS 8192
static struct seg_map maps[MAX_MAPS];
static uint32_t n_maps;
/* the segment being parsed, for the zero-copy check */
static const uint8_t *cur_seg;
static uint32_t cur_len;

static uint8_t *
seg_place(const void *data, size_t len)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (len + ps - 1) / ps + 1;
	uint8_t *m;

	if (n_maps == MAX_MAPS)
		abort();
	m = mmap(NULL, pages * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		abort();
	if (mprotect(m + (pages - 1) * ps, ps, PROT_NONE) != 0)
		abort();
	maps[n_maps].map = m;
	maps[n_maps].len = pages * ps;
	n_maps++;
	memcpy(m + (pages - 1) * ps - len, data, len);
	return m + (pages - 1) * ps - len;
}

/* The segment is over: nothing may read it any more. */
static void
seg_retire(void)
{
	struct seg_map *s = &maps[n_maps - 1];

	if (mprotect(s->map, s->len, PROT_NONE) != 0)
		abort();
}

static void
seg_release_all(void)
{
	uint32_t i;

	for (i = 0; i < n_maps; i++)
		munmap(maps[i].map, maps[i].len);
	n_maps = 0;
}

/* ---- recorder ----------------------------------------------------------- */

struct rstr {
	char *p;
	uint32_t len;
};

struct rmsg {
	struct rstr method, uri, reason;
	uint16_t status;
	uint8_t maj, min, chunked, has_cl;
	uint64_t cl;
	uint32_t truncated, dropped;
	uint16_t n;
	struct rstr name[MT_MAX_HEADERS], value[MT_MAX_HEADERS];
	int16_t known[MT_HDR__COUNT];
	int outside_seg;     /* slices that point outside the current segment */
};

struct rev {
	char type;           /* Q request, S response, D txn_done, E error */
	uint64_t txn_id, ts, req_body, resp_body;
	int dir, err;
	const struct mt_flow_tuple *tuple;
	struct rmsg req, resp;
};

#define MAX_EV 64
struct rec {
	uint32_t n;
	uint32_t overflow;
	struct rev ev[MAX_EV];
};

static struct rec R;

static void
rs_copy(struct rstr *d, const struct mt_slice *s, int *outside)
{
	d->len = s->len;
	d->p = malloc((size_t)s->len + 1);
	if (s->len > 0) {
		memcpy(d->p, s->p, s->len);
		if (s->p < cur_seg || s->p + s->len > cur_seg + cur_len)
			(*outside)++;
	}
	d->p[s->len] = '\0';
}

static void
rs_free(struct rstr *s)
{
	free(s->p);
	s->p = NULL;
	s->len = 0;
}

static void
rmsg_copy(struct rmsg *d, const struct mt_http_msg *m)
{
	uint16_t i;

	memset(d, 0, sizeof(*d));
	rs_copy(&d->method, &m->method, &d->outside_seg);
	rs_copy(&d->uri, &m->uri, &d->outside_seg);
	rs_copy(&d->reason, &m->reason, &d->outside_seg);
	d->status = m->status_code;
	d->maj = m->http_major;
	d->min = m->http_minor;
	d->chunked = m->chunked;
	d->has_cl = m->has_content_length;
	d->cl = m->content_length;
	d->truncated = m->truncated;
	d->dropped = m->headers_dropped;
	d->n = m->n_headers;
	CU_ASSERT(m->n_headers <= MT_MAX_HEADERS);
	for (i = 0; i < m->n_headers && i < MT_MAX_HEADERS; i++) {
		rs_copy(&d->name[i], &m->headers[i].name, &d->outside_seg);
		rs_copy(&d->value[i], &m->headers[i].value, &d->outside_seg);
	}
	memcpy(d->known, m->known, sizeof(d->known));
}

static void
rmsg_free(struct rmsg *m)
{
	uint16_t i;

	rs_free(&m->method);
	rs_free(&m->uri);
	rs_free(&m->reason);
	for (i = 0; i < m->n && i < MT_MAX_HEADERS; i++) {
		rs_free(&m->name[i]);
		rs_free(&m->value[i]);
	}
}

static struct rev *
rec_new(struct rec *r, char type)
{
	struct rev *e;

	if (r->n == MAX_EV) {
		r->overflow++;
		return NULL;
	}
	e = &r->ev[r->n++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	return e;
}

static void
rec_txn(struct rec *r, char type, const struct mt_txn *t)
{
	struct rev *e = rec_new(r, type);

	if (e == NULL)
		return;
	e->txn_id = t->txn_id;
	e->ts = t->ts_ns;
	e->req_body = t->req_body_len;
	e->resp_body = t->resp_body_len;
	e->tuple = t->tuple;
	rmsg_copy(&e->req, &t->req);
	rmsg_copy(&e->resp, &t->resp);
}

static void on_request(void *arg, struct mt_txn *t) { rec_txn(arg, 'Q', t); }
static void on_response(void *arg, struct mt_txn *t) { rec_txn(arg, 'S', t); }
static void on_done(void *arg, struct mt_txn *t) { rec_txn(arg, 'D', t); }

static void
on_error(void *arg, int dir, int err)
{
	struct rev *e = rec_new(arg, 'E');

	if (e == NULL)
		return;
	e->dir = dir;
	e->err = err;
}

static void
rec_reset(struct rec *r)
{
	uint32_t i;

	for (i = 0; i < r->n; i++) {
		rmsg_free(&r->ev[i].req);
		rmsg_free(&r->ev[i].resp);
	}
	r->n = 0;
	r->overflow = 0;
}

static const struct dp_http_ops ops = {
	.request = on_request,
	.response = on_response,
	.txn_done = on_done,
	.error = on_error,
};

/* Text form of a message / of all events, to compare runs. */
static void
app(char **b, size_t *left, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
app(char **b, size_t *left, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*b, *left, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= *left) {
		*b += *left > 0 ? *left - 1 : 0;
		*left = *left > 0 ? 1 : 0;
		return;
	}
	*b += n;
	*left -= (size_t)n;
}

static void
dump_msg(char **b, size_t *left, const struct rmsg *m)
{
	int i;

	app(b, left, "  M=[%s] U=[%s] R=[%s] st=%u v=%u.%u ch=%u cl=%u/%llu tr=%u dr=%u n=%u\n",
	    m->method.p, m->uri.p, m->reason.p, m->status, m->maj, m->min, m->chunked,
	    m->has_cl, (unsigned long long)m->cl, m->truncated, m->dropped, m->n);
	for (i = 0; i < m->n && i < MT_MAX_HEADERS; i++)
		app(b, left, "   [%s]=[%s]\n", m->name[i].p, m->value[i].p);
	app(b, left, "   known:");
	for (i = 0; i < MT_HDR__COUNT; i++)
		app(b, left, " %d", m->known[i]);
	app(b, left, "\n");
}

static char *
dump_all(const struct rec *r)
{
	size_t cap = 1 << 20, left = cap;
	char *out = malloc(cap), *b = out;
	uint32_t i;

	*b = '\0';
	for (i = 0; i < r->n; i++) {
		const struct rev *e = &r->ev[i];

		app(&b, &left, "%c id=%llu rb=%llu sb=%llu dir=%d err=%d\n", e->type,
		    (unsigned long long)e->txn_id, (unsigned long long)e->req_body,
		    (unsigned long long)e->resp_body, e->dir, e->err);
		if (e->type != 'E') {
			dump_msg(&b, &left, &e->req);
			dump_msg(&b, &left, &e->resp);
		}
	}
	app(&b, &left, "overflow=%u\n", r->overflow);
	return out;
}

/* ---- context, sessions, feeding ---------------------------------------- */

static struct dp_http_ctx ctx;
static const struct mt_flow_tuple tuple = {
	.family = 4, .proto = 6, .client_port = 40000, .server_port = 80,
	.client_ip = { 10, 0, 0, 1 }, .server_ip = { 10, 0, 0, 2 }, .flow_id = 77,
};
static uint64_t now = 1000;

static void
ctx_up(uint32_t sessions, uint32_t spill_bufs, uint32_t spill_size)
{
	static int seq;
	char name[16];
	int rc;

	snprintf(name, sizeof(name), "th%d", seq++);
	rc = dp_http_ctx_init(&ctx, name, sessions, spill_bufs, spill_size, 0, &ops);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	rec_reset(&R);
}

static void
ctx_down(void)
{
	/* every test returns every buffer */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(ctx.sess_pool), ctx.sess_pool->size);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(ctx.spill_pool), ctx.spill_pool->size);
	dp_http_ctx_fini(&ctx);
	rec_reset(&R);
	seg_release_all();
}

/* Feed one segment from its own guarded buffer. */
static int
feed_seg(struct dp_http_sess *s, int dir, const void *data, size_t len)
{
	uint8_t *p;
	int rc;

	if (len == 0)
		return 0;
	p = seg_place(data, len);
	cur_seg = p;
	cur_len = (uint32_t)len;
	rc = dp_http_data(&ctx, s, dir, p, (uint32_t)len, now, &R);
	seg_retire();
	cur_seg = NULL;
	cur_len = 0;
	return rc;
}

static int
feed(struct dp_http_sess *s, int dir, const char *str)
{
	return feed_seg(s, dir, str, strlen(str));
}

/* Two segments, cut at @at. */
static int
feed_split(struct dp_http_sess *s, int dir, const char *data, size_t len, size_t at)
{
	int rc = feed_seg(s, dir, data, at);

	return rc != 0 ? rc : feed_seg(s, dir, data + at, len - at);
}

static int
feed_bytes(struct dp_http_sess *s, int dir, const char *data, size_t len)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < len && rc == 0; i++)
		rc = feed_seg(s, dir, data + i, 1);
	return rc;
}

static struct dp_http_sess *
sess(void)
{
	struct dp_http_sess *s = dp_http_sess_open(&ctx, &tuple);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

static const char *
hval(const struct rmsg *m, const char *name)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (strcasecmp(m->name[i].p, name) == 0)
			return m->value[i].p;
	return NULL;
}

static const char *
known(const struct rmsg *m, enum mt_known_hdr h)
{
	return m->known[h] < 0 ? NULL : m->value[m->known[h]].p;
}

/* Event types in order, e.g. "QSD". */
static const char *
types(void)
{
	static char s[MAX_EV + 1];
	uint32_t i;

	for (i = 0; i < R.n; i++)
		s[i] = R.ev[i].type;
	s[R.n] = '\0';
	return s;
}

#define ASSERT_TYPES(str) do {                                              \
	CU_ASSERT_STRING_EQUAL(types(), str);                               \
	if (strcmp(types(), str) != 0)                                      \
		printf("\n    events [%s], expected [%s]", types(), str);  \
} while (0)

/* ---- fixtures ----------------------------------------------------------- */

static const char get_req[] =
	"GET /api/v1/users?id=7 HTTP/1.1\r\n"
	"Host: api.example.com\r\n"
	"User-Agent: curl/8.0\r\n"
	"Accept: */*\r\n"
	"\r\n";
static const char ok_resp[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 13\r\n"
	"Server: test\r\n"
	"\r\n"
	"{\"ok\":true}\r\n";

/* ---- tests -------------------------------------------------------------- */

static void
test_simple_get(void)
{
	struct dp_http_sess *s;
	const struct rev *q, *r, *d;

	ctx_up(4, 4, 1024);
	s = sess();
	now = 5000;
	CU_ASSERT_EQUAL(feed(s, 0, get_req), 0);
	ASSERT_TYPES("Q");
	q = &R.ev[0];
	CU_ASSERT_EQUAL(q->txn_id, 0);
	CU_ASSERT_EQUAL(q->ts, 5000);
	CU_ASSERT_PTR_EQUAL(q->tuple, &tuple);
	CU_ASSERT_STRING_EQUAL(q->req.method.p, "GET");
	CU_ASSERT_STRING_EQUAL(q->req.uri.p, "/api/v1/users?id=7");
	CU_ASSERT_EQUAL(q->req.maj, 1);
	CU_ASSERT_EQUAL(q->req.min, 1);
	CU_ASSERT_EQUAL(q->req.status, 0);
	CU_ASSERT_EQUAL(q->req.n, 3);
	CU_ASSERT_STRING_EQUAL(q->req.name[0].p, "Host");
	CU_ASSERT_STRING_EQUAL(q->req.value[0].p, "api.example.com");
	CU_ASSERT_STRING_EQUAL(q->req.name[2].p, "Accept");
	CU_ASSERT_STRING_EQUAL(q->req.value[2].p, "*/*");
	CU_ASSERT_EQUAL(q->req.known[MT_HDR_HOST], 0);
	CU_ASSERT_EQUAL(q->req.known[MT_HDR_USER_AGENT], 1);
	CU_ASSERT_EQUAL(q->req.known[MT_HDR_COOKIE], -1);
	CU_ASSERT_EQUAL(q->req.has_cl, 0);
	CU_ASSERT_EQUAL(q->req.chunked, 0);
	CU_ASSERT_EQUAL(q->req.truncated, 0);
	CU_ASSERT_EQUAL(q->resp.status, 0);
	CU_ASSERT_EQUAL(q->resp.n, 0);
	/* zero-copy: a head inside one segment is read from the packet */
	CU_ASSERT_EQUAL(q->req.outside_seg, 0);

	now = 6000;
	CU_ASSERT_EQUAL(feed(s, 1, ok_resp), 0);
	ASSERT_TYPES("QSD");
	r = &R.ev[1];
	d = &R.ev[2];
	CU_ASSERT_EQUAL(r->txn_id, 0);
	CU_ASSERT_EQUAL(r->ts, 6000);
	CU_ASSERT_EQUAL(r->resp.status, 200);
	CU_ASSERT_STRING_EQUAL(r->resp.reason.p, "OK");
	CU_ASSERT_EQUAL(r->resp.has_cl, 1);
	CU_ASSERT_EQUAL(r->resp.cl, 13);
	CU_ASSERT_EQUAL(r->resp.n, 3);
	CU_ASSERT_EQUAL(r->resp.known[MT_HDR_CONTENT_TYPE], 0);
	CU_ASSERT_EQUAL(r->resp.known[MT_HDR_CONTENT_LENGTH], 1);
	CU_ASSERT_EQUAL(r->resp.known[MT_HDR_SERVER], 2);
	CU_ASSERT_STRING_EQUAL(known(&r->resp, MT_HDR_CONTENT_TYPE), "application/json");
	CU_ASSERT_EQUAL(r->resp.outside_seg, 0);
	/* the response sees the kept request fields */
	CU_ASSERT_STRING_EQUAL(r->req.method.p, "GET");
	CU_ASSERT_STRING_EQUAL(r->req.uri.p, "/api/v1/users?id=7");
	CU_ASSERT_STRING_EQUAL(known(&r->req, MT_HDR_HOST), "api.example.com");
	CU_ASSERT_STRING_EQUAL(known(&r->req, MT_HDR_USER_AGENT), "curl/8.0");
	CU_ASSERT_EQUAL(d->txn_id, 0);
	CU_ASSERT_EQUAL(d->resp.status, 200);
	CU_ASSERT_EQUAL(d->resp_body, 13);
	CU_ASSERT_EQUAL(d->req_body, 0);
	CU_ASSERT_STRING_EQUAL(d->req.uri.p, "/api/v1/users?id=7");
	CU_ASSERT_EQUAL(ctx.cnt.requests, 1);
	CU_ASSERT_EQUAL(ctx.cnt.responses, 1);
	CU_ASSERT_EQUAL(ctx.cnt.txn_done, 1);
	CU_ASSERT_EQUAL(ctx.cnt.body_bytes[1], 13);
	CU_ASSERT_EQUAL(ctx.cnt.heads_spilled, 0);
	CU_ASSERT_EQUAL(dp_http_stopped(s), 0);
	dp_http_sess_close(&ctx, s, &R);
	ASSERT_TYPES("QSD");   /* nothing pending */
	ctx_down();
}

static void
test_post_body(void)
{
	static const char body[] = "user=admin&password=secret1";
	char req[512];
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	s = sess();
	snprintf(req, sizeof(req),
		 "POST /login HTTP/1.1\r\nHost: a.example\r\n"
		 "Content-Type: application/x-www-form-urlencoded\r\n"
		 "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	CU_ASSERT_EQUAL(feed(s, 0, req), 0);
	ASSERT_TYPES("Q");
	CU_ASSERT_STRING_EQUAL(R.ev[0].req.method.p, "POST");
	CU_ASSERT_EQUAL(R.ev[0].req.has_cl, 1);
	CU_ASSERT_EQUAL(R.ev[0].req.cl, strlen(body));
	CU_ASSERT_STRING_EQUAL(known(&R.ev[0].req, MT_HDR_CONTENT_LENGTH), "27");
	CU_ASSERT_EQUAL(ctx.cnt.body_bytes[0], strlen(body));
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"), 0);
	ASSERT_TYPES("QSD");
	CU_ASSERT_EQUAL(R.ev[1].resp.status, 201);
	CU_ASSERT_STRING_EQUAL(R.ev[1].resp.reason.p, "Created");
	CU_ASSERT_EQUAL(R.ev[2].req_body, strlen(body));
	CU_ASSERT_EQUAL(R.ev[2].resp_body, 0);
	CU_ASSERT_STRING_EQUAL(R.ev[2].req.method.p, "POST");
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

static void
test_chunked_keepalive(void)
{
	struct dp_http_sess *s;
	int i;

	ctx_up(4, 4, 1024);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, get_req), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
				   "Content-Type: text/plain\r\n\r\n"
				   "5\r\nhello\r\n7\r\n, world\r\n0\r\n"
				   "X-Trailer: t\r\nX-Other: u\r\n\r\n"), 0);
	ASSERT_TYPES("QSD");
	CU_ASSERT_EQUAL(R.ev[1].resp.chunked, 1);
	CU_ASSERT_EQUAL(R.ev[1].resp.has_cl, 0);
	CU_ASSERT_EQUAL(R.ev[1].resp.n, 2);
	CU_ASSERT_STRING_EQUAL(known(&R.ev[1].resp, MT_HDR_TRANSFER_ENCODING), "chunked");
	CU_ASSERT_EQUAL(R.ev[2].resp_body, 12);

	/* keep-alive: more transactions on the same session */
	for (i = 1; i <= 5; i++) {
		char req[128], resp[128];
		uint32_t base = R.n;

		snprintf(req, sizeof(req), "GET /item/%d HTTP/1.1\r\nHost: h%d\r\n\r\n", i, i);
		snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%.*s",
			 i, i, "abcdef");
		CU_ASSERT_EQUAL(feed(s, 0, req), 0);
		CU_ASSERT_EQUAL(feed(s, 1, resp), 0);
		CU_ASSERT_EQUAL_FATAL(R.n, base + 3);
		CU_ASSERT_EQUAL(R.ev[base].type, 'Q');
		CU_ASSERT_EQUAL(R.ev[base].txn_id, (uint64_t)i);
		snprintf(req, sizeof(req), "/item/%d", i);
		CU_ASSERT_STRING_EQUAL(R.ev[base].req.uri.p, req);
		CU_ASSERT_EQUAL(R.ev[base + 1].txn_id, (uint64_t)i);
		CU_ASSERT_STRING_EQUAL(R.ev[base + 1].req.uri.p, req);
		CU_ASSERT_EQUAL(R.ev[base + 2].type, 'D');
		CU_ASSERT_EQUAL(R.ev[base + 2].txn_id, (uint64_t)i);
		CU_ASSERT_EQUAL(R.ev[base + 2].resp_body, (uint64_t)i);
	}
	CU_ASSERT_EQUAL(ctx.cnt.txn_done, 6);
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

static void
test_pipelining(void)
{
	struct dp_http_sess *s;
	int i;

	ctx_up(4, 4, 1024);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, "GET /a HTTP/1.1\r\nHost: ha\r\n\r\n"
				   "GET /b HTTP/1.1\r\nHost: hb\r\nUser-Agent: ub\r\n\r\n"
				   "POST /c HTTP/1.1\r\nHost: hc\r\nContent-Length: 3\r\n\r\nxyz"), 0);
	ASSERT_TYPES("QQQ");
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
				   "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nBB"
				   "HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nCCC"), 0);
	ASSERT_TYPES("QQQSDSDSD");
	for (i = 0; i < 3; i++) {
		static const char *const uris[] = { "/a", "/b", "/c" };
		static const char *const hosts[] = { "ha", "hb", "hc" };
		static const uint16_t codes[] = { 200, 404, 500 };
		const struct rev *q = &R.ev[i], *r = &R.ev[3 + 2 * i], *d = &R.ev[4 + 2 * i];

		CU_ASSERT_EQUAL(q->txn_id, (uint64_t)i);
		CU_ASSERT_STRING_EQUAL(q->req.uri.p, uris[i]);
		CU_ASSERT_EQUAL(q->req.outside_seg, 0);
		CU_ASSERT_EQUAL(r->txn_id, (uint64_t)i);
		CU_ASSERT_STRING_EQUAL(r->req.uri.p, uris[i]);
		CU_ASSERT_STRING_EQUAL(known(&r->req, MT_HDR_HOST), hosts[i]);
		CU_ASSERT_EQUAL(r->resp.status, codes[i]);
		CU_ASSERT_EQUAL(d->txn_id, (uint64_t)i);
		CU_ASSERT_EQUAL(d->resp.status, codes[i]);
		CU_ASSERT_EQUAL(d->resp_body, (uint64_t)i + 1);
	}
	CU_ASSERT_STRING_EQUAL(known(&R.ev[5].req, MT_HDR_USER_AGENT), "ub");
	CU_ASSERT_EQUAL(R.ev[8].req_body, 3);
	CU_ASSERT_EQUAL(ctx.cnt.orphan_responses, 0);
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

/* More requests in flight than DP_HTTP_PIPELINE: each response must still
 * carry the txn id of the request it answers. */
static void
test_pipeline_overflow(void)
{
	enum { N = DP_HTTP_PIPELINE + 2 };
	struct dp_http_sess *s;
	uint32_t i, nq = 0, ns = 0, nd = 0;

	ctx_up(4, 4, 1024);
	s = sess();
	for (i = 0; i < N; i++) {
		char req[64];

		snprintf(req, sizeof(req), "GET /p%u HTTP/1.1\r\nHost: h\r\n\r\n", i);
		CU_ASSERT_EQUAL(feed(s, 0, req), 0);
	}
	for (i = 0; i < N; i++)
		CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0);
	CU_ASSERT_EQUAL(ctx.cnt.pipeline_overflow, N - DP_HTTP_PIPELINE);
	CU_ASSERT_EQUAL(ctx.cnt.orphan_responses, 0);
	for (i = 0; i < R.n; i++) {
		const struct rev *e = &R.ev[i];

		if (e->type == 'Q')
			CU_ASSERT_EQUAL(e->txn_id, nq++);
		if (e->type == 'S')
			CU_ASSERT_EQUAL(e->txn_id, ns++);
		if (e->type == 'D')
			CU_ASSERT_EQUAL(e->txn_id, nd++);
	}
	CU_ASSERT_EQUAL(nq, N);
	CU_ASSERT_EQUAL(ns, N);
	CU_ASSERT_EQUAL(nd, N);
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

static void
test_head_204_304(void)
{
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, "HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n"
				   "GET /nc HTTP/1.1\r\nHost: h\r\n\r\n"
				   "GET /nm HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n"
				   "GET /last HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	/* HEAD: Content-Length describes a body that is not sent */
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 204 No Content\r\nServer: s\r\n\r\n"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), 0);
	ASSERT_TYPES("QQQQSDSDSDSD");
	if (R.n == 12) {
		CU_ASSERT_STRING_EQUAL(R.ev[4].req.method.p, "HEAD");
		CU_ASSERT_EQUAL(R.ev[4].resp.cl, 1000);
		CU_ASSERT_EQUAL(R.ev[5].resp_body, 0);
		CU_ASSERT_EQUAL(R.ev[6].resp.status, 204);
		CU_ASSERT_EQUAL(R.ev[7].txn_id, 1);
		CU_ASSERT_EQUAL(R.ev[8].resp.status, 304);
		CU_ASSERT_EQUAL(R.ev[9].txn_id, 2);
		CU_ASSERT_EQUAL(R.ev[10].resp.status, 200);
		CU_ASSERT_STRING_EQUAL(R.ev[10].req.uri.p, "/last");
		CU_ASSERT_EQUAL(R.ev[11].txn_id, 3);
		CU_ASSERT_EQUAL(R.ev[11].resp_body, 3);
	}
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

/* A 304 may carry the Content-Length of the representation (RFC 9110
 * 8.6) and still has no content (15.4.5): the next response must parse. */
static void
test_304_with_content_length(void)
{
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, "GET /r HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n"
				   "GET /s HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n"
				   "Content-Length: 120\r\n\r\n"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), 0);
	ASSERT_TYPES("QQSDSD");
	if (R.n == 6) {
		CU_ASSERT_EQUAL(R.ev[3].resp_body, 0);
		CU_ASSERT_EQUAL(R.ev[4].resp.status, 200);
		CU_ASSERT_EQUAL(R.ev[5].txn_id, 1);
	}
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

static void
test_expect_100(void)
{
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, "PUT /upload HTTP/1.1\r\nHost: h\r\n"
				   "Expect: 100-continue\r\nContent-Length: 10\r\n\r\n"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 100 Continue\r\n\r\n"), 0);
	ASSERT_TYPES("Q");
	CU_ASSERT_EQUAL(ctx.cnt.interim, 1);
	CU_ASSERT_EQUAL(ctx.cnt.responses, 0);
	CU_ASSERT_EQUAL(feed(s, 0, "0123456789"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0);
	ASSERT_TYPES("QSD");
	CU_ASSERT_EQUAL(R.ev[1].txn_id, 0);
	CU_ASSERT_EQUAL(R.ev[1].resp.status, 200);
	CU_ASSERT_STRING_EQUAL(R.ev[1].req.method.p, "PUT");
	CU_ASSERT_EQUAL(R.ev[2].txn_id, 0);
	CU_ASSERT_EQUAL(R.ev[2].req_body, 10);
	CU_ASSERT_EQUAL(ctx.cnt.interim, 1);
	CU_ASSERT_EQUAL(ctx.cnt.responses, 1);
	CU_ASSERT_EQUAL(ctx.cnt.txn_done, 1);
	/* a second one in the same segment as the final response */
	CU_ASSERT_EQUAL(feed(s, 0, "PUT /u2 HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
				   "Content-Length: 1\r\n\r\nZ"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0);
	ASSERT_TYPES("QSDQSD");
	CU_ASSERT_EQUAL(ctx.cnt.interim, 3);
	CU_ASSERT_EQUAL(R.ev[4].txn_id, 1);
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

static void
test_eof_delimited(void)
{
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, "GET /old HTTP/1.0\r\n\r\n"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "body</html>"), 0);
	ASSERT_TYPES("QS");
	CU_ASSERT_EQUAL(R.ev[1].resp.maj, 1);
	CU_ASSERT_EQUAL(R.ev[1].resp.min, 0);
	CU_ASSERT_EQUAL(R.ev[1].resp.has_cl, 0);
	CU_ASSERT_EQUAL(R.ev[0].req.min, 0);
	dp_http_eof(&ctx, s, 0, now, &R);   /* the request side ending changes nothing */
	ASSERT_TYPES("QS");
	dp_http_eof(&ctx, s, 1, now, &R);
	ASSERT_TYPES("QSD");
	CU_ASSERT_EQUAL(R.ev[2].txn_id, 0);
	CU_ASSERT_EQUAL(R.ev[2].resp_body, strlen("<html>body</html>"));
	CU_ASSERT_EQUAL(R.ev[2].resp.status, 200);
	dp_http_sess_close(&ctx, s, &R);
	ASSERT_TYPES("QSD");
	ctx_down();
}

/* 101 to a request that did not ask for it still ends HTTP on the flow. */
static void
test_upgrade_101(void)
{
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, "GET /chat HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				   "Connection: Upgrade\r\n\r\n\x81\x05hello"), -EPROTO);
	ASSERT_TYPES("QSD");
	CU_ASSERT_EQUAL(R.ev[1].resp.status, 101);
	CU_ASSERT_EQUAL(ctx.cnt.upgrades, 1);
	CU_ASSERT_EQUAL(ctx.cnt.interim, 0);
	CU_ASSERT_EQUAL(dp_http_stopped(s), 1);
	CU_ASSERT_EQUAL(feed(s, 0, "\x81\x85\x01\x02\x03\x04garbage"), -EPROTO);
	CU_ASSERT_EQUAL(feed(s, 1, "\x81\x05hello"), -EPROTO);
	ASSERT_TYPES("QSD");
	CU_ASSERT_EQUAL(ctx.cnt.parse_errors, 0);
	CU_ASSERT_EQUAL(ctx.cnt.non_http, 0);
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

/* A real WebSocket handshake: the request asks for the upgrade; the 101
 * response must still be seen (and paired) before HTTP parsing ends. */
static void
test_upgrade_websocket_handshake(void)
{
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	s = sess();
	feed(s, 0, "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
		   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		   "Sec-WebSocket-Version: 13\r\n\r\n");
	ASSERT_TYPES("Q");
	feed(s, 1, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		   "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
	ASSERT_TYPES("QSD");
	CU_ASSERT_EQUAL(ctx.cnt.responses, 1);
	CU_ASSERT_EQUAL(ctx.cnt.upgrades, 1);
	CU_ASSERT_EQUAL(feed(s, 0, "\x81\x85\x01\x02\x03\x04garbage"), -EPROTO);
	CU_ASSERT_EQUAL(ctx.cnt.parse_errors, 0);
	CU_ASSERT_EQUAL(ctx.cnt.non_http, 0);
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

/* An upgrade the server declines (h2c offer answered with 200): the
 * connection stays HTTP/1.1 and later requests must still be inspected. */
static void
test_upgrade_declined(void)
{
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	s = sess();
	feed(s, 0, "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
		   "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
	feed(s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	CU_ASSERT_EQUAL(feed(s, 0, "GET /admin/../../etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	ASSERT_TYPES("QSDQ");
	if (R.n == 4)
		CU_ASSERT_STRING_EQUAL(R.ev[3].req.uri.p, "/admin/../../etc/passwd");
	CU_ASSERT_EQUAL(dp_http_stopped(s), 0);
	CU_ASSERT_EQUAL(ctx.cnt.upgrades, 0);
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

static void
test_garbage_and_errors(void)
{
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc,
				       0x03, 0x03, 0xaa, 0xbb };
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	/* a TLS ClientHello is not HTTP */
	s = sess();
	CU_ASSERT_EQUAL(feed_seg(s, 0, tls, sizeof(tls)), -EPROTO);
	ASSERT_TYPES("E");
	CU_ASSERT_EQUAL(R.ev[0].dir, 0);
	CU_ASSERT_NOT_EQUAL(R.ev[0].err, HPE_OK);
	CU_ASSERT_EQUAL(ctx.cnt.non_http, 1);
	CU_ASSERT_EQUAL(ctx.cnt.parse_errors, 0);
	CU_ASSERT_EQUAL(dp_http_stopped(s), 1);
	CU_ASSERT_EQUAL(feed(s, 0, get_req), -EPROTO);
	CU_ASSERT_EQUAL(feed(s, 1, ok_resp), -EPROTO);
	dp_http_gap(&ctx, s, 0, 10, &R);
	dp_http_eof(&ctx, s, 1, now, &R);
	ASSERT_TYPES("E");
	dp_http_sess_close(&ctx, s, &R);
	rec_reset(&R);

	/* a malformed request after a good one is a parse error */
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, get_req), 0);
	CU_ASSERT_EQUAL(feed(s, 0, "GET / HTTP/1.1\r\nBad Header\r\n\r\n"), -EPROTO);
	ASSERT_TYPES("QE");
	CU_ASSERT_EQUAL(R.ev[1].dir, 0);
	CU_ASSERT_EQUAL(ctx.cnt.parse_errors, 1);
	CU_ASSERT_EQUAL(ctx.cnt.non_http, 1);
	CU_ASSERT_EQUAL(ctx.cnt.requests, 1);
	/* the first request still ends as a transaction when the flow ends */
	dp_http_sess_close(&ctx, s, &R);
	ASSERT_TYPES("QED");
	CU_ASSERT_EQUAL(R.ev[2].txn_id, 0);
	CU_ASSERT_EQUAL(R.ev[2].resp.status, 0);
	rec_reset(&R);

	/* a broken response */
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, get_req), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 2x0 OK\r\n\r\n"), -EPROTO);
	ASSERT_TYPES("QE");
	CU_ASSERT_EQUAL(R.ev[1].dir, 1);
	CU_ASSERT_EQUAL(ctx.cnt.parse_errors + ctx.cnt.non_http, 3);
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

/* An orphan response (no request seen) is counted and keeps one txn id. */
static void
test_orphan_response(void)
{
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, get_req), 0);
	CU_ASSERT_EQUAL(feed(s, 1, ok_resp), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0);
	ASSERT_TYPES("QSDSD");
	CU_ASSERT_EQUAL(ctx.cnt.orphan_responses, 1);
	if (R.n == 5) {
		CU_ASSERT_NOT_EQUAL(R.ev[3].txn_id, 0);
		CU_ASSERT_EQUAL(R.ev[4].txn_id, R.ev[3].txn_id);
	}
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

/* ---- every split point ------------------------------------------------- */

#define SPLIT_REQ                                                            \
	"POST /api/v2/orders/12345/items?expand=true&fields=a,b,c HTTP/1.1\r\n" \
	"Host: shop.example.com\r\n"                                         \
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) test\r\n"               \
	"Accept: application/json\r\n"                                       \
	"Accept-Language: en-US,en;q=0.9\r\n"                                \
	"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig\r\n" \
	"Cookie: session=abcdef0123456789; theme=dark\r\n"                   \
	"Content-Type: application/json\r\n"                                 \
	"X-Forwarded-For: 203.0.113.7, 198.51.100.2\r\n"                     \
	"X-Request-Id: 0f8fad5b-d9cb-469f-a165-70867728950e\r\n"             \
	"X-Empty:\r\n"                                                       \
	"X-Spaces:   padded value\r\n"                                       \
	"Content-Length: 26\r\n"                                             \
	"\r\n"                                                               \
	"{\"item\":42,\"qty\":3,\"x\":[]}"                                   \
	"GET /api/v2/orders/12345 HTTP/1.1\r\n"                              \
	"Host: shop.example.com\r\n"                                         \
	"If-None-Match: \"abc\"\r\n"                                         \
	"\r\n"

#define SPLIT_RESP                                                           \
	"HTTP/1.1 201 Created\r\n"                                           \
	"Server: nginx/1.25\r\n"                                             \
	"Content-Type: application/json\r\n"                                 \
	"Location: /api/v2/orders/12345/items/9\r\n"                         \
	"Set-Cookie: a=b; Path=/; HttpOnly\r\n"                              \
	"Transfer-Encoding: chunked\r\n"                                     \
	"X-Custom-1: one\r\n"                                                \
	"X-Custom-2: two two\r\n"                                            \
	"Content-Encoding: identity\r\n"                                     \
	"\r\n"                                                               \
	"1b\r\n{\"id\":9,\"status\":\"created\"}\r\n"                        \
	"0\r\nX-Trailer: t\r\n\r\n"                                          \
	"HTTP/1.1 404 Not Found\r\n"                                         \
	"Content-Length: 9\r\n"                                              \
	"Content-Type: text/plain\r\n"                                       \
	"\r\n"                                                               \
	"not found"

static const char split_req[] = SPLIT_REQ;
static const char split_resp[] = SPLIT_RESP;

/* One run: the request stream then the response stream, each fed per
 * @mode: 0 whole, 1 split at @at, 2 byte by byte. Returns the event dump. */
static char *
split_run(int req_mode, int resp_mode, size_t at)
{
	struct dp_http_sess *s = sess();
	size_t ql = sizeof(split_req) - 1, sl = sizeof(split_resp) - 1;
	char *out;
	int rc;

	rec_reset(&R);
	if (req_mode == 0)
		rc = feed_seg(s, 0, split_req, ql);
	else if (req_mode == 1)
		rc = feed_split(s, 0, split_req, ql, at);
	else
		rc = feed_bytes(s, 0, split_req, ql);
	CU_ASSERT_EQUAL(rc, 0);
	if (resp_mode == 0)
		rc = feed_seg(s, 1, split_resp, sl);
	else if (resp_mode == 1)
		rc = feed_split(s, 1, split_resp, sl, at);
	else
		rc = feed_bytes(s, 1, split_resp, sl);
	CU_ASSERT_EQUAL(rc, 0);
	dp_http_sess_close(&ctx, s, &R);
	out = dump_all(&R);
	seg_release_all();
	return out;
}

static void
test_every_split_point(void)
{
	size_t ql = sizeof(split_req) - 1, sl = sizeof(split_resp) - 1, i;
	char *ref, *got;
	int bad = 0;

	ctx_up(4, 4, 2048);
	ref = split_run(0, 0, 0);
	/* the reference itself is right */
	ASSERT_TYPES("QQSDSD");
	if (R.n == 6) {
		const struct rmsg *q = &R.ev[0].req, *r = &R.ev[2].resp;

		CU_ASSERT_STRING_EQUAL(q->method.p, "POST");
		CU_ASSERT_STRING_EQUAL(q->uri.p, "/api/v2/orders/12345/items?expand=true&fields=a,b,c");
		CU_ASSERT_EQUAL(q->n, 12);
		CU_ASSERT_STRING_EQUAL(known(q, MT_HDR_AUTHORIZATION),
				       "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig");
		CU_ASSERT_STRING_EQUAL(known(q, MT_HDR_COOKIE), "session=abcdef0123456789; theme=dark");
		CU_ASSERT_STRING_EQUAL(known(q, MT_HDR_X_FORWARDED_FOR), "203.0.113.7, 198.51.100.2");
		CU_ASSERT_STRING_EQUAL(hval(q, "X-Empty"), "");
		CU_ASSERT_EQUAL(q->cl, 26);
		CU_ASSERT_STRING_EQUAL(R.ev[1].req.uri.p, "/api/v2/orders/12345");
		CU_ASSERT_EQUAL(r->status, 201);
		CU_ASSERT_EQUAL(r->n, 8);
		CU_ASSERT_STRING_EQUAL(known(r, MT_HDR_LOCATION), "/api/v2/orders/12345/items/9");
		CU_ASSERT_STRING_EQUAL(known(r, MT_HDR_SET_COOKIE), "a=b; Path=/; HttpOnly");
		CU_ASSERT_STRING_EQUAL(known(r, MT_HDR_CONTENT_ENCODING), "identity");
		CU_ASSERT_EQUAL(r->chunked, 1);
		CU_ASSERT_EQUAL(R.ev[3].req_body, 26);
		CU_ASSERT_EQUAL(R.ev[3].resp_body, 27);
		CU_ASSERT_EQUAL(R.ev[4].resp.status, 404);
		CU_ASSERT_EQUAL(R.ev[5].resp_body, 9);
	}
	CU_ASSERT_EQUAL(ctx.cnt.heads_spilled, 0);

	for (i = 1; i < ql; i++) {
		got = split_run(1, 0, i);
		if (strcmp(ref, got) != 0 && bad++ == 0)
			printf("\n  request split at %zu differs:\n--- whole\n%s--- split\n%s", i, ref, got);
		free(got);
	}
	for (i = 1; i < sl; i++) {
		got = split_run(0, 1, i);
		if (strcmp(ref, got) != 0 && bad++ == 0)
			printf("\n  response split at %zu differs:\n--- whole\n%s--- split\n%s", i, ref, got);
		free(got);
	}
	got = split_run(2, 2, 0);
	if (strcmp(ref, got) != 0 && bad++ == 0)
		printf("\n  byte by byte differs:\n--- whole\n%s--- split\n%s", ref, got);
	free(got);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(ctx.cnt.heads_spilled > 0);
	CU_ASSERT_EQUAL(ctx.cnt.heads_truncated, 0);
	CU_ASSERT_EQUAL(ctx.cnt.spill_exhausted, 0);
	CU_ASSERT_EQUAL(ctx.cnt.parse_errors + ctx.cnt.non_http, 0);
	free(ref);
	ctx_down();
}

/* ---- limits ------------------------------------------------------------- */

static void
test_too_many_headers(void)
{
	static char req[8192];
	struct dp_http_sess *s;
	size_t off;
	int i, mode, rc;

	off = (size_t)snprintf(req, sizeof(req), "GET /many HTTP/1.1\r\n");
	for (i = 0; i < MT_MAX_HEADERS + 10; i++)
		off += (size_t)snprintf(req + off, sizeof(req) - off, "X-H-%d: v%d\r\n", i, i);
	/* a well-known header past the cap is dropped too */
	off += (size_t)snprintf(req + off, sizeof(req) - off, "Host: late\r\n\r\n");

	ctx_up(4, 4, 8192);
	for (mode = 0; mode < 2; mode++) {
		rec_reset(&R);
		s = sess();
		rc = mode == 0 ? feed_seg(s, 0, req, off) : feed_bytes(s, 0, req, off);
		CU_ASSERT_EQUAL(rc, 0);
		ASSERT_TYPES("Q");
		if (R.n == 1) {
			const struct rmsg *m = &R.ev[0].req;

			CU_ASSERT_EQUAL(m->n, MT_MAX_HEADERS);
			CU_ASSERT_EQUAL(m->dropped, 11);
			for (i = 0; i < MT_MAX_HEADERS; i++) {
				char n[16], v[16];

				snprintf(n, sizeof(n), "X-H-%d", i);
				snprintf(v, sizeof(v), "v%d", i);
				CU_ASSERT_STRING_EQUAL(m->name[i].p, n);
				CU_ASSERT_STRING_EQUAL(m->value[i].p, v);
			}
			CU_ASSERT_EQUAL(m->known[MT_HDR_HOST], -1);
		}
		CU_ASSERT_EQUAL(ctx.cnt.headers_dropped, 11u * (mode + 1));
		/* the session goes on normally */
		CU_ASSERT_EQUAL(feed(s, 0, get_req), 0);
		ASSERT_TYPES("QQ");
		if (R.n == 2)
			CU_ASSERT_EQUAL(R.ev[1].req.n, 3);
		dp_http_sess_close(&ctx, s, &R);
		seg_release_all();
	}
	ctx_down();
}

static void
test_head_longer_than_spill(void)
{
	static char req[4096];
	struct dp_http_sess *s;
	size_t off;
	uint32_t spill = 256;

	off = (size_t)snprintf(req, sizeof(req), "GET /long HTTP/1.1\r\nHost: h\r\nX-Big: ");
	memset(req + off, 'A', 1000);
	off += 1000;
	off += (size_t)snprintf(req + off, sizeof(req) - off, "\r\nUser-Agent: after\r\n\r\n");

	ctx_up(4, 4, spill);
	s = sess();
	CU_ASSERT_EQUAL(feed_split(s, 0, req, off, 40), 0);
	ASSERT_TYPES("Q");
	CU_ASSERT_EQUAL(ctx.cnt.heads_spilled, 1);
	CU_ASSERT_EQUAL(ctx.cnt.heads_truncated, 1);
	if (R.n == 1) {
		const struct rmsg *m = &R.ev[0].req;

		CU_ASSERT_STRING_EQUAL(m->method.p, "GET");
		CU_ASSERT_STRING_EQUAL(m->uri.p, "/long");
		CU_ASSERT_STRING_EQUAL(known(m, MT_HDR_HOST), "h");
		CU_ASSERT(m->truncated > 0);
		/* everything past the spill size, give or take the final CRLFs */
		CU_ASSERT(m->truncated + spill <= off && m->truncated + spill >= off - 4);
		CU_ASSERT(m->value[1].len < 1000);
		CU_ASSERT_EQUAL(m->n, 3);
	}
	/* byte by byte as well, then a normal head on the same session */
	CU_ASSERT_EQUAL(feed_bytes(s, 0, req, off), 0);
	CU_ASSERT_EQUAL(ctx.cnt.heads_truncated, 2);
	CU_ASSERT_EQUAL(feed_split(s, 0, get_req, sizeof(get_req) - 1, 10), 0);
	ASSERT_TYPES("QQQ");
	if (R.n == 3) {
		CU_ASSERT_EQUAL(R.ev[2].req.truncated, 0);
		CU_ASSERT_STRING_EQUAL(known(&R.ev[2].req, MT_HDR_USER_AGENT), "curl/8.0");
	}
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

static void
test_spill_exhausted(void)
{
	static const char a_req[] = "GET /from-a HTTP/1.1\r\nHost: a.example\r\nUser-Agent: ua-a\r\n\r\n";
	static const char b_req[] = "GET /from-b HTTP/1.1\r\nHost: b.example\r\nUser-Agent: ua-b\r\n\r\n";
	struct dp_http_sess *a, *b;

	ctx_up(4, 1, 512);
	a = sess();
	b = sess();
	/* both heads stop mid-way: only one spill buffer for two */
	CU_ASSERT_EQUAL(feed_seg(a, 0, a_req, 20), 0);
	CU_ASSERT_EQUAL(feed_seg(b, 0, b_req, 20), 0);
	CU_ASSERT_EQUAL(ctx.cnt.spill_exhausted, 1);
	CU_ASSERT_EQUAL(feed_seg(a, 0, a_req + 20, sizeof(a_req) - 1 - 20), 0);
	CU_ASSERT_EQUAL(feed_seg(b, 0, b_req + 20, sizeof(b_req) - 1 - 20), 0);
	ASSERT_TYPES("QQ");
	if (R.n == 2) {
		CU_ASSERT_STRING_EQUAL(R.ev[0].req.uri.p, "/from-a");
		CU_ASSERT_STRING_EQUAL(known(&R.ev[0].req, MT_HDR_HOST), "a.example");
		CU_ASSERT_EQUAL(R.ev[0].req.truncated, 0);
		/* b could not keep its head: it is reported truncated, never wrong */
		CU_ASSERT(R.ev[1].req.truncated > 0);
		CU_ASSERT(R.ev[1].req.uri.len == 0 || strcmp(R.ev[1].req.uri.p, "/from-b") == 0);
		CU_ASSERT(known(&R.ev[1].req, MT_HDR_HOST) == NULL ||
			  strcmp(known(&R.ev[1].req, MT_HDR_HOST), "") == 0 ||
			  strcmp(known(&R.ev[1].req, MT_HDR_HOST), "b.example") == 0);
	}
	/* the buffer came back: b can spill now */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(ctx.spill_pool), 1);
	CU_ASSERT_EQUAL(feed_split(b, 0, b_req, sizeof(b_req) - 1, 30), 0);
	ASSERT_TYPES("QQQ");
	if (R.n == 3) {
		CU_ASSERT_STRING_EQUAL(R.ev[2].req.uri.p, "/from-b");
		CU_ASSERT_STRING_EQUAL(known(&R.ev[2].req, MT_HDR_USER_AGENT), "ua-b");
	}
	CU_ASSERT_EQUAL(ctx.cnt.spill_exhausted, 1);
	dp_http_sess_close(&ctx, a, &R);
	dp_http_sess_close(&ctx, b, &R);
	ctx_down();
}

static void
test_session_pool_exhausted(void)
{
	struct dp_http_sess *s[3];

	ctx_up(2, 2, 256);
	s[0] = sess();
	s[1] = sess();
	s[2] = dp_http_sess_open(&ctx, &tuple);
	CU_ASSERT_PTR_NULL(s[2]);
	CU_ASSERT_EQUAL(ctx.cnt.sessions_exhausted, 1);
	dp_http_sess_close(&ctx, s[0], &R);
	s[2] = dp_http_sess_open(&ctx, &tuple);
	CU_ASSERT_PTR_NOT_NULL(s[2]);
	/* a recycled session starts clean */
	if (s[2] != NULL) {
		CU_ASSERT_EQUAL(feed(s[2], 0, get_req), 0);
		ASSERT_TYPES("Q");
		CU_ASSERT_EQUAL(R.ev[0].txn_id, 0);
		dp_http_sess_close(&ctx, s[2], &R);
	}
	dp_http_sess_close(&ctx, s[1], &R);
	CU_ASSERT_EQUAL(ctx.cnt.sessions_exhausted, 1);
	ctx_down();

	CU_ASSERT_EQUAL(dp_http_ctx_init(&ctx, "thbad", 0, 1, 256, 0, &ops), -EINVAL);
	CU_ASSERT_EQUAL(dp_http_ctx_init(&ctx, "thbad", 1, 1, 100, 0, &ops), -EINVAL);
	CU_ASSERT_EQUAL(dp_http_ctx_init(&ctx, "thbad", 1, 1, 256, 0, NULL), -EINVAL);
}

static void
test_gaps(void)
{
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	/* a gap inside a Content-Length body is stepped over */
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n"
				   "0123456789"), 0);
	dp_http_gap(&ctx, s, 0, 50, &R);
	CU_ASSERT_EQUAL(ctx.cnt.gaps_recovered, 1);
	CU_ASSERT_EQUAL(dp_http_stopped(s), 0);
	CU_ASSERT_EQUAL(feed_seg(s, 0, "0123456789012345678901234567890123456789", 40), 0);
	CU_ASSERT_EQUAL(feed(s, 0, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	ASSERT_TYPES("QQ");
	if (R.n == 2) {
		CU_ASSERT_EQUAL(R.ev[1].txn_id, 1);
		CU_ASSERT_STRING_EQUAL(R.ev[1].req.uri.p, "/next");
	}
	/* and inside a response body */
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\nab"), 0);
	dp_http_gap(&ctx, s, 1, 4996, &R);   /* more than the filler buffer */
	CU_ASSERT_EQUAL(feed(s, 1, "yzHTTP/1.1 204 No Content\r\n\r\n"), 0);
	ASSERT_TYPES("QQSDSD");
	if (R.n == 6) {
		CU_ASSERT_EQUAL(R.ev[3].req_body, 100);
		CU_ASSERT_EQUAL(R.ev[3].resp_body, 5000);
		CU_ASSERT_EQUAL(R.ev[5].txn_id, 1);
	}
	CU_ASSERT_EQUAL(ctx.cnt.gaps_recovered, 2);
	CU_ASSERT_EQUAL(ctx.cnt.gaps_fatal, 0);
	CU_ASSERT_EQUAL(dp_http_stopped(s), 0);
	dp_http_sess_close(&ctx, s, &R);
	rec_reset(&R);

	/* a gap inside a head stops parsing */
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, "GET /x HTTP/1.1\r\nHo"), 0);
	dp_http_gap(&ctx, s, 0, 10, &R);
	CU_ASSERT_EQUAL(ctx.cnt.gaps_fatal, 1);
	CU_ASSERT_EQUAL(dp_http_stopped(s), 1);
	ASSERT_TYPES("E");
	CU_ASSERT_EQUAL(R.ev[0].dir, 0);
	CU_ASSERT_EQUAL(feed(s, 0, "st: h\r\n\r\n"), -EPROTO);
	dp_http_sess_close(&ctx, s, &R);   /* returns the spill buffer */
	rec_reset(&R);

	/* between messages, in a chunked body, and past the end of a body */
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, get_req), 0);
	dp_http_gap(&ctx, s, 0, 5, &R);
	CU_ASSERT_EQUAL(ctx.cnt.gaps_fatal, 2);
	dp_http_sess_close(&ctx, s, &R);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nab"), 0);
	dp_http_gap(&ctx, s, 1, 4, &R);
	CU_ASSERT_EQUAL(ctx.cnt.gaps_fatal, 3);
	dp_http_sess_close(&ctx, s, &R);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"), 0);
	dp_http_gap(&ctx, s, 0, 9, &R);
	CU_ASSERT_EQUAL(ctx.cnt.gaps_fatal, 4);
	CU_ASSERT_EQUAL(ctx.cnt.gaps_recovered, 2);
	CU_ASSERT_EQUAL(dp_http_stopped(s), 1);
	dp_http_sess_close(&ctx, s, &R);
	ctx_down();
}

static void
test_close_pending(void)
{
	struct dp_http_sess *s;

	ctx_up(4, 4, 1024);
	s = sess();
	CU_ASSERT_EQUAL(feed(s, 0, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
				   "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
				   "POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd"), 0);
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0);
	/* a response head in flight, spilled */
	CU_ASSERT_EQUAL(feed(s, 1, "HTTP/1.1 200 OK\r\nServ"), 0);
	ASSERT_TYPES("QQQSD");
	dp_http_sess_close(&ctx, s, &R);
	ASSERT_TYPES("QQQSDDD");
	if (R.n == 7) {
		CU_ASSERT_EQUAL(R.ev[5].txn_id, 1);
		CU_ASSERT_STRING_EQUAL(R.ev[5].req.uri.p, "/2");
		CU_ASSERT_EQUAL(R.ev[5].resp.status, 0);
		CU_ASSERT_EQUAL(R.ev[6].txn_id, 2);
		CU_ASSERT_STRING_EQUAL(R.ev[6].req.uri.p, "/3");
		CU_ASSERT_EQUAL(R.ev[6].req_body, 4);
	}
	CU_ASSERT_EQUAL(ctx.cnt.txn_done, 3);
	ctx_down();   /* checks the spill buffer went back */
}

static int
suite_init(void)
{
	return tu_eal_init("test_http") == 0 ? 0 : -1;
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("http", suite_init, NULL);
	CU_add_test(s, "simple GET and 200 with Content-Length", test_simple_get);
	CU_add_test(s, "POST with body", test_post_body);
	CU_add_test(s, "chunked response, keep-alive", test_chunked_keepalive);
	CU_add_test(s, "pipelining pairs in order", test_pipelining);
	CU_add_test(s, "pipeline overflow keeps txn ids", test_pipeline_overflow);
	CU_add_test(s, "HEAD, 204, 304 without body", test_head_204_304);
	CU_add_test(s, "304 with Content-Length has no body", test_304_with_content_length);
	CU_add_test(s, "Expect: 100-continue", test_expect_100);
	CU_add_test(s, "response delimited by EOF", test_eof_delimited);
	CU_add_test(s, "101 upgrade stops parsing", test_upgrade_101);
	CU_add_test(s, "WebSocket handshake: 101 seen, then stop", test_upgrade_websocket_handshake);
	CU_add_test(s, "declined upgrade keeps parsing", test_upgrade_declined);
	CU_add_test(s, "non-HTTP and parse errors", test_garbage_and_errors);
	CU_add_test(s, "orphan response", test_orphan_response);
	CU_add_test(s, "every split point, byte by byte", test_every_split_point);
	CU_add_test(s, "more than MT_MAX_HEADERS headers", test_too_many_headers);
	CU_add_test(s, "head longer than a spill buffer", test_head_longer_than_spill);
	CU_add_test(s, "spill pool exhausted", test_spill_exhausted);
	CU_add_test(s, "session pool exhausted, ctx_init errors", test_session_pool_exhausted);
	CU_add_test(s, "TCP gaps", test_gaps);
	CU_add_test(s, "close reports pending transactions", test_close_pending);
	return tu_run_all();
}
