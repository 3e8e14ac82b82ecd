/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hyperscan side of the engine, after Suricata's util-mpm-hs.c:
 *  - one block-mode database per (evaluation side, buffer) holding each
 *    rule's fast pattern (a literal, or a prefilter regex for rules without
 *    positive content; regexes SINGLEMATCH, literals not: Hyperscan's
 *    per-pattern report state cost more than the repeated callbacks), plus
 *    gates: literals that the
 *    rule's pcres require (mt_relit.c), which must match too;
 *  - one exact single-pattern database per pcre, used only to confirm
 *    candidates;
 *  - one prototype scratch grown over every database, cloned per worker;
 *  - an on-disk cache of the serialised databases keyed by the rule texts,
 *    the Hyperscan version and the target platform.
 */
#include "mt_engine_int.h"
#include "mt_typical.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

/* 04: the body stream databases also hold prefilter forms of body pcres */
/* 07: gates (literal slots in the multi-pattern databases), literals for
 * body pcres in the stream databases, whose pattern maps are stored */
#define MT_CACHE_MAGIC "MTHSDB13"

/* ---------- per-rule pcre databases ---------- */

static int
compile_pcres(struct mt_engine *e, struct mt_errors *errs)
{
	int bad = 0;

	for (size_t r = 0; r < e->n_rules; r++) {
		struct mt_rule *rule = e->rules[r];
		for (uint16_t g = 0; g < rule->n_groups; g++) {
			for (uint16_t i = 0; i < rule->groups[g].n; i++) {
				struct mt_item *it = &rule->groups[g].items[i];
				hs_compile_error_t *ce = NULL;

				if (it->type != MT_IT_PCRE)
					continue;
				if (hs_compile(it->re, it->hs_flags | HS_FLAG_ALLOWEMPTY, HS_MODE_BLOCK,
					       NULL, &it->db, &ce) != HS_SUCCESS) {
					mt_err_add(errs, rule->info.file, rule->info.line, "pcre",
						   "Hyperscan cannot compile /%s/: %s", it->re,
						   ce ? ce->message : "unknown error");
					hs_free_compile_error(ce);
					it->db = NULL;
					bad++;
				}
			}
		}
	}
	return bad ? -EINVAL : 0;
}

/* ---------- multi-pattern databases ---------- */

/* One pattern of a multi-pattern database: a rule's fast pattern (a
 * content, or the prefilter form of a pcre), or one literal of a gate. */
struct pat {
	uint32_t tag;          /* rule index | slot << MT_MPM_SLOT_SHIFT */
	const struct mt_item *it;  /* NULL for a gate literal */
	const uint8_t *lit;
	uint32_t len;
	bool caseless;
};

bool
mt_hs_pcre_prefilterable(const struct mt_item *it, int idx)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *ce = NULL;
	bool ok;

	if (it->type != MT_IT_PCRE || (it->flags & MT_F_NEGATED))
		return false;
	/* relative pcres are anchored at a previous match: not over the whole buffer */
	if ((it->flags & MT_F_RELATIVE) && idx > 0)
		return false;
	if (hs_expression_info(it->re, it->hs_flags | HS_FLAG_PREFILTER, &info, &ce) !=
	    HS_SUCCESS) {
		hs_free_compile_error(ce);
		return false;
	}
	/* a regex matching the empty string would select every buffer */
	ok = info->min_width > 0;
	free(info);
	return ok;
}

/* A pcre whose required literals mt_relit can tell: not negated, and not
 * in UTF-8/UCP mode (case folding there is not ASCII's). */
static bool
pcre_analysable(const struct mt_item *it)
{
	return it->type == MT_IT_PCRE && !(it->flags & MT_F_NEGATED) &&
	       !(it->hs_flags & (HS_FLAG_UTF8 | HS_FLAG_UCP));
}

int
mt_hs_pcre_factors(const struct mt_item *it, unsigned class_max, struct mt_relit *f, int max)
{
	if (!pcre_analysable(it))
		return 0;
	return mt_relit_factors(it->re, (it->hs_flags & HS_FLAG_CASELESS) != 0, class_max, f, max);
}

/* Escape a literal for hs_compile_multi. */
char *
mt_hs_escape_lit(const uint8_t *p, uint32_t n)
{
	char *o = malloc((size_t)n * 4 + 1);

	if (o == NULL)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		sprintf(o + i * 4, "\\x%02x", p[i]);
	o[(size_t)n * 4] = '\0';
	return o;
}

/* The bytes a content puts in a database as its fast pattern. */
static void
item_bytes(const struct mt_item *it, const uint8_t **p, uint32_t *l, bool *nocase)
{
	*p = it->pat;
	*l = it->len;
	*nocase = (it->flags & MT_F_NOCASE) != 0;
	if (it->flags & MT_F_FP_CHOP) {
		*p += it->fp_off;
		*l = it->fp_len;
	}
}

static uint32_t
fp_len(const struct mt_item *it)
{
	const uint8_t *p;
	uint32_t l;
	bool nocase;

	if (it->type == MT_IT_PCRE)
		return UINT32_MAX;
	item_bytes(it, &p, &l, &nocase);
	return l;
}

/* The bytes a literal pattern puts in the database. */
static void
pat_bytes(const struct pat *pt, const uint8_t **p, uint32_t *l, bool *nocase)
{
	if (pt->it != NULL) {
		item_bytes(pt->it, p, l, nocase);
		return;
	}
	*p = pt->lit;
	*l = pt->len;
	*nocase = pt->caseless;
}

/* by_first[] of a database with literals kept for direct matching */
static int
direct_index(struct mt_mpm *m, uint32_t nu)
{
	m->by_first = calloc(256, sizeof(uint32_t));
	if (m->by_first == NULL)
		return -ENOMEM;
	for (uint32_t u = 0; u < nu; u++) {
		uint8_t c = m->lit[m->lit_off[u]];

		m->by_first[c] |= 1u << u;
		if (m->lit_ci[u] && isalpha(c))
			m->by_first[c ^ 0x20] |= 1u << u;
	}
	return 0;
}

/* A header_names literal that is CRLF NAME CRLF (exact) or CRLF PREFIX
 * (prefix), NAME/PREFIX non-empty, without CR or LF and at most
 * UINT16_MAX bytes; 0 for any other. */
static int
name_form(const uint8_t *p, size_t l)
{
	bool tail;

	if (l < 3 || p[0] != '\r' || p[1] != '\n')
		return 0;
	tail = l >= 5 && p[l - 2] == '\r' && p[l - 1] == '\n';
	if (l - (tail ? 4 : 2) > UINT16_MAX)
		return 0;
	for (size_t k = 2; k < l - (tail ? 2 : 0); k++)
		if (p[k] == '\r' || p[k] == '\n')
			return 0;
	return tail ? 1 : 2;
}

/* Hash table over the exact names of m->names (mt_name_key). */
static int
names_index(struct mt_mpm *m)
{
	uint32_t size = 16;

	while (size < m->n_exact * 4)
		size *= 2;
	m->name_tab = calloc(size, sizeof(uint32_t));
	if (m->name_tab == NULL)
		return -ENOMEM;
	m->name_mask = size - 1;
	for (uint32_t i = 0; i < m->n_exact; i++) {
		uint32_t h = mt_name_key(m->names[i].p, m->names[i].len) & m->name_mask;

		while (m->name_tab[h] != 0)
			h = (h + 1) & m->name_mask;
		m->name_tab[h] = i + 1;
	}
	return 0;
}

static void
names_free(struct mt_mpm *m)
{
	for (uint32_t i = 0; m->names != NULL && i < m->n_names; i++)
		free(m->names[i].p);
	free(m->names);
	free(m->name_tab);
	m->names = NULL;
	m->name_tab = NULL;
	m->n_names = m->n_exact = 0;
}

/* Take the exact-name and prefix literals of a header_names database out
 * of Hyperscan's reach (struct mt_mpm). Exact names come first in
 * m->names. On return ex/fl/ids/lens[0 .. *nres) are the rest. */
static int
names_split(struct mt_mpm *m, const char **ex, unsigned *fl, unsigned *ids, size_t *lens,
	    uint32_t nu, uint32_t *nres)
{
	uint32_t k = 0;

	*nres = nu;
	m->names = calloc(nu, sizeof(*m->names));
	if (m->names == NULL)
		return -ENOMEM;
	for (int form = 1; form <= 2; form++) {
		for (uint32_t u = 0; u < nu; u++) {
			const uint8_t *p = (const uint8_t *)ex[u];
			struct mt_name_lit *nl = &m->names[m->n_names];
			size_t nl_len;

			if (name_form(p, lens[u]) != form)
				continue;
			nl_len = lens[u] - (form == 1 ? 4 : 2);
			nl->p = malloc(nl_len);
			if (nl->p == NULL)
				return -ENOMEM;
			memcpy(nl->p, p + 2, nl_len);
			nl->len = (uint16_t)nl_len;
			nl->id = ids[u];
			nl->ci = (fl[u] & HS_FLAG_CASELESS) != 0;
			nl->prefix = form == 2;
			m->n_names++;
			if (form == 1)
				m->n_exact++;
		}
	}
	if (m->n_names == 0) {
		names_free(m);
		return 0;
	}
	for (uint32_t u = 0; u < nu; u++) {
		if (name_form((const uint8_t *)ex[u], lens[u]) != 0)
			continue;
		ex[k] = ex[u];
		fl[k] = fl[u];
		ids[k] = ids[u];
		lens[k] = lens[u];
		k++;
	}
	*nres = k;
	return names_index(m);
}

/* Compile one (side, buffer) database. Equal literals (the same fast
 * pattern or gate in several rules) become one Hyperscan pattern whose
 * match reaches every rule|slot in rule_of[first[id]..first[id+1]): fewer
 * literals scan faster, and each match calls back once. */
static int
compile_mpm(struct mt_mpm *m, struct pat *pats, uint32_t n, struct mt_errors *errs)
{
	bool any_re = false;
	const char **ex = calloc(n, sizeof(*ex));
	char **owned = calloc(n, sizeof(*owned));
	unsigned *fl = calloc(n, sizeof(*fl)), *ids = calloc(n, sizeof(*ids));
	size_t *lens = calloc(n, sizeof(*lens));
	uint32_t *uid = calloc(n, sizeof(*uid)), *rep = calloc(n, sizeof(*rep));
	uint32_t *cur = calloc(n + 1, sizeof(*cur)), nu = 0, nres;
	hs_compile_error_t *ce = NULL;
	hs_error_t rc;
	int ret = 0;

	m->rule_of = malloc(sizeof(uint32_t) * n);
	m->first = calloc(n + 1, sizeof(uint32_t));
	if (ex == NULL || owned == NULL || fl == NULL || ids == NULL || lens == NULL ||
	    uid == NULL || rep == NULL || cur == NULL || m->rule_of == NULL || m->first == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		any_re = any_re || (pats[i].it != NULL && pats[i].it->type == MT_IT_PCRE);
	for (uint32_t i = 0; i < n; i++) {
		const struct mt_item *it = pats[i].it;
		const uint8_t *p;
		uint32_t l, u;
		bool nocase;

		if (it != NULL && it->type == MT_IT_PCRE) {
			ex[nu] = it->re;
			fl[nu] = it->hs_flags | HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH;
			ids[nu] = nu;
			rep[nu] = i;
			uid[i] = nu++;
			continue;
		}
		pat_bytes(&pats[i], &p, &l, &nocase);
		for (u = 0; u < nu; u++) {
			const uint8_t *q;
			uint32_t ql;
			bool qc;

			if (pats[rep[u]].it != NULL && pats[rep[u]].it->type == MT_IT_PCRE)
				continue;
			pat_bytes(&pats[rep[u]], &q, &ql, &qc);
			if (ql == l && qc == nocase && memcmp(q, p, l) == 0)
				break;
		}
		uid[i] = u;
		if (u < nu)
			continue;
		rep[nu] = i;
		ids[nu] = nu;
		fl[nu] = nocase ? HS_FLAG_CASELESS : 0;
		if (any_re) {
			owned[nu] = mt_hs_escape_lit(p, l);
			if (owned[nu] == NULL) {
				ret = -ENOMEM;
				goto out;
			}
			ex[nu] = owned[nu];
		} else {
			ex[nu] = (const char *)p;
			lens[nu] = l;
		}
		nu++;
	}
	/* small literal databases keep their literals for direct matching */
	if (!any_re && nu <= MT_MPM_DIRECT_MAX) {
		size_t tot = 0;

		for (uint32_t u = 0; u < nu; u++)
			tot += lens[u];
		m->lit = malloc(tot + 1);
		m->lit_off = malloc(sizeof(uint32_t) * (nu + 1));
		m->lit_ci = malloc(nu);
		if (m->lit == NULL || m->lit_off == NULL || m->lit_ci == NULL) {
			ret = -ENOMEM;
			goto out;
		}
		m->lit_off[0] = 0;
		for (uint32_t u = 0; u < nu; u++) {
			memcpy(m->lit + m->lit_off[u], ex[u], lens[u]);
			m->lit_off[u + 1] = m->lit_off[u] + (uint32_t)lens[u];
			m->lit_ci[u] = (fl[u] & HS_FLAG_CASELESS) != 0;
		}
		if (direct_index(m, nu) < 0) {
			ret = -ENOMEM;
			goto out;
		}
	}
	/* targets grouped by pattern id, in rule order within a group */
	for (uint32_t i = 0; i < n; i++)
		m->first[uid[i] + 1]++;
	for (uint32_t u = 0; u < nu; u++)
		m->first[u + 1] += m->first[u];
	memcpy(cur, m->first, sizeof(*cur) * (nu + 1));
	for (uint32_t i = 0; i < n; i++)
		m->rule_of[cur[uid[i]]++] = pats[i].tag;
	nres = nu;
	if (!any_re && MT_BUFID_KIND(m->buf) == MT_B_HEADER_NAMES &&
	    (ret = names_split(m, ex, fl, ids, lens, nu, &nres)) < 0)
		goto out;
	if (nres == 0)
		rc = HS_SUCCESS; /* every literal is looked up by name */
	else if (any_re)
		rc = hs_compile_multi(ex, fl, ids, nres, HS_MODE_BLOCK, NULL, &m->db, &ce);
	else
		rc = hs_compile_lit_multi(ex, fl, ids, lens, nres, HS_MODE_BLOCK, NULL, &m->db, &ce);
	if (rc != HS_SUCCESS) {
		mt_err_add(errs, "<engine>", 0, "fast_pattern",
			   "Hyperscan cannot compile the %s database: %s",
			   mt_buf_name(MT_BUFID_KIND(m->buf)), ce ? ce->message : "unknown error");
		hs_free_compile_error(ce);
		m->db = NULL;
		ret = -EINVAL;
	}
out:
	if (owned != NULL)
		for (uint32_t i = 0; i < n; i++)
			free(owned[i]);
	free(owned);
	free(ex);
	free(fl);
	free(ids);
	free(lens);
	free(uid);
	free(rep);
	free(cur);
	m->n = n;
	m->n_ids = nu;
	return ret;
}

/* One gate: a factor of one of the rule's pcres (mt_relit.c), in slot
 * 1..MT_MPM_MAX_SLOT of the rule. */
struct gate {
	uint32_t rule;
	uint8_t slot;
	uint8_t buf;
	struct mt_relit f;
};

static int
add_gate(struct gate **gv, size_t *n, size_t *cap, struct gate g)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct gate *nv = realloc(*gv, sizeof(**gv) * nc);

		if (nv == NULL)
			return -ENOMEM;
		*gv = nv;
		*cap = nc;
	}
	(*gv)[(*n)++] = g;
	return 0;
}

/* Gates of rule @p r from every non-negated pcre of its header-side
 * groups. A factor of a relative pcre occurs in the part of the buffer the
 * pcre scans, so in the buffer too: it is as necessary as any other. A
 * factor that the buffer's ordinary-traffic sample holds ("Bearer",
 * "?limit=", "Content-Type: ") is no gate: it passes on ordinary traffic,
 * and its literals would make every scan of the database dearer (on the
 * benchmark capture, such gates cost more than all the confirmations they
 * spared; docs/BENCHMARKS.md). */
static int
collect_gates(const struct mt_rule *rule, uint32_t r, struct gate **gv, size_t *n, size_t *cap)
{
	uint8_t slot = 1;

	for (uint16_t g = 0; g < rule->n_groups; g++) {
		const struct mt_group *grp = &rule->groups[g];
		const char *typical = mt_typical_of(grp->buf);

		if (mt_buf_kind_is_body(MT_BUFID_KIND(grp->buf)))
			continue;
		for (uint16_t i = 0; i < grp->n && slot <= MT_MPM_MAX_SLOT; i++) {
			struct mt_relit f[2];
			int nf = mt_hs_pcre_factors(&grp->items[i], MT_RELIT_CLASS_HEAD, f, 2);

			if (nf < 0)
				return nf;
			for (int k = 0; k < nf && slot <= MT_MPM_MAX_SLOT; k++) {
				int rc;

				/* a factor that ordinary traffic holds passes on
				 * it: it would filter nothing there, and every scan
				 * of the database would pay for its literals */
				if (typical != NULL && mt_relit_in(&f[k], typical, strlen(typical)))
					continue;
				rc = add_gate(gv, n, cap, (struct gate){r, slot++, grp->buf, f[k]});

				if (rc < 0)
					return rc;
			}
		}
	}
	return 0;
}

/* Does fast pattern @p it of buffer @p buf occur in ordinary traffic? Yes
 * when the buffer has no sample. */
static bool
fp_typical(const struct mt_item *it, uint8_t buf)
{
	const uint8_t *p;
	uint32_t l;
	bool nocase;

	if (mt_typical_of(buf) == NULL || it->type == MT_IT_PCRE)
		return true;
	item_bytes(it, &p, &l, &nocase);
	return mt_typical_has(p, l, nocase, buf);
}

/* Rule @p r has no gate of three bytes: the first factor of its
 * header-side pcres whose strings are at least @p minlen bytes, and do not
 * occur in ordinary traffic, gates it. */
static int
fallback_gate(const struct mt_rule *rule, uint32_t r, uint32_t minlen, struct gate **gv, size_t *n,
	      size_t *cap)
{
	for (uint16_t g = 0; g < rule->n_groups; g++) {
		const struct mt_group *grp = &rule->groups[g];
		const char *typical = mt_typical_of(grp->buf);

		if (mt_buf_kind_is_body(MT_BUFID_KIND(grp->buf)))
			continue;
		for (uint16_t i = 0; i < grp->n; i++) {
			const struct mt_item *it = &grp->items[i];
			struct mt_relit *f;
			int nf;

			if (!pcre_analysable(it))
				continue;
			f = malloc(sizeof(*f) * 4);
			if (f == NULL)
				return -ENOMEM;
			nf = mt_relit_fallback(it->re, (it->hs_flags & HS_FLAG_CASELESS) != 0,
					       MT_RELIT_CLASS_HEAD, minlen, f, 4);
			for (int k = 0; k < nf; k++) {
				if (typical == NULL || !mt_relit_in(&f[k], typical, strlen(typical))) {
					int rc = add_gate(gv, n, cap, (struct gate){r, 1, grp->buf, f[k]});

					free(f);
					return rc;
				}
			}
			free(f);
			if (nf < 0)
				return nf;
		}
	}
	return 0;
}

static int
build_mpms(struct mt_engine *e, struct mt_errors *errs)
{
	struct pat *pats = NULL;
	/* 1 fast pattern in a database, 2 gates only, 0 always-evaluate */
	int8_t *slot = malloc(e->n_rules + 1);
	const struct mt_item **src = calloc(e->n_rules + 1, sizeof(*src));
	uint8_t *srcbuf = calloc(e->n_rules + 1, 1);
	struct gate *gates = NULL;
	size_t n_gates = 0, cap_gates = 0, n_lits = 0;
	int ret = 0;

	if (slot == NULL || src == NULL || srcbuf == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	if (e->n_rules > MT_MPM_RULE_MASK) {
		ret = -E2BIG;
		goto out;
	}
	for (size_t r = 0; r < e->n_rules; r++) {
		const struct mt_rule *rule = e->rules[r];
		const struct mt_item *fp;
		size_t g0 = n_gates;
		uint32_t fl; /* fast pattern length, 0 without one */

		slot[r] = 0;
		if (rule->body_dir >= 0) {
			slot[r] = -1; /* decided by the body matcher (mt_body.c) */
			continue;
		}
		ret = collect_gates(rule, (uint32_t)r, &gates, &n_gates, &cap_gates);
		if (ret < 0)
			goto out;
		fp = rule->fp_group >= 0 ? &rule->groups[rule->fp_group].items[rule->fp_item]
					 : NULL;
		fl = fp != NULL ? fp_len(fp) : 0;
		/* No literal of three bytes selects the rule: a gate of a pcre's
		 * shorter literals (longer than a one- or two-byte fast pattern
		 * such as "{" or "${") keeps the prefilter regex, or that fast
		 * pattern, out of the database, which it would make dearer to
		 * scan than it selects. */
		if (fl < MT_RELIT_MINLEN && n_gates == g0) {
			ret = fallback_gate(rule, (uint32_t)r, fl + 1, &gates, &n_gates, &cap_gates);
			if (ret < 0)
				goto out;
		}
		if (fl < MT_RELIT_MINLEN && n_gates > g0) {
			slot[r] = 2; /* literal gates select the rule alone */
		} else if (fp != NULL) {
			src[r] = fp;
			srcbuf[r] = rule->groups[rule->fp_group].buf;
			slot[r] = 1;
			/* a fast pattern that ordinary traffic lacks selects its
			 * rule rarely enough alone: gates would only make every
			 * scan of their databases dearer */
			if (!fp_typical(fp, srcbuf[r]))
				n_gates = g0;
		}
		for (uint16_t g = 0; g < rule->n_groups && !slot[r]; g++) {
			for (uint16_t i = 0; i < rule->groups[g].n; i++) {
				if (mt_hs_pcre_prefilterable(&rule->groups[g].items[i], i)) {
					src[r] = &rule->groups[g].items[i];
					srcbuf[r] = rule->groups[g].buf;
					slot[r] = 1;
					break;
				}
			}
		}
	}
	for (size_t k = 0; k < n_gates; k++)
		n_lits += gates[k].f.n;
	pats = malloc(sizeof(*pats) * (e->n_rules + n_lits + 1));
	if (pats == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t r = 0; r < e->n_rules; r++) {
		if (slot[r] == 0) {
			uint8_t side = e->rules[r]->eval_side;
			uint32_t *nv = realloc(e->always[side], sizeof(uint32_t) *
					       (e->n_always[side] + 1));
			if (nv == NULL) {
				ret = -ENOMEM;
				goto out;
			}
			e->always[side] = nv;
			nv[e->n_always[side]++] = (uint32_t)r;
		}
	}
	for (uint8_t side = 0; side < 2; side++) {
		for (uint8_t buf = 0; buf < MT_NBUFID; buf++) {
			uint32_t n = 0;
			struct mt_mpm *m = &e->mpm[e->n_mpm];

			for (size_t r = 0; r < e->n_rules; r++)
				if (slot[r] == 1 && e->rules[r]->eval_side == side && srcbuf[r] == buf)
					pats[n++] = (struct pat){.tag = (uint32_t)r, .it = src[r]};
			for (size_t k = 0; k < n_gates; k++) {
				const struct gate *gt = &gates[k];

				if (e->rules[gt->rule]->eval_side != side || gt->buf != buf)
					continue;
				for (uint16_t j = 0; j < gt->f.n; j++)
					pats[n++] = (struct pat){
						.tag = gt->rule | (uint32_t)gt->slot << MT_MPM_SLOT_SHIFT,
						.lit = gt->f.s[j], .len = gt->f.len[j],
						.caseless = gt->f.caseless};
			}
			if (n == 0)
				continue;
			m->side = side;
			m->buf = buf;
			ret = compile_mpm(m, pats, n, errs);
			e->n_mpm++; /* on error too: mt_hs_free releases it */
			if (ret < 0)
				goto out;
		}
	}
out:
	free(pats);
	free(slot);
	free(src);
	free(srcbuf);
	free(gates);
	return ret;
}

/* need[r]: the slots (fast pattern, gates) of rule r that the databases
 * hold, as a bit mask. Derived from the tables, so it holds for databases
 * read from the cache too. */
static int
count_need(struct mt_engine *e)
{
	free(e->need);
	e->need = calloc(e->n_rules + 1, 1);
	if (e->need == NULL)
		return -ENOMEM;
	for (size_t m = 0; m < e->n_mpm; m++)
		for (uint32_t k = 0; k < e->mpm[m].n; k++) {
			uint32_t v = e->mpm[m].rule_of[k];

			e->need[v & MT_MPM_RULE_MASK] |= (uint8_t)(1u << (v >> MT_MPM_SLOT_SHIFT));
		}
	return 0;
}

/* ---------- cache ---------- */

/* Every byte written or read goes through a CRC-32: a damaged cache file
 * is detected even where Hyperscan's own checks would not notice. */
static __thread uLong mt_cache_crc;

static bool
wr(FILE *f, const void *p, size_t n)
{
	if (n == 0)
		return true; /* crc32(crc, NULL, 0) would reset the CRC */
	mt_cache_crc = crc32(mt_cache_crc, p, (uInt)n);
	return fwrite(p, 1, n, f) == n;
}

static bool
rd(FILE *f, void *p, size_t n)
{
	if (n == 0)
		return true;
	if (fread(p, 1, n, f) != n)
		return false;
	mt_cache_crc = crc32(mt_cache_crc, p, (uInt)n);
	return true;
}

static bool
wr_db(FILE *f, const hs_database_t *db)
{
	char *bytes = NULL;
	size_t len = 0;
	uint64_t l64;
	bool ok;

	if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return false;
	l64 = len;
	ok = wr(f, &l64, sizeof(l64)) && wr(f, bytes, len);
	free(bytes);
	return ok;
}

static hs_database_t *
rd_db(FILE *f)
{
	uint64_t len;
	char *bytes;
	hs_database_t *db = NULL;

	if (!rd(f, &len, sizeof(len)) || len == 0 || len > (1ull << 31))
		return NULL;
	bytes = malloc(len);
	if (bytes != NULL && rd(f, bytes, len) &&
	    hs_deserialize_database(bytes, len, &db) != HS_SUCCESS)
		db = NULL;
	free(bytes);
	return db;
}

static void
cache_save(struct mt_engine *e)
{
	char tmp[600];
	FILE *f;
	bool ok = true;
	uint64_t n;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", e->cache_path, (int)getpid());
	f = fopen(tmp, "wb");
	if (f == NULL)
		return;
	mt_cache_crc = crc32(0, NULL, 0);
	ok = wr(f, MT_CACHE_MAGIC, 8);
	for (size_t r = 0; ok && r < e->n_rules; r++)
		for (uint16_t g = 0; ok && g < e->rules[r]->n_groups; g++)
			for (uint16_t i = 0; ok && i < e->rules[r]->groups[g].n; i++)
				if (e->rules[r]->groups[g].items[i].type == MT_IT_PCRE)
					ok = wr_db(f, e->rules[r]->groups[g].items[i].db);
	n = e->n_mpm;
	ok = ok && wr(f, &n, sizeof(n));
	for (size_t m = 0; ok && m < e->n_mpm; m++) {
		const struct mt_mpm *mp = &e->mpm[m];
		ok = wr(f, &mp->side, 1) && wr(f, &mp->buf, 1) && wr(f, &mp->n, sizeof(mp->n)) &&
		     wr(f, mp->rule_of, sizeof(uint32_t) * mp->n) &&
		     wr(f, &mp->n_ids, sizeof(mp->n_ids)) &&
		     wr(f, mp->first, sizeof(uint32_t) * (mp->n_ids + 1));
		{
			uint8_t direct = mp->lit != NULL;

			ok = ok && wr(f, &direct, 1);
			if (ok && direct)
				ok = wr(f, mp->lit_off, sizeof(uint32_t) * (mp->n_ids + 1)) &&
				     wr(f, mp->lit, mp->lit_off[mp->n_ids]) &&
				     wr(f, mp->lit_ci, mp->n_ids);
		}
		{
			uint32_t nn = mp->n_names, ne = mp->n_exact;
			uint8_t has_db = mp->db != NULL;

			ok = ok && wr(f, &nn, sizeof(nn)) && wr(f, &ne, sizeof(ne));
			for (uint32_t k = 0; ok && k < nn; k++) {
				const struct mt_name_lit *nl = &mp->names[k];

				ok = wr(f, &nl->id, sizeof(nl->id)) && wr(f, &nl->len, sizeof(nl->len)) &&
				     wr(f, &nl->ci, 1) && wr(f, &nl->prefix, 1) && wr(f, nl->p, nl->len);
			}
			ok = ok && wr(f, &has_db, 1);
			if (ok && has_db)
				ok = wr_db(f, mp->db);
		}
	}
	for (int s = 0; ok && s < 2; s++) {
		n = e->n_always[s];
		ok = wr(f, &n, sizeof(n)) && wr(f, e->always[s], sizeof(uint32_t) * n);
	}
	/* streaming body databases; their pattern maps follow from the rules
	 * (mt_stream_index), and are stored too: a load whose index differs
	 * (another analysis of the same rules) must not take the database */
	for (int d = 0; ok && d < 2; d++) {
		n = e->body[d].n_pat;
		ok = wr(f, &n, sizeof(n)) &&
		     wr(f, e->body[d].local_of, sizeof(uint32_t) * e->body[d].n_pat);
		if (ok && e->body[d].n_pat > 0)
			ok = wr_db(f, e->body[d].db);
	}
	if (ok) {
		uint32_t crc = (uint32_t)mt_cache_crc;
		ok = fwrite(&crc, 1, sizeof(crc), f) == sizeof(crc);
	}
	if (fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, e->cache_path) != 0)
		unlink(tmp);
}

static void
cache_reset(struct mt_engine *e)
{
	mt_hs_free(e);
	mt_stream_index(e); /* mt_hs_free dropped it with the databases */
	e->from_cache = false;
}

static bool
cache_load(struct mt_engine *e)
{
	FILE *f = fopen(e->cache_path, "rb");
	char magic[8];
	uint64_t n;
	bool ok;
	char *file = NULL;
	long flen = -1;
	uint32_t crc;

	if (f == NULL)
		return false;
	/* check the CRC over the whole file before Hyperscan sees any byte */
	if (fseek(f, 0, SEEK_END) == 0 && (flen = ftell(f)) > 12 && fseek(f, 0, SEEK_SET) == 0 &&
	    (file = malloc((size_t)flen)) != NULL && fread(file, 1, (size_t)flen, f) == (size_t)flen)
		ok = true;
	else
		ok = false;
	fclose(f);
	if (ok) {
		memcpy(&crc, file + flen - 4, 4);
		ok = crc == (uint32_t)crc32(crc32(0, NULL, 0), (const Bytef *)file, (uInt)(flen - 4));
	}
	f = ok ? fmemopen(file, (size_t)flen - 4, "rb") : NULL;
	if (f == NULL) {
		free(file);
		return false;
	}
	mt_cache_crc = crc32(0, NULL, 0);
	ok = rd(f, magic, 8) && memcmp(magic, MT_CACHE_MAGIC, 8) == 0;
	for (size_t r = 0; ok && r < e->n_rules; r++)
		for (uint16_t g = 0; ok && g < e->rules[r]->n_groups; g++)
			for (uint16_t i = 0; ok && i < e->rules[r]->groups[g].n; i++) {
				struct mt_item *it = &e->rules[r]->groups[g].items[i];
				if (it->type == MT_IT_PCRE)
					ok = (it->db = rd_db(f)) != NULL;
			}
	ok = ok && rd(f, &n, sizeof(n)) && n <= MT_NBUFID * 2;
	for (size_t m = 0; ok && m < n; m++) {
		struct mt_mpm *mp = &e->mpm[m];
		ok = rd(f, &mp->side, 1) && rd(f, &mp->buf, 1) && rd(f, &mp->n, sizeof(mp->n)) &&
		     mp->side < 2 && mp->buf < MT_NBUFID && mp->n <= MT_MPM_RULE_MASK && mp->n > 0;
		if (ok) {
			mp->rule_of = malloc(sizeof(uint32_t) * mp->n);
			ok = mp->rule_of != NULL && rd(f, mp->rule_of, sizeof(uint32_t) * mp->n);
			e->n_mpm = m + 1;
		}
		for (uint32_t k = 0; ok && k < mp->n; k++)
			ok = (mp->rule_of[k] & MT_MPM_RULE_MASK) < e->n_rules &&
			     (mp->rule_of[k] >> MT_MPM_SLOT_SHIFT) <= MT_MPM_MAX_SLOT;
		ok = ok && rd(f, &mp->n_ids, sizeof(mp->n_ids)) && mp->n_ids > 0 &&
		     mp->n_ids <= mp->n;
		if (ok) {
			mp->first = malloc(sizeof(uint32_t) * (mp->n_ids + 1));
			ok = mp->first != NULL &&
			     rd(f, mp->first, sizeof(uint32_t) * (mp->n_ids + 1)) &&
			     mp->first[0] == 0 && mp->first[mp->n_ids] == mp->n;
		}
		/* every id has at least one target */
		for (uint32_t k = 0; ok && k < mp->n_ids; k++)
			ok = mp->first[k] < mp->first[k + 1];
		{
			uint8_t direct = 0;

			ok = ok && rd(f, &direct, 1) && direct <= 1 &&
			     (!direct || mp->n_ids <= MT_MPM_DIRECT_MAX);
			if (ok && direct) {
				mp->lit_off = malloc(sizeof(uint32_t) * (mp->n_ids + 1));
				mp->lit_ci = malloc(mp->n_ids);
				ok = mp->lit_off != NULL && mp->lit_ci != NULL &&
				     rd(f, mp->lit_off, sizeof(uint32_t) * (mp->n_ids + 1)) &&
				     mp->lit_off[0] == 0 && mp->lit_off[mp->n_ids] <= 1u << 20;
				for (uint32_t k = 0; ok && k < mp->n_ids; k++)
					ok = mp->lit_off[k] < mp->lit_off[k + 1];
				if (ok) {
					mp->lit = malloc(mp->lit_off[mp->n_ids] + 1);
					ok = mp->lit != NULL &&
					     rd(f, mp->lit, mp->lit_off[mp->n_ids]) &&
					     rd(f, mp->lit_ci, mp->n_ids) &&
					     direct_index(mp, mp->n_ids) == 0;
				}
			}
		}
		{
			uint32_t nn = 0, ne = 0;
			uint8_t has_db = 0;

			ok = ok && rd(f, &nn, sizeof(nn)) && rd(f, &ne, sizeof(ne)) &&
			     nn <= mp->n_ids && ne <= nn &&
			     (nn == 0 || MT_BUFID_KIND(mp->buf) == MT_B_HEADER_NAMES);
			if (ok && nn > 0) {
				mp->names = calloc(nn, sizeof(*mp->names));
				ok = mp->names != NULL;
			}
			for (uint32_t k = 0; ok && k < nn; k++) {
				struct mt_name_lit *nl = &mp->names[k];

				ok = rd(f, &nl->id, sizeof(nl->id)) && rd(f, &nl->len, sizeof(nl->len)) &&
				     rd(f, &nl->ci, 1) && rd(f, &nl->prefix, 1) && nl->id < mp->n_ids &&
				     nl->len > 0 && nl->ci <= 1 && nl->prefix == (k >= ne);
				if (ok) {
					nl->p = malloc(nl->len);
					ok = nl->p != NULL && rd(f, nl->p, nl->len);
					mp->n_names = k + 1;
				}
			}
			if (ok && nn > 0) {
				mp->n_exact = ne;
				ok = names_index(mp) == 0;
			}
			ok = ok && rd(f, &has_db, 1) && has_db <= 1 && (has_db || nn > 0);
			if (ok && has_db)
				ok = (mp->db = rd_db(f)) != NULL;
		}
	}
	for (int s = 0; ok && s < 2; s++) {
		ok = rd(f, &n, sizeof(n)) && n <= e->n_rules;
		if (ok && n > 0) {
			e->always[s] = malloc(sizeof(uint32_t) * n);
			ok = e->always[s] != NULL && rd(f, e->always[s], sizeof(uint32_t) * n);
			e->n_always[s] = n;
		}
		for (uint64_t k = 0; ok && k < n; k++)
			ok = e->always[s][k] < e->n_rules;
	}
	for (int d = 0; ok && d < 2; d++) {
		struct mt_body_idx *bi = &e->body[d];

		ok = rd(f, &n, sizeof(n)) && n == bi->n_pat;
		for (uint64_t k = 0; ok && k < n; k++) {
			uint32_t v;

			ok = rd(f, &v, sizeof(v)) && v == bi->local_of[k];
		}
		if (ok && bi->n_pat > 0)
			ok = (bi->db = rd_db(f)) != NULL;
	}
	ok = ok && fgetc(f) == EOF;
	fclose(f);
	free(file);
	if (!ok)
		cache_reset(e);
	else
		e->from_cache = true;
	return ok;
}

/* ---------- build ---------- */

/* Does every address (or port) match @p a? Only when it has no negated
 * entry and is empty or holds "any" (family 0 / 0:65535). */
static bool
addrs_all(const struct mt_addrset *a)
{
	bool any = a->n == 0;

	for (uint16_t i = 0; i < a->n; i++) {
		if (a->v[i].neg)
			return false;
		any = any || a->v[i].family == 0;
	}
	return any;
}

static bool
ports_all(const struct mt_portset *a)
{
	bool any = a->n == 0;

	for (uint16_t i = 0; i < a->n; i++) {
		if (a->v[i].neg)
			return false;
		any = any || (a->v[i].lo == 0 && a->v[i].hi == 65535);
	}
	return any;
}

static int
grow_scratch(const struct mt_engine *e, hs_scratch_t **s)
{
	for (size_t r = 0; r < e->n_rules; r++)
		for (uint16_t g = 0; g < e->rules[r]->n_groups; g++)
			for (uint16_t i = 0; i < e->rules[r]->groups[g].n; i++) {
				const struct mt_item *it = &e->rules[r]->groups[g].items[i];
				if (it->type == MT_IT_PCRE && hs_alloc_scratch(it->db, s) != HS_SUCCESS)
					return -ENOMEM;
			}
	for (size_t m = 0; m < e->n_mpm; m++)
		if (e->mpm[m].db != NULL && hs_alloc_scratch(e->mpm[m].db, s) != HS_SUCCESS)
			return -ENOMEM;
	for (int d = 0; d < 2; d++)
		if (e->body[d].db != NULL && hs_alloc_scratch(e->body[d].db, s) != HS_SUCCESS)
			return -ENOMEM;
	return 0;
}

int
mt_hs_build(struct mt_engine *e, const struct mt_engine_params *p, struct mt_errors *errs,
	    uint64_t key_lo, uint64_t key_hi)
{
	int rc;
	bool cached = false;

	/* which buffers each side must build for confirmation */
	for (size_t r = 0; r < e->n_rules; r++) {
		struct mt_rule *rule = e->rules[r];

		/* most rules say "any any -> any any": skip the per-candidate walk */
		rule->addr_any = addrs_all(&rule->src) && addrs_all(&rule->dst) &&
				 ports_all(&rule->sp) && ports_all(&rule->dp);
		for (uint16_t g = 0; g < rule->n_groups; g++)
			e->uses_buf[rule->eval_side][rule->groups[g].buf] = 1;
		if (rule->threshold.type != MT_THR_NONE ||
		    rule->detection_filter.type != MT_THR_NONE)
			e->n_thr_rules++;
	}
	e->max_bodies = p != NULL && p->max_bodies > 0 ? p->max_bodies : MT_BODY_DEFAULT_MAX;
	rc = mt_stream_index(e);
	if (rc < 0)
		return rc;
	if (p != NULL && p->cache_dir != NULL && p->cache_dir[0] != '\0') {
		hs_platform_info_t plat;
		const char *ver = hs_version();
		uint64_t h = 0xcbf29ce484222325ull;

		memset(&plat, 0, sizeof(plat));
		hs_populate_platform(&plat);
		for (const char *c = ver; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
		for (size_t i = 0; i < sizeof(plat); i++)
			h = (h ^ ((const uint8_t *)&plat)[i]) * 0x100000001b3ull;
		snprintf(e->cache_path, sizeof(e->cache_path), "%s/mt-%016" PRIx64 "%016" PRIx64
			 "-%016" PRIx64 ".hsdb", p->cache_dir, key_lo, key_hi, h);
		mkdir(p->cache_dir, 0755);
		cached = cache_load(e);
	}
	if (!cached) {
		rc = compile_pcres(e, errs);
		if (rc == 0)
			rc = build_mpms(e, errs);
		if (rc == 0)
			rc = mt_stream_compile(e, errs);
		if (rc < 0)
			return rc;
		if (e->cache_path[0] != '\0')
			cache_save(e);
	}
	rc = count_need(e);
	if (rc == 0)
		rc = grow_scratch(e, &e->proto);
	return rc;
}

void
mt_hs_free(struct mt_engine *e)
{
	for (size_t r = 0; r < e->n_rules; r++)
		for (uint16_t g = 0; g < e->rules[r]->n_groups; g++)
			for (uint16_t i = 0; i < e->rules[r]->groups[g].n; i++) {
				struct mt_item *it = &e->rules[r]->groups[g].items[i];
				if (it->type == MT_IT_PCRE && it->db != NULL) {
					hs_free_database(it->db);
					it->db = NULL;
				}
			}
	for (size_t m = 0; m < e->n_mpm; m++) {
		hs_free_database(e->mpm[m].db);
		free(e->mpm[m].rule_of);
		free(e->mpm[m].first);
		free(e->mpm[m].lit);
		free(e->mpm[m].lit_off);
		free(e->mpm[m].lit_ci);
		free(e->mpm[m].by_first);
		names_free(&e->mpm[m]);
		memset(&e->mpm[m], 0, sizeof(e->mpm[m]));
	}
	e->n_mpm = 0;
	free(e->need);
	e->need = NULL;
	for (int s = 0; s < 2; s++) {
		free(e->always[s]);
		e->always[s] = NULL;
		e->n_always[s] = 0;
	}
	mt_stream_free(e);
	if (e->proto != NULL) {
		hs_free_scratch(e->proto);
		e->proto = NULL;
	}
}

/* ---------- scratch ---------- */

static int
grow_cand(struct mt_scratch *s, size_t n_rules)
{
	uint32_t *m, *c, *fe;
	uint8_t *h;

	if (n_rules <= s->cap_rules)
		return 0;
	m = calloc(n_rules, sizeof(*m));
	c = calloc(n_rules, sizeof(*c));
	fe = calloc(n_rules, sizeof(*fe));
	h = calloc(n_rules, sizeof(*h));
	if (m == NULL || c == NULL || fe == NULL || h == NULL) {
		free(m);
		free(c);
		free(fe);
		free(h);
		return -ENOMEM;
	}
	free(s->cand_mark);
	free(s->cand);
	free(s->cand_fp_end);
	free(s->cand_hits);
	s->cand_mark = m;
	s->cand = c;
	s->cand_fp_end = fe;
	s->cand_hits = h;
	s->cap_rules = (uint32_t)n_rules;
	s->epoch = 0;
	return 0;
}

struct mt_scratch *
mt_scratch_create(const struct mt_engine *e)
{
	struct mt_scratch *s;

	if (e == NULL) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if ((e->proto != NULL && hs_clone_scratch(e->proto, &s->hs) != HS_SUCCESS) ||
	    grow_cand(s, e->n_rules) < 0 || mt_body_pool_prepare(s, e) < 0) {
		mt_scratch_destroy(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

int
mt_scratch_prepare(struct mt_scratch *s, const struct mt_engine *e)
{
	int rc;

	if (s == NULL || e == NULL)
		return -EINVAL;
	if (grow_scratch(e, &s->hs) < 0)
		return -ENOMEM;
	rc = grow_cand(s, e->n_rules);
	if (rc == 0)
		rc = mt_body_pool_prepare(s, e);
	return rc;
}

void
mt_scratch_destroy(struct mt_scratch *s)
{
	if (s == NULL)
		return;
	if (s->hs != NULL)
		hs_free_scratch(s->hs);
	mt_body_pool_free(s);
	free(s->cand_mark);
	free(s->cand);
	free(s->cand_fp_end);
	free(s->cand_hits);
	free(s);
}
