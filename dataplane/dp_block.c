/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_block.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

struct dp_blocklist {
	struct rte_hash *h;
	pthread_mutex_t wlock;          /* writers only */
	uint32_t max;
	uint32_t count;
	uint64_t full;
	struct dp_block_info *info;     /* by key position, writer side */
};

struct dp_blocklist *
dp_block_create(const char *name, uint32_t max, struct rte_rcu_qsbr *qsbr)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = max,
		.key_len = sizeof(struct dp_block_key),
		.hash_func = rte_hash_crc,
		.socket_id = 0,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct rte_hash_rcu_config rcu = { .v = qsbr, .mode = RTE_HASH_QSBR_MODE_DQ };
	struct dp_blocklist *b;

	if (max < 8) {
		errno = EINVAL;
		return NULL;
	}
	b = rte_zmalloc("dp_block", sizeof(*b), 0);
	if (b == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	b->h = rte_hash_create(&hp);
	/* rte_hash may hand out positions up to max (its key store keeps a
	 * spare slot), so size the side table one larger. */
	b->info = rte_zmalloc("dp_block_info", sizeof(*b->info) * ((size_t)max + 1), 0);
	if (b->h == NULL || b->info == NULL ||
	    (qsbr != NULL && rte_hash_rcu_qsbr_add(b->h, &rcu) != 0)) {
		rte_hash_free(b->h);
		rte_free(b->info);
		rte_free(b);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&b->wlock, NULL);
	b->max = max;
	return b;
}

void
dp_block_destroy(struct dp_blocklist *b)
{
	if (b == NULL)
		return;
	rte_hash_free(b->h);
	rte_free(b->info);
	pthread_mutex_destroy(&b->wlock);
	rte_free(b);
}

void
dp_block_client_key(struct dp_block_key *k, uint8_t family, const uint8_t *addr)
{
	memset(k, 0, sizeof(*k));
	k->kind = DP_BLOCK_CLIENT;
	k->family = family;
	memcpy(k->addr, addr, family == 4 ? 4 : 16);
}

void
dp_block_identity_key(struct dp_block_key *k, uint64_t identity)
{
	memset(k, 0, sizeof(*k));
	k->kind = DP_BLOCK_IDENTITY;
	k->identity = identity;
}

int
dp_block_add(struct dp_blocklist *b, const struct dp_block_key *k, uint64_t now_ns,
	     uint64_t expires_ns, uint32_t sid, const char *reason)
{
	int32_t pos;
	bool fresh;

	if (k->kind != DP_BLOCK_CLIENT && k->kind != DP_BLOCK_IDENTITY)
		return -EINVAL;
	pthread_mutex_lock(&b->wlock);
	fresh = rte_hash_lookup(b->h, k) < 0;
	if (fresh && b->count >= b->max) {
		b->full++;
		pthread_mutex_unlock(&b->wlock);
		return -ENOSPC;
	}
	/* The expiry is the data word: one atomic store for readers. */
	if (rte_hash_add_key_data(b->h, k, (void *)(uintptr_t)expires_ns) != 0) {
		b->full++;
		pthread_mutex_unlock(&b->wlock);
		return -ENOSPC;
	}
	pos = rte_hash_lookup(b->h, k);
	if (pos >= 0 && (uint32_t)pos <= b->max) {
		struct dp_block_info *e = &b->info[pos];

		e->key = *k;
		if (fresh)
			e->added_ns = now_ns;
		e->expires_ns = expires_ns;
		e->sid = sid;
		snprintf(e->reason, sizeof(e->reason), "%s", reason ? reason : "");
	}
	if (fresh)
		b->count++;
	pthread_mutex_unlock(&b->wlock);
	return 0;
}

int
dp_block_del(struct dp_blocklist *b, const struct dp_block_key *k)
{
	int rc;

	pthread_mutex_lock(&b->wlock);
	rc = rte_hash_del_key(b->h, k) >= 0 ? 0 : -ENOENT;
	if (rc == 0)
		b->count--;
	pthread_mutex_unlock(&b->wlock);
	return rc;
}

unsigned int
dp_block_expire(struct dp_blocklist *b, uint64_t now_ns)
{
	const void *key;
	void *data;
	uint32_t it = 0;
	unsigned int n = 0;
	struct dp_block_key dead[64];
	unsigned int nd = 0, i;

	pthread_mutex_lock(&b->wlock);
	/* Collect first: deleting while iterating would skip entries. */
	while (nd < RTE_DIM(dead) && rte_hash_iterate(b->h, &key, &data, &it) >= 0)
		if ((uint64_t)(uintptr_t)data <= now_ns)
			dead[nd++] = *(const struct dp_block_key *)key;
	for (i = 0; i < nd; i++)
		if (rte_hash_del_key(b->h, &dead[i]) >= 0) {
			b->count--;
			n++;
		}
	pthread_mutex_unlock(&b->wlock);
	return n;
}

bool
dp_block_check(const struct dp_blocklist *b, const struct dp_block_key *k, uint64_t now_ns)
{
	void *data;

	if (b->count == 0)
		return false;   /* the common case costs one load */
	if (rte_hash_lookup_data(b->h, k, &data) < 0)
		return false;
	return now_ns < (uint64_t)(uintptr_t)data;
}

unsigned int
dp_block_list(struct dp_blocklist *b, void (*fn)(void *arg, const struct dp_block_info *e),
	      void *arg)
{
	const void *key;
	void *data;
	uint32_t it = 0;
	unsigned int n = 0;
	int32_t pos;

	pthread_mutex_lock(&b->wlock);
	while ((pos = rte_hash_iterate(b->h, &key, &data, &it)) >= 0) {
		if ((uint32_t)pos <= b->max) {
			fn(arg, &b->info[pos]);
			n++;
		}
	}
	pthread_mutex_unlock(&b->wlock);
	return n;
}

uint32_t
dp_block_count(const struct dp_blocklist *b)
{
	return __atomic_load_n(&b->count, __ATOMIC_RELAXED);
}

uint64_t
dp_block_full_count(const struct dp_blocklist *b)
{
	return b->full;
}
