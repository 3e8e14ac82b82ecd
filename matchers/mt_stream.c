/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Engine side of body inspection: which rules inspect the body of each
 * direction, how each is decided (see enum mt_body_mode), and one
 * Hyperscan streaming-mode literal database per direction holding each
 * such rule's body fast pattern (or the literals its body pcre requires). Also the process-wide Hyperscan stream
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

/* The rule's stream pattern: its body content (body_fp), else a body pcre
 * whose HS_FLAG_PREFILTER form can select it (a superset of the pcre's
 * matches, so a rule the stream never selected cannot match the window);
 * NULL: the rule is confirmed against every window (MT_BM_ALWAYS). */
static const struct mt_item *
body_pat(const struct mt_rule *r)
{
	const struct mt_item *fp = body_fp(r);

	if (fp != NULL)
		return fp;
	for (uint16_t g = 0; g < r->n_groups; g++) {
		if (!mt_buf_kind_is_body(MT_BUFID_KIND(r->groups[g].buf)))
			continue;
		for (uint16_t i = 0; i < r->groups[g].n; i++)
			if (mt_hs_pcre_prefilterable(&r->groups[g].items[i], i))
				return &r->groups[g].items[i];
	}
	return NULL;
}

static bool
has_head_groups(const struct mt_rule *r)
{
	for (uint16_t g = 0; g < r->n_groups; g++)
		if (!mt_buf_kind_is_body(MT_BUFID_KIND(r->groups[g].buf)))
			return true;
	return false;
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
		bi->lits = calloc(n, sizeof(*bi->lits));
		bi->base_eligible = calloc((n + 63) / 64, sizeof(uint64_t));
		bi->head_check = calloc(n, sizeof(*bi->head_check));
		if (bi->lits == NULL || bi->base_eligible == NULL || bi->head_check == NULL ||
		    bi->rule == NULL || bi->mode == NULL || bi->depth_end == NULL ||
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
			if (rule->addr_any && !has_head_groups(rule))
				bi->base_eligible[k / 64] |= 1ull << (k % 64);
			else
				bi->head_check[bi->n_head_check++] = k;
			fp = body_pat(rule);
			if (fp == NULL) {
				bi->mode[k] = MT_BM_ALWAYS;
				continue;
			}
			if (fp->type == MT_IT_PCRE) {
				/* A body pcre selects its rule through literals it
				 * requires where it has any: they keep the stream
				 * database a literal one, which scans several times
				 * faster than one holding a regex. */
				int nl = mt_hs_pcre_factors(fp, MT_RELIT_CLASS_BODY, &bi->lits[k], 1);

				if (nl < 0) {
					mt_stream_free(e);
					return nl;
				}
				bi->mode[k] = MT_BM_PREFILTER_RE;
				if (nl > 0) {
					/* one pattern per literal, all selecting rule k */
					uint32_t *nv = realloc(bi->local_of, sizeof(*nv) *
							       (n + bi->n_pat + bi->lits[k].n));

					if (nv == NULL) {
						mt_stream_free(e);
						return -ENOMEM;
					}
					bi->local_of = nv;
					for (uint16_t j = 0; j < bi->lits[k].n; j++)
						bi->local_of[bi->n_pat++] = k;
					continue;
				}
			}
			bi->local_of[bi->n_pat++] = k;
			if (fp->type == MT_IT_PCRE)
				bi->mode[k] = MT_BM_PREFILTER_RE;
			else
				bi->mode[k] = decidable(rule, fp, &bi->depth_end[k]) ? MT_BM_DECIDED
										     : MT_BM_PREFILTER;
		}
		bi->always_bits = calloc((n + 63) / 64, sizeof(uint64_t));
		bi->re_bits = calloc((n + 63) / 64, sizeof(uint64_t));
		bi->decided_bits = calloc((n + 63) / 64, sizeof(uint64_t));
		if (bi->always_bits == NULL || bi->re_bits == NULL || bi->decided_bits == NULL) {
			mt_stream_free(e);
			return -ENOMEM;
		}
		for (uint32_t k = 0; k < bi->n; k++) {
			uint64_t bit = 1ull << (k % 64);

			if (bi->mode[k] == MT_BM_ALWAYS)
				bi->always_bits[k / 64] |= bit;
			else if (bi->mode[k] == MT_BM_PREFILTER_RE)
				bi->re_bits[k / 64] |= bit;
			else if (bi->mode[k] == MT_BM_DECIDED)
				bi->decided_bits[k / 64] |= bit;
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
		char **owned;
		unsigned *fl, *ids;
		size_t *lens;
		hs_compile_error_t *ce = NULL;
		hs_error_t rc;
		bool any_re = false, ok = true;
		uint16_t j = 0;   /* position in the current rule's run of literals */

		if (bi->n_pat == 0 || bi->db != NULL)
			continue;
		ex = calloc(bi->n_pat, sizeof(*ex));
		owned = calloc(bi->n_pat, sizeof(*owned));
		fl = calloc(bi->n_pat, sizeof(*fl));
		ids = calloc(bi->n_pat, sizeof(*ids));
		lens = calloc(bi->n_pat, sizeof(*lens));
		if (ex == NULL || owned == NULL || fl == NULL || ids == NULL || lens == NULL) {
			free(owned);
			free(ex);
			free(fl);
			free(ids);
			free(lens);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < bi->n_pat; i++)
			any_re = any_re || (bi->lits[bi->local_of[i]].n == 0 &&
				 body_pat(e->rules[bi->rule[bi->local_of[i]]])->type == MT_IT_PCRE);
		for (uint32_t i = 0; i < bi->n_pat && ok; i++) {
			uint32_t k = bi->local_of[i];
			const struct mt_item *it = body_pat(e->rules[bi->rule[k]]);
			const uint8_t *p = it->pat;
			uint32_t l = it->len;
			bool nocase = (it->flags & MT_F_NOCASE) != 0;

			ids[i] = i;
			j = i > 0 && bi->local_of[i - 1] == k ? j + 1 : 0;
			if (bi->lits[k].n > 0) {
				/* the rule's literals come as a run of ids: j-th of the run */
				p = bi->lits[k].s[j];
				l = bi->lits[k].len[j];
				nocase = bi->lits[k].caseless;
				it = NULL;
			} else if (it->type == MT_IT_PCRE) {
				ex[i] = it->re;
				fl[i] = it->hs_flags | HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH;
				continue;
			}
			if (it != NULL && (it->flags & MT_F_FP_CHOP)) {
				p += it->fp_off;
				l = it->fp_len;
			}
			fl[i] = HS_FLAG_SINGLEMATCH | (nocase ? HS_FLAG_CASELESS : 0);
			if (any_re) {
				/* one regex makes the whole database a regex one */
				owned[i] = mt_hs_escape_lit(p, l);
				ok = owned[i] != NULL;
				ex[i] = owned[i];
			} else {
				ex[i] = (const char *)p;
				lens[i] = l;
			}
		}
		if (!ok)
			rc = HS_NOMEM;
		else if (any_re)
			rc = hs_compile_multi(ex, fl, ids, bi->n_pat, HS_MODE_STREAM, NULL, &bi->db,
					      &ce);
		else
			rc = hs_compile_lit_multi(ex, fl, ids, lens, bi->n_pat, HS_MODE_STREAM, NULL,
						  &bi->db, &ce);
		for (uint32_t i = 0; owned != NULL && i < bi->n_pat; i++)
			free(owned[i]);
		free(owned);
		free(ex);
		free(fl);
		free(ids);
		free(lens);
		if (!ok)
			return -ENOMEM;
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
		free(bi->lits);
		free(bi->base_eligible);
		free(bi->head_check);
		free(bi->always_bits);
		free(bi->re_bits);
		free(bi->decided_bits);
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
