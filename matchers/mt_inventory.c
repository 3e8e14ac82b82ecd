/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoint inventory (analytics thread): template resolution (OpenAPI
 * operations first, then learned promotion of literal slots that took
 * many distinct values), per-endpoint counters, and exports as JSON and
 * as an OpenAPI 3 document.
 */
#include "mt_behav.h"
#include "mt_behav_an_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define MAXSEG 16

struct segs {
	unsigned n;
	const char *s[MAXSEG];
	size_t l[MAXSEG];
};

static void
split(const char *t, struct segs *o)
{
	o->n = 0;
	while (*t && o->n < MAXSEG) {
		while (*t == '/')
			t++;
		if (!*t)
			break;
		o->s[o->n] = t;
		while (*t && *t != '/')
			t++;
		o->l[o->n] = (size_t)(t - o->s[o->n]);
		o->n++;
	}
}

static bool
is_param(const char *s, size_t l)
{
	return l >= 2 && s[0] == '{' && s[l - 1] == '}';
}

int32_t
mt_an_openapi_match(const struct mt_behav *b, const char *method, const char *tmpl)
{
	struct segs rs, os;

	if (b->n_ops == 0)
		return -1;
	split(tmpl, &rs);
	for (uint32_t i = 0; i < b->n_ops; i++) {
		const struct oa_op *op = &b->ops[i];
		unsigned k;

		if (op->n_segs != rs.n || strcasecmp(op->method, method) != 0)
			continue;
		split(op->tmpl, &os);
		for (k = 0; k < os.n; k++)
			if (!is_param(os.s[k], os.l[k]) &&
			    (os.l[k] != rs.l[k] || memcmp(os.s[k], rs.s[k], rs.l[k]) != 0))
				break;
		if (k == os.n)
			return (int32_t)i;
	}
	return -1;
}

static size_t
join(char *out, size_t cap, const struct segs *s, unsigned upto, int star, const char *const *repl)
{
	size_t off = 0;

	for (unsigned i = 0; i < upto && i < s->n; i++) {
		const char *p = s->s[i];
		size_t l = s->l[i];

		if ((int)i == star) {
			p = "*";
			l = 1;
		} else if (repl && repl[i]) {
			p = repl[i];
			l = strlen(p);
		}
		if (off + 1 + l >= cap)
			break;
		out[off++] = '/';
		memcpy(out + off, p, l);
		off += l;
	}
	if (off == 0 && cap > 1)
		out[off++] = '/';
	out[off] = '\0';
	return off;
}

static uint64_t
keyed3(const char *a, const char *bb, const char *c)
{
	char k[MT_BEHAV_HOST_MAX + 8 + MT_BEHAV_TMPL_MAX + 4];
	size_t al = strlen(a), bl = strlen(bb), cl = strlen(c);

	if (al + bl + cl + 2 > sizeof(k))
		cl = sizeof(k) - al - bl - 2;
	memcpy(k, a, al + 1);
	memcpy(k + al + 1, bb, bl + 1);
	memcpy(k + al + bl + 2, c, cl);
	return mt_behav_fast_hash(k, al + bl + 2 + cl);
}

/*
 * Object collection of the object at segment @p obj (or, with obj ==
 * s->n, of the objects a request to that path creates): the resource name
 * right before it, so that /users/{id}/orders/{id}, /orders/{id} and the
 * ids POST /users/{id}/orders returns all name one collection ("orders").
 * When that segment is itself a parameter, the whole prefix is the name.
 */
static uint64_t
collection(const char *host, const struct segs *s, unsigned obj)
{
	char buf[MT_BEHAV_TMPL_MAX];

	if (obj > 0 && obj <= s->n && !is_param(s->s[obj - 1], s->l[obj - 1])) {
		size_t l = s->l[obj - 1] < sizeof(buf) - 1 ? s->l[obj - 1] : sizeof(buf) - 1;

		memcpy(buf, s->s[obj - 1], l);
		buf[l] = '\0';
		return keyed3(host, "#", buf);
	}
	join(buf, sizeof(buf), s, obj, -1, NULL);
	return keyed3(host, "", buf);
}

void
mt_an_resolve(struct mt_behav *b, const struct mt_behav_rec *r, struct tm_res *res)
{
	struct segs s;
	const char *repl[MAXSEG] = { 0 };
	int obj = r->obj_slot == 0xff ? -1 : r->obj_slot;
	char buf[MT_BEHAV_TMPL_MAX];
	int32_t op;

	memset(res, 0, sizeof(*res));
	res->op = -1;
	split(r->tmpl, &s);
	op = mt_an_openapi_match(b, r->method, r->tmpl);
	if (op >= 0) {
		struct segs os;

		res->op = op;
		snprintf(res->tmpl, sizeof(res->tmpl), "%s", b->ops[op].tmpl);
		split(b->ops[op].tmpl, &os);
		obj = -1;
		for (unsigned k = 0; k < os.n; k++)
			if (is_param(os.s[k], os.l[k]))
				obj = (int)k;
	} else {
		bool learn = r->status && r->status < 400;

		for (unsigned i = 1; i < s.n && i < MT_BEHAV_SEGS && i < r->n_segs; i++) {
			struct sl_e *e;
			bool created;

			if (is_param(s.s[i], s.l[i]))
				continue;
			join(buf, sizeof(buf), &s, s.n, (int)i, NULL);
			e = mt_lru_get(b->t[MT_TAB_SLOT], keyed3(r->host, r->method, buf) ^ i, learn,
				       &created);
			if (e == NULL)
				continue;
			if (!e->promoted && learn) {
				if (mt_hll_add(e->hll, HLL_P_SMALL, r->seg_hash[i]) &&
				    mt_hll_estimate(e->hll, HLL_P_SMALL) >= b->p.promote_after) {
					e->promoted = 1;
					b->st.templates_promoted++;
				}
			}
			if (e->promoted) {
				repl[i] = "{param}";
				if ((int)i > obj)
					obj = (int)i;
			}
		}
		join(res->tmpl, sizeof(res->tmpl), &s, s.n, -1, repl);
	}
	res->id = keyed3(r->host, r->method, res->tmpl);
	if (obj >= 0 && obj < MT_BEHAV_SEGS && obj < r->n_segs) {
		res->has_obj = 1;
		res->obj_hash = r->seg_hash[obj];
		res->coll = collection(r->host, &s, (unsigned)obj);
	} else {
		res->coll = collection(r->host, &s, s.n);
	}
	/* Objects a write creates belong to the collection the write was sent
	 * to: POST /users/{id}/orders creates "orders", not "users". */
	if (s.n > 0 && (obj < 0 || (unsigned)obj + 1 < s.n) && !is_param(s.s[s.n - 1], s.l[s.n - 1]))
		res->create_coll = collection(r->host, &s, s.n);
	else
		res->create_coll = res->coll;
}

struct tm_e *
mt_an_inventory(struct mt_behav *b, const struct mt_behav_rec *r, const struct tm_res *res)
{
	bool created;
	struct tm_e *e = mt_lru_get(b->t[MT_TAB_TEMPLATE], res->id,
				    r->status != 404 || res->op >= 0, &created);
	unsigned sc;

	if (e == NULL)
		return NULL;
	if (created) {
		snprintf(e->host, sizeof(e->host), "%s", r->host);
		snprintf(e->method, sizeof(e->method), "%s", r->method);
		snprintf(e->tmpl, sizeof(e->tmpl), "%s", res->tmpl);
		e->first = r->ts_ns;
		e->resp_min = UINT64_MAX;
		e->op = res->op;
	}
	e->last = r->ts_ns;
	e->requests++;
	sc = r->status >= 100 && r->status < 600 ? r->status / 100 - 1 : 5;
	e->status[sc]++;
	if (r->id_kind == MT_ID_CLIENT)
		e->unauth++;
	else
		e->auth++;
	if (r->flags & MT_REC_HAS_RESP) {
		if (r->resp_bytes < e->resp_min)
			e->resp_min = r->resp_bytes;
		if (r->resp_bytes > e->resp_max)
			e->resp_max = r->resp_bytes;
		e->resp_sum += r->resp_bytes;
	}
	for (unsigned t = 0; t < MT_PII__COUNT; t++)
		if (r->pii[t])
			e->sensitive |= 1u << t;
	e->sensitive |= (uint32_t)r->secrets << 8;
	if (r->flags & MT_REC_LOGIN)
		e->login = 1;
	return e;
}

/* ---- export ---- */

static const char *const pii_names[MT_PII__COUNT] = { "card", "ssn", "iban", "email", "phone" };
static const char *const secret_names[5] = { "private_key", "cloud_key", "token", "jwt",
					     "high_entropy_secret" };

static json_t *
sensitive_json(uint32_t s)
{
	json_t *a = json_array();

	for (unsigned t = 0; t < MT_PII__COUNT; t++)
		if (s & (1u << t))
			json_array_append_new(a, json_string(pii_names[t]));
	for (unsigned k = 0; k < 5; k++)
		if (s & (1u << (8 + k)))
			json_array_append_new(a, json_string(secret_names[k]));
	return a;
}

static void
inv_one(void *arg, uint64_t key, void *ev)
{
	json_t *arr = arg;
	const struct tm_e *e = ev;
	json_t *o = json_object(), *st = json_object();
	static const char *const cls[6] = { "1xx", "2xx", "3xx", "4xx", "5xx", "other" };

	(void)key;
	json_object_set_new(o, "host", json_string(e->host));
	json_object_set_new(o, "method", json_string(e->method));
	json_object_set_new(o, "template", json_string(e->tmpl));
	json_object_set_new(o, "requests", json_integer((json_int_t)e->requests));
	for (unsigned i = 0; i < 6; i++)
		if (e->status[i])
			json_object_set_new(st, cls[i], json_integer((json_int_t)e->status[i]));
	json_object_set_new(o, "status", st);
	json_object_set_new(o, "auth_seen", json_boolean(e->auth > 0));
	json_object_set_new(o, "authenticated", json_integer((json_int_t)e->auth));
	json_object_set_new(o, "unauthenticated", json_integer((json_int_t)e->unauth));
	if (e->resp_max || e->resp_min != UINT64_MAX) {
		uint64_t n = e->requests ? e->requests : 1;

		json_object_set_new(o, "resp_bytes", json_pack("{s:I,s:I,s:I}",
			"min", (json_int_t)(e->resp_min == UINT64_MAX ? 0 : e->resp_min),
			"max", (json_int_t)e->resp_max, "avg", (json_int_t)(e->resp_sum / n)));
	}
	json_object_set_new(o, "sensitive", sensitive_json(e->sensitive));
	json_object_set_new(o, "first_seen", json_real((double)e->first / 1e9));
	json_object_set_new(o, "last_seen", json_real((double)e->last / 1e9));
	json_object_set_new(o, "login", json_boolean(e->login));
	json_object_set_new(o, "source", json_string(e->op >= 0 ? "openapi" : "learned"));
	json_array_append_new(arr, o);
}

char *
mt_behav_inventory_json(const struct mt_behav *b)
{
	json_t *o = json_object(), *a = json_array();
	char *s;

	mt_lru_foreach(b->t[MT_TAB_TEMPLATE], inv_one, a);
	json_object_set_new(o, "endpoints", a);
	json_object_set_new(o, "count", json_integer((json_int_t)json_array_size(a)));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

struct oa_ctx {
	json_t *paths;
	json_t *servers;
};

static void
oa_one(void *arg, uint64_t key, void *ev)
{
	struct oa_ctx *c = arg;
	const struct tm_e *e = ev;
	char path[MT_BEHAV_TMPL_MAX + 64], m[8];
	json_t *item, *op = json_object(), *params = json_array(), *resps = json_object();
	struct segs s;
	size_t off = 0;
	unsigned n_id = 0;
	static const char *const cls[6] = { "1XX", "2XX", "3XX", "4XX", "5XX", "default" };

	(void)key;
	split(e->tmpl, &s);
	for (unsigned i = 0; i < s.n && off + s.l[i] + 8 < sizeof(path); i++) {
		if (is_param(s.s[i], s.l[i])) {
			char name[64];

			/* path parameter names must be unique within a path */
			if ((s.l[i] == 4 && !memcmp(s.s[i], "{id}", 4)) ||
			    (s.l[i] == 7 && !memcmp(s.s[i], "{param}", 7)))
				snprintf(name, sizeof(name), "%.*s%u", (int)s.l[i] - 2, s.s[i] + 1, ++n_id);
			else
				snprintf(name, sizeof(name), "%.*s", (int)s.l[i] - 2, s.s[i] + 1);
			off += (size_t)snprintf(path + off, sizeof(path) - off, "/{%s}", name);
			json_array_append_new(params, json_pack("{s:s,s:s,s:b,s:{s:s}}", "name", name,
				"in", "path", "required", 1, "schema", "type", "string"));
		} else {
			off += (size_t)snprintf(path + off, sizeof(path) - off, "/%.*s", (int)s.l[i], s.s[i]);
		}
	}
	if (off == 0)
		snprintf(path, sizeof(path), "/");
	for (unsigned i = 0; i < sizeof(m) - 1 && e->method[i]; i++)
		m[i] = (char)(e->method[i] >= 'A' && e->method[i] <= 'Z' ? e->method[i] + 32 : e->method[i]);
	m[strnlen(e->method, sizeof(m) - 1)] = '\0';
	item = json_object_get(c->paths, path);
	if (item == NULL) {
		item = json_object();
		json_object_set_new(c->paths, path, item);
	}
	for (unsigned i = 0; i < 6; i++)
		if (e->status[i]) {
			char d[64];

			snprintf(d, sizeof(d), "observed %llu times", (unsigned long long)e->status[i]);
			json_object_set_new(resps, cls[i], json_pack("{s:s}", "description", d));
		}
	if (json_object_size(resps) == 0)
		json_object_set_new(resps, "default", json_pack("{s:s}", "description", "not observed"));
	json_object_set_new(op, "responses", resps);
	if (json_array_size(params))
		json_object_set_new(op, "parameters", params);
	else
		json_decref(params);
	if (e->auth == 0)
		json_object_set_new(op, "security", json_array());
	json_object_set_new(op, "x-apiguard-host", json_string(e->host));
	json_object_set_new(op, "x-apiguard-requests", json_integer((json_int_t)e->requests));
	json_object_set_new(op, "x-apiguard-sensitive", sensitive_json(e->sensitive));
	json_object_set_new(item, m, op);
	if (e->host[0]) {
		char url[80];
		size_t i;

		snprintf(url, sizeof(url), "https://%s", e->host);
		for (i = 0; i < json_array_size(c->servers); i++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(c->servers, i), "url")), url))
				break;
		if (i == json_array_size(c->servers))
			json_array_append_new(c->servers, json_pack("{s:s}", "url", url));
	}
}

char *
mt_behav_inventory_openapi(const struct mt_behav *b)
{
	struct oa_ctx c = { json_object(), json_array() };
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "openapi", json_string("3.0.3"));
	json_object_set_new(o, "info", json_pack("{s:s,s:s}", "title", "apiguard discovered inventory",
						 "version", "1"));
	mt_lru_foreach(b->t[MT_TAB_TEMPLATE], oa_one, &c);
	json_object_set_new(o, "servers", c.servers);
	json_object_set_new(o, "paths", c.paths);
	s = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return s;
}
