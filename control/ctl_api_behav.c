/* SPDX-License-Identifier: Apache-2.0 */
/*
 * REST actions of the behaviour analytics: endpoint inventory and OpenAPI
 * import/export, detector settings, the blocklist, and the behaviour part
 * of /stats. Same contract as ctl_api.c: decoded arguments in, an HTTP
 * status and a JSON body out.
 */
#include "ctl_api.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "ctl_eve.h"

/* Longest block an API client may ask for: one year. */
#define CTL_BLOCK_MAX_S (366u * 86400u)

static uint64_t
ctl_wall_ns(void)
{
	struct timespec ts;

	/* The workers' live clock is the wall clock (dp_plane.c). */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned int
ctl_api_unavailable(json_t **out)
{
	*out = ctl_api_error("not_available", "the behaviour analytics stage is not running");
	return MHD_HTTP_SERVICE_UNAVAILABLE;
}

/* "line N: ..." at the start of a module error: N, else 0. */
static long
ctl_api_err_line(const char *err)
{
	long v = 0;

	if (strncmp(err, "line ", 5) != 0)
		return 0;
	for (err += 5; isdigit((unsigned char)*err) && v < 100000000; err++)
		v = v * 10 + (*err - '0');
	return v;
}

static json_t *
ctl_api_error_line(const char *code, const char *err)
{
	json_t *e = ctl_api_error(code, "%s", err);
	long line = ctl_api_err_line(err);

	if (line > 0)
		json_object_set_new(json_object_get(e, "error"), "line", json_integer(line));
	return e;
}

/* Bodies that hold YAML or JSON documents. @return 0 or a status. */
static unsigned int
ctl_api_doc_body(const char *ctype, const char *body, size_t len, json_t **err)
{
	static const char *const ok[] = {
		"application/json", "application/yaml", "application/x-yaml", "text/yaml",
		"text/x-yaml", "text/plain", "application/vnd.oai.openapi",
		"application/vnd.oai.openapi+json",
	};
	size_t n, i;

	if (ctype != NULL) {
		n = strcspn(ctype, ";");
		while (n > 0 && ctype[n - 1] == ' ')
			n--;
		for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			if (strlen(ok[i]) == n && strncasecmp(ctype, ok[i], n) == 0)
				break;
		if (i == sizeof(ok) / sizeof(ok[0])) {
			*err = ctl_api_error("unsupported_media_type",
					     "send application/json or application/yaml");
			return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
		}
	}
	if (len == 0) {
		*err = ctl_api_error("bad_body", "the body is empty");
		return MHD_HTTP_BAD_REQUEST;
	}
	if (memchr(body, '\0', len) != NULL) {
		*err = ctl_api_error("bad_body", "the body holds a NUL byte");
		return MHD_HTTP_BAD_REQUEST;
	}
	return 0;
}

/* ---- endpoints ----------------------------------------------------------------- */

struct ctl_export {
	bool openapi;
	char *text;
};

static int
ctl_export_fn(struct mt_behav *b, void *arg)
{
	struct ctl_export *x = arg;

	x->text = x->openapi ? mt_behav_inventory_openapi(b) : mt_behav_inventory_json(b);
	return x->text ? 0 : -ENOMEM;
}

unsigned int
ctl_api_endpoints(struct ctl_api *api, const char *format, json_t **out)
{
	struct dp_analytics *a = api->behav ? ctl_behav_analytics(api->behav) : NULL;
	struct ctl_export x = { 0 };
	json_error_t je;

	if (format != NULL && strcmp(format, "openapi") != 0 && strcmp(format, "json") != 0) {
		*out = ctl_api_error("bad_query", "format must be json or openapi");
		return MHD_HTTP_BAD_REQUEST;
	}
	if (a == NULL)
		return ctl_api_unavailable(out);
	x.openapi = format != NULL && strcmp(format, "openapi") == 0;
	if (dp_analytics_with(a, ctl_export_fn, &x) != 0) {
		*out = ctl_api_error("internal", "out of memory");
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	*out = json_loads(x.text, 0, &je);
	free(x.text);
	if (*out == NULL) {
		*out = ctl_api_error("internal", "inventory export: %s", je.text);
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	if (!x.openapi)
		json_object_set_new(*out, "count", json_integer((json_int_t)json_array_size(
			json_object_get(*out, "endpoints"))));
	return MHD_HTTP_OK;
}

struct ctl_import {
	const char *text;
	size_t len;
	char err[256];
};

static int
ctl_import_fn(struct mt_behav *b, void *arg)
{
	struct ctl_import *x = arg;

	return mt_behav_openapi_import(b, x->text, x->len, x->err, sizeof(x->err));
}

unsigned int
ctl_api_openapi_import(struct ctl_api *api, const char *ctype, const char *body, size_t len,
		       json_t **out)
{
	struct dp_analytics *a = api->behav ? ctl_behav_analytics(api->behav) : NULL;
	struct ctl_import x = { .text = body, .len = len };
	unsigned int st = ctl_api_doc_body(ctype, body, len, out);
	int n;

	if (st != 0)
		return st;
	if (a == NULL)
		return ctl_api_unavailable(out);
	n = dp_analytics_with(a, ctl_import_fn, &x);
	if (n < 0) {
		*out = ctl_api_error_line("invalid_openapi", x.err[0] ? x.err : strerror(-n));
		return MHD_HTTP_BAD_REQUEST;
	}
	*out = json_pack("{s:i}", "imported", n);
	return MHD_HTTP_OK;
}

/* ---- detectors ------------------------------------------------------------------- */

unsigned int
ctl_api_detectors_get(struct ctl_api *api, json_t **out)
{
	if (api->behav == NULL)
		return ctl_api_unavailable(out);
	*out = ctl_behav_json(api->behav);
	return *out ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

unsigned int
ctl_api_detectors_patch(struct ctl_api *api, const char *ctype, const char *body, size_t len,
			json_t **out)
{
	unsigned int st = ctl_api_doc_body(ctype, body, len, out);
	char err[256];
	int rc;

	if (st != 0)
		return st;
	if (api->behav == NULL)
		return ctl_api_unavailable(out);
	rc = ctl_behav_patch(api->behav, body, len, err, sizeof(err));
	switch (rc) {
	case 0:
		return ctl_api_detectors_get(api, out);
	case -EINVAL:
		*out = ctl_api_error_line("invalid_settings", err);
		return MHD_HTTP_BAD_REQUEST;
	case -EPERM:
		*out = ctl_api_error("not_runtime", "%s", err);
		return MHD_HTTP_BAD_REQUEST;
	default:
		*out = ctl_api_error("internal", "%s", err[0] ? err : strerror(-rc));
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* ---- blocklist ------------------------------------------------------------------ */

/* "client:ADDR" or "identity:HEX16". */
static void
ctl_block_key_str(const struct dp_block_key *k, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (k->kind == DP_BLOCK_IDENTITY) {
		snprintf(buf, len, "identity:%016" PRIx64, k->identity);
		return;
	}
	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->addr, ip, sizeof(ip));
	snprintf(buf, len, "client:%s", ip);
}

static int
ctl_parse_identity(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		int d = isdigit((unsigned char)s[i]) ? s[i] - '0' :
			(s[i] >= 'a' && s[i] <= 'f') ? s[i] - 'a' + 10 :
			(s[i] >= 'A' && s[i] <= 'F') ? s[i] - 'A' + 10 : -1;

		if (d < 0 || i >= 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	if (i == 0 || v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
ctl_parse_client(const char *s, struct dp_block_key *k)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, s, a) == 1) {
		dp_block_client_key(k, 4, a);
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a)) {
			dp_block_client_key(k, 4, a + 12);
			return 0;
		}
		dp_block_client_key(k, 6, a);
		return 0;
	}
	return -EINVAL;
}

static int
ctl_parse_block_key(const char *s, struct dp_block_key *k)
{
	uint64_t id;

	if (s == NULL)
		return -EINVAL;
	if (strncmp(s, "client:", 7) == 0)
		return ctl_parse_client(s + 7, k);
	if (strncmp(s, "identity:", 9) == 0 && ctl_parse_identity(s + 9, &id) == 0) {
		dp_block_identity_key(k, id);
		return 0;
	}
	return -EINVAL;
}

static json_t *
ctl_time_json(uint64_t ns)
{
	char ts[64];

	if (ns == DP_BLOCK_FOREVER)
		return json_null();
	ctl_eve_timestamp(ns, ts, sizeof(ts));
	return json_string(ts);
}

static json_t *
ctl_block_json(const struct dp_block_info *e, uint64_t now)
{
	char key[80];
	json_t *o;

	ctl_block_key_str(&e->key, key, sizeof(key));
	o = json_pack("{s:s,s:s,s:o,s:o,s:o,s:b,s:I,s:s}",
		      "kind", e->key.kind == DP_BLOCK_IDENTITY ? "identity" : "client",
		      "key", key,
		      "added", ctl_time_json(e->added_ns),
		      "expires", ctl_time_json(e->expires_ns),
		      "expires_in", e->expires_ns == DP_BLOCK_FOREVER ? json_null() :
			json_integer(e->expires_ns > now ?
				     (json_int_t)((e->expires_ns - now + 999999999ull) / 1000000000ull) : 0),
		      "expired", e->expires_ns <= now,
		      "sid", (json_int_t)e->sid,
		      "reason", e->reason);
	if (o != NULL)
		json_object_set_new(o, e->key.kind == DP_BLOCK_IDENTITY ? "identity" : "address",
				    json_string(strchr(key, ':') + 1));
	return o;
}

struct ctl_block_list {
	json_t *arr;
	uint64_t now;
};

static void
ctl_block_list_cb(void *arg, const struct dp_block_info *e)
{
	struct ctl_block_list *l = arg;

	json_array_append_new(l->arr, ctl_block_json(e, l->now));
}

unsigned int
ctl_api_blocklist_list(struct ctl_api *api, json_t **out)
{
	struct dp_blocklist *bl = api->behav ? ctl_behav_blocklist(api->behav) : NULL;
	struct ctl_block_list l = { .arr = json_array(), .now = ctl_wall_ns() };

	if (bl == NULL) {
		json_decref(l.arr);
		return ctl_api_unavailable(out);
	}
	dp_block_list(bl, ctl_block_list_cb, &l);
	*out = json_pack("{s:I,s:I,s:I,s:o}", "count", (json_int_t)json_array_size(l.arr),
			 "capacity", (json_int_t)DP_BLOCKLIST_MAX,
			 "refused_full", (json_int_t)dp_block_full_count(bl), "entries", l.arr);
	return MHD_HTTP_OK;
}

static unsigned int
ctl_bad_body(json_t **out, const char *msg)
{
	*out = ctl_api_error("bad_body", "%s", msg);
	return MHD_HTTP_BAD_REQUEST;
}

unsigned int
ctl_api_blocklist_add(struct ctl_api *api, const char *ctype, const char *body, size_t len,
		      json_t **out)
{
	struct dp_blocklist *bl = api->behav ? ctl_behav_blocklist(api->behav) : NULL;
	struct dp_block_key k;
	json_error_t je;
	json_t *j, *v;
	const char *key, *kind;
	const char *reason = "manual (API)";
	uint64_t now = ctl_wall_ns(), expires = DP_BLOCK_FOREVER, id;
	unsigned int st = 0;
	int rc;

	if (ctype != NULL && strncasecmp(ctype, "application/json", 16) != 0) {
		*out = ctl_api_error("unsupported_media_type", "send application/json");
		return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
	}
	j = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		*out = json_pack("{s:{s:s,s:s,s:i,s:i}}", "error", "code", "bad_json",
				 "message", ctl_je_text(&je), "line", je.line, "column", je.column);
		return MHD_HTTP_BAD_REQUEST;
	}
	if (!json_is_object(j)) {
		st = ctl_bad_body(out, "expected a JSON object");
		goto out;
	}
	json_object_foreach(j, key, v) {
		if (strcmp(key, "kind") && strcmp(key, "address") && strcmp(key, "identity") &&
		    strcmp(key, "expires_in") && strcmp(key, "reason")) {
			*out = ctl_api_error("bad_body", "unknown key \"%.40s\" (allowed: kind, "
					     "address, identity, expires_in, reason)", key);
			st = MHD_HTTP_BAD_REQUEST;
			goto out;
		}
	}
	kind = json_string_value(json_object_get(j, "kind"));
	if (kind == NULL || (strcmp(kind, "client") != 0 && strcmp(kind, "identity") != 0)) {
		st = ctl_bad_body(out, "kind must be \"client\" or \"identity\"");
		goto out;
	}
	if (strcmp(kind, "client") == 0) {
		const char *addr = json_string_value(json_object_get(j, "address"));

		if (json_object_get(j, "identity") != NULL) {
			st = ctl_bad_body(out, "a client block takes \"address\", not \"identity\"");
			goto out;
		}
		if (addr == NULL || ctl_parse_client(addr, &k) != 0) {
			st = ctl_bad_body(out, "address must be an IPv4 or IPv6 address");
			goto out;
		}
	} else {
		const char *ids = json_string_value(json_object_get(j, "identity"));

		if (json_object_get(j, "address") != NULL) {
			st = ctl_bad_body(out, "an identity block takes \"identity\", not \"address\"");
			goto out;
		}
		if (ids == NULL || ctl_parse_identity(ids, &id) != 0) {
			st = ctl_bad_body(out, "identity must be the hash as alerts show it "
					  "(apiguard.identity: 1..16 hex digits, not 0)");
			goto out;
		}
		dp_block_identity_key(&k, id);
	}
	v = json_object_get(j, "expires_in");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > CTL_BLOCK_MAX_S) {
			*out = ctl_api_error("bad_body", "expires_in must be an integer 1..%u (seconds)",
					     CTL_BLOCK_MAX_S);
			st = MHD_HTTP_BAD_REQUEST;
			goto out;
		}
		expires = now + (uint64_t)json_integer_value(v) * 1000000000ull;
	}
	v = json_object_get(j, "reason");
	if (v != NULL) {
		if (!json_is_string(v) || json_string_length(v) > 95 ||
		    memchr(json_string_value(v), '\0', json_string_length(v)) != NULL) {
			st = ctl_bad_body(out, "reason must be a string of at most 95 bytes");
			goto out;
		}
		reason = json_string_value(v);
	}
	if (bl == NULL) {
		st = ctl_api_unavailable(out);
		goto out;
	}
	rc = dp_block_add(bl, &k, now, expires, 0, reason);
	if (rc != 0) {
		*out = ctl_api_error(rc == -ENOSPC ? "blocklist_full" : "internal",
				     "cannot add: %s", strerror(-rc));
		st = rc == -ENOSPC ? MHD_HTTP_INSUFFICIENT_STORAGE : MHD_HTTP_INTERNAL_SERVER_ERROR;
		goto out;
	}
	{
		struct dp_block_info e = { .key = k, .added_ns = now, .expires_ns = expires };

		snprintf(e.reason, sizeof(e.reason), "%s", reason);
		*out = ctl_block_json(&e, now);
	}
	st = MHD_HTTP_CREATED;
out:
	json_decref(j);
	return st;
}

unsigned int
ctl_api_blocklist_delete(struct ctl_api *api, const char *key, json_t **out)
{
	struct dp_blocklist *bl = api->behav ? ctl_behav_blocklist(api->behav) : NULL;
	struct dp_block_key k;
	char canon[80];

	if (ctl_parse_block_key(key, &k) != 0) {
		*out = ctl_api_error("bad_key", "a key is client:ADDRESS or identity:HEX, got \"%.80s\"",
				     key ? key : "");
		return MHD_HTTP_BAD_REQUEST;
	}
	if (bl == NULL)
		return ctl_api_unavailable(out);
	ctl_block_key_str(&k, canon, sizeof(canon));
	if (dp_block_del(bl, &k) != 0) {
		*out = ctl_api_error("not_found", "%s is not blocked", canon);
		return MHD_HTTP_NOT_FOUND;
	}
	*out = json_pack("{s:s}", "deleted", canon);
	return MHD_HTTP_OK;
}

/* ---- stats ---------------------------------------------------------------------- */

static int
ctl_stats_fn(struct mt_behav *b, void *arg)
{
	mt_behav_get_stats(b, arg);
	return 0;
}

json_t *
ctl_api_behaviour_stats(struct ctl_behav *b, json_t *analytics)
{
	struct dp_analytics *a = b ? ctl_behav_analytics(b) : NULL;
	struct dp_blocklist *bl = b ? ctl_behav_blocklist(b) : NULL;
	json_t *o = analytics ? json_deep_copy(analytics) : json_object(), *tabs;
	struct mt_behav_stats s;
	unsigned int t;

	if (o == NULL)
		return NULL;
	if (bl != NULL) {
		json_object_set_new(o, "blocklist_entries", json_integer(dp_block_count(bl)));
		json_object_set_new(o, "blocklist_refused_full",
				    json_integer((json_int_t)dp_block_full_count(bl)));
	}
	if (a == NULL)
		return o;
	memset(&s, 0, sizeof(s));
	dp_analytics_with(a, ctl_stats_fn, &s);
	json_object_set_new(o, "suppressed", json_integer((json_int_t)s.suppressed));
	json_object_set_new(o, "detections_dropped", json_integer((json_int_t)s.detections_dropped));
	json_object_set_new(o, "templates_promoted", json_integer((json_int_t)s.templates_promoted));
	json_object_set_new(o, "blocks_active", json_integer((json_int_t)s.blocks_active));
	tabs = json_object();
	for (t = 0; t < MT_TAB__COUNT; t++)
		json_object_set_new(tabs, mt_behav_table_name((enum mt_behav_table)t),
				    json_pack("{s:I,s:I,s:I}", "entries", (json_int_t)s.entries[t],
					      "capacity", (json_int_t)s.caps[t],
					      "evictions", (json_int_t)s.evictions[t]));
	json_object_set_new(o, "tables", tabs);
	return o;
}
