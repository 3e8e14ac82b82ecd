/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow table suite. Needs EAL (rte_hash, rte_malloc) but runs without
 * hugepages (EAL --no-huge) and under ASan/UBSan.
 *
 * A recording release hook keeps, in order, the id, class and key of every
 * flow handed to it and checks the flow is still in use at that moment, so
 * each test can tell exactly which flows were removed and that none was
 * released twice.
 */
#include "dp_flow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "tu_eal.h"

#define SEC 1000000000ull
#define REL_MAX 8192

struct relrec {
	uint32_t n;
	uint32_t not_in_use;      /* hook called on a flow already removed */
	uint64_t id[REL_MAX];
	uint8_t cls[REL_MAX];
	struct dp_flow_key key[REL_MAX];
};

static struct relrec R;

static void
rec_release(void *arg, struct dp_flow *f)
{
	struct relrec *r = arg;

	if (!f->in_use)
		r->not_in_use++;
	if (r->n < REL_MAX) {
		r->id[r->n] = f->tuple.flow_id;
		r->cls[r->n] = f->cls;
		r->key[r->n] = f->key;
	}
	r->n++;
}

/* How many times flow @id was released. */
static int
released_times(uint64_t id)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < R.n && i < REL_MAX; i++)
		n += R.id[i] == id;
	return n;
}

static const uint32_t timeouts[DP_FLOW__CLASSES] = {
	[DP_FLOW_NEW] = 10, [DP_FLOW_EST] = 100, [DP_FLOW_CLOSED] = 5, [DP_FLOW_UDP] = 30,
};

static struct dp_flow_table *
table(uint32_t max, uint16_t worker)
{
	static int seq;
	char name[32];
	struct dp_flow_table *t;

	snprintf(name, sizeof(name), "tflow%d", seq++);
	memset(&R, 0, sizeof(R));
	t = dp_flow_table_create(name, max, timeouts, 0, worker, rec_release, &R);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

static void
ip4(uint8_t *out, uint32_t a)
{
	memset(out, 0, 16);
	out[0] = (uint8_t)(a >> 24);
	out[1] = (uint8_t)(a >> 16);
	out[2] = (uint8_t)(a >> 8);
	out[3] = (uint8_t)a;
}

/* A packet src -> dst as the worker would look its flow up. */
struct pkt {
	uint8_t family, proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport, vlan;
};

static struct pkt
pkt4(uint32_t s, uint32_t d, uint16_t sp, uint16_t dp)
{
	struct pkt p = { .family = 4, .proto = IPPROTO_TCP, .sport = sp, .dport = dp };

	ip4(p.src, s);
	ip4(p.dst, d);
	return p;
}

static struct pkt
reverse(const struct pkt *p)
{
	struct pkt r = *p;

	memcpy(r.src, p->dst, 16);
	memcpy(r.dst, p->src, 16);
	r.sport = p->dport;
	r.dport = p->sport;
	return r;
}

static struct dp_flow *
lookup(struct dp_flow_table *t, const struct pkt *p, uint64_t now, int create,
       int *src_is_lo, int *created)
{
	struct dp_flow_key k;
	int sil, cr;

	dp_flow_key_make(&k, p->family, p->proto, p->src, p->dst, p->sport, p->dport,
			 p->vlan, &sil);
	if (src_is_lo != NULL)
		*src_is_lo = sil;
	/* the packet's sender is the client when it creates the flow */
	return dp_flow_get(t, &k, dp_flow_key_hash(&k), now, create, sil,
			   created != NULL ? created : &cr);
}

/* ---- tests ------------------------------------------------------------- */

static void
check_both_directions(struct dp_flow_table *t, const struct pkt *c2s)
{
	struct pkt s2c = reverse(c2s);
	struct dp_flow_key k1, k2;
	struct dp_flow *f, *g;
	int lo1, lo2, created;
	size_t alen = c2s->family == 4 ? 4 : 16;

	dp_flow_key_make(&k1, c2s->family, c2s->proto, c2s->src, c2s->dst, c2s->sport,
			 c2s->dport, c2s->vlan, &lo1);
	dp_flow_key_make(&k2, s2c.family, s2c.proto, s2c.src, s2c.dst, s2c.sport,
			 s2c.dport, s2c.vlan, &lo2);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) == 0);
	CU_ASSERT_EQUAL(lo1, !lo2);
	CU_ASSERT_EQUAL(dp_flow_key_hash(&k1), dp_flow_key_hash(&k2));

	f = lookup(t, c2s, 1 * SEC, 1, &lo1, &created);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(created, 1);
	g = lookup(t, &s2c, 2 * SEC, 1, &lo2, &created);
	CU_ASSERT_PTR_EQUAL(g, f);
	CU_ASSERT_EQUAL(created, 0);
	CU_ASSERT_EQUAL(dp_flow_dir(f, lo1), 0);
	CU_ASSERT_EQUAL(dp_flow_dir(f, lo2), 1);
	/* the matchers' view names the initiator as client */
	CU_ASSERT(memcmp(f->tuple.client_ip, c2s->src, alen) == 0);
	CU_ASSERT(memcmp(f->tuple.server_ip, c2s->dst, alen) == 0);
	CU_ASSERT_EQUAL(f->tuple.client_port, c2s->sport);
	CU_ASSERT_EQUAL(f->tuple.server_port, c2s->dport);
	CU_ASSERT_EQUAL(f->tuple.family, c2s->family);
	CU_ASSERT_EQUAL(f->tuple.proto, c2s->proto);
	CU_ASSERT_EQUAL(f->cls, c2s->proto == IPPROTO_TCP ? DP_FLOW_NEW : DP_FLOW_UDP);
	CU_ASSERT_EQUAL(f->first_ns, 1 * SEC);
	CU_ASSERT(f->in_use);
	/* lookup without create finds it from both sides too */
	CU_ASSERT_PTR_EQUAL(lookup(t, &s2c, 3 * SEC, 0, NULL, NULL), f);
	CU_ASSERT_PTR_EQUAL(lookup(t, c2s, 3 * SEC, 0, NULL, NULL), f);
}

static void
test_directions(void)
{
	struct dp_flow_table *t = table(64, 0);
	struct pkt p;
	const struct dp_flow_counters *c = dp_flow_counters(t);

	/* client has the lower address */
	p = pkt4(0x0a000001, 0xc0a80001, 40000, 80);
	check_both_directions(t, &p);
	/* client has the higher address (and a lower port) */
	p = pkt4(0xc0a80002, 0x0a000002, 80, 40000);
	check_both_directions(t, &p);
	/* same address on both sides: the port decides */
	p = pkt4(0x7f000001, 0x7f000001, 50000, 8080);
	check_both_directions(t, &p);
	p = pkt4(0x7f000001, 0x7f000001, 1024, 8080);
	check_both_directions(t, &p);
	/* UDP */
	p = pkt4(0x0a000001, 0xc0a80001, 5353, 53);
	p.proto = IPPROTO_UDP;
	check_both_directions(t, &p);
	/* IPv6: addresses that only differ in their last byte, and in their first */
	memset(&p, 0, sizeof(p));
	p.family = 6;
	p.proto = IPPROTO_TCP;
	memcpy(p.src, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x09", 16);
	memcpy(p.dst, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	p.sport = 33000;
	p.dport = 443;
	check_both_directions(t, &p);
	p.src[0] = 0xfe;
	check_both_directions(t, &p);
	CU_ASSERT_EQUAL(c->created, 7);
	CU_ASSERT_EQUAL(c->active, 7);
	dp_flow_table_destroy(t);
	CU_ASSERT_EQUAL(R.n, 7);
	CU_ASSERT_EQUAL(R.not_in_use, 0);
}

static void
test_separation(void)
{
	struct dp_flow_table *t = table(64, 0);
	struct pkt p = pkt4(0x0a000001, 0x0a000002, 1000, 80), q;
	struct dp_flow *f[6];
	int i, j, created;

	f[0] = lookup(t, &p, SEC, 1, NULL, &created);
	q = p;
	q.vlan = 10;
	f[1] = lookup(t, &q, SEC, 1, NULL, &created);
	q.vlan = 20;
	f[2] = lookup(t, &q, SEC, 1, NULL, &created);
	q = p;
	q.proto = IPPROTO_UDP;
	f[3] = lookup(t, &q, SEC, 1, NULL, &created);
	/* an IPv6 address whose first 4 bytes equal the IPv4 one */
	q = p;
	q.family = 6;
	f[4] = lookup(t, &q, SEC, 1, NULL, &created);
	q = p;
	q.sport = 1001;
	f[5] = lookup(t, &q, SEC, 1, NULL, &created);
	for (i = 0; i < 6; i++) {
		CU_ASSERT_PTR_NOT_NULL(f[i]);
		for (j = 0; j < i; j++)
			CU_ASSERT_PTR_NOT_EQUAL(f[i], f[j]);
	}
	CU_ASSERT_EQUAL(dp_flow_counters(t)->active, 6);
	/* each is found again, in both directions */
	q = p;
	q.vlan = 20;
	q = reverse(&q);
	CU_ASSERT_PTR_EQUAL(lookup(t, &q, SEC, 0, NULL, NULL), f[2]);
	q.vlan = 30;
	CU_ASSERT_PTR_NULL(lookup(t, &q, SEC, 0, NULL, NULL));
	CU_ASSERT_EQUAL(dp_flow_counters(t)->created, 6);
	dp_flow_table_destroy(t);
}

static void
test_hash_symmetric(void)
{
	uint32_t seen[2000];
	uint32_t i, j, distinct = 0;

	srand(7);
	for (i = 0; i < 2000; i++) {
		struct pkt p, r;
		struct dp_flow_key k1, k2;
		int lo1, lo2, b;

		memset(&p, 0, sizeof(p));
		p.family = (i & 1) ? 6 : 4;
		p.proto = (i & 2) ? IPPROTO_UDP : IPPROTO_TCP;
		for (b = 0; b < (p.family == 4 ? 4 : 16); b++) {
			p.src[b] = (uint8_t)rand();
			p.dst[b] = (uint8_t)rand();
		}
		p.sport = (uint16_t)rand();
		p.dport = (uint16_t)rand();
		p.vlan = (uint16_t)(rand() & 0xfff);
		r = reverse(&p);
		dp_flow_key_make(&k1, p.family, p.proto, p.src, p.dst, p.sport, p.dport,
				 p.vlan, &lo1);
		dp_flow_key_make(&k2, r.family, r.proto, r.src, r.dst, r.sport, r.dport,
				 r.vlan, &lo2);
		CU_ASSERT_EQUAL(dp_flow_key_hash(&k1), dp_flow_key_hash(&k2));
		CU_ASSERT_EQUAL(lo1, !lo2);
		seen[i] = dp_flow_key_hash(&k1);
	}
	/* and it spreads: different tuples almost never share a hash */
	for (i = 0; i < 2000; i++) {
		for (j = 0; j < i; j++)
			if (seen[j] == seen[i])
				break;
		distinct += j == i;
	}
	CU_ASSERT(distinct >= 1995);
}

/* Create flows of every class at @t0 and check each class times out on its
 * own timeout: not at t0+timeout-1ns, but at t0+timeout+1ns. */
static void
test_timeouts(void)
{
	static const uint8_t classes[] = { DP_FLOW_CLOSED, DP_FLOW_NEW, DP_FLOW_UDP, DP_FLOW_EST };
	struct dp_flow_table *t = table(256, 0);
	const struct dp_flow_counters *c = dp_flow_counters(t);
	uint64_t t0 = 1000 * SEC, ids[4][5];
	uint32_t k, i, done = 0;

	for (k = 0; k < 4; k++) {
		for (i = 0; i < 5; i++) {
			struct pkt p = pkt4(0x0a000000 + k, 0x0b000000, (uint16_t)(1000 + i), 80);
			struct dp_flow *f;

			if (classes[k] == DP_FLOW_UDP)
				p.proto = IPPROTO_UDP;
			f = lookup(t, &p, t0, 1, NULL, NULL);
			CU_ASSERT_PTR_NOT_NULL_FATAL(f);
			if (classes[k] != f->cls)
				dp_flow_touch(t, f, t0, classes[k]);
			CU_ASSERT_EQUAL(f->cls, classes[k]);
			ids[k][i] = f->tuple.flow_id;
		}
	}
	CU_ASSERT_EQUAL(c->active, 20);
	for (k = 0; k < 4; k++) {
		uint64_t to = timeouts[classes[k]] * SEC;

		CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + to - 1, 1000), 0);
		CU_ASSERT_EQUAL(R.n, done);
		CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + to + 1, 1000), 5);
		CU_ASSERT_EQUAL(R.n, done + 5);
		for (i = 0; i < 5; i++) {
			CU_ASSERT_EQUAL(released_times(ids[k][i]), 1);
			CU_ASSERT_EQUAL(R.cls[done + i], classes[k]);
		}
		done += 5;
		CU_ASSERT_EQUAL(c->timed_out, done);
		CU_ASSERT_EQUAL(c->active, 20 - done);
	}
	CU_ASSERT_EQUAL(R.not_in_use, 0);
	/* the released flows are gone from the hash */
	for (k = 0; k < 4; k++) {
		struct pkt p = pkt4(0x0a000000 + k, 0x0b000000, 1000, 80);

		if (classes[k] == DP_FLOW_UDP)
			p.proto = IPPROTO_UDP;
		CU_ASSERT_PTR_NULL(lookup(t, &p, t0, 0, NULL, NULL));
	}

	/* the budget bounds one call */
	for (i = 0; i < 10; i++) {
		struct pkt p = pkt4(0x0c000000, 0x0b000000, (uint16_t)(2000 + i), 80);

		CU_ASSERT_PTR_NOT_NULL(lookup(t, &p, t0, 1, NULL, NULL));
	}
	CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + 11 * SEC, 3), 3);
	CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + 11 * SEC, 0), 0);
	CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + 11 * SEC, 100), 7);
	CU_ASSERT_EQUAL(c->active, 0);
	dp_flow_table_destroy(t);
	CU_ASSERT_EQUAL(R.n, 30);
}

static void
test_touch_changes_timeout(void)
{
	struct dp_flow_table *t = table(64, 0);
	uint64_t t0 = 5 * SEC;
	struct pkt a = pkt4(0x0a000001, 0x0a000002, 1111, 80);
	struct pkt b = pkt4(0x0a000001, 0x0a000002, 2222, 80);
	struct dp_flow *fa, *fb;
	uint64_t ida, idb;

	fa = lookup(t, &a, t0, 1, NULL, NULL);
	fb = lookup(t, &b, t0, 1, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fa);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fb);
	ida = fa->tuple.flow_id;
	idb = fb->tuple.flow_id;
	/* a completes its handshake one second in: the EST timeout applies */
	dp_flow_touch(t, fa, t0 + SEC, DP_FLOW_EST);
	CU_ASSERT_EQUAL(fa->last_ns, t0 + SEC);
	CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + 10 * SEC + 1, 100), 1);   /* b (NEW) */
	CU_ASSERT_EQUAL(R.n, 1);
	CU_ASSERT_EQUAL(R.id[0], idb);
	CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + SEC + 100 * SEC - 1, 100), 0);
	/* activity in the same class pushes expiry back */
	dp_flow_touch(t, fa, t0 + 50 * SEC, DP_FLOW_EST);
	CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + 101 * SEC + 1, 100), 0);
	/* then it closes: the short CLOSED timeout applies from now */
	dp_flow_touch(t, fa, t0 + 60 * SEC, DP_FLOW_CLOSED);
	CU_ASSERT_EQUAL(fa->cls, DP_FLOW_CLOSED);
	CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + 65 * SEC - 1, 100), 0);
	CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + 65 * SEC + 1, 100), 1);
	CU_ASSERT_EQUAL(R.n, 2);
	CU_ASSERT_EQUAL(R.id[1], ida);
	CU_ASSERT_EQUAL(R.cls[1], DP_FLOW_CLOSED);

	/* a timestamp that steps backwards does not move last_ns back */
	fa = lookup(t, &a, t0 + 100 * SEC, 1, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fa);
	dp_flow_touch(t, fa, t0 + 90 * SEC, DP_FLOW_NEW);
	CU_ASSERT_EQUAL(fa->last_ns, t0 + 100 * SEC);
	CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + 110 * SEC - 1, 100), 0);
	CU_ASSERT_EQUAL(dp_flow_expire(t, t0 + 110 * SEC + 1, 100), 1);
	dp_flow_table_destroy(t);
	CU_ASSERT_EQUAL(R.n, 3);
	CU_ASSERT_EQUAL(R.not_in_use, 0);
}

/* A full table evicts the oldest flow of the cheapest class: closed, new,
 * UDP, established. */
static void
test_hard_cap(void)
{
	enum { N = 40, K = 40 };
	static const uint8_t order[] = { DP_FLOW_CLOSED, DP_FLOW_NEW, DP_FLOW_UDP, DP_FLOW_EST };
	struct dp_flow_table *t = table(N, 0);
	const struct dp_flow_counters *c = dp_flow_counters(t);
	uint64_t id_of[N], expect[N];
	uint8_t cls_of[N];
	uint32_t i, e = 0, ncls[DP_FLOW__CLASSES] = { 0 };

	/* N flows, classes interleaved, each created one second after the other */
	for (i = 0; i < N; i++) {
		uint8_t cls = (uint8_t)((i * 7 + 3) % 4);   /* 3,2,1,0,3,... */
		struct pkt p = pkt4(0x0a000000 + i, 0x0b000001, 5000, 80);
		struct dp_flow *f;

		if (cls == DP_FLOW_UDP)
			p.proto = IPPROTO_UDP;
		f = lookup(t, &p, i * SEC, 1, NULL, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		if (f->cls != cls)
			dp_flow_touch(t, f, i * SEC, cls);
		id_of[i] = f->tuple.flow_id;
		cls_of[i] = cls;
		ncls[cls]++;
	}
	CU_ASSERT_EQUAL(c->active, N);
	CU_ASSERT(ncls[0] > 0 && ncls[1] > 0 && ncls[2] > 0 && ncls[3] > 0);
	/* expected eviction order: by class, oldest first within a class */
	for (i = 0; i < sizeof(order); i++) {
		uint32_t j;

		for (j = 0; j < N; j++)
			if (cls_of[j] == order[i])
				expect[e++] = id_of[j];
	}
	CU_ASSERT_EQUAL(e, N);

	/* K more established flows (created NEW, promoted right away) */
	for (i = 0; i < K; i++) {
		struct pkt p = pkt4(0x0c000000 + i, 0x0b000001, 6000, 80);
		struct dp_flow *f;
		int created;

		f = lookup(t, &p, (N + i) * SEC, 1, NULL, &created);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_EQUAL(created, 1);
		dp_flow_touch(t, f, (N + i) * SEC, DP_FLOW_EST);
		CU_ASSERT(c->active <= N);
		CU_ASSERT_EQUAL(c->evicted, i + 1);
		CU_ASSERT_EQUAL(R.n, i + 1);
		CU_ASSERT_EQUAL(R.id[i], expect[i]);
	}
	CU_ASSERT_EQUAL(c->active, N);
	CU_ASSERT_EQUAL(c->created, N + K);
	CU_ASSERT_EQUAL(c->insert_failed, 0);
	for (i = 0; i < N; i++)
		CU_ASSERT_EQUAL(released_times(id_of[i]), 1);
	CU_ASSERT_EQUAL(R.not_in_use, 0);
	/* evicted flows are gone; the newcomers are all there */
	for (i = 0; i < N; i++) {
		struct pkt p = pkt4(0x0a000000 + i, 0x0b000001, 5000, 80);

		if (cls_of[i] == DP_FLOW_UDP)
			p.proto = IPPROTO_UDP;
		CU_ASSERT_PTR_NULL(lookup(t, &p, 0, 0, NULL, NULL));
	}
	for (i = 0; i < K; i++) {
		struct pkt p = pkt4(0x0c000000 + i, 0x0b000001, 6000, 80);

		CU_ASSERT_PTR_NOT_NULL(lookup(t, &p, 0, 0, NULL, NULL));
	}
	dp_flow_table_destroy(t);
	CU_ASSERT_EQUAL(R.n, N + K);
}

/* Insert flows that all carry the same hash value (same two rte_hash
 * buckets) into table @t; return how many were created. */
static uint32_t
insert_colliding(struct dp_flow_table *t, uint32_t n, uint32_t hash, uint16_t port0,
		 uint64_t now, enum dp_flow_class cls, struct dp_flow **out)
{
	uint32_t i, ok = 0;

	for (i = 0; i < n; i++) {
		struct pkt p = pkt4(0x0d000000 + i, 0x0b000001, (uint16_t)(port0 + i), 80);
		struct dp_flow_key k;
		struct dp_flow *f;
		int lo, created;

		dp_flow_key_make(&k, p.family, p.proto, p.src, p.dst, p.sport, p.dport, 0, &lo);
		f = dp_flow_get(t, &k, hash, now, 1, lo, &created);
		if (out != NULL)
			out[i] = f;
		if (f == NULL)
			continue;
		ok++;
		if (cls != DP_FLOW_NEW)
			dp_flow_touch(t, f, now, cls);
	}
	return ok;
}

/* The table is far from its cap: a bucket collision must not cost other
 * flows their state. */
static void
test_collisions_below_cap(void)
{
	struct dp_flow_table *t = table(64, 0);
	const struct dp_flow_counters *c = dp_flow_counters(t);
	uint32_t ok;

	ok = insert_colliding(t, 24, 0x12345678, 100, SEC, DP_FLOW_NEW, NULL);
	CU_ASSERT_EQUAL(ok, 24);
	CU_ASSERT_EQUAL(c->active, 24);
	CU_ASSERT_EQUAL(c->evicted, 0);
	CU_ASSERT_EQUAL(c->insert_failed, 0);
	CU_ASSERT_EQUAL(R.n, c->evicted);
	dp_flow_table_destroy(t);
}

/* When no room can be made the insert fails, is counted, and the table
 * stays consistent: everything removed was released once, everything
 * still counted active is still found. */
static void
test_insert_failed(void)
{
	struct dp_flow_table *t = table(64, 0);
	const struct dp_flow_counters *c = dp_flow_counters(t);
	struct dp_flow *coll[17], *f;
	struct pkt p;
	uint32_t ok, i, found = 0;
	int created;

	/* 16 established flows fill the two buckets of one hash value */
	ok = insert_colliding(t, 16, 0xabcdef01, 100, SEC, DP_FLOW_EST, coll);
	CU_ASSERT_EQUAL(ok, 16);
	/* 6 new flows elsewhere: the cheapest victims, but in other buckets */
	for (i = 0; i < 6; i++) {
		p = pkt4(0x0e000000 + i, 0x0b000001, 7000, 80);
		CU_ASSERT_PTR_NOT_NULL(lookup(t, &p, 2 * SEC, 1, NULL, NULL));
	}
	CU_ASSERT_EQUAL(c->active, 22);
	/* a 17th flow with the same hash */
	f = NULL;
	{
		struct dp_flow_key k;
		int lo;

		p = pkt4(0x0f000000, 0x0b000001, 9999, 80);
		dp_flow_key_make(&k, 4, IPPROTO_TCP, p.src, p.dst, p.sport, p.dport, 0, &lo);
		f = dp_flow_get(t, &k, 0xabcdef01, 3 * SEC, 1, lo, &created);
	}
	if (f == NULL) {
		CU_ASSERT_EQUAL(created, 0);
		CU_ASSERT_EQUAL(c->insert_failed, 1);
	} else {
		CU_ASSERT_EQUAL(created, 1);
		CU_ASSERT_EQUAL(c->insert_failed, 0);
	}
	/* consistency whatever happened */
	CU_ASSERT_EQUAL(R.n, c->evicted);
	CU_ASSERT_EQUAL(c->active, c->created - c->evicted);
	CU_ASSERT(c->active <= 64);
	for (i = 0; i < R.n; i++)
		CU_ASSERT_EQUAL(released_times(R.id[i]), 1);
	for (i = 0; i < 16; i++) {
		struct dp_flow_key k;
		int lo;

		p = pkt4(0x0d000000 + i, 0x0b000001, (uint16_t)(100 + i), 80);
		dp_flow_key_make(&k, 4, IPPROTO_TCP, p.src, p.dst, p.sport, p.dport, 0, &lo);
		found += dp_flow_get(t, &k, 0xabcdef01, 3 * SEC, 0, lo, &created) != NULL;
	}
	for (i = 0; i < 6; i++) {
		p = pkt4(0x0e000000 + i, 0x0b000001, 7000, 80);
		found += lookup(t, &p, 3 * SEC, 0, NULL, NULL) != NULL;
	}
	CU_ASSERT_EQUAL(found + (f != NULL), c->active);
	/* established flows are never sacrificed while cheaper ones exist */
	for (i = 0; i < R.n; i++)
		CU_ASSERT_EQUAL(R.cls[i], DP_FLOW_NEW);
	dp_flow_flush_all(t);
	CU_ASSERT_EQUAL(c->active, 0);
	CU_ASSERT_EQUAL(R.n, c->created);
	dp_flow_table_destroy(t);
}

static void
test_flow_ids(void)
{
	struct dp_flow_table *a, *b;
	uint64_t ids[400];
	uint32_t i, j, n = 0;
	struct relrec save;

	a = table(256, 1);
	b = dp_flow_table_create("tflow_b", 256, timeouts, 0, 2, rec_release, &save);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memset(&save, 0, sizeof(save));
	for (i = 0; i < 200; i++) {
		/* the same tuples in both tables */
		struct pkt p = pkt4(0x0a000000 + i, 0x0b000001, 4000, 443);
		struct dp_flow *fa = lookup(a, &p, SEC, 1, NULL, NULL);
		struct dp_flow *fb = lookup(b, &p, SEC, 1, NULL, NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(fa);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fb);
		CU_ASSERT_EQUAL(fa->tuple.flow_id >> 44, 1);
		CU_ASSERT_EQUAL(fb->tuple.flow_id >> 44, 2);
		CU_ASSERT(fa->tuple.flow_id < (1ull << 53));
		ids[n++] = fa->tuple.flow_id;
		ids[n++] = fb->tuple.flow_id;
	}
	/* a flow recreated after expiry gets a new id */
	CU_ASSERT_EQUAL(dp_flow_expire(a, 100 * SEC, 1000), 200);
	{
		struct pkt p = pkt4(0x0a000000, 0x0b000001, 4000, 443);
		struct dp_flow *fa = lookup(a, &p, 101 * SEC, 1, NULL, NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(fa);
		for (j = 0; j < n; j++)
			CU_ASSERT_NOT_EQUAL(ids[j], fa->tuple.flow_id);
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (ids[i] == ids[j])
				CU_FAIL("duplicate flow id");
	dp_flow_table_destroy(a);
	dp_flow_table_destroy(b);
	CU_ASSERT_EQUAL(save.n, 200);
}

static void
test_flush_all(void)
{
	struct dp_flow_table *t = table(128, 3);
	const struct dp_flow_counters *c = dp_flow_counters(t);
	uint32_t i;

	for (i = 0; i < 100; i++) {
		struct pkt p = pkt4(0x0a000000 + i, 0x0b000001, 4000, 443);
		struct dp_flow *f;

		if (i % 3 == 0)
			p.proto = IPPROTO_UDP;
		f = lookup(t, &p, SEC, 1, NULL, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		if (i % 3 == 1)
			dp_flow_touch(t, f, SEC, i % 2 ? DP_FLOW_EST : DP_FLOW_CLOSED);
	}
	CU_ASSERT_EQUAL(c->active, 100);
	dp_flow_flush_all(t);
	CU_ASSERT_EQUAL(c->active, 0);
	CU_ASSERT_EQUAL(R.n, 100);
	CU_ASSERT_EQUAL(R.not_in_use, 0);
	for (i = 0; i < R.n; i++)
		CU_ASSERT_EQUAL(released_times(R.id[i]), 1);
	for (i = 0; i < 100; i++) {
		struct pkt p = pkt4(0x0a000000 + i, 0x0b000001, 4000, 443);

		if (i % 3 == 0)
			p.proto = IPPROTO_UDP;
		CU_ASSERT_PTR_NULL(lookup(t, &p, SEC, 0, NULL, NULL));
	}
	/* the table is usable again, to its full capacity */
	for (i = 0; i < 128; i++) {
		struct pkt p = pkt4(0x0c000000 + i, 0x0b000001, 4000, 443);

		CU_ASSERT_PTR_NOT_NULL(lookup(t, &p, 2 * SEC, 1, NULL, NULL));
	}
	CU_ASSERT_EQUAL(c->active, 128);
	CU_ASSERT_EQUAL(c->evicted, 0);
	CU_ASSERT_EQUAL(dp_flow_expire(t, 2 * SEC, 1000), 0);
	dp_flow_flush_all(t);
	CU_ASSERT_EQUAL(R.n, 228);
	dp_flow_flush_all(t);   /* idempotent */
	CU_ASSERT_EQUAL(R.n, 228);
	dp_flow_table_destroy(t);
	CU_ASSERT_EQUAL(R.n, 228);
}

static void
test_create_errors(void)
{
	errno = 0;
	CU_ASSERT_PTR_NULL(dp_flow_table_create("tflow_e1", 4, timeouts, 0, 0, rec_release, &R));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(dp_flow_table_create("tflow_e2", 64, timeouts, 0, 0, NULL, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	dp_flow_table_destroy(NULL);
}

static int
suite_init(void)
{
	return tu_eal_init("test_flow") == 0 ? 0 : -1;
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("flow", suite_init, NULL);
	CU_add_test(s, "both directions, one flow; dir 0 client, 1 server", test_directions);
	CU_add_test(s, "VLAN, protocol, family and port separate flows", test_separation);
	CU_add_test(s, "key hash is symmetric and spreads", test_hash_symmetric);
	CU_add_test(s, "timeouts per class, release hook once per flow", test_timeouts);
	CU_add_test(s, "touch moves a flow between timeout classes", test_touch_changes_timeout);
	CU_add_test(s, "hard cap: eviction order closed, new, udp, established", test_hard_cap);
	CU_add_test(s, "hash collisions below the cap evict nothing", test_collisions_below_cap);
	CU_add_test(s, "insert failure is counted, table stays consistent", test_insert_failed);
	CU_add_test(s, "flow ids unique across workers", test_flow_ids);
	CU_add_test(s, "flush_all releases everything", test_flush_all);
	CU_add_test(s, "creation errors", test_create_errors);
	return tu_run_all();
}
