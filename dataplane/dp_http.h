/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * HTTP/1.x sessions over reassembled TCP streams, parsed with llhttp.
 *
 * One session per TCP flow that carries payload, from a per-worker pool.
 * Requests and responses are paired into transactions in order
 * (pipelining, keep-alive, 100-continue, HEAD, 204/304, upgrades).
 *
 * Zero-copy: while a message head is parsed, field positions are kept as
 * offsets from the head's first byte. If the head ends in the segment it
 * started in (the common case), the fields handed to the matchers are slices
 * of that packet. If it crosses a segment boundary, the head bytes seen so
 * far are copied into a spill buffer (per-worker pool, bounded size) and
 * the fields are slices of the spill. Bytes beyond the spill size are
 * counted and the head is matched truncated.
 *
 * Threading: a context and its sessions belong to one worker.
 */
#ifndef DP_HTTP_H
#define DP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "mt_txn.h"

/**
 * Space the layer above may keep with each transaction (for its first
 * DP_HTTP_PIPELINE in flight) and with each direction's message. dp_http
 * never reads it; it points the upcalls at it (cur_txn_user, cur_msg_user).
 */
#define DP_HTTP_TXN_USER 448
#define DP_HTTP_MSG_USER 320

/** Requests that may wait for their response (pipelining depth). */
#define DP_HTTP_PIPELINE 4
/** Bytes of each request field kept until its response arrives. */
#define DP_HTTP_KEEP_METHOD 16
#define DP_HTTP_KEEP_URI 256
#define DP_HTTP_KEEP_HOST 96
#define DP_HTTP_KEEP_UA 128

struct dp_http_sess;

/** Upcalls to the worker. @p arg is the cookie given to dp_http_data(). */
struct dp_http_ops {
	/** Request head complete: t->req valid (slices), t->resp empty. */
	void (*request)(void *arg, struct mt_txn *t);
	/** Response head complete: t->resp valid; t->req holds the kept request fields. */
	void (*response)(void *arg, struct mt_txn *t);
	/** Transaction over: the response ended, or the flow ended first. */
	void (*txn_done)(void *arg, struct mt_txn *t);
	/** Parse error in direction @p dir; the session stops parsing that flow. */
	void (*error)(void *arg, int dir, int llhttp_errno);
	/**
	 * Body bytes of direction @p dir, de-chunked, in order (optional).
	 * @p t carries the flow, time and txn id; its heads are NOT valid
	 * here (the packets that carried them may be gone), except the kept
	 * request fields and the response status.
	 */
	void (*body)(void *arg, struct mt_txn *t, int dir, const uint8_t *p, uint32_t len);
	/** The message of direction @p dir ended (optional; not for 1xx). */
	void (*msg_end)(void *arg, struct mt_txn *t, int dir);
};

/** Counters (per worker). */
struct dp_http_counters {
	uint64_t requests;
	uint64_t responses;          /**< final responses */
	uint64_t interim;            /**< 1xx responses */
	uint64_t txn_done;
	uint64_t parse_errors;
	uint64_t non_http;           /**< the first bytes of a stream were not HTTP */
	uint64_t upgrades;           /**< 101 / CONNECT: parsing stops */
	uint64_t heads_spilled;      /**< heads copied because they crossed segments */
	uint64_t heads_truncated;    /**< heads longer than a spill buffer */
	uint64_t spill_exhausted;    /**< spill pool empty */
	uint64_t sessions_exhausted; /**< session pool empty: flow not parsed */
	uint64_t pipeline_overflow;  /**< more requests in flight than DP_HTTP_PIPELINE */
	uint64_t orphan_responses;   /**< response without a pending request */
	uint64_t gaps_recovered;     /**< TCP gaps skipped inside a body of known length */
	uint64_t gaps_fatal;         /**< TCP gaps that stopped parsing */
	uint64_t headers_dropped;    /**< headers beyond MT_MAX_HEADERS */
	uint64_t body_bytes[2];
};

/** Per-worker HTTP context. */
struct dp_http_ctx {
	struct rte_mempool *sess_pool;
	struct rte_mempool *spill_pool;
	uint32_t spill_size;
	llhttp_settings_t settings;
	struct dp_http_ops ops;
	struct dp_http_counters cnt;
	/* Per-call state, valid only inside dp_http_data() and friends. */
	void *arg;
	const uint8_t *seg;          /* the segment being parsed */
	uint32_t seg_len;
	uint64_t now_ns;
	struct mt_txn txn;           /* scratch transaction handed to the upcalls */
	/* The upcall's user areas (see DP_HTTP_TXN_USER): NULL when the
	 * transaction has none (beyond the first DP_HTTP_PIPELINE in flight). */
	void *cur_txn_user;
	void *cur_msg_user;
};

/**
 * Create the pools of a worker's context.
 * @return 0 or a negative errno.
 */
int dp_http_ctx_init(struct dp_http_ctx *c, const char *name, uint32_t sessions,
		     uint32_t spill_bufs, uint32_t spill_size, int socket,
		     const struct dp_http_ops *ops);

/** Free the pools (every session must be closed). */
void dp_http_ctx_fini(struct dp_http_ctx *c);

/**
 * Open a session for a flow. @p tuple must outlive the session.
 * @return the session, or NULL when the pool is empty (counted).
 */
struct dp_http_sess *dp_http_sess_open(struct dp_http_ctx *c,
				       const struct mt_flow_tuple *tuple);

/**
 * Close a session: transactions still open are reported with txn_done,
 * buffers return to their pools.
 */
void dp_http_sess_close(struct dp_http_ctx *c, struct dp_http_sess *s, void *arg);

/**
 * Parse @p len bytes of direction @p dir (0 = to server).
 * @return 0 while parsing goes on, -EPROTO once the session stopped
 *         parsing (error, non-HTTP, upgrade): further data is ignored.
 */
int dp_http_data(struct dp_http_ctx *c, struct dp_http_sess *s, int dir,
		 const uint8_t *p, uint32_t len, uint64_t now_ns, void *arg);

/** @p len bytes of direction @p dir are missing (TCP gap). */
void dp_http_gap(struct dp_http_ctx *c, struct dp_http_sess *s, int dir,
		 uint32_t len, void *arg);

/** Direction @p dir ended (FIN/RST/flush): finish a close-delimited body. */
void dp_http_eof(struct dp_http_ctx *c, struct dp_http_sess *s, int dir,
		 uint64_t now_ns, void *arg);

/** Bytes one session takes in its pool (for memory sizing). */
size_t dp_http_sess_size(void);

/** 1 if the session stopped parsing. */
int dp_http_stopped(const struct dp_http_sess *s);

#endif /* DP_HTTP_H */
