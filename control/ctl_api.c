/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_api.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "mt_attack.h"

#ifndef AG_VERSION
#define AG_VERSION "0"
#endif

/* Most alerts one GET /alerts returns. */
#define CTL_API_ALERTS_MAX 1000

static uint64_t
ctl_api_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double
ctl_api_uptime(const struct ctl_api *api)
{
	return (double)(ctl_api_now_ns() - api->start_ns) / 1e9;
}

size_t
ctl_utf8_clean(char *s, size_t cap, const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;

	if (cap == 0)
		return 0;
	/* Copy whole valid UTF-8 sequences only; every other byte becomes
	 * '?'. jansson refuses invalid UTF-8, and client text quoted in an
	 * error or audit line must never make the answer disappear. */
	while (*p != '\0' && o + 1 < cap) {
		size_t n = 0, k;
		unsigned int cp = 0;

		if (p[0] < 0x80)
			n = 1;
		else if ((p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2)
			n = 2, cp = p[0] & 0x1f;
		else if ((p[0] & 0xf0) == 0xe0)
			n = 3, cp = p[0] & 0x0f;
		else if ((p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4)
			n = 4, cp = p[0] & 0x07;
		for (k = 1; k < n; k++) {
			if ((p[k] & 0xc0) != 0x80) {
				n = 0;
				break;
			}
			cp = cp << 6 | (p[k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			n = 0;
		if (n == 0 || o + n >= cap) {
			if (n != 0)
				break;   /* never cut a character in half */
			s[o++] = '?';
			p++;
			continue;
		}
		memcpy(s + o, p, n);
		o += n;
		p += n;
	}
	s[o] = '\0';
	return o;
}

json_t *
ctl_api_error(const char *code, const char *fmt, ...)
{
	char raw[512], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	ctl_utf8_clean(msg, sizeof(msg), raw);
	return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
}

/* Strict decimal unsigned integer (no sign, spaces or leading '+'). */
static int
ctl_api_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return -EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int
ctl_api_parse_sid(const char *s, uint32_t *sid, json_t **err)
{
	uint64_t v;

	if (ctl_api_parse_u64(s, UINT32_MAX, &v) != 0 || v == 0) {
		*err = ctl_api_error("bad_sid", "sid must be an integer 1..4294967295, got \"%.40s\"",
				     s ? s : "");
		return -EINVAL;
	}
	*sid = (uint32_t)v;
	return 0;
}

unsigned int
ctl_api_health(struct ctl_api *api, json_t **out)
{
	*out = json_pack("{s:s,s:s,s:f}", "status", "ok", "version", AG_VERSION,
			 "uptime_s", ctl_api_uptime(api));
	return MHD_HTTP_OK;
}

unsigned int
ctl_api_ready(struct ctl_api *api, json_t **out)
{
	bool ready = __atomic_load_n(&api->ready, __ATOMIC_ACQUIRE) != 0;

	*out = json_pack("{s:s}", "status", ready ? "ready" : "starting");
	return ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
}

static json_t *
ctl_api_get_stats(struct ctl_api *api)
{
	json_t *s = api->stats ? api->stats(api->stats_arg) : NULL;

	return s ? s : json_object();
}

unsigned int
ctl_api_status(struct ctl_api *api, json_t **out)
{
	json_t *s = ctl_api_get_stats(api);
	json_t *ports = json_array(), *p;
	size_t n_workers = json_array_size(json_object_get(s, "workers"));
	const char *dist = json_string_value(json_object_get(s, "distribution"));
	size_t i;

	json_array_foreach(json_object_get(s, "ports"), i, p)
		json_array_append(ports, json_object_get(p, "name"));
	/* main lcore + workers (+ the I/O lcore of software distribution) */
	*out = json_pack("{s:s,s:f,s:b,s:I,s:I,s:o,s:s,s:{s:I,s:I,s:I,s:I,s:I},s:{s:s,s:b,s:s},s:I}",
			 "version", AG_VERSION,
			 "uptime_s", ctl_api_uptime(api),
			 "ready", __atomic_load_n(&api->ready, __ATOMIC_ACQUIRE) != 0,
			 "lcores", (json_int_t)(n_workers + 1 +
				(dist && strcmp(dist, "software") == 0 ? 1 : 0)),
			 "workers", (json_int_t)n_workers,
			 "ports", ports,
			 "distribution", dist ? dist : "none",
			 "rules",
			 "generation", (json_int_t)ctl_rules_generation(api->rules),
			 "count", (json_int_t)ctl_rules_count(api->rules),
			 "api_rules", (json_int_t)ctl_rules_api_count(api->rules),
			 "changes", (json_int_t)ctl_rules_changes(api->rules, false),
			 "failed_changes", (json_int_t)ctl_rules_changes(api->rules, true),
			 "api",
			 "auth", api->tokens ? "tokens" : "loopback-only",
			 "tls", api->tls,
			 "listen", api->cfg ? api->cfg->rest_listen : "",
			 "alert_cursor", (json_int_t)ctl_alerts_last(api->alerts));
	json_decref(s);
	return *out ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

unsigned int
ctl_api_stats(struct ctl_api *api, json_t **out)
{
	json_t *s = ctl_api_get_stats(api);
	json_t *c = ctl_alerts_counts(api->alerts);

	/* Per-rule hits counted here, in the control plane, from every alert. */
	json_object_set(s, "rule_hits", json_object_get(c, "signature_id"));
	json_object_set_new(s, "rule_generation",
			    json_integer((json_int_t)ctl_rules_generation(api->rules)));
	if (api->campaigns != NULL)
		json_object_set_new(s, "campaigns", ctl_campaign_stats(api->campaigns));
	json_decref(c);
	*out = s;
	return MHD_HTTP_OK;
}

unsigned int
ctl_api_metrics(struct ctl_api *api, char **text)
{
	json_t *s = ctl_api_get_stats(api);
	json_t *c = ctl_alerts_counts(api->alerts);
	json_t *info = json_pack("{s:f,s:i,s:I,s:I,s:I,s:I,s:I,s:I}",
				 "uptime_seconds", ctl_api_uptime(api),
				 "ready", __atomic_load_n(&api->ready, __ATOMIC_ACQUIRE) != 0,
				 "rule_generation", (json_int_t)ctl_rules_generation(api->rules),
				 "rules_loaded", (json_int_t)ctl_rules_count(api->rules),
				 "api_rules", (json_int_t)ctl_rules_api_count(api->rules),
				 "rule_changes", (json_int_t)ctl_rules_changes(api->rules, false),
				 "rule_changes_failed", (json_int_t)ctl_rules_changes(api->rules, true),
				 "alert_cursor", (json_int_t)ctl_alerts_last(api->alerts));

	if (api->campaigns != NULL)
		json_object_set_new(s, "campaigns", ctl_campaign_stats(api->campaigns));
	*text = ctl_metrics_render(s, c, info);
	json_decref(s);
	json_decref(c);
	json_decref(info);
	return *text ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

static json_t *
ctl_api_secret(const char *v)
{
	/* Whether it is set is useful; the value (a key path) is not shown. */
	return json_string(v[0] ? "********" : "");
}

static const char *
ctl_api_policy(uint8_t p)
{
	return p == DP_FAIL_CLOSED ? "drop" : "pass";
}

static unsigned int
ctl_api_config_locked(struct ctl_api *api, json_t **out)
{
	static const char *const csum[] = { "auto", "all", "none" };
	static const char *const dist[] = { "auto", "rss", "software" };
	const struct ctl_config *c = api->cfg;
	const struct dp_params *d = &c->dp;
	json_t *ports = json_array(), *files = json_array(), *vars = json_object(), *hp = json_array();
	size_t i;

	for (i = 0; i < d->n_ports; i++)
		json_array_append_new(ports, json_pack("{s:s,s:s?}", "name", d->ports[i].name,
			"peer", d->ports[i].peer >= 0 ? d->ports[d->ports[i].peer].name : NULL));
	for (i = 0; i < c->n_rule_files; i++)
		json_array_append_new(files, json_string(c->rule_files[i]));
	for (i = 0; i < c->n_vars; i++)
		json_object_set_new(vars, c->vars[i].name, json_string(c->vars[i].value));
	for (i = 0; i < 16 && d->http_ports[i]; i++)
		json_array_append_new(hp, json_integer(d->http_ports[i]));
	*out = json_pack("{s:{s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o,"
			 "s:{s:I,s:I,s:I,s:I,s:I},"
			 "s:{s:I,s:I,s:b,s:I},s:{s:o,s:I,s:I,s:I,s:s},s:{s:I},s:{s:b}},"
			 "s:{s:o,s:o,s:s,s:s},"
			 "s:{s:s,s:{s:b,s:s},s:{s:b,s:s},s:b,s:I,s:s},"
			 "s:{s:b,s:s,s:o,s:s,s:o,s:s,s:I,s:I,s:I,s:I}}",
		"dataplane",
		"workers", (json_int_t)d->n_workers,
		"distribution", dist[d->distribution < 3 ? d->distribution : 0],
		"checksum", csum[d->checksum < 3 ? d->checksum : 0],
		"exception-policy", ctl_api_policy(d->fail_policy),
		"mbufs", (json_int_t)d->mbufs, "burst", (json_int_t)d->burst,
		"ring-size", (json_int_t)d->ring_size,
		"rx-descriptors", (json_int_t)d->rx_desc,
		"tx-descriptors", (json_int_t)d->tx_desc, "ports", ports,
		"flows", "max", (json_int_t)d->flow_max, "timeout-new", (json_int_t)d->flow_timeout_new,
		"timeout-established", (json_int_t)d->flow_timeout_est,
		"timeout-closed", (json_int_t)d->flow_timeout_closed,
		"timeout-udp", (json_int_t)d->flow_timeout_udp,
		"reassembly", "flow-cap", (json_int_t)d->reasm_flow_cap,
		"pool-buffers", (json_int_t)d->reasm_pool_bufs, "midstream", d->midstream,
		"ttl-limit", (json_int_t)d->reasm_ttl_limit,
		"http", "ports", hp, "sessions", (json_int_t)d->http_sessions,
		"spill-size", (json_int_t)d->http_spill_size,
		"spill-buffers", (json_int_t)d->http_spill_bufs,
		"on-parse-error", ctl_api_policy(d->http_error_policy),
		"alerts", "ring", (json_int_t)d->alert_ring,
		"reject", "send-rst", d->reject_send_rst,
		"rules", "files", files, "vars", vars,
		"classification-file", c->classification_file, "cache-dir", c->rule_cache_dir,
		"outputs", "log-dir", c->log_dir,
		"eve", "enabled", c->eve_enabled, "filename", c->eve_file,
		"stats", "enabled", c->stats_enabled, "filename", c->stats_file,
		"console", c->console_alerts, "alert-ring", (json_int_t)c->alert_ring,
		"api-rules", c->api_rules_file,
		"rest", "enabled", c->rest_enabled, "listen", c->rest_listen,
		"tokens-file", ctl_api_secret(c->rest_tokens_file),
		"tls-cert", c->rest_tls_cert,
		"tls-key", ctl_api_secret(c->rest_tls_key),
		"audit-log", c->rest_audit_log,
		"max-body", (json_int_t)c->rest_max_body,
		"max-connections", (json_int_t)c->rest_max_connections,
		"max-streams", (json_int_t)c->rest_max_streams,
		"sse-heartbeat", (json_int_t)c->rest_sse_heartbeat);
	return *out ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

unsigned int
ctl_api_config_reload(struct ctl_api *api, json_t **out)
{
	if (api->config_reload == NULL) {
		*out = ctl_api_error("unavailable", "configuration reload is not available");
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	return api->config_reload(api->config_reload_arg, out);
}

unsigned int
ctl_api_config(struct ctl_api *api, json_t **out)
{
	unsigned int st;

	if (api->cfg_lock != NULL)
		pthread_mutex_lock(api->cfg_lock);
	st = ctl_api_config_locked(api, out);
	if (api->cfg_lock != NULL)
		pthread_mutex_unlock(api->cfg_lock);
	return st;
}

unsigned int
ctl_api_openapi(struct ctl_api *api, json_t **out)
{
	(void)api;
	*out = ctl_openapi_doc();
	return *out ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

unsigned int
ctl_api_rules_list(struct ctl_api *api, json_t **out)
{
	*out = ctl_rules_list(api->rules);
	return MHD_HTTP_OK;
}

unsigned int
ctl_api_rule_get(struct ctl_api *api, const char *sid_s, json_t **out)
{
	uint32_t sid;

	if (ctl_api_parse_sid(sid_s, &sid, out) != 0)
		return MHD_HTTP_BAD_REQUEST;
	*out = ctl_rules_get(api->rules, sid);
	if (*out == NULL) {
		*out = ctl_api_error("not_found", "no rule with sid %u", sid);
		return MHD_HTTP_NOT_FOUND;
	}
	return MHD_HTTP_OK;
}

unsigned int
ctl_api_decode_rules(const char *content_type, const char *body, size_t len, char **text,
		     json_t **err)
{
	size_t ctlen;
	const char *semi;

	*text = NULL;
	if (content_type == NULL)
		content_type = "text/plain";
	semi = strchr(content_type, ';');
	ctlen = semi ? (size_t)(semi - content_type) : strlen(content_type);
	while (ctlen > 0 && content_type[ctlen - 1] == ' ')
		ctlen--;
	if (ctlen == 10 && strncasecmp(content_type, "text/plain", 10) == 0) {
		if (memchr(body, '\0', len) != NULL) {
			*err = ctl_api_error("bad_body", "the body holds a NUL byte");
			return MHD_HTTP_BAD_REQUEST;
		}
		*text = strndup(body, len);
	} else if (ctlen == 16 && strncasecmp(content_type, "application/json", 16) == 0) {
		json_error_t je;
		json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je), *r;

		if (j == NULL) {
			*err = json_pack("{s:{s:s,s:s,s:i,s:i}}", "error", "code", "bad_json",
					 "message", ctl_je_text(&je), "line", je.line, "column", je.column);
			return MHD_HTTP_BAD_REQUEST;
		}
		r = json_object_get(j, "rules");
		if (!json_is_object(j) || json_object_size(j) != 1 || !json_is_string(r)) {
			json_decref(j);
			*err = ctl_api_error("bad_json",
					     "expected exactly {\"rules\": \"RULE TEXT\"}");
			return MHD_HTTP_BAD_REQUEST;
		}
		if (memchr(json_string_value(r), '\0', json_string_length(r)) != NULL) {
			json_decref(j);
			*err = ctl_api_error("bad_json", "\"rules\" holds a NUL character");
			return MHD_HTTP_BAD_REQUEST;
		}
		*text = strdup(json_string_value(r));
		json_decref(j);
	} else {
		*err = ctl_api_error("unsupported_media_type",
				     "send rules as text/plain or application/json");
		return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
	}
	if (*text == NULL) {
		*err = ctl_api_error("internal", "out of memory");
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	return 0;
}

/* Map a ctl_rules result to a reply. */
static unsigned int
ctl_api_rules_result(struct ctl_api *api, int rc, struct mt_errors *errs, json_t *ok,
		     unsigned int ok_status, json_t **out)
{
	const char *code;
	unsigned int st;

	if (rc == 0) {
		json_object_set_new(ok, "generation",
				    json_integer((json_int_t)ctl_rules_generation(api->rules)));
		json_object_set_new(ok, "rules", json_integer((json_int_t)ctl_rules_count(api->rules)));
		*out = ok;
		mt_errors_clear(errs);
		return ok_status;
	}
	json_decref(ok);
	switch (rc) {
	case -EINVAL: st = MHD_HTTP_BAD_REQUEST; code = "invalid_rules"; break;
	case -EEXIST: st = MHD_HTTP_CONFLICT; code = "sid_exists"; break;
	case -EPERM: st = MHD_HTTP_CONFLICT; code = "rule_from_file"; break;
	case -ENOENT: st = MHD_HTTP_NOT_FOUND; code = "not_found"; break;
	default: st = MHD_HTTP_INTERNAL_SERVER_ERROR; code = "internal"; break;
	}
	*out = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", code,
			 "message", rc == -EINVAL || rc == -EEXIST ?
			 "the running rules are unchanged" : errs->n ? errs->v[0].reason :
			 strerror(-rc),
			 "errors", ctl_rules_errors_json(errs));
	mt_errors_clear(errs);
	return st;
}

unsigned int
ctl_api_rules_add(struct ctl_api *api, const char *text, json_t **out)
{
	struct mt_errors errs = { 0 };
	uint32_t sids[256];
	size_t n = 256, i;
	json_t *ok = json_object(), *arr = json_array();
	int rc = ctl_rules_add(api->rules, text, "request", sids, &n, &errs);

	for (i = 0; rc == 0 && i < n; i++)
		json_array_append_new(arr, json_integer(sids[i]));
	json_object_set_new(ok, "added", arr);
	return ctl_api_rules_result(api, rc, &errs, ok, MHD_HTTP_CREATED, out);
}

unsigned int
ctl_api_rule_put(struct ctl_api *api, const char *sid_s, const char *text, json_t **out)
{
	struct mt_errors errs = { 0 };
	uint32_t sid;
	int rc;

	if (ctl_api_parse_sid(sid_s, &sid, out) != 0)
		return MHD_HTTP_BAD_REQUEST;
	rc = ctl_rules_replace(api->rules, sid, text, "request", &errs);
	return ctl_api_rules_result(api, rc, &errs, json_pack("{s:I}", "replaced", (json_int_t)sid),
				    MHD_HTTP_OK, out);
}

unsigned int
ctl_api_rule_delete(struct ctl_api *api, const char *sid_s, json_t **out)
{
	struct mt_errors errs = { 0 };
	uint32_t sid;
	int rc;

	if (ctl_api_parse_sid(sid_s, &sid, out) != 0)
		return MHD_HTTP_BAD_REQUEST;
	rc = ctl_rules_delete(api->rules, sid, &errs);
	return ctl_api_rules_result(api, rc, &errs, json_pack("{s:I}", "deleted", (json_int_t)sid),
				    MHD_HTTP_OK, out);
}

unsigned int
ctl_api_rules_reload(struct ctl_api *api, json_t **out)
{
	struct mt_errors errs = { 0 };
	int rc = ctl_rules_reload(api->rules, &errs);

	return ctl_api_rules_result(api, rc, &errs, json_pack("{s:b}", "reloaded", 1),
				    MHD_HTTP_OK, out);
}

static bool
ctl_api_valid_technique(const char *s)
{
	size_t i;

	if (s[0] != 'T' || strlen(s) > 9)
		return false;
	for (i = 1; i < 5; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	if (s[5] == '\0')
		return true;
	return s[5] == '.' && isdigit((unsigned char)s[6]) && isdigit((unsigned char)s[7]) &&
	       isdigit((unsigned char)s[8]) && s[9] == '\0';
}

unsigned int
ctl_api_alert_filter(const struct ctl_api_alert_args *q, struct ctl_alert_filter *f, json_t **err)
{
	uint64_t v;

	memset(f, 0, sizeof(*f));
	f->sid = -1;
	f->limit = 100;
	if (q->since != NULL) {
		if (ctl_api_parse_u64(q->since, UINT64_MAX >> 1, &v) != 0) {
			*err = ctl_api_error("bad_query", "since must be a cursor (unsigned integer)");
			return MHD_HTTP_BAD_REQUEST;
		}
		f->since = v;
	}
	if (q->limit != NULL) {
		if (ctl_api_parse_u64(q->limit, CTL_API_ALERTS_MAX, &v) != 0 || v == 0) {
			*err = ctl_api_error("bad_query", "limit must be 1..%d", CTL_API_ALERTS_MAX);
			return MHD_HTTP_BAD_REQUEST;
		}
		f->limit = (uint32_t)v;
	}
	if (q->sid != NULL) {
		if (ctl_api_parse_u64(q->sid, UINT32_MAX, &v) != 0 || v == 0) {
			*err = ctl_api_error("bad_query", "sid must be 1..4294967295");
			return MHD_HTTP_BAD_REQUEST;
		}
		f->sid = (int64_t)v;
	}
	if (q->technique != NULL) {
		if (!ctl_api_valid_technique(q->technique)) {
			*err = ctl_api_error("bad_query", "technique must look like T1190 or T1110.004");
			return MHD_HTTP_BAD_REQUEST;
		}
		f->technique = q->technique;
	}
	if (q->owasp != NULL) {
		if (mt_owasp_find(q->owasp) == NULL) {
			*err = ctl_api_error("bad_query", "owasp must be a category id such as API1:2023");
			return MHD_HTTP_BAD_REQUEST;
		}
		f->owasp = q->owasp;
	}
	if (q->src != NULL) {
		unsigned char buf[16];

		if (inet_pton(AF_INET, q->src, buf) != 1 && inet_pton(AF_INET6, q->src, buf) != 1) {
			*err = ctl_api_error("bad_query", "src must be an IPv4 or IPv6 address");
			return MHD_HTTP_BAD_REQUEST;
		}
		f->src = q->src;
	}
	return 0;
}

unsigned int
ctl_api_alerts(struct ctl_api *api, const struct ctl_api_alert_args *q, json_t **out)
{
	struct ctl_alert_filter f;
	unsigned int st = ctl_api_alert_filter(q, &f, out);
	uint64_t next = 0;
	json_t *arr;

	if (st != 0)
		return st;
	arr = ctl_alerts_query(api->alerts, &f, &next);
	*out = json_pack("{s:o,s:I,s:I,s:I}", "alerts", arr, "next", (json_int_t)next,
			 "last", (json_int_t)ctl_alerts_last(api->alerts),
			 "capacity", (json_int_t)ctl_alerts_capacity(api->alerts));
	return MHD_HTTP_OK;
}

/* Techniques the enabled behaviour detectors can report, added to @p cov
 * ({"T1190": [sid, ...]}): a disabled detector reports nothing. */
static void
ctl_api_detector_coverage(struct ctl_behav *b, json_t *cov)
{
	struct mt_behav_params *p = malloc(sizeof(*p));
	unsigned int d;
	uint8_t t;

	if (p == NULL)
		return;
	ctl_behav_get(b, p);
	for (d = 0; d < MT_DET__COUNT; d++) {
		const struct mt_rule_info *ri = mt_behav_rule((enum mt_behav_det)d);

		if (ri == NULL || !p->det[d].enabled)
			continue;
		for (t = 0; t < ri->n_techniques; t++) {
			json_t *sids = json_object_get(cov, ri->techniques[t]);

			if (sids == NULL) {
				sids = json_array();
				json_object_set_new(cov, ri->techniques[t], sids);
			}
			json_array_append_new(sids, json_integer(ri->sid));
		}
	}
	free(p);
}

unsigned int
ctl_api_attack_layer(struct ctl_api *api, const char *kind, json_t **out)
{
	json_t *cov, *counts;

	if (kind == NULL)
		kind = "coverage";
	if (strcmp(kind, "coverage") != 0 && strcmp(kind, "observed") != 0) {
		*out = ctl_api_error("bad_query", "kind must be coverage or observed");
		return MHD_HTTP_BAD_REQUEST;
	}
	cov = ctl_rules_coverage(api->rules);
	if (api->behav != NULL)
		ctl_api_detector_coverage(api->behav, cov);
	counts = ctl_alerts_counts(api->alerts);
	*out = ctl_layer_build(kind, cov, counts);
	json_decref(cov);
	json_decref(counts);
	return *out ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
}
