/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_behav.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

struct ctl_behav {
	pthread_mutex_t lock;            /* p, custom; serialises changes */
	struct mt_behav_params p;
	bool custom;
	char *store;                     /* NULL: not persisted */
	char *candidate;                 /* store + ".tmp" */
	struct ctl_rules *rules;
	struct dp_analytics *analytics;
	struct dp_blocklist *blocklist;
};

/* ---- PATCH documents: line-preserving rewrite -------------------------------
 *
 * A GET document carries two things the strict loader does not take: each
 * detector's informative "sid", and redacted JWT key material. The body is
 * parsed here (YAML, of which JSON is a subset), those are checked and
 * dropped or filled in, and the rest is written back as flow YAML whose
 * every node sits on the line it had in the body: the loader's errors then
 * name the client's own lines. The loader ignores scalar styles, so every
 * scalar is written double-quoted. */

struct ctl_rw {
	yaml_document_t *doc;
	FILE *f;
	size_t line;                     /* current output line, 0-based */
	const struct mt_behav_params *cur;
	char *err;
	size_t errlen;
};

static int
ctl_rw_fail(struct ctl_rw *w, const yaml_node_t *n, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
ctl_rw_fail(struct ctl_rw *w, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(w->err, w->errlen, "line %zu: %s: %s", n->start_mark.line + 1, key, why);
	return -EINVAL;
}

static const char *
ctl_rw_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void
ctl_rw_goto(struct ctl_rw *w, const yaml_node_t *n)
{
	while (w->line < n->start_mark.line) {
		fputc('\n', w->f);
		w->line++;
	}
}

static void
ctl_rw_quoted(struct ctl_rw *w, const char *s, size_t n)
{
	size_t i;

	fputc('"', w->f);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(w->f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(w->f, "\\x%02x", c);
		else
			fputc(c, w->f);
	}
	fputc('"', w->f);
}

static int ctl_rw_node(struct ctl_rw *w, yaml_node_t *n, const char *path, int depth);

/* The current key that a "<redacted>" entry of jwt.keys stands for. */
static const struct mt_behav_jwt_key *
ctl_rw_key(struct ctl_rw *w, yaml_node_t *map)
{
	const char *alg = NULL, *kid = "";
	yaml_node_pair_t *pr;
	uint32_t i;

	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		const char *k = ctl_rw_scalar(yaml_document_get_node(w->doc, pr->key));
		const char *v = ctl_rw_scalar(yaml_document_get_node(w->doc, pr->value));

		if (k != NULL && v != NULL && strcmp(k, "alg") == 0)
			alg = v;
		else if (k != NULL && v != NULL && strcmp(k, "kid") == 0)
			kid = v;
	}
	for (i = 0; alg != NULL && i < w->cur->n_jwt_keys; i++)
		if (strcmp(w->cur->jwt_keys[i].alg, alg) == 0 &&
		    strcmp(w->cur->jwt_keys[i].kid, kid) == 0)
			return &w->cur->jwt_keys[i];
	return NULL;
}

static int
ctl_rw_det_sid(struct ctl_rw *w, const char *det, yaml_node_t *v, const char *path)
{
	const char *s = ctl_rw_scalar(v);
	unsigned int d;

	for (d = 0; d < MT_DET__COUNT; d++)
		if (strcmp(mt_behav_det_name((enum mt_behav_det)d), det) == 0)
			break;
	if (d == MT_DET__COUNT)
		return 0;   /* the loader names the unknown detector */
	{
		const struct mt_rule_info *ri = mt_behav_rule((enum mt_behav_det)d);
		char want[16];

		snprintf(want, sizeof(want), "%u", ri ? ri->sid : 0);
		if (s == NULL || strcmp(s, want) != 0)
			return ctl_rw_fail(w, v, path, "informative and fixed: %s", want);
	}
	return 0;
}

static int
ctl_rw_map(struct ctl_rw *w, yaml_node_t *n, const char *path, int depth)
{
	bool det = strncmp(path, "detectors.", 10) == 0 && depth == 2;
	bool jwt_key = strcmp(path, "jwt.keys") == 0;
	const struct mt_behav_jwt_key *key = NULL;
	yaml_node_pair_t *pr;
	bool first = true;

	fputc('{', w->f);
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, pr->value);
		const char *ks = ctl_rw_scalar(k);
		char sub[160];

		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", ks ? ks : "?");
		if (det && ks != NULL && strcmp(ks, "sid") == 0) {
			if (ctl_rw_det_sid(w, path + 10, v, sub) != 0)
				return -EINVAL;
			continue;
		}
		if (!first)
			fputc(',', w->f);
		first = false;
		if (ks == NULL)
			return ctl_rw_fail(w, k, path, "keys must be strings");
		ctl_rw_goto(w, k);
		ctl_rw_quoted(w, ks, strlen(ks));
		fputs(": ", w->f);
		if (jwt_key && (strcmp(ks, "secret") == 0 || strcmp(ks, "pem") == 0) &&
		    ctl_rw_scalar(v) != NULL && strcmp(ctl_rw_scalar(v), "<redacted>") == 0) {
			if (key == NULL)
				key = ctl_rw_key(w, n);
			if (key == NULL)
				return ctl_rw_fail(w, v, path, "\"<redacted>\" keeps a current key, "
						   "but no key has this alg and kid: send the key");
			ctl_rw_goto(w, v);
			ctl_rw_quoted(w, key->material, strlen(key->material));
			continue;
		}
		if (ctl_rw_node(w, v, sub, depth + 1) != 0)
			return -EINVAL;
	}
	fputc('}', w->f);
	return 0;
}

static int
ctl_rw_node(struct ctl_rw *w, yaml_node_t *n, const char *path, int depth)
{
	yaml_node_item_t *it;

	if (depth > 16)
		return ctl_rw_fail(w, n, path, "nested too deeply");
	ctl_rw_goto(w, n);
	switch (n->type) {
	case YAML_SCALAR_NODE:
		ctl_rw_quoted(w, (const char *)n->data.scalar.value, n->data.scalar.length);
		return 0;
	case YAML_SEQUENCE_NODE:
		fputc('[', w->f);
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			if (it != n->data.sequence.items.start)
				fputc(',', w->f);
			/* Elements of jwt.keys keep the list's path: that is what
			 * the loader names them by. */
			if (ctl_rw_node(w, yaml_document_get_node(w->doc, *it), path, depth + 1) != 0)
				return -EINVAL;
		}
		fputc(']', w->f);
		return 0;
	case YAML_MAPPING_NODE:
		return ctl_rw_map(w, n, path, depth);
	default:
		return ctl_rw_fail(w, n, path, "empty node");
	}
}

/*
 * Rewrite @p text for the loader. @return 0 with *out malloc'd (NULL for an
 * empty document: nothing to change), or -EINVAL with err set.
 */
static int
ctl_behav_rewrite(const struct mt_behav_params *cur, const char *text, size_t len, char **out,
		  size_t *out_len, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct ctl_rw w = { .doc = &doc, .cur = cur, .err = err, .errlen = errlen };
	int rc;

	*out = NULL;
	*out_len = 0;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "line %zu: %s", parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		rc = 0;
		goto out;
	}
	w.f = open_memstream(out, out_len);
	if (w.f == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = ctl_rw_node(&w, root, "", 0);
	fputc('\n', w.f);
	if (fclose(w.f) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc != 0) {
		free(*out);
		*out = NULL;
	}
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

/* ---- persistence ----------------------------------------------------------- */

/* The settings as the file keeps them: no informative sids, and the real
 * key material (the file is 0600: it may hold HS256 secrets). */
static json_t *
ctl_behav_doc(const struct mt_behav_params *p, bool redact)
{
	char *s = mt_behav_params_to_json(p);
	json_t *o = s ? json_loads(s, 0, NULL) : NULL, *v, *keys;
	const char *k;
	size_t i;

	free(s);
	if (o == NULL || redact)
		return o;
	json_object_foreach(json_object_get(o, "detectors"), k, v)
		json_object_del(v, "sid");
	keys = json_object_get(json_object_get(o, "jwt"), "keys");
	for (i = 0; i < json_array_size(keys) && i < p->n_jwt_keys; i++) {
		json_t *e = json_array_get(keys, i);

		json_object_set_new(e, json_object_get(e, "pem") ? "pem" : "secret",
				    json_string(p->jwt_keys[i].material));
	}
	return o;
}

static int
ctl_behav_write(const char *path, const struct mt_behav_params *p)
{
	json_t *o = ctl_behav_doc(p, false);
	char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	int fd, rc = 0;
	size_t n, off = 0;

	json_decref(o);
	if (s == NULL)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		free(s);
		return rc;
	}
	n = strlen(s);
	while (off < n) {
		ssize_t k = write(fd, s + off, n - off);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		off += (size_t)k;
	}
	if (rc == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) != 0))
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	free(s);
	return rc;
}

/* ---- object ------------------------------------------------------------------ */

struct ctl_behav *
ctl_behav_create(const char *store_path, char **err)
{
	struct ctl_behav *b = calloc(1, sizeof(*b));
	char *text = NULL;

	*err = NULL;
	if (b == NULL)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	mt_behav_params_defaults(&b->p);
	if (store_path != NULL) {
		b->store = strdup(store_path);
		if (b->store == NULL || asprintf(&b->candidate, "%s.tmp", store_path) < 0) {
			b->candidate = NULL;
			goto nomem;
		}
	}
	if (b->store != NULL && access(b->store, F_OK) == 0) {
		FILE *f = fopen(b->store, "r");
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		char chunk[4096], why[256];
		size_t n;

		if (f == NULL || m == NULL) {
			int saved = errno;

			if (f != NULL)
				fclose(f);
			if (m != NULL)
				fclose(m);
			free(text);
			if (asprintf(err, "%s: %s", b->store, strerror(saved)) < 0)
				*err = NULL;
			ctl_behav_destroy(b);
			errno = saved;
			return NULL;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, m);
		fclose(f);
		fclose(m);
		if (mt_behav_params_load(&b->p, text, len, why, sizeof(why)) != 0) {
			if (asprintf(err, "%s: %s", b->store, why) < 0)
				*err = NULL;
			free(text);
			ctl_behav_destroy(b);
			errno = EINVAL;
			return NULL;
		}
		free(text);
		b->custom = true;
	}
	return b;
nomem:
	ctl_behav_destroy(b);
	errno = ENOMEM;
	return NULL;
}

void
ctl_behav_destroy(struct ctl_behav *b)
{
	if (b == NULL)
		return;
	free(b->store);
	free(b->candidate);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

bool
ctl_behav_custom(const struct ctl_behav *b)
{
	return b->custom;
}

void
ctl_behav_get(struct ctl_behav *b, struct mt_behav_params *out)
{
	pthread_mutex_lock(&b->lock);
	*out = b->p;
	pthread_mutex_unlock(&b->lock);
}

static int
ctl_behav_set_fn(struct mt_behav *mb, void *arg)
{
	mt_behav_set_params(mb, arg);
	return 0;
}

int
ctl_behav_attach(struct ctl_behav *b, struct ctl_rules *rules, struct dp_analytics *a,
		 struct dp_blocklist *bl)
{
	int rc = 0;

	pthread_mutex_lock(&b->lock);
	if (b->custom && rules != NULL && rules != b->rules)
		rc = ctl_rules_set_behav(rules, &b->p);
	if (rc == 0 && b->custom && a != NULL && a != b->analytics)
		rc = dp_analytics_with(a, ctl_behav_set_fn, &b->p);
	if (rules != NULL)
		b->rules = rules;
	if (a != NULL)
		b->analytics = a;
	if (bl != NULL)
		b->blocklist = bl;
	pthread_mutex_unlock(&b->lock);
	return rc;
}

struct dp_analytics *
ctl_behav_analytics(const struct ctl_behav *b)
{
	return b->analytics;
}

struct dp_blocklist *
ctl_behav_blocklist(const struct ctl_behav *b)
{
	return b->blocklist;
}

static bool
ctl_behav_limits_equal(const struct mt_behav_params *x, const struct mt_behav_params *y)
{
	return x->max_identities == y->max_identities &&
	       x->max_actor_templates == y->max_actor_templates &&
	       x->max_clients == y->max_clients && x->max_usernames == y->max_usernames &&
	       x->max_credentials == y->max_credentials && x->max_templates == y->max_templates &&
	       x->max_owned_objects == y->max_owned_objects && x->max_slots == y->max_slots &&
	       x->max_suppress == y->max_suppress;
}

int
ctl_behav_patch(struct ctl_behav *b, const char *text, size_t len, char *err, size_t errlen)
{
	struct mt_behav_params *np = malloc(sizeof(*np));
	char *clean = NULL;
	size_t clean_len = 0;
	int rc;

	err[0] = '\0';
	if (np == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&b->lock);
	*np = b->p;
	rc = ctl_behav_rewrite(&b->p, text, len, &clean, &clean_len, err, errlen);
	if (rc == 0 && clean != NULL)
		rc = mt_behav_params_load(np, clean, clean_len, err, errlen);
	free(clean);
	if (rc != 0)
		goto out;
	if (!ctl_behav_limits_equal(np, &b->p)) {
		snprintf(err, errlen, "limits: table sizes are fixed at start-up");
		rc = -EPERM;
		goto out;
	}
	if (b->candidate != NULL) {
		rc = ctl_behav_write(b->candidate, np);
		if (rc != 0) {
			snprintf(err, errlen, "%s: cannot write: %s", b->candidate, strerror(-rc));
			unlink(b->candidate);
			rc = -EIO;
			goto out;
		}
	}
	/* Workers first: a new generation with contexts built from np (a bad
	 * key fails here, before anything changed). */
	if (b->rules != NULL) {
		rc = ctl_rules_set_behav(b->rules, np);
		if (rc != 0) {
			snprintf(err, errlen, "the worker contexts could not be built: %s",
				 strerror(-rc));
			if (b->candidate != NULL)
				unlink(b->candidate);
			goto out;
		}
	}
	if (b->analytics != NULL)
		dp_analytics_with(b->analytics, ctl_behav_set_fn, np);
	if (b->candidate != NULL && rename(b->candidate, b->store) != 0) {
		/* Running with the new settings; only the restart would differ. */
		snprintf(err, errlen, "%s: cannot update: %s", b->store, strerror(errno));
		rc = -EIO;
	}
	b->p = *np;
	b->custom = true;
out:
	pthread_mutex_unlock(&b->lock);
	free(np);
	return rc;
}

json_t *
ctl_behav_json(struct ctl_behav *b)
{
	json_t *o;

	pthread_mutex_lock(&b->lock);
	o = ctl_behav_doc(&b->p, true);
	pthread_mutex_unlock(&b->lock);
	return o;
}
