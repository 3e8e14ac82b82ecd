/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * A standalone, single-threaded worker for tests and fuzzers: the real
 * packet path (dp_worker_packet(): parse, flow, TCP, HTTP, signature
 * matcher, behaviour worker side, verdict) without ports, lcores or a
 * plane. Frames go in as byte buffers; mbufs come from the kit's own pool,
 * anything the worker transmits (RSTs) lands in a ring the kit drains, and
 * alerts are drained to a callback.
 *
 * Unlike dp_plane, everything is deterministic: time only moves when the
 * caller says so, flows only expire when the caller asks, and the
 * analytics stage (optional) runs synchronously inside dp_testkit_flush().
 * dp_testkit_check_idle() then tells whether every pool is back to full:
 * a fuzzer calls it after each input to turn a leaked mbuf, reassembly
 * buffer, HTTP session, spill buffer, alert record or body reference into
 * a crash.
 *
 * Threading: one kit per thread; the thread must be an EAL thread (the
 * main lcore is fine). Two kits may exist at once if their names differ,
 * but at most one with analytics (its ring names are fixed).
 */
#ifndef DP_TESTKIT_H
#define DP_TESTKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_params.h"
#include "dp_plane.h"
#include "mt_behav.h"
#include "mt_engine.h"

struct dp_worker;
struct dp_testkit;

/** What a kit is built from. */
struct dp_testkit_params {
	/** Sizes and policies. ports[], n_ports, n_workers, distribution,
	 * burst, rings and descriptors are ignored. */
	struct dp_params dp;
	/** Signature rules; NULL: none. Not owned: must outlive the kit. */
	const struct mt_engine *engine;
	/** Behaviour worker side (identity, templates, body scanners). */
	bool behav;
	struct mt_behav_params behav_params;
	/** Run finished transactions through an analytics stage (detections
	 * become alerts) at each dp_testkit_flush(). Needs @c behav. */
	bool analytics;
	uint32_t analytics_ring;        /**< records held between flushes */
	/** Called for each alert drained; may be NULL. */
	void (*alert_cb)(void *arg, const struct dp_alert *a);
	void *alert_arg;
};

/** Totals since creation (or the last dp_testkit_reset()). */
struct dp_testkit_stats {
	uint64_t frames;
	uint64_t forwarded;       /**< dp_worker_packet() returned 1 */
	uint64_t dropped;         /**< returned 0 */
	uint64_t no_mbuf;         /**< the kit's pool was empty */
	uint64_t tx;              /**< packets the worker sent (RSTs) */
	uint64_t alerts;          /**< alert records drained */
	uint64_t expired;         /**< flows expired by dp_testkit_expire() */
};

/**
 * Small defaults that reach exhaustion paths quickly: 64 flows, 64
 * reassembly buffers, 16 HTTP sessions, 8 spill buffers of 4 KiB, 256
 * alert records, 255 mbufs; checksums not validated (DP_CSUM_NONE);
 * behaviour on with small tables; analytics off; no engine.
 */
void dp_testkit_params_defaults(struct dp_testkit_params *p);

/**
 * Create a kit (after rte_eal_init(), from an EAL thread).
 * @param name  unique among live kits (mempool and hash names derive from it)
 * @param err   receives a malloc'd message on failure
 * @return the kit or NULL
 */
struct dp_testkit *dp_testkit_create(const char *name, const struct dp_testkit_params *p,
				     char **err);

/** Flush and free. NULL is fine. */
void dp_testkit_destroy(struct dp_testkit *k);

/** The worker inside, for counters and assertions (owned by the kit). */
struct dp_worker *dp_testkit_worker(struct dp_testkit *k);

/** The parameters the worker reads; policies may be changed between frames. */
struct dp_params *dp_testkit_dp_params(struct dp_testkit *k);

/**
 * Turn checksum validation on (DP_CSUM_ALL) or off, reassembly pick-up of
 * flows without a SYN on or off. Between frames only.
 */
void dp_testkit_set_checks(struct dp_testkit *k, bool checksums, bool midstream);

/** Set the clock the worker sees (ns). It never moves by itself. */
void dp_testkit_set_time(struct dp_testkit *k, uint64_t now_ns);

/** The clock the worker sees. */
uint64_t dp_testkit_time(const struct dp_testkit *k);

/**
 * Push one frame through dp_worker_packet() as if received on @p port
 * (0 or 1: the two sides of an inline pair). Frames longer than one mbuf
 * become a segment chain. The mbuf is freed afterwards whatever the
 * verdict, and whatever the worker transmitted is drained.
 * @return 1 forwarded, 0 dropped, -ENOBUFS if no mbuf, -EINVAL for an
 *         empty or over-long (> 65535) frame.
 */
int dp_testkit_frame(struct dp_testkit *k, const uint8_t *frame, uint32_t len, uint16_t port);

/** The first bytes (up to 256, *@p len) of the last frame the worker
 * forwarded, as it left the worker (TTL rewrites included). */
const uint8_t *dp_testkit_last_frame(const struct dp_testkit *k, uint32_t *len);

/** Expire idle flows as the worker loop does (bounded budget). @return flows expired. */
uint32_t dp_testkit_expire(struct dp_testkit *k, uint32_t budget);

/**
 * End every flow (open transactions are reported, bodies end), run the
 * analytics stage over the finished transactions, drain alerts and TX.
 * @return alerts drained by this call.
 */
unsigned int dp_testkit_flush(struct dp_testkit *k);

/**
 * Flush, then start from a clean state: a fresh analytics stage (no
 * behavioural history), statistics zeroed. Worker counters and the
 * worker's JWT cache are kept (they do not change verdicts).
 * @return 0 or a negative errno (analytics could not be recreated).
 */
int dp_testkit_reset(struct dp_testkit *k);

/**
 * Check that nothing is held: no flow, every pool full (packets,
 * reassembly buffers, HTTP sessions, spill buffers, alert records,
 * analytics records), no open body on the generation.
 * @param why  receives the first thing still held (may be NULL)
 * @return 0 when idle, -EBUSY otherwise.
 */
int dp_testkit_check_idle(const struct dp_testkit *k, char *why, size_t len);

/** Totals. */
const struct dp_testkit_stats *dp_testkit_stats(const struct dp_testkit *k);

#endif /* DP_TESTKIT_H */
