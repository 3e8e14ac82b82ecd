/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Recent alerts for the REST API: a bounded ring of EVE alert objects,
 * each with a monotonically increasing cursor, plus all-time counts per
 * signature, ATT&CK technique and OWASP category (and technique x OWASP,
 * for the observed ATT&CK layer).
 *
 * Threads: the control thread pushes (after writing eve.json); REST
 * threads query and wait. Everything is under one mutex; the ring never
 * grows after creation.
 */
#ifndef CTL_ALERTS_H
#define CTL_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct ctl_alerts;

/** What a query selects; zero/NULL fields do not filter. */
struct ctl_alert_filter {
	uint64_t since;          /**< only cursors > since */
	uint32_t limit;          /**< most objects returned (0: 100) */
	int64_t sid;             /**< -1: any */
	const char *technique;   /**< "T1190": alerts tagged with it */
	const char *owasp;       /**< "API8:2023" */
	const char *src;         /**< src_ip equals */
};

/**
 * @param capacity alerts kept (older ones are overwritten)
 * @return ring or NULL (errno set)
 */
struct ctl_alerts *ctl_alerts_create(uint32_t capacity);

/** Free (no thread may still use it). */
void ctl_alerts_destroy(struct ctl_alerts *r);

/**
 * Add one alert. Takes ownership of @p eve (an object as written to
 * eve.json) and adds "cursor" to it.
 * @return the alert's cursor (first is 1)
 */
uint64_t ctl_alerts_push(struct ctl_alerts *r, json_t *eve);

/**
 * Alerts matching @p f, oldest first.
 * @param next  receives the cursor to pass as since= next time (the last
 *              cursor examined, even when it did not match)
 * @return a new array
 */
json_t *ctl_alerts_query(struct ctl_alerts *r, const struct ctl_alert_filter *f,
			 uint64_t *next);

/**
 * Wait up to @p timeout_ms for an alert newer than @p since.
 * @return 1 there is one, 0 timeout, -ESHUTDOWN after ctl_alerts_shutdown()
 */
int ctl_alerts_wait(struct ctl_alerts *r, uint64_t since, int timeout_ms);

/** Wake every waiter for good (server stopping). */
void ctl_alerts_shutdown(struct ctl_alerts *r);

/** Newest cursor (0: none yet). */
uint64_t ctl_alerts_last(struct ctl_alerts *r);

/**
 * All-time counts: {"alerts": N, "signature_id": {sid: n},
 * "mitre_technique_id": {T: n}, "owasp_api": {id: n},
 * "technique_owasp": {T: {id: n}}}. A new object.
 */
json_t *ctl_alerts_counts(struct ctl_alerts *r);

/** Capacity given at creation. */
uint32_t ctl_alerts_capacity(const struct ctl_alerts *r);

#endif
