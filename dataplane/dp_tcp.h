/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * TCP stream reassembly, one instance per worker lcore.
 *
 * Each flow embeds a struct dp_tcp_conn (two directions). Segments that
 * arrive in order are delivered zero-copy: the callback gets a pointer into
 * the caller's packet. Out-of-order segments are copied into fixed-size
 * buffers from a per-worker rte_mempool (the global cap) and held, up to a
 * per-flow byte cap, until the hole before them fills.
 *
 * Overlap policy ("first wins", see docs/TCP.md): bytes already delivered,
 * or already buffered, are never replaced. A retransmission or overlap that
 * carries different bytes is counted in overlap_diff (an evasion signal);
 * only the bytes that fill a hole are taken from the new segment.
 *
 * Insertion defence (TTL): each direction keeps the highest IPv4 TTL / IPv6
 * hop limit seen. A segment more than ctx->ttl_limit below it could expire
 * between us and the receiver (the low-TTL "insertion" of Ptacek & Newsham):
 * it is reassembled like any other and the caller is told to raise its TTL
 * to the baseline before forwarding it, so the receiver gets the very bytes
 * we inspected (docs/TCP.md "Insertion: low TTL"). Data segments of one
 * direction whose TTLs lie more than ttl_limit apart flag the flow.
 *
 * Threading: everything here is called from the owning worker only.
 * Hot path: no heap allocation, no logging, no blocking.
 */
#ifndef DP_TCP_H
#define DP_TCP_H

#include <stdint.h>
#include <stdbool.h>

/** TCP flags as on the wire. */
#define DP_TCP_FIN 0x01
#define DP_TCP_SYN 0x02
#define DP_TCP_RST 0x04
#define DP_TCP_PSH 0x08
#define DP_TCP_ACK 0x10

struct dp_tcp_seg;  /* buffered out-of-order segment (private) */

/** One direction of a connection. */
struct dp_tcp_stream {
	uint32_t isn;               /**< initial sequence number (SYN) or pick-up point */
	uint32_t next_seq;          /**< next byte expected */
	uint32_t ooo_bytes;         /**< bytes held out of order */
	uint16_t ooo_segs;
	uint8_t started;            /**< next_seq is valid */
	uint8_t fin_seen;           /**< FIN received (its seq in fin_seq) */
	uint8_t fin_delivered;      /**< end of stream reported to the callback */
	uint8_t midstream;          /**< picked up without a SYN */
	uint8_t ttl_base;           /**< highest TTL / hop limit accepted (0: none yet) */
	uint32_t fin_seq;
	struct dp_tcp_seg *ooo;     /**< sorted by seq, non-overlapping */
};

/** Connection state. */
enum dp_tcp_state {
	DP_TCP_NONE = 0,
	DP_TCP_SYN_SENT,
	DP_TCP_SYN_RECV,
	DP_TCP_ESTABLISHED,
	DP_TCP_CLOSING,     /**< at least one FIN */
	DP_TCP_CLOSED,      /**< both FINs, or RST */
};

/** Both directions; dir 0 = client to server, dir 1 = server to client. */
struct dp_tcp_conn {
	struct dp_tcp_stream s[2];
	uint8_t state;              /**< enum dp_tcp_state */
	uint8_t ttl_flagged;        /**< DP_TCP_TTL_EVASION was returned (once per flow) */
	uint8_t data_ttl_seen;      /**< bit per direction: data_ttl_lo/hi valid */
	uint8_t data_ttl_lo[2];     /**< lowest TTL of a data segment, per direction */
	uint8_t data_ttl_hi[2];     /**< highest TTL of a data segment, per direction */
};

/**
 * What the caller should do with the segment, as bit flags (0: nothing).
 * Other recommendations (pool_exhausted, overlap_diff) are read from the
 * counters; see docs/TCP.md.
 */
enum dp_tcp_verdict {
	DP_TCP_PASS = 0,
	/** TTL far below the direction's baseline: before forwarding, raise the
	 * packet's TTL / hop limit to conn->s[dir].ttl_base, so that it reaches
	 * the receiver as it reached us (it was reassembled and inspected). */
	DP_TCP_RAISE_TTL = 1,
	/** Data TTLs of one direction now lie more than ttl_limit apart: report
	 * the flow (returned once per flow). */
	DP_TCP_TTL_EVASION = 2,
};

/** Callbacks into the layer above (HTTP). @p arg is the caller's cookie. */
struct dp_tcp_ops {
	/** In-order bytes of direction @p dir. */
	void (*data)(void *arg, int dir, const uint8_t *p, uint32_t len);
	/** @p len bytes of direction @p dir were lost and skipped. */
	void (*gap)(void *arg, int dir, uint32_t len);
	/** Direction @p dir ended (FIN reached in order, or RST). */
	void (*eof)(void *arg, int dir);
};

/** Counters kept by the reassembler (owned by the worker). */
struct dp_tcp_counters {
	uint64_t segments;          /**< segments with payload */
	uint64_t bytes_in_order;
	uint64_t bytes_reassembled; /**< delivered from the out-of-order buffer */
	uint64_t ooo_segments;      /**< segments held out of order */
	uint64_t retransmissions;   /**< segments entirely before next_seq */
	uint64_t overlaps;          /**< segments partly overlapping known bytes */
	uint64_t overlap_diff;      /**< overlaps whose bytes differ (evasion signal) */
	uint64_t gaps;              /**< holes given up on */
	uint64_t gap_bytes;
	uint64_t flow_cap_hits;     /**< per-flow out-of-order cap reached */
	uint64_t pool_exhausted;    /**< global buffer pool empty */
	uint64_t midstream_pickups;
	uint64_t bad_seq;           /**< segments far outside the window, ignored */
	uint64_t ttl_raised;        /**< segments whose TTL was more than ttl_limit below
				         the direction's baseline (DP_TCP_RAISE_TTL) */
	uint64_t ttl_evasion;       /**< flows whose data TTLs spread more than ttl_limit
				         in one direction (DP_TCP_TTL_EVASION) */
};

/** Per-worker reassembly context. */
struct dp_tcp_ctx {
	struct rte_mempool *seg_pool;   /**< buffers of DP_TCP_SEG_DATA bytes */
	uint32_t flow_cap_bytes;        /**< most out-of-order bytes held per direction */
	bool midstream;                 /**< pick up flows without a SYN */
	/** Raise (and flag) segments whose TTL / hop limit is more than this
	 * below the direction's baseline (0: no check). Snort's stream
	 * ttl_limit and normalizer min_ttl/new_ttl. */
	uint8_t ttl_limit;
	struct dp_tcp_ops ops;
	struct dp_tcp_counters cnt;
};

/** Payload bytes one pooled buffer holds (a segment may use several). */
#define DP_TCP_SEG_DATA 2048

/**
 * Create the per-worker buffer pool.
 * @param name    unique mempool name
 * @param n_bufs  number of buffers (global out-of-order cap = n_bufs * DP_TCP_SEG_DATA)
 * @param socket  NUMA socket
 * @return the pool or NULL (rte_errno set)
 */
struct rte_mempool *dp_tcp_pool_create(const char *name, uint32_t n_bufs, int socket);

/** Reset @p c to the empty state (no buffers held). */
void dp_tcp_conn_init(struct dp_tcp_conn *c);

/**
 * Feed one segment.
 *
 * @param ctx   worker context
 * @param c     the flow's connection state
 * @param dir   0 client->server, 1 server->client
 * @param flags TCP flags
 * @param seq   sequence number (host order)
 * @param ack   acknowledgement number (host order)
 * @param ttl   IPv4 TTL or IPv6 hop limit of the packet
 * @param p     payload (may be NULL when len == 0)
 * @param len   payload length
 * @param arg   cookie passed to the callbacks
 * @return enum dp_tcp_verdict flags: DP_TCP_RAISE_TTL, DP_TCP_TTL_EVASION,
 *         or DP_TCP_PASS (0).
 *
 * Callbacks run synchronously, in stream order, before this returns.
 */
unsigned int dp_tcp_segment(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c, int dir,
			    uint8_t flags, uint32_t seq, uint32_t ack, uint8_t ttl,
			    const uint8_t *p, uint32_t len, void *arg);

/**
 * Give up on every hole and deliver what is buffered (flow timeout or end
 * of capture), then report eof for both directions that have not ended.
 */
void dp_tcp_flush(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c, void *arg);

/** Return all buffers held by @p c to the pool (no callbacks). */
void dp_tcp_conn_release(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c);

#endif /* DP_TCP_H */
