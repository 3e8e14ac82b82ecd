/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_rules.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One rule added through the API: its sid and text as written. */
struct ctl_api_rule {
	uint32_t sid;
	char *text;
};

struct ctl_rules {
	pthread_mutex_t lock;        /* everything below except the atomics */
	char **files;                /* rule files, then (when used) the API rules file */
	size_t n_files;
	struct mt_var *vars;         /* names and values owned (strdup) */
	size_t n_vars;
	char *classification;        /* owned; NULL: built in */
	char *cache_dir;             /* owned; NULL: none */
	struct mt_engine_params ep;
	char *store;                 /* API rules file, NULL: not persisted */
	char *candidate;             /* store + ".tmp" */
	uint16_t n_workers;
	struct ctl_api_rule *api;
	size_t n_api;
	struct dp_plane *dp;
	struct dp_gen *cur;
	struct dp_gen **retired;
	size_t n_retired, cap_retired;
	/* read without the lock by status/metrics readers */
	uint64_t gen_id;
	uint64_t n_rules;
	uint64_t n_api_rules;
	uint64_t ok_changes, failed_changes;
	/* Behaviour detector settings every new generation carries (one
	 * worker context per worker), NULL: workers use their own defaults. */
	struct mt_behav_params *behav;
	/* Data-plane run-time settings every new generation carries (set by a
	 * configuration reload), NULL: the plane's own. */
	struct dp_params *rt;
};

/*
 * What generations may share: the rule engine and its per-worker scratches.
 * A generation that only changes the behaviour contexts points at the same
 * one, so it must outlive every generation that uses it. @refs is only
 * touched with the ctl_rules lock held (or by the sole owner in destroy).
 */
struct ctl_match {
	unsigned int refs;
	struct mt_engine *engine;
	struct mt_scratch *scratch[DP_MAX_WORKERS];
};

/* Every generation built here is a ctl_gen: dp_gen first, so the pointer
 * the data plane hands back converts to it. */
struct ctl_gen {
	struct dp_gen g;
	struct ctl_match *m;
	struct dp_params params;   /* g.params points here when settings are carried */
};

static struct ctl_gen *
ctl_gen_of(struct dp_gen *g)
{
	return (struct ctl_gen *)g;
}

static void
ctl_match_put(struct ctl_match *m, uint16_t n_workers)
{
	uint16_t i;

	if (m == NULL || --m->refs > 0)
		return;
	for (i = 0; i < n_workers; i++)
		mt_scratch_destroy(m->scratch[i]);
	mt_engine_destroy(m->engine);
	free(m);
}

/* Free a generation no worker can reach any more: its own behaviour
 * contexts, and its share of the engine. */
static void
ctl_gen_free(struct dp_gen *g, uint16_t n_workers)
{
	uint16_t i;

	if (g == NULL)
		return;
	for (i = 0; i < n_workers; i++)
		mt_behav_worker_destroy(g->behav[i]);
	ctl_match_put(ctl_gen_of(g)->m, n_workers);
	free(ctl_gen_of(g));
}

/*
 * A new generation around @p m (a reference is taken), with fresh
 * behaviour contexts when settings are in force. @return NULL (errno).
 */
static struct dp_gen *
ctl_gen_wrap(struct ctl_rules *r, struct ctl_match *m, const struct mt_behav_params *bp)
{
	struct ctl_gen *cg = calloc(1, sizeof(*cg));
	uint16_t i;

	if (cg == NULL)
		return NULL;
	cg->m = m;
	m->refs++;
	cg->g.engine = m->engine;
	if (r->rt != NULL) {
		cg->params = *r->rt;
		cg->g.params = &cg->params;
	}
	for (i = 0; i < r->n_workers; i++)
		cg->g.scratch[i] = m->scratch[i];
	for (i = 0; bp != NULL && i < r->n_workers; i++) {
		cg->g.behav[i] = mt_behav_worker_create(bp);
		if (cg->g.behav[i] == NULL) {
			int saved = errno ? errno : ENOMEM;

			ctl_gen_free(&cg->g, r->n_workers);
			errno = saved;
			return NULL;
		}
	}
	cg->g.id = r->gen_id + 1;
	return &cg->g;
}

/* Free the rule sources (files, variables, classification, cache dir). */
static void
ctl_sources_free(struct ctl_rules *r)
{
	size_t i;

	for (i = 0; r->files != NULL && i < r->n_files; i++)
		free(r->files[i]);
	free(r->files);
	for (i = 0; r->vars != NULL && i < r->n_vars; i++) {
		free((char *)r->vars[i].name);
		free((char *)r->vars[i].value);
	}
	free(r->vars);
	free(r->classification);
	free(r->cache_dir);
	r->files = NULL;
	r->vars = NULL;
	r->classification = r->cache_dir = NULL;
	r->n_files = r->n_vars = 0;
	memset(&r->ep, 0, sizeof(r->ep));
}

/* Own copies of @p p's sources; on failure (-ENOMEM) they are all freed. */
static int
ctl_sources_set(struct ctl_rules *r, const struct ctl_rules_params *p)
{
	size_t i;

	r->files = calloc(p->n_files + 1, sizeof(*r->files));
	r->vars = calloc(p->n_vars + 1, sizeof(*r->vars));
	if (r->files == NULL || r->vars == NULL)
		goto nomem;
	for (i = 0; i < p->n_files; i++) {
		r->files[i] = strdup(p->files[i]);
		if (r->files[i] == NULL)
			goto nomem;
		r->n_files++;
	}
	for (i = 0; i < p->n_vars; i++) {
		r->vars[i].name = strdup(p->vars[i].name);
		r->vars[i].value = strdup(p->vars[i].value);
		r->n_vars++;
		if (r->vars[i].name == NULL || r->vars[i].value == NULL)
			goto nomem;
	}
	if ((p->classification_file != NULL &&
	     (r->classification = strdup(p->classification_file)) == NULL) ||
	    (p->cache_dir != NULL && (r->cache_dir = strdup(p->cache_dir)) == NULL))
		goto nomem;
	r->ep.vars = r->vars;
	r->ep.n_vars = r->n_vars;
	r->ep.classification_file = r->classification;
	r->ep.cache_dir = r->cache_dir;
	return 0;
nomem:
	ctl_sources_free(r);
	return -ENOMEM;
}

static void
ctl_err(struct mt_errors *errs, const char *file, uint32_t line, const char *kw,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
ctl_err(struct mt_errors *errs, const char *file, uint32_t line, const char *kw,
	const char *fmt, ...)
{
	struct mt_error *v = realloc(errs->v, (errs->n + 1) * sizeof(*v));
	va_list ap;

	if (v == NULL)
		return;
	errs->v = v;
	v = &errs->v[errs->n++];
	memset(v, 0, sizeof(*v));
	snprintf(v->file, sizeof(v->file), "%s", file);
	v->line = line;
	snprintf(v->keyword, sizeof(v->keyword), "%s", kw);
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

/* Write @p list to @p path, one rule per line (continuations joined). */
static int
ctl_rules_write(const char *path, const struct ctl_api_rule *list, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i;
	int rc = 0;

	if (f == NULL)
		return -errno;
	fprintf(f, "# Rules added through the apiguard REST API; rewritten on every change.\n");
	for (i = 0; i < n; i++) {
		const char *p;

		for (p = list[i].text; *p; p++)
			fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
		fputc('\n', f);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/*
 * Build a generation from the rule files plus, when @p api_file is not
 * NULL, that file. Errors that point into the candidate file are renamed
 * to the store's name, which is what a user knows.
 */
static struct dp_gen *
ctl_gen_build(struct ctl_rules *r, const char *api_file, struct mt_errors *errs)
{
	const char *files[r->n_files + 1];
	struct ctl_match *m;
	struct dp_gen *g;
	size_t n = 0, i;

	for (i = 0; i < r->n_files; i++)
		files[n++] = r->files[i];
	if (api_file != NULL)
		files[n++] = api_file;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->refs = 1;
	if (n > 0) {
		m->engine = mt_engine_build_files(&r->ep, files, n, errs);
		if (m->engine == NULL) {
			int saved = errno;

			for (i = 0; i < errs->n && api_file != NULL && r->store != NULL; i++)
				if (strcmp(errs->v[i].file, api_file) == 0)
					snprintf(errs->v[i].file, sizeof(errs->v[i].file), "%s",
						 r->store);
			if (errs->n == 0)
				ctl_err(errs, "", 0, "rules", "%s", strerror(saved));
			free(m);
			errno = saved ? saved : EINVAL;
			return NULL;
		}
		for (i = 0; i < r->n_workers; i++) {
			m->scratch[i] = mt_scratch_create(m->engine);
			if (m->scratch[i] == NULL) {
				ctl_err(errs, "", 0, "hyperscan", "cannot allocate scratch");
				ctl_match_put(m, r->n_workers);
				errno = ENOMEM;
				return NULL;
			}
		}
	}
	g = ctl_gen_wrap(r, m, r->behav);
	if (g == NULL) {
		int saved = errno;

		ctl_err(errs, "", 0, "behaviour", "cannot create behaviour contexts: %s",
			strerror(saved));
	}
	/* The generation holds its own reference now (or m goes). */
	ctl_match_put(m, r->n_workers);
	return g;
}

static void
ctl_rules_set_counts(struct ctl_rules *r)
{
	uint64_t n = r->cur && r->cur->engine ? mt_engine_rule_count(r->cur->engine) : 0;

	__atomic_store_n(&r->n_rules, n, __ATOMIC_RELAXED);
	__atomic_store_n(&r->n_api_rules, (uint64_t)r->n_api, __ATOMIC_RELAXED);
	__atomic_store_n(&r->gen_id, r->cur ? r->cur->id : 0, __ATOMIC_RELEASE);
}

/* Make @p g current (lock held). The old one is retired, never freed here:
 * alerts in flight may still point at its rules. */
static void
ctl_rules_publish(struct ctl_rules *r, struct dp_gen *g)
{
	struct dp_gen *old;

	if (r->dp != NULL) {
		old = dp_plane_publish(r->dp, g);
	} else {
		old = r->cur;
	}
	r->cur = g;
	ctl_rules_set_counts(r);
	if (old == NULL)
		return;
	if (r->dp == NULL) {
		/* No worker has ever seen it. */
		ctl_gen_free(old, r->n_workers);
		return;
	}
	if (r->n_retired == r->cap_retired) {
		size_t cap = r->cap_retired ? r->cap_retired * 2 : 8;
		struct dp_gen **v = realloc(r->retired, cap * sizeof(*v));

		if (v == NULL) {
			/* Leak rather than free a generation a body may still use. */
			fprintf(stderr, "apiguard: cannot track retired generation %llu\n",
				(unsigned long long)old->id);
			return;
		}
		r->retired = v;
		r->cap_retired = cap;
	}
	r->retired[r->n_retired++] = old;
}

/*
 * Build and publish a generation with @p list as the API rules; on success
 * @p list replaces the current one (ownership taken), else it is left to
 * the caller and nothing changes.
 */
static int
ctl_rules_commit(struct ctl_rules *r, struct ctl_api_rule *list, size_t n, struct mt_errors *errs)
{
	const char *api_file = NULL;
	char tmpl[] = "/tmp/apiguard-api-rules-XXXXXX";
	struct dp_gen *g;
	int rc, fd = -1;

	if (n > 0) {
		if (r->candidate != NULL) {
			api_file = r->candidate;
		} else {
			/* Not persisted: the engine still reads a file. */
			fd = mkstemp(tmpl);
			if (fd < 0)
				return -errno;
			close(fd);
			api_file = tmpl;
		}
		rc = ctl_rules_write(api_file, list, n);
		if (rc != 0) {
			ctl_err(errs, api_file, 0, "file", "cannot write: %s", strerror(-rc));
			goto fail;
		}
	}
	g = ctl_gen_build(r, api_file, errs);
	if (g == NULL) {
		rc = errno == ENOMEM ? -ENOMEM : -EINVAL;
		goto fail;
	}
	if (r->store != NULL) {
		if (n > 0 ? rename(api_file, r->store) != 0
			  : (unlink(r->store) != 0 && errno != ENOENT)) {
			rc = -errno;
			ctl_err(errs, r->store, 0, "file", "cannot update: %s", strerror(errno));
			ctl_gen_free(g, r->n_workers);
			goto fail;
		}
	} else if (api_file != NULL) {
		unlink(api_file);
	}
	ctl_rules_publish(r, g);
	if (r->api != list) {
		size_t i;

		for (i = 0; i < r->n_api; i++)
			free(r->api[i].text);
		free(r->api);
	}
	r->api = list;
	r->n_api = n;
	ctl_rules_set_counts(r);
	r->ok_changes++;
	return 0;
fail:
	if (api_file != NULL)
		unlink(api_file);
	r->failed_changes++;
	return rc;
}

static void
ctl_list_free(struct ctl_api_rule *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i].text);
	free(list);
}

/* Parse @p text alone: errors name @p origin and its lines. */
static struct mt_engine *
ctl_rules_parse(struct ctl_rules *r, const char *text, const char *origin, struct mt_errors *errs)
{
	struct mt_engine *e = mt_engine_build_text(&r->ep, text, origin, errs);

	if (e == NULL && errs->n == 0)
		ctl_err(errs, origin, 0, "rules", "%s", strerror(errno ? errno : EINVAL));
	return e;
}

static ssize_t
ctl_api_find(const struct ctl_rules *r, uint32_t sid)
{
	size_t i;

	for (i = 0; i < r->n_api; i++)
		if (r->api[i].sid == sid)
			return (ssize_t)i;
	return -1;
}

/* A copy of the API list with room for @p extra more. */
static struct ctl_api_rule *
ctl_list_copy(const struct ctl_rules *r, size_t extra)
{
	struct ctl_api_rule *v = calloc(r->n_api + extra + 1, sizeof(*v));
	size_t i;

	if (v == NULL)
		return NULL;
	for (i = 0; i < r->n_api; i++) {
		v[i].sid = r->api[i].sid;
		v[i].text = strdup(r->api[i].text);
		if (v[i].text == NULL) {
			ctl_list_free(v, i);
			return NULL;
		}
	}
	return v;
}

struct ctl_rules *
ctl_rules_create(const struct ctl_rules_params *p, struct mt_errors *errs)
{
	struct ctl_rules *r = calloc(1, sizeof(*r));
	size_t i;

	if (r == NULL)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	if (ctl_sources_set(r, p) != 0)
		goto nomem;
	r->n_workers = p->n_workers;
	if (p->store_path != NULL) {
		r->store = strdup(p->store_path);
		if (r->store == NULL || asprintf(&r->candidate, "%s.tmp", p->store_path) < 0)
			goto nomem;
	}
	/* API rules persisted by an earlier run. */
	if (r->store != NULL && access(r->store, F_OK) == 0) {
		const char *one[1] = { r->store };
		struct mt_engine *e = mt_engine_build_files(&r->ep, one, 1, errs);
		size_t n;

		if (e == NULL) {
			if (errs->n == 0)
				ctl_err(errs, r->store, 0, "file", "%s", strerror(errno));
			goto fail;
		}
		n = mt_engine_rule_count(e);
		r->api = calloc(n + 1, sizeof(*r->api));
		for (i = 0; r->api != NULL && i < n; i++) {
			const struct mt_rule_info *ri = mt_engine_rule(e, i);

			r->api[i].sid = ri->sid;
			r->api[i].text = strdup(ri->text);
			if (r->api[i].text == NULL)
				break;
			r->n_api++;
		}
		mt_engine_destroy(e);
		if (r->n_api != n) {
			errno = ENOMEM;
			goto fail;
		}
	}
	r->cur = ctl_gen_build(r, r->n_api > 0 ? r->store : NULL, errs);
	if (r->cur == NULL)
		goto fail;
	ctl_rules_set_counts(r);
	return r;
nomem:
	errno = ENOMEM;
fail:
	{
		int saved = errno;

		ctl_rules_destroy(r);
		errno = saved;
	}
	return NULL;
}

void
ctl_rules_destroy(struct ctl_rules *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_retired; i++)
		ctl_gen_free(r->retired[i], r->n_workers);
	free(r->retired);
	ctl_gen_free(r->cur, r->n_workers);
	ctl_sources_free(r);
	free(r->rt);
	ctl_list_free(r->api, r->n_api);
	free(r->store);
	free(r->candidate);
	free(r->behav);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct dp_gen *
ctl_rules_current(struct ctl_rules *r)
{
	return r->cur;
}

void
ctl_rules_attach(struct ctl_rules *r, struct dp_plane *dp)
{
	pthread_mutex_lock(&r->lock);
	r->dp = dp;
	pthread_mutex_unlock(&r->lock);
}

int
ctl_rules_add(struct ctl_rules *r, const char *text, const char *origin, uint32_t *sids,
	      size_t *n_sids, struct mt_errors *errs)
{
	struct mt_engine *e;
	struct ctl_api_rule *list;
	size_t n, i, room = n_sids ? *n_sids : 0;
	int rc = 0;

	if (n_sids != NULL)
		*n_sids = 0;
	pthread_mutex_lock(&r->lock);
	e = ctl_rules_parse(r, text, origin, errs);
	if (e == NULL) {
		r->failed_changes++;
		pthread_mutex_unlock(&r->lock);
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	}
	n = mt_engine_rule_count(e);
	if (n == 0) {
		ctl_err(errs, origin, 0, "rules", "no rule in the request");
		rc = -EINVAL;
		goto out;
	}
	list = ctl_list_copy(r, n);
	if (list == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct mt_rule_info *ri = mt_engine_rule(e, i);

		if (ctl_api_find(r, ri->sid) >= 0) {
			ctl_err(errs, origin, ri->line, "sid",
				"sid %u was already added through the API (replace it with PUT)",
				ri->sid);
			rc = -EEXIST;
		}
		list[r->n_api + i].sid = ri->sid;
		list[r->n_api + i].text = strdup(ri->text);
		if (list[r->n_api + i].text == NULL && rc == 0)
			rc = -ENOMEM;
		if (i < room)
			sids[i] = ri->sid;
	}
	if (rc == 0)
		rc = ctl_rules_commit(r, list, r->n_api + n, errs);
	else
		r->failed_changes++;
	if (rc != 0)
		ctl_list_free(list, r->n_api + n);
	else if (n_sids != NULL)
		*n_sids = n < room ? n : room;
out:
	mt_engine_destroy(e);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* Why @p sid cannot be changed through the API (lock held). */
static int
ctl_rules_not_api(struct ctl_rules *r, uint32_t sid, struct mt_errors *errs)
{
	const struct mt_rule_info *ri = r->cur && r->cur->engine ?
					mt_engine_rule_by_sid(r->cur->engine, sid) : NULL;

	r->failed_changes++;
	if (ri == NULL) {
		ctl_err(errs, "", 0, "sid", "no rule with sid %u", sid);
		return -ENOENT;
	}
	ctl_err(errs, ri->file, ri->line, "sid",
		"rule %u comes from a rule file: edit the file, then POST /api/v1/rules/reload",
		sid);
	return -EPERM;
}

int
ctl_rules_replace(struct ctl_rules *r, uint32_t sid, const char *text, const char *origin,
		  struct mt_errors *errs)
{
	struct mt_engine *e;
	struct ctl_api_rule *list;
	const struct mt_rule_info *ri;
	ssize_t at;
	int rc;

	pthread_mutex_lock(&r->lock);
	at = ctl_api_find(r, sid);
	if (at < 0) {
		rc = ctl_rules_not_api(r, sid, errs);
		pthread_mutex_unlock(&r->lock);
		return rc;
	}
	e = ctl_rules_parse(r, text, origin, errs);
	if (e == NULL) {
		r->failed_changes++;
		pthread_mutex_unlock(&r->lock);
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	}
	if (mt_engine_rule_count(e) != 1 || (ri = mt_engine_rule(e, 0))->sid != sid) {
		ctl_err(errs, origin, 1, "sid", "the body must hold exactly one rule with sid %u",
			sid);
		r->failed_changes++;
		rc = -EINVAL;
		goto out;
	}
	list = ctl_list_copy(r, 0);
	if (list == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	free(list[at].text);
	list[at].text = strdup(ri->text);
	rc = list[at].text ? ctl_rules_commit(r, list, r->n_api, errs) : -ENOMEM;
	if (rc != 0)
		ctl_list_free(list, r->n_api);
out:
	mt_engine_destroy(e);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int
ctl_rules_delete(struct ctl_rules *r, uint32_t sid, struct mt_errors *errs)
{
	struct ctl_api_rule *list;
	ssize_t at;
	size_t n;
	int rc;

	pthread_mutex_lock(&r->lock);
	at = ctl_api_find(r, sid);
	if (at < 0) {
		rc = ctl_rules_not_api(r, sid, errs);
		pthread_mutex_unlock(&r->lock);
		return rc;
	}
	list = ctl_list_copy(r, 0);
	if (list == NULL) {
		pthread_mutex_unlock(&r->lock);
		return -ENOMEM;
	}
	n = r->n_api;
	free(list[at].text);
	memmove(&list[at], &list[at + 1], (n - (size_t)at - 1) * sizeof(*list));
	n--;
	rc = ctl_rules_commit(r, list, n, errs);
	if (rc != 0)
		ctl_list_free(list, n);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int
ctl_rules_reload(struct ctl_rules *r, struct mt_errors *errs)
{
	struct ctl_api_rule *list;
	int rc;

	pthread_mutex_lock(&r->lock);
	list = ctl_list_copy(r, 0);
	if (list == NULL) {
		pthread_mutex_unlock(&r->lock);
		return -ENOMEM;
	}
	rc = ctl_rules_commit(r, list, r->n_api, errs);
	if (rc != 0)
		ctl_list_free(list, r->n_api);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int
ctl_rules_reconfigure(struct ctl_rules *r, const struct ctl_rules_params *p,
		      const struct dp_params *rt, struct mt_errors *errs)
{
	struct ctl_rules saved;
	struct dp_params *rt_copy = NULL, *rt_old;
	struct ctl_api_rule *list;
	int rc;

	if (rt != NULL) {
		rt_copy = malloc(sizeof(*rt_copy));
		if (rt_copy == NULL)
			return -ENOMEM;
		*rt_copy = *rt;
	}
	pthread_mutex_lock(&r->lock);
	list = ctl_list_copy(r, 0);
	if (list == NULL) {
		pthread_mutex_unlock(&r->lock);
		free(rt_copy);
		return -ENOMEM;
	}
	/* Swap in the new sources and settings; put the old ones back if the
	 * new generation cannot be built. */
	saved = *r;
	r->files = NULL;
	r->vars = NULL;
	r->classification = r->cache_dir = NULL;
	r->n_files = r->n_vars = 0;
	rt_old = r->rt;
	r->rt = rt_copy;
	rc = ctl_sources_set(r, p);
	if (rc == 0)
		rc = ctl_rules_commit(r, list, r->n_api, errs);
	else
		ctl_err(errs, "", 0, "rules", "%s", strerror(-rc));
	if (rc != 0) {
		ctl_list_free(list, r->n_api);
		ctl_sources_free(r);
		r->files = saved.files;
		r->n_files = saved.n_files;
		r->vars = saved.vars;
		r->n_vars = saved.n_vars;
		r->classification = saved.classification;
		r->cache_dir = saved.cache_dir;
		r->ep = saved.ep;
		r->rt = rt_old;
		free(rt_copy);
	} else {
		struct ctl_rules old = saved;

		ctl_sources_free(&old);
		free(rt_old);
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int
ctl_rules_set_behav(struct ctl_rules *r, const struct mt_behav_params *p)
{
	struct mt_behav_params *copy = NULL;
	struct dp_gen *g;

	if (p != NULL) {
		copy = malloc(sizeof(*copy));
		if (copy == NULL)
			return -ENOMEM;
		*copy = *p;
	}
	pthread_mutex_lock(&r->lock);
	/* Same engine and scratches, shared by reference: the rules do not
	 * change, so neither are rule files re-read nor is anything compiled. */
	g = ctl_gen_wrap(r, ctl_gen_of(r->cur)->m, copy);
	if (g == NULL) {
		int rc = errno == EINVAL ? -EINVAL : -ENOMEM;

		pthread_mutex_unlock(&r->lock);
		free(copy);
		return rc;
	}
	free(r->behav);
	r->behav = copy;
	/* Returns once every worker has quiesced; the old generation (and
	 * its behaviour contexts) is then retired, freed by ctl_rules_reap(). */
	ctl_rules_publish(r, g);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

unsigned int
ctl_rules_reap(struct ctl_rules *r, void (*drain)(void *arg), void *arg)
{
	bool drained = false;
	size_t i = 0, left;

	/* Never wait behind a build: try again on the next loop turn. */
	if (pthread_mutex_trylock(&r->lock) != 0)
		return 1;
	while (i < r->n_retired) {
		struct dp_gen *g = r->retired[i];

		if (__atomic_load_n(&g->body_refs, __ATOMIC_ACQUIRE) != 0) {
			i++;
			continue;
		}
		if (!drained && drain != NULL) {
			drain(arg);
			drained = true;
		}
		ctl_gen_free(g, r->n_workers);
		r->retired[i] = r->retired[--r->n_retired];
	}
	left = r->n_retired;
	pthread_mutex_unlock(&r->lock);
	return (unsigned int)left;
}

uint64_t
ctl_rules_generation(const struct ctl_rules *r)
{
	return __atomic_load_n(&r->gen_id, __ATOMIC_ACQUIRE);
}

size_t
ctl_rules_count(const struct ctl_rules *r)
{
	return (size_t)__atomic_load_n(&r->n_rules, __ATOMIC_RELAXED);
}

size_t
ctl_rules_api_count(const struct ctl_rules *r)
{
	return (size_t)__atomic_load_n(&r->n_api_rules, __ATOMIC_RELAXED);
}

uint64_t
ctl_rules_changes(const struct ctl_rules *r, bool failed)
{
	return __atomic_load_n(failed ? &r->failed_changes : &r->ok_changes, __ATOMIC_RELAXED);
}

static json_t *
ctl_strings(const char *const *v, uint8_t n)
{
	json_t *a = json_array();
	uint8_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Lock held. */
static json_t *
ctl_rule_json(const struct ctl_rules *r, const struct mt_rule_info *ri)
{
	bool api = ctl_api_find(r, ri->sid) >= 0;

	return json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:i,s:o,s:o,s:o,s:s,s:s,s:I,s:s}",
			 "sid", (json_int_t)ri->sid, "gid", (json_int_t)ri->gid,
			 "rev", (json_int_t)ri->rev,
			 "action", mt_action_name((enum mt_action)ri->action),
			 "msg", ri->msg ? ri->msg : "",
			 "classtype", ri->classtype ? ri->classtype : "",
			 "severity", (int)ri->severity,
			 "techniques", ctl_strings(ri->techniques, ri->n_techniques),
			 "tactics", ctl_strings(ri->tactics, ri->n_tactics),
			 "owasp", ctl_strings(ri->owasp, ri->n_owasp),
			 "source", api ? "api" : "file",
			 "file", ri->file ? ri->file : "",
			 "line", (json_int_t)ri->line,
			 "text", ri->text ? ri->text : "");
}

json_t *
ctl_rules_list(struct ctl_rules *r)
{
	json_t *arr = json_array(), *o;
	size_t i, n;

	pthread_mutex_lock(&r->lock);
	n = r->cur && r->cur->engine ? mt_engine_rule_count(r->cur->engine) : 0;
	for (i = 0; i < n; i++)
		json_array_append_new(arr, ctl_rule_json(r, mt_engine_rule(r->cur->engine, i)));
	o = json_pack("{s:I,s:I,s:I,s:o}", "generation", (json_int_t)(r->cur ? r->cur->id : 0),
		      "count", (json_int_t)n, "api_rules", (json_int_t)r->n_api, "rules", arr);
	pthread_mutex_unlock(&r->lock);
	return o;
}

json_t *
ctl_rules_get(struct ctl_rules *r, uint32_t sid)
{
	const struct mt_rule_info *ri;
	json_t *o = NULL;

	pthread_mutex_lock(&r->lock);
	ri = r->cur && r->cur->engine ? mt_engine_rule_by_sid(r->cur->engine, sid) : NULL;
	if (ri != NULL)
		o = ctl_rule_json(r, ri);
	pthread_mutex_unlock(&r->lock);
	return o;
}

json_t *
ctl_rules_coverage(struct ctl_rules *r)
{
	json_t *o = json_object();
	size_t i, n;
	uint8_t t;

	pthread_mutex_lock(&r->lock);
	n = r->cur && r->cur->engine ? mt_engine_rule_count(r->cur->engine) : 0;
	for (i = 0; i < n; i++) {
		const struct mt_rule_info *ri = mt_engine_rule(r->cur->engine, i);

		for (t = 0; t < ri->n_techniques; t++) {
			json_t *sids = json_object_get(o, ri->techniques[t]);

			if (sids == NULL) {
				sids = json_array();
				json_object_set_new(o, ri->techniques[t], sids);
			}
			json_array_append_new(sids, json_integer(ri->sid));
		}
	}
	pthread_mutex_unlock(&r->lock);
	return o;
}

json_t *
ctl_rules_errors_json(const struct mt_errors *errs)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < errs->n; i++)
		json_array_append_new(a, json_pack("{s:s,s:I,s:s,s:s}", "file", errs->v[i].file,
						   "line", (json_int_t)errs->v[i].line,
						   "keyword", errs->v[i].keyword,
						   "reason", errs->v[i].reason));
	return a;
}
