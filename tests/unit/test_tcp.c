/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP reassembly suite. Runs without hugepages (EAL --no-huge: the buffer
 * pool is an rte_mempool) and under ASan/UBSan. The TTL tests end with the
 * real worker path (dp_testkit), for the drop, the event and IPv6.
 *
 * A recording callback rebuilds each direction's stream, marking the bytes
 * reported as gaps, and flags protocol violations (zero-length data, data
 * or gaps after eof, a second eof). Every test checks the pool is full
 * again at the end, so a leaked buffer fails the test that leaked it.
 */
#include "dp_tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_mempool.h>

#include "dp_plane.h"
#include "dp_testkit.h"
#include "dp_worker.h"
#include "tu_eal.h"

#define REC_MAX (128 * 1024)
#define REC_GAPS 512
#define POOL_BUFS 1024
#define TINY_BUFS 3

struct rec {
	uint8_t buf[2][REC_MAX];
	uint8_t hole[2][REC_MAX];      /* 1 where the byte was reported as a gap */
	uint32_t len[2];
	uint32_t ngaps[2];
	uint32_t gap_at[2][REC_GAPS];
	uint32_t gap_len[2][REC_GAPS];
	int eofs[2];
	int violations;
	const uint8_t *last_p[2];
	char log[512];                 /* events in order: "0d" data, "1g" gap, "0e" eof */
	uint32_t nlog;
};

static struct rec R;
static struct dp_tcp_ctx ctx;
static struct rte_mempool *pool;
static struct rte_mempool *tiny;

static void
rec_log(int dir, char what)
{
	if (R.nlog + 2 < sizeof(R.log)) {
		R.log[R.nlog++] = (char)('0' + dir);
		R.log[R.nlog++] = what;
		R.log[R.nlog] = '\0';
	}
}

static void
rec_data(void *arg, int dir, const uint8_t *p, uint32_t len)
{
	struct rec *r = arg;

	if (len == 0 || r->eofs[dir] || r->len[dir] + len > REC_MAX) {
		r->violations++;
		return;
	}
	memcpy(r->buf[dir] + r->len[dir], p, len);
	r->len[dir] += len;
	r->last_p[dir] = p;
	rec_log(dir, 'd');
}

static void
rec_gap(void *arg, int dir, uint32_t len)
{
	struct rec *r = arg;

	if (len == 0 || r->eofs[dir] || r->len[dir] + len > REC_MAX ||
	    r->ngaps[dir] >= REC_GAPS) {
		r->violations++;
		return;
	}
	r->gap_at[dir][r->ngaps[dir]] = r->len[dir];
	r->gap_len[dir][r->ngaps[dir]] = len;
	r->ngaps[dir]++;
	memset(r->hole[dir] + r->len[dir], 1, len);
	r->len[dir] += len;
	rec_log(dir, 'g');
}

static void
rec_eof(void *arg, int dir)
{
	struct rec *r = arg;

	if (r->eofs[dir]++)
		r->violations++;
	rec_log(dir, 'e');
}

/* The TTL seg() sends: one value, so the TTL check (on, at the default
 * limit) stays quiet outside the tests that vary it. */
#define TTL_SAME 64

/* Fresh recorder and counters; the default pool, cap, TTL limit and
 * midstream on. */
static void
reset(struct dp_tcp_conn *c)
{
	memset(&R, 0, sizeof(R));
	memset(&ctx.cnt, 0, sizeof(ctx.cnt));
	ctx.seg_pool = pool;
	ctx.flow_cap_bytes = 256 * 1024;
	ctx.midstream = true;
	ctx.ttl_limit = 5;
	dp_tcp_conn_init(c);
}

static enum dp_tcp_verdict
seg_ttl(struct dp_tcp_conn *c, int dir, uint8_t flags, uint32_t seq, uint32_t ack,
	uint8_t ttl, const void *p, uint32_t len)
{
	return dp_tcp_segment(&ctx, c, dir, flags, seq, ack, ttl, p, len, &R);
}

static void
seg(struct dp_tcp_conn *c, int dir, uint8_t flags, uint32_t seq, uint32_t ack,
    const void *p, uint32_t len)
{
	CU_ASSERT_EQUAL(seg_ttl(c, dir, flags, seq, ack, TTL_SAME, p, len), DP_TCP_PASS);
}

/* Deterministic payload: distinct bytes so a misplaced byte shows. */
static void
fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 12345;
	uint32_t i;

	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345;
		p[i] = (uint8_t)(x >> 16);
	}
}

/* Direction @p dir holds exactly @p n bytes equal to @p want, no gaps. */
static int
stream_is(int dir, const uint8_t *want, uint32_t n)
{
	return R.len[dir] == n && R.ngaps[dir] == 0 && memcmp(R.buf[dir], want, n) == 0;
}

/* Every non-gap byte of direction @p dir matches @p want at its offset. */
static int
stream_matches_outside_gaps(int dir, const uint8_t *want, uint32_t n)
{
	uint32_t i;

	if (R.len[dir] > n)
		return 0;
	for (i = 0; i < R.len[dir]; i++)
		if (!R.hole[dir][i] && R.buf[dir][i] != want[i])
			return 0;
	return 1;
}

static void
check_clean(struct dp_tcp_conn *c)
{
	CU_ASSERT_EQUAL(R.violations, 0);
	dp_tcp_conn_release(&ctx, c);
	CU_ASSERT_EQUAL(c->s[0].ooo_bytes + c->s[1].ooo_bytes, 0);
	CU_ASSERT_EQUAL(c->s[0].ooo_segs + c->s[1].ooo_segs, 0);
	CU_ASSERT_PTR_NULL(c->s[0].ooo);
	CU_ASSERT_PTR_NULL(c->s[1].ooo);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), POOL_BUFS);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(tiny), TINY_BUFS);
}

/* ---- permutations ---- */

struct piece {
	uint32_t off, len;
};

static int
next_perm(int *a, int n)
{
	int i = n - 2, j, t;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return 0;
	j = n - 1;
	while (a[j] <= a[i])
		j--;
	t = a[i]; a[i] = a[j]; a[j] = t;
	for (i++, j = n - 1; i < j; i++, j--) {
		t = a[i]; a[i] = a[j]; a[j] = t;
	}
	return 1;
}

enum perm_mode {
	PM_SYN,           /* bare SYN, then the 5 segments in every order */
	PM_SYN_DUP,       /* ... with the second one sent again after the third */
	PM_SYN_OVERLAP,   /* ... with a re-segmented copy spanning three pieces */
	PM_TFO,           /* SYN carries piece 0, the other 5 in every order */
	PM_MIDSTREAM,     /* no SYN: piece 0 picks the flow up, the other 5 permuted */
};

/*
 * Sizes straddle DP_TCP_SEG_DATA so held segments use several buffers and
 * partly filled ones; the last piece carries the FIN.
 */
static const struct piece pieces6[6] = {
	{ 0, 300 }, { 300, 700 }, { 1000, 3000 }, { 4000, 1 }, { 4001, 2100 }, { 6101, 50 },
};
#define PERM_TOTAL 6151

static int
run_perm(enum perm_mode mode, uint32_t isn, const int *order, const uint8_t *data)
{
	struct dp_tcp_conn c;
	uint32_t base = isn + 1;      /* sequence number of byte 0 */
	const struct piece *pc = pieces6;
	int i, k, ok;

	reset(&c);
	if (mode == PM_MIDSTREAM) {
		base = isn;
		seg(&c, 0, DP_TCP_ACK, base, 0, data, pc[0].len);
	} else if (mode == PM_TFO) {
		seg(&c, 0, DP_TCP_SYN, isn, 0, data, pc[0].len);
	} else {
		seg(&c, 0, DP_TCP_SYN, isn, 0, NULL, 0);
		seg(&c, 0, DP_TCP_ACK, base, 0, data, pc[0].len);
	}
	for (i = 0; i < 5; i++) {
		k = order[i] + 1;
		seg(&c, 0, DP_TCP_ACK | (k == 5 ? DP_TCP_FIN : 0), base + pc[k].off, 0,
		    data + pc[k].off, pc[k].len);
		if (mode == PM_SYN_DUP && i == 2) {
			k = order[1] + 1;
			seg(&c, 0, DP_TCP_ACK | (k == 5 ? DP_TCP_FIN : 0), base + pc[k].off, 0,
			    data + pc[k].off, pc[k].len);
		}
		if (mode == PM_SYN_OVERLAP && i == 1)   /* bytes 800..4500, same data */
			seg(&c, 0, DP_TCP_ACK, base + 800, 0, data + 800, 3700);
	}
	ok = stream_is(0, data, PERM_TOTAL) && R.eofs[0] == 1 && R.eofs[1] == 0 &&
	     R.violations == 0 && c.s[0].ooo_bytes == 0 && c.s[0].ooo_segs == 0 &&
	     c.s[0].next_seq == base + PERM_TOTAL + 1 && c.state == DP_TCP_CLOSING &&
	     rte_mempool_avail_count(pool) == POOL_BUFS &&
	     ctx.cnt.bytes_in_order + ctx.cnt.bytes_reassembled == PERM_TOTAL;
	if (mode == PM_SYN_DUP)
		ok = ok && ctx.cnt.retransmissions + ctx.cnt.overlaps >= 1 &&
		     ctx.cnt.overlap_diff == 0;
	if (mode == PM_MIDSTREAM)
		ok = ok && ctx.cnt.midstream_pickups == 1 && c.s[0].midstream;
	if (!ok)
		fprintf(stderr, "perm failed: mode %d isn %u order %d%d%d%d%d got %u bytes\n",
			mode, isn, order[0], order[1], order[2], order[3], order[4], R.len[0]);
	dp_tcp_conn_release(&ctx, &c);
	return ok;
}

static void
test_permutations(void)
{
	static uint8_t data[PERM_TOTAL];
	/* the last two put 2^32 inside the stream and right at byte 0 */
	const uint32_t isns[] = { 1000, 0xFFFFFFFFu - 2500, 0xFFFFFFFFu };
	const enum perm_mode modes[] = { PM_SYN, PM_SYN_DUP, PM_SYN_OVERLAP, PM_TFO, PM_MIDSTREAM };
	int order[5], runs = 0, good = 0;
	size_t m, i;

	fill(data, sizeof(data), 7);
	for (m = 0; m < RTE_DIM(modes); m++) {
		for (i = 0; i < RTE_DIM(isns); i++) {
			int j;

			for (j = 0; j < 5; j++)
				order[j] = j;
			do {
				good += run_perm(modes[m], isns[i], order, data);
				runs++;
			} while (next_perm(order, 5));
		}
	}
	CU_ASSERT_EQUAL(runs, 5 * 3 * 120);
	CU_ASSERT_EQUAL(good, runs);
}

/*
 * Random segmentations with overlaps that carry conflicting versions of the
 * stream, in random order. Without caps or ACKs, "first wins" means each
 * byte must be the copy of the first segment that covered it: a reference
 * model independent of the implementation.
 */
#define FUZZ_LEN 20000
#define FUZZ_SEGS 90

static uint32_t
rnd(uint64_t *st)
{
	*st = *st * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*st >> 33);
}

static void
test_first_wins_model(void)
{
	static uint8_t versions[3][FUZZ_LEN], want[FUZZ_LEN], covered[FUZZ_LEN];
	struct { uint32_t off, len; int v; } sg[FUZZ_SEGS];
	struct dp_tcp_conn c;
	uint64_t st = 42;
	int trial, failures = 0, i, n, j;

	for (i = 0; i < 3; i++)
		fill(versions[i], FUZZ_LEN, 100 + (uint32_t)i);
	for (trial = 0; trial < 300; trial++) {
		uint32_t isn = (trial % 3 == 0) ? 0xFFFFFFFFu - rnd(&st) % 30000 : rnd(&st);
		uint32_t off = 0;

		n = 0;
		/* a partition covering everything ... */
		while (off < FUZZ_LEN) {
			uint32_t l = 1 + rnd(&st) % 2500;

			if (l > FUZZ_LEN - off)
				l = FUZZ_LEN - off;
			sg[n].off = off; sg[n].len = l; sg[n].v = (int)(rnd(&st) % 3);
			off += l;
			n++;
		}
		/* ... plus random overlapping ones */
		while (n < FUZZ_SEGS) {
			sg[n].off = rnd(&st) % FUZZ_LEN;
			sg[n].len = 1 + rnd(&st) % 3000;
			if (sg[n].len > FUZZ_LEN - sg[n].off)
				sg[n].len = FUZZ_LEN - sg[n].off;
			sg[n].v = (int)(rnd(&st) % 3);
			n++;
		}
		for (i = n - 1; i > 0; i--) {
			j = (int)(rnd(&st) % (uint32_t)(i + 1));
			typeof(sg[0]) t = sg[i]; sg[i] = sg[j]; sg[j] = t;
		}
		memset(covered, 0, sizeof(covered));
		for (i = 0; i < n; i++)
			for (off = sg[i].off; off < sg[i].off + sg[i].len; off++)
				if (!covered[off]) {
					covered[off] = 1;
					want[off] = versions[sg[i].v][off];
				}

		reset(&c);
		seg(&c, 0, DP_TCP_SYN, isn, 0, NULL, 0);
		for (i = 0; i < n; i++) {
			uint8_t fl = DP_TCP_ACK;

			if (sg[i].off + sg[i].len == FUZZ_LEN)
				fl |= DP_TCP_FIN;
			seg(&c, 0, fl, isn + 1 + sg[i].off, 0, versions[sg[i].v] + sg[i].off,
			    sg[i].len);
		}
		if (!stream_is(0, want, FUZZ_LEN) || R.eofs[0] != 1 || R.violations ||
		    c.s[0].ooo_bytes != 0 || rte_mempool_avail_count(pool) != POOL_BUFS ||
		    ctx.cnt.bytes_in_order + ctx.cnt.bytes_reassembled != FUZZ_LEN) {
			failures++;
			fprintf(stderr, "fuzz trial %d failed (%u bytes)\n", trial, R.len[0]);
		}
		dp_tcp_conn_release(&ctx, &c);
	}
	CU_ASSERT_EQUAL(failures, 0);
}

/*
 * Random segments, drops, small caps, the tiny pool and ACKs from the peer
 * that sometimes pass holes: whatever is given up, every delivered byte
 * sits at its right offset, the callbacks keep their contract, the caps
 * hold at every step and flush leaves the pool full.
 */
static void
test_random_caps_and_acks(void)
{
	static uint8_t d[FUZZ_LEN];
	struct dp_tcp_conn c;
	uint64_t st = 7;
	int trial, failures = 0, i;

	fill(d, sizeof(d), 16);
	for (trial = 0; trial < 200; trial++) {
		uint32_t isn = rnd(&st), top = 0, cap = 1000 + rnd(&st) % 8000;

		reset(&c);
		ctx.flow_cap_bytes = cap;
		ctx.seg_pool = (trial & 1) ? tiny : pool;
		seg(&c, 0, DP_TCP_SYN, isn, 0, NULL, 0);
		seg(&c, 1, DP_TCP_SYN | DP_TCP_ACK, 99, isn + 1, NULL, 0);
		for (i = 0; i < 150; i++) {
			uint32_t off = rnd(&st) % FUZZ_LEN, len = 1 + rnd(&st) % 1500;

			if (len > FUZZ_LEN - off)
				len = FUZZ_LEN - off;
			if (rnd(&st) % 8 == 0) {
				/* the server acks somewhere up to what was sent */
				seg(&c, 1, DP_TCP_ACK, 100, isn + 1 + rnd(&st) % (top + 1), NULL, 0);
				continue;
			}
			seg(&c, 0, DP_TCP_ACK, isn + 1 + off, 100, d + off, len);
			if (off + len > top)
				top = off + len;
			if (c.s[0].ooo_bytes > cap || c.s[0].ooo_segs > cap / DP_TCP_SEG_DATA * 4 + 16)
				failures++;
		}
		dp_tcp_flush(&ctx, &c, &R);
		if (R.violations || R.eofs[0] != 1 || R.eofs[1] != 1 ||
		    !stream_matches_outside_gaps(0, d, FUZZ_LEN) || R.len[0] > top ||
		    c.s[0].ooo_bytes != 0 || c.s[0].ooo_segs != 0 ||
		    rte_mempool_avail_count(pool) != POOL_BUFS ||
		    rte_mempool_avail_count(tiny) != TINY_BUFS) {
			failures++;
			fprintf(stderr, "random trial %d failed (%u bytes, top %u)\n", trial,
				R.len[0], top);
		}
		dp_tcp_conn_release(&ctx, &c);
	}
	ctx.seg_pool = pool;
	CU_ASSERT_EQUAL(failures, 0);
}

/* ---- basic behaviour ---- */

static void
test_zero_copy_in_order(void)
{
	struct dp_tcp_conn c;
	uint8_t a[100], b[50];

	reset(&c);
	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	seg(&c, 0, DP_TCP_SYN, 500, 0, NULL, 0);
	CU_ASSERT_EQUAL(c.state, DP_TCP_SYN_SENT);
	CU_ASSERT_EQUAL(c.s[0].isn, 500);
	CU_ASSERT_EQUAL(c.s[0].next_seq, 501);
	seg(&c, 1, DP_TCP_SYN | DP_TCP_ACK, 9000, 501, NULL, 0);
	CU_ASSERT_EQUAL(c.state, DP_TCP_SYN_RECV);
	seg(&c, 0, DP_TCP_ACK, 501, 9001, NULL, 0);
	CU_ASSERT_EQUAL(c.state, DP_TCP_ESTABLISHED);
	seg(&c, 0, DP_TCP_ACK | DP_TCP_PSH, 501, 9001, a, sizeof(a));
	CU_ASSERT_PTR_EQUAL(R.last_p[0], a);          /* no copy */
	seg(&c, 1, DP_TCP_ACK, 9001, 601, b, sizeof(b));
	CU_ASSERT_PTR_EQUAL(R.last_p[1], b);
	CU_ASSERT(stream_is(0, a, sizeof(a)));
	CU_ASSERT(stream_is(1, b, sizeof(b)));
	CU_ASSERT_EQUAL(ctx.cnt.segments, 2);
	CU_ASSERT_EQUAL(ctx.cnt.bytes_in_order, 150);
	CU_ASSERT_EQUAL(ctx.cnt.bytes_reassembled, 0);
	CU_ASSERT_EQUAL(ctx.cnt.ooo_segments, 0);
	CU_ASSERT_EQUAL(c.s[0].next_seq, 601);
	CU_ASSERT_EQUAL(c.s[1].next_seq, 9051);
	check_clean(&c);
}

static void
test_tfo_data_on_syn(void)
{
	struct dp_tcp_conn c;
	uint8_t d[300];

	reset(&c);
	fill(d, sizeof(d), 3);
	/* SYN with the first 200 bytes; the rest arrives before the SYN/ACK */
	seg(&c, 0, DP_TCP_SYN, 77, 0, d, 200);
	CU_ASSERT_EQUAL(R.len[0], 200);
	seg(&c, 1, DP_TCP_SYN | DP_TCP_ACK, 5, 78 + 200, NULL, 0);
	/* server without the cookie would ack 78 only; client resends the SYN data */
	seg(&c, 0, DP_TCP_SYN, 77, 0, d, 200);
	CU_ASSERT_EQUAL(ctx.cnt.retransmissions, 1);
	seg(&c, 0, DP_TCP_ACK, 278, 6, d + 200, 100);
	CU_ASSERT(stream_is(0, d, sizeof(d)));
	CU_ASSERT_EQUAL(ctx.cnt.gaps, 0);
	/* a SYN with another ISN is not this connection */
	seg(&c, 0, DP_TCP_SYN, 12345, 0, d, 10);
	CU_ASSERT_EQUAL(ctx.cnt.bad_seq, 1);
	CU_ASSERT_EQUAL(R.len[0], 300);
	check_clean(&c);
}

static void
test_multi_buffer_and_coalescing(void)
{
	struct dp_tcp_conn c;
	static uint8_t d[6000];
	uint32_t i;

	reset(&c);
	fill(d, sizeof(d), 4);
	seg(&c, 0, DP_TCP_SYN, 0, 0, NULL, 0);
	/* one 5000-byte segment behind a 1000-byte hole: three buffers */
	seg(&c, 0, DP_TCP_ACK, 1001, 0, d + 1000, 5000);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 5000);
	CU_ASSERT_EQUAL(c.s[0].ooo_segs, 3);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), POOL_BUFS - 3);
	/* 100 small adjacent segments behind a hole share buffers */
	for (i = 0; i < 100; i++)
		seg(&c, 0, DP_TCP_ACK, 1 + 10 + i * 9, 0, d + 10 + i * 9, 9);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 5000 + 900);
	CU_ASSERT_EQUAL(c.s[0].ooo_segs, 3 + 1);
	CU_ASSERT_EQUAL(ctx.cnt.ooo_segments, 101);
	CU_ASSERT_EQUAL(R.len[0], 0);
	seg(&c, 0, DP_TCP_ACK, 1, 0, d, 10);          /* fills the first hole */
	CU_ASSERT_EQUAL(R.len[0], 910);
	seg(&c, 0, DP_TCP_ACK, 911, 0, d + 910, 90);  /* fills the second */
	CU_ASSERT(stream_is(0, d, 6000));
	CU_ASSERT_EQUAL(ctx.cnt.bytes_reassembled, 5900);
	CU_ASSERT_EQUAL(ctx.cnt.bytes_in_order, 100);
	CU_ASSERT_EQUAL(c.s[0].ooo_segs, 0);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 0);
	check_clean(&c);
}

/* ---- overlaps and retransmissions ---- */

static void
test_overlap_conflict_buffered(void)
{
	struct dp_tcp_conn c;
	uint8_t a[20], b[10];

	/*
	 * Held bytes 11..20 = 'B'; then 1..15 = 'A' arrives. First wins: the
	 * stream is 10 'A' then 10 'B', and the conflict is flagged.
	 */
	reset(&c);
	memset(a, 'A', sizeof(a));
	memset(b, 'B', sizeof(b));
	seg(&c, 0, DP_TCP_SYN, 0, 0, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 11, 0, b, 10);
	seg(&c, 0, DP_TCP_ACK, 1, 0, a, 15);
	CU_ASSERT(stream_is(0, (const uint8_t *)"AAAAAAAAAABBBBBBBBBB", 20));
	CU_ASSERT_EQUAL(ctx.cnt.overlaps, 1);
	CU_ASSERT_EQUAL(ctx.cnt.overlap_diff, 1);
	CU_ASSERT_EQUAL(ctx.cnt.retransmissions, 0);

	/* the same bytes again in an overlap: counted, no diff */
	seg(&c, 0, DP_TCP_ACK, 31, 0, b, 10);
	seg(&c, 0, DP_TCP_ACK, 21, 0, (const uint8_t *)"CCCCCCCCCCBBBBB", 15);
	CU_ASSERT_EQUAL(R.len[0], 40);
	CU_ASSERT_EQUAL(ctx.cnt.overlaps, 2);
	CU_ASSERT_EQUAL(ctx.cnt.overlap_diff, 1);
	check_clean(&c);
}

static void
test_overlap_conflict_held_both_sides(void)
{
	struct dp_tcp_conn c;
	uint8_t z[21];

	/*
	 * Held: 11..15 'X' and 21..25 'Y'. An out-of-order segment 9..29 of 'Z'
	 * only fills the holes 9..10, 16..20, 26..29; then 1..8 'a' fills the
	 * start. Expected: aaaaaaaa ZZ XXXXX ZZZZZ YYYYY ZZZZ.
	 */
	reset(&c);
	memset(z, 'Z', sizeof(z));
	seg(&c, 0, DP_TCP_SYN, 0x7FFFFFF0u, 0, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 0x7FFFFFF0u + 11, 0, "XXXXX", 5);
	seg(&c, 0, DP_TCP_ACK, 0x7FFFFFF0u + 21, 0, "YYYYY", 5);
	seg(&c, 0, DP_TCP_ACK, 0x7FFFFFF0u + 9, 0, z, 21);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 21);
	CU_ASSERT_EQUAL(ctx.cnt.overlap_diff, 1);
	seg(&c, 0, DP_TCP_ACK, 0x7FFFFFF0u + 1, 0, "aaaaaaaa", 8);
	CU_ASSERT(stream_is(0, (const uint8_t *)"aaaaaaaaZZXXXXXZZZZZYYYYYZZZZ", 29));
	CU_ASSERT_EQUAL(ctx.cnt.overlaps, 1);
	check_clean(&c);
}

static void
test_overlap_with_delivered_and_retransmission(void)
{
	struct dp_tcp_conn c;

	reset(&c);
	seg(&c, 0, DP_TCP_SYN, 100, 0, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 101, 0, "0123456789", 10);
	/* whole retransmission with other bytes: delivered bytes are gone, no compare */
	seg(&c, 0, DP_TCP_ACK, 101, 0, "abcdefghij", 10);
	CU_ASSERT_EQUAL(ctx.cnt.retransmissions, 1);
	CU_ASSERT_EQUAL(ctx.cnt.overlap_diff, 0);
	/* partial: 5 old bytes (ignored) + 5 new */
	seg(&c, 0, DP_TCP_ACK, 106, 0, "XXXXXklmno", 10);
	CU_ASSERT(stream_is(0, (const uint8_t *)"0123456789klmno", 15));
	CU_ASSERT_EQUAL(ctx.cnt.overlaps, 1);
	CU_ASSERT_EQUAL(ctx.cnt.overlap_diff, 0);
	CU_ASSERT_EQUAL(ctx.cnt.retransmissions, 1);
	/* a duplicate of held bytes is an overlap, not a retransmission */
	seg(&c, 0, DP_TCP_ACK, 131, 0, "held", 4);
	seg(&c, 0, DP_TCP_ACK, 131, 0, "held", 4);
	CU_ASSERT_EQUAL(ctx.cnt.overlaps, 2);
	CU_ASSERT_EQUAL(ctx.cnt.ooo_segments, 1);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 4);
	check_clean(&c);
}

/* ---- holes given up ---- */

static void
test_hole_given_up_on_flush(void)
{
	struct dp_tcp_conn c;
	static uint8_t d[5000];

	reset(&c);
	fill(d, sizeof(d), 5);
	seg(&c, 0, DP_TCP_SYN, 0xFFFFFF00u, 0, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 0xFFFFFF01u, 0, d, 1000);
	/* hole 1000..1999, held 2000..2999, hole 3000..3499, held 3500..4999 */
	seg(&c, 0, DP_TCP_ACK, 0xFFFFFF01u + 2000, 0, d + 2000, 1000);
	seg(&c, 0, DP_TCP_ACK, 0xFFFFFF01u + 3500, 0, d + 3500, 1500);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 2500);
	dp_tcp_flush(&ctx, &c, &R);
	CU_ASSERT_EQUAL(R.len[0], 5000);
	CU_ASSERT_EQUAL(R.ngaps[0], 2);
	CU_ASSERT_EQUAL(R.gap_at[0][0], 1000);
	CU_ASSERT_EQUAL(R.gap_len[0][0], 1000);
	CU_ASSERT_EQUAL(R.gap_at[0][1], 3000);
	CU_ASSERT_EQUAL(R.gap_len[0][1], 500);
	CU_ASSERT(stream_matches_outside_gaps(0, d, 5000));
	CU_ASSERT_EQUAL(ctx.cnt.gaps, 2);
	CU_ASSERT_EQUAL(ctx.cnt.gap_bytes, 1500);
	CU_ASSERT_EQUAL(ctx.cnt.bytes_reassembled, 2500);
	CU_ASSERT_EQUAL(R.eofs[0], 1);
	CU_ASSERT_EQUAL(R.eofs[1], 1);                /* flush ends both */
	CU_ASSERT_STRING_EQUAL(R.log, "0d0g0d0g0d0e1e");
	CU_ASSERT_EQUAL(c.state, DP_TCP_CLOSED);
	/* later segments and a second flush do nothing */
	seg(&c, 0, DP_TCP_ACK, 0xFFFFFF01u + 5000, 0, d, 10);
	dp_tcp_flush(&ctx, &c, &R);
	CU_ASSERT_EQUAL(R.len[0], 5000);
	check_clean(&c);
}

static void
test_hole_given_up_on_flow_cap(void)
{
	struct dp_tcp_conn c;
	static uint8_t d[8000];
	uint32_t i;

	reset(&c);
	ctx.flow_cap_bytes = 4096;
	fill(d, sizeof(d), 6);
	seg(&c, 0, DP_TCP_SYN, 0, 0, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 1, 0, d, 100);
	/* hole 100..1099; 4 x 1000 held (under the cap), the 5th exceeds it */
	for (i = 0; i < 4; i++)
		seg(&c, 0, DP_TCP_ACK, 1 + 1100 + i * 1000, 0, d + 1100 + i * 1000, 1000);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 4000);
	CU_ASSERT_EQUAL(ctx.cnt.flow_cap_hits, 0);
	seg(&c, 0, DP_TCP_ACK, 1 + 5100, 0, d + 5100, 1000);
	CU_ASSERT_EQUAL(ctx.cnt.flow_cap_hits, 1);
	CU_ASSERT_EQUAL(R.ngaps[0], 1);
	CU_ASSERT_EQUAL(R.gap_at[0][0], 100);
	CU_ASSERT_EQUAL(R.gap_len[0][0], 1000);
	CU_ASSERT_EQUAL(R.len[0], 6100);              /* data after the gap, incl. the new one */
	CU_ASSERT(stream_matches_outside_gaps(0, d, 6100));
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 0);
	CU_ASSERT_EQUAL(c.s[0].next_seq, 6101);
	CU_ASSERT_EQUAL(ctx.cnt.gap_bytes, 1000);

	/*
	 * The new segment falls inside the first hole: only the part of the
	 * hole before it is given up, the rest stays open.
	 */
	seg(&c, 0, DP_TCP_ACK, 1 + 7000, 0, d + 7000, 1000);      /* held: cap now full */
	seg(&c, 0, DP_TCP_ACK, 1 + 6500, 0, d + 6500, 100);       /* 6500..6599 fits */
	CU_ASSERT_EQUAL(ctx.cnt.flow_cap_hits, 1);
	ctx.flow_cap_bytes = 1100;
	seg(&c, 0, DP_TCP_ACK, 1 + 6300, 0, d + 6300, 100);       /* does not fit */
	CU_ASSERT_EQUAL(ctx.cnt.flow_cap_hits, 2);
	CU_ASSERT_EQUAL(R.ngaps[0], 2);
	CU_ASSERT_EQUAL(R.gap_at[0][1], 6100);
	CU_ASSERT_EQUAL(R.gap_len[0][1], 200);
	CU_ASSERT_EQUAL(R.len[0], 6400);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 1100);     /* 6500.. and 7000.. still held */
	seg(&c, 0, DP_TCP_ACK, 1 + 6400, 0, d + 6400, 100);
	seg(&c, 0, DP_TCP_ACK | DP_TCP_FIN, 1 + 6600, 0, d + 6600, 1400);
	CU_ASSERT_EQUAL(R.len[0], 8000);
	CU_ASSERT(stream_matches_outside_gaps(0, d, 8000));
	CU_ASSERT_EQUAL(R.eofs[0], 1);
	check_clean(&c);
}

static void
test_segment_limit(void)
{
	struct dp_tcp_conn c;
	static uint8_t d[400];
	uint32_t i;

	/* 1-byte segments 2 bytes apart cannot pin one buffer each forever */
	reset(&c);
	ctx.flow_cap_bytes = 4096;                    /* 4*2+16 = 24 pieces */
	fill(d, sizeof(d), 8);
	seg(&c, 0, DP_TCP_SYN, 0, 0, NULL, 0);
	for (i = 1; i < 200; i++) {
		seg(&c, 0, DP_TCP_ACK, 1 + 2 * i, 0, d + 2 * i, 1);
		CU_ASSERT(c.s[0].ooo_segs <= 24);
	}
	CU_ASSERT(ctx.cnt.flow_cap_hits > 0);
	CU_ASSERT(ctx.cnt.gaps > 0);
	CU_ASSERT(stream_matches_outside_gaps(0, d, 400));
	dp_tcp_flush(&ctx, &c, &R);
	CU_ASSERT_EQUAL(R.len[0], 399);               /* up to the last byte seen */
	CU_ASSERT(stream_matches_outside_gaps(0, d, 400));
	check_clean(&c);
}

static void
test_pool_exhaustion(void)
{
	struct dp_tcp_conn c, c2;
	static uint8_t d[101 + 5 * DP_TCP_SEG_DATA];
	uint32_t i, total = 100 + 5 * DP_TCP_SEG_DATA;

	reset(&c);
	dp_tcp_conn_init(&c2);
	ctx.seg_pool = tiny;
	ctx.flow_cap_bytes = 1 << 20;
	fill(d, sizeof(d), 9);
	seg(&c, 0, DP_TCP_SYN, 0, 0, NULL, 0);
	/* hole 0..99, then five full-buffer segments: three fit the pool */
	for (i = 0; i < 5; i++)
		seg(&c, 0, DP_TCP_ACK, 1 + 100 + i * DP_TCP_SEG_DATA, 0,
		    d + 100 + i * DP_TCP_SEG_DATA, DP_TCP_SEG_DATA);
	CU_ASSERT_EQUAL(ctx.cnt.pool_exhausted, 2);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(tiny), 0);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 3 * DP_TCP_SEG_DATA);
	CU_ASSERT_EQUAL(c.s[0].ooo_segs, 3);
	CU_ASSERT_EQUAL(R.ngaps[0], 0);               /* no gap: not this flow's fault */
	/* another flow cannot buffer either, and keeps working in order */
	seg(&c2, 1, DP_TCP_SYN | DP_TCP_ACK, 50, 0, NULL, 0);
	seg(&c2, 1, DP_TCP_ACK, 61, 0, "late", 4);
	CU_ASSERT_EQUAL(ctx.cnt.pool_exhausted, 3);
	seg(&c2, 1, DP_TCP_ACK, 51, 0, "0123456789", 10);
	CU_ASSERT_EQUAL(R.len[1], 10);
	/* the hole fills: the three held come out, buffers return */
	seg(&c, 0, DP_TCP_ACK, 1, 0, d, 100);
	CU_ASSERT_EQUAL(R.len[0], 100 + 3 * DP_TCP_SEG_DATA);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(tiny), TINY_BUFS);
	/* the two refused come again (the worker dropped them) */
	for (i = 3; i < 5; i++)
		seg(&c, 0, DP_TCP_ACK, 1 + 100 + i * DP_TCP_SEG_DATA, 0,
		    d + 100 + i * DP_TCP_SEG_DATA, DP_TCP_SEG_DATA);
	CU_ASSERT(stream_is(0, d, total));
	/* refill the pool and release without callbacks */
	for (i = 0; i < 4; i++)
		seg(&c, 0, DP_TCP_ACK, 1 + total + 10 + i * DP_TCP_SEG_DATA, 0, d, DP_TCP_SEG_DATA);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(tiny), 0);
	CU_ASSERT_EQUAL(ctx.cnt.pool_exhausted, 4);
	dp_tcp_conn_release(&ctx, &c);
	dp_tcp_conn_release(&ctx, &c2);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(tiny), TINY_BUFS);
	CU_ASSERT_EQUAL(R.eofs[0] + R.eofs[1], 0);
	ctx.seg_pool = pool;
	check_clean(&c);
}

/* ---- lifecycle ---- */

static void
test_fin_lifecycle(void)
{
	struct dp_tcp_conn c;

	reset(&c);
	seg(&c, 0, DP_TCP_SYN, 10, 0, NULL, 0);
	seg(&c, 1, DP_TCP_SYN | DP_TCP_ACK, 20, 11, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 11, 21, NULL, 0);
	/* FIN segment arrives before the data before it */
	seg(&c, 0, DP_TCP_ACK | DP_TCP_FIN, 16, 21, "world", 5);
	CU_ASSERT_EQUAL(c.state, DP_TCP_CLOSING);
	CU_ASSERT(c.s[0].fin_seen);
	CU_ASSERT_EQUAL(c.s[0].fin_seq, 21);
	CU_ASSERT_EQUAL(R.eofs[0], 0);
	/* data past the FIN is dropped, as the receiver would */
	seg(&c, 0, DP_TCP_ACK, 19, 21, "ldXYZ", 5);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 5);
	CU_ASSERT_EQUAL(ctx.cnt.overlaps, 1);
	seg(&c, 0, DP_TCP_ACK, 22, 21, "more", 4);
	CU_ASSERT_EQUAL(ctx.cnt.bad_seq, 1);
	/* a different FIN does not move the end */
	seg(&c, 0, DP_TCP_ACK | DP_TCP_FIN, 30, 21, NULL, 0);
	CU_ASSERT_EQUAL(c.s[0].fin_seq, 21);
	CU_ASSERT_EQUAL(ctx.cnt.bad_seq, 2);
	seg(&c, 0, DP_TCP_ACK, 11, 21, "hello", 5);
	CU_ASSERT(stream_is(0, (const uint8_t *)"helloworld", 10));
	CU_ASSERT_EQUAL(R.eofs[0], 1);
	CU_ASSERT(c.s[0].fin_delivered);
	CU_ASSERT_EQUAL(c.s[0].next_seq, 22);
	/* FIN retransmission: no second eof */
	seg(&c, 0, DP_TCP_ACK | DP_TCP_FIN, 16, 21, "world", 5);
	CU_ASSERT_EQUAL(R.eofs[0], 1);
	/* half-closed: the server still talks, then closes */
	seg(&c, 1, DP_TCP_ACK, 21, 22, "resp", 4);
	CU_ASSERT_EQUAL(c.state, DP_TCP_CLOSING);
	seg(&c, 1, DP_TCP_ACK | DP_TCP_FIN, 25, 22, NULL, 0);
	CU_ASSERT_EQUAL(R.eofs[1], 1);
	CU_ASSERT(stream_is(1, (const uint8_t *)"resp", 4));
	CU_ASSERT_EQUAL(c.state, DP_TCP_CLOSED);
	CU_ASSERT_STRING_EQUAL(R.log, "0d0d0e1d1e");
	/* a FIN that would cut delivered bytes is refused */
	reset(&c);
	seg(&c, 0, DP_TCP_SYN, 0, 0, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 1, 0, "abcdef", 6);
	seg(&c, 0, DP_TCP_ACK | DP_TCP_FIN, 3, 0, NULL, 0);
	CU_ASSERT_FALSE(c.s[0].fin_seen);
	CU_ASSERT_EQUAL(R.eofs[0], 0);
	/* flush with a known FIN but missing bytes: gap up to the FIN, then eof */
	seg(&c, 0, DP_TCP_ACK | DP_TCP_FIN, 20, 0, "xy", 2);
	dp_tcp_flush(&ctx, &c, &R);
	CU_ASSERT_EQUAL(R.ngaps[0], 1);
	CU_ASSERT_EQUAL(R.gap_at[0][0], 6);
	CU_ASSERT_EQUAL(R.gap_len[0][0], 13);
	CU_ASSERT_EQUAL(R.len[0], 21);
	CU_ASSERT_EQUAL(R.eofs[0], 1);
	CU_ASSERT_STRING_EQUAL(R.log, "0d0g0d0e1e");
	check_clean(&c);
}

static void
test_rst_lifecycle(void)
{
	struct dp_tcp_conn c;

	reset(&c);
	seg(&c, 0, DP_TCP_SYN, 1000, 0, NULL, 0);
	seg(&c, 1, DP_TCP_SYN | DP_TCP_ACK, 2000, 1001, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 1001, 2001, "GET /", 5);
	seg(&c, 0, DP_TCP_ACK, 1010, 2001, "held", 4);   /* behind a hole */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), POOL_BUFS - 1);
	/* a RST the receiver would refuse (not at rcv_nxt) changes nothing */
	seg(&c, 0, DP_TCP_RST, 1003, 0, NULL, 0);
	seg(&c, 1, DP_TCP_RST | DP_TCP_ACK, 2500, 1006, NULL, 0);
	CU_ASSERT_EQUAL(ctx.cnt.bad_seq, 2);
	CU_ASSERT_EQUAL(R.eofs[0] + R.eofs[1], 0);
	CU_ASSERT_NOT_EQUAL(c.state, DP_TCP_CLOSED);
	/* server resets at its rcv_nxt... */
	seg(&c, 1, DP_TCP_RST | DP_TCP_ACK, 2001, 1006, NULL, 0);
	CU_ASSERT_EQUAL(c.state, DP_TCP_CLOSED);
	CU_ASSERT_EQUAL(R.eofs[0], 1);
	CU_ASSERT_EQUAL(R.eofs[1], 1);
	CU_ASSERT_EQUAL(R.ngaps[0], 0);                   /* held bytes die with the flow */
	CU_ASSERT(stream_is(0, (const uint8_t *)"GET /", 5));
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), POOL_BUFS);
	/* ...and nothing after it is delivered */
	seg(&c, 0, DP_TCP_ACK, 1006, 2001, "x", 1);
	CU_ASSERT_EQUAL(R.len[0], 5);
	dp_tcp_flush(&ctx, &c, &R);
	CU_ASSERT_EQUAL(R.eofs[0] + R.eofs[1], 2);
	check_clean(&c);

	/* a RST answering a SYN (closed port): the server side never started */
	reset(&c);
	seg(&c, 0, DP_TCP_SYN, 7, 0, NULL, 0);
	seg(&c, 1, DP_TCP_RST | DP_TCP_ACK, 0, 8, NULL, 0);
	CU_ASSERT_EQUAL(c.state, DP_TCP_CLOSED);
	CU_ASSERT_EQUAL(R.eofs[0] + R.eofs[1], 2);
	/* a RST at the end of held out-of-order data is accepted too (max SACK) */
	reset(&c);
	seg(&c, 0, DP_TCP_SYN, 0, 0, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 11, 0, "abc", 3);
	seg(&c, 0, DP_TCP_RST, 14, 0, NULL, 0);
	CU_ASSERT_EQUAL(c.state, DP_TCP_CLOSED);
	check_clean(&c);
}

static void
test_midstream(void)
{
	struct dp_tcp_conn c;

	/* on: the first segment with payload sets the start */
	reset(&c);
	seg(&c, 1, DP_TCP_ACK, 70000, 5000, NULL, 0);     /* bare ACK: not a start */
	CU_ASSERT_FALSE(c.s[1].started);
	seg(&c, 0, DP_TCP_ACK | DP_TCP_PSH, 5000, 70000, "POST /x", 7);
	CU_ASSERT(c.s[0].started);
	CU_ASSERT(c.s[0].midstream);
	CU_ASSERT_EQUAL(c.s[0].isn, 5000);
	CU_ASSERT_EQUAL(c.state, DP_TCP_ESTABLISHED);
	seg(&c, 1, DP_TCP_ACK, 70000, 5007, "HTTP/1.1", 8);
	CU_ASSERT_EQUAL(ctx.cnt.midstream_pickups, 2);
	seg(&c, 0, DP_TCP_ACK, 5000 + 7, 70008, " HTTP", 5);
	CU_ASSERT(stream_is(0, (const uint8_t *)"POST /x HTTP", 12));
	CU_ASSERT(stream_is(1, (const uint8_t *)"HTTP/1.1", 8));
	CU_ASSERT_EQUAL(ctx.cnt.bad_seq, 0);
	check_clean(&c);

	/* off: payload of a direction without a SYN is ignored */
	reset(&c);
	ctx.midstream = false;
	seg(&c, 0, DP_TCP_ACK, 5000, 70000, "POST /x", 7);
	seg(&c, 1, DP_TCP_ACK, 70000, 5007, "HTTP/1.1", 8);
	CU_ASSERT_EQUAL(R.len[0] + R.len[1], 0);
	CU_ASSERT_EQUAL(ctx.cnt.bad_seq, 2);
	CU_ASSERT_EQUAL(ctx.cnt.midstream_pickups, 0);
	CU_ASSERT_FALSE(c.s[0].started);
	CU_ASSERT_EQUAL(c.state, DP_TCP_NONE);
	/* ... and a SYN still starts it normally */
	seg(&c, 0, DP_TCP_SYN, 4999, 0, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 5000, 0, "POST /x", 7);
	CU_ASSERT(stream_is(0, (const uint8_t *)"POST /x", 7));
	CU_ASSERT_FALSE(c.s[0].midstream);
	check_clean(&c);
}

static void
test_bad_seq(void)
{
	struct dp_tcp_conn c;

	reset(&c);
	seg(&c, 0, DP_TCP_SYN, 0xF0000000u, 0, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 0xF0000001u + 0x50000000u, 0, "far", 3);   /* 1.25 GiB ahead */
	seg(&c, 0, DP_TCP_ACK, 0xF0000001u - 0x48000000u, 0, "old", 3);   /* 1.1 GiB behind */
	CU_ASSERT_EQUAL(ctx.cnt.bad_seq, 2);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 0);
	/* a window-sized jump ahead is held, not refused */
	seg(&c, 0, DP_TCP_ACK, 0xF0000001u + 0x00100000u, 0, "ok", 2);
	CU_ASSERT_EQUAL(ctx.cnt.bad_seq, 2);
	CU_ASSERT_EQUAL(c.s[0].ooo_bytes, 2);
	/* an ACK absurdly far ahead gives nothing up */
	seg(&c, 1, DP_TCP_ACK, 5, 0xF0000001u + 0x60000000u, NULL, 0);
	CU_ASSERT_EQUAL(ctx.cnt.gaps, 0);
	CU_ASSERT_EQUAL(R.len[0], 0);
	check_clean(&c);
}

/* ---- both directions ---- */

static void
test_ack_gives_up_hole(void)
{
	struct dp_tcp_conn c;
	static uint8_t req[400], resp[300];

	reset(&c);
	fill(req, sizeof(req), 10);
	fill(resp, sizeof(resp), 11);
	seg(&c, 0, DP_TCP_SYN, 100, 0, NULL, 0);
	seg(&c, 1, DP_TCP_SYN | DP_TCP_ACK, 5000, 101, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 101, 5001, req, 100);
	seg(&c, 0, DP_TCP_ACK, 301, 5001, req + 200, 100);       /* hole 100..199 */
	/* the server acks 401: it got the hole we never saw */
	seg(&c, 1, DP_TCP_ACK, 5001, 401, resp, 150);
	CU_ASSERT_EQUAL(R.ngaps[0], 1);
	CU_ASSERT_EQUAL(R.gap_at[0][0], 100);
	CU_ASSERT_EQUAL(R.gap_len[0][0], 100);
	CU_ASSERT_EQUAL(R.len[0], 300);
	CU_ASSERT(stream_matches_outside_gaps(0, req, 300));
	/* request side first: the ack was sent after the server read it */
	CU_ASSERT_STRING_EQUAL(R.log, "0d0g0d1d");
	/* an ack past everything seen also counts as lost bytes */
	seg(&c, 1, DP_TCP_ACK, 5151, 451, resp + 150, 150);
	CU_ASSERT_EQUAL(R.ngaps[0], 2);
	CU_ASSERT_EQUAL(R.gap_len[0][1], 50);
	CU_ASSERT_EQUAL(c.s[0].next_seq, 451);
	/* the lost bytes arriving late are retransmissions now */
	seg(&c, 0, DP_TCP_ACK, 401, 5301, req + 300, 50);
	CU_ASSERT_EQUAL(ctx.cnt.retransmissions, 1);
	seg(&c, 0, DP_TCP_ACK | DP_TCP_FIN, 451, 5301, req + 350, 50);
	CU_ASSERT_EQUAL(R.len[0], 400);
	CU_ASSERT(stream_matches_outside_gaps(0, req, 400));
	CU_ASSERT(stream_is(1, resp, 300));
	/* the FIN's sequence number is not a missing byte */
	seg(&c, 1, DP_TCP_ACK | DP_TCP_FIN, 5301, 502, NULL, 0);
	CU_ASSERT_EQUAL(ctx.cnt.gap_bytes, 150);
	CU_ASSERT_EQUAL(R.eofs[0] + R.eofs[1], 2);
	CU_ASSERT_EQUAL(c.state, DP_TCP_CLOSED);
	check_clean(&c);
}

static void
test_both_directions_interleaved(void)
{
	static uint8_t req[PERM_TOTAL], resp[PERM_TOTAL];
	struct dp_tcp_conn c;
	const struct piece *pc = pieces6;
	int order[5] = { 0, 1, 2, 3, 4 }, runs = 0, good = 0, i, k;
	const uint32_t ci = 0xFFFFF000u, si = 0x10;

	fill(req, sizeof(req), 12);
	fill(resp, sizeof(resp), 13);
	do {
		reset(&c);
		seg(&c, 0, DP_TCP_SYN, ci, 0, NULL, 0);
		seg(&c, 1, DP_TCP_SYN | DP_TCP_ACK, si, ci + 1, NULL, 0);
		seg(&c, 0, DP_TCP_ACK, ci + 1, si + 1, req, pc[0].len);
		seg(&c, 1, DP_TCP_ACK, si + 1, ci + 1, resp, pc[0].len);
		/* the client's pieces in this order, the server's in reverse */
		for (i = 0; i < 5; i++) {
			k = order[i] + 1;
			seg(&c, 0, DP_TCP_ACK | (k == 5 ? DP_TCP_FIN : 0), ci + 1 + pc[k].off,
			    si + 1, req + pc[k].off, pc[k].len);
			k = order[4 - i] + 1;
			seg(&c, 1, DP_TCP_ACK | (k == 5 ? DP_TCP_FIN : 0), si + 1 + pc[k].off,
			    ci + 1, resp + pc[k].off, pc[k].len);
		}
		good += stream_is(0, req, PERM_TOTAL) && stream_is(1, resp, PERM_TOTAL) &&
			R.eofs[0] == 1 && R.eofs[1] == 1 && R.violations == 0 &&
			c.state == DP_TCP_CLOSED && ctx.cnt.gaps == 0 &&
			rte_mempool_avail_count(pool) == POOL_BUFS;
		runs++;
		dp_tcp_conn_release(&ctx, &c);
	} while (next_perm(order, 5));
	CU_ASSERT_EQUAL(runs, 120);
	CU_ASSERT_EQUAL(good, 120);
}

static void
test_release_returns_buffers(void)
{
	struct dp_tcp_conn c;
	static uint8_t d[10000];

	reset(&c);
	fill(d, sizeof(d), 14);
	seg(&c, 0, DP_TCP_SYN, 0, 0, NULL, 0);
	seg(&c, 1, DP_TCP_SYN | DP_TCP_ACK, 0, 1, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 1001, 1, d, 10000);
	seg(&c, 1, DP_TCP_ACK, 501, 1, d, 3000);
	CU_ASSERT_EQUAL(c.s[0].ooo_segs, 5);
	CU_ASSERT_EQUAL(c.s[1].ooo_segs, 2);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), POOL_BUFS - 7);
	dp_tcp_conn_release(&ctx, &c);
	CU_ASSERT_EQUAL(R.nlog, 0);                   /* no callbacks */
	check_clean(&c);
}

/*
 * Payloads end right before a PROT_NONE page: copying, comparing or
 * delivering one byte too many crashes the test.
 */
static void
test_guard_page(void)
{
	struct dp_tcp_conn c;
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m, *end;

	m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(m != MAP_FAILED);
	CU_ASSERT_FATAL(mprotect(m + pg, (size_t)pg, PROT_NONE) == 0);
	end = m + pg;
	fill(end - 100, 100, 15);
	reset(&c);
	seg(&c, 0, DP_TCP_SYN, 0, 0, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 51, 0, end - 50, 50);        /* held: copied up to the guard */
	seg(&c, 0, DP_TCP_ACK, 31, 0, end - 70, 70);        /* overlaps it: compared */
	seg(&c, 0, DP_TCP_ACK | DP_TCP_FIN, 1, 0, end - 100, 100);
	CU_ASSERT(stream_is(0, end - 100, 100));
	CU_ASSERT_EQUAL(R.eofs[0], 1);
	CU_ASSERT_EQUAL(ctx.cnt.overlap_diff, 0);
	check_clean(&c);
	munmap(m, (size_t)pg * 2);
}

/* ---- insertion defence: TTL far below the direction's ---- */

/* A fresh connection's SYN (seq 1000) and SYN-ACK (seq 5000), sent with
 * TTLs @p cttl and @p sttl: the directions' baselines. */
static void
ttl_handshake(struct dp_tcp_conn *c, uint8_t cttl, uint8_t sttl)
{
	reset(c);
	seg_ttl(c, 0, DP_TCP_SYN, 1000, 0, cttl, NULL, 0);
	seg_ttl(c, 1, DP_TCP_SYN | DP_TCP_ACK, 5000, 1001, sttl, NULL, 0);
}

/* The SYN sets the baseline. A copy that would expire before the server is
 * reassembled like any other (first copy wins) and marked to be raised, so
 * the server gets what we inspected; data of one direction with TTLs more
 * than the limit apart flags the flow, once. */
static void
test_ttl_insertion(void)
{
	struct dp_tcp_conn c;

	ttl_handshake(&c, 64, 60);
	seg_ttl(&c, 0, DP_TCP_ACK, 1001, 5001, 64, NULL, 0);
	CU_ASSERT_EQUAL(c.s[0].ttl_base, 64);
	CU_ASSERT_EQUAL(c.s[1].ttl_base, 60);
	/* the junk copy, TTL 1: delivered, to be raised; one data TTL so far */
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK | DP_TCP_PSH, 1001, 5001, 1, "GET /junk", 9),
			DP_TCP_RAISE_TTL);
	CU_ASSERT(stream_is(0, (const uint8_t *)"GET /junk", 9));
	CU_ASSERT_EQUAL(c.s[0].ttl_base, 64);
	CU_ASSERT_EQUAL(ctx.cnt.ttl_raised, 1);
	CU_ASSERT_EQUAL(ctx.cnt.ttl_evasion, 0);
	/* the real copy: a retransmission (the server drops it too), and data
	 * TTLs 1 and 64 in one direction: the flow is flagged */
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK | DP_TCP_PSH, 1001, 5001, 64, "GET /real", 9),
			DP_TCP_TTL_EVASION);
	CU_ASSERT(stream_is(0, (const uint8_t *)"GET /junk", 9));
	CU_ASSERT_EQUAL(ctx.cnt.retransmissions, 1);
	CU_ASSERT_EQUAL(ctx.cnt.ttl_evasion, 1);
	CU_ASSERT_EQUAL(c.ttl_flagged, 1);
	/* exactly ttl_limit below the baseline is normal; one more is raised;
	 * the flow is not reported again */
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1010, 5001, 59, "?a=1", 4), DP_TCP_PASS);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1014, 5001, 58, "&b=2", 4), DP_TCP_RAISE_TTL);
	CU_ASSERT(stream_is(0, (const uint8_t *)"GET /junk?a=1&b=2", 17));
	/* each direction has its own baseline: the server's is 60 */
	CU_ASSERT_EQUAL(seg_ttl(&c, 1, DP_TCP_ACK, 5001, 1018, 54, "HTTP", 4), DP_TCP_RAISE_TTL);
	CU_ASSERT_EQUAL(seg_ttl(&c, 1, DP_TCP_ACK, 5005, 1018, 55, "/1.1", 4), DP_TCP_PASS);
	CU_ASSERT(stream_is(1, (const uint8_t *)"HTTP/1.1", 8));
	CU_ASSERT_EQUAL(ctx.cnt.ttl_raised, 3);
	CU_ASSERT_EQUAL(ctx.cnt.ttl_evasion, 1);
	check_clean(&c);
}

/* A SYN proxy (or a first packet from another hop) sets a high baseline and
 * all the client's data comes lower, at one TTL: every data segment is
 * raised, nothing is lost, nothing is flagged. */
static void
test_ttl_syn_proxy(void)
{
	struct dp_tcp_conn c;

	ttl_handshake(&c, 64, 64);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1001, 5001, 49, NULL, 0), DP_TCP_RAISE_TTL);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1001, 5001, 49, "GET / ", 6), DP_TCP_RAISE_TTL);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1007, 5001, 49, "HTTP/1.1", 8),
			DP_TCP_RAISE_TTL);
	CU_ASSERT(stream_is(0, (const uint8_t *)"GET / HTTP/1.1", 14));
	CU_ASSERT_EQUAL(ctx.cnt.ttl_raised, 3);
	CU_ASSERT_EQUAL(ctx.cnt.ttl_evasion, 0);
	CU_ASSERT_EQUAL(c.ttl_flagged, 0);
	check_clean(&c);
}

/* Low-TTL control segments are processed like any other (and raised): a
 * RST we accept reaches the receiver too, so inspection may end with it. */
static void
test_ttl_control_segments(void)
{
	struct dp_tcp_conn c;

	reset(&c);
	seg(&c, 0, DP_TCP_SYN, 1000, 0, NULL, 0);
	seg(&c, 1, DP_TCP_SYN | DP_TCP_ACK, 5000, 1001, NULL, 0);
	seg(&c, 0, DP_TCP_ACK, 1001, 5001, "abc", 3);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK | DP_TCP_FIN, 1004, 5001, 1, NULL, 0),
			DP_TCP_RAISE_TTL);
	CU_ASSERT_TRUE(c.s[0].fin_seen);
	CU_ASSERT_EQUAL(seg_ttl(&c, 1, DP_TCP_RST | DP_TCP_ACK, 5001, 1005, 1, NULL, 0),
			DP_TCP_RAISE_TTL);
	CU_ASSERT_EQUAL(c.state, DP_TCP_CLOSED);
	CU_ASSERT_EQUAL(ctx.cnt.ttl_raised, 2);
	CU_ASSERT_EQUAL(ctx.cnt.ttl_evasion, 0);   /* no data at two TTLs */
	check_clean(&c);
}

/* The baseline is the highest TTL seen: it rises with a shorter route, and
 * a junk SYN sent before the real one cannot seed it low. */
static void
test_ttl_baseline_rises(void)
{
	struct dp_tcp_conn c;

	reset(&c);
	seg_ttl(&c, 0, DP_TCP_SYN, 0, 0, 50, NULL, 0);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1, 0, 45, "a", 1), DP_TCP_PASS);
	CU_ASSERT_EQUAL(c.s[0].ttl_base, 50);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 2, 0, 50, "b", 1), DP_TCP_PASS);
	/* 58: the baseline rises, and data at 45 and 58 are 13 apart */
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 3, 0, 58, "c", 1), DP_TCP_TTL_EVASION);
	CU_ASSERT_EQUAL(c.s[0].ttl_base, 58);
	/* 52 was within 5 of 50; it is not within 5 of 58 */
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 4, 0, 52, "d", 1), DP_TCP_RAISE_TTL);
	CU_ASSERT(stream_is(0, (const uint8_t *)"abcd", 4));
	check_clean(&c);

	reset(&c);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_SYN, 0, 0, 1, NULL, 0), DP_TCP_PASS);
	CU_ASSERT_EQUAL(c.s[0].ttl_base, 1);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_SYN, 0, 0, 64, NULL, 0), DP_TCP_PASS);
	CU_ASSERT_EQUAL(c.s[0].ttl_base, 64);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1, 0, 1, "junk", 4), DP_TCP_RAISE_TTL);
	/* the extremes: 255 against 0 */
	reset(&c);
	seg_ttl(&c, 0, DP_TCP_SYN, 0, 0, 255, NULL, 0);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1, 0, 0, "junk", 4), DP_TCP_RAISE_TTL);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1, 0, 255, "real", 4),
			DP_TCP_TTL_EVASION);
	ctx.ttl_limit = 255;
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 5, 0, 0, "more", 4), DP_TCP_PASS);
	CU_ASSERT(stream_is(0, (const uint8_t *)"junkmore", 8));
	check_clean(&c);
}

/* ttl_limit 0: no check; the baseline is still kept, so turning the check
 * on covers the flow. */
static void
test_ttl_limit_off(void)
{
	struct dp_tcp_conn c;

	reset(&c);
	ctx.ttl_limit = 0;
	seg_ttl(&c, 0, DP_TCP_SYN, 1000, 0, 64, NULL, 0);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1001, 0, 1, "GET /junk", 9), DP_TCP_PASS);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1001, 0, 64, "GET /real", 9), DP_TCP_PASS);
	CU_ASSERT(stream_is(0, (const uint8_t *)"GET /junk", 9));
	CU_ASSERT_EQUAL(ctx.cnt.ttl_raised + ctx.cnt.ttl_evasion, 0);
	CU_ASSERT_EQUAL(c.s[0].ttl_base, 64);
	ctx.ttl_limit = 5;                          /* a reload turns it on */
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 1010, 0, 1, "more", 4),
			DP_TCP_RAISE_TTL | DP_TCP_TTL_EVASION);
	check_clean(&c);
}

/* Without a SYN, the first packet of each direction sets its baseline, a
 * bare ACK included (it does not start the stream). */
static void
test_ttl_midstream(void)
{
	struct dp_tcp_conn c;

	reset(&c);
	seg_ttl(&c, 1, DP_TCP_ACK, 70000, 5000, 120, NULL, 0);
	CU_ASSERT_FALSE(c.s[1].started);
	CU_ASSERT_EQUAL(c.s[1].ttl_base, 120);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK | DP_TCP_PSH, 5000, 70000, 47, "POST /x", 7),
			DP_TCP_PASS);
	CU_ASSERT(c.s[0].started && c.s[0].midstream);
	CU_ASSERT_EQUAL(c.s[0].ttl_base, 47);
	CU_ASSERT_EQUAL(seg_ttl(&c, 0, DP_TCP_ACK, 5007, 70000, 41, " HTTP", 5),
			DP_TCP_RAISE_TTL | DP_TCP_TTL_EVASION);
	CU_ASSERT_EQUAL(seg_ttl(&c, 1, DP_TCP_ACK, 70000, 5012, 100, "HTTP/1.1", 8),
			DP_TCP_RAISE_TTL);
	CU_ASSERT(stream_is(0, (const uint8_t *)"POST /x HTTP", 12));
	CU_ASSERT(stream_is(1, (const uint8_t *)"HTTP/1.1", 8));
	CU_ASSERT_EQUAL(ctx.cnt.ttl_evasion, 1);
	check_clean(&c);
}

/* ---- the worker: IPv4 TTL and IPv6 hop limit, raise and event ---- */

static unsigned int ttl_events;

static void
count_ttl_event(void *arg, const struct dp_alert *a)
{
	(void)arg;
	if (a->rule != NULL && a->rule->sid == 2400021 && a->rule->n_techniques == 1 &&
	    strcmp(a->rule->techniques[0], "T1027") == 0)
		ttl_events++;
}



/*
 * Ethernet + IPv4 or IPv6 + TCP (no options) between 10.0.0.1 / fd00::1
 * port 40000 (client) and 10.0.0.2 / fd00::2 port 80. Checksums are left
 * zero: the kit does not validate them. @return the frame length.
 */
static uint32_t
tcp_frame(uint8_t *f, bool v6, bool from_client, uint8_t ttl, uint8_t flags,
	  uint32_t seq, uint32_t ack, const char *payload)
{
	uint32_t plen = payload != NULL ? (uint32_t)strlen(payload) : 0, l3 = 14, l4;
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	uint8_t *src = from_client ? a : b, *dst = from_client ? b : a;

	memset(f, 0, 14);
	f[0] = 0x02;
	f[6] = 0x02;
	f[11] = 1;
	if (v6) {
		a[0] = b[0] = 0xfd;
		a[15] = 1;
		b[15] = 2;
		tu_put16(f + 12, 0x86dd);
		memset(f + l3, 0, 40);
		f[l3] = 0x60;
		tu_put16(f + l3 + 4, (uint16_t)(20 + plen));
		f[l3 + 6] = 6;                          /* next header: TCP */
		f[l3 + 7] = ttl;                        /* hop limit */
		memcpy(f + l3 + 8, src, 16);
		memcpy(f + l3 + 24, dst, 16);
		l4 = l3 + 40;
	} else {
		a[0] = b[0] = 10;
		a[3] = 1;
		b[3] = 2;
		tu_put16(f + 12, 0x0800);
		memset(f + l3, 0, 20);
		f[l3] = 0x45;
		tu_put16(f + l3 + 2, (uint16_t)(20 + 20 + plen));
		f[l3 + 8] = ttl;
		f[l3 + 9] = 6;
		memcpy(f + l3 + 12, src, 4);
		memcpy(f + l3 + 16, dst, 4);
		l4 = l3 + 20;
	}
	memset(f + l4, 0, 20);
	tu_put16(f + l4, from_client ? 40000 : 80);
	tu_put16(f + l4 + 2, from_client ? 80 : 40000);
	tu_put32(f + l4 + 4, seq);
	tu_put32(f + l4 + 8, ack);
	f[l4 + 12] = 0x50;
	f[l4 + 13] = flags;
	tu_put16(f + l4 + 14, 65535);
	memcpy(f + l4 + 20, payload != NULL ? payload : "", plen);
	return l4 + 20 + plen;
}

static int
kit_tcp(struct dp_testkit *k, bool v6, bool from_client, uint8_t ttl, uint8_t flags,
	uint32_t seq, uint32_t ack, const char *payload)
{
	uint8_t f[256];
	uint32_t n = tcp_frame(f, v6, from_client, ttl, flags, seq, ack, payload);

	return dp_testkit_frame(k, f, n, from_client ? 0 : 1);
}

/* The TTL (IPv4, header checksum valid) or hop limit (IPv6) of the last
 * forwarded frame. */
static int
last_ttl(struct dp_testkit *k, bool v6, bool *csum_ok)
{
	uint32_t len;
	const uint8_t *f = dp_testkit_last_frame(k, &len);

	*csum_ok = true;
	if (len < 14 + (v6 ? 40u : 20u))
		return -1;
	if (v6)
		return f[14 + 7];
	*csum_ok = rte_ipv4_cksum((const struct rte_ipv4_hdr *)(f + 14)) == 0 ||
		   rte_raw_cksum(f + 14, 20) == 0xffff;
	return f[14 + 8];
}

/* Inline: a low-TTL copy is forwarded with its TTL raised to the flow's
 * (IPv4 header checksum redone), the flow reported once (2400021, T1027)
 * when data come at TTLs far apart, and nothing is dropped. IPv4 and IPv6. */
static void
test_ttl_worker_raise_and_event(void)
{
	static const char junk[] = "GET /junk HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char real[] = "GET /real HTTP/1.1\r\nHost: a\r\n\r\n";
	const uint32_t n = sizeof(real) - 1, cs = 1000, ss = 9000;
	struct dp_testkit_params p;
	struct dp_testkit *k;
	struct dp_worker *w;
	char *err = NULL;
	bool ok;
	int v6;

	for (v6 = 0; v6 < 2; v6++) {
		dp_testkit_params_defaults(&p);
		p.behav = false;
		p.alert_cb = count_ttl_event;
		k = dp_testkit_create(v6 ? "ttl6" : "ttl4", &p, &err);
		if (k == NULL)
			fprintf(stderr, "\ndp_testkit_create: %s\n", err ? err : "?");
		CU_ASSERT_PTR_NOT_NULL_FATAL(k);
		w = dp_testkit_worker(k);
		ttl_events = 0;
		CU_ASSERT_EQUAL(kit_tcp(k, v6, true, 64, DP_TCP_SYN, cs, 0, NULL), 1);
		CU_ASSERT_EQUAL(kit_tcp(k, v6, false, 64, DP_TCP_SYN | DP_TCP_ACK, ss, cs + 1, NULL), 1);
		CU_ASSERT_EQUAL(kit_tcp(k, v6, true, 64, DP_TCP_ACK, cs + 1, ss + 1, NULL), 1);
		/* the junk copy that would expire on the way: forwarded at TTL 64 */
		CU_ASSERT_EQUAL(kit_tcp(k, v6, true, 1, DP_TCP_ACK | DP_TCP_PSH, cs + 1, ss + 1, junk), 1);
		CU_ASSERT_EQUAL(last_ttl(k, v6, &ok), 64);
		CU_ASSERT_TRUE(ok);
		CU_ASSERT_EQUAL(w->cnt.events, 0);
		/* the real copy: data at TTLs 1 and 61, the flow is reported */
		CU_ASSERT_EQUAL(kit_tcp(k, v6, true, 61, DP_TCP_ACK | DP_TCP_PSH, cs + 1, ss + 1, real), 1);
		CU_ASSERT_EQUAL(last_ttl(k, v6, &ok), 61);   /* within the limit: untouched */
		CU_ASSERT_EQUAL(kit_tcp(k, v6, true, 1, DP_TCP_ACK, cs + 1 + n, ss + 1, NULL), 1);
		CU_ASSERT_EQUAL(last_ttl(k, v6, &ok), 64);
		CU_ASSERT_EQUAL(kit_tcp(k, v6, false, 60, DP_TCP_ACK | DP_TCP_PSH, ss + 1, cs + 1 + n,
					"HTTP/1.1 204 No Content\r\n\r\n"), 1);
		CU_ASSERT_EQUAL(last_ttl(k, v6, &ok), 60);
		CU_ASSERT_EQUAL(w->tcp.cnt.ttl_raised, 2);
		CU_ASSERT_EQUAL(w->tcp.cnt.ttl_evasion, 1);
		CU_ASSERT_EQUAL(w->tcp.cnt.bytes_in_order, n + 27);
		CU_ASSERT_EQUAL(w->http.cnt.requests, 1);
		CU_ASSERT_EQUAL(w->http.cnt.responses, 1);
		CU_ASSERT_EQUAL(w->cnt.events, 1);
		CU_ASSERT_EQUAL(dp_testkit_stats(k)->dropped, 0);
		dp_testkit_flush(k);
		CU_ASSERT_EQUAL(ttl_events, 1);
		dp_testkit_destroy(k);
	}
}

static void
test_pool_create_errors(void)
{
	CU_ASSERT_PTR_NULL(dp_tcp_pool_create(NULL, 10, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(dp_tcp_pool_create("tcp_zero", 0, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	/* the name is taken */
	CU_ASSERT_PTR_NULL(dp_tcp_pool_create("tcp_test", 4, 0));
}

static int
suite_init(void)
{
	pool = dp_tcp_pool_create("tcp_test", POOL_BUFS, 0);
	tiny = dp_tcp_pool_create("tcp_tiny", TINY_BUFS, 0);
	if (pool == NULL || tiny == NULL)
		return -1;
	ctx.ops.data = rec_data;
	ctx.ops.gap = rec_gap;
	ctx.ops.eof = rec_eof;
	return 0;
}

static int
suite_clean(void)
{
	rte_mempool_free(pool);
	rte_mempool_free(tiny);
	return 0;
}

int
main(void)
{
	CU_pSuite s;

	if (tu_eal_init("test_tcp") != 0)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("tcp", suite_init, suite_clean);
	CU_add_test(s, "zero-copy in order, handshake states", test_zero_copy_in_order);
	CU_add_test(s, "TFO data on SYN", test_tfo_data_on_syn);
	CU_add_test(s, "all permutations (SYN, dup, overlap, TFO, midstream, wrap)", test_permutations);
	CU_add_test(s, "random overlaps: first copy of each byte wins", test_first_wins_model);
	CU_add_test(s, "random drops, caps and ACKs keep the contract", test_random_caps_and_acks);
	CU_add_test(s, "multi-buffer segments and coalescing", test_multi_buffer_and_coalescing);
	CU_add_test(s, "overlap conflicting with held bytes", test_overlap_conflict_buffered);
	CU_add_test(s, "overlap around held pieces", test_overlap_conflict_held_both_sides);
	CU_add_test(s, "overlap with delivered bytes, retransmissions", test_overlap_with_delivered_and_retransmission);
	CU_add_test(s, "hole given up on flush", test_hole_given_up_on_flush);
	CU_add_test(s, "hole given up on the per-flow cap", test_hole_given_up_on_flow_cap);
	CU_add_test(s, "piece limit against tiny segments", test_segment_limit);
	CU_add_test(s, "pool exhaustion", test_pool_exhaustion);
	CU_add_test(s, "FIN lifecycle", test_fin_lifecycle);
	CU_add_test(s, "RST lifecycle and acceptance", test_rst_lifecycle);
	CU_add_test(s, "midstream pick-up on and off", test_midstream);
	CU_add_test(s, "bad sequence numbers", test_bad_seq);
	CU_add_test(s, "ACK past a hole gives it up", test_ack_gives_up_hole);
	CU_add_test(s, "both directions interleaved", test_both_directions_interleaved);
	CU_add_test(s, "release returns buffers", test_release_returns_buffers);
	CU_add_test(s, "guard page after payloads", test_guard_page);
	CU_add_test(s, "pool creation errors", test_pool_create_errors);
	CU_add_test(s, "TTL: insertion copy reassembled and raised, flow flagged", test_ttl_insertion);
	CU_add_test(s, "TTL: SYN proxy baseline, data raised, nothing flagged", test_ttl_syn_proxy);
	CU_add_test(s, "TTL: low FIN and RST processed and raised", test_ttl_control_segments);
	CU_add_test(s, "TTL: the baseline rises", test_ttl_baseline_rises);
	CU_add_test(s, "TTL: limit 0 turns the check off", test_ttl_limit_off);
	CU_add_test(s, "TTL: mid-stream baseline from the first packet", test_ttl_midstream);
	CU_add_test(s, "TTL: worker raises and reports once (IPv4, IPv6)",
		    test_ttl_worker_raise_and_event);
	return tu_run_all();
}
