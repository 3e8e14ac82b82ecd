/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Blocklist of clients (addresses) and identities (keyed hashes), with
 * expiry, read by workers without locks.
 *
 * An rte_hash in lock-free reader mode: workers only look up; writers (the
 * control plane and the analytics stage, serialised by a mutex here) add,
 * delete and expire. The expiry time is the hash's data word itself, so a
 * reader never sees half an entry; deleted key slots are reclaimed through
 * the data plane's RCU (workers report quiescence every burst).
 */
#ifndef DP_BLOCK_H
#define DP_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

/** What is blocked. */
enum dp_block_kind {
	DP_BLOCK_CLIENT = 1,    /**< a client address */
	DP_BLOCK_IDENTITY = 2,  /**< a caller identity (keyed hash) */
};

/** Lookup key. */
struct dp_block_key {
	uint8_t kind;           /**< enum dp_block_kind */
	uint8_t family;         /**< 4 or 6 for clients, 0 for identities */
	uint8_t pad[6];
	uint8_t addr[16];
	uint64_t identity;
};

/** Never expires. */
#define DP_BLOCK_FOREVER UINT64_MAX

/** One entry as listed (writer side). */
struct dp_block_info {
	struct dp_block_key key;
	uint64_t added_ns;
	uint64_t expires_ns;
	uint32_t sid;           /**< detection that caused it, 0 = manual */
	char reason[96];
};

struct dp_blocklist;

/** Create for at most @p max entries; readers are the workers of @p qsbr. */
struct dp_blocklist *dp_block_create(const char *name, uint32_t max, struct rte_rcu_qsbr *qsbr);

/** Free (no reader may still use it). */
void dp_block_destroy(struct dp_blocklist *b);

/** Build a client key. */
void dp_block_client_key(struct dp_block_key *k, uint8_t family, const uint8_t *addr);

/** Build an identity key. */
void dp_block_identity_key(struct dp_block_key *k, uint64_t identity);

/**
 * Add or extend an entry (writer side, any thread).
 * @return 0, -ENOSPC when full (counted), -EINVAL.
 */
int dp_block_add(struct dp_blocklist *b, const struct dp_block_key *k, uint64_t now_ns,
		 uint64_t expires_ns, uint32_t sid, const char *reason);

/** Remove an entry (writer side). @return 0 or -ENOENT. */
int dp_block_del(struct dp_blocklist *b, const struct dp_block_key *k);

/** Remove expired entries (writer side). @return how many. */
unsigned int dp_block_expire(struct dp_blocklist *b, uint64_t now_ns);

/** Worker side, lock-free: is @p k blocked at @p now_ns? */
bool dp_block_check(const struct dp_blocklist *b, const struct dp_block_key *k, uint64_t now_ns);

/** Call @p fn for every entry (writer side). @return entries listed. */
unsigned int dp_block_list(struct dp_blocklist *b,
			   void (*fn)(void *arg, const struct dp_block_info *e), void *arg);

/** Entries now, and adds refused because the list was full. */
uint32_t dp_block_count(const struct dp_blocklist *b);
uint64_t dp_block_full_count(const struct dp_blocklist *b);

#endif /* DP_BLOCK_H */
