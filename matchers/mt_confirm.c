/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Full confirmation of a candidate rule, with Suricata's content
 * inspection semantics: absolute windows (offset/depth, startswith),
 * relative windows (distance/within) measured from the end of the previous
 * match, negation, endswith, bsize, isdataat, and recursive backtracking
 * over alternative match positions when a later keyword is relative.
 * Runs on the hot path: no allocation; recursion is bounded by the number
 * of items per buffer and the work by a per-rule budget.
 */
#include "mt_engine_int.h"

#include <errno.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Inspection steps per rule before giving up (Suricata's recursion limit is similar). */
#define MT_CONFIRM_BUDGET 3000

/* ASCII lower-case table for the caseless compare: one load per byte
 * instead of two compares and a branch. */
static const uint8_t lc_tab[256] = {
#define R4(b) (b), (b) + 1, (b) + 2, (b) + 3
#define R16(b) R4(b), R4((b) + 4), R4((b) + 8), R4((b) + 12)
	R16(0x00), R16(0x10), R16(0x20), R16(0x30),
	0x40, R4('a'), R4('e'), R4('i'), R4('m'), R4('q'), R4('u'), 'y', 'z', 0x5b, 0x5c,
	0x5d, 0x5e, 0x5f,
	R16(0x60), R16(0x70), R16(0x80), R16(0x90), R16(0xa0), R16(0xb0), R16(0xc0),
	R16(0xd0), R16(0xe0), R16(0xf0),
#undef R16
#undef R4
};

static inline bool
is_alpha(uint8_t c)
{
	return (uint8_t)((c | 0x20) - 'a') < 26;
}

/* Does hay[0, n) equal pat[0, n), ignoring ASCII case when nocase? */
static inline bool
eq_at(const uint8_t *hay, const uint8_t *pat, uint32_t n, bool nocase)
{
	if (!nocase)
		return memcmp(hay, pat, n) == 0;
	for (uint32_t k = 0; k < n; k++)
		if (lc_tab[hay[k]] != lc_tab[pat[k]])
			return false;
	return true;
}

bool
mt_bytes_eq(const uint8_t *a, const uint8_t *b, uint32_t n, bool nocase)
{
	return eq_at(a, b, n, nocase);
}

/*
 * Candidate filter on the first and the last byte of the needle, 16
 * positions at a time (the SSE2 form of Suricata's/Hyperscan's "two-byte"
 * filters): for a letter, OR-ing 0x20 folds both cases onto one value, so a
 * caseless search costs the same as an exact one; non-letters and
 * case-sensitive searches compare exactly. Every candidate is verified in
 * full, so the filter only has to avoid false negatives. Loads never go
 * past hay + hlen (the tests put the haystack against a guard page).
 */
int64_t
mt_search(const uint8_t *hay, uint32_t hlen, const uint8_t *pat, uint32_t plen, bool nocase)
{
	uint32_t last = plen - 1, i = 0;
	uint8_t m0, ml, f0, fl;

	if (plen == 0)
		return 0;
	if (plen > hlen)
		return -1;
	if (!nocase && plen == 1) {
		const uint8_t *f = memchr(hay, pat[0], hlen);
		return f ? f - hay : -1;
	}
	m0 = nocase && is_alpha(pat[0]) ? 0x20 : 0;
	ml = nocase && is_alpha(pat[last]) ? 0x20 : 0;
	f0 = pat[0] | m0;
	fl = pat[last] | ml;
#ifdef __SSE2__
	{
		const __m128i vm0 = _mm_set1_epi8((char)m0), vml = _mm_set1_epi8((char)ml);
		const __m128i vf0 = _mm_set1_epi8((char)f0), vfl = _mm_set1_epi8((char)fl);

		/* both 16-byte loads stay inside [hay, hay + hlen) */
		for (; (uint64_t)i + last + 16 <= hlen; i += 16) {
			__m128i a = _mm_loadu_si128((const __m128i *)(hay + i));
			__m128i b = _mm_loadu_si128((const __m128i *)(hay + i + last));
			unsigned mask = (unsigned)_mm_movemask_epi8(
				_mm_and_si128(_mm_cmpeq_epi8(_mm_or_si128(a, vm0), vf0),
					      _mm_cmpeq_epi8(_mm_or_si128(b, vml), vfl)));

			while (mask != 0) {
				uint32_t k = i + (uint32_t)__builtin_ctz(mask);

				if (plen <= 2 || eq_at(hay + k + 1, pat + 1, plen - 2, nocase))
					return k;
				mask &= mask - 1;
			}
		}
	}
#endif
	for (; i + plen <= hlen; i++)
		if ((hay[i] | m0) == f0 && (hay[i + last] | ml) == fl &&
		    (plen <= 2 || eq_at(hay + i + 1, pat + 1, plen - 2, nocase)))
			return i;
	return -1;
}

struct cctx {
	struct mt_scratch *s;
	/* The rule's fast-pattern content and where its first occurrence in
	 * the scanned buffer starts (UINT32_MAX: unknown). The multi-pattern
	 * scan saw that buffer: no occurrence of the content starts before
	 * fp_start, and when the fast pattern is the whole content, one starts
	 * exactly there, so confirmation need not search for it again. */
	const struct mt_item *fp;
	uint32_t fp_start;
	bool in_fp_group;      /* the items being confirmed are fp's group's */
};

int
mt_hs_found_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
	       void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	*(int *)ctx = 1;
	return 1; /* first match is enough: stop the scan */
}

static int
pcre_found(struct cctx *c, const struct mt_item *it, const uint8_t *p, uint32_t len)
{
	int found = 0;
	hs_error_t rc = hs_scan(it->db, (const char *)p, len, 0, c->s->hs, mt_hs_found_cb, &found);

	if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
		return rc == HS_NOMEM ? -ENOMEM : rc == HS_SCRATCH_IN_USE ? -EBUSY : -EIO;
	return found;
}

/* Distinct lines scanned for one pcre before the whole buffer is */
#define MT_WIN_LINES 8

/* pcre_found for an expression whose matches each lie on one line holding
 * one of its window strings (struct mt_item win_*): the line of each
 * occurrence, with the CRLF before it, is scanned alone. Such a window is
 * enough (mt_relit_line_local): a match never crosses an LF but in its
 * leading CRLF, and one that began at the window's start where the
 * buffer's did not would have to end before the LF, too short to hold a
 * window string (two bytes or more). */
/* Where the search for window string @p k of pcre @p it may start in its
 * group's buffer: a string equal to the rule's fast-pattern content has no
 * occurrence before the content's first (struct cctx). */
static uint32_t
win_from(const struct cctx *c, const struct mt_item *it, unsigned k)
{
	const struct mt_item *fp = c->fp;

	if (!c->in_fp_group || fp == NULL || c->fp_start == UINT32_MAX ||
	    fp->len != it->win_len[k] || (fp->flags & MT_F_NEGATED))
		return 0;
	if (fp->flags & MT_F_NOCASE)
		return it->win_ci && eq_at(fp->pat, it->win_s[k], fp->len, true) ? c->fp_start : 0;
	return !it->win_ci && memcmp(fp->pat, it->win_s[k], fp->len) == 0 ? c->fp_start : 0;
}

static int
pcre_found_lines(struct cctx *c, const struct mt_item *it, const uint8_t *p, uint32_t len,
		 bool whole)
{
	uint32_t done[MT_WIN_LINES];
	unsigned nd = 0;

	for (unsigned k = 0; k < it->win_n; k++) {
		const uint8_t *s = it->win_s[k];
		uint32_t sl = it->win_len[k];

		for (uint32_t pos = whole ? win_from(c, it, k) : 0; pos + sl <= len;) {
			int64_t o = mt_search(p + pos, len - pos, s, sl, it->win_ci);
			const uint8_t *q;
			uint32_t at, ls, le, ws;
			bool seen = false;

			if (o < 0)
				break;
			at = pos + (uint32_t)o;
			q = memrchr(p, '\n', at);
			ls = q != NULL ? (uint32_t)(q - p) + 1 : 0;
			q = memchr(p + at, '\n', len - at);
			le = q != NULL ? (uint32_t)(q - p) : len;
			for (unsigned d = 0; d < nd; d++)
				seen = seen || done[d] == ls;
			if (!seen) {
				int f;

				if (nd == MT_WIN_LINES)
					return pcre_found(c, it, p, len);
				done[nd++] = ls;
				ws = ls >= 2 ? ls - 2 : 0;
				f = pcre_found(c, it, p + ws, le - ws);
				if (f != 0)
					return f;
			}
			pos = le + 1;
		}
	}
	return 0;
}

static int items(struct cctx *c, const struct mt_item *it, int n, const uint8_t *buf,
		 uint32_t len, uint32_t prev_end);

static int
content(struct cctx *c, const struct mt_item *it, int n, const uint8_t *buf, uint32_t len,
	uint32_t prev_end)
{
	bool nocase = (it->flags & MT_F_NOCASE) != 0;
	uint32_t plen = it->len;
	int64_t start, end;

	if (it->flags & MT_F_STARTSWITH) {
		start = 0;
		end = plen;
	} else if (it->flags & (MT_F_DISTANCE | MT_F_WITHIN)) {
		int64_t base = (int64_t)prev_end + ((it->flags & MT_F_DISTANCE) ? it->distance : 0);
		start = base < 0 ? 0 : base;
		end = (it->flags & MT_F_WITHIN) ? base + it->within : len;
	} else {
		start = (it->flags & MT_F_OFFSET) ? it->offset : 0;
		end = (it->flags & MT_F_DEPTH) ? start + it->depth : len;
	}
	if (end > len)
		end = len;
	if (it->flags & MT_F_ENDSWITH) {
		/* only one position can end the buffer */
		if ((int64_t)len - plen >= start)
			start = (int64_t)len - plen;
		else
			end = start - 1;
	}
	if (it->flags & MT_F_NEGATED) {
		bool found = end - start >= plen &&
			     mt_search(buf + start, (uint32_t)(end - start), it->pat, plen, nocase) >= 0;
		if (found)
			return 0;
		return items(c, it + 1, n - 1, buf, len, prev_end);
	}
	if (it == c->fp && c->fp_start != UINT32_MAX) {
		if (start <= c->fp_start && !(it->flags & MT_F_FP_CHOP)) {
			/* the first occurrence at or after start is the reported one */
			if ((int64_t)c->fp_start + plen > end)
				return 0;
			if (end - start >= plen) {
				int rc = items(c, it + 1, n - 1, buf, len, c->fp_start + plen);

				if (rc != 0 || !(it->flags & MT_F_LATER_REL))
					return rc;
				if (--c->s->budget < 0) {
					c->s->budget_exhausted++;
					return 0;
				}
				start = (int64_t)c->fp_start + 1;
			}
		} else if (start < c->fp_start) {
			start = c->fp_start;
		}
	}
	while (end - start >= plen) {
		int64_t pos = mt_search(buf + start, (uint32_t)(end - start), it->pat, plen, nocase);
		int rc;

		if (pos < 0)
			return 0;
		pos += start;
		rc = items(c, it + 1, n - 1, buf, len, (uint32_t)(pos + plen));
		if (rc != 0)
			return rc;
		/* only a later relative keyword can profit from another occurrence */
		if (!(it->flags & MT_F_LATER_REL))
			return 0;
		if (--c->s->budget < 0) {
			c->s->budget_exhausted++;
			return 0;
		}
		start = pos + 1;
	}
	return 0;
}

static int
items(struct cctx *c, const struct mt_item *it, int n, const uint8_t *buf, uint32_t len,
      uint32_t prev_end)
{
	bool ok;

	if (n == 0)
		return 1;
	if (--c->s->budget < 0) {
		c->s->budget_exhausted++;
		return 0;
	}
	switch (it->type) {
	case MT_IT_CONTENT:
		return content(c, it, n, buf, len, prev_end);
	case MT_IT_PCRE: {
		uint32_t start = (it->flags & MT_F_RELATIVE) ? prev_end : 0;
		int f;

		if (start > len)
			return 0;
		f = it->win_n > 0 ? pcre_found_lines(c, it, buf + start, len - start, start == 0)
				  : pcre_found(c, it, buf + start, len - start);
		if (f < 0)
			return f;
		ok = f != 0;
		break;
	}
	case MT_IT_ISDATAAT: {
		uint64_t off = (uint64_t)((it->flags & MT_F_RELATIVE) ? prev_end : 0) + it->num;
		ok = off < len;
		break;
	}
	case MT_IT_BSIZE:
		switch (it->bs_op) {
		case MT_BS_EQ: ok = len == it->num; break;
		case MT_BS_LT: ok = len < it->num; break;
		case MT_BS_GT: ok = len > it->num; break;
		default: ok = len > it->num && len < it->num2; break;
		}
		/* bsize has no negated form */
		if (!ok)
			return 0;
		return items(c, it + 1, n - 1, buf, len, prev_end);
	default:
		return -EINVAL;
	}
	if (it->flags & MT_F_NEGATED)
		ok = !ok;
	if (!ok)
		return 0;
	return items(c, it + 1, n - 1, buf, len, prev_end);
}

bool
mt_confirm_addrs(const struct mt_rule *r, const struct mt_txn *t)
{
	const struct mt_flow_tuple *tp = t->tuple;
	const uint8_t *sip, *dip;
	uint16_t sport, dport;

	if (r->addr_any)
		return true;
	if (tp == NULL) {
		/* no tuple: only rules that accept any address and port can match */
		for (uint16_t i = 0; i < r->src.n; i++)
			if (r->src.v[i].family != 0)
				return false;
		for (uint16_t i = 0; i < r->dst.n; i++)
			if (r->dst.v[i].family != 0)
				return false;
		for (uint16_t i = 0; i < r->sp.n; i++)
			if (r->sp.v[i].lo != 0 || r->sp.v[i].hi != 65535)
				return false;
		for (uint16_t i = 0; i < r->dp.n; i++)
			if (r->dp.v[i].lo != 0 || r->dp.v[i].hi != 65535)
				return false;
		return true;
	}
	if (r->src_is_server) {
		sip = tp->server_ip;
		dip = tp->client_ip;
		sport = tp->server_port;
		dport = tp->client_port;
	} else {
		sip = tp->client_ip;
		dip = tp->server_ip;
		sport = tp->client_port;
		dport = tp->server_port;
	}
	if (mt_addr_match(&r->src, tp->family, sip) && mt_addr_match(&r->dst, tp->family, dip) &&
	    mt_port_match(&r->sp, sport) && mt_port_match(&r->dp, dport))
		return true;
	return r->bidir && mt_addr_match(&r->src, tp->family, dip) &&
	       mt_addr_match(&r->dst, tp->family, sip) && mt_port_match(&r->sp, dport) &&
	       mt_port_match(&r->dp, sport);
}

int
mt_confirm_rule(const struct mt_rule *r, struct mt_scratch *s, const struct mt_txn *t)
{
	struct cctx c = {.s = s, .fp_start = UINT32_MAX};

	/* fp_end is valid only for a rule marked in this call by a scan */
	if (r->fp_group >= 0 && r->idx < s->cap_rules && s->cand_mark[r->idx] == s->epoch &&
	    s->cand_fp_end[r->idx] != UINT32_MAX) {
		const struct mt_item *fp = &r->groups[r->fp_group].items[r->fp_item];
		uint32_t off = (fp->flags & MT_F_FP_CHOP) ? fp->fp_off : 0;
		uint32_t flen = (fp->flags & MT_F_FP_CHOP) ? fp->fp_len : fp->len;

		if (fp->type == MT_IT_CONTENT && !(fp->flags & MT_F_NEGATED) &&
		    s->cand_fp_end[r->idx] >= off + flen) {
			c.fp = fp;
			c.fp_start = s->cand_fp_end[r->idx] - flen - off;
		}
	}
	if (!mt_confirm_addrs(r, t))
		return 0;
	for (uint8_t f = 0; f < r->n_fb; f++) {
		uint64_t have = t->flowbits != NULL ? *t->flowbits & r->fb[f].mask : 0;

		if ((r->fb[f].op == MT_FB_ISSET && have == 0) ||
		    (r->fb[f].op == MT_FB_ISNOTSET && have != 0))
			return 0;
	}
	s->budget = MT_CONFIRM_BUDGET;
	for (uint16_t g = 0; g < r->n_groups; g++) {
		const struct mt_group *grp = &r->groups[g];
		const struct mt_bufv *b = mt_buf_get(s, t, grp->buf);
		int rc;

		if (b->p == NULL)
			return 0;
		c.in_fp_group = g == r->fp_group;
		rc = items(&c, grp->items, grp->n, b->p, b->len, 0);
		if (rc <= 0)
			return rc;
	}
	return 1;
}

int
mt_confirm_head_groups(const struct mt_rule *r, struct mt_scratch *s, const struct mt_txn *t)
{
	struct cctx c = {.s = s};

	s->budget = MT_CONFIRM_BUDGET;
	for (uint16_t g = 0; g < r->n_groups; g++) {
		const struct mt_group *grp = &r->groups[g];
		const struct mt_bufv *b;
		int rc;

		if (mt_buf_kind_is_body(MT_BUFID_KIND(grp->buf)))
			continue;
		b = mt_buf_get(s, t, grp->buf);
		if (b->p == NULL)
			return 0;
		c.in_fp_group = g == r->fp_group;
		rc = items(&c, grp->items, grp->n, b->p, b->len, 0);
		if (rc <= 0)
			return rc;
	}
	return 1;
}

int
mt_confirm_group(const struct mt_group *g, struct mt_scratch *s, const uint8_t *p, uint32_t len)
{
	static const uint8_t empty[1];
	struct cctx c = {.s = s};

	s->budget = MT_CONFIRM_BUDGET;
	return items(&c, g->items, g->n, p != NULL ? p : empty, len, 0);
}
