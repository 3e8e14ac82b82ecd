/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * The behaviour analytics stage: one thread that owns all behavioural
 * state (matchers/mt_behav.h). Workers hand it one compact record per
 * finished transaction through a multi-producer ring; it runs the
 * detectors, turns detections into alert records on the shared alert
 * ring, and adds blocks to the blocklist that workers read without locks.
 * Because every worker feeds the same state, a run spread over workers is
 * still seen as one.
 */
#ifndef DP_ANALYTICS_H
#define DP_ANALYTICS_H

#include <stdint.h>

#include "mt_behav.h"
#include "mt_txn.h"

struct dp_plane_shared;

/** What a worker submits: the record plus what an alert needs besides. */
struct dp_behav_item {
	struct mt_behav_rec rec;
	struct mt_flow_tuple tuple;
	uint16_t uri_len;
	uint16_t ua_len;
	char uri[256];
	char ua[96];
};

/** Counters of the stage. */
struct dp_analytics_counters {
	uint64_t records;
	uint64_t records_lost;     /**< ring or pool full */
	uint64_t detections;
	uint64_t alerts;           /**< alert records emitted (not inline duplicates) */
	uint64_t alerts_lost;      /**< alert ring or pool full */
	uint64_t blocks_added;
	uint64_t blocks_failed;    /**< blocklist full */
	uint64_t blocks_expired;
};

struct dp_analytics;

/** Create (not started). @return NULL with *err set on failure. */
struct dp_analytics *dp_analytics_create(struct dp_plane_shared *sh,
					 const struct mt_behav_params *p,
					 uint32_t ring_size, char **err);

/** Start the thread. @return 0 or -errno. */
int dp_analytics_start(struct dp_analytics *a);

/** Process everything queued, then stop the thread (workers must be done). */
void dp_analytics_stop(struct dp_analytics *a);

/** Free. */
void dp_analytics_destroy(struct dp_analytics *a);

/**
 * Worker side (hot path, lock-free): copy @p it into the ring.
 * @return 0 or -ENOBUFS (counted).
 */
int dp_analytics_submit(struct dp_analytics *a, const struct dp_behav_item *it);

/** Counters (racy reads are fine). */
const struct dp_analytics_counters *dp_analytics_counters(const struct dp_analytics *a);

/**
 * Control side: run @p fn with the analytics state locked against the
 * analytics thread (inventory export, OpenAPI import, parameter changes).
 */
int dp_analytics_with(struct dp_analytics *a,
		      int (*fn)(struct mt_behav *b, void *arg), void *arg);

#endif /* DP_ANALYTICS_H */
