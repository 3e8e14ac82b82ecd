/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Per-worker flow table: rte_hash over a direction-independent key, a
 * preallocated flow array indexed by the hash position, and one LRU list
 * per timeout class so that expiry only ever looks at list heads.
 *
 * Capacity is fixed at creation (the hard cap). When the table is full the
 * oldest flow of the cheapest class (closed, then new, then established) is
 * evicted and counted.
 *
 * Threading: one table per worker; no locks, no allocation after creation.
 */
#ifndef DP_FLOW_H
#define DP_FLOW_H

#include <stdint.h>
#include <sys/queue.h>

#include "dp_tcp.h"
#include "mt_txn.h"

struct dp_http_sess;
struct dp_gen;
struct mt_body;

/** Direction-independent key: the (ip, port) pair that sorts lower comes first. */
struct dp_flow_key {
	uint8_t ip_lo[16];
	uint8_t ip_hi[16];
	uint16_t port_lo;
	uint16_t port_hi;
	uint16_t vlan;
	uint8_t proto;
	uint8_t family;
} __attribute__((packed));

/** Timeout classes, each with its own LRU list. */
enum dp_flow_class {
	DP_FLOW_NEW = 0,     /**< no completed handshake yet */
	DP_FLOW_EST,         /**< established TCP */
	DP_FLOW_CLOSED,      /**< FIN or RST seen */
	DP_FLOW_UDP,         /**< UDP and other L4 */
	DP_FLOW__CLASSES
};

/** Flow flags. */
#define DP_FLOW_F_DROP     0x01  /**< drop every later packet */
#define DP_FLOW_F_NOINSPECT 0x02 /**< pass: forward without inspection */
#define DP_FLOW_F_HTTP_OFF 0x04  /**< not (or no longer) parsed as HTTP */
#define DP_FLOW_F_REJECTED 0x08  /**< RSTs already sent */
#define DP_FLOW_F_HTTP_SEEN 0x10 /**< at least one request head was parsed */
#define DP_FLOW_F_EVASION  0x20  /**< TCP overlap event already reported */
#define DP_FLOW_F_EOF0     0x40  /**< client to server stream ended */
#define DP_FLOW_F_EOF1     0x80  /**< server to client stream ended */

/** One flow. */
struct dp_flow {
	struct dp_flow_key key;
	uint8_t lo_is_client;        /**< 1: the key's lo side started the flow */
	uint8_t cls;                 /**< enum dp_flow_class */
	uint8_t flags;               /**< DP_FLOW_F_* */
	uint8_t in_use;
	uint32_t hash;               /**< rte_hash signature of key */
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t pkts[2];            /**< per direction: 0 to server, 1 to client */
	uint64_t bytes[2];
	TAILQ_ENTRY(dp_flow) lru;
	struct mt_flow_tuple tuple;  /**< client/server view, handed to matchers */
	struct dp_tcp_conn tcp;
	struct dp_http_sess *http;   /**< NULL until the first payload */
	struct mt_body *body[2];     /**< body inspection per direction, or NULL */
	struct dp_gen *body_gen[2];  /**< the generation each body began with */
};

TAILQ_HEAD(dp_flow_list, dp_flow);

/** Called before a flow is removed (timeout, eviction, flush). */
typedef void (*dp_flow_release_fn)(void *arg, struct dp_flow *f);

/** Counters of the flow table. */
struct dp_flow_counters {
	uint64_t created;
	uint64_t timed_out;
	uint64_t evicted;         /**< removed early because the table was full */
	uint64_t insert_failed;   /**< no room even after eviction */
	uint64_t active;          /**< gauge */
};

/** A per-worker flow table (opaque). */
struct dp_flow_table;

/**
 * Create a table for at most @p max flows.
 * @param name       unique name (rte_hash)
 * @param max        hard cap on flows
 * @param timeouts_s timeout per class in seconds
 * @param worker_id  mixed into flow ids so they are unique across workers
 * @param release    called before a flow is removed
 * @param arg        cookie for @p release
 * @return table or NULL (errno set)
 */
struct dp_flow_table *dp_flow_table_create(const char *name, uint32_t max,
					   const uint32_t timeouts_s[DP_FLOW__CLASSES],
					   int socket, uint16_t worker_id,
					   dp_flow_release_fn release, void *arg);

/**
 * Change the timeout of each class (configuration reload). Every flow of a
 * class shares its timeout, so the LRU lists stay ordered by expiry.
 */
void dp_flow_set_timeouts(struct dp_flow_table *t, const uint32_t timeouts_s[DP_FLOW__CLASSES]);

/** Release every flow (calling the release hook) and free the table. */
void dp_flow_table_destroy(struct dp_flow_table *t);

/** Compute the key of a packet; *src_is_lo = 1 if src is the key's lo side. */
void dp_flow_key_make(struct dp_flow_key *k, uint8_t family, uint8_t proto,
		      const uint8_t *src_ip, const uint8_t *dst_ip,
		      uint16_t sport, uint16_t dport, uint16_t vlan, int *src_is_lo);

/** Pick a random hash seed (once, before any table is used). */
void dp_flow_seed_random(void);

/** Symmetric hash of a key (same for both directions), for distribution. */
uint32_t dp_flow_key_hash(const struct dp_flow_key *k);

/**
 * Find the flow of @p k, creating it if @p create (evicting if full).
 * On creation, @p src_is_lo tells which side is the client.
 * @return the flow, or NULL (not found / could not create).
 */
struct dp_flow *dp_flow_get(struct dp_flow_table *t, const struct dp_flow_key *k,
			    uint32_t hash, uint64_t now_ns, int create, int src_is_lo,
			    int *created);

/** Refresh @p f: move it to the tail of the LRU of class @p cls. */
void dp_flow_touch(struct dp_flow_table *t, struct dp_flow *f, uint64_t now_ns,
		   enum dp_flow_class cls);

/** Expire at most @p budget idle flows. @return flows expired. */
uint32_t dp_flow_expire(struct dp_flow_table *t, uint64_t now_ns, uint32_t budget);

/** Remove every flow (end of capture, shutdown). */
void dp_flow_flush_all(struct dp_flow_table *t);

/** Counters. */
const struct dp_flow_counters *dp_flow_counters(const struct dp_flow_table *t);

/** Direction of a packet within @p f: 0 client->server, 1 server->client. */
static inline int
dp_flow_dir(const struct dp_flow *f, int src_is_lo)
{
	return src_is_lo == f->lo_is_client ? 0 : 1;
}

#endif /* DP_FLOW_H */
