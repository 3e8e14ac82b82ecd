/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Required literals of a regex (see mt_relit.h), after the prefilter
 * analysis of RE2 (prefilter.cc): every node yields
 *   - an exact set, when it matches exactly one of a few short strings
 *     ("colou?r" -> {color, colour}), and
 *   - up to two factors: sets of which every match contains a member.
 * Concatenation crosses adjacent exact sets while they stay small;
 * alternation unions the branches' exact sets, or their best factors; a
 * part that may repeat zero times contributes nothing. Anything unknown is
 * "matches anything", which keeps every result a necessary condition.
 */
#include "mt_relit.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RL_MAXDEPTH 64
#define RL_NF 4 /* factors kept per node; the best two are output */
#define RL_REP_MAX 8     /* x{n} with n up to this is crossed out */

static const char rl_space[] = " \t\n\v\f\r"; /* \s */

/* A node is exact (it matches exactly one of the strings of ex), or it may
 * still say how every match begins (pre) or ends (suf): "x+" with x exact
 * begins and ends with a string of x, "ab.*cd" begins with "ab" and ends
 * with "cd". A concatenation crosses its neighbours' runs with them. */
struct rl_info {
	bool exact;
	bool prefix, suffix;
	struct mt_relit ex, pre, suf;
	int nf;
	struct mt_relit f[RL_NF];
};

struct rl_st {
	const char *p;
	size_t i, n;
	bool caseless;
	unsigned class_max;
	bool bad;
	bool nomem;
	int depth;
};

/* ---------- sets ---------- */

static uint8_t
fold(const struct rl_st *st, uint8_t c)
{
	return st->caseless ? (uint8_t)tolower(c) : c;
}

static bool
set_has(const struct mt_relit *s, const uint8_t *b, uint8_t len)
{
	for (uint16_t k = 0; k < s->n; k++)
		if (s->len[k] == len && memcmp(s->s[k], b, len) == 0)
			return true;
	return false;
}

static bool
set_add(struct mt_relit *s, const uint8_t *b, uint8_t len)
{
	if (set_has(s, b, len))
		return true;
	if (s->n >= MT_RELIT_MAXSET)
		return false;
	memcpy(s->s[s->n], b, len);
	s->len[s->n++] = len;
	return true;
}

static void
set_char(struct mt_relit *s, uint8_t c)
{
	s->n = 1;
	s->len[0] = 1;
	s->s[0][0] = c;
}

/* a = a x b; false when the product is too big (a unchanged) */
static bool
set_cross(struct mt_relit *a, const struct mt_relit *b, struct mt_relit *tmp)
{
	if ((unsigned)a->n * b->n > MT_RELIT_MAXSET)
		return false;
	tmp->n = 0;
	for (uint16_t i = 0; i < a->n; i++)
		for (uint16_t j = 0; j < b->n; j++) {
			uint8_t buf[MT_RELIT_MAXLEN];

			if (a->len[i] + b->len[j] > MT_RELIT_MAXLEN)
				return false;
			memcpy(buf, a->s[i], a->len[i]);
			memcpy(buf + a->len[i], b->s[j], b->len[j]);
			if (!set_add(tmp, buf, (uint8_t)(a->len[i] + b->len[j])))
				return false;
		}
	memcpy(a, tmp, sizeof(*a));
	return true;
}

/* a = a u b; false when too big (a may be partly extended) */
static bool
set_union(struct mt_relit *a, const struct mt_relit *b)
{
	for (uint16_t j = 0; j < b->n; j++)
		if (!set_add(a, b->s[j], b->len[j]))
			return false;
	return true;
}

/* Higher is more selective; <= 0 is useless (empty, or holds ""). A set
 * counts as its shortest string; fewer strings break ties. Length alone:
 * one- and two-byte literals (even of bytes rare in HTTP) made Hyperscan's
 * literal scan of the header buffer measurably slower than the
 * confirmations they spared (docs/BENCHMARKS.md). */
static long
score(const struct mt_relit *s)
{
	unsigned shortest = UINT32_MAX;

	if (s->n == 0)
		return 0;
	for (uint16_t k = 0; k < s->n; k++) {
		if (s->len[k] == 0)
			return 0;
		if (s->len[k] < shortest)
			shortest = s->len[k];
	}
	if (shortest > 16)
		shortest = 16;
	return (long)shortest * 1000 - s->n;
}

static void
add_factor(struct rl_info *in, const struct mt_relit *s)
{
	long sc = score(s);
	int pos;

	if (sc <= 0)
		return;
	for (int k = 0; k < in->nf; k++)
		if (in->f[k].n == s->n && in->f[k].caseless == s->caseless &&
		    memcmp(in->f[k].len, s->len, s->n) == 0 &&
		    memcmp(in->f[k].s, s->s, sizeof(s->s[0]) * s->n) == 0)
			return;
	for (pos = in->nf; pos > 0 && score(&in->f[pos - 1]) < sc; pos--)
		;
	if (pos >= RL_NF)
		return;
	if (in->nf < RL_NF)
		in->nf++;
	memmove(&in->f[pos + 1], &in->f[pos], sizeof(in->f[0]) * (size_t)(in->nf - 1 - pos));
	in->f[pos] = *s;
}

/* *out = a u b when both are known and the union fits (@p tmp: scratch) */
static bool
edge_union(const struct mt_relit *a, const struct mt_relit *b, struct mt_relit *out,
	   struct mt_relit *tmp)
{
	if (a == NULL || b == NULL)
		return false;
	*tmp = *a;
	if (!set_union(tmp, b))
		return false;
	*out = *tmp;
	return true;
}

/* the requirements of a node: its exact set (when it says anything) and its
 * factors */
static int
cands_of(const struct rl_info *in, const struct mt_relit *c[RL_NF + 1])
{
	int n = 0;

	if (in->exact && score(&in->ex) > 0)
		c[n++] = &in->ex;
	for (int k = 0; k < in->nf; k++)
		c[n++] = &in->f[k];
	return n;
}

/* The best requirement of an alternation of @p x and @p y: the union of one
 * requirement of each, the most selective union that fits in a set. */
static bool
best_union(const struct rl_info *x, const struct rl_info *y, struct mt_relit *u)
{
	const struct mt_relit *cx[RL_NF + 1], *cy[RL_NF + 1];
	int nx = cands_of(x, cx), ny = cands_of(y, cy);
	long best = 0;
	struct mt_relit t;

	for (int i = 0; i < nx; i++)
		for (int j = 0; j < ny; j++) {
			if ((unsigned)cx[i]->n + cy[j]->n > 2 * MT_RELIT_MAXSET)
				continue;
			t = *cx[i];
			if (!set_union(&t, cy[j]) || score(&t) <= best)
				continue;
			best = score(&t);
			*u = t;
		}
	return best > 0;
}

/* calloc that marks the analysis failed (and out of memory) when it fails */
static void *
rl_calloc(struct rl_st *st, size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		st->nomem = st->bad = true;
	return p;
}

static struct rl_info *
info_new(struct rl_st *st)
{
	struct rl_info *in = rl_calloc(st, 1, sizeof(*in));

	if (in != NULL)
		in->ex.caseless = st->caseless;
	return in;
}

static struct rl_info *
info_empty(struct rl_st *st)
{
	struct rl_info *in = info_new(st);

	if (in != NULL) {
		in->exact = true;
		in->ex.n = 1;
		in->ex.len[0] = 0;
	}
	return in;
}

/* ---------- parser ---------- */

static struct rl_info *parse_alt(struct rl_st *st);

static int
peek(const struct rl_st *st)
{
	return st->i < st->n ? (unsigned char)st->p[st->i] : -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* \xHH or \x{HH}; -1 when not a byte */
static int
parse_hex(struct rl_st *st)
{
	int v = 0, k = 0;

	if (peek(st) == '{') {
		st->i++;
		while (peek(st) != '}' && peek(st) >= 0) {
			int h = hexval(peek(st));
			if (h < 0 || ++k > 4)
				return -1;
			v = v * 16 + h;
			st->i++;
		}
		if (peek(st) != '}')
			return -1;
		st->i++;
		return v <= 0xff ? v : -1;
	}
	while (k < 2 && hexval(peek(st)) >= 0) {
		v = v * 16 + hexval(peek(st));
		st->i++;
		k++;
	}
	return v;
}

/* One escaped character after '\' (st->i past the backslash) as a byte,
 * or: -2 zero-width, -3 a class or unknown construct, -1 bad. */
static int
parse_escape(struct rl_st *st, bool in_class)
{
	int c = peek(st);

	if (c < 0)
		return -1;
	st->i++;
	switch (c) {
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'f': return '\f';
	case 'e': return 0x1b;
	case 'a': return 0x07;
	case 'x': return parse_hex(st);
	case 'c':
		if (peek(st) < 0)
			return -1;
		return toupper(st->p[st->i++]) ^ 0x40;
	case '0': {
		int v = 0;

		for (int k = 0; k < 2 && peek(st) >= '0' && peek(st) <= '7'; k++)
			v = v * 8 + (st->p[st->i++] - '0');
		return v;
	}
	case 'b':
		return in_class ? 0x08 : -2;
	case 'B': case 'A': case 'z': case 'Z': case 'G': case 'K':
		return in_class ? -1 : -2;
	case 's':
		return -4; /* [\t\n\v\f\r ] */
	case 'd': case 'D': case 'w': case 'W': case 'S': case 'h': case 'H':
	case 'v': case 'V': case 'N': case 'R': case 'X': case 'C':
		return -3;
	case 'p': case 'P':
		if (peek(st) == '{') {
			while (peek(st) >= 0 && peek(st) != '}')
				st->i++;
			st->i++;
		} else if (peek(st) >= 0) {
			st->i++;
		}
		return -3;
	default:
		if (isalnum(c))
			return -1; /* backreferences, \Q, \E, \g, \k, ...: not analysed */
		return c;      /* escaped punctuation is the character */
	}
}

/* A bracket class; exact when it holds at most st->class_max characters. */
static struct rl_info *
parse_class(struct rl_st *st)
{
	uint8_t bits[32] = {0};
	bool neg = false, big = false, first = true;
	int prev = -1, count = 0;
	struct rl_info *in;

	if (peek(st) == '^') {
		neg = true;
		st->i++;
	}
	for (;;) {
		int c = peek(st);

		if (c < 0) {
			st->bad = true;
			return NULL;
		}
		if (c == ']' && !first) {
			st->i++;
			break;
		}
		first = false;
		if (c == '[' && st->i + 1 < st->n && st->p[st->i + 1] == ':') {
			const char *e = strstr(st->p + st->i, ":]");

			if (e == NULL) {
				st->bad = true;
				return NULL;
			}
			st->i = (size_t)(e - st->p) + 2;
			big = true;
			prev = -1;
			continue;
		}
		st->i++;
		if (c == '\\') {
			c = parse_escape(st, true);
			if (c == -4) {
				for (const char *w = rl_space; *w; w++)
					bits[(uint8_t)*w >> 3] |= (uint8_t)(1u << (*w & 7));
				prev = -1;
				continue;
			}
			if (c == -3) {
				big = true;
				prev = -1;
				continue;
			}
			if (c < 0) {
				st->bad = true;
				return NULL;
			}
		} else if (c == '-' && prev >= 0 && peek(st) != ']' && peek(st) >= 0) {
			int hi = peek(st);

			st->i++;
			if (hi == '\\') {
				hi = parse_escape(st, true);
				if (hi < 0) {
					st->bad = true;
					return NULL;
				}
			}
			if (hi < prev) {
				st->bad = true;
				return NULL;
			}
			for (int k = prev; k <= hi; k++)
				bits[k >> 3] |= (uint8_t)(1u << (k & 7));
			prev = -1;
			continue;
		}
		bits[c >> 3] |= (uint8_t)(1u << (c & 7));
		prev = c;
	}
	in = info_new(st);
	if (in == NULL || neg || big)
		return in; /* matches too many characters: no requirement */
	if (st->caseless)
		for (int k = 'A'; k <= 'Z'; k++)
			if (bits[k >> 3] & (1u << (k & 7)))
				bits[(k + 32) >> 3] |= (uint8_t)(1u << ((k + 32) & 7));
	for (int k = 0; k < 256; k++)
		if ((bits[k >> 3] & (1u << (k & 7))) && !(st->caseless && isupper(k)))
			count++;
	if (count == 0 || (unsigned)count > st->class_max)
		return in;
	in->exact = true;
	for (int k = 0; k < 256; k++) {
		uint8_t b = (uint8_t)k;

		if ((bits[k >> 3] & (1u << (k & 7))) && !(st->caseless && isupper(k)))
			set_add(&in->ex, &b, 1);
	}
	return in;
}

/* "(?" constructs; st->i is past "(?". */
static struct rl_info *
parse_paren_ext(struct rl_st *st)
{
	int c = peek(st);
	struct rl_info *in;

	if (c == ':' || c == '>' || c == '|') {
		st->i++;
		return NULL; /* a group: the caller parses its content */
	}
	if (c == '=' || c == '!' || (c == '<' && st->i + 1 < st->n &&
				      (st->p[st->i + 1] == '=' || st->p[st->i + 1] == '!'))) {
		/* lookaround: zero width, its content is not required here */
		st->i += c == '<' ? 2 : 1;
		in = parse_alt(st);
		free(in);
		if (peek(st) != ')') {
			st->bad = true;
			return NULL;
		}
		st->i++;
		return info_new(st);
	}
	if (c == '#') {
		while (peek(st) >= 0 && peek(st) != ')')
			st->i++;
		if (peek(st) != ')') {
			st->bad = true;
			return NULL;
		}
		st->i++;
		return info_empty(st);
	}
	if (c == 'P' || c == '<' || c == '\'') {
		/* named group: skip the name */
		char end = c == '\'' ? '\'' : '>';

		if (c == 'P') {
			st->i++;
			if (peek(st) != '<') {
				st->bad = true; /* (?P=name) backreference, (?P>name) call */
				return NULL;
			}
		}
		while (peek(st) >= 0 && peek(st) != end)
			st->i++;
		if (peek(st) != end) {
			st->bad = true;
			return NULL;
		}
		st->i++;
		return NULL;
	}
	/* inline options: (?i) (?s-m) (?i:...); 'i' was found by the pre-scan */
	while (peek(st) >= 0 && (isalpha(peek(st)) || peek(st) == '-')) {
		if (peek(st) == 'x' || peek(st) == 'J') {
			st->bad = true;
			return NULL;
		}
		st->i++;
	}
	if (peek(st) == ')') {
		st->i++;
		return info_empty(st);
	}
	if (peek(st) == ':') {
		st->i++;
		return NULL;
	}
	st->bad = true;
	return NULL;
}

static struct rl_info *
parse_atom(struct rl_st *st)
{
	int c = peek(st);
	struct rl_info *in;

	st->i++;
	switch (c) {
	case '(':
		in = NULL;
		if (peek(st) == '?') {
			st->i++;
			in = parse_paren_ext(st);
			if (in != NULL || st->bad)
				return in;
		}
		if (++st->depth > RL_MAXDEPTH) {
			st->bad = true;
			return NULL;
		}
		in = parse_alt(st);
		st->depth--;
		if (peek(st) != ')') {
			st->bad = true;
			free(in);
			return NULL;
		}
		st->i++;
		return in;
	case '[':
		return parse_class(st);
	case '.':
		return info_new(st);
	case '^':
	case '$':
		return info_empty(st);
	case '\\':
		c = parse_escape(st, false);
		if (c == -2)
			return info_empty(st);
		if (c == -4) {
			in = info_new(st);
			if (in != NULL && st->class_max >= sizeof(rl_space) - 1) {
				in->exact = true;
				for (const char *w = rl_space; *w; w++)
					set_add(&in->ex, (const uint8_t *)w, 1);
			}
			return in;
		}
		if (c == -3)
			return info_new(st);
		if (c < 0) {
			st->bad = true;
			return NULL;
		}
		break;
	case '*': case '+': case '?': case ')': case '|':
		st->bad = true;
		return NULL;
	default:
		break;
	}
	in = info_new(st);
	if (in != NULL) {
		in->exact = true;
		set_char(&in->ex, fold(st, (uint8_t)c));
	}
	return in;
}

/* what every match of @p in begins / ends with, or NULL */
static const struct mt_relit *
pre_of(const struct rl_info *in)
{
	return in->exact ? &in->ex : in->prefix ? &in->pre : NULL;
}

static const struct mt_relit *
suf_of(const struct rl_info *in)
{
	return in->exact ? &in->ex : in->suffix ? &in->suf : NULL;
}

/* {n}, {n,}, {n,m}: st->i at '{'. False if not a quantifier (a literal '{'). */
static bool
parse_braces(struct rl_st *st, unsigned *lo, unsigned *hi)
{
	size_t j = st->i + 1;
	unsigned a = 0, b;
	bool digits = false;

	while (j < st->n && isdigit((unsigned char)st->p[j]) && a < 100000) {
		a = a * 10 + (unsigned)(st->p[j++] - '0');
		digits = true;
	}
	if (!digits)
		return false;
	b = a;
	if (j < st->n && st->p[j] == ',') {
		j++;
		b = UINT32_MAX;
		if (j < st->n && isdigit((unsigned char)st->p[j])) {
			b = 0;
			while (j < st->n && isdigit((unsigned char)st->p[j]) && b < 100000)
				b = b * 10 + (unsigned)(st->p[j++] - '0');
		}
	}
	if (j >= st->n || st->p[j] != '}')
		return false;
	st->i = j + 1;
	*lo = a;
	*hi = b;
	return true;
}

static struct rl_info *
parse_quantified(struct rl_st *st)
{
	struct rl_info *in = parse_atom(st);
	unsigned lo, hi;
	int c = peek(st);

	if (in == NULL)
		return NULL;
	if (c == '*') {
		lo = 0, hi = UINT32_MAX;
		st->i++;
	} else if (c == '+') {
		lo = 1, hi = UINT32_MAX;
		st->i++;
	} else if (c == '?') {
		lo = 0, hi = 1;
		st->i++;
	} else if (c == '{' && parse_braces(st, &lo, &hi)) {
		;
	} else {
		return in;
	}
	if (peek(st) == '?' || peek(st) == '+')
		st->i++; /* lazy or possessive: the same strings can match */
	if (peek(st) == '*' || peek(st) == '+' || peek(st) == '?' ||
	    (peek(st) == '{' && st->i + 1 < st->n && isdigit((unsigned char)st->p[st->i + 1]))) {
		st->bad = true;
		free(in);
		return NULL;
	}
	if (lo == 1 && hi == 1)
		return in;
	if (lo == 0) {
		static const uint8_t none[1];
		struct mt_relit opt;

		if (hi == 1 && in->exact) {
			opt = in->ex;
			if (set_add(&opt, none, 0)) {
				in->ex = opt;
				in->nf = 0;
				return in;
			}
		}
		memset(in, 0, sizeof(*in)); /* may be absent: no requirement */
		in->ex.caseless = st->caseless;
		return in;
	}
	/* at least lo occurrences: x{lo} is exact, and stays required when more
	 * may follow; else what one occurrence requires stays required */
	if (in->exact) {
		struct mt_relit *rep = rl_calloc(st, 2, sizeof(*rep));
		bool ok = rep != NULL && lo <= RL_REP_MAX;

		if (ok) {
			rep[0] = in->ex;
			for (unsigned k = 1; k < lo && ok; k++)
				ok = set_cross(&rep[0], &in->ex, &rep[1]);
		}
		in->exact = ok && lo == hi;
		if (ok && lo == hi) {
			in->ex = rep[0];
		} else {
			/* x{lo,hi}: every match begins with x{lo} and ends with x */
			add_factor(in, ok ? &rep[0] : &in->ex);
			in->prefix = in->suffix = true;
			in->pre = ok ? rep[0] : in->ex;
			in->suf = in->ex;
		}
		free(rep);
	}
	return in;
}

static struct rl_info *
parse_concat(struct rl_st *st)
{
	struct rl_info *out = info_new(st), *it;
	struct mt_relit *run, *tmp;
	bool have_run = true, all_exact = true, leading = true;

	if (out == NULL)
		return NULL;
	run = rl_calloc(st, 2, sizeof(*run));
	if (run == NULL) {
		free(out);
		return NULL;
	}
	tmp = run + 1;
	run->caseless = st->caseless;
	run->n = 1; /* {""} */
	while (!st->bad && peek(st) >= 0 && peek(st) != '|' && peek(st) != ')') {
		it = parse_quantified(st);
		if (it == NULL)
			break;
		if (it->exact) {
			if (!have_run) {
				*run = it->ex;
				have_run = true;
			} else if (!set_cross(run, &it->ex, tmp)) {
				if (leading) {
					out->prefix = true;
					out->pre = *run;
					leading = false;
				}
				add_factor(out, run);
				*run = it->ex;
				all_exact = false;
			}
		} else {
			all_exact = false;
			/* a known beginning continues the run, a known end starts
			 * the next one */
			if (have_run) {
				if (it->prefix)
					(void)set_cross(run, &it->pre, tmp);
				if (leading) {
					out->prefix = true;
					out->pre = *run;
				}
				add_factor(out, run);
			}
			leading = false;
			have_run = false;
			for (int k = 0; k < it->nf; k++)
				add_factor(out, &it->f[k]);
			if (it->suffix) {
				*run = it->suf;
				have_run = true;
			}
		}
		free(it);
	}
	if (have_run) {
		if (all_exact) {
			out->exact = true;
			out->ex = *run;
		} else {
			add_factor(out, run);
			out->suffix = true;
			out->suf = *run;
		}
	}
	free(run);
	return out;
}

static struct rl_info *
parse_alt(struct rl_st *st)
{
	struct rl_info *acc = parse_concat(st), *br;
	struct mt_relit *u;

	if (acc == NULL)
		return NULL;
	u = rl_calloc(st, 1, sizeof(*u));
	if (u == NULL) {
		free(acc);
		return NULL;
	}
	while (!st->bad && peek(st) == '|') {
		bool ok;

		st->i++;
		br = parse_concat(st);
		if (br == NULL)
			break;
		/* every branch begins (ends) with a known string: so does the
		 * alternation */
		acc->prefix = edge_union(pre_of(acc), pre_of(br), &acc->pre, u);
		acc->suffix = edge_union(suf_of(acc), suf_of(br), &acc->suf, u);
		ok = best_union(acc, br, u);
		if (acc->exact && br->exact) {
			acc->exact = set_union(&acc->ex, &br->ex);
		} else {
			acc->exact = false;
		}
		acc->nf = 0;
		if (ok)
			add_factor(acc, u);
		free(br);
	}
	free(u);
	return acc;
}

/* An inline (?i...) anywhere makes the whole analysis caseless: a
 * caseless requirement is weaker, so still necessary. */
static bool
inline_caseless(const char *re)
{
	for (const char *p = strstr(re, "(?"); p != NULL; p = strstr(p + 2, "(?")) {
		for (const char *q = p + 2; *q && (isalpha((unsigned char)*q) || *q == '-'); q++) {
			if (*q == '-')
				break;
			if (*q == 'i')
				return true;
		}
	}
	return false;
}

static int
factors(const char *re, bool caseless, unsigned class_max, unsigned minlen, struct mt_relit *out,
	int max)
{
	struct rl_st st = {.p = re, .n = strlen(re), .class_max = class_max};
	struct rl_info *in;
	const struct mt_relit *cand[RL_NF + 1];
	int nc, n = 0;

	st.caseless = caseless || inline_caseless(re);
	in = parse_alt(&st);
	if (in == NULL || st.bad || st.i != st.n) {
		free(in);
		return st.nomem ? -ENOMEM : 0;
	}
	nc = cands_of(in, cand);
	/* best first */
	for (int a = 1; a < nc; a++)
		for (int b = a; b > 0 && score(cand[b]) > score(cand[b - 1]); b--) {
			const struct mt_relit *t = cand[b];
			cand[b] = cand[b - 1];
			cand[b - 1] = t;
		}
	for (int k = 0; k < nc && n < max; k++) {
		/* every string at least minlen bytes */
		if (score(cand[k]) < (long)minlen * 1000 - MT_RELIT_MAXSET)
			continue;
		out[n] = *cand[k];
		out[n].caseless = st.caseless;
		n++;
	}
	free(in);
	return n;
}

int
mt_relit_factors(const char *re, bool caseless, unsigned class_max, struct mt_relit *out, int max)
{
	return factors(re, caseless, class_max, MT_RELIT_MINLEN, out, max);
}

int
mt_relit_fallback(const char *re, bool caseless, unsigned class_max, unsigned minlen,
		  struct mt_relit *out, int max)
{
	return factors(re, caseless, class_max, minlen > 0 ? minlen : 1, out, max);
}

bool
mt_relit_bytes_in(const uint8_t *n, uint32_t nl, bool caseless, const void *hay, size_t hl)
{
	const uint8_t *h = hay;

	for (size_t i = 0; i + nl <= hl; i++) {
		uint32_t k = 0;

		while (k < nl && (caseless ? tolower(h[i + k]) == tolower(n[k]) : h[i + k] == n[k]))
			k++;
		if (k == nl)
			return true;
	}
	return false;
}

bool
mt_relit_in(const struct mt_relit *f, const void *hay, size_t hl)
{
	for (uint16_t k = 0; k < f->n; k++)
		if (mt_relit_bytes_in(f->s[k], f->len[k], f->caseless, hay, hl))
			return true;
	return false;
}

/* ---------- line-local expressions ---------- */

/* Code of the escape at re[*i] (just after the backslash) when it stands
 * for one byte other than LF: \r \t \f \e \a \xHH and escaped punctuation;
 * -1 for a class escape or anything else. Advances *i past it. */
static int
esc_byte(const char *re, size_t *i)
{
	char c = re[*i];

	(*i)++;
	switch (c) {
	case 'r': return '\r';
	case 't': return '\t';
	case 'f': return '\f';
	case 'e': return 0x1b;
	case 'a': return 0x07;
	case 'x':
		if (isxdigit((unsigned char)re[*i]) && isxdigit((unsigned char)re[*i + 1])) {
			char hex[3] = {re[*i], re[*i + 1], 0};
			int v = (int)strtol(hex, NULL, 16);

			*i += 2;
			return v == '\n' ? -1 : v;
		}
		return -1;
	default:
		if (c != '\0' && !isalnum((unsigned char)c))
			return (unsigned char)c;
		return -1;
	}
}

/* Class escapes that never match LF. */
static bool
esc_class_no_lf(char c)
{
	return c == 'd' || c == 'w' || c == 'S' || c == 'h' || c == 'N';
}

/* A bracket class starting at re[*i] ('[') that cannot match LF; *i ends
 * past its ']'. */
static bool
class_no_lf(const char *re, size_t *i)
{
	bool neg, lf_out = false, first = true;
	int prev = -1;

	(*i)++;
	neg = re[*i] == '^';
	if (neg)
		(*i)++;
	for (;; first = false) {
		char c = re[*i];
		int lo;

		if (c == '\0')
			return false;
		if (c == ']' && !first)
			break;
		if (c == '[')
			return false; /* POSIX classes: not worth telling apart */
		if (c == '\\') {
			size_t j = *i + 1;

			if (re[j] == 'n' || (re[j] == 'x' && re[j + 1] == '0' && (re[j + 2] | 0x20) == 'a')) {
				lf_out = true; /* LF named: excluded from a negated class */
				if (!neg)
					return false;
				*i = j + (re[j] == 'n' ? 1 : 3);
				prev = '\n';
				continue;
			}
			if (esc_class_no_lf(re[j])) {
				if (neg)
					return false; /* [^\d] and the like hold LF */
				*i = j + 1;
				prev = -1;
				continue;
			}
			lo = esc_byte(re, &j);
			if (lo < 0)
				return false;
			*i = j;
		} else if (c == '-' && prev >= 0 && re[*i + 1] != ']') {
			size_t j = *i + 1;
			int hi;

			if (re[j] == '\\') {
				j++;
				hi = esc_byte(re, &j);
			} else if (re[j] == '[') {
				return false;
			} else {
				hi = (unsigned char)re[j++];
			}
			if (hi < 0 || hi < prev)
				return false;
			if (prev <= '\n' && hi >= '\n') {
				if (!neg)
					return false;
				lf_out = true;
			}
			*i = j;
			prev = -1;
			continue;
		} else {
			lo = (unsigned char)c;
			(*i)++;
		}
		if (lo == '\n') {
			if (!neg)
				return false;
			lf_out = true;
		}
		prev = lo;
	}
	(*i)++;
	return neg ? lf_out : true;
}

bool
mt_relit_line_local(const char *re, bool dotall)
{
	static const char *const heads[] = {"(?:^|\\r\\n)", "(?:\\r\\n|^)", "(?:^|\\n)",
					    "(?:\\n|^)", "\\r\\n", "\\n", "^"};
	size_t i = 0;

	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++)
		if (strncmp(re, heads[h], strlen(heads[h])) == 0) {
			i = strlen(heads[h]);
			break;
		}
	while (re[i] != '\0') {
		char c = re[i];

		switch (c) {
		case '\n':
		case '^':
		case '$':
			return false;
		case '.':
			if (dotall)
				return false;
			i++;
			break;
		case '[':
			if (!class_no_lf(re, &i))
				return false;
			break;
		case '(':
			i++;
			if (re[i] == '?') {
				/* (?: and inline case flags only */
				size_t j = i + 1;

				while (re[j] == 'i' || re[j] == '-')
					j++;
				if (re[j] == ':' || (re[j] == ')' && j > i + 1))
					i = j + 1;
				else
					return false;
			}
			break;
		case '\\': {
			size_t j = i + 1;

			if (esc_class_no_lf(re[j]) || re[j] == 'b' || re[j] == 'B') {
				i = j + 1;
				break;
			}
			if (esc_byte(re, &j) < 0)
				return false;
			i = j;
			break;
		}
		case '{':
			/* a quantifier {n}, {n,}, {n,m}; anything else is a literal
			 * brace, which is fine too */
		default:
			i++;
			break;
		}
	}
	return true;
}
