/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * The REST API's action functions. Each takes already-decoded arguments,
 * does one thing, and returns an HTTP status with a JSON body; the HTTP
 * server (ctl_rest.c) only decodes requests, calls one of these and
 * encodes the answer, and the unit tests call them directly.
 *
 * Error bodies are always {"error": {"code": C, "message": M[, "errors":
 * [{"file","line","keyword","reason"}...]]}}.
 *
 * Threads: any REST thread; the objects they reach lock themselves.
 */
#ifndef CTL_API_H
#define CTL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>
#include <string.h>

#include <jansson.h>

#include "ctl_alerts.h"
#include "ctl_behav.h"
#include "ctl_campaign.h"
#include "ctl_config.h"
#include "ctl_rules.h"

/** What the actions act on; filled by the program (or a test). */
struct ctl_api {
	const struct ctl_config *cfg;
	struct ctl_rules *rules;
	struct ctl_alerts *alerts;
	struct ctl_behav *behav;     /**< NULL: no behaviour analytics (503) */
	struct ctl_campaign *campaigns; /**< NULL: no campaign engine (503) */
	/** The stats.json object (a new reference); NULL: no data plane. */
	json_t *(*stats)(void *arg);
	void *stats_arg;
	/** POST /config/reload: re-read the configuration and rules; returns
	 * the HTTP status and the body. NULL: not available (503). */
	unsigned int (*config_reload)(void *arg, json_t **out);
	void *config_reload_arg;
	/** Held while @c cfg is read or replaced (NULL: never replaced). */
	pthread_mutex_t *cfg_lock;
	uint64_t start_ns;           /**< CLOCK_MONOTONIC at start */
	int ready;                   /**< read atomically: 1 once the data plane runs */
	bool tokens;                 /**< a tokens file is in force (else loopback only) */
	bool tls;
};

/** Raw query arguments of GET /alerts (NULL: absent). */
struct ctl_api_alert_args {
	const char *since, *limit, *sid, *technique, *owasp, *src;
};

/** Build an error body (printf-style message). */
/**
 * Copy @p in to @p s (at most @p cap bytes with the NUL), keeping valid
 * UTF-8 and turning every other byte into '?', never cutting a character.
 * @return bytes written (without the NUL).
 */
size_t ctl_utf8_clean(char *s, size_t cap, const char *in);

/** jansson's error text made safe for a JSON answer (it may quote the
 * client's bytes). The result lives in @p je itself. */
static inline const char *
ctl_je_text(json_error_t *je)
{
	char tmp[sizeof(je->text)];

	ctl_utf8_clean(tmp, sizeof(tmp), je->text);
	memcpy(je->text, tmp, sizeof(tmp));
	return je->text;
}

json_t *ctl_api_error(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** GET /healthz: always 200 while the process answers. */
unsigned int ctl_api_health(struct ctl_api *api, json_t **out);
/** GET /readyz: 200 once the data plane runs, 503 before. */
unsigned int ctl_api_ready(struct ctl_api *api, json_t **out);
/** POST /api/v1/config/reload: the configuration file and the rule files,
 * re-read; run-time keys applied, the others reported as needing a restart. */
unsigned int ctl_api_config_reload(struct ctl_api *api, json_t **out);
/** GET /api/v1/status: version, uptime, lcores, workers, ports, rules, auth. */
unsigned int ctl_api_status(struct ctl_api *api, json_t **out);
/** GET /api/v1/stats: the stats.json layout plus "rules" (per-sid hits). */
unsigned int ctl_api_stats(struct ctl_api *api, json_t **out);
/**
 * GET /metrics: Prometheus text exposition format 0.0.4.
 * @param text receives a malloc'd document
 */
unsigned int ctl_api_metrics(struct ctl_api *api, char **text);
/** GET /api/v1/config: the effective configuration, secrets masked. */
unsigned int ctl_api_config(struct ctl_api *api, json_t **out);
/** GET /api/v1/openapi.json. */
unsigned int ctl_api_openapi(struct ctl_api *api, json_t **out);

/** GET /api/v1/rules. */
unsigned int ctl_api_rules_list(struct ctl_api *api, json_t **out);
/** GET /api/v1/rules/{sid}: 200, 400 bad sid, 404. */
unsigned int ctl_api_rule_get(struct ctl_api *api, const char *sid, json_t **out);

/**
 * Turn a request body into rule text: text/plain is the rules as they are;
 * application/json must be exactly {"rules": "..."} (duplicate keys,
 * unknown keys, other types: 400).
 * @param text receives a malloc'd NUL-terminated string on success
 * @return 0 (success), else an HTTP status (400, 415) with *err set
 */
unsigned int ctl_api_decode_rules(const char *content_type, const char *body, size_t len,
				  char **text, json_t **err);

/** POST /api/v1/rules: 201, 400 (errors with line, keyword, reason), 409. */
unsigned int ctl_api_rules_add(struct ctl_api *api, const char *text, json_t **out);
/** PUT /api/v1/rules/{sid}: 200, 400, 404, 409 (rule file rule). */
unsigned int ctl_api_rule_put(struct ctl_api *api, const char *sid, const char *text,
			      json_t **out);
/** DELETE /api/v1/rules/{sid}: 200, 400, 404, 409. */
unsigned int ctl_api_rule_delete(struct ctl_api *api, const char *sid, json_t **out);
/** POST /api/v1/rules/reload (and SIGHUP): 200 or 400. */
unsigned int ctl_api_rules_reload(struct ctl_api *api, json_t **out);

/**
 * Validate GET /alerts arguments into @p f.
 * @return 0, or 400 with *err set
 */
unsigned int ctl_api_alert_filter(const struct ctl_api_alert_args *q, struct ctl_alert_filter *f,
				  json_t **err);
/** GET /api/v1/alerts: {"alerts": [...], "next": CURSOR, "last": CURSOR}. */
unsigned int ctl_api_alerts(struct ctl_api *api, const struct ctl_api_alert_args *q,
			    json_t **out);
/** GET /api/v1/attack/layer?kind=coverage|observed: an ATT&CK Navigator 4.5 layer. */
unsigned int ctl_api_attack_layer(struct ctl_api *api, const char *kind, json_t **out);

/** Build a Navigator layer (exposed for tests): @p kind "coverage" or "observed". */
json_t *ctl_layer_build(const char *kind, json_t *coverage, json_t *counts);

/**
 * Render Prometheus text from a stats object, the alert counts and a flat
 * object of gauges ("generation", "rules", ...). malloc'd.
 */
char *ctl_metrics_render(json_t *stats, json_t *counts, json_t *info);

/** The OpenAPI 3.0 document of this API (a new reference). */
json_t *ctl_openapi_doc(void);

/* ---- behaviour analytics (ctl_api_behav.c) ---- */

/**
 * GET /api/v1/endpoints[?format=json|openapi]: the endpoint inventory
 * ({"endpoints": [...], "count": N}) or an OpenAPI 3.0 document of it.
 * 400 bad format, 503 without the analytics stage.
 */
unsigned int ctl_api_endpoints(struct ctl_api *api, const char *format, json_t **out);
/**
 * POST /api/v1/endpoints/openapi: import an OpenAPI 3 document (JSON or
 * YAML) whose paths become templates. 200 {"imported": N}; 400
 * invalid_openapi (with "line" for syntax errors); 415.
 */
unsigned int ctl_api_openapi_import(struct ctl_api *api, const char *ctype, const char *body,
				    size_t len, json_t **out);
/** GET /api/v1/detectors: the behaviour settings (JWT key material redacted). */
unsigned int ctl_api_detectors_get(struct ctl_api *api, json_t **out);
/**
 * PATCH /api/v1/detectors: a YAML/JSON document applied on top of the
 * settings (see ctl_behav_patch()). 200 with the new settings; 400
 * invalid_settings with "line" (nothing changed) or not_runtime; 415.
 */
unsigned int ctl_api_detectors_patch(struct ctl_api *api, const char *ctype, const char *body,
				     size_t len, json_t **out);
/** GET /api/v1/blocklist: {"count","capacity","refused_full","entries":[...]}. */
unsigned int ctl_api_blocklist_list(struct ctl_api *api, json_t **out);
/**
 * POST /api/v1/blocklist: {"kind":"client","address":A | "kind":"identity",
 * "identity":HEX, "expires_in":S?, "reason":R?}. 201 with the entry; 400
 * bad_json/bad_body; 415; 507 blocklist_full.
 */
unsigned int ctl_api_blocklist_add(struct ctl_api *api, const char *ctype, const char *body,
				   size_t len, json_t **out);
/** DELETE /api/v1/blocklist/{key}: 200, 400 bad_key, 404. */
unsigned int ctl_api_blocklist_delete(struct ctl_api *api, const char *key, json_t **out);
/**
 * The "behaviour" object of /stats: @p analytics (the data plane's
 * analytics counters, copied) plus blocklist and table sizes. A new object.
 */
json_t *ctl_api_behaviour_stats(struct ctl_behav *b, json_t *analytics);

/* ---- attack campaigns (ctl_api_campaign.c) ---- */

/** Raw query arguments of GET /campaigns (NULL: absent). */
struct ctl_api_campaign_args {
	const char *stage, *tactic, *since, *until, *open, *limit;
};

/**
 * GET /api/v1/campaigns[?stage=T&tactic=T&since=S&until=S&open=1&limit=N]:
 * {"campaigns": [...], "count": N, "stats": {...}}. stage: minimum stage
 * reached; tactic: reached that tactic; since/until: epoch seconds. 400
 * bad_query; 503 without the engine.
 */
unsigned int ctl_api_campaigns(struct ctl_api *api, const struct ctl_api_campaign_args *q,
			       json_t **out);
/** GET /api/v1/campaigns/{id}: the campaign and its timeline; 400, 404, 503. */
unsigned int ctl_api_campaign_get(struct ctl_api *api, const char *id, json_t **out);
/**
 * GET /api/v1/campaigns/{id}/layer: an ATT&CK Navigator 4.5 layer of one
 * campaign, techniques scored by count, commented with their order. 400,
 * 404, 503.
 */
unsigned int ctl_api_campaign_layer(struct ctl_api *api, const char *id, json_t **out);

#endif
