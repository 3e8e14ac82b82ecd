/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inspection buffers, built from a transaction per Suricata's definitions.
 * Buffers are built lazily, at most once per match call, into the
 * scratch arena (no heap); values that exist verbatim in the transaction
 * are referenced in place. A buffer that does not exist (no such header,
 * no response yet) has p == NULL and fails every keyword on it, as in
 * Suricata; an existing empty buffer has len 0.
 */
#include "mt_engine_int.h"

#include <stdio.h>
#include <string.h>

static const uint8_t mt_empty[1];

static const struct {
	const char *name;
	unsigned sides;
} buf_defs[MT_B__COUNT] = {
	[MT_B_METHOD] = {"http.method", MT_SIDE_REQ},
	[MT_B_URI] = {"http.uri", MT_SIDE_REQ},
	[MT_B_URI_RAW] = {"http.uri.raw", MT_SIDE_REQ},
	[MT_B_HOST] = {"http.host", MT_SIDE_REQ},
	[MT_B_HOST_RAW] = {"http.host.raw", MT_SIDE_REQ},
	[MT_B_HEADER] = {"http.header", MT_SIDE_BOTH},
	[MT_B_HEADER_RAW] = {"http.header.raw", MT_SIDE_BOTH},
	[MT_B_HEADER_NAMES] = {"http.header_names", MT_SIDE_BOTH},
	[MT_B_UA] = {"http.user_agent", MT_SIDE_REQ},
	[MT_B_COOKIE] = {"http.cookie", MT_SIDE_BOTH},
	[MT_B_CONTENT_TYPE] = {"http.content_type", MT_SIDE_BOTH},
	[MT_B_CONTENT_LEN] = {"http.content_len", MT_SIDE_BOTH},
	[MT_B_REQUEST_LINE] = {"http.request_line", MT_SIDE_REQ},
	[MT_B_PROTOCOL] = {"http.protocol", MT_SIDE_BOTH},
	[MT_B_START] = {"http.start", MT_SIDE_BOTH},
	[MT_B_STAT_CODE] = {"http.stat_code", MT_SIDE_RESP},
	[MT_B_STAT_MSG] = {"http.stat_msg", MT_SIDE_RESP},
	[MT_B_RESPONSE_LINE] = {"http.response_line", MT_SIDE_RESP},
	[MT_B_SERVER] = {"http.server", MT_SIDE_RESP},
	[MT_B_LOCATION] = {"http.location", MT_SIDE_RESP},
	[MT_B_REFERER] = {"http.referer", MT_SIDE_REQ},
	[MT_B_ACCEPT] = {"http.accept", MT_SIDE_REQ},
	[MT_B_ACCEPT_ENC] = {"http.accept_enc", MT_SIDE_REQ},
	[MT_B_ACCEPT_LANG] = {"http.accept_lang", MT_SIDE_REQ},
	[MT_B_CONNECTION] = {"http.connection", MT_SIDE_REQ},
	[MT_B_REQ_BODY] = {"http.request_body", MT_SIDE_REQ},
	[MT_B_RESP_BODY] = {"http.response_body", MT_SIDE_RESP},
	[MT_B_FILE_DATA] = {"file_data", MT_SIDE_BOTH},
};

const char *
mt_buf_name(unsigned kind)
{
	return kind < MT_B__COUNT ? buf_defs[kind].name : "?";
}

unsigned
mt_buf_sides(unsigned kind)
{
	return kind < MT_B__COUNT ? buf_defs[kind].sides : 0;
}

/* ---------- URI normalisation (libhtp's defaults as used by Suricata) ---------- */

static int
hexv(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode [in, in+len) to out; invalid escapes stay as they are. */
static uint32_t
pct_decode(const uint8_t *in, uint32_t len, uint8_t *out, bool *dbl)
{
	uint32_t o = 0;

	for (uint32_t i = 0; i < len; i++) {
		if (in[i] == '%' && i + 2 < len && hexv(in[i + 1]) >= 0 && hexv(in[i + 2]) >= 0) {
			uint8_t b = (uint8_t)(hexv(in[i + 1]) << 4 | hexv(in[i + 2]));
			/* "%25" + two hex digits decodes to another escape: double encoding */
			if (b == '%' && i + 4 < len && hexv(in[i + 3]) >= 0 && hexv(in[i + 4]) >= 0)
				*dbl = true;
			out[o++] = b;
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

/* Remove dot segments, collapse '//', in place on a decoded path. The
 * output never overtakes the input: each segment moves left or stays. */
static uint32_t
path_normalize(uint8_t *p, uint32_t len)
{
	uint32_t i = 0, o = 0;
	bool abs = len > 0 && (p[0] == '/' || p[0] == '\\');
	bool dir = false;

	for (uint32_t k = 0; k < len; k++)
		if (p[k] == '\\')
			p[k] = '/';
	while (i < len) {
		uint32_t s, e;

		while (i < len && p[i] == '/')
			i++;
		if (i == len)
			break;
		s = i;
		while (i < len && p[i] != '/')
			i++;
		e = i;
		if (e - s == 1 && p[s] == '.') {
			dir = true;
			continue;
		}
		if (e - s == 2 && p[s] == '.' && p[s + 1] == '.') {
			while (o > 0 && p[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			dir = true;
			continue;
		}
		if (o > 0 || abs)
			p[o++] = '/';
		memmove(p + o, p + s, e - s);
		o += e - s;
		dir = i < len;
	}
	if ((dir || abs) && (o == 0 || (dir && p[o - 1] != '/')))
		p[o++] = '/';
	return o;
}

/* a dot segment ("." or "..") starts at p[i] */
static inline bool
dot_segment(const uint8_t *p, uint32_t i, uint32_t plen)
{
	if (i >= plen || p[i] != '.')
		return false;
	i++;
	if (i < plen && p[i] == '.')
		i++;
	return i == plen || p[i] == '/';
}

/* Is mt_uri_normalize() the identity on [p, p+len)? True when there is
 * no escape at all, and the path has no backslash, no empty segment
 * ("//") and no dot segment, and the target is not in absolute form: the
 * usual API request, whose URI buffer can then be the request's own bytes. */
bool
mt_uri_is_normal(const uint8_t *p, uint32_t len)
{
	const uint8_t *q, *sl;
	uint32_t plen;

	if (len > 7 && (p[0] == 'h' || p[0] == 'H'))
		return false; /* maybe "http://": let the full normaliser decide */
	if (memchr(p, '%', len) != NULL)
		return false;
	q = memchr(p, '?', len);
	plen = q != NULL ? (uint32_t)(q - p) : len;
	if (memchr(p, '\\', plen) != NULL || dot_segment(p, 0, plen))
		return false;
	/* after every '/': neither another '/' nor a dot segment */
	for (sl = memchr(p, '/', plen); sl != NULL;
	     sl = memchr(sl + 1, '/', plen - (uint32_t)(sl + 1 - p))) {
		uint32_t k = (uint32_t)(sl - p) + 1;

		if ((k < plen && p[k] == '/') || dot_segment(p, k, plen))
			return false;
	}
	return true;
}

uint32_t
mt_uri_normalize(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap,
		 bool *double_encoded)
{
	const uint8_t *q;
	uint32_t plen, o;
	bool dbl = false;

	/* absolute-form target: the URI buffer holds path and query only */
	if (len > 7 && (memcmp(in, "http://", 7) == 0 || (len > 8 && memcmp(in, "https://", 8) == 0))) {
		const uint8_t *sl = memchr(in + 8 - (in[4] == ':'), '/', len - 8 + (in[4] == ':'));
		uint32_t skip = sl ? (uint32_t)(sl - in) : len;
		in += skip;
		len -= skip;
	}
	if (len > cap)
		len = cap; /* decoding only shrinks; the caller counts truncation */
	q = memchr(in, '?', len);
	plen = q ? (uint32_t)(q - in) : len;
	o = pct_decode(in, plen, out, &dbl);
	o = path_normalize(out, o);
	if (q != NULL) {
		/* decoded query never grows past its raw length, and o <= plen */
		out[o++] = '?';
		o += pct_decode(q + 1, len - plen - 1, out + o, &dbl);
	}
	if (double_encoded)
		*double_encoded = dbl;
	return o;
}

/* ---------- writers ---------- */

struct wbuf {
	uint8_t *p;
	uint32_t len, cap;
	bool trunc;
};

static inline void
put(struct wbuf *w, const void *d, uint32_t n)
{
	if (__builtin_expect(n > w->cap - w->len, 0)) {
		n = w->cap - w->len;
		w->trunc = true;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void
puts_(struct wbuf *w, const char *s)
{
	put(w, s, (uint32_t)strlen(s));
}

/* ": " and "\r\n": fixed two-byte separators, without strlen */
static inline void
put2(struct wbuf *w, char a, char b)
{
	if (__builtin_expect(w->cap - w->len < 2, 0)) {
		const char two[2] = {a, b};

		put(w, two, 2);
		return;
	}
	w->p[w->len] = (uint8_t)a;
	w->p[w->len + 1] = (uint8_t)b;
	w->len += 2;
}

static inline void
put_slice(struct wbuf *w, const struct mt_slice *s)
{
	if (s->len > 0)
		put(w, s->p, s->len);
}

/* @p v in decimal, zero-padded to @p width digits (snprintf cost ~700
 * instructions per status code, on every response) */
static void
put_dec(struct wbuf *w, unsigned v, unsigned width)
{
	uint8_t d[10];
	unsigned n = 0;

	do {
		d[n++] = (uint8_t)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < sizeof(d));
	while (n < width && n < sizeof(d))
		d[n++] = '0';
	while (n > 0) {
		n--;
		put(w, &d[n], 1);
	}
}

static void
put_proto(struct wbuf *w, const struct mt_http_msg *m)
{
	puts_(w, "HTTP/");
	put_dec(w, m->http_major, 1);
	puts_(w, ".");
	put_dec(w, m->http_minor, 1);
}

/* Header lines are written as runs: consecutive lines that lie in the
 * message as "name: value\r\n", one after the other, are copied with one
 * memcpy instead of four writes each. A run ends at its last value; its
 * CRLF is written, not read, since the byte after a value may be the end
 * of the segment it came from. Every byte copied is checked to be what
 * the line-by-line writes would produce. */
struct run {
	const uint8_t *p;      /* NULL: no run */
	uint32_t len;          /* up to the end of the last value */
};

static void
run_flush(struct wbuf *w, struct run *r)
{
	if (r->p != NULL) {
		put(w, r->p, r->len);
		put2(w, '\r', '\n');
		r->p = NULL;
	}
}

/* "name: value" of header @p h */
static void
put_field(struct wbuf *w, const struct mt_header *h)
{
	put_slice(w, &h->name);
	put2(w, ':', ' ');
	put_slice(w, &h->value);
}

/* A value as a server that unfolds obs-fold reads it (RFC 9112 5.2): each
 * line break inside it, with the white space after it, becomes one space.
 * Only messages flagged obs_fold hold such values. */
static void
put_unfolded(struct wbuf *w, const struct mt_slice *v)
{
	const uint8_t *p = v->p, *e = v->p + v->len;

	while (p < e) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
		const uint8_t *end = nl != NULL ? nl : e;

		if (nl != NULL && end > p && end[-1] == '\r')
			end--;
		put(w, p, (uint32_t)(end - p));
		if (nl == NULL)
			break;
		put(w, " ", 1);
		for (p = nl + 1; p < e && (*p == ' ' || *p == '\t'); p++)
			;
	}
}

/* Append header @p h as "name: value\r\n", extending the run when it
 * continues it. */
static void
run_line(struct wbuf *w, struct run *r, const struct mt_header *h)
{
	const uint8_t *n = h->name.p, *v = h->value.p;
	bool canon = n != NULL && h->name.len > 0 && v == n + h->name.len + 2 &&
		     n[h->name.len] == ':' && n[h->name.len + 1] == ' ';

	if (canon && r->p != NULL && n == r->p + r->len + 2 && r->p[r->len] == '\r' &&
	    r->p[r->len + 1] == '\n') {
		r->len = (uint32_t)(v + h->value.len - r->p);
		return;
	}
	run_flush(w, r);
	if (canon) {
		r->p = n;
		r->len = h->name.len + 2 + h->value.len;
		return;
	}
	put_field(w, h);
	put2(w, '\r', '\n');
}

static void
put_raw_headers(struct wbuf *w, const struct mt_http_msg *m)
{
	struct run r = {NULL, 0};

	for (uint16_t i = 0; i < m->n_headers && i < MT_MAX_HEADERS; i++)
		run_line(w, &r, &m->headers[i]);
	run_flush(w, &r);
}

/* A cheap caseless fingerprint of a header name (length, first, middle and
 * last byte): names with different keys differ, so strncasecmp runs only
 * for the rare equal keys. */
static inline uint32_t
name_key(const struct mt_slice *n)
{
	if (n->len == 0)
		return 0;
	return (n->len & 0xff) | (uint32_t)mt_fold(n->p[0]) << 8 |
	       (uint32_t)mt_fold(n->p[n->len / 2]) << 16 | (uint32_t)mt_fold(n->p[n->len - 1]) << 24;
}

static inline bool
same_name(const struct mt_slice *a, uint32_t ka, const struct mt_slice *b, uint32_t kb)
{
	return ka == kb && a->len == b->len &&
	       strncasecmp((const char *)a->p, (const char *)b->p, a->len) == 0;
}

/* Normalised headers: one line per name (repeats joined with ", "), no
 * cookies. Repeats are found in one pass through a small open-addressed
 * table of name_key()s, so strncasecmp runs only for equal keys and the
 * usual message without repeats costs no pairwise pass. */
static void
put_norm_headers(struct wbuf *w, const struct mt_http_msg *m, bool resp)
{
	static const struct mt_slice ck = {(const uint8_t *)"cookie", 6};
	static const struct mt_slice sck = {(const uint8_t *)"set-cookie", 10};
	const struct mt_slice *cookie = resp ? &sck : &ck;
	uint16_t n = m->n_headers < MT_MAX_HEADERS ? m->n_headers : MT_MAX_HEADERS;
	uint32_t key[MT_MAX_HEADERS], kc = name_key(cookie);
	int8_t slot[128], next[MT_MAX_HEADERS], last[MT_MAX_HEADERS];
	uint64_t skip = 0; /* cookies, and repeats written after their first */
	struct run r = {NULL, 0};

	_Static_assert(MT_MAX_HEADERS <= 64, "skip is a 64-bit map");
	memset(slot, -1, sizeof(slot));
	for (uint16_t i = 0; i < n; i++) {
		const struct mt_slice *nm = &m->headers[i].name;
		unsigned h;

		key[i] = name_key(nm);
		h = (key[i] * 2654435761u) >> 25;
		next[i] = -1;
		if (same_name(nm, key[i], cookie, kc)) {
			skip |= 1ull << i;
			continue;
		}
		for (;; h = (h + 1) & 127) {
			int f = slot[h];

			if (f < 0) {
				slot[h] = (int8_t)i;
				last[i] = (int8_t)i;
				break;
			}
			if (same_name(nm, key[i], &m->headers[f].name, key[f])) {
				next[last[f]] = (int8_t)i;
				last[f] = (int8_t)i;
				skip |= 1ull << i;
				break;
			}
		}
	}
	for (uint16_t i = 0; i < n; i++) {
		if ((skip >> i) & 1)
			continue;
		if (next[i] < 0 && !m->obs_fold) {
			run_line(w, &r, &m->headers[i]);
			continue;
		}
		run_flush(w, &r);
		put_slice(w, &m->headers[i].name);
		put2(w, ':', ' ');
		if (m->obs_fold)
			put_unfolded(w, &m->headers[i].value);
		else
			put_slice(w, &m->headers[i].value);
		for (int j = next[i]; j >= 0; j = next[j]) {
			put2(w, ',', ' ');
			if (m->obs_fold)
				put_unfolded(w, &m->headers[j].value);
			else
				put_slice(w, &m->headers[j].value);
		}
		put2(w, '\r', '\n');
	}
	run_flush(w, &r);
}

/* The value of the first header named @p name (lower case, @p n bytes),
 * NULL if there is none: the headers that no well-known slot holds. */
static const struct mt_slice *
find_header(const struct mt_http_msg *m, const char *name, uint32_t n)
{
	for (uint16_t i = 0; i < m->n_headers && i < MT_MAX_HEADERS; i++) {
		const struct mt_slice *nm = &m->headers[i].name;

		if (nm->len == n && mt_fold(nm->p[0]) == (uint8_t)name[0] &&
		    strncasecmp((const char *)nm->p, name, n) == 0)
			return &m->headers[i].value;
	}
	return NULL;
}

static void
ref(struct mt_bufv *b, const struct mt_slice *s)
{
	if (s == NULL) {
		b->p = NULL;
		b->len = 0;
	} else {
		b->p = s->len ? s->p : mt_empty;
		b->len = s->len;
	}
}

/* A header value buffer: the value in place, or unfolded into the arena
 * when the message has a folded line and this value holds a line break. */
static void
value(struct mt_bufv *b, struct wbuf *w, bool *built, const struct mt_http_msg *m,
      const struct mt_slice *v)
{
	if (v != NULL && m->obs_fold && v->len > 0 && memchr(v->p, '\n', v->len) != NULL) {
		put_unfolded(w, v);
		*built = true;
		return;
	}
	ref(b, v);
}

const struct mt_bufv *
mt_buf_get(struct mt_scratch *s, const struct mt_txn *t, uint8_t id)
{
	struct mt_bufv *b = &s->bufs[id];
	unsigned kind = MT_BUFID_KIND(id);
	bool resp = MT_BUFID_SIDE(id) == 1;
	const struct mt_http_msg *m = resp ? &t->resp : &t->req;
	uint32_t room = MT_SCRATCH_ARENA - s->arena_used;
	struct wbuf w = {.p = s->arena + s->arena_used, .len = 0,
			 .cap = room < MT_BUF_MAX ? room : MT_BUF_MAX};
	bool built = false;

	if (b->epoch == s->epoch)
		return b;
	b->epoch = s->epoch;
	b->p = NULL;
	b->len = 0;
	if (resp && t->resp.status_code == 0)
		return b;
	if (!resp && t->req.method.len == 0)
		return b;
	switch (kind) {
	case MT_B_METHOD:
		ref(b, &m->method);
		break;
	case MT_B_URI_RAW:
		ref(b, &m->uri);
		break;
	case MT_B_URI: {
		uint32_t n = m->uri.len;

		if (n <= w.cap && mt_uri_is_normal(m->uri.p, n)) {
			ref(b, &m->uri);
			s->double_encoded = false;
			break;
		}
		if (n > w.cap) {
			n = w.cap;
			w.trunc = true;
		}
		w.len = mt_uri_normalize(m->uri.p, n, w.p, w.cap, &s->double_encoded);
		built = true;
		break;
	}
	case MT_B_HOST:
	case MT_B_HOST_RAW: {
		const struct mt_slice *h = mt_msg_known(m, MT_HDR_HOST);
		if (h == NULL || kind == MT_B_HOST_RAW) {
			ref(b, h);
			break;
		}
		/* normalised host: lower case, without the port */
		for (uint32_t i = 0; i < h->len && w.len < w.cap; i++) {
			uint8_t c = h->p[i];
			if (c == ':' && (h->p[0] != '[' || (i > 0 && h->p[i - 1] == ']')))
				break;
			w.p[w.len++] = mt_fold(c);
		}
		built = true;
		break;
	}
	case MT_B_HEADER:
		put_norm_headers(&w, m, resp);
		built = true;
		break;
	case MT_B_HEADER_RAW:
		put_raw_headers(&w, m);
		put2(&w, '\r', '\n');
		built = true;
		break;
	case MT_B_HEADER_NAMES:
		put2(&w, '\r', '\n');
		for (uint16_t i = 0; i < m->n_headers && i < MT_MAX_HEADERS; i++) {
			put_slice(&w, &m->headers[i].name);
			put2(&w, '\r', '\n');
		}
		put2(&w, '\r', '\n');
		built = true;
		break;
	case MT_B_UA:
		value(b, &w, &built, m, mt_msg_known(m, MT_HDR_USER_AGENT));
		break;
	case MT_B_COOKIE:
		value(b, &w, &built, m, mt_msg_known(m, resp ? MT_HDR_SET_COOKIE : MT_HDR_COOKIE));
		break;
	case MT_B_CONTENT_TYPE:
		value(b, &w, &built, m, mt_msg_known(m, MT_HDR_CONTENT_TYPE));
		break;
	case MT_B_CONTENT_LEN:
		value(b, &w, &built, m, mt_msg_known(m, MT_HDR_CONTENT_LENGTH));
		break;
	case MT_B_SERVER:
		value(b, &w, &built, m, mt_msg_known(m, MT_HDR_SERVER));
		break;
	case MT_B_LOCATION:
		value(b, &w, &built, m, mt_msg_known(m, MT_HDR_LOCATION));
		break;
	case MT_B_REFERER:
		value(b, &w, &built, m, find_header(m, "referer", 7));
		break;
	case MT_B_ACCEPT:
		value(b, &w, &built, m, find_header(m, "accept", 6));
		break;
	case MT_B_ACCEPT_ENC:
		value(b, &w, &built, m, find_header(m, "accept-encoding", 15));
		break;
	case MT_B_ACCEPT_LANG:
		value(b, &w, &built, m, find_header(m, "accept-language", 15));
		break;
	case MT_B_CONNECTION:
		value(b, &w, &built, m, find_header(m, "connection", 10));
		break;
	case MT_B_STAT_MSG:
		ref(b, &m->reason);
		break;
	case MT_B_STAT_CODE:
		put_dec(&w, m->status_code, 3);
		built = true;
		break;
	case MT_B_PROTOCOL:
		put_proto(&w, m);
		built = true;
		break;
	case MT_B_REQUEST_LINE:
	case MT_B_RESPONSE_LINE:
	case MT_B_START:
		if (!resp) {
			put_slice(&w, &m->method);
			puts_(&w, " ");
			put_slice(&w, &m->uri);
			puts_(&w, " ");
			put_proto(&w, m);
		} else {
			put_proto(&w, m);
			puts_(&w, " ");
			put_dec(&w, m->status_code, 3);
			puts_(&w, " ");
			put_slice(&w, &m->reason);
		}
		if (kind == MT_B_START) {
			puts_(&w, "\r\n");
			put_raw_headers(&w, m);
			puts_(&w, "\r\n");
		}
		built = true;
		break;
	default:
		break;
	}
	if (built) {
		b->p = w.len ? w.p : mt_empty;
		b->len = w.len;
		s->arena_used += w.len;
		if (w.trunc)
			s->truncated++;
	}
	/* body kinds stay absent here: mt_body.c confirms them against its window */
	return b;
}
