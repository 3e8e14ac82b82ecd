/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * The data plane as a whole: ports, packet pool, worker lcores, the
 * optional software distribution stage, alert records and the rule
 * generation the workers read.
 *
 * Lifecycle (control thread only): dp_plane_create() after rte_eal_init(),
 * dp_plane_start() with a first generation, dp_plane_publish() for each new
 * generation, dp_plane_stop(), dp_plane_destroy().
 */
#ifndef DP_PLANE_H
#define DP_PLANE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "dp_params.h"
#include "mt_behav.h"
#include "mt_engine.h"

/**
 * One immutable generation of what workers read: the rule engine and one
 * Hyperscan scratch per worker. Built by the control plane, published with
 * RCU; freed by its builder once dp_plane_publish() returned it as old.
 */
struct dp_gen {
	uint64_t id;
	/** Open bodies still matched by this generation (atomic): an old
	 * generation may be freed once it has quiesced and this is 0. */
	uint32_t body_refs;
	const struct mt_engine *engine;              /**< may be NULL: no rules */
	struct mt_scratch *scratch[DP_MAX_WORKERS];  /**< [worker id] */
	/** Behaviour worker contexts [worker id], or NULL: the workers' own
	 * (defaults). Set when detector settings change; owned by the gen. */
	struct mt_behav_worker *behav[DP_MAX_WORKERS];
	/** Run-time settings this generation carries (configuration reload:
	 * policies, checksum mode, flow timeouts, reassembly cap, midstream,
	 * HTTP ports), or NULL: the ones the plane was created with. Only the
	 * keys a reload applies (CFG_F_RUNTIME in control/ctl_config.c) may
	 * differ from those: sizes and ports stay as created. */
	const struct dp_params *params;
};

/** Most bytes of each HTTP field copied into an alert record. */
#define DP_ALERT_URI 512
#define DP_ALERT_HOST 128
#define DP_ALERT_UA 256
#define DP_ALERT_METHOD 16
#define DP_ALERT_CTYPE 96

/** What the appliance did with the flow when it raised an alert. */
enum dp_alert_outcome {
	DP_OUTCOME_ALLOWED = 0,
	DP_OUTCOME_BLOCKED,     /**< drop or reject applied */
	DP_OUTCOME_PASSED,      /**< pass rule: inspection stopped */
};

/**
 * An alert on its way from a worker to the control plane. Everything is
 * copied (packets are gone by the time it is written) except @rule, which
 * lives as long as its generation: the control plane drains the alert ring
 * after a publish has quiesced and before it frees the old generation.
 */
struct dp_alert {
	uint64_t ts_ns;
	uint64_t txn_id;
	const struct mt_rule_info *rule;
	struct mt_flow_tuple tuple;
	uint16_t worker;
	uint8_t dir;               /**< 0 request side, 1 response side */
	uint8_t outcome;           /**< enum dp_alert_outcome */
	uint16_t status;
	uint8_t http_major;
	uint8_t http_minor;
	uint64_t req_content_length;
	uint64_t resp_content_length;
	uint16_t method_len, uri_len, host_len, ua_len, ctype_len;
	uint8_t uri_truncated;
	char method[DP_ALERT_METHOD];
	char uri[DP_ALERT_URI];
	char host[DP_ALERT_HOST];
	char ua[DP_ALERT_UA];
	char ctype[DP_ALERT_CTYPE];
	uint16_t evidence_len;      /**< behaviour detections: JSON object text */
	char evidence[640];
};

struct dp_plane;
struct dp_blocklist;
struct dp_analytics;

/**
 * Configure ports, pools and workers (lcores not started yet).
 * @param err receives a malloc'd message on failure
 * @return the plane or NULL
 */
struct dp_plane *dp_plane_create(const struct dp_params *p, char **err);

/**
 * Offline replay: give the timestamp of every packet of the capture, in
 * file order (net_pcap in DPDK 22.11 cannot deliver them). The lcore that
 * receives from the first port stamps each packet with the next one, so
 * flow time and alert times follow the capture, not the wall clock.
 * @p ts must stay valid until dp_plane_destroy(). Call before start.
 */
void dp_plane_set_replay_times(struct dp_plane *dp, const uint64_t *ts, uint64_t n);

/**
 * Offline replay: receive only while the packet pool has room for a few
 * bursts. net_pcap consumes a record even when it finds no free mbuf and
 * counts it in rx_nombuf, so without this backpressure a capture read
 * faster than it is processed loses packets. Never used on live ports,
 * where holding back only moves the loss into the NIC.
 */
void dp_plane_set_rx_backpressure(struct dp_plane *dp, bool on);

/**
 * Offline replay with response policies: receive the next burst only once
 * every alert and behaviour record produced so far has been consumed (by
 * the control plane and the analytics stage), so that blocks they decide
 * land where they would at live speed. Needs rx backpressure. Set before
 * dp_plane_start().
 */
void dp_plane_set_lockstep(struct dp_plane *dp, bool on);

/** Launch the worker (and I/O) lcores with @p gen. @return 0 or -errno. */
int dp_plane_start(struct dp_plane *dp, struct dp_gen *gen);

/**
 * Publish @p gen; wait until every worker has passed a quiescent state.
 * @return the previous generation, now unused by any worker.
 */
struct dp_gen *dp_plane_publish(struct dp_plane *dp, struct dp_gen *gen);

/** The generation workers currently read. */
struct dp_gen *dp_plane_current(struct dp_plane *dp);

/**
 * Offline mode: 1 once every packet of a finite input has been received
 * and processed. @p expected is the number of packets the input holds.
 */
int dp_plane_input_done(struct dp_plane *dp, uint64_t expected);

/** Stop: workers flush their flows (ending open transactions), then exit. */
void dp_plane_stop(struct dp_plane *dp);

/** Free everything (after dp_plane_stop). */
void dp_plane_destroy(struct dp_plane *dp);

/**
 * Hand queued alerts to @p cb (control thread).
 * @return number drained.
 */
unsigned int dp_plane_drain_alerts(struct dp_plane *dp,
				   void (*cb)(void *arg, const struct dp_alert *a),
				   void *arg, unsigned int max);

/** Called once per counter by dp_plane_stats(). */
typedef void (*dp_stat_fn)(void *arg, const char *group, int index,
			   const char *name, uint64_t value);

/**
 * Report every counter: group "worker" (index = worker id), "port"
 * (index = port index in params), and "total" (index -1) sums of the
 * worker counters. Reads counters other threads write: values are
 * momentarily consistent per counter, not across counters.
 */
void dp_plane_stats(struct dp_plane *dp, dp_stat_fn fn, void *arg);

/**
 * Memory (bytes) that dp_plane_create() will take from EAL for @p p, with
 * headroom for EAL itself: what -m must give when there are no hugepages.
 */
size_t dp_plane_mem_estimate(const struct dp_params *p);

/** Number of workers, ports; port name by index. */
uint16_t dp_plane_n_workers(const struct dp_plane *dp);
uint16_t dp_plane_n_ports(const struct dp_plane *dp);
const char *dp_plane_port_name(const struct dp_plane *dp, uint16_t idx);
/** The behaviour analytics stage (control: inventory, detectors). */
struct dp_analytics *dp_plane_analytics(struct dp_plane *dp);

/** Clients and identities blocked, with expiry (for control/analytics). */
struct dp_blocklist *dp_plane_blocklist(struct dp_plane *dp);

/** Transaction records in flight to the analytics stage. */
#define DP_ANALYTICS_RING 16384

/** Most blocklist entries. */
#define DP_BLOCKLIST_MAX 65536

/** true when flow time comes from packet timestamps (captures). */
bool dp_plane_packet_time(const struct dp_plane *dp);

/** "rss" or "software" or "direct". */
const char *dp_plane_distribution(const struct dp_plane *dp);

#endif /* DP_PLANE_H */
