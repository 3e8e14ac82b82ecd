/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming body inspection (mt_body_begin/data/end/abort).
 *
 * Per body, from a slot of the scratch's preallocated pool:
 *  - at begin, the head keywords and addresses of every rule that inspects
 *    this body are decided once (the heads are valid only then) into the
 *    "eligible" bitmap;
 *  - the de-chunked bytes are inflated (mt_inflate.c) when the head says
 *    gzip/x-gzip/deflate, handed to the body's tap if one is set (the
 *    behaviour scanners, so a body is inflated once), then scanned by the direction's streaming literal
 *    database (one Hyperscan stream per body, memory in the slot) and the
 *    first MT_BODY_WINDOW decoded bytes are copied into the slot's window;
 *  - a stream match marks its rule a candidate; a rule whose only body
 *    keyword is that content (MT_BM_DECIDED) is decided by the match
 *    itself, at any depth, and reported in the same mt_body_data call;
 *  - every other eligible candidate (and rules without a positive body
 *    content) is confirmed against the window as soon as the window is
 *    full (nothing can change it any more) or at mt_body_end.
 * Memory: slots, windows, stream states and zlib arenas are allocated when
 * the scratch is created or prepared; the body calls never touch the heap.
 */
#include "mt_engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WORDS(n) (((n) + 63u) / 64u)
#define MT_STREAM_ALIGN 64u

struct mt_body {
	const struct mt_engine *e;  /* compared with the caller's, never read after abort */
	struct mt_body *next_free;
	hs_stream_t *stream;
	uint8_t dir;
	bool in_use;
	bool encoded;
	uint32_t win_len;
	mt_body_tap_fn tap;         /* also gets the decoded bytes, or NULL */
	void *tap_ctx;
	uint8_t *win;               /* MT_BODY_WINDOW bytes */
	uint8_t *stream_area;       /* pool->stream_stride bytes */
	uint64_t *eligible;         /* head keywords and addresses matched at begin */
	uint64_t *cand;             /* stream pattern seen */
	uint64_t *hit;              /* decided positively by the stream */
	uint64_t *done;             /* decided (reported or not) */
	struct mt_inflate inf;
};

struct mt_body_pool {
	uint32_t n, in_use, words;
	size_t stream_stride;
	struct mt_body *slots;
	struct mt_body *free;
	uint8_t *win_mem;
	uint8_t *stream_mem;
	uint8_t *zmem;
	uint64_t *bits;
};

/* ---------- pool ---------- */

static void
pool_destroy(struct mt_body_pool *bp)
{
	if (bp == NULL)
		return;
	free(bp->slots);
	free(bp->win_mem);
	free(bp->stream_mem);
	free(bp->zmem);
	free(bp->bits);
	free(bp);
}

int
mt_body_pool_prepare(struct mt_scratch *s, const struct mt_engine *e)
{
	struct mt_body_pool *bp = s->bodies, *nb;
	uint32_t n_rules = e->body[0].n > e->body[1].n ? e->body[0].n : e->body[1].n;
	uint32_t words = WORDS(n_rules);
	size_t stride = 0;

	if (n_rules == 0)
		return 0;
	for (int d = 0; d < 2; d++) {
		size_t sz = 0;

		if (e->body[d].db != NULL && hs_stream_size(e->body[d].db, &sz) != HS_SUCCESS)
			return -EINVAL;
		if (sz > stride)
			stride = sz;
	}
	stride = (stride + MT_STREAM_ALIGN - 1) & ~(size_t)(MT_STREAM_ALIGN - 1);
	if (stride == 0)
		stride = MT_STREAM_ALIGN;
	if (bp != NULL && bp->n >= e->max_bodies && bp->words >= words &&
	    bp->stream_stride >= stride)
		return 0;
	if (bp != NULL && bp->in_use > 0)
		return -EBUSY; /* open bodies still use the pool; the caller retries later */
	mt_stream_allocator_install();
	nb = calloc(1, sizeof(*nb));
	if (nb == NULL)
		return -ENOMEM;
	nb->n = e->max_bodies;
	nb->words = words;
	nb->stream_stride = stride;
	nb->slots = calloc(nb->n, sizeof(*nb->slots));
	nb->win_mem = malloc((size_t)nb->n * MT_BODY_WINDOW);
	nb->stream_mem = aligned_alloc(MT_STREAM_ALIGN, (size_t)nb->n * stride);
	nb->zmem = aligned_alloc(64, (size_t)nb->n * MT_INFLATE_ARENA);
	nb->bits = calloc((size_t)nb->n * words * 4, sizeof(uint64_t));
	if (nb->slots == NULL || nb->win_mem == NULL || nb->stream_mem == NULL ||
	    nb->zmem == NULL || nb->bits == NULL) {
		pool_destroy(nb);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nb->n; i++) {
		struct mt_body *b = &nb->slots[i];
		uint64_t *bits = nb->bits + (size_t)i * words * 4;

		b->win = nb->win_mem + (size_t)i * MT_BODY_WINDOW;
		b->stream_area = nb->stream_mem + (size_t)i * stride;
		b->inf.arena = nb->zmem + (size_t)i * MT_INFLATE_ARENA;
		b->eligible = bits;
		b->cand = bits + words;
		b->hit = bits + words * 2;
		b->done = bits + words * 3;
		b->next_free = nb->free;
		nb->free = b;
	}
	pool_destroy(bp);
	s->bodies = nb;
	return 0;
}

void
mt_body_pool_free(struct mt_scratch *s)
{
	pool_destroy(s->bodies);
	s->bodies = NULL;
}

static bool
owns(const struct mt_body_pool *bp, const struct mt_body *b)
{
	return bp != NULL && b >= bp->slots && b < bp->slots + bp->n && b->in_use;
}

static void
tls_pool(const struct mt_body_pool *bp, void *area)
{
	mt_stream_tls_set(area, bp->stream_stride, bp->stream_mem,
			  bp->stream_mem + (size_t)bp->n * bp->stream_stride);
}

static void
release(struct mt_body_pool *bp, struct mt_body *b)
{
	if (b->stream != NULL) {
		/* no scratch, no callback: Hyperscan only frees the state, through
		 * our hook (a no-op for pool memory); the database is not read */
		tls_pool(bp, NULL);
		hs_close_stream(b->stream, NULL, NULL, NULL);
		mt_stream_tls_clear();
		b->stream = NULL;
	}
	b->e = NULL;
	b->in_use = false;
	b->next_free = bp->free;
	bp->free = b;
	bp->in_use--;
}

/* ---------- begin ---------- */

int
mt_body_begin(const struct mt_engine *e, struct mt_scratch *s, const struct mt_txn *t, int dir,
	      struct mt_body **out)
{
	const struct mt_body_idx *bi;
	struct mt_body_pool *bp;
	struct mt_body *b;
	bool any = false;
	int enc;

	if (out != NULL)
		*out = NULL;
	if (e == NULL || s == NULL || t == NULL || out == NULL || (dir != 0 && dir != 1))
		return -EINVAL;
	bi = &e->body[dir];
	if (bi->n == 0) {
		s->ctr.body_not_needed++;
		return 0;
	}
	bp = s->bodies;
	if (bp == NULL || bp->words < WORDS(bi->n) || s->cap_rules < e->n_rules ||
	    (e->proto != NULL && s->hs == NULL))
		return -EINVAL; /* scratch not prepared for this engine */
	if (bi->db != NULL) {
		size_t sz = 0;

		if (hs_stream_size(bi->db, &sz) != HS_SUCCESS || sz > bp->stream_stride)
			return -EINVAL;
	}
	if (bp->free == NULL) {
		s->ctr.body_pool_exhausted++;
		return -ENOBUFS;
	}
	b = bp->free;
	bp->free = b->next_free;
	bp->in_use++;
	b->in_use = true;
	b->e = e;
	b->dir = (uint8_t)dir;
	b->stream = NULL;
	b->win_len = 0;
	b->tap = NULL;
	b->tap_ctx = NULL;
	memset(b->eligible, 0, sizeof(uint64_t) * bp->words * 4);
	/* rules with neither head keywords nor addresses are always eligible */
	for (uint32_t w = 0; w < WORDS(bi->n); w++) {
		b->eligible[w] = bi->base_eligible[w];
		any = any || bi->base_eligible[w] != 0;
	}
	/* the heads are valid now only: decide head keywords and addresses */
	mt_scratch_new_call(s);
	for (uint32_t j = 0; j < bi->n_head_check; j++) {
		uint32_t k = bi->head_check[j];
		const struct mt_rule *r = e->rules[bi->rule[k]];
		int rc;

		if (!mt_confirm_addrs(r, t))
			continue;
		rc = mt_confirm_head_groups(r, s, t);
		if (rc < 0) {
			release(bp, b);
			return rc;
		}
		if (rc > 0) {
			b->eligible[k / 64] |= 1ull << (k % 64);
			any = true;
		}
	}
	if (!any) {
		release(bp, b);
		s->ctr.body_not_needed++;
		return 0;
	}
	enc = mt_inflate_coding(dir ? &t->resp : &t->req);
	if (enc < 0)
		s->ctr.encoding_unsupported++;
	b->encoded = enc > 0;
	if (b->encoded) {
		if (mt_inflate_init(&b->inf, b->inf.arena, s->zout, &s->inf) < 0) {
			release(bp, b);
			return -ENOMEM;
		}
		s->ctr.inflate_bodies++;
	}
	if (bi->db != NULL) {
		hs_error_t rc;

		tls_pool(bp, b->stream_area);
		rc = hs_open_stream(bi->db, 0, &b->stream);
		mt_stream_tls_clear();
		if (rc != HS_SUCCESS) {
			b->stream = NULL;
			s->ctr.body_stream_errors++;
			release(bp, b);
			return -ENOMEM;
		}
		if ((void *)b->stream != (void *)b->stream_area)
			s->ctr.body_stream_alloc_fallback++; /* someone replaced our allocator */
	}
	s->ctr.body_begun++;
	*out = b;
	return 0;
}

int
mt_body_set_tap(struct mt_body *b, mt_body_tap_fn fn, void *ctx)
{
	if (b == NULL || !b->in_use)
		return -EINVAL;
	b->tap = fn;
	b->tap_ctx = ctx;
	return b->encoded ? 1 : 0;
}

/* ---------- data ---------- */

struct feed_ctx {
	const struct mt_engine *e;
	struct mt_scratch *s;
	struct mt_body *b;
};

static int
on_stream_hit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
	      void *ctx)
{
	struct feed_ctx *c = ctx;
	const struct mt_body_idx *bi = &c->e->body[c->b->dir];
	uint32_t k;
	uint64_t bit;

	(void)from;
	(void)flags;
	if (id >= bi->n_pat)
		return 0;
	k = bi->local_of[id];
	bit = 1ull << (k % 64);
	c->b->cand[k / 64] |= bit;
	if (bi->mode[k] == MT_BM_DECIDED && (bi->depth_end[k] == 0 || to <= bi->depth_end[k]))
		c->b->hit[k / 64] |= bit;
	return 0;
}

static int
hs_err(hs_error_t rc)
{
	return rc == HS_NOMEM ? -ENOMEM : rc == HS_SCRATCH_IN_USE ? -EBUSY : -EIO;
}

/* Decoded body bytes: through the stream, and into the window while it has room. */
static int
sink(void *ctx, const uint8_t *p, uint32_t n)
{
	struct feed_ctx *c = ctx;
	struct mt_body *b = c->b;
	uint32_t room = MT_BODY_WINDOW - b->win_len, cp = n < room ? n : room;

	if (n == 0)
		return 0;
	if (b->tap != NULL)
		b->tap(b->tap_ctx, p, n);
	if (b->stream != NULL) {
		hs_error_t rc = hs_scan_stream(b->stream, (const char *)p, n, 0, c->s->hs,
					       on_stream_hit, c);
		if (rc != HS_SUCCESS) {
			c->s->ctr.body_stream_errors++;
			return hs_err(rc);
		}
	}
	memcpy(b->win + b->win_len, p, cp);
	b->win_len += cp;
	c->s->ctr.body_bytes_inspected += n;
	c->s->ctr.body_bytes_beyond_window += n - cp;
	return 0;
}

/* Confirm the body keywords of rule @p r against the window. */
static int
confirm_body(const struct mt_rule *r, struct mt_scratch *s, const struct mt_body *b)
{
	for (uint16_t g = 0; g < r->n_groups; g++) {
		int rc;

		if (!mt_buf_kind_is_body(MT_BUFID_KIND(r->groups[g].buf)))
			continue;
		rc = mt_confirm_group(&r->groups[g], s, b->win, b->win_len);
		if (rc <= 0)
			return rc;
	}
	return 1;
}

/* Decide every eligible rule that can be decided now; report the hits. */
static int
decide(const struct mt_engine *e, struct mt_scratch *s, struct mt_body *b,
       const struct mt_txn *t, bool final, struct mt_result *res)
{
	const struct mt_body_idx *bi = &e->body[b->dir];
	bool window_final = final || b->win_len == MT_BODY_WINDOW;
	uint32_t n_out = 0;

	for (uint32_t w = 0; w < WORDS(bi->n); w++) {
		uint64_t pend = b->eligible[w] & ~b->done[w], hits, rest, work;

		if (!window_final)
			pend &= b->hit[w];
		hits = pend & b->hit[w];
		rest = pend & ~b->hit[w];
		/* a stream-decided rule may still match beyond the window */
		if (!final)
			rest &= ~bi->decided_bits[w];
		b->done[w] |= hits | rest;
		/* Every window byte has been scanned: a prefilter pattern not
		 * seen yet is not inside the window, so the rule cannot be
		 * confirmed there (a later stream match changes nothing). A
		 * prefilter regex may need more than the window, so a full
		 * window confirms its rule. */
		rest &= bi->always_bits[w] | b->cand[w] |
			(b->win_len == MT_BODY_WINDOW ? bi->re_bits[w] : 0);
		work = hits | rest;
		while (work != 0) {
			uint32_t k = w * 64 + (uint32_t)__builtin_ctzll(work);
			uint64_t bit = work & -work;
			int rc;

			work &= work - 1;
			if (hits & bit) {
				s->cand[n_out++] = bi->rule[k];
				s->ctr.body_decided_in_stream++;
				continue;
			}
			rc = confirm_body(e->rules[bi->rule[k]], s, b);
			if (rc < 0)
				return rc;
			if (rc > 0) {
				s->cand[n_out++] = bi->rule[k];
				s->ctr.body_confirmed_in_window++;
			}
		}
	}
	mt_emit(e, s, t, s->cand, n_out, res);
	return (int)res->n_hits;
}

static void
res_init(struct mt_result *res)
{
	if (res != NULL) {
		res->n_hits = 0;
		res->hits_dropped = 0;
		res->verdict = MT_ACT_NONE;
	}
}

int
mt_body_data(const struct mt_engine *e, struct mt_scratch *s, struct mt_body *b,
	     const struct mt_txn *t, const uint8_t *p, uint32_t len, struct mt_result *res)
{
	struct feed_ctx c = {e, s, b};
	int rc;

	res_init(res);
	if (e == NULL || s == NULL || t == NULL || res == NULL || (p == NULL && len > 0) ||
	    !owns(s->bodies, b) || b->e != e)
		return -EINVAL;
	if (len == 0)
		return 0;
	s->ctr.body_bytes_raw += len;
	if (b->encoded)
		rc = mt_inflate_feed(&b->inf, p, len, sink, &c);
	else
		rc = sink(&c, p, len);
	if (rc < 0)
		return rc;
	return decide(e, s, b, t, false, res);
}

int
mt_body_end(const struct mt_engine *e, struct mt_scratch *s, struct mt_body *b,
	    const struct mt_txn *t, struct mt_result *res)
{
	struct feed_ctx c = {e, s, b};
	int rc = 0;

	res_init(res);
	if (e == NULL || s == NULL || t == NULL || res == NULL || !owns(s->bodies, b) ||
	    b->e != e)
		return -EINVAL;
	if (b->stream != NULL) {
		hs_error_t hr;

		/* end of stream: matches Hyperscan held back are raised now */
		tls_pool(s->bodies, NULL);
		hr = hs_close_stream(b->stream, s->hs, on_stream_hit, &c);
		mt_stream_tls_clear();
		b->stream = NULL;
		if (hr != HS_SUCCESS) {
			s->ctr.body_stream_errors++;
			rc = hs_err(hr);
		}
	}
	if (rc == 0)
		rc = decide(e, s, b, t, true, res);
	release(s->bodies, b);
	s->ctr.body_ended++;
	return rc;
}

void
mt_body_abort(struct mt_scratch *s, struct mt_body *b)
{
	if (s == NULL || !owns(s->bodies, b))
		return;
	release(s->bodies, b);
	s->ctr.body_aborted++;
}

/* ---------- counters ---------- */

void
mt_scratch_counters(const struct mt_scratch *s,
		    void (*fn)(void *arg, const char *name, uint64_t v), void *arg)
{
	if (s == NULL || fn == NULL)
		return;
	fn(arg, "buffers_truncated", s->truncated);
	fn(arg, "confirm_budget_exhausted", s->budget_exhausted);
#define MT_X_REPORT(n) fn(arg, #n, s->ctr.n);
	MT_SCRATCH_COUNTERS(MT_X_REPORT)
#undef MT_X_REPORT
	fn(arg, "inflate_errors", s->inf.errors);
	fn(arg, "inflate_raw_deflate", s->inf.raw_deflate);
	fn(arg, "inflate_cap_hits", s->inf.cap_hits);
	fn(arg, "inflate_trailing_bytes", s->inf.trailing_bytes);
	fn(arg, "body_in_use", s->bodies ? s->bodies->in_use : 0);
	fn(arg, "body_pool_size", s->bodies ? s->bodies->n : 0);
}
