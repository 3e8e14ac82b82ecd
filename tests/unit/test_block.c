/* SPDX-License-Identifier: Apache-2.0 */
/* Blocklist: clients and identities, expiry, capacity, listing. Needs EAL
 * (rte_hash, rte_rcu); runs without hugepages. */
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp_block.h"
#include "tu_eal.h"

static struct rte_rcu_qsbr *qs;

static void
test_client_and_identity(void)
{
	struct dp_blocklist *b = dp_block_create("tb1", 64, qs);
	uint8_t a1[4] = { 198, 18, 0, 1 }, a2[4] = { 198, 18, 0, 2 };
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct dp_block_key k1, k2, k6, id1, id2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	dp_block_client_key(&k1, 4, a1);
	dp_block_client_key(&k2, 4, a2);
	dp_block_client_key(&k6, 6, v6);
	dp_block_identity_key(&id1, 0x1234);
	dp_block_identity_key(&id2, 0x5678);
	CU_ASSERT_FALSE(dp_block_check(b, &k1, 100));
	CU_ASSERT_EQUAL(dp_block_add(b, &k1, 100, 1000, 2300010, "brute force"), 0);
	CU_ASSERT_EQUAL(dp_block_add(b, &k6, 100, DP_BLOCK_FOREVER, 0, "manual"), 0);
	CU_ASSERT_EQUAL(dp_block_add(b, &id1, 100, 500, 2300001, "bola"), 0);
	CU_ASSERT_TRUE(dp_block_check(b, &k1, 999));
	CU_ASSERT_FALSE(dp_block_check(b, &k1, 1000));   /* expiry is exclusive */
	CU_ASSERT_FALSE(dp_block_check(b, &k2, 200));
	CU_ASSERT_TRUE(dp_block_check(b, &k6, UINT64_MAX - 1));
	CU_ASSERT_TRUE(dp_block_check(b, &id1, 499));
	CU_ASSERT_FALSE(dp_block_check(b, &id2, 100));
	CU_ASSERT_EQUAL(dp_block_count(b), 3);
	/* Extending keeps one entry. */
	CU_ASSERT_EQUAL(dp_block_add(b, &k1, 150, 5000, 2300010, "again"), 0);
	CU_ASSERT_EQUAL(dp_block_count(b), 3);
	CU_ASSERT_TRUE(dp_block_check(b, &k1, 4000));
	/* Expiry removes only what is due. */
	CU_ASSERT_EQUAL(dp_block_expire(b, 600), 1);
	CU_ASSERT_FALSE(dp_block_check(b, &id1, 100));
	CU_ASSERT_EQUAL(dp_block_count(b), 2);
	CU_ASSERT_EQUAL(dp_block_del(b, &k6), 0);
	CU_ASSERT_EQUAL(dp_block_del(b, &k6), -ENOENT);
	CU_ASSERT_EQUAL(dp_block_count(b), 1);
	dp_block_destroy(b);
}

static void
count_entry(void *arg, const struct dp_block_info *e)
{
	unsigned int *n = arg;

	CU_ASSERT_EQUAL(e->key.kind, DP_BLOCK_IDENTITY);
	CU_ASSERT_EQUAL(e->sid, 7);
	CU_ASSERT_STRING_EQUAL(e->reason, "cap");
	(*n)++;
}

static void
test_capacity_and_list(void)
{
	struct dp_blocklist *b = dp_block_create("tb2", 16, qs);
	struct dp_block_key k;
	unsigned int i, listed = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (i = 0; i < 16; i++) {
		dp_block_identity_key(&k, 1000 + i);
		CU_ASSERT_EQUAL(dp_block_add(b, &k, 0, DP_BLOCK_FOREVER, 7, "cap"), 0);
	}
	dp_block_identity_key(&k, 9999);
	CU_ASSERT_EQUAL(dp_block_add(b, &k, 0, DP_BLOCK_FOREVER, 7, "cap"), -ENOSPC);
	CU_ASSERT_EQUAL(dp_block_full_count(b), 1);
	CU_ASSERT_EQUAL(dp_block_list(b, count_entry, &listed), 16);
	CU_ASSERT_EQUAL(listed, 16);
	/* Deleted slots come back once readers have quiesced. */
	for (i = 0; i < 16; i++) {
		dp_block_identity_key(&k, 1000 + i);
		CU_ASSERT_EQUAL(dp_block_del(b, &k), 0);
	}
	rte_rcu_qsbr_quiescent(qs, 0);
	for (i = 0; i < 16; i++) {
		dp_block_identity_key(&k, 5000 + i);
		CU_ASSERT_EQUAL(dp_block_add(b, &k, 0, DP_BLOCK_FOREVER, 7, "cap"), 0);
		rte_rcu_qsbr_quiescent(qs, 0);
	}
	CU_ASSERT_EQUAL(dp_block_count(b), 16);
	CU_ASSERT_EQUAL(dp_block_add(b, &k, 0, 10, 7, "cap"), 0);   /* update is not an add */
	dp_block_destroy(b);
}

static void
test_bad_kind(void)
{
	struct dp_blocklist *b = dp_block_create("tb3", 16, qs);
	struct dp_block_key k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memset(&k, 0, sizeof(k));
	CU_ASSERT_EQUAL(dp_block_add(b, &k, 0, 1, 0, NULL), -EINVAL);
	dp_block_destroy(b);
}

int
main(void)
{
	CU_pSuite s;

	if (tu_eal_init("test_block") != 0)
		return 1;
	qs = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), 64);
	if (qs == NULL || rte_rcu_qsbr_init(qs, 1) != 0)
		return 1;
	rte_rcu_qsbr_thread_register(qs, 0);
	rte_rcu_qsbr_thread_online(qs, 0);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("dp_block", NULL, NULL);
	CU_add_test(s, "clients and identities, expiry", test_client_and_identity);
	CU_add_test(s, "capacity, listing, slot reuse after RCU", test_capacity_and_list);
	CU_add_test(s, "bad key kind", test_bad_kind);
	return tu_run_all();
}
