/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_hll: HyperLogLog accuracy within the documented error
 * (1.04/sqrt(m)) from 1e3 to 1e6 distinct values, near-exact small counts
 * (linear counting), duplicates not counted, union. No EAL; ASan-clean.
 */
#include "tu_eal.h"
#include "mt_behav_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
test_accuracy(void)
{
	static uint8_t reg[1 << 12];
	const unsigned ps[] = { 10, 12 };

	for (unsigned pi = 0; pi < 2; pi++) {
		unsigned p = ps[pi];
		double se = mt_hll_error(p);

		for (unsigned long n = 1000; n <= 1000000; n *= 10) {
			double worst = 0;

			for (uint64_t trial = 0; trial < 3; trial++) {
				uint64_t seed = trial * 1000003 + n;
				double est, err;

				memset(reg, 0, sizeof(reg));
				for (unsigned long i = 0; i < n; i++) {
					/* the production inputs: keyed SipHash values */
					uint64_t h = mt_behav_fast_hash(&seed, sizeof(seed));

					splitmix(&seed);

					mt_hll_add(reg, p, h);
					if (i % 3 == 0) /* duplicates must not count */
						mt_hll_add(reg, p, h);
				}
				est = mt_hll_estimate(reg, p);
				err = fabs(est - (double)n) / (double)n;
				if (err > worst)
					worst = err;
				/* 3 standard errors: fails with probability ~0.3% per trial */
				CU_ASSERT(err < 3 * se);
			}
			printf("\n  p=%u n=%lu worst error %.2f%% (documented %.2f%%)", p, n, 100 * worst, 100 * se);
		}
	}
	printf(" ");
	CU_ASSERT_DOUBLE_EQUAL(mt_hll_error(10), 0.0325, 0.0001);
}

static void
test_small_and_merge(void)
{
	uint8_t a[64] = { 0 }, b[64] = { 0 };
	uint64_t s = 42;

	CU_ASSERT_DOUBLE_EQUAL(mt_hll_estimate(a, 6), 0, 0.001);
	for (int i = 0; i < 10; i++)
		mt_hll_add(a, 6, splitmix(&s));
	CU_ASSERT(fabs(mt_hll_estimate(a, 6) - 10) <= 1.5);
	for (int i = 0; i < 20; i++)
		mt_hll_add(b, 6, splitmix(&s));
	mt_hll_merge(a, b, 6);
	CU_ASSERT(fabs(mt_hll_estimate(a, 6) - 30) <= 5);
}

int
main(void)
{
	/* Fixed hash keys: the estimates below must repeat run after run. */
	static const uint8_t keys[48] = "apiguard unit-test keys, fixed for repeatability";

	if (mt_behav_keys_fixed(keys) != 0)
		return 1;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("hll", NULL, NULL);
	CU_add_test(s, "accuracy 1e3..1e6", test_accuracy);
	CU_add_test(s, "small counts, union", test_small_and_merge);
	return tu_run_all();
}
