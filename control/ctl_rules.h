/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Rule generations: the rule files plus the rules added through the REST
 * API, built into a whole new struct dp_gen off the data path, published
 * with RCU, and freed once every worker has quiesced and no open body
 * still matches with it (dp_gen.body_refs == 0).
 *
 * The API-managed rules are kept in memory and persisted, one rule per
 * line, to a file (normally LOGDIR/api.rules) that is written to a
 * temporary name and renamed over the old one only once the generation
 * that includes it has been built: a restart loads it back, and a change
 * that fails leaves both the running generation and the file as they were.
 *
 * Threads: every function except ctl_rules_reap() may be called from any
 * control thread (REST connection threads, the main loop on SIGHUP); one
 * mutex serialises them, so builds happen one at a time. ctl_rules_reap()
 * runs on the main loop, the thread that drains alerts.
 */
#ifndef CTL_RULES_H
#define CTL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dp_plane.h"
#include "mt_engine.h"

/** Where rules come from. Pointed-to strings must outlive the object. */
struct ctl_rules_params {
	const char *const *files;       /**< rule files (copied list) */
	size_t n_files;
	const struct mt_var *vars;      /**< copied list */
	size_t n_vars;
	const char *classification_file; /**< NULL: built in */
	const char *cache_dir;          /**< NULL: none */
	const char *store_path;         /**< API rules file; NULL: not persisted */
	uint16_t n_workers;             /**< scratches per generation */
};

struct ctl_rules;

/**
 * Load the persisted API rules and build the first generation.
 * @param errs every rule error (file:line, keyword, reason) on failure
 * @return the object, or NULL (errno set; errs filled for rule errors)
 */
struct ctl_rules *ctl_rules_create(const struct ctl_rules_params *p, struct mt_errors *errs);

/**
 * Configuration reload: new rule sources (files, variables, classification
 * file, cache dir) and data-plane run-time settings (@p rt, NULL: the
 * plane's own), compiled into one generation with the API rules and
 * published like any other change. On failure (-EINVAL with @p errs, or
 * -ENOMEM) the running generation and the previous sources stay.
 */
int ctl_rules_reconfigure(struct ctl_rules *r, const struct ctl_rules_params *p,
			  const struct dp_params *rt, struct mt_errors *errs);

/** Free every generation. The data plane must be stopped (or never started). */
void ctl_rules_destroy(struct ctl_rules *r);

/** The generation to start the data plane with. */
struct dp_gen *ctl_rules_current(struct ctl_rules *r);

/**
 * From now on publish through @p dp (call after dp_plane_start()); before
 * that, a change replaces the generation directly. NULL detaches (call
 * before dp_plane_stop()).
 */
void ctl_rules_attach(struct ctl_rules *r, struct dp_plane *dp);

/**
 * Add the rules in @p text (one or more lines).
 * @param origin  names the text in errors (e.g. "request")
 * @param sids    receives the added sids (may be NULL); @p n_sids in: room, out: count
 * @return 0; -EINVAL rule errors (errs filled: parse errors name @p origin
 *         and its line, sid clashes name the file that has the sid);
 *         -EEXIST a sid was already added through the API (errs says which);
 *         -EIO the rules file could not be written; -ENOMEM
 */
int ctl_rules_add(struct ctl_rules *r, const char *text, const char *origin,
		  uint32_t *sids, size_t *n_sids, struct mt_errors *errs);

/**
 * Replace API rule @p sid with the one rule in @p text (same sid).
 * @return 0, -ENOENT no such rule, -EPERM the sid comes from a rule file
 *         (edit the file, then reload), -EINVAL (errs filled), -EIO
 */
int ctl_rules_replace(struct ctl_rules *r, uint32_t sid, const char *text, const char *origin,
		      struct mt_errors *errs);

/** Remove API rule @p sid. @return 0, -ENOENT, -EPERM, -EINVAL, -EIO */
int ctl_rules_delete(struct ctl_rules *r, uint32_t sid, struct mt_errors *errs);

/** Re-read the rule files into a new generation. @return 0 or -EINVAL/-ENOMEM */
int ctl_rules_reload(struct ctl_rules *r, struct mt_errors *errs);

/**
 * Publish a generation with the same rules (engine and scratches shared,
 * reference counted) and fresh behaviour worker contexts built from @p p
 * for every worker; later rule changes keep carrying them. NULL: back to
 * the workers' own default contexts. Before ctl_rules_attach() the current
 * generation is replaced directly.
 * @return 0, -EINVAL (a context could not be built, e.g. a bad JWT key;
 *         nothing changed), -ENOMEM
 */
int ctl_rules_set_behav(struct ctl_rules *r, const struct mt_behav_params *p);

/**
 * Free retired generations that no worker and no open body uses any more.
 * @p drain is called (once) before the first one is freed, so that alerts
 * still pointing at its rules are written out first.
 * @return generations still waiting
 */
unsigned int ctl_rules_reap(struct ctl_rules *r, void (*drain)(void *arg), void *arg);

/** Current generation id, rule count, API rule count (lock-free reads). */
uint64_t ctl_rules_generation(const struct ctl_rules *r);
size_t ctl_rules_count(const struct ctl_rules *r);
size_t ctl_rules_api_count(const struct ctl_rules *r);
/** Successful and failed changes since start. */
uint64_t ctl_rules_changes(const struct ctl_rules *r, bool failed);

/**
 * Every loaded rule: {"generation": N, "count": N, "rules": [RULE...]}
 * with RULE as from ctl_rules_get(). A new object.
 */
json_t *ctl_rules_list(struct ctl_rules *r);

/**
 * One rule: sid, gid, rev, action, msg, classtype, severity, techniques,
 * tactics, owasp, source ("file" | "api"), file, line, text. NULL if unknown.
 */
json_t *ctl_rules_get(struct ctl_rules *r, uint32_t sid);

/**
 * Techniques the loaded rules can report: {"T1190": [sid, ...], ...}.
 * A new object.
 */
json_t *ctl_rules_coverage(struct ctl_rules *r);

/** JSON array of errors: [{"file","line","keyword","reason"}]. */
json_t *ctl_rules_errors_json(const struct mt_errors *errs);

#endif
