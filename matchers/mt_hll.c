/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HyperLogLog (Flajolet et al. 2007) with a 64-bit hash and Ertl's
 * improved estimator: nearly exact for small counts (the detectors'
 * thresholds live there) and unbiased up to 2^64 / m.
 *
 * Documented error: relative standard error 1.04 / sqrt(m), m = 2^p.
 * The caller owns the registers (m bytes), so the tables embed them.
 */
#include "mt_behav_int.h"

#include <math.h>

bool
mt_hll_add(uint8_t *reg, unsigned p, uint64_t hash)
{
	uint64_t x = mt_mix64(hash);
	uint32_t idx = (uint32_t)(x >> (64 - p));
	uint64_t rest = (x << p) | (1ULL << (p - 1)); /* guard bit bounds the rank */
	uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);

	if (rank <= reg[idx])
		return false;
	reg[idx] = rank;
	return true;
}

/* Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
 * (2017): sigma and tau correct the small and large ranges, so the
 * estimator is unbiased across the whole range without HLL++'s empirical
 * bias tables (the classic estimator is ~2 standard errors off around
 * 2.5 m, where it switches to linear counting). */
static double
hll_sigma(double x)
{
	double y = 1, z = x, zp;

	if (x == 1)
		return INFINITY;
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (z != zp);
	return z;
}

static double
hll_tau(double x)
{
	double y = 1, z, zp;

	if (x == 0 || x == 1)
		return 0;
	z = 1 - x;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != zp);
	return z / 3;
}

double
mt_hll_estimate(const uint8_t *reg, unsigned p)
{
	uint32_t m = 1u << p, c[66] = { 0 };
	unsigned q = 64 - p, k;
	double z;

	for (uint32_t i = 0; i < m; i++)
		c[reg[i] <= q + 1 ? reg[i] : q + 1]++;
	if (c[0] == m)
		return 0;
	z = m * hll_tau(1.0 - (double)c[q + 1] / m);
	for (k = q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * hll_sigma((double)c[0] / m);
	return (0.5 / log(2.0)) * m * (double)m / z;
}

double
mt_hll_error(unsigned p)
{
	return 1.04 / sqrt((double)(1u << p));
}

void
mt_hll_merge(uint8_t *a, const uint8_t *b, unsigned p)
{
	for (uint32_t i = 0; i < (1u << p); i++)
		if (b[i] > a[i])
			a[i] = b[i];
}
