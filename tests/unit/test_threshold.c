/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_threshold: threshold (limit, threshold, both) and detection_filter
 * enforcement with Suricata's semantics, per track, timed by t->ts_ns;
 * the bounded table shared by the workers' scratches, its expiry-based
 * reuse, concurrent updates; body hits go through the same filter. No EAL;
 * runs under ASan/UBSan.
 */
#include "tu_eal.h"
#include "mt_engine_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "mt_engine.h"

#define SEC 1000000000ull

struct tx {
	struct mt_txn t;
	struct mt_flow_tuple tup;
};

static void
mk(struct tx *x, uint32_t client, uint32_t server, uint64_t ts)
{
	static const char uri[] = "/attack";
	uint32_t c = htonl(client), s = htonl(server);

	memset(x, 0, sizeof(*x));
	x->tup.family = 4;
	x->tup.proto = 6;
	x->tup.client_port = 40000;
	x->tup.server_port = 80;
	memcpy(x->tup.client_ip, &c, 4);
	memcpy(x->tup.server_ip, &s, 4);
	x->t.tuple = &x->tup;
	x->t.ts_ns = ts;
	x->t.req.method.p = (const uint8_t *)"GET";
	x->t.req.method.len = 3;
	x->t.req.uri.p = (const uint8_t *)uri;
	x->t.req.uri.len = sizeof(uri) - 1;
	x->t.req.http_major = x->t.req.http_minor = 1;
	for (int k = 0; k < MT_HDR__COUNT; k++)
		x->t.req.known[k] = x->t.resp.known[k] = -1;
}

struct env {
	struct mt_engine *e;
	struct mt_scratch *s;
};

static struct env
env(const char *opts)
{
	char rule[512];
	struct mt_errors er = {0};
	struct env v = {0};

	snprintf(rule, sizeof(rule),
		 "drop http any any -> any any (http.uri; content:\"/attack\"; %s sid:7;)", opts);
	v.e = mt_engine_build_text(NULL, rule, "<t>", &er);
	for (size_t i = 0; i < er.n; i++)
		fprintf(stderr, "%s\n", er.v[i].reason);
	mt_errors_clear(&er);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v.e);
	v.s = mt_scratch_create(v.e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v.s);
	return v;
}

static void
env_free(struct env *v)
{
	mt_scratch_destroy(v->s);
	mt_engine_destroy(v->e);
}

/* 1 if the request alerts, 0 if not (the verdict follows the alert). */
static int
hit(struct env *v, uint32_t client, uint32_t server, uint64_t ts)
{
	struct tx x;
	struct mt_result r;
	int n;

	mk(&x, client, server, ts);
	n = mt_match_request(v->e, v->s, &x.t, &r);
	CU_ASSERT(n == 0 || n == 1);
	CU_ASSERT_EQUAL(r.verdict, n == 1 ? MT_ACT_DROP : MT_ACT_NONE);
	return n;
}

struct cq {
	const char *name;
	uint64_t v;
};

static void
cq_cb(void *arg, const char *n, uint64_t v)
{
	struct cq *q = arg;

	if (strcmp(n, q->name) == 0)
		q->v = v;
}

static uint64_t
counter(const struct mt_scratch *s, const char *name)
{
	struct cq q = {name, UINT64_MAX};

	mt_scratch_counters(s, cq_cb, &q);
	CU_ASSERT(q.v != UINT64_MAX);
	return q.v;
}

#define A 0xc0000201u /* 192.0.2.1 */
#define B 0xc0000202u
#define S1 0x0a000005u
#define S2 0x0a000006u

static void
test_limit(void)
{
	struct env v = env("threshold:type limit, track by_src, count 2, seconds 60;");
	int seq[5];

	for (int i = 0; i < 5; i++)
		seq[i] = hit(&v, A, S1, (uint64_t)i * SEC);
	CU_ASSERT(seq[0] == 1 && seq[1] == 1 && seq[2] == 0 && seq[3] == 0 && seq[4] == 0);
	/* another source has its own count */
	CU_ASSERT_EQUAL(hit(&v, B, S1, 5 * SEC), 1);
	/* a new window after 60 s */
	CU_ASSERT_EQUAL(hit(&v, A, S1, 60 * SEC), 1);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 61 * SEC), 1);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 62 * SEC), 0);
	CU_ASSERT_EQUAL(counter(v.s, "threshold_suppressed"), 4);
	env_free(&v);
}

static void
test_threshold_type(void)
{
	struct env v = env("threshold:type threshold, track by_src, count 3, seconds 60;");
	int got = 0;

	/* every third hit within the window alerts */
	for (int i = 0; i < 9; i++)
		got |= hit(&v, A, S1, (uint64_t)i * SEC) << i;
	CU_ASSERT_EQUAL(got, (1 << 2) | (1 << 5) | (1 << 8));
	/* window over: counting restarts */
	CU_ASSERT_EQUAL(hit(&v, A, S1, 100 * SEC), 0);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 101 * SEC), 0);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 102 * SEC), 1);
	env_free(&v);
	/* count 1: every hit */
	v = env("threshold:type threshold, track by_rule, count 1, seconds 60;");
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(hit(&v, A, S1, (uint64_t)i), 1);
	env_free(&v);
}

static void
test_both(void)
{
	struct env v = env("threshold:type both, track by_dst, count 2, seconds 30;");

	/* once per window, at the count-th hit; by_dst: sources share it */
	CU_ASSERT_EQUAL(hit(&v, A, S1, 0), 0);
	CU_ASSERT_EQUAL(hit(&v, B, S1, 1 * SEC), 1);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 2 * SEC), 0);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 3 * SEC), 0);
	CU_ASSERT_EQUAL(hit(&v, A, S2, 3 * SEC), 0); /* other destination */
	CU_ASSERT_EQUAL(hit(&v, A, S1, 30 * SEC), 0);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 31 * SEC), 1);
	env_free(&v);
}

static void
test_detection_filter(void)
{
	struct env v = env("detection_filter:track by_src, count 3, seconds 10;");
	int got = 0;

	/* matches only after count hits within the window, then every one */
	for (int i = 0; i < 6; i++)
		got |= hit(&v, A, S1, (uint64_t)i * SEC) << i;
	CU_ASSERT_EQUAL(got, (1 << 3) | (1 << 4) | (1 << 5));
	/* window from the first hit expired: start over */
	CU_ASSERT_EQUAL(hit(&v, A, S1, 20 * SEC), 0);
	CU_ASSERT_EQUAL(hit(&v, B, S1, 20 * SEC), 0);
	env_free(&v);
	/* with threshold too: detection_filter first, then the limit */
	v = env("detection_filter:track by_src, count 1, seconds 60; "
		"threshold:type limit, track by_src, count 1, seconds 60;");
	CU_ASSERT_EQUAL(hit(&v, A, S1, 0), 0);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 1), 1);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 2), 0);
	env_free(&v);
}

static void
test_tracks(void)
{
	struct env v = env("threshold:type limit, track by_rule, count 1, seconds 60;");

	CU_ASSERT_EQUAL(hit(&v, A, S1, 0), 1);
	CU_ASSERT_EQUAL(hit(&v, B, S2, 1), 0);
	env_free(&v);
	v = env("threshold:type limit, track by_both, count 1, seconds 60;");
	CU_ASSERT_EQUAL(hit(&v, A, S1, 0), 1);
	CU_ASSERT_EQUAL(hit(&v, A, S2, 1), 1);
	CU_ASSERT_EQUAL(hit(&v, B, S1, 2), 1);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 3), 0);
	env_free(&v);
	/* response-side rule: the source is the server */
	{
		struct mt_errors er = {0};
		struct mt_engine *e = mt_engine_build_text(NULL,
			"alert http any any -> any any (flow:to_client; http.stat_code; content:\"500\"; "
			"threshold:type limit, track by_src, count 1, seconds 60; sid:9;)", "<t>", &er);
		struct mt_scratch *s = mt_scratch_create(e);
		struct mt_result r;
		struct tx x;

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		mk(&x, A, S1, 0);
		x.t.resp.status_code = 500;
		CU_ASSERT_EQUAL(mt_match_response(e, s, &x.t, &r), 1);
		mk(&x, B, S1, 1); /* other client, same server: same source */
		x.t.resp.status_code = 500;
		CU_ASSERT_EQUAL(mt_match_response(e, s, &x.t, &r), 0);
		mk(&x, B, S2, 2);
		x.t.resp.status_code = 500;
		CU_ASSERT_EQUAL(mt_match_response(e, s, &x.t, &r), 1);
		mt_scratch_destroy(s);
		mt_engine_destroy(e);
	}
}

/* The table is the generation's, shared by every worker's scratch: a
 * client counted on one worker is counted on all. */
static void
test_shared(void)
{
	struct env v = env("threshold:type limit, track by_src, count 2, seconds 60;");
	struct mt_scratch *s2 = mt_scratch_create(v.e);
	struct env w = {v.e, s2};

	CU_ASSERT_PTR_NOT_NULL_FATAL(s2);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 0), 1);
	CU_ASSERT_EQUAL(hit(&w, A, S1, 1), 1);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 2), 0);
	CU_ASSERT_EQUAL(hit(&w, A, S1, 3), 0);
	CU_ASSERT_EQUAL(hit(&w, B, S1, 4), 1);
	mt_scratch_destroy(s2);
	env_free(&v);
}

/* A bounded table: a key whose window expired gives its slot to a new key
 * (threshold_evictions); with every slot of its probe window live, a hit
 * is reported untracked (threshold_untracked). */
static void
test_eviction(void)
{
	struct env v = env("threshold:type limit, track by_src, count 1, seconds 10;");
	uint32_t n = MT_THR_SLOTS + MT_THR_SLOTS / 2, alerts = 0;

	CU_ASSERT_EQUAL(hit(&v, A, S1, 0), 1);
	CU_ASSERT_EQUAL(hit(&v, A, S1, 1), 0);
	/* more live sources than slots: all reported, some untracked */
	for (uint32_t i = 0; i < n; i++)
		alerts += (uint32_t)hit(&v, 0x0b000000u + i, S1, 2 * SEC);
	CU_ASSERT_EQUAL(alerts, n);
	CU_ASSERT(counter(v.s, "threshold_untracked") > 0);
	CU_ASSERT(counter(v.s, "threshold_untracked") < n - MT_THR_SLOTS / 2);
	CU_ASSERT_EQUAL(counter(v.s, "threshold_evictions"), 0);
	/* still live, still counted: A was tracked before the flood */
	CU_ASSERT_EQUAL(hit(&v, A, S1, 3 * SEC), 0);
	/* eleven seconds on, every window has expired: new sources take the
	 * slots over, and are limited again */
	for (uint32_t i = 0; i < MT_THR_SLOTS / 2; i++)
		CU_ASSERT_EQUAL(hit(&v, 0x0c000000u + i, S1, 14 * SEC), 1);
	CU_ASSERT(counter(v.s, "threshold_evictions") > 0);
	CU_ASSERT_EQUAL(hit(&v, 0x0c000000u, S1, 15 * SEC), 0);
	env_free(&v);
}

/* Concurrent hits of one key from several workers are all counted: a
 * limit of 100 over 4 x 5,000 hits reports exactly 100. */
struct racer {
	struct env v;
	uint32_t reported;
};

static void *
race(void *arg)
{
	struct racer *rc = arg;

	for (uint32_t i = 0; i < 5000; i++) {
		struct tx x;
		struct mt_result r;

		mk(&x, A, S1, (uint64_t)i * 1000);
		if (mt_match_request(rc->v.e, rc->v.s, &x.t, &r) == 1)
			rc->reported++;
	}
	return NULL;
}

static void
test_concurrent(void)
{
	struct env v = env("threshold:type limit, track by_rule, count 100, seconds 3600;");
	struct racer rc[4];
	pthread_t th[4];
	uint32_t total = 0;

	for (int i = 0; i < 4; i++) {
		rc[i].v.e = v.e;
		rc[i].v.s = i == 0 ? v.s : mt_scratch_create(v.e);
		rc[i].reported = 0;
		CU_ASSERT_PTR_NOT_NULL_FATAL(rc[i].v.s);
	}
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, race, &rc[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += rc[i].reported;
		if (i > 0)
			mt_scratch_destroy(rc[i].v.s);
	}
	CU_ASSERT_EQUAL(total, 100);
	env_free(&v);
}

/* Body hits pass through the same filter. */
static void
test_body_threshold(void)
{
	struct mt_errors er = {0};
	struct mt_engine *e = mt_engine_build_text(NULL,
		"alert http any any -> any any (http.request_body; content:\"evil\"; "
		"threshold:type limit, track by_src, count 1, seconds 60; sid:3;)", "<t>", &er);
	struct mt_scratch *s = mt_scratch_create(e);
	int hits = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (int i = 0; i < 3; i++) {
		struct mt_body *b = NULL;
		struct mt_result r;
		struct tx x;

		mk(&x, A, S1, (uint64_t)i * SEC);
		CU_ASSERT_EQUAL(mt_body_begin(e, s, &x.t, 0, &b), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		CU_ASSERT(mt_body_data(e, s, b, &x.t, (const uint8_t *)"so evil", 7, &r) >= 0);
		hits += (int)r.n_hits;
		CU_ASSERT(mt_body_end(e, s, b, &x.t, &r) >= 0);
		hits += (int)r.n_hits;
	}
	CU_ASSERT_EQUAL(hits, 1);
	mt_scratch_destroy(s);
	mt_engine_destroy(e);
}

int
main(void)
{
	CU_pSuite su;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	su = CU_add_suite("matchers_threshold", NULL, NULL);
	CU_add_test(su, "limit", test_limit);
	CU_add_test(su, "threshold", test_threshold_type);
	CU_add_test(su, "both", test_both);
	CU_add_test(su, "detection_filter", test_detection_filter);
	CU_add_test(su, "tracks", test_tracks);
	CU_add_test(su, "shared", test_shared);
	CU_add_test(su, "eviction", test_eviction);
	CU_add_test(su, "concurrent", test_concurrent);
	CU_add_test(su, "body_threshold", test_body_threshold);
	return tu_run_all();
}
