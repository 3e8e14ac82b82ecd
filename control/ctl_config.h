/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Configuration: the YAML file, parsed strictly into an immutable struct.
 *
 * Every key is declared once in a table with its type, bounds and default.
 * Unknown keys, wrong types and out-of-range values are errors naming the
 * file, the line, the key path (e.g. "dataplane.flows.max") and the allowed
 * range. A file that has any error produces no configuration at all.
 */
#ifndef CTL_CONFIG_H
#define CTL_CONFIG_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "dp_params.h"

#define CTL_MAX_RULE_FILES 64
#define CTL_MAX_VARS 32
#define CTL_PATH_MAX 512

/** One address/port variable (rules: $NAME). */
struct ctl_var {
	char name[64];
	char value[512];
};

/** The whole configuration. */
struct ctl_config {
	struct dp_params dp;

	/* rules */
	char rule_files[CTL_MAX_RULE_FILES][CTL_PATH_MAX];
	size_t n_rule_files;
	struct ctl_var vars[CTL_MAX_VARS];
	size_t n_vars;
	char classification_file[CTL_PATH_MAX];   /**< "" = built in */
	char rule_cache_dir[CTL_PATH_MAX];        /**< "" = no cache */

	/* outputs */
	char log_dir[CTL_PATH_MAX];               /**< default "." */
	bool eve_enabled;
	char eve_file[CTL_PATH_MAX];              /**< relative to log_dir; default "eve.json" */
	bool stats_enabled;
	char stats_file[CTL_PATH_MAX];            /**< default "stats.json" */
	bool console_alerts;                      /**< print one line per alert to stdout */

	/* REST control plane */
	bool rest_enabled;
	char rest_listen[128];                    /**< "127.0.0.1:8088" */
	char rest_tokens_file[CTL_PATH_MAX];      /**< "TOKEN ROLE" lines; "" = loopback clients only, no tokens */
	char rest_tls_cert[CTL_PATH_MAX];         /**< PEM; with rest_tls_key: HTTPS */
	char rest_tls_key[CTL_PATH_MAX];
	char rest_audit_log[CTL_PATH_MAX];        /**< JSON lines of every change; relative to log_dir; default "audit.json" */
	uint32_t rest_max_body;                   /**< bytes; larger request bodies get 413 */
	uint32_t rest_sse_heartbeat;              /**< seconds between SSE heartbeats */
	uint32_t rest_max_connections;            /**< concurrent connections (libmicrohttpd limit) */
	uint32_t rest_max_streams;                /**< concurrent GET /alerts/stream clients */
	uint32_t alert_ring;                      /**< recent alerts kept for GET /alerts */
	char api_rules_file[CTL_PATH_MAX];        /**< rules added through the API; relative to log_dir; default "api.rules" */
};

/**
 * Fill @p c with the built-in defaults: no ports, the default rule pack,
 * log to ".", REST on 127.0.0.1:8088.
 */
void ctl_config_defaults(struct ctl_config *c);

/**
 * Parse a YAML file on top of the defaults.
 *
 * @param path  file to read
 * @param c     output; untouched unless 0 is returned
 * @param err   on failure, receives a malloc'd message, one error per line,
 *              each "FILE:LINE: KEY: REASON (allowed: RANGE)"; caller frees
 * @return 0, or a negative errno (-EINVAL for content errors, -errno for I/O)
 */
int ctl_config_load(const char *path, struct ctl_config *c, char **err);

/** As ctl_config_load() but from memory; @p origin names the text in errors. */
int ctl_config_load_string(const char *yaml, size_t len, const char *origin,
			   struct ctl_config *c, char **err);

/** One key whose value differs between two configurations. */
struct ctl_config_change {
	const char *path;   /**< dotted key, e.g. "dataplane.exception-policy" (static) */
	bool runtime;       /**< a reload applies it; otherwise it needs a restart */
};

/**
 * Compare the running configuration with a newly loaded one.
 * @param out  receives at most @p max changes, in key-table order
 * @return the number of keys that differ (may exceed @p max)
 */
size_t ctl_config_diff(const struct ctl_config *running, const struct ctl_config *next,
		       struct ctl_config_change *out, size_t max);

/**
 * Copy into @p running every key of @p next that a reload applies at run
 * time (policies, checksum mode, flow timeouts, reassembly cap, midstream,
 * HTTP ports, send-rst, rule files/variables/classification/cache, console
 * alerts, REST body limit and SSE heartbeat); keys that need a restart keep
 * their running values.
 */
void ctl_config_merge_runtime(struct ctl_config *running, const struct ctl_config *next);

#endif /* CTL_CONFIG_H */
