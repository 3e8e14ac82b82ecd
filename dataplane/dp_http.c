/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_http.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_mempool.h>

/* A field of a message head, as offsets from the head's first byte
 * ("virtual" offsets: they stay valid whether the head ends up being read
 * from the packet or from the spill buffer). */
struct dp_http_field {
	uint32_t off;
	uint32_t len;
};

struct dp_http_hdr {
	struct dp_http_field name;
	struct dp_http_field value;
};

/* Which span is open: consecutive callbacks of the same kind extend it. */
enum dp_http_span {
	DP_SPAN_NONE = 0,
	DP_SPAN_METHOD,
	DP_SPAN_URL,
	DP_SPAN_VERSION,
	DP_SPAN_STATUS,
	DP_SPAN_HNAME,
	DP_SPAN_HVALUE,
};

/* One direction's parser and the head being parsed. */
struct dp_http_dir {
	llhttp_t parser;
	struct dp_http_sess *sess;
	uint8_t dir;
	uint8_t in_head;           /* between message begin and headers complete */
	uint8_t base_known;        /* cur_base is valid */
	uint8_t open;              /* enum dp_http_span */
	uint8_t stopped;
	uint8_t spilled;
	uint8_t skipping;          /* feeding filler bytes over a gap */
	uint8_t interim;           /* the current response is 1xx */
	uint8_t obs_fold;          /* a header value of this head was folded */
	uint32_t msgs_done;
	uint32_t head_len_before;  /* head bytes in earlier segments (virtual) */
	const uint8_t *cur_base;   /* this segment's pointer for virtual offset head_len_before */
	const uint8_t *max_end;    /* furthest span end in this segment */
	uint8_t *spill;
	struct dp_http_field method, url, status;
	uint16_t n_hdrs;
	uint32_t hdrs_dropped;
	struct dp_http_hdr hdrs[MT_MAX_HEADERS];
};

/* Every request in flight (waiting for its response) has a small record;
 * the first DP_HTTP_PIPELINE of them also keep their text fields. */
#define DP_HTTP_INFLIGHT 32

struct dp_http_inflight {
	uint64_t txn_id;
	uint64_t body_len;
	uint8_t is_head;
	uint8_t is_connect;
	uint8_t has_text;          /* its dp_http_kept slot is valid */
};

/* Text of a request kept until its response arrives. */
struct dp_http_kept {
	uint16_t method_len;
	uint16_t uri_len;
	uint16_t host_len;
	uint16_t ua_len;
	uint8_t is_head;
	uint8_t http_major;
	uint8_t http_minor;
	char method[DP_HTTP_KEEP_METHOD];
	char uri[DP_HTTP_KEEP_URI];
	char host[DP_HTTP_KEEP_HOST];
	char ua[DP_HTTP_KEEP_UA];
};

struct dp_http_sess {
	struct dp_http_ctx *ctx;
	const struct mt_flow_tuple *tuple;
	struct dp_http_dir d[2];
	uint64_t next_txn_id;
	uint64_t req_body_len;     /* body of the request being received */
	uint64_t resp_body_len;
	uint64_t orphan_txn_id;    /* id given to a response without a request */
	uint64_t flowbits;         /* the rules' flowbits of this flow (mt_txn) */
	uint8_t orphan;
	uint8_t q_head;            /* oldest request in flight */
	uint8_t q_count;
	uint8_t stopped;
	struct dp_http_inflight q[DP_HTTP_INFLIGHT];
	/* Text of in-flight entry i lives in kept[i % DP_HTTP_PIPELINE]: while
	 * fewer than DP_HTTP_PIPELINE are in flight no two share a slot. */
	struct dp_http_kept kept[DP_HTTP_PIPELINE];
	/* The layer above's areas: per transaction (same slots as kept[]) and
	 * per direction's message. */
	uint64_t txn_user[DP_HTTP_PIPELINE][DP_HTTP_TXN_USER / 8];
	uint64_t msg_user[2][DP_HTTP_MSG_USER / 8];
};

/* Filler fed to llhttp over a gap inside a body of known length. */
static const uint8_t dp_http_zeros[4096];

static inline struct dp_http_dir *
dp_http_dir_of(llhttp_t *p)
{
	return container_of(p, struct dp_http_dir, parser);
}

/* ---- head bookkeeping -------------------------------------------------- */

/* Append [from, to) of the current segment to the spill buffer. The virtual
 * length grows even when the bytes no longer fit, so offsets stay right. */
static void
dp_http_spill(struct dp_http_ctx *c, struct dp_http_dir *d, const uint8_t *from,
	      const uint8_t *to)
{
	uint32_t n = (uint32_t)(to - from), room, copy;

	if (n == 0)
		return;
	if (d->spill == NULL && !d->spilled) {
		void *obj;

		d->spilled = 1;
		c->cnt.heads_spilled++;
		if (rte_mempool_get(c->spill_pool, &obj) == 0)
			d->spill = obj;
		else
			c->cnt.spill_exhausted++;
	}
	room = d->head_len_before < c->spill_size ? c->spill_size - d->head_len_before : 0;
	copy = RTE_MIN(n, room);
	if (d->spill != NULL && copy > 0)
		memcpy(d->spill + d->head_len_before, from, copy);
	/* Count a head once, when it first outgrows the buffer. */
	if (copy < n && d->spill != NULL && d->head_len_before <= c->spill_size)
		c->cnt.heads_truncated++;
	d->head_len_before += n;
}

static void
dp_http_spill_release(struct dp_http_ctx *c, struct dp_http_dir *d)
{
	if (d->spill != NULL)
		rte_mempool_put(c->spill_pool, d->spill);
	d->spill = NULL;
	d->spilled = 0;
	d->head_len_before = 0;
	d->base_known = 0;
}

/* Record a span of kind @k at @at. */
static void
dp_http_span(struct dp_http_dir *d, enum dp_http_span k, const char *at, size_t len)
{
	const uint8_t *p = (const uint8_t *)at;
	struct dp_http_field *f;
	uint32_t voff;

	if (!d->in_head)
		return;   /* trailers after a chunked body: not part of the head */
	if (!d->base_known) {
		d->base_known = 1;
		d->cur_base = p;
		d->head_len_before = 0;
	}
	voff = d->head_len_before + (uint32_t)(p - d->cur_base);
	if (p + len > d->max_end)
		d->max_end = p + len;

	switch (k) {
	case DP_SPAN_METHOD:
		f = &d->method;
		break;
	case DP_SPAN_URL:
		f = &d->url;
		break;
	case DP_SPAN_STATUS:
		f = &d->status;
		break;
	case DP_SPAN_HNAME:
		if (d->open != DP_SPAN_HNAME) {
			if (d->n_hdrs == MT_MAX_HEADERS) {
				/* Once the array is full every later header is
				 * dropped (and counted), name and value. */
				d->hdrs_dropped++;
				d->open = DP_SPAN_HNAME;
				return;
			}
			memset(&d->hdrs[d->n_hdrs], 0, sizeof(d->hdrs[0]));
			d->n_hdrs++;
		} else if (d->hdrs_dropped) {
			return;   /* continuation of a dropped header's name */
		}
		f = &d->hdrs[d->n_hdrs - 1].name;
		break;
	case DP_SPAN_HVALUE:
		if (d->n_hdrs == 0 || d->hdrs_dropped)
			return;
		f = &d->hdrs[d->n_hdrs - 1].value;
		/* llhttp skips the CRLF of a folded line (obs-fold) and goes on
		 * with the same value: a hole between two pieces of one value.
		 * Servers unfold or reject it differently, so it is flagged. */
		if (d->open == DP_SPAN_HVALUE && voff != f->off + f->len)
			d->obs_fold = 1;
		break;
	default:
		return;
	}
	if (d->open == k) {
		f->len = voff + (uint32_t)len - f->off;
	} else {
		f->off = voff;
		f->len = (uint32_t)len;
	}
	d->open = (uint8_t)k;
}

static int dp_http_on_method(llhttp_t *p, const char *at, size_t n)
{ dp_http_span(dp_http_dir_of(p), DP_SPAN_METHOD, at, n); return 0; }
static int dp_http_on_url(llhttp_t *p, const char *at, size_t n)
{ dp_http_span(dp_http_dir_of(p), DP_SPAN_URL, at, n); return 0; }
static int dp_http_on_version(llhttp_t *p, const char *at, size_t n)
{ dp_http_span(dp_http_dir_of(p), DP_SPAN_VERSION, at, n); return 0; }
static int dp_http_on_status(llhttp_t *p, const char *at, size_t n)
{ dp_http_span(dp_http_dir_of(p), DP_SPAN_STATUS, at, n); return 0; }
static int dp_http_on_hname(llhttp_t *p, const char *at, size_t n)
{ dp_http_span(dp_http_dir_of(p), DP_SPAN_HNAME, at, n); return 0; }
static int dp_http_on_hvalue(llhttp_t *p, const char *at, size_t n)
{ dp_http_span(dp_http_dir_of(p), DP_SPAN_HVALUE, at, n); return 0; }

/* A span ends: the next callback of the same kind starts a new field. */
static int
dp_http_on_span_complete(llhttp_t *p)
{
	dp_http_dir_of(p)->open = DP_SPAN_NONE;
	return 0;
}

static int
dp_http_on_message_begin(llhttp_t *p)
{
	struct dp_http_dir *d = dp_http_dir_of(p);

	d->in_head = 1;
	d->base_known = 0;
	d->head_len_before = 0;
	d->open = DP_SPAN_NONE;
	d->n_hdrs = 0;
	d->hdrs_dropped = 0;
	d->interim = 0;
	d->obs_fold = 0;
	memset(&d->method, 0, sizeof(d->method));
	memset(&d->url, 0, sizeof(d->url));
	memset(&d->status, 0, sizeof(d->status));
	if (d->dir == MT_DIR_TO_SERVER)
		d->sess->req_body_len = 0;
	else
		d->sess->resp_body_len = 0;
	return 0;
}

/* ---- building the transaction view ------------------------------------ */

/* @p n (any case) equals lower-case @p s of the same length: inline, since
 * it runs for every header whose length is that of a known name */
static inline bool
dp_http_name_is(const uint8_t *n, const char *s, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		uint8_t c = n[i];

		if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (uint8_t)s[i])
			return false;
	}
	return true;
}

static int
dp_http_known_index(const uint8_t *n, uint32_t len)
{
#define DP_IS(s) (len == sizeof(s) - 1 && dp_http_name_is(n, s, len))
	switch (len) {
	case 4:  return DP_IS("host") ? MT_HDR_HOST : -1;
	case 6:
		if (DP_IS("cookie")) return MT_HDR_COOKIE;
		return DP_IS("server") ? MT_HDR_SERVER : -1;
	case 8:  return DP_IS("location") ? MT_HDR_LOCATION : -1;
	case 10:
		if (DP_IS("user-agent")) return MT_HDR_USER_AGENT;
		return DP_IS("set-cookie") ? MT_HDR_SET_COOKIE : -1;
	case 12: return DP_IS("content-type") ? MT_HDR_CONTENT_TYPE : -1;
	case 13: return DP_IS("authorization") ? MT_HDR_AUTHORIZATION : -1;
	case 14: return DP_IS("content-length") ? MT_HDR_CONTENT_LENGTH : -1;
	case 15: return DP_IS("x-forwarded-for") ? MT_HDR_X_FORWARDED_FOR : -1;
	case 16: return DP_IS("content-encoding") ? MT_HDR_CONTENT_ENCODING : -1;
	case 17: return DP_IS("transfer-encoding") ? MT_HDR_TRANSFER_ENCODING : -1;
	default: return -1;
	}
#undef DP_IS
}

static void
dp_http_msg_reset(struct mt_http_msg *m)
{
	int i;

	memset(m, 0, offsetof(struct mt_http_msg, headers));
	for (i = 0; i < MT_HDR__COUNT; i++)
		m->known[i] = -1;
}

static inline struct mt_slice
dp_http_resolve(const uint8_t *base, uint32_t avail, struct dp_http_field f)
{
	struct mt_slice s = { base, 0 };

	if (f.off < avail) {
		s.p = base + f.off;
		s.len = RTE_MIN(f.len, avail - f.off);
	}
	return s;
}

/* Turn the recorded offsets of @d into slices in @m. */
static void
dp_http_msg_build(struct dp_http_ctx *c, struct dp_http_dir *d, struct mt_http_msg *m)
{
	const uint8_t *base;
	uint32_t avail, total, i;
	llhttp_t *p = &d->parser;

	if (!d->base_known) {
		base = c->seg;
		avail = 0;
		total = 0;
	} else if (!d->spilled) {
		base = d->cur_base;
		avail = (uint32_t)(c->seg + c->seg_len - d->cur_base);
		total = avail;
	} else {
		dp_http_spill(c, d, d->cur_base, d->max_end);
		base = d->spill != NULL ? d->spill : c->seg;
		avail = d->spill != NULL ? RTE_MIN(d->head_len_before, c->spill_size) : 0;
		total = d->head_len_before;
	}
	dp_http_msg_reset(m);
	m->method = dp_http_resolve(base, avail, d->method);
	m->uri = dp_http_resolve(base, avail, d->url);
	m->reason = dp_http_resolve(base, avail, d->status);
	m->http_major = p->http_major;
	m->http_minor = p->http_minor;
	m->status_code = d->dir == MT_DIR_TO_CLIENT ? p->status_code : 0;
	m->chunked = (p->flags & F_CHUNKED) != 0;
	m->has_content_length = (p->flags & F_CONTENT_LENGTH) != 0;
	m->content_length = m->has_content_length ? p->content_length : 0;
	m->truncated = total > avail ? total - avail : 0;
	m->headers_dropped = d->hdrs_dropped;
	m->obs_fold = d->obs_fold;
	/* llhttp accepts only token characters in a header name */
	m->names_plain = 1;
	m->n_headers = d->n_hdrs;
	c->cnt.headers_dropped += d->hdrs_dropped;
	for (i = 0; i < d->n_hdrs; i++) {
		struct mt_header *h = &m->headers[i];
		int k;

		h->name = dp_http_resolve(base, avail, d->hdrs[i].name);
		h->value = dp_http_resolve(base, avail, d->hdrs[i].value);
		k = dp_http_known_index(h->name.p, h->name.len);
		if (k >= 0 && m->known[k] < 0)
			m->known[k] = (int16_t)i;
	}
}

static uint16_t
dp_http_keep(char *dst, size_t cap, const struct mt_slice *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = RTE_MIN((size_t)s->len, cap);
	memcpy(dst, s->p, n);
	return (uint16_t)n;
}

/* Rebuild a request view from what was kept (used at response time). */
static void
dp_http_req_from_kept(struct mt_http_msg *m, const struct dp_http_kept *k)
{
	uint16_t n = 0;

	dp_http_msg_reset(m);
	if (k == NULL)
		return;
	m->method = (struct mt_slice){ (const uint8_t *)k->method, k->method_len };
	m->uri = (struct mt_slice){ (const uint8_t *)k->uri, k->uri_len };
	m->http_major = k->http_major;
	m->http_minor = k->http_minor;
	if (k->host_len) {
		m->headers[n].name = (struct mt_slice){ (const uint8_t *)"Host", 4 };
		m->headers[n].value = (struct mt_slice){ (const uint8_t *)k->host, k->host_len };
		m->known[MT_HDR_HOST] = (int16_t)n++;
	}
	if (k->ua_len) {
		m->headers[n].name = (struct mt_slice){ (const uint8_t *)"User-Agent", 10 };
		m->headers[n].value = (struct mt_slice){ (const uint8_t *)k->ua, k->ua_len };
		m->known[MT_HDR_USER_AGENT] = (int16_t)n++;
	}
	m->n_headers = n;
}

static struct dp_http_inflight *
dp_http_pending(struct dp_http_sess *s)
{
	return s->q_count ? &s->q[s->q_head] : NULL;
}

static const struct dp_http_kept *
dp_http_text(const struct dp_http_sess *s, const struct dp_http_inflight *f)
{
	if (f == NULL || !f->has_text)
		return NULL;
	return &s->kept[(size_t)(f - s->q) % DP_HTTP_PIPELINE];
}

/* Point the upcall at the user areas of in-flight entry @f, direction @dir. */
static void
dp_http_user(struct dp_http_ctx *c, struct dp_http_sess *s, const struct dp_http_inflight *f,
	     int dir)
{
	c->cur_txn_user = f != NULL && f->has_text ?
		s->txn_user[(size_t)(f - s->q) % DP_HTTP_PIPELINE] : NULL;
	c->cur_msg_user = s->msg_user[dir];
}

static void
dp_http_txn_prepare(struct dp_http_ctx *c, struct dp_http_sess *s)
{
	c->txn.tuple = s->tuple;
	c->txn.flowbits = &s->flowbits;
	c->txn.ts_ns = c->now_ns;
	c->txn.req_body_len = 0;
	c->txn.resp_body_len = 0;
}

static int
dp_http_request_head(struct dp_http_ctx *c, struct dp_http_dir *d)
{
	struct dp_http_sess *s = d->sess;
	struct mt_txn *t = &c->txn;
	struct dp_http_inflight *f = NULL;

	dp_http_txn_prepare(c, s);
	dp_http_msg_build(c, d, &t->req);
	dp_http_msg_reset(&t->resp);
	t->txn_id = s->next_txn_id++;
	c->cnt.requests++;

	if (s->q_count == DP_HTTP_INFLIGHT) {
		/* Pairing can no longer be tracked: the caller's policy decides. */
		c->cnt.pipeline_overflow++;
	} else {
		f = &s->q[(s->q_head + s->q_count) % DP_HTTP_INFLIGHT];
		f->txn_id = t->txn_id;
		f->body_len = 0;
		f->is_head = d->parser.method == HTTP_HEAD;
		f->is_connect = d->parser.method == HTTP_CONNECT;
		f->has_text = s->q_count < DP_HTTP_PIPELINE;
		if (!f->has_text)
			c->cnt.pipeline_overflow++;
		s->q_count++;
	}
	dp_http_user(c, s, f, MT_DIR_TO_SERVER);
	c->ops.request(c->arg, t);

	if (f != NULL && f->has_text) {
		struct dp_http_kept *k = &s->kept[(size_t)(f - s->q) % DP_HTTP_PIPELINE];

		k->http_major = t->req.http_major;
		k->http_minor = t->req.http_minor;
		k->method_len = dp_http_keep(k->method, sizeof(k->method), &t->req.method);
		k->uri_len = dp_http_keep(k->uri, sizeof(k->uri), &t->req.uri);
		k->host_len = dp_http_keep(k->host, sizeof(k->host),
					   mt_msg_known(&t->req, MT_HDR_HOST));
		k->ua_len = dp_http_keep(k->ua, sizeof(k->ua),
					 mt_msg_known(&t->req, MT_HDR_USER_AGENT));
	}
	return 0;
}

static int
dp_http_response_head(struct dp_http_ctx *c, struct dp_http_dir *d)
{
	struct dp_http_sess *s = d->sess;
	struct mt_txn *t = &c->txn;
	const struct dp_http_inflight *f;
	uint16_t code = d->parser.status_code;

	if (code >= 100 && code < 200 && code != 101) {
		/* 100 Continue and friends: the final response is still to come. */
		d->interim = 1;
		c->cnt.interim++;
		return 0;
	}
	f = dp_http_pending(s);
	dp_http_txn_prepare(c, s);
	dp_http_req_from_kept(&t->req, dp_http_text(s, f));
	dp_http_msg_build(c, d, &t->resp);
	if (f != NULL) {
		t->txn_id = f->txn_id;
		t->req_body_len = f->body_len;
	} else {
		s->orphan = 1;
		s->orphan_txn_id = s->next_txn_id++;
		t->txn_id = s->orphan_txn_id;
		c->cnt.orphan_responses++;
	}
	c->cnt.responses++;
	dp_http_user(c, s, f, MT_DIR_TO_CLIENT);
	c->ops.response(c->arg, t);
	/* No body, whatever the headers say: responses to HEAD, 204 and 304
	 * (RFC 9112 6.3). A 2xx to CONNECT turns the flow into a tunnel. */
	if (f != NULL && f->is_connect && code >= 200 && code < 300)
		return 2;
	if ((f != NULL && f->is_head) || code == 204 || code == 304)
		return 1;
	return 0;
}

static int
dp_http_on_headers_complete(llhttp_t *p)
{
	struct dp_http_dir *d = dp_http_dir_of(p);
	struct dp_http_ctx *c = d->sess->ctx;
	int rc;

	rc = d->dir == MT_DIR_TO_SERVER ? dp_http_request_head(c, d)
					: dp_http_response_head(c, d);
	d->in_head = 0;
	d->open = DP_SPAN_NONE;
	dp_http_spill_release(c, d);
	return rc;
}

/* The transaction view during a body: kept request fields, status. */
static void
dp_http_body_txn(struct dp_http_ctx *c, struct dp_http_sess *s, int dir)
{
	struct mt_txn *t = &c->txn;
	const struct dp_http_inflight *f;

	dp_http_txn_prepare(c, s);
	if (dir == MT_DIR_TO_SERVER) {
		/* The request being received is the newest in flight. */
		f = s->q_count ? &s->q[(s->q_head + s->q_count - 1) % DP_HTTP_INFLIGHT] : NULL;
		dp_http_msg_reset(&t->resp);
	} else {
		f = s->orphan ? NULL : dp_http_pending(s);
		dp_http_msg_reset(&t->resp);
		t->resp.status_code = s->d[MT_DIR_TO_CLIENT].parser.status_code;
	}
	dp_http_req_from_kept(&t->req, dp_http_text(s, f));
	dp_http_user(c, s, f, dir);
	t->txn_id = f != NULL ? f->txn_id : s->orphan_txn_id;
	t->req_body_len = s->req_body_len;
	t->resp_body_len = s->resp_body_len;
}

static int
dp_http_on_body(llhttp_t *p, const char *at, size_t n)
{
	struct dp_http_dir *d = dp_http_dir_of(p);
	struct dp_http_sess *s = d->sess;

	struct dp_http_ctx *c = s->ctx;

	c->cnt.body_bytes[d->dir] += n;
	if (d->dir == MT_DIR_TO_SERVER)
		s->req_body_len += n;
	else
		s->resp_body_len += n;
	/* Filler over a TCP gap is counted but never inspected. */
	if (c->ops.body != NULL && !d->skipping) {
		dp_http_body_txn(c, s, d->dir);
		c->ops.body(c->arg, &c->txn, d->dir, (const uint8_t *)at, (uint32_t)n);
	}
	return 0;
}

static void
dp_http_txn_finish(struct dp_http_ctx *c, struct dp_http_sess *s, uint16_t status,
		   uint64_t resp_body)
{
	struct mt_txn *t = &c->txn;
	const struct dp_http_inflight *f = s->orphan ? NULL : dp_http_pending(s);

	dp_http_txn_prepare(c, s);
	dp_http_req_from_kept(&t->req, dp_http_text(s, f));
	dp_http_msg_reset(&t->resp);
	t->resp.status_code = status;
	t->txn_id = f != NULL ? f->txn_id : s->orphan_txn_id;
	t->req_body_len = f != NULL ? f->body_len : 0;
	t->resp_body_len = resp_body;
	c->cnt.txn_done++;
	dp_http_user(c, s, f, MT_DIR_TO_CLIENT);
	c->ops.txn_done(c->arg, t);
	if (f != NULL) {
		s->q_head = (uint8_t)((s->q_head + 1) % DP_HTTP_INFLIGHT);
		s->q_count--;
	}
	s->orphan = 0;
}

static int
dp_http_on_message_complete(llhttp_t *p)
{
	struct dp_http_dir *d = dp_http_dir_of(p);
	struct dp_http_sess *s = d->sess;
	struct dp_http_ctx *c = s->ctx;

	d->msgs_done++;
	if (d->interim) {
		d->interim = 0;
		return 0;
	}
	if (c->ops.msg_end != NULL) {
		dp_http_body_txn(c, s, d->dir);
		c->ops.msg_end(c->arg, &c->txn, d->dir);
	}
	if (d->dir == MT_DIR_TO_SERVER) {
		/* The request body is complete: remember its size for the txn. */
		if (s->q_count > 0)
			s->q[(s->q_head + s->q_count - 1) % DP_HTTP_INFLIGHT].body_len =
				s->req_body_len;
		return 0;
	}
	dp_http_txn_finish(c, s, p->status_code, s->resp_body_len);
	return 0;
}

/* ---- context and sessions --------------------------------------------- */

int
dp_http_ctx_init(struct dp_http_ctx *c, const char *name, uint32_t sessions,
		 uint32_t spill_bufs, uint32_t spill_size, int socket,
		 const struct dp_http_ops *ops)
{
	char pname[RTE_MEMPOOL_NAMESIZE];

	memset(c, 0, sizeof(*c));
	if (sessions == 0 || spill_bufs == 0 || spill_size < 256 || ops == NULL)
		return -EINVAL;
	snprintf(pname, sizeof(pname), "%s_s", name);
	c->sess_pool = rte_mempool_create(pname, sessions, sizeof(struct dp_http_sess),
					  0, 0, NULL, NULL, NULL, NULL, socket,
					  RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	if (c->sess_pool == NULL)
		return -(rte_errno ? rte_errno : ENOMEM);
	snprintf(pname, sizeof(pname), "%s_x", name);
	c->spill_pool = rte_mempool_create(pname, spill_bufs, spill_size, 0, 0,
					   NULL, NULL, NULL, NULL, socket,
					   RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	if (c->spill_pool == NULL) {
		rte_mempool_free(c->sess_pool);
		c->sess_pool = NULL;
		return -(rte_errno ? rte_errno : ENOMEM);
	}
	c->spill_size = spill_size;
	c->ops = *ops;
	llhttp_settings_init(&c->settings);
	c->settings.on_message_begin = dp_http_on_message_begin;
	c->settings.on_method = dp_http_on_method;
	c->settings.on_url = dp_http_on_url;
	c->settings.on_version = dp_http_on_version;
	c->settings.on_status = dp_http_on_status;
	c->settings.on_header_field = dp_http_on_hname;
	c->settings.on_header_value = dp_http_on_hvalue;
	c->settings.on_method_complete = dp_http_on_span_complete;
	c->settings.on_url_complete = dp_http_on_span_complete;
	c->settings.on_version_complete = dp_http_on_span_complete;
	c->settings.on_status_complete = dp_http_on_span_complete;
	c->settings.on_header_field_complete = dp_http_on_span_complete;
	c->settings.on_header_value_complete = dp_http_on_span_complete;
	c->settings.on_headers_complete = dp_http_on_headers_complete;
	c->settings.on_body = dp_http_on_body;
	c->settings.on_message_complete = dp_http_on_message_complete;
	return 0;
}

void
dp_http_ctx_fini(struct dp_http_ctx *c)
{
	rte_mempool_free(c->spill_pool);
	rte_mempool_free(c->sess_pool);
	c->spill_pool = NULL;
	c->sess_pool = NULL;
}

struct dp_http_sess *
dp_http_sess_open(struct dp_http_ctx *c, const struct mt_flow_tuple *tuple)
{
	struct dp_http_sess *s;
	void *obj;
	int i;

	if (rte_mempool_get(c->sess_pool, &obj) != 0) {
		c->cnt.sessions_exhausted++;
		return NULL;
	}
	s = obj;
	/* Only the small fixed parts are cleared: header arrays (inside d[]),
	 * in-flight records and kept text are written before they are read. */
	_Static_assert(offsetof(struct dp_http_sess, next_txn_id) ==
			       offsetof(struct dp_http_sess, d) + sizeof(s->d),
		       "every field after d[] up to q is cleared here");
	memset(&s->next_txn_id, 0,
	       offsetof(struct dp_http_sess, q) - offsetof(struct dp_http_sess, next_txn_id));
	s->ctx = c;
	s->tuple = tuple;
	for (i = 0; i < 2; i++) {
		struct dp_http_dir *d = &s->d[i];

		memset(d, 0, offsetof(struct dp_http_dir, hdrs));
		llhttp_init(&d->parser, i == MT_DIR_TO_SERVER ? HTTP_REQUEST : HTTP_RESPONSE,
			    &c->settings);
		d->sess = s;
		d->dir = (uint8_t)i;
	}
	return s;
}

void
dp_http_sess_close(struct dp_http_ctx *c, struct dp_http_sess *s, void *arg)
{
	int i;

	c->arg = arg;
	/* Requests that never got an answer still end as transactions. */
	while (s->q_count > 0)
		dp_http_txn_finish(c, s, 0, 0);
	for (i = 0; i < 2; i++)
		dp_http_spill_release(c, &s->d[i]);
	rte_mempool_put(c->sess_pool, s);
}

size_t
dp_http_sess_size(void)
{
	return sizeof(struct dp_http_sess);
}

int
dp_http_stopped(const struct dp_http_sess *s)
{
	return s->stopped;
}

static void
dp_http_stop(struct dp_http_ctx *c, struct dp_http_sess *s, int dir, int err)
{
	s->stopped = 1;
	s->d[dir].stopped = 1;
	if (c->ops.error != NULL)
		c->ops.error(c->arg, dir, err);
}

int
dp_http_data(struct dp_http_ctx *c, struct dp_http_sess *s, int dir,
	     const uint8_t *p, uint32_t len, uint64_t now_ns, void *arg)
{
	struct dp_http_dir *d = &s->d[dir];
	llhttp_errno_t err;

	if (s->stopped)
		return -EPROTO;
	c->arg = arg;
	c->seg = p;
	c->seg_len = len;
	c->now_ns = now_ns;
	d->max_end = p;
	if (d->in_head && d->base_known)
		d->cur_base = p;   /* the head continues from an earlier segment */

	err = llhttp_execute(&d->parser, (const char *)p, len);
	/* A request asking to upgrade (WebSocket, h2c) or CONNECT pauses the
	 * request parser; the server may well decline, so keep parsing until
	 * the response says 101 (or 2xx to CONNECT). Otherwise a declined
	 * upgrade would blind us to every later request on the connection. */
	while (err == HPE_PAUSED_UPGRADE && dir == MT_DIR_TO_SERVER && !s->stopped) {
		const uint8_t *at = (const uint8_t *)llhttp_get_error_pos(&d->parser);

		llhttp_resume_after_upgrade(&d->parser);
		if (at == NULL || at >= p + len) {
			err = HPE_OK;
			break;
		}
		err = llhttp_execute(&d->parser, (const char *)at, (size_t)(p + len - at));
	}
	if (s->stopped)
		return -EPROTO;
	if (err == HPE_OK) {
		if (d->in_head && d->base_known)
			dp_http_spill(c, d, d->cur_base, p + len);
		return 0;
	}
	if (err == HPE_PAUSED_UPGRADE) {
		/* The response side switched protocols: nothing more to parse. */
		c->cnt.upgrades++;
		s->stopped = 1;
		return -EPROTO;
	}
	/* Not HTTP at all: the very first line of the stream did not parse.
	 * Framing errors inside a head are HTTP (and interesting). */
	if (d->msgs_done == 0 && d->in_head && s->next_txn_id == 0 && d->n_hdrs == 0)
		c->cnt.non_http++;
	else
		c->cnt.parse_errors++;
	dp_http_stop(c, s, dir, (int)err);
	return -EPROTO;
}

void
dp_http_gap(struct dp_http_ctx *c, struct dp_http_sess *s, int dir, uint32_t len,
	    void *arg)
{
	struct dp_http_dir *d = &s->d[dir];
	llhttp_t *p = &d->parser;

	if (s->stopped)
		return;
	c->arg = arg;
	/* Inside a body of known length the parser can step over the hole;
	 * anywhere else the framing is lost and parsing stops. */
	if (!d->in_head && (p->flags & F_CONTENT_LENGTH) && !(p->flags & F_CHUNKED) &&
	    p->content_length >= len && p->content_length > 0) {
		uint32_t left = len;

		c->cnt.gaps_recovered++;
		d->skipping = 1;
		while (left > 0 && !s->stopped) {
			uint32_t n = RTE_MIN(left, (uint32_t)sizeof(dp_http_zeros));

			if (dp_http_data(c, s, dir, dp_http_zeros, n, c->now_ns, arg) != 0)
				break;
			left -= n;
		}
		d->skipping = 0;
		return;
	}
	c->cnt.gaps_fatal++;
	dp_http_stop(c, s, dir, -1);
}

void
dp_http_eof(struct dp_http_ctx *c, struct dp_http_sess *s, int dir, uint64_t now_ns,
	    void *arg)
{
	struct dp_http_dir *d = &s->d[dir];

	if (s->stopped)
		return;
	c->arg = arg;
	c->now_ns = now_ns;
	c->seg = NULL;
	c->seg_len = 0;
	/* A response without Content-Length ends when the server closes. */
	if (llhttp_message_needs_eof(&d->parser))
		(void)llhttp_finish(&d->parser);
}
