/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The match calls: build the buffers the side needs, scan each with its
 * fast-pattern database to collect candidate rules, add the rules that
 * have no fast pattern, confirm each candidate fully, then apply action
 * precedence. No allocation: every array lives in the scratch.
 */
#include "mt_engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct scan_ctx {
	struct mt_scratch *s;
	const struct mt_mpm *m;
	const uint8_t *need;
};

/* First sight of rule @p r in this call: its per-call state starts empty.
 * @return true the first time. */
static inline bool
touch(struct mt_scratch *s, uint32_t r)
{
	if (s->cand_mark[r] == s->epoch)
		return false;
	s->cand_mark[r] = s->epoch;
	s->cand_fp_end[r] = UINT32_MAX;
	s->cand_hits[r] = 0;
	return true;
}

/* a rule without patterns: a candidate on every call */
static inline void
mark(struct mt_scratch *s, uint32_t r)
{
	if (touch(s, r))
		s->cand[s->n_cand++] = r;
}

static int
on_hit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
	struct scan_ctx *c = ctx;
	struct mt_scratch *s = c->s;

	(void)from;
	(void)flags;
	if (id >= c->m->n_ids)
		return 0;
	for (uint32_t k = c->m->first[id], e = c->m->first[id + 1]; k < e; k++) {
		uint32_t v = c->m->rule_of[k], r = v & MT_MPM_RULE_MASK;
		unsigned slot = v >> MT_MPM_SLOT_SHIFT;
		uint8_t had;

		touch(s, r);
		had = s->cand_hits[r];
		s->cand_hits[r] = (uint8_t)(had | 1u << slot);
		if (s->cand_hits[r] == c->need[r] && had != c->need[r])
			s->cand[s->n_cand++] = r;
		/* the earliest end of the fast pattern over its reports; a
		 * literal's start is that end minus its length (mt_confirm.c) */
		if (slot == 0 && to < s->cand_fp_end[r])
			s->cand_fp_end[r] = (uint32_t)to;
	}
	return 0;
}

/* What on_hit needs of hs_scan's reports for a small literal database,
 * found in place: at each position only the literals whose first byte is
 * there are compared, and each literal is reported once, at its first (so
 * earliest-ending) occurrence; later ones would change nothing. */
__attribute__((noinline)) static void
scan_direct(const struct mt_mpm *m, const uint8_t *p, uint32_t len, struct scan_ctx *c)
{
	uint32_t todo = m->n_ids >= 32 ? UINT32_MAX : (1u << m->n_ids) - 1;

	for (uint32_t i = 0; i < len && todo != 0; i++) {
		uint32_t cand = m->by_first[p[i]] & todo;

		while (cand != 0) {
			uint32_t id = (uint32_t)__builtin_ctz(cand);
			const uint8_t *l = m->lit + m->lit_off[id];
			uint32_t n = m->lit_off[id + 1] - m->lit_off[id], k = 1;

			cand &= cand - 1;
			if (n > len - i)
				continue;
			if (m->lit_ci[id]) {
				while (k < n && mt_fold(p[i + k]) == mt_fold(l[k]))
					k++;
			} else {
				while (k < n && p[i + k] == l[k])
					k++;
			}
			if (k == n) {
				todo &= ~(1u << id);
				on_hit(id, 0, i + n, 0, c);
			}
		}
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
mt_scratch_new_call(struct mt_scratch *s)
{
	if (++s->epoch == 0) {
		/* wrapped: forget every stale mark */
		memset(s->cand_mark, 0, sizeof(*s->cand_mark) * s->cap_rules);
		for (unsigned i = 0; i < MT_NBUFID; i++)
			s->bufs[i].epoch = 0;
		s->epoch = 1;
	}
	s->arena_used = 0;
	s->n_cand = 0;
}

void
mt_emit(const struct mt_engine *e, struct mt_scratch *s, const struct mt_txn *t,
	uint32_t *rules, uint32_t n, struct mt_result *out)
{
	bool pass = false;
	uint8_t verdict = MT_ACT_NONE;
	uint32_t kept = 0;

	/* threshold/detection_filter first: a suppressed hit neither alerts nor
	 * acts (Suricata applies actions only for alerts that pass) */
	for (uint32_t i = 0; i < n; i++) {
		const struct mt_rule *r = e->rules[rules[i]];

		if (r->noalert)
			continue; /* flowbits:noalert: its match only set bits */
		if (!mt_thr_check(s, e, r, t))
			continue;
		rules[kept++] = rules[i];
		if (r->info.action == MT_ACT_PASS)
			pass = true;
		else if (r->info.action > verdict)
			verdict = r->info.action;
	}
	/* Suricata's action order: a matching pass rule suppresses the others */
	if (pass)
		verdict = MT_ACT_PASS;
	for (uint32_t i = 0; i < kept; i++) {
		const struct mt_rule *r = e->rules[rules[i]];

		if (pass && r->info.action != MT_ACT_PASS)
			continue;
		if (out->n_hits < MT_MAX_HITS)
			out->hits[out->n_hits++].rule = r->is_twin ? &r->twin->info : &r->info;
		else
			out->hits_dropped++;
	}
	if (verdict != MT_ACT_NONE && (verdict == MT_ACT_PASS || out->verdict != MT_ACT_PASS) &&
	    (verdict == MT_ACT_PASS || verdict > out->verdict))
		out->verdict = verdict;
}

/* The literals of m->names, found name by name (struct mt_mpm): what
 * on_hit would get from scanning the header_names buffer @b of @msg,
 * matches ending past b->len (a truncated buffer) excepted. The names of a
 * message that no parser checked (names_plain 0) are checked here: one
 * holding CR or LF sends the literals to a plain search of the buffer. */
__attribute__((noinline)) static void
scan_names(const struct mt_mpm *m, const struct mt_http_msg *msg, const struct mt_bufv *b,
	   struct scan_ctx *c)
{
	uint16_t n = msg->n_headers < MT_MAX_HEADERS ? msg->n_headers : MT_MAX_HEADERS;
	uint32_t off = 2; /* where the name starts in the buffer */

	for (uint16_t i = 0; i < n && off <= b->len; i++) {
		const struct mt_slice *nm = &msg->headers[i].name;
		uint32_t h;

		if (!msg->names_plain && nm->len > 0 &&
		    (memchr(nm->p, '\r', nm->len) != NULL || memchr(nm->p, '\n', nm->len) != NULL)) {
			for (uint32_t k = 0; k < m->n_names; k++) {
				const struct mt_name_lit *nl = &m->names[k];

				for (uint32_t at = 0; at + 2 + nl->len <= b->len; at++) {
					uint32_t end = at + 2 + nl->len + (nl->prefix ? 0 : 2);

					if (end <= b->len && b->p[at] == '\r' && b->p[at + 1] == '\n' &&
					    mt_bytes_eq(b->p + at + 2, nl->p, nl->len, nl->ci) &&
					    (nl->prefix || (b->p[end - 2] == '\r' && b->p[end - 1] == '\n')))
						on_hit(nl->id, 0, end, 0, c);
				}
			}
			return;
		}
		if (m->n_exact > 0 && off + nm->len + 2 <= b->len) {
			h = mt_name_key(nm->p, nm->len) & m->name_mask;
			for (uint32_t e; (e = m->name_tab[h]) != 0; h = (h + 1) & m->name_mask) {
				const struct mt_name_lit *nl = &m->names[e - 1];

				if (nl->len == nm->len && mt_bytes_eq(nm->p, nl->p, nl->len, nl->ci))
					on_hit(nl->id, 0, off + nm->len + 2, 0, c);
			}
		}
		for (uint32_t k = m->n_exact; k < m->n_names; k++) {
			const struct mt_name_lit *nl = &m->names[k];

			if (nl->len <= nm->len && mt_fold(nm->p[0]) == mt_fold(nl->p[0]) &&
			    off + nl->len <= b->len && mt_bytes_eq(nm->p, nl->p, nl->len, nl->ci))
				on_hit(nl->id, 0, off + nl->len, 0, c);
		}
		off += nm->len + 2u;
	}
}

/* confirmation marks on s->cand entries (rule indexes stay below 2^24) */
#define CAND_DONE 0x40000000u
#define CAND_MATCHED 0x80000000u

/* The flowbits actions of matched rule @p r on its flow. */
static void
apply_flowbits(const struct mt_rule *r, const struct mt_txn *t)
{
	if (t->flowbits == NULL)
		return;
	for (uint8_t f = 0; f < r->n_fb; f++) {
		switch (r->fb[f].op) {
		case MT_FB_SET:
			*t->flowbits |= r->fb[f].mask;
			break;
		case MT_FB_UNSET:
			*t->flowbits &= ~r->fb[f].mask;
			break;
		case MT_FB_TOGGLE:
			*t->flowbits ^= r->fb[f].mask;
			break;
		default:
			break;
		}
	}
}

static int
match_side(const struct mt_engine *e, struct mt_scratch *s, const struct mt_txn *t,
	   uint8_t side, struct mt_result *out)
{
	uint32_t n_match = 0;

	if (out != NULL) {
		out->n_hits = 0;
		out->hits_dropped = 0;
		out->verdict = MT_ACT_NONE;
	}
	if (e == NULL || s == NULL || t == NULL || out == NULL)
		return -EINVAL;
	if (s->cap_rules < e->n_rules || (e->proto != NULL && s->hs == NULL))
		return -EINVAL; /* scratch not prepared for this engine */
	mt_scratch_new_call(s);
	if (side == 1 && t->resp.status_code == 0)
		return 0;
	for (size_t i = 0; i < e->n_mpm; i++) {
		const struct mt_mpm *m = &e->mpm[i];
		const struct mt_bufv *b;
		struct scan_ctx c = {s, m, e->need};
		hs_error_t rc;

		if (m->side != side)
			continue;
		b = mt_buf_get(s, t, m->buf);
		if (b->p == NULL)
			continue;
		if (m->lit != NULL && b->len <= MT_MPM_DIRECT_LEN) {
			scan_direct(m, b->p, b->len, &c);
			continue;
		}
		if (m->names != NULL) {
			scan_names(m, side ? &t->resp : &t->req, b, &c);
			if (m->db == NULL)
				continue;
		}
		rc = hs_scan(m->db, (const char *)b->p, b->len, 0, s->hs, on_hit, &c);
		if (rc != HS_SUCCESS)
			return rc == HS_NOMEM ? -ENOMEM : rc == HS_SCRATCH_IN_USE ? -EBUSY : -EIO;
	}
	for (size_t i = 0; i < e->n_always[side]; i++)
		mark(s, e->always[side][i]);
	/* rule order makes the reported hits deterministic; the list is short
	 * and mostly ordered (always-rules come sorted), where insertion sort
	 * beats qsort's indirect compares */
	if (s->n_cand <= 64) {
		for (uint32_t i = 1; i < s->n_cand; i++) {
			uint32_t v = s->cand[i], j = i;

			for (; j > 0 && s->cand[j - 1] > v; j--)
				s->cand[j] = s->cand[j - 1];
			s->cand[j] = v;
		}
	} else {
		qsort(s->cand, s->n_cand, sizeof(*s->cand), cmp_u32);
	}
	/* Rules that set flowbits are confirmed first, so that a rule checking
	 * one sees what this same message set (Suricata orders its rules so
	 * too). Entries are marked in place, then the matched ones gathered in
	 * rule order. */
	for (int pass = e->has_fb_sets ? 0 : 1; pass < 2; pass++) {
		for (uint32_t i = 0; i < s->n_cand; i++) {
			uint32_t c = s->cand[i];
			const struct mt_rule *r = e->rules[c & MT_MPM_RULE_MASK];
			int rc;

			if ((c & CAND_DONE) || (pass == 0 && !r->fb_sets))
				continue;
			rc = mt_confirm_rule(r, s, t);
			if (rc < 0)
				return rc;
			s->cand[i] = c | CAND_DONE | (rc > 0 ? CAND_MATCHED : 0);
			if (rc > 0 && r->n_fb > 0)
				apply_flowbits(r, t);
		}
	}
	for (uint32_t i = 0; i < s->n_cand; i++)
		if (s->cand[i] & CAND_MATCHED)
			s->cand[n_match++] = s->cand[i] & MT_MPM_RULE_MASK;
	mt_emit(e, s, t, s->cand, n_match, out);
	return (int)out->n_hits;
}

int
mt_match_request(const struct mt_engine *e, struct mt_scratch *s, const struct mt_txn *t,
		 struct mt_result *out)
{
	return match_side(e, s, t, 0, out);
}

int
mt_match_response(const struct mt_engine *e, struct mt_scratch *s, const struct mt_txn *t,
		  struct mt_result *out)
{
	return match_side(e, s, t, 1, out);
}
