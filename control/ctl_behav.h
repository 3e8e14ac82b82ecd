/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Behaviour analytics seen from the control plane: the detector settings
 * in force (defaults, then LOGDIR/detectors.json, then PATCHes), how a
 * change reaches both halves of the module, and the handles the REST
 * actions use (analytics state, blocklist).
 *
 * A settings change is validated completely first (nothing changes on an
 * error), written to a temporary file, then applied to the workers (a new
 * generation whose behaviour contexts are built from the new settings; the
 * rule engine is shared, see ctl_rules_set_behav()), then to the analytics
 * thread (mt_behav_set_params() under dp_analytics_with()), and only then
 * is the file renamed over the old one.
 *
 * Threads: any control thread; one mutex serialises changes.
 */
#ifndef CTL_BEHAV_H
#define CTL_BEHAV_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ctl_rules.h"
#include "dp_analytics.h"
#include "dp_block.h"
#include "mt_behav.h"

struct ctl_behav;

/**
 * Defaults, then the settings persisted in @p store_path (if it exists).
 * @param store_path where changes persist; NULL: not persisted
 * @param err        on failure, a malloc'd "FILE: line N: key: reason"
 * @return the object, or NULL (errno set)
 */
struct ctl_behav *ctl_behav_create(const char *store_path, char **err);

/** Free (after the data plane stopped using what it points to). */
void ctl_behav_destroy(struct ctl_behav *b);

/** true when the settings differ from the built-in defaults' origin
 * (a persisted file was loaded or a PATCH applied). */
bool ctl_behav_custom(const struct ctl_behav *b);

/** A copy of the settings in force. */
void ctl_behav_get(struct ctl_behav *b, struct mt_behav_params *out);

/**
 * Connect what changes reach. @p rules gets the settings now when they are
 * custom (call before ctl_rules_attach() at start-up), @p a likewise.
 * Any may be NULL (tests, or no data plane yet).
 * @return 0 or a negative errno (the settings could not be applied)
 */
int ctl_behav_attach(struct ctl_behav *b, struct ctl_rules *rules, struct dp_analytics *a,
		     struct dp_blocklist *bl);

/** The analytics stage and the blocklist (NULL when not attached). */
struct dp_analytics *ctl_behav_analytics(const struct ctl_behav *b);
struct dp_blocklist *ctl_behav_blocklist(const struct ctl_behav *b);

/**
 * Apply a YAML or JSON document on top of the settings in force. The
 * informative "sid" of each detector (as GET shows it) is accepted when it
 * is the detector's own, and JWT key material shown as "<redacted>" keeps
 * the current key with the same alg and kid, so a GET document can be sent
 * back as it is. "limits" are fixed at start-up: changing them is refused.
 * @param err receives "line N: key: reason" (lines of @p text)
 * @return 0; -EINVAL (err set, nothing changed); -EPERM limits changed;
 *         -EIO the file could not be written; -ENOMEM
 */
int ctl_behav_patch(struct ctl_behav *b, const char *text, size_t len, char *err,
		    size_t errlen);

/** The settings as JSON (JWT key material redacted), a new object. */
json_t *ctl_behav_json(struct ctl_behav *b);

#endif
