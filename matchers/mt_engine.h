/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Signature engine: Suricata-style HTTP rules compiled to Hyperscan.
 *
 * An engine is one immutable rule generation. It is built off the data
 * path (control thread), published to workers, and destroyed once no
 * worker can still see it. Matching functions are thread-safe for a
 * given engine as long as each thread uses its own scratch.
 *
 * Hot-path contract: mt_match_* never allocate, block, log or do I/O.
 */
#ifndef MT_ENGINE_H
#define MT_ENGINE_H

#include <stdint.h>
#include <stddef.h>

#include "mt_txn.h"

/** Rule actions, in increasing strength (the verdict is the maximum). */
enum mt_action {
	MT_ACT_NONE = 0,
	MT_ACT_ALERT,
	MT_ACT_PASS,    /**< stop inspecting the flow (Suricata: pass wins over alert) */
	MT_ACT_DROP,    /**< drop this packet and every later packet of the flow */
	MT_ACT_REJECT,  /**< drop, then RST both ends */
};

/** Immutable description of one loaded rule; lives as long as its engine. */
struct mt_rule_info {
	uint32_t sid;
	uint32_t gid;
	uint32_t rev;
	uint8_t action;             /**< enum mt_action */
	uint8_t severity;           /**< 1 (high) .. 4, from classtype/priority */
	uint16_t priority;
	const char *msg;
	const char *classtype;      /**< "" if none */
	const char *category;       /**< classification description, "" if none */
	const char *const *techniques;  /**< mitre_technique_id values */
	const char *const *tactics;     /**< mitre_tactic_id values */
	const char *const *owasp;       /**< owasp_api values */
	uint8_t n_techniques;
	uint8_t n_tactics;
	uint8_t n_owasp;
	const char *text;           /**< the rule as written */
	const char *file;           /**< origin file or "<inline>" */
	uint32_t line;
};

/** One rule that matched. */
struct mt_hit {
	const struct mt_rule_info *rule;
};

/** Most hits reported per call; more are counted in hits_dropped. */
#define MT_MAX_HITS 16

/** Result of one match call. */
struct mt_result {
	uint32_t n_hits;
	uint32_t hits_dropped;
	uint8_t verdict;            /**< strongest enum mt_action among hits */
	struct mt_hit hits[MT_MAX_HITS];
};

/** A rule-loading error: where, which keyword, why. */
struct mt_error {
	char file[256];
	uint32_t line;
	char keyword[48];
	char reason[256];
};

/** A list of errors (heap-owned; free with mt_errors_clear()). */
struct mt_errors {
	size_t n;
	struct mt_error *v;
};

/** Address/port variables ($HOME_NET, $HTTP_PORTS, ...). */
struct mt_var {
	const char *name;           /**< without the '$' */
	const char *value;          /**< e.g. "[10.0.0.0/8,192.168.0.0/16]" or "any" */
};

/** Everything an engine build needs besides the rules. */
struct mt_engine_params {
	const struct mt_var *vars;
	size_t n_vars;
	const char *classification_file;  /**< NULL: built-in classification */
	const char *cache_dir;            /**< NULL: no on-disk database cache */
	/** Bodies inspected at once per scratch (per worker); 0: default (64).
	 *  Each costs about 150 KiB, preallocated by mt_scratch_create() when a
	 *  loaded rule inspects a body. */
	uint32_t max_bodies;
};

struct mt_engine;
struct mt_scratch;

/**
 * Build an engine from rule text. The text may hold many rules, one per
 * line (with '\\' continuation and '#' comments).
 *
 * @param p      parameters (may be NULL for defaults)
 * @param files  rule sources: each element is a path
 * @param n      number of files
 * @param errs   receives every error with file:line, keyword and reason
 * @return the engine, or NULL (errno set, errs filled) if any rule fails:
 *         a generation loads whole or not at all.
 */
struct mt_engine *mt_engine_build_files(const struct mt_engine_params *p,
					const char *const *files, size_t n,
					struct mt_errors *errs);

/** As mt_engine_build_files() but from a string; @p origin names it in errors. */
struct mt_engine *mt_engine_build_text(const struct mt_engine_params *p,
				       const char *text, const char *origin,
				       struct mt_errors *errs);

/** Free an engine. No worker may still be using it. */
void mt_engine_destroy(struct mt_engine *e);

/** Number of rules loaded. */
size_t mt_engine_rule_count(const struct mt_engine *e);

/** Rule @p idx (0-based), or NULL. */
const struct mt_rule_info *mt_engine_rule(const struct mt_engine *e, size_t idx);

/** Rule by sid (gid 1), or NULL. */
const struct mt_rule_info *mt_engine_rule_by_sid(const struct mt_engine *e,
						 uint32_t sid);

/**
 * Create a scratch for one worker, big enough for @p e.
 * @return scratch or NULL (errno set).
 */
struct mt_scratch *mt_scratch_create(const struct mt_engine *e);

/**
 * Make @p s big enough for @p e too (called off the hot path when a new
 * generation is published, before workers can see it).
 * @return 0 or a negative errno.
 */
int mt_scratch_prepare(struct mt_scratch *s, const struct mt_engine *e);

/** Free a scratch. */
void mt_scratch_destroy(struct mt_scratch *s);

/**
 * Report every counter of @p s (plain per-worker values; the control plane
 * sums them over workers): fn(arg, name, value) once per counter, names
 * stable (e.g. "body_pool_exhausted", "inflate_errors",
 * "threshold_evictions"). Call from the thread that owns @p s, or accept
 * slightly stale values.
 */
void mt_scratch_counters(const struct mt_scratch *s,
			 void (*fn)(void *arg, const char *name, uint64_t v), void *arg);

/**
 * Match rules over the request head (method, URI, headers) of @p t.
 * @return number of hits (also in out->n_hits), or a negative errno on an
 *         internal matcher error (the caller applies its fail policy).
 */
int mt_match_request(const struct mt_engine *e, struct mt_scratch *s,
		     const struct mt_txn *t, struct mt_result *out);

/** Match rules over the response head of @p t (status line, headers). */
int mt_match_response(const struct mt_engine *e, struct mt_scratch *s,
		      const struct mt_txn *t, struct mt_result *out);

/**
 * Body inspection (streaming): one mt_body per message body (request body
 * = dir 0, response body = dir 1). The data plane hands de-chunked body
 * bytes as they arrive, segment by segment; the body matcher inflates
 * gzip/deflate content (Content-Encoding of @p t's message head, bounded
 * by a per-body cap), runs the body buffers' Hyperscan databases in
 * streaming mode so a pattern split across segments or chunks is found,
 * and confirms candidate rules at mt_body_end() (or as soon as a rule can
 * be decided). Memory comes from the scratch's preallocated pools: no heap
 * on the hot path; when a pool is empty, mt_body_begin() returns -ENOBUFS
 * and the caller counts it.
 */
struct mt_body;

/**
 * Start inspecting a body.
 * @param t    the transaction (its head for @p dir is valid now)
 * @param dir  MT_DIR_TO_SERVER (request body) or MT_DIR_TO_CLIENT
 * @param out  receives the state, or NULL when no loaded rule inspects
 *             this body (then 0 is returned and nothing else is needed)
 * @return 0, or a negative errno (-ENOBUFS: pool empty).
 */
int mt_body_begin(const struct mt_engine *e, struct mt_scratch *s,
		  const struct mt_txn *t, int dir, struct mt_body **out);

/** Receives a body's decoded bytes (see mt_body_set_tap()). */
typedef void (*mt_body_tap_fn)(void *ctx, const uint8_t *p, uint32_t n);

/**
 * Hand every decoded byte of this body (what the body rules see: inflated
 * when the head says gzip/x-gzip/deflate, the raw bytes from where
 * inflation failed, nothing beyond the inflate cap) to @p fn as well,
 * from within mt_body_data(). Lets another inspector (the behaviour
 * scanners) read the body without inflating it a second time.
 * Call after mt_body_begin() and before the first mt_body_data();
 * @p fn = NULL removes the tap. Same thread as the body calls.
 * @return 1 when this body is inflated, 0 when its bytes pass unchanged,
 *         -EINVAL when @p b is not an open body.
 */
int mt_body_set_tap(struct mt_body *b, mt_body_tap_fn fn, void *ctx);

/**
 * Feed body bytes (already de-chunked). Hits decided on these bytes are
 * reported in @p res (n_hits may be 0).
 * @return number of hits, or a negative errno (the caller applies its
 *         fail policy and should call mt_body_abort()).
 */
int mt_body_data(const struct mt_engine *e, struct mt_scratch *s, struct mt_body *b,
		 const struct mt_txn *t, const uint8_t *p, uint32_t len,
		 struct mt_result *res);

/**
 * End of the body: close the streams, decide the remaining candidate
 * rules, free @p b. @return number of hits or a negative errno.
 */
int mt_body_end(const struct mt_engine *e, struct mt_scratch *s, struct mt_body *b,
		const struct mt_txn *t, struct mt_result *res);

/**
 * Drop a body's state without matching (flow ended, parse error, fail
 * policy). @p s is the scratch the body began with.
 *
 * Lifetime: a body is matched to its end by the engine and scratch it
 * began with, even after a newer generation is published; the data plane
 * keeps that generation alive (a count of open bodies) until the last one
 * ends.
 */
void mt_body_abort(struct mt_scratch *s, struct mt_body *b);

/** Free the errors' storage and reset the list. */
void mt_errors_clear(struct mt_errors *errs);

/** Human name of an action ("alert", "drop", ...). */
const char *mt_action_name(enum mt_action a);

#endif /* MT_ENGINE_H */
