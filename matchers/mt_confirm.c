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

/* Inspection steps per rule before giving up (Suricata's recursion limit is similar). */
#define MT_CONFIRM_BUDGET 3000

static inline uint8_t
lc(uint8_t c)
{
	return (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

int64_t
mt_search(const uint8_t *hay, uint32_t hlen, const uint8_t *pat, uint32_t plen, bool nocase)
{
	if (plen == 0)
		return 0;
	if (plen > hlen)
		return -1;
	if (!nocase) {
		const uint8_t *f = memmem(hay, hlen, pat, plen);
		return f ? f - hay : -1;
	}
	{
		uint8_t f0 = lc(pat[0]);
		for (uint32_t i = 0; i + plen <= hlen; i++) {
			uint32_t k;
			if (lc(hay[i]) != f0)
				continue;
			for (k = 1; k < plen && lc(hay[i + k]) == lc(pat[k]); k++)
				;
			if (k == plen)
				return i;
		}
	}
	return -1;
}

struct cctx {
	struct mt_scratch *s;
};

static int
found_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
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
	hs_error_t rc = hs_scan(it->db, (const char *)p, len, 0, c->s->hs, found_cb, &found);

	if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
		return rc == HS_NOMEM ? -ENOMEM : rc == HS_SCRATCH_IN_USE ? -EBUSY : -EIO;
	return found;
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
		f = pcre_found(c, it, buf + start, len - start);
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
	struct cctx c = {.s = s};

	if (!mt_confirm_addrs(r, t))
		return 0;
	s->budget = MT_CONFIRM_BUDGET;
	for (uint16_t g = 0; g < r->n_groups; g++) {
		const struct mt_group *grp = &r->groups[g];
		const struct mt_bufv *b = mt_buf_get(s, t, grp->buf);
		int rc;

		if (b->p == NULL)
			return 0;
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
