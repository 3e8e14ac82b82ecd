/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_flow.h"

#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_random.h>

/* Flow ids: worker id in the top bits, a per-worker counter below, so that
 * ids are unique across workers and stay below 2^53 (exact in JSON). */
#define DP_FLOW_ID_WORKER_SHIFT 44

struct dp_flow_table {
	struct rte_hash *h;
	struct dp_flow *flows;          /* indexed by rte_hash position */
	uint32_t max;
	uint16_t worker_id;
	uint64_t timeout_ns[DP_FLOW__CLASSES];
	struct dp_flow_list lru[DP_FLOW__CLASSES];
	dp_flow_release_fn release;
	void *arg;
	uint64_t next_id;
	struct dp_flow_counters cnt;
};

void
dp_flow_key_make(struct dp_flow_key *k, uint8_t family, uint8_t proto,
		 const uint8_t *src_ip, const uint8_t *dst_ip,
		 uint16_t sport, uint16_t dport, uint16_t vlan, int *src_is_lo)
{
	size_t alen = family == 4 ? 4 : 16;
	int c = memcmp(src_ip, dst_ip, alen);

	memset(k, 0, sizeof(*k));
	*src_is_lo = c < 0 || (c == 0 && sport <= dport);
	if (*src_is_lo) {
		memcpy(k->ip_lo, src_ip, alen);
		memcpy(k->ip_hi, dst_ip, alen);
		k->port_lo = sport;
		k->port_hi = dport;
	} else {
		memcpy(k->ip_lo, dst_ip, alen);
		memcpy(k->ip_hi, src_ip, alen);
		k->port_lo = dport;
		k->port_hi = sport;
	}
	k->vlan = vlan;
	k->proto = proto;
	k->family = family;
}

/* Seed of the flow hash, random per process (set once at start-up, read
 * only afterwards) so that nobody can precompute colliding tuples. */
static uint32_t dp_flow_seed = 0x9e3779b9;

void
dp_flow_seed_random(void)
{
	dp_flow_seed = (uint32_t)rte_rand();
}

uint32_t
dp_flow_key_hash(const struct dp_flow_key *k)
{
	/* The key is already direction-independent, so any hash of it is
	 * symmetric. CRC32-C runs in hardware where SSE4.2 exists. */
	return rte_hash_crc(k, sizeof(*k), dp_flow_seed);
}

static uint32_t
dp_flow_hash_fn(const void *key, uint32_t key_len, uint32_t init)
{
	(void)init;
	return rte_hash_crc(key, key_len, dp_flow_seed);
}

struct dp_flow_table *
dp_flow_table_create(const char *name, uint32_t max,
		     const uint32_t timeouts_s[DP_FLOW__CLASSES], int socket,
		     uint16_t worker_id, dp_flow_release_fn release, void *arg)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = max,
		.key_len = sizeof(struct dp_flow_key),
		.hash_func = dp_flow_hash_fn,
		.hash_func_init_val = 0x9e3779b9,
		.socket_id = socket,
		/* Single writer, single reader (the owning worker): no locks.
		 * Extendable buckets: the table holds all @max keys however
		 * they collide, so eviction happens only at the cap. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct dp_flow_table *t;
	int i;

	if (max < 8 || release == NULL) {
		errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket("dp_flow_table", sizeof(*t), 64, socket);
	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	t->h = rte_hash_create(&hp);
	if (t->h == NULL) {
		errno = rte_errno ? rte_errno : ENOMEM;
		rte_free(t);
		return NULL;
	}
	t->flows = rte_zmalloc_socket("dp_flows", sizeof(struct dp_flow) * (size_t)max,
				      64, socket);
	if (t->flows == NULL) {
		rte_hash_free(t->h);
		rte_free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->max = max;
	t->worker_id = worker_id;
	t->release = release;
	t->arg = arg;
	for (i = 0; i < DP_FLOW__CLASSES; i++) {
		TAILQ_INIT(&t->lru[i]);
		t->timeout_ns[i] = (uint64_t)timeouts_s[i] * 1000000000ull;
	}
	return t;
}

void
dp_flow_set_timeouts(struct dp_flow_table *t, const uint32_t timeouts_s[DP_FLOW__CLASSES])
{
	int i;

	for (i = 0; i < DP_FLOW__CLASSES; i++)
		t->timeout_ns[i] = (uint64_t)timeouts_s[i] * 1000000000ull;
}

/* Unlink and delete one flow; the release hook runs first. */
static void
dp_flow_remove(struct dp_flow_table *t, struct dp_flow *f)
{
	t->release(t->arg, f);
	TAILQ_REMOVE(&t->lru[f->cls], f, lru);
	rte_hash_del_key_with_hash(t->h, &f->key, f->hash);
	f->in_use = 0;
	t->cnt.active--;
}

void
dp_flow_flush_all(struct dp_flow_table *t)
{
	int c;

	for (c = 0; c < DP_FLOW__CLASSES; c++) {
		struct dp_flow *f;

		while ((f = TAILQ_FIRST(&t->lru[c])) != NULL)
			dp_flow_remove(t, f);
	}
}

void
dp_flow_table_destroy(struct dp_flow_table *t)
{
	if (t == NULL)
		return;
	dp_flow_flush_all(t);
	rte_hash_free(t->h);
	rte_free(t->flows);
	rte_free(t);
}

/* Make room: evict the oldest flow, cheapest class first. */
static int
dp_flow_evict_one(struct dp_flow_table *t)
{
	static const uint8_t order[] = { DP_FLOW_CLOSED, DP_FLOW_NEW, DP_FLOW_UDP, DP_FLOW_EST };
	size_t i;

	for (i = 0; i < sizeof(order); i++) {
		struct dp_flow *f = TAILQ_FIRST(&t->lru[order[i]]);

		if (f != NULL) {
			dp_flow_remove(t, f);
			t->cnt.evicted++;
			return 0;
		}
	}
	return -ENOENT;
}

struct dp_flow *
dp_flow_get(struct dp_flow_table *t, const struct dp_flow_key *k, uint32_t hash,
	    uint64_t now_ns, int create, int src_is_lo, int *created)
{
	struct dp_flow *f;
	int32_t pos;
	int tries;

	*created = 0;
	pos = rte_hash_lookup_with_hash(t->h, k, hash);
	if (pos >= 0)
		return &t->flows[pos];
	if (!create)
		return NULL;
	/* rte_hash can refuse a key before it is full (both candidate buckets
	 * taken), so eviction may take a few rounds. */
	for (tries = 0; tries < 2; tries++) {
		if (t->cnt.active < t->max) {
			pos = rte_hash_add_key_with_hash(t->h, k, hash);
			break;
		}
		if (dp_flow_evict_one(t) != 0)
			break;
	}
	if (pos < 0) {
		t->cnt.insert_failed++;
		return NULL;
	}
	f = &t->flows[pos];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->hash = hash;
	f->in_use = 1;
	f->lo_is_client = (uint8_t)(src_is_lo ? 1 : 0);
	f->first_ns = now_ns;
	f->last_ns = now_ns;
	f->cls = k->proto == 6 ? DP_FLOW_NEW : DP_FLOW_UDP;
	TAILQ_INSERT_TAIL(&t->lru[f->cls], f, lru);

	/* The client/server view the matchers use. */
	f->tuple.family = k->family;
	f->tuple.proto = k->proto;
	f->tuple.flow_id = ((uint64_t)t->worker_id << DP_FLOW_ID_WORKER_SHIFT) |
			   (++t->next_id & ((1ull << DP_FLOW_ID_WORKER_SHIFT) - 1));
	if (src_is_lo) {
		memcpy(f->tuple.client_ip, k->ip_lo, 16);
		memcpy(f->tuple.server_ip, k->ip_hi, 16);
		f->tuple.client_port = k->port_lo;
		f->tuple.server_port = k->port_hi;
	} else {
		memcpy(f->tuple.client_ip, k->ip_hi, 16);
		memcpy(f->tuple.server_ip, k->ip_lo, 16);
		f->tuple.client_port = k->port_hi;
		f->tuple.server_port = k->port_lo;
	}
	dp_tcp_conn_init(&f->tcp);
	t->cnt.created++;
	t->cnt.active++;
	*created = 1;
	return f;
}

void
dp_flow_touch(struct dp_flow_table *t, struct dp_flow *f, uint64_t now_ns,
	      enum dp_flow_class cls)
{
	TAILQ_REMOVE(&t->lru[f->cls], f, lru);
	f->cls = (uint8_t)cls;
	/* Offline captures may carry timestamps that step backwards. */
	if (now_ns > f->last_ns)
		f->last_ns = now_ns;
	TAILQ_INSERT_TAIL(&t->lru[cls], f, lru);
}

uint32_t
dp_flow_expire(struct dp_flow_table *t, uint64_t now_ns, uint32_t budget)
{
	uint32_t n = 0;
	int c;

	for (c = 0; c < DP_FLOW__CLASSES && n < budget; c++) {
		struct dp_flow *f;

		/* Each list is ordered by last activity and shares one timeout,
		 * so the head is always the next to expire. */
		while (n < budget && (f = TAILQ_FIRST(&t->lru[c])) != NULL &&
		       f->last_ns + t->timeout_ns[c] < now_ns) {
			dp_flow_remove(t, f);
			t->cnt.timed_out++;
			n++;
		}
	}
	return n;
}

const struct dp_flow_counters *
dp_flow_counters(const struct dp_flow_table *t)
{
	return &t->cnt;
}
