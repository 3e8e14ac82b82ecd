/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Worker lcore context and packet path (internal to dataplane/).
 */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stdint.h>
#include <stdbool.h>

#include <rte_ethdev.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_analytics.h"
#include "dp_block.h"
#include "dp_flow.h"
#include "dp_http.h"
#include "dp_params.h"
#include "dp_plane.h"
#include "dp_tcp.h"

/* Worker counters, defined once: the enum-free struct and the name table
 * both come from this list (VPP-style X-macro). */
#define DP_WORKER_COUNTERS(X)                                                 \
	X(rx_packets)   X(rx_bytes)     X(tx_packets)   X(tx_bytes)               \
	X(tx_failed)    X(drop_verdict) X(drop_flow)    X(drop_policy)            \
	X(malformed)    X(non_ip)       X(fragments)    X(ipv4)                   \
	X(ipv6)         X(tcp)          X(udp)          X(other_l4)               \
	X(vlan)         X(csum_bad)     X(multiseg)     X(oversize)               \
	X(flow_alloc_failed) X(noinspect_packets) X(alerts) X(alerts_lost)        \
	X(matcher_errors) X(rejects)    X(rst_sent)     X(fail_open)              \
	X(fail_closed)  X(http_sessions_failed) X(ring_full) X(sink_packets)       \
	X(blocked_flows) X(blocked_requests) X(bodies_inspected) X(body_begin_failed) \
	X(behav_hits) X(behav_records) X(behav_records_lost) X(blocked_identities) \
	X(events) X(drop_overlap) X(frag_reassembled) X(frag_nomem) X(frag_tiny)

struct dp_worker_counters {
#define DP_X(n) uint64_t n;
	DP_WORKER_COUNTERS(DP_X)
#undef DP_X
};

/** One (port, queue) a worker polls. */
struct dp_rxq {
	uint16_t port;
	uint16_t queue;
};

struct dp_plane_shared;

/** Largest reassembled IP datagram inspected (bigger ones pass, counted). */
#define DP_REASM_BOUNCE 65600
/** Fragment reassembly table per worker: datagrams in progress, timeout. */
#define DP_FRAG_BUCKETS 1024
#define DP_FRAG_BUCKET_ENTRIES 8
#define DP_FRAG_TIMEOUT_S 10

/** Per-lcore context: everything a worker touches. */
struct dp_worker {
	uint16_t id;
	unsigned int lcore;
	uint16_t n_rxq;
	struct dp_rxq rxq[DP_MAX_PORTS];       /* direct/RSS mode */
	struct rte_ring *in_ring;              /* software mode: from the I/O lcore */
	struct rte_ring *out_ring;             /* software mode: back to the I/O lcore */
	uint16_t txq[RTE_MAX_ETHPORTS];        /* direct/RSS: our TX queue per port */
	struct rte_eth_dev_tx_buffer *txb[RTE_MAX_ETHPORTS];
	struct dp_plane_shared *sh;
	const struct dp_params *p;
	struct dp_flow_table *flows;
	struct dp_tcp_ctx tcp;
	struct dp_http_ctx http;
	struct mt_behav_worker *behav;         /* behaviour extraction (worker side) */
	struct dp_behav_item behav_item;       /* staging for a submit */
	const struct mt_rule_info *behav_hits[MT_BEHAV_REQ_HITS];
	struct dp_gen *gen;                    /* generation in use this burst */
	const struct dp_gen *params_gen;       /* generation whose settings are applied */
	const struct dp_params *base_p;        /* settings at creation (gen->params NULL) */
	struct mt_behav_wstats behav_stats;    /* every behaviour context this worker used */
	struct mt_result res;
	struct mt_txn ev_txn;                  /* view handed to engine-event alerts */
	struct mt_flow_tuple ev_tuple;         /* events without a flow (fragments) */
	struct dp_flow ev_flow;
	uint64_t frag_ev_ns;
	/* packet being processed */
	struct dp_flow *cur_flow;
	struct rte_mbuf *cur_mbuf;
	uint8_t cur_verdict;                   /* enum mt_action */
	uint64_t now_ns;
	uint64_t last_expire_ns;
	uint8_t *bounce;                       /* for multi-segment mbufs */
	uint8_t *bounce_reasm;                 /* a reassembled IP datagram, linear */
	struct rte_ip_frag_tbl *frag_tbl;      /* IP fragments being reassembled */
	struct rte_ip_frag_death_row frag_dr;
	struct dp_worker_counters cnt;
	volatile bool done;                    /* flushed and exited */
} __rte_cache_aligned;

/** State shared by all lcores, owned by the plane. */
struct dp_plane_shared {
	const struct dp_params *p;
	struct dp_gen *volatile gen;           /* RCU-published */
	struct rte_rcu_qsbr *qsbr;
	struct rte_ring *alert_ring;
	struct rte_mempool *alert_pool;
	struct rte_mempool *pkt_pool;
	struct dp_blocklist *blocklist;        /* written by control/analytics, read lock-free */
	struct dp_analytics *analytics;        /* behaviour stage, NULL if off */
	uint16_t port_id[DP_MAX_PORTS];        /* params index -> DPDK port id */
	int16_t out_idx[RTE_MAX_ETHPORTS];     /* DPDK port id -> params index of peer, -1 sink */
	int16_t idx_of_port[RTE_MAX_ETHPORTS]; /* DPDK port id -> params index */
	bool software;                         /* I/O lcore distributes */
	bool ts_offload[RTE_MAX_ETHPORTS];     /* port delivers RX timestamps */
	bool csum_check;
	bool pkt_time;                         /* time comes from packets (offline captures) */
	const uint64_t *replay_ts;             /* offline: timestamps in capture order */
	uint64_t replay_n;
	uint64_t replay_next;                  /* written only by the lcore receiving port 0 */
	bool rx_backpressure;                  /* offline: receive only with mbufs to spare */
	/* Offline lockstep (response policies): receive only once every alert
	 * and behaviour record produced so far has been consumed, so that a
	 * block decided by the analytics stage or the control plane lands
	 * before the next packet, as it would at live speed. */
	bool lockstep;
	uint8_t io_fail_policy;                /* I/O lcore, full worker ring (reloadable) */
	uint64_t ls_alerts_in, ls_alerts_out;  /* atomics */
	uint64_t ls_records_in, ls_records_out;
	int ts_dynfield;                       /* offset, or -1 */
	uint64_t ts_dynflag;
	uint64_t tsc_hz;
	uint64_t wall_base_ns;                 /* wall clock at tsc_base */
	uint64_t tsc_base;
	bool yield_when_idle;                  /* lcores share CPUs */
	volatile bool stop;                    /* set by the control thread */
	volatile bool io_rx_stopped;           /* the I/O lcore receives no more */
};

/** Worker lcore entry point (arg = struct dp_worker *). */
int dp_worker_main(void *arg);

/** I/O lcore entry point for software distribution (arg = struct dp_plane *). */
int dp_io_main(void *arg);

/** Process one packet; @return 1 to forward, 0 if it was consumed or dropped. */
int dp_worker_packet(struct dp_worker *w, struct rte_mbuf *m);

/** Flow-table release hook (arg = struct dp_worker *). */
void dp_worker_flow_release(void *arg, struct dp_flow *f);

/** The HTTP upcalls of a worker. */
extern const struct dp_http_ops dp_worker_http_ops;

/** Offline backpressure: 1 if the pool has room for another burst (and,
 * in lockstep, everything produced so far has been consumed). */
static inline int
dp_rx_room(const struct dp_plane_shared *sh, uint16_t burst)
{
	if (!sh->rx_backpressure)
		return 1;
	if (sh->lockstep &&
	    (__atomic_load_n(&sh->ls_records_out, __ATOMIC_ACQUIRE) !=
		     __atomic_load_n(&sh->ls_records_in, __ATOMIC_ACQUIRE) ||
	     __atomic_load_n(&sh->ls_alerts_out, __ATOMIC_ACQUIRE) !=
		     __atomic_load_n(&sh->ls_alerts_in, __ATOMIC_ACQUIRE)))
		return 0;
	return rte_mempool_avail_count(sh->pkt_pool) > (unsigned int)burst * 4u + 64u;
}

/** Lockstep bookkeeping: @p ctr += @p n when lockstep is on. */
static inline void
dp_lockstep_add(struct dp_plane_shared *sh, uint64_t *ctr, uint64_t n)
{
	if (sh->lockstep)
		__atomic_add_fetch(ctr, n, __ATOMIC_RELEASE);
}

/** Offline replay: stamp freshly received packets with capture times. */
void dp_stamp_replay(struct dp_plane_shared *sh, struct rte_mbuf **pkts, uint16_t n);

/** Name table for struct dp_worker_counters. */
extern const char *const dp_worker_counter_names[];
extern const unsigned int dp_worker_n_counters;

#endif /* DP_WORKER_H */
