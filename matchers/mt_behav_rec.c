/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker side of the behaviour module: turn one HTTP transaction into a
 * fixed-size record (struct mt_behav_rec) for the analytics stage, and
 * report the detections that need no shared state at request head.
 *
 * Thread: the worker that owns @w; no locks, no heap (except OpenSSL's
 * inside RS256/ES256 verification, once per distinct token thanks to the
 * per-worker cache), no I/O.
 */
#include "mt_behav.h"
#include "mt_behav_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

_Static_assert(sizeof(struct mt_behav_msg) <= 512, "per-message state must stay small");
_Static_assert(sizeof(struct mt_behav_rec) <= 512, "record must stay small");


int
mt_strlist_find(const struct mt_behav_strlist *l, const char *s, size_t n)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == n && strncasecmp(l->v[i], s, n) == 0)
			return (int)i;
	return -1;
}

struct mt_behav_worker *
mt_behav_worker_create(const struct mt_behav_params *p)
{
	struct mt_behav_worker *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->p = *p;
	w->stp = &w->st;
	w->keys = mt_jwt_keyset_create(p);
	if (w->keys == NULL && errno != 0) {
		int e = errno;

		free(w);
		errno = e;
		return NULL;
	}
	for (uint32_t i = 0; i < p->login_fail_bodies.n && w->n_fail < MT_BEHAV_FAILPAT; i++) {
		size_t n = strnlen(p->login_fail_bodies.v[i], MT_BEHAV_STR_MAX - 1);

		if (n == 0)
			continue;
		for (size_t k = 0; k < n; k++) {
			char c = p->login_fail_bodies.v[i][k];

			w->fail[w->n_fail][k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		w->fail_len[w->n_fail] = (uint8_t)n;
		mt_kmp_table(w->fail[w->n_fail], (uint8_t)n, w->fail_kmp[w->n_fail]);
		w->n_fail++;
	}
	w->dec = calloc(1, sizeof(*w->dec));
	if (w->dec == NULL) {
		mt_jwt_keyset_destroy(w->keys);
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	{
		/* a message remembers its inflater by (slot, tag << 16 | seq):
		 * the tag makes a slot id taken in another context (the data
		 * plane swaps contexts when settings change) not match here. A
		 * stale match (tag wrapped) only feeds the wrong stream: the
		 * index always goes into the current context's own pool. */
		static uint32_t next_tag;

		w->dec->tag = (uint16_t)__atomic_add_fetch(&next_tag, 1, __ATOMIC_RELAXED);
	}
	(void)mt_behav_fast_hash("", 0); /* draw the process keys off the hot path */
	return w;
}

void
mt_behav_worker_destroy(struct mt_behav_worker *w)
{
	if (w == NULL)
		return;
	mt_jwt_keyset_destroy(w->keys);
	free(w->dec);
	free(w);
}

const struct mt_behav_wstats *
mt_behav_worker_stats(const struct mt_behav_worker *w)
{
	return w->stp;
}

void
mt_behav_worker_bind_stats(struct mt_behav_worker *w, struct mt_behav_wstats *st)
{
	w->stp = st != NULL ? st : &w->st;
}

static void
trim(const uint8_t **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

static bool
parse_ip(const uint8_t *p, size_t n, uint8_t *fam, uint8_t *ip)
{
	char buf[64];

	if (n >= 2 && p[0] == '[') { /* [v6]:port */
		const uint8_t *e = memchr(p, ']', n);

		if (e == NULL)
			return false;
		n = (size_t)(e - p - 1);
		p++;
	}
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, buf, ip) == 1) {
		*fam = 4;
		return true;
	}
	if (inet_pton(AF_INET6, buf, ip) == 1) {
		*fam = 6;
		return true;
	}
	{ /* v4:port */
		char *colon = strchr(buf, ':');

		if (colon && strchr(colon + 1, ':') == NULL) {
			*colon = '\0';
			if (inet_pton(AF_INET, buf, ip) == 1) {
				*fam = 4;
				return true;
			}
		}
	}
	return false;
}

static bool
trusted_proxy(const struct mt_behav_params *p, uint8_t fam, const uint8_t *ip)
{
	for (uint32_t i = 0; i < p->n_proxies; i++)
		if (mt_behav_cidr_match(&p->proxies[i], fam, ip))
			return true;
	return false;
}

/* X-Forwarded-For is honoured only when the peer is a trusted proxy; then
 * the right-most address that is not itself a trusted proxy is the client. */
static void
resolve_client(const struct mt_behav_worker *w, const struct mt_txn *t, struct mt_behav_rec *r)
{
	const struct mt_slice *xff;

	r->family = t->tuple ? t->tuple->family : 4;
	if (t->tuple)
		memcpy(r->client_ip, t->tuple->client_ip, 16);
	if (r->family == 4)
		memset(r->client_ip + 4, 0, 12);
	xff = mt_msg_known(&t->req, MT_HDR_X_FORWARDED_FOR);
	if (xff == NULL || xff->len == 0 || !trusted_proxy(&w->p, r->family, r->client_ip))
		return;
	{
		size_t end = xff->len;

		while (end > 0) {
			size_t s = end;
			const uint8_t *p;
			size_t n;
			uint8_t fam, ip[16];

			while (s > 0 && xff->p[s - 1] != ',')
				s--;
			p = xff->p + s;
			n = end - s;
			trim(&p, &n);
			if (!parse_ip(p, n, &fam, ip))
				return;
			r->family = fam;
			memcpy(r->client_ip, ip, 16);
			if (!trusted_proxy(&w->p, fam, ip))
				return;
			end = s ? s - 1 : 0;
		}
	}
}

static bool
method_is(const struct mt_behav_rec *r, const char *m)
{
	return strcmp(r->method, m) == 0;
}

static uint32_t
parse_u32(const char *v, size_t n, bool *ok)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && i < 10 && v[i] >= '0' && v[i] <= '9'; i++)
		x = x * 10 + (uint64_t)(v[i] - '0');
	*ok = i > 0 && i == n;
	return x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

static void
query_facts(const struct mt_behav_worker *w, const char *q, size_t qn, struct mt_behav_rec *r,
	    const char **apikey, size_t *apikey_len)
{
	const char *v;
	size_t vl;
	bool ok;
	uint32_t offset = 0;
	bool have_offset = false;

	for (uint32_t i = 0; i < w->p.limit_params.n; i++)
		if (mt_query_get(q, qn, w->p.limit_params.v[i], &v, &vl)) {
			uint32_t x = parse_u32(v, vl, &ok);

			if (ok) {
				r->limit = x;
				r->flags |= MT_REC_HAS_LIMIT;
				break;
			}
		}
	for (uint32_t i = 0; i < w->p.page_params.n; i++)
		if (mt_query_get(q, qn, w->p.page_params.v[i], &v, &vl)) {
			uint32_t x = parse_u32(v, vl, &ok);

			if (ok) {
				r->page = x;
				r->flags |= MT_REC_HAS_PAGE;
				break;
			}
		}
	if (!(r->flags & MT_REC_HAS_PAGE) && mt_query_get(q, qn, "offset", &v, &vl)) {
		offset = parse_u32(v, vl, &have_offset);
		if (have_offset && r->limit) {
			r->page = offset / r->limit + 1;
			r->flags |= MT_REC_HAS_PAGE;
		}
	}
	for (uint32_t i = 0; i < w->p.apikey_params.n; i++)
		if (mt_query_get(q, qn, w->p.apikey_params.v[i], &v, &vl) && vl >= 8) {
			*apikey = v;
			*apikey_len = vl;
			r->flags |= MT_REC_APIKEY_URL;
			break;
		}
}

static bool
looks_jwt(const uint8_t *p, size_t n)
{
	const uint8_t *d1, *d2;

	if (n < 10 || memcmp(p, "eyJ", 3) != 0)
		return false;
	d1 = memchr(p, '.', n);
	if (d1 == NULL)
		return false;
	d2 = memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - p));
	return d2 != NULL;
}

/* Cookie value by name among all Cookie headers. */
static bool
find_cookie(const struct mt_behav_worker *w, const struct mt_http_msg *m, const uint8_t **v,
	    size_t *vl)
{
	for (uint16_t h = 0; h < m->n_headers && h < MT_MAX_HEADERS; h++) {
		const struct mt_header *hd = &m->headers[h];
		size_t i = 0;

		if (hd->name.len != 6 || strncasecmp((const char *)hd->name.p, "cookie", 6) != 0)
			continue;
		while (i < hd->value.len) {
			size_t s = i, eq, e;

			while (i < hd->value.len && hd->value.p[i] != ';')
				i++;
			e = i++;
			while (s < e && hd->value.p[s] == ' ')
				s++;
			for (eq = s; eq < e && hd->value.p[eq] != '='; eq++)
				;
			if (eq < e && mt_strlist_find(&w->p.session_cookies,
						      (const char *)hd->value.p + s, eq - s) >= 0 &&
			    e > eq + 1) {
				*v = hd->value.p + eq + 1;
				*vl = e - eq - 1;
				return true;
			}
		}
	}
	return false;
}

static bool
find_apikey_header(const struct mt_behav_worker *w, const struct mt_http_msg *m,
		   const uint8_t **v, size_t *vl)
{
	for (uint16_t h = 0; h < m->n_headers && h < MT_MAX_HEADERS; h++) {
		const struct mt_header *hd = &m->headers[h];

		if (hd->value.len && mt_strlist_find(&w->p.apikey_headers, (const char *)hd->name.p,
						     hd->name.len) >= 0) {
			*v = hd->value.p;
			*vl = hd->value.len;
			return true;
		}
	}
	return false;
}

/* The credential hash of a bearer token, through the per-worker cache.
 * The fingerprint is keyed (per-process SipHash key) and mixes in the
 * length, so nobody can aim two tokens at one entry. */
static uint64_t
token_hash(struct mt_behav_worker *w, const uint8_t *tok, size_t n)
{
	uint64_t fp = mt_behav_fast_hash(tok, n) ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
	unsigned slot;

	if (fp == 0)
		fp = 1;
	slot = (unsigned)(fp & (MT_TCACHE - 1));
	if (w->tc_key[slot] != fp) {
		w->tc_val[slot] = mt_behav_keyed_hash2('T', tok, n);
		w->tc_key[slot] = fp;
	}
	return w->tc_val[slot];
}

static void
jwt_identity(struct mt_behav_worker *w, const struct mt_txn *t, struct mt_behav_rec *r,
	     const uint8_t *tok, size_t n)
{
	struct mt_jwt j;
	bool decoded = false;
	uint64_t th = token_hash(w, tok, n), now_s = t->ts_ns / 1000000000ULL;
	unsigned js = (unsigned)(th & (MT_JCACHE - 1));

	w->stp->jwt_seen++;
	r->cred_hash = th;
	r->cred_kind = MT_ID_TOKEN;
	if (w->jc[js].key != th) {
		char ident[256];
		size_t il = 0;
		uint64_t exp = 0;
		uint8_t f;

		if (mt_jwt_decode((const char *)tok, n, &j) != 0) {
			f = MT_JWT_PRESENT | MT_JWT_MALFORMED;
		} else {
			decoded = true;
			/* now 0: expiry is decided per request from exp */
			f = mt_jwt_facts(&j, &w->p, 0, ident, sizeof(ident), &il);
			if (!mt_jwt_claim_u64(&j, "exp", &exp))
				exp = 0;
		}
		w->jc[js].key = th;
		w->jc[js].flags = f;
		w->jc[js].exp = exp;
		w->jc[js].id_kind = il ? MT_ID_JWT : MT_ID_TOKEN;
		w->jc[js].id_hash = il ? mt_behav_keyed_hash2('J', ident, il) : th;
	}
	r->jwt = w->jc[js].flags;
	r->id_kind = w->jc[js].id_kind;
	r->id_hash = w->jc[js].id_hash;
	if (r->jwt & MT_JWT_MALFORMED)
		return;
	if (w->jc[js].exp != 0 && w->jc[js].exp + w->p.jwt_leeway_s < now_s)
		r->jwt |= MT_JWT_EXPIRED;
	if (w->keys && !(r->jwt & MT_JWT_ALG_NONE)) {
		unsigned slot = (unsigned)(th & (MT_VCACHE - 1));
		uint8_t res;

		if (w->vc_key[slot] == th) {
			res = w->vc_val[slot];
			w->stp->jwt_cache_hits++;
		} else {
			int v = decoded || mt_jwt_decode((const char *)tok, n, &j) == 0 ?
				mt_jwt_verify(w->keys, &j) : 0;

			res = v > 0 ? 1 : v == 0 ? 2 : 3;
			w->vc_key[slot] = th;
			w->vc_val[slot] = res;
			w->stp->jwt_verified++;
		}
		if (res == 1)
			r->jwt |= MT_JWT_SIG_OK;
		else if (res == 2 && !(r->jwt & MT_JWT_EMPTY_SIG))
			r->jwt |= MT_JWT_SIG_BAD;
	}
}

static void
resolve_identity(struct mt_behav_worker *w, const struct mt_txn *t, struct mt_behav_rec *r,
		 const char *qkey, size_t qkey_len)
{
	const struct mt_slice *auth = mt_msg_known(&t->req, MT_HDR_AUTHORIZATION);
	const uint8_t *v;
	size_t vl;

	if (auth && auth->len > 7 && strncasecmp((const char *)auth->p, "bearer ", 7) == 0) {
		const uint8_t *tok = auth->p + 7;
		size_t n = auth->len - 7;

		trim(&tok, &n);
		if (n && looks_jwt(tok, n)) {
			jwt_identity(w, t, r, tok, n);
			return;
		}
		if (n) {
			r->cred_hash = r->id_hash = token_hash(w, tok, n);
			r->cred_kind = r->id_kind = MT_ID_TOKEN;
			return;
		}
	}
	if (find_apikey_header(w, &t->req, &v, &vl)) {
		r->cred_hash = r->id_hash = mt_behav_keyed_hash2('K', v, vl);
		r->cred_kind = r->id_kind = MT_ID_APIKEY;
		return;
	}
	if (qkey) {
		r->cred_hash = r->id_hash = mt_behav_keyed_hash2('K', qkey, qkey_len);
		r->cred_kind = r->id_kind = MT_ID_APIKEY;
		return;
	}
	if (find_cookie(w, &t->req, &v, &vl)) {
		r->cred_hash = r->id_hash = mt_behav_keyed_hash2('S', v, vl);
		r->cred_kind = r->id_kind = MT_ID_COOKIE;
		return;
	}
	if (auth && auth->len > 6 && strncasecmp((const char *)auth->p, "basic ", 6) == 0) {
		uint8_t dec[192];
		const uint8_t *b = auth->p + 6;
		size_t bn = auth->len - 6;
		long dn;

		trim(&b, &bn);
		dn = mt_b64_decode((const char *)b, bn, dec, sizeof(dec), false);
		if (dn > 0) {
			const uint8_t *colon = memchr(dec, ':', (size_t)dn);
			size_t ul = colon ? (size_t)(colon - dec) : (size_t)dn;

			r->cred_hash = mt_behav_keyed_hash2('b', dec, (size_t)dn);
			r->cred_kind = MT_ID_BASIC;
			r->id_kind = MT_ID_BASIC;
			r->id_hash = mt_behav_keyed_hash2('B', dec, ul);
			if ((r->flags & MT_REC_LOGIN) && ul) {
				for (size_t i = 0; i < ul; i++)
					if (dec[i] >= 'A' && dec[i] <= 'Z')
						dec[i] = (uint8_t)(dec[i] + 32);
				r->user_hash = mt_behav_keyed_hash2('u', dec, ul);
				r->flags |= MT_REC_HAS_USER;
			}
			memset(dec, 0, sizeof(dec));
			return;
		}
	}
	{
		uint8_t a[17];

		a[0] = r->family;
		memcpy(a + 1, r->client_ip, 16);
		r->id_kind = MT_ID_CLIENT;
		r->id_hash = mt_behav_keyed_hash2('C', a, sizeof(a));
	}
}

static void
msg_start(struct mt_behav_msg *m, uint8_t dir, uint8_t mode, uint8_t want)
{
	memset(m, 0, sizeof(*m));
	m->dir = dir;
	m->active = mode != 0;
	m->mode = mode;
	m->want = want;
	m->prev = ' ';
}

/* Content-Encoding of a message the scanner @p m reads: gzip/deflate is
 * inflated (mt_behav_body()), anything else we cannot decode turns the
 * scanner off. @return mt_inflate_coding()'s verdict. */
static int
msg_coding(struct mt_behav_worker *w, struct mt_behav_msg *m, const struct mt_http_msg *h)
{
	int c = mt_inflate_coding(h);

	if (c > 0) {
		m->enc = MT_BM_ENC_INFLATE;
	} else if (c < 0) {
		if (m->active)
			w->stp->encoding_unsupported++;
		m->active = 0;
		m->mode = 0;
	}
	return c;
}

static uint8_t
body_mode(const struct mt_slice *ct, bool resp)
{
	if (ct == NULL || ct->len == 0)
		return resp ? 3 : 0;
	if (memmem(ct->p, ct->len, "json", 4))
		return 1;
	if (memmem(ct->p, ct->len, "x-www-form-urlencoded", 21))
		return 2;
	if (!resp)
		return 0;
	if (ct->len >= 5 && (strncasecmp((const char *)ct->p, "text/", 5) == 0 ||
			     memmem(ct->p, ct->len, "xml", 3) || memmem(ct->p, ct->len, "javascript", 10) ||
			     memmem(ct->p, ct->len, "csv", 3) || memmem(ct->p, ct->len, "yaml", 4)))
		return 3;
	return 0;
}

static void
add_hit(const struct mt_behav_worker *w, enum mt_behav_det d, const struct mt_rule_info **hits,
	unsigned max, unsigned *n)
{
	if (w->p.det[d].enabled && *n < max)
		hits[(*n)++] = &mt_behav_rules[d];
}

unsigned
mt_behav_req_head(struct mt_behav_worker *w, const struct mt_txn *t, struct mt_behav_rec *r,
		  struct mt_behav_msg *req, const struct mt_rule_info **hits, unsigned max)
{
	const struct mt_http_msg *m = &t->req;
	const char *uri = (const char *)m->uri.p, *q = NULL, *qkey = NULL;
	size_t un = m->uri.len, pn, qn = 0, qkey_len = 0;
	const struct mt_slice *host = mt_msg_known(m, MT_HDR_HOST);
	struct mt_tmpl_out to;
	unsigned n = 0;
	size_t i;

	memset(r, 0, sizeof(*r));
	w->stp->requests++;
	r->ts_ns = t->ts_ns;
	r->flow_id = t->tuple ? t->tuple->flow_id : 0;
	r->txn_id = t->txn_id;
	resolve_client(w, t, r);
	for (i = 0; i < m->method.len && i < sizeof(r->method) - 1; i++)
		r->method[i] = (char)m->method.p[i];
	if (host) {
		for (i = 0; i < host->len && i < sizeof(r->host) - 1 && host->p[i] != ':'; i++)
			r->host[i] = (char)((host->p[i] >= 'A' && host->p[i] <= 'Z') ?
					    host->p[i] + 32 : host->p[i]);
	}
	/* absolute-form request target: skip scheme://authority */
	if (un > 7 && uri && memmem(uri, un < 10 ? un : 10, "://", 3)) {
		const char *s = memmem(uri, un, "://", 3) + 3;
		const char *slash = memchr(s, '/', un - (size_t)(s - uri));

		un = slash ? un - (size_t)(slash - uri) : 0;
		uri = slash ? slash : "/";
	}
	for (pn = 0; pn < un && uri[pn] != '?' && uri[pn] != '#'; pn++)
		;
	if (pn < un && uri[pn] == '?') {
		q = uri + pn + 1;
		for (qn = 0; pn + 1 + qn < un && q[qn] != '#'; qn++)
			;
	}
	mt_tmpl_path(uri ? uri : "/", uri ? pn : 1, &to);
	memcpy(r->tmpl, to.tmpl, sizeof(r->tmpl));
	r->n_segs = to.n_segs;
	memcpy(r->seg_hash, to.seg_hash, sizeof(r->seg_hash));
	r->obj_slot = to.obj_slot;
	if (to.obj_slot != 0xff) {
		r->flags |= MT_REC_HAS_OBJ;
		r->obj_hash = to.obj_hash;
		if (to.obj_numeric) {
			r->flags |= MT_REC_OBJ_NUMERIC;
			r->obj_num = to.obj_num;
		}
	}
	{
		char k[MT_BEHAV_HOST_MAX + 8 + MT_BEHAV_TMPL_MAX];
		size_t hl = strlen(r->host), ml = strlen(r->method), tl = strlen(r->tmpl);

		memcpy(k, r->host, hl + 1);
		memcpy(k + hl + 1, r->method, ml + 1);
		memcpy(k + hl + ml + 2, r->tmpl, tl);
		r->tmpl_id = mt_behav_fast_hash(k, hl + ml + 2 + tl);
	}
	if (method_is(r, "POST") || method_is(r, "PUT") || method_is(r, "PATCH") ||
	    method_is(r, "DELETE"))
		r->flags |= MT_REC_WRITE;
	if (uri && (method_is(r, "POST") || method_is(r, "PUT")))
		for (uint32_t k = 0; k < w->p.login_paths.n; k++)
			if (mt_tmpl_glob(w->p.login_paths.v[k], uri, pn)) {
				r->flags |= MT_REC_LOGIN;
				break;
			}
	if (q)
		query_facts(w, q, qn, r, &qkey, &qkey_len);
	resolve_identity(w, t, r, qkey, qkey_len);

	if (r->jwt & MT_JWT_ALG_NONE)
		add_hit(w, MT_DET_JWT_ALG_NONE, hits, max, &n);
	if (r->jwt & MT_JWT_EMPTY_SIG)
		add_hit(w, MT_DET_JWT_EMPTY_SIGNATURE, hits, max, &n);
	if (r->jwt & MT_JWT_EXPIRED)
		add_hit(w, MT_DET_JWT_EXPIRED, hits, max, &n);
	if (r->jwt & MT_JWT_HDR_INJECT)
		add_hit(w, MT_DET_JWT_HEADER_INJECTION, hits, max, &n);
	if (r->jwt & MT_JWT_SIG_BAD)
		add_hit(w, MT_DET_JWT_BAD_SIGNATURE, hits, max, &n);
	if (r->flags & MT_REC_APIKEY_URL)
		add_hit(w, MT_DET_APIKEY_IN_URL, hits, max, &n);
	w->stp->request_hits += n;

	{
		uint8_t want = 0;

		if (r->flags & MT_REC_LOGIN)
			want |= MT_BM_WANT_USER;
		if (r->flags & MT_REC_WRITE)
			want |= MT_BM_WANT_PRIV;
		msg_start(req, MT_DIR_TO_SERVER,
			  want ? body_mode(mt_msg_known(m, MT_HDR_CONTENT_TYPE), false) : 0, want);
		msg_coding(w, req, m);
	}
	return n;
}

void
mt_behav_resp_head(struct mt_behav_worker *w, const struct mt_txn *t, struct mt_behav_rec *r,
		   struct mt_behav_msg *resp)
{
	uint8_t mode = body_mode(mt_msg_known(&t->resp, MT_HDR_CONTENT_TYPE), true);
	uint8_t want = MT_BM_WANT_PII | MT_BM_WANT_IDS;

	r->status = t->resp.status_code;
	r->flags |= MT_REC_HAS_RESP;
	if (r->flags & MT_REC_LOGIN)
		want |= MT_BM_WANT_FAIL;
	msg_start(resp, MT_DIR_TO_CLIENT, mode, want);
	if (msg_coding(w, resp, &t->resp) < 0)
		r->flags |= MT_REC_ENCODED;
}

struct kv_sync {
	struct mt_behav_worker *w;
	struct mt_behav_msg *m;
	struct mt_behav_rec *r;
	const uint8_t *p;
	size_t pos;      /* bytes of the chunk the tokenizer has consumed */
};

static void
kv_sync(void *arg, size_t pos)
{
	struct kv_sync *ks = arg;

	if (pos > ks->pos) {
		mt_kv_scan(ks->w, ks->m, ks->r, ks->p + ks->pos, pos - ks->pos);
		ks->pos = pos;
	}
}

/* Decoded bytes through the scanners; ends the message at scan_max_bytes. */
static void
scan(struct mt_behav_worker *w, struct mt_behav_rec *r, struct mt_behav_msg *m,
     const uint8_t *p, uint32_t len)
{
	uint32_t room, n, i;
	bool login = r->flags & MT_REC_LOGIN;

	room = w->p.scan_max_bytes > m->scanned ? w->p.scan_max_bytes - m->scanned : 0;
	n = len < room ? len : room;
	w->stp->body_bytes_scanned += n;
	w->stp->body_bytes_skipped += len - n;
	m->scanned += n;
	if (n == 0)
		goto out;
	/* One bulk pass per scanner over the chunk; the tokenizer is advanced
	 * lazily when the PII scanner needs its state (card context). */
	if (m->want & MT_BM_WANT_PII) {
		struct kv_sync ks = { w, m, r, p, 0 };

		mt_pii_scan(m, r, p, n, (m->mode == 1 || m->mode == 2) ? kv_sync : NULL, &ks);
		mt_secret_scan(m, r, p, n, login);
		if (ks.pos < n)
			mt_kv_scan(w, m, r, p + ks.pos, n - ks.pos);
	} else {
		mt_kv_scan(w, m, r, p, n);
	}
	if ((m->want & MT_BM_WANT_FAIL) && w->n_fail) {
		for (i = 0; i < n; i++) {
			uint8_t c = p[i], lc = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;

			for (uint8_t k = 0; k < w->n_fail; k++) {
				m->fp_state[k] = mt_kmp_step(w->fail[k], w->fail_kmp[k], w->fail_len[k],
							     m->fp_state[k], lc);
				if (m->fp_state[k] == w->fail_len[k])
					r->flags |= MT_REC_FAIL_BODY;
			}
		}
	}
	m->prev = p[n - 1];
out:
	if (n < len)
		mt_behav_body_end(w, r, m);
}

/* The rest of an encoded body cannot be decoded: keep what was found. */
static void
dec_lost(struct mt_behav_worker *w, struct mt_behav_rec *r, struct mt_behav_msg *m)
{
	w->stp->inflate_lost++;
	if (m->dir == MT_DIR_TO_CLIENT)
		r->flags |= MT_REC_ENCODED;
	mt_behav_body_end(w, r, m);
}

/* The inflater slot of @p m in this context's pool, taken at its first body
 * byte: a free one, else the least recently fed (a body whose flow ended
 * without its end keeps its slot until then). NULL when the slot was taken
 * over or belongs to another context. */
static struct mt_behav_dec *
dec_slot(struct mt_behav_worker *w, struct mt_behav_msg *m)
{
	struct mt_behav_decpool *dp = w->dec;
	struct mt_behav_dec *d;
	uint32_t i, pick = 0;

	if (m->dec_id != 0) {
		if (m->dec_slot >= MT_BEHAV_INFLATERS || dp->slot[m->dec_slot].id != m->dec_id)
			return NULL;
		return &dp->slot[m->dec_slot];
	}
	for (i = 0; i < MT_BEHAV_INFLATERS; i++) {
		if (dp->slot[i].id == 0) {
			pick = i;
			break;
		}
		if (dp->slot[i].last_use < dp->slot[pick].last_use)
			pick = i;
	}
	d = &dp->slot[pick];
	if (mt_inflate_init(&d->z, dp->arena[pick], dp->out, &dp->ctr) < 0)
		return NULL;
	if (++dp->next_seq == 0)
		dp->next_seq = 1;
	d->id = (uint32_t)dp->tag << 16 | dp->next_seq;
	m->dec_slot = (uint8_t)pick;
	m->dec_id = d->id;
	w->stp->bodies_inflated++;
	return d;
}

static void
dec_release(struct mt_behav_worker *w, struct mt_behav_msg *m)
{
	struct mt_behav_decpool *dp = w->dec;

	if (m->dec_id != 0 && m->dec_slot < MT_BEHAV_INFLATERS &&
	    dp->slot[m->dec_slot].id == m->dec_id)
		dp->slot[m->dec_slot].id = 0;
	m->dec_id = 0;
}

struct dec_sink {
	struct mt_behav_worker *w;
	struct mt_behav_rec *r;
	struct mt_behav_msg *m;
};

static int
dec_sink(void *ctx, const uint8_t *p, uint32_t n)
{
	struct dec_sink *ds = ctx;

	scan(ds->w, ds->r, ds->m, p, n);
	/* scan limit reached: the message ended and let its slot go */
	return ds->m->active ? 0 : -ECANCELED;
}

void
mt_behav_body(struct mt_behav_worker *w, struct mt_behav_rec *r, struct mt_behav_msg *m,
	      const uint8_t *p, uint32_t len)
{
	struct mt_behav_dec *d;

	if (m->dir == MT_DIR_TO_SERVER)
		r->req_bytes += len;
	else
		r->resp_bytes += len;
	if (!m->active) {
		w->stp->body_bytes_skipped += len;
		return;
	}
	switch (m->enc) {
	case MT_BM_ENC_EXTERNAL:
		return; /* mt_behav_body_decoded() brings the bytes */
	case MT_BM_ENC_INFLATE:
		if (len == 0)
			return;
		d = dec_slot(w, m);
		if (d == NULL) {
			dec_lost(w, r, m);
			return;
		}
		d->last_use = ++w->dec->clock;
		{
			struct dec_sink ds = { w, r, m };
			struct mt_behav_decpool *dp = w->dec;

			uint64_t errors = dp->ctr.errors, cap_hits = dp->ctr.cap_hits;

			(void)mt_inflate_feed(&d->z, p, len, dec_sink, &ds);
			w->stp->inflate_errors += dp->ctr.errors - errors;
			w->stp->inflate_cap_hits += dp->ctr.cap_hits - cap_hits;
		}
		return;
	default:
		scan(w, r, m, p, len);
		return;
	}
}

int
mt_behav_body_external(struct mt_behav_worker *w, struct mt_behav_msg *m)
{
	if (!m->active || m->enc != MT_BM_ENC_INFLATE || m->dec_id != 0)
		return 0;
	m->enc = MT_BM_ENC_EXTERNAL;
	w->stp->bodies_tapped++;
	return 1;
}

void
mt_behav_body_decoded(struct mt_behav_worker *w, struct mt_behav_rec *r, struct mt_behav_msg *m,
		      const uint8_t *p, uint32_t len)
{
	if (m->active && m->enc == MT_BM_ENC_EXTERNAL && len > 0)
		scan(w, r, m, p, len);
}

void
mt_behav_body_external_lost(struct mt_behav_worker *w, struct mt_behav_rec *r,
			    struct mt_behav_msg *m)
{
	if (m->active && m->enc == MT_BM_ENC_EXTERNAL)
		dec_lost(w, r, m);
}

void
mt_behav_body_end(struct mt_behav_worker *w, struct mt_behav_rec *r, struct mt_behav_msg *m)
{
	if (!m->active)
		return;
	if (m->enc == MT_BM_ENC_INFLATE)
		dec_release(w, m);
	mt_kv_flush(w, m, r);
	if (m->want & MT_BM_WANT_PII) {
		mt_pii_flush(m, r);
		mt_secret_flush(m, r, r->flags & MT_REC_LOGIN);
		r->flags |= MT_REC_RESP_SCANNED;
	}
	m->active = 0;
}

static bool
fail_status(const struct mt_behav_params *p, uint16_t s)
{
	for (unsigned i = 0; i < sizeof(p->login_fail_status) / sizeof(p->login_fail_status[0]) &&
			     p->login_fail_status[i]; i++)
		if (p->login_fail_status[i] == s)
			return true;
	return false;
}

void
mt_behav_txn_end(struct mt_behav_worker *w, const struct mt_txn *t, struct mt_behav_rec *r)
{
	if (t) {
		if (t->req_body_len > r->req_bytes)
			r->req_bytes = t->req_body_len;
		if (t->resp_body_len > r->resp_bytes)
			r->resp_bytes = t->resp_body_len;
		if (!r->status)
			r->status = t->resp.status_code;
	}
	if (r->flags & MT_REC_LOGIN) {
		if (fail_status(&w->p, r->status) || ((r->flags & MT_REC_FAIL_BODY) && r->status < 500))
			r->flags |= MT_REC_LOGIN_FAIL;
		else if (r->status < 200 || r->status >= 400)
			r->flags &= (uint16_t)~MT_REC_LOGIN; /* no verdict: not counted */
	}
	w->stp->records++;
}
