/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Engine side of body inspection: which rules inspect the body of each
 * direction, how each is decided (see enum mt_body_mode), and one
 * Hyperscan streaming-mode literal database per direction holding each
 * such rule's body fast pattern. Also the process-wide Hyperscan stream
 * allocator that lets mt_body.c open streams in preallocated memory.
 */
#include "mt_engine_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The body content a rule's stream pattern comes from: the fast_pattern
 * content if it lies in a body buffer, else the longest positive body
 * content; NULL if the body groups have none. */
static const struct mt_item *
body_fp(const struct mt_rule *r)
{
	const struct mt_item *best = NULL;
	uint32_t best_len = 0;

	if (r->fp_group >= 0 && mt_buf_kind_is_body(MT_BUFID_KIND(r->groups[r->fp_group].buf)))
		return &r->groups[r->fp_group].items[r->fp_item];
	for (uint16_t g = 0; g < r->n_groups; g++) {
		if (!mt_buf_kind_is_body(MT_BUFID_KIND(r->groups[g].buf)))
			continue;
		for (uint16_t i = 0; i < r->groups[g].n; i++) {
			const struct mt_item *it = &r->groups[g].items[i];

			if (it->type != MT_IT_CONTENT || (it->flags & MT_F_NEGATED))
				continue;
			if (it->len > best_len) {
				best = it;
				best_len = it->len;
			}
		}
	}
	return best;
}

/* Can a stream match of @p fp alone decide the rule? Only when it is the
 * rule's single body keyword, matched whole, and its window is decided by
 * the end offset of the first match: no offset, no relative or end
 * anchor. Head keywords were decided when the body began. */
static bool
decidable(const struct mt_rule *r, const struct mt_item *fp, uint32_t *depth_end)
{
	uint32_t n = 0;

	for (uint16_t g = 0; g < r->n_groups; g++)
		if (mt_buf_kind_is_body(MT_BUFID_KIND(r->groups[g].buf)))
			n += r->groups[g].n;
	if (n != 1 || (fp->flags & MT_F_FP_CHOP))
		return false;
	if (fp->flags & (MT_F_OFFSET | MT_F_DISTANCE | MT_F_WITHIN | MT_F_ENDSWITH))
		return false;
	/* SINGLEMATCH reports the earliest end; a fixed-length literal ending
	 * first also starts first, so no later match fits a depth it misses */
	*depth_end = (fp->flags & MT_F_STARTSWITH) ? fp->len
		     : (fp->flags & MT_F_DEPTH) ? (uint32_t)fp->depth : 0;
	return true;
}

int
mt_stream_index(struct mt_engine *e)
{
	for (int d = 0; d < 2; d++) {
		struct mt_body_idx *bi = &e->body[d];
		uint32_t n = 0;

		memset(bi, 0, sizeof(*bi));
		for (size_t r = 0; r < e->n_rules; r++)
			n += e->rules[r]->body_dir == d;
		if (n == 0)
			continue;
		bi->rule = calloc(n, sizeof(*bi->rule));
		bi->mode = calloc(n, sizeof(*bi->mode));
		bi->depth_end = calloc(n, sizeof(*bi->depth_end));
		bi->local_of = calloc(n, sizeof(*bi->local_of));
		if (bi->rule == NULL || bi->mode == NULL || bi->depth_end == NULL ||
		    bi->local_of == NULL) {
			mt_stream_free(e);
			return -ENOMEM;
		}
		for (size_t r = 0; r < e->n_rules; r++) {
			const struct mt_rule *rule = e->rules[r];
			const struct mt_item *fp;
			uint32_t k = bi->n;

			if (rule->body_dir != d)
				continue;
			bi->rule[bi->n++] = (uint32_t)r;
			fp = body_fp(rule);
			if (fp == NULL) {
				bi->mode[k] = MT_BM_ALWAYS;
				continue;
			}
			bi->local_of[bi->n_pat++] = k;
			bi->mode[k] = decidable(rule, fp, &bi->depth_end[k]) ? MT_BM_DECIDED
									      : MT_BM_PREFILTER;
		}
	}
	return 0;
}

int
mt_stream_compile(struct mt_engine *e, struct mt_errors *errs)
{
	for (int d = 0; d < 2; d++) {
		struct mt_body_idx *bi = &e->body[d];
		const char **ex;
		unsigned *fl, *ids;
		size_t *lens;
		hs_compile_error_t *ce = NULL;
		hs_error_t rc;

		if (bi->n_pat == 0 || bi->db != NULL)
			continue;
		ex = calloc(bi->n_pat, sizeof(*ex));
		fl = calloc(bi->n_pat, sizeof(*fl));
		ids = calloc(bi->n_pat, sizeof(*ids));
		lens = calloc(bi->n_pat, sizeof(*lens));
		if (ex == NULL || fl == NULL || ids == NULL || lens == NULL) {
			free(ex);
			free(fl);
			free(ids);
			free(lens);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < bi->n_pat; i++) {
			const struct mt_item *it = body_fp(e->rules[bi->rule[bi->local_of[i]]]);
			const uint8_t *p = it->pat;
			uint32_t l = it->len;

			if (it->flags & MT_F_FP_CHOP) {
				p += it->fp_off;
				l = it->fp_len;
			}
			ex[i] = (const char *)p;
			lens[i] = l;
			ids[i] = i;
			fl[i] = HS_FLAG_SINGLEMATCH | ((it->flags & MT_F_NOCASE) ? HS_FLAG_CASELESS : 0);
		}
		rc = hs_compile_lit_multi(ex, fl, ids, lens, bi->n_pat, HS_MODE_STREAM, NULL,
					  &bi->db, &ce);
		free(ex);
		free(fl);
		free(ids);
		free(lens);
		if (rc != HS_SUCCESS) {
			mt_err_add(errs, "<engine>", 0, "fast_pattern",
				   "Hyperscan cannot compile the %s body stream database: %s",
				   d ? "response" : "request", ce ? ce->message : "unknown error");
			hs_free_compile_error(ce);
			bi->db = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

void
mt_stream_free(struct mt_engine *e)
{
	for (int d = 0; d < 2; d++) {
		struct mt_body_idx *bi = &e->body[d];

		if (bi->db != NULL)
			hs_free_database(bi->db);
		free(bi->rule);
		free(bi->mode);
		free(bi->depth_end);
		free(bi->local_of);
		memset(bi, 0, sizeof(*bi));
	}
}

/* ---------- stream allocator ----------
 *
 * hs_open_stream() takes its memory from the stream allocator, which is
 * process-wide. We install one, once, that hands out the area a body slot
 * set for the calling thread (a one-shot __thread pointer), and whose free
 * hook ignores pointers inside the calling thread's declared pool range.
 * Any other use (no area set: other threads, other code in the process
 * opening streams) falls through to malloc/free, so the hook is harmless
 * to them. Contract: nothing else in the process may call
 * hs_set_allocator() or hs_set_stream_allocator() after the first scratch
 * exists (a foreign free hook would be handed pool memory); mt_body.c
 * counts a stream that did not land in its slot (body_stream_alloc_fallback).
 */

static __thread void *tls_area;
static __thread size_t tls_size;
static __thread const char *tls_lo, *tls_hi;

static void *
stream_alloc(size_t n)
{
	void *p = tls_area;

	if (p != NULL && n <= tls_size) {
		tls_area = NULL;
		return p;
	}
	return malloc(n);
}

static void
stream_free(void *p)
{
	if (p != NULL && (const char *)p >= tls_lo && (const char *)p < tls_hi)
		return; /* pool memory: the slot owns it */
	free(p);
}

static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;

static void
install(void)
{
	hs_set_stream_allocator(stream_alloc, stream_free);
}

void
mt_stream_allocator_install(void)
{
	pthread_once(&alloc_once, install);
}

void
mt_stream_tls_set(void *area, size_t size, const void *lo, const void *hi)
{
	tls_area = area;
	tls_size = size;
	tls_lo = lo;
	tls_hi = hi;
}

void
mt_stream_tls_clear(void)
{
	tls_area = NULL;
	tls_size = 0;
	tls_lo = tls_hi = NULL;
}
