/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * The REST server on libmicrohttpd: one thread per connection (bounded by
 * a connection limit), so that a rule build or a Server-Sent Events stream
 * never holds up other clients, and never a data-plane lcore.
 *
 * For each request it authenticates (bearer token, or loopback-only when
 * no tokens file is configured), routes, enforces the body limit, decodes,
 * calls one action of ctl_api.h and encodes the reply; every request that
 * is not a GET/HEAD is appended to the audit log whatever its outcome.
 * The dashboard files (ctl_www.h) and /healthz are served without a token.
 */
#ifndef CTL_REST_H
#define CTL_REST_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_api.h"

/** Server settings. Strings are copied or read during ctl_rest_start(). */
struct ctl_rest_params {
	const char *listen;          /**< "127.0.0.1:8088" or "[::1]:8088" */
	const char *tokens_file;     /**< NULL/"": loopback clients only, no tokens */
	const char *tls_cert;        /**< PEM files; both set: HTTPS */
	const char *tls_key;
	const char *audit_log;       /**< NULL: no audit log */
	size_t max_body;             /**< larger bodies: 413 */
	unsigned int sse_heartbeat;  /**< seconds */
	unsigned int max_streams;    /**< concurrent /alerts/stream clients; more: 503 */
	unsigned int max_connections;
};

struct ctl_rest;

/**
 * Start serving @p api (which must outlive the server).
 * @param err receives a malloc'd message on failure
 * @return server or NULL
 */
struct ctl_rest *ctl_rest_start(const struct ctl_rest_params *p, struct ctl_api *api, char **err);

/** Stop (ends streams, joins connection threads) and free. NULL is fine. */
void ctl_rest_stop(struct ctl_rest *r);

/** Configuration reload: the request body limit for requests that begin
 * from now on (NULL @p r: nothing). */
void ctl_rest_set_max_body(struct ctl_rest *r, size_t max_body);

/** Port actually bound (useful with port 0). */
unsigned int ctl_rest_port(const struct ctl_rest *r);

/** Routes (exposed for tests). */
enum ctl_route {
	CTL_R_NONE = 0,
	CTL_R_STATIC,        /**< dashboard file */
	CTL_R_HEALTHZ,
	CTL_R_READYZ,
	CTL_R_METRICS,
	CTL_R_STATUS,
	CTL_R_STATS,
	CTL_R_CONFIG,
	CTL_R_OPENAPI,
	CTL_R_RULES,
	CTL_R_RULES_RELOAD,
	CTL_R_RULE,          /**< /api/v1/rules/{sid} */
	CTL_R_ALERTS,
	CTL_R_ALERTS_STREAM,
	CTL_R_LAYER,
	CTL_R_ENDPOINTS,
	CTL_R_OPENAPI_IMPORT, /**< /api/v1/endpoints/openapi */
	CTL_R_DETECTORS,
	CTL_R_BLOCKLIST,
	CTL_R_BLOCK,         /**< /api/v1/blocklist/{key} */
	CTL_R_CAMPAIGNS,
	CTL_R_CAMPAIGN,      /**< /api/v1/campaigns/{id} */
	CTL_R_CAMPAIGN_LAYER, /**< /api/v1/campaigns/{id}/layer */
	CTL_R_CONFIG_RELOAD, /**< POST /api/v1/config/reload */
};

/** Method bits for ctl_rest_match(). */
#define CTL_M_GET 1u
#define CTL_M_POST 2u
#define CTL_M_PUT 4u
#define CTL_M_DELETE 8u
#define CTL_M_PATCH 16u

/**
 * Find the route of @p url.
 * @param allowed  receives the route's method bits (0 when no route)
 * @param arg      receives the {sid} part for CTL_R_RULE, the {key} part for
 *                 CTL_R_BLOCK, the {id} part for CTL_R_CAMPAIGN and
 *                 CTL_R_CAMPAIGN_LAYER (points into url; for the layer it
 *                 ends at the next '/')
 * @return the route or CTL_R_NONE
 */
enum ctl_route ctl_rest_match(const char *url, unsigned int *allowed, const char **arg);

/** Method bit of @p method ("HEAD" counts as GET); 0 if unknown. */
unsigned int ctl_rest_method_bit(const char *method);

#endif
