/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Engine construction: read rule files, split logical lines, parse every
 * rule (collecting every error), reject duplicate sids, then hand over to
 * mt_hs.c for the databases. A generation loads whole or not at all.
 */
#include "mt_engine_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- pool ---------- */

struct mt_pool_blk {
	struct mt_pool_blk *next;
	size_t used, cap;
	max_align_t data[];
};

#define MT_POOL_BLK 65536u

void *
mt_pool_alloc(struct mt_pool *p, size_t n)
{
	struct mt_pool_blk *b = p->head;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > MT_POOL_BLK ? n : MT_POOL_BLK;
		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = p->head;
		p->head = b;
	}
	b->used += n;
	return (char *)b->data + b->used - n;
}

char *
mt_pool_strndup(struct mt_pool *p, const char *s, size_t n)
{
	char *o = mt_pool_alloc(p, n + 1);

	if (o != NULL) {
		memcpy(o, s, n);
		o[n] = '\0';
	}
	return o;
}

void
mt_pool_free(struct mt_pool *p)
{
	while (p->head != NULL) {
		struct mt_pool_blk *n = p->head->next;
		free(p->head);
		p->head = n;
	}
}

/* ---------- errors ---------- */

void
mt_err_add(struct mt_errors *errs, const char *file, uint32_t line, const char *keyword,
	   const char *fmt, ...)
{
	struct mt_error *v, *e;
	va_list ap;

	if (errs == NULL)
		return;
	v = realloc(errs->v, sizeof(*v) * (errs->n + 1));
	if (v == NULL)
		return;
	errs->v = v;
	e = &v[errs->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = line;
	snprintf(e->keyword, sizeof(e->keyword), "%s", keyword ? keyword : "");
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
}

void
mt_errors_clear(struct mt_errors *errs)
{
	if (errs == NULL)
		return;
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

const char *
mt_action_name(enum mt_action a)
{
	switch (a) {
	case MT_ACT_NONE: return "none";
	case MT_ACT_ALERT: return "alert";
	case MT_ACT_PASS: return "pass";
	case MT_ACT_DROP: return "drop";
	case MT_ACT_REJECT: return "reject";
	}
	return "unknown";
}

/* ---------- building ---------- */

struct builder {
	struct mt_engine *e;
	const struct mt_engine_params *p;
	struct mt_errors *errs;
	size_t cap;
	uint64_t h1, h2;       /* cache key over every rule text */
	int nerr;
};

static void
hash_bytes(struct builder *b, const void *data, size_t n)
{
	const uint8_t *d = data;

	/* two independent FNV-1a lanes give a 128-bit key */
	for (size_t i = 0; i < n; i++) {
		b->h1 = (b->h1 ^ d[i]) * 0x100000001b3ull;
		b->h2 = (b->h2 ^ d[i]) * 0x100000001b3ull;
		b->h2 ^= b->h2 >> 29;
	}
}

static int
add_rule(struct builder *b, const char *text, const char *file, uint32_t line)
{
	size_t before = b->errs ? b->errs->n : 0;
	struct mt_rule *r = mt_rule_parse(&b->e->pool, b->p, &b->e->classes, text, file, line,
					  b->errs);

	if (r == NULL) {
		if (b->errs == NULL || b->errs->n == before)
			mt_err_add(b->errs, file, line, "rule", "invalid rule");
		b->nerr++;
		return 0;
	}
	if (b->e->n_rules == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		struct mt_rule **nv = realloc(b->e->rules, sizeof(*nv) * ncap);
		if (nv == NULL)
			return -ENOMEM;
		b->e->rules = nv;
		b->cap = ncap;
	}
	r->idx = (uint32_t)b->e->n_rules;
	b->e->rules[b->e->n_rules++] = r;
	hash_bytes(b, text, strlen(text) + 1);
	return 0;
}

/* Split text into logical rules: '#' comments, blank lines, '\' continuation. */
static int
add_text(struct builder *b, const char *text, const char *origin)
{
	const char *file = mt_pool_strndup(&b->e->pool, origin, strlen(origin));
	const char *s = text;
	uint32_t lineno = 0;
	char *acc = NULL;
	size_t acc_len = 0, acc_cap = 0;
	uint32_t acc_line = 0;
	int rc = 0;

	if (file == NULL)
		return -ENOMEM;
	while (*s != '\0' && rc == 0) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		const char *l = s;
		bool cont;

		lineno++;
		s = nl ? nl + 1 : s + len;
		while (len > 0 && (l[len - 1] == '\r' || l[len - 1] == ' ' || l[len - 1] == '\t'))
			len--;
		if (acc_len == 0) {
			while (len > 0 && (*l == ' ' || *l == '\t')) {
				l++;
				len--;
			}
			if (len == 0 || *l == '#')
				continue;
			acc_line = lineno;
		}
		cont = len > 0 && l[len - 1] == '\\';
		if (cont)
			len--;
		if (acc_len + len + 2 > acc_cap) {
			size_t ncap = (acc_len + len + 2) * 2;
			char *na = realloc(acc, ncap);
			if (na == NULL) {
				rc = -ENOMEM;
				break;
			}
			acc = na;
			acc_cap = ncap;
		}
		memcpy(acc + acc_len, l, len);
		acc_len += len;
		acc[acc_len] = '\0';
		if (!cont) {
			rc = add_rule(b, acc, file, acc_line);
			acc_len = 0;
		}
	}
	if (rc == 0 && acc_len > 0)
		rc = add_rule(b, acc, file, acc_line);
	free(acc);
	return rc;
}

static int
cmp_sid(const void *a, const void *b, void *arg)
{
	const struct mt_engine *e = arg;
	const struct mt_rule *x = e->rules[*(const uint32_t *)a];
	const struct mt_rule *y = e->rules[*(const uint32_t *)b];

	if (x->info.gid != y->info.gid)
		return x->info.gid < y->info.gid ? -1 : 1;
	if (x->info.sid != y->info.sid)
		return x->info.sid < y->info.sid ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int
index_sids(struct builder *b)
{
	struct mt_engine *e = b->e;
	uint32_t *ix = malloc(sizeof(*ix) * (e->n_rules + 1));
	size_t n1 = 0;

	if (ix == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_rules; i++)
		ix[i] = (uint32_t)i;
	qsort_r(ix, e->n_rules, sizeof(*ix), cmp_sid, e);
	for (size_t i = 1; i < e->n_rules; i++) {
		const struct mt_rule *x = e->rules[ix[i - 1]], *y = e->rules[ix[i]];
		if (x->info.gid == y->info.gid && x->info.sid == y->info.sid) {
			mt_err_add(b->errs, y->info.file, y->info.line, "sid",
				   "duplicate sid %u (gid %u), first defined at %s:%u", y->info.sid,
				   y->info.gid, x->info.file, x->info.line);
			b->nerr++;
		}
	}
	/* gid-1 rules form a prefix of the sorted order (gid >= 1) */
	for (size_t i = 0; i < e->n_rules; i++)
		if (e->rules[ix[i]]->info.gid == 1)
			ix[n1++] = ix[i];
	e->by_sid = ix;
	e->n_by_sid = n1;
	return 0;
}

static struct mt_engine *
builder_start(struct builder *b, const struct mt_engine_params *p, struct mt_errors *errs)
{
	struct mt_engine *e = calloc(1, sizeof(*e));

	memset(b, 0, sizeof(*b));
	if (e == NULL)
		return NULL;
	b->e = e;
	b->p = p;
	b->errs = errs;
	b->h1 = 0xcbf29ce484222325ull;
	b->h2 = 0x84222325cbf29ce4ull;
	if (mt_classes_load(&e->pool, p ? p->classification_file : NULL, &e->classes, errs) < 0)
		b->nerr++;
	return e;
}

/* Response twins (struct mt_rule twin) go after every listed rule, so
 * that the listed ones keep their indexes and are all that
 * mt_engine_rule() enumerates. */
static int
add_twins(struct builder *b)
{
	struct mt_engine *e = b->e;
	size_t n = 0;

	e->n_listed = e->n_rules;
	for (size_t i = 0; i < e->n_listed; i++)
		n += e->rules[i]->twin != NULL;
	if (n == 0)
		return 0;
	if (e->n_rules + n > b->cap) {
		struct mt_rule **nv = realloc(e->rules, sizeof(*nv) * (e->n_rules + n));

		if (nv == NULL)
			return -ENOMEM;
		e->rules = nv;
		b->cap = e->n_rules + n;
	}
	for (size_t i = 0; i < e->n_listed; i++) {
		struct mt_rule *t = e->rules[i]->twin;

		if (t != NULL) {
			t->idx = (uint32_t)e->n_rules;
			e->rules[e->n_rules++] = t;
		}
	}
	return 0;
}

/* One bit per flowbit name of the generation (struct mt_fb mask). */
static int
assign_flowbits(struct builder *b)
{
	struct mt_engine *e = b->e;
	const char *names[MT_FB_MAX];
	unsigned n = 0;

	for (size_t i = 0; i < e->n_listed; i++) {
		struct mt_rule *r = e->rules[i];

		for (uint8_t f = 0; f < r->n_fb; f++) {
			struct mt_fb *fb = &r->fb[f];

			e->has_fb_sets |= r->fb_sets;
			fb->mask = 0;
			for (uint8_t k = 0; k < fb->n; k++) {
				unsigned bit = 0;

				while (bit < n && strcmp(names[bit], fb->names[k]) != 0)
					bit++;
				if (bit == n) {
					if (n == MT_FB_MAX) {
						mt_err_add(b->errs, r->info.file, r->info.line, "flowbits",
							   "more than %d distinct flowbit names", MT_FB_MAX);
						b->nerr++;
						return 0;
					}
					names[n++] = fb->names[k];
				}
				fb->mask |= 1ull << bit;
			}
		}
	}
	return 0;
}

static struct mt_engine *
builder_finish(struct builder *b, int rc)
{
	struct mt_engine *e = b->e;

	if (rc == 0 && b->nerr == 0)
		rc = index_sids(b);
	if (rc == 0 && b->nerr == 0)
		rc = add_twins(b);
	if (rc == 0 && b->nerr == 0)
		rc = assign_flowbits(b);
	if (rc == 0 && b->nerr == 0)
		rc = mt_hs_build(e, b->p, b->errs, b->h1, b->h2);
	if (rc == 0 && b->nerr == 0)
		rc = mt_thr_table_create(e);
	if (rc == 0 && b->nerr == 0)
		return e;
	mt_engine_destroy(e);
	errno = rc < 0 ? -rc : EINVAL;
	return NULL;
}

struct mt_engine *
mt_engine_build_text(const struct mt_engine_params *p, const char *text, const char *origin,
		     struct mt_errors *errs)
{
	struct builder b;
	int rc;

	if (text == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (builder_start(&b, p, errs) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = add_text(&b, text, origin ? origin : "<inline>");
	return builder_finish(&b, rc);
}

struct mt_engine *
mt_engine_build_files(const struct mt_engine_params *p, const char *const *files, size_t n,
		      struct mt_errors *errs)
{
	struct builder b;
	int rc = 0;

	if (files == NULL && n > 0) {
		errno = EINVAL;
		return NULL;
	}
	if (builder_start(&b, p, errs) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		FILE *f = fopen(files[i], "rb");
		char *buf = NULL;
		long len;

		if (f == NULL) {
			mt_err_add(errs, files[i], 0, "file", "cannot open: %s", strerror(errno));
			b.nerr++;
			continue;
		}
		if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
		    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) != NULL &&
		    fread(buf, 1, (size_t)len, f) == (size_t)len) {
			buf[len] = '\0';
			rc = add_text(&b, buf, files[i]);
		} else {
			mt_err_add(errs, files[i], 0, "file", "cannot read");
			b.nerr++;
		}
		free(buf);
		fclose(f);
	}
	return builder_finish(&b, rc);
}

void
mt_engine_destroy(struct mt_engine *e)
{
	if (e == NULL)
		return;
	mt_hs_free(e);
	mt_thr_table_free(e);
	free(e->rules);
	free(e->by_sid);
	mt_pool_free(&e->pool);
	free(e);
}

size_t
mt_engine_rule_count(const struct mt_engine *e)
{
	return e ? e->n_listed : 0;
}

const struct mt_rule_info *
mt_engine_rule(const struct mt_engine *e, size_t idx)
{
	if (e == NULL || idx >= e->n_listed)
		return NULL;
	return &e->rules[idx]->info;
}

const struct mt_rule_info *
mt_engine_rule_by_sid(const struct mt_engine *e, uint32_t sid)
{
	size_t lo = 0, hi;

	if (e == NULL || e->by_sid == NULL)
		return NULL;
	hi = e->n_by_sid;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t s = e->rules[e->by_sid[mid]]->info.sid;
		if (s == sid)
			return &e->rules[e->by_sid[mid]]->info;
		if (sid < s)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
