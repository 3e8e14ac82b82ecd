/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_analytics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_block.h"
#include "dp_worker.h"

/* Idle analytics thread sleep, and how often (record time) blocks and
 * behavioural windows are expired. */
#define DP_AN_IDLE_NS 1000000L
#define DP_AN_TICK_NS 1000000000ull
#define DP_AN_BURST 64
#define DP_AN_DETS 16

struct dp_analytics {
	struct dp_plane_shared *sh;
	struct mt_behav *b;
	struct rte_ring *ring;
	struct rte_mempool *pool;
	pthread_t thread;
	pthread_mutex_t lock;           /* b: analytics thread vs. control */
	volatile int stop;
	int running;
	uint64_t last_tick_ns;
	uint64_t now_ns;                /* newest record time */
	struct dp_analytics_counters cnt;
	struct mt_behav_detection dets[DP_AN_DETS];
};

static void
dp_an_err(char **err, const char *what)
{
	if (err != NULL && *err == NULL && asprintf(err, "analytics: %s", what) < 0)
		*err = NULL;
}

struct dp_analytics *
dp_analytics_create(struct dp_plane_shared *sh, const struct mt_behav_params *p,
		    uint32_t ring_size, char **err)
{
	struct dp_analytics *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		dp_an_err(err, "out of memory");
		return NULL;
	}
	a->sh = sh;
	a->b = mt_behav_create(p);
	a->ring = rte_ring_create("ag_behav", rte_align32pow2(ring_size), 0, RING_F_SC_DEQ);
	a->pool = rte_mempool_create("ag_behav_items", ring_size, sizeof(struct dp_behav_item),
				     0, 0, NULL, NULL, NULL, NULL, 0, 0);
	if (a->b == NULL || a->ring == NULL || a->pool == NULL) {
		dp_an_err(err, a->b == NULL ? "cannot create the behaviour state"
					    : "cannot create the record ring");
		dp_analytics_destroy(a);
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

static uint16_t
dp_an_copy(char *dst, size_t cap, const char *src, size_t n)
{
	n = n < cap ? n : cap;
	memcpy(dst, src, n);
	return (uint16_t)n;
}

static bool
dp_an_inline_det(enum mt_behav_det det)
{
	switch (det) {
	case MT_DET_JWT_ALG_NONE:
	case MT_DET_JWT_EMPTY_SIGNATURE:
	case MT_DET_JWT_EXPIRED:
	case MT_DET_JWT_HEADER_INJECTION:
	case MT_DET_JWT_BAD_SIGNATURE:
	case MT_DET_APIKEY_IN_URL:
		return true;
	default:
		return false;
	}
}

/* A detection becomes an alert record and, if asked, a block. */
static void
dp_an_detection(struct dp_analytics *a, const struct dp_behav_item *it,
		const struct mt_behav_detection *d)
{
	struct dp_plane_shared *sh = a->sh;
	const struct mt_behav_rec *r = &it->rec;
	struct dp_alert *al;
	void *obj;
	bool block = d->action != MT_BEHAV_ALERT;

	a->cnt.detections++;
	if (block && sh->blocklist != NULL) {
		struct dp_block_key k;

		if (d->action == MT_BEHAV_BLOCK_CLIENT)
			dp_block_client_key(&k, d->family, d->client_ip);
		else
			dp_block_identity_key(&k, d->id_hash);
		if (dp_block_add(sh->blocklist, &k, d->ts_ns, d->expires_ns,
				 d->rule ? d->rule->sid : 0, mt_behav_det_name(d->det)) == 0)
			a->cnt.blocks_added++;
		else
			a->cnt.blocks_failed++;
	}
	/* Request-time detections were already reported inline by the worker
	 * (and acted on); only a block decided here adds something new. */
	if (!block && dp_an_inline_det(d->det))
		return;
	if (rte_mempool_get(sh->alert_pool, &obj) != 0) {
		a->cnt.alerts_lost++;
		return;
	}
	al = obj;
	memset(al, 0, offsetof(struct dp_alert, method));
	al->ts_ns = d->ts_ns ? d->ts_ns : r->ts_ns;
	al->txn_id = d->txn_id;
	al->rule = d->rule;
	al->tuple = it->tuple;
	if (d->flow_id != it->tuple.flow_id) {
		/* About another flow of the same actor: keep its client. */
		al->tuple.flow_id = d->flow_id;
		al->tuple.family = d->family;
		memcpy(al->tuple.client_ip, d->client_ip, 16);
	}
	al->worker = UINT16_MAX;
	al->dir = 0;
	al->outcome = block ? DP_OUTCOME_BLOCKED : DP_OUTCOME_ALLOWED;
	al->status = r->status;
	al->http_major = 1;
	al->http_minor = 1;
	al->method_len = dp_an_copy(al->method, sizeof(al->method), r->method,
				    strnlen(r->method, sizeof(r->method)));
	al->uri_len = dp_an_copy(al->uri, sizeof(al->uri), it->uri, it->uri_len);
	al->host_len = dp_an_copy(al->host, sizeof(al->host), r->host,
				  strnlen(r->host, sizeof(r->host)));
	al->ua_len = dp_an_copy(al->ua, sizeof(al->ua), it->ua, it->ua_len);
	al->evidence_len = dp_an_copy(al->evidence, sizeof(al->evidence), d->evidence,
				      strnlen(d->evidence, sizeof(d->evidence)));
	if (rte_ring_mp_enqueue(sh->alert_ring, al) != 0) {
		rte_mempool_put(sh->alert_pool, al);
		a->cnt.alerts_lost++;
		return;
	}
	dp_lockstep_add(sh, &sh->ls_alerts_in, 1);
	a->cnt.alerts++;
}

static unsigned int
dp_an_run_once(struct dp_analytics *a)
{
	void *objs[DP_AN_BURST];
	unsigned int n, i;

	n = rte_ring_sc_dequeue_burst(a->ring, objs, DP_AN_BURST, NULL);
	if (n == 0)
		return 0;
	pthread_mutex_lock(&a->lock);
	for (i = 0; i < n; i++) {
		const struct dp_behav_item *it = objs[i];
		unsigned int k, nd;

		a->cnt.records++;
		if (it->rec.ts_ns > a->now_ns)
			a->now_ns = it->rec.ts_ns;
		nd = mt_behav_process(a->b, &it->rec, a->dets, DP_AN_DETS);
		for (k = 0; k < nd; k++)
			dp_an_detection(a, it, &a->dets[k]);
	}
	/* Time advances with the records (capture time offline). */
	if (a->now_ns - a->last_tick_ns >= DP_AN_TICK_NS) {
		mt_behav_tick(a->b, a->now_ns);
		if (a->sh->blocklist != NULL)
			a->cnt.blocks_expired += dp_block_expire(a->sh->blocklist, a->now_ns);
		a->last_tick_ns = a->now_ns;
	}
	pthread_mutex_unlock(&a->lock);
	rte_mempool_put_bulk(a->pool, objs, n);
	/* After its alerts were queued: lockstep waits for those next. */
	dp_lockstep_add(a->sh, &a->sh->ls_records_out, n);
	return n;
}

static void *
dp_an_main(void *arg)
{
	struct dp_analytics *a = arg;

	while (!a->stop) {
		if (dp_an_run_once(a) == 0) {
			struct timespec ts = { 0, DP_AN_IDLE_NS };

			nanosleep(&ts, NULL);
		}
	}
	while (dp_an_run_once(a) > 0)
		;
	return NULL;
}

int
dp_analytics_start(struct dp_analytics *a)
{
	int rc = pthread_create(&a->thread, NULL, dp_an_main, a);

	if (rc != 0)
		return -rc;
	pthread_setname_np(a->thread, "ag-analytics");
	a->running = 1;
	return 0;
}

void
dp_analytics_stop(struct dp_analytics *a)
{
	if (a == NULL || !a->running)
		return;
	a->stop = 1;
	pthread_join(a->thread, NULL);
	a->running = 0;
}

void
dp_analytics_destroy(struct dp_analytics *a)
{
	void *obj;

	if (a == NULL)
		return;
	dp_analytics_stop(a);
	if (a->ring != NULL) {
		while (rte_ring_sc_dequeue(a->ring, &obj) == 0)
			rte_mempool_put(a->pool, obj);
	}
	rte_ring_free(a->ring);
	rte_mempool_free(a->pool);
	mt_behav_destroy(a->b);
	free(a);
}

int
dp_analytics_submit(struct dp_analytics *a, const struct dp_behav_item *it)
{
	void *obj;

	if (rte_mempool_get(a->pool, &obj) != 0) {
		__atomic_add_fetch(&a->cnt.records_lost, 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	memcpy(obj, it, sizeof(*it));
	if (rte_ring_mp_enqueue(a->ring, obj) != 0) {
		rte_mempool_put(a->pool, obj);
		__atomic_add_fetch(&a->cnt.records_lost, 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	return 0;
}

const struct dp_analytics_counters *
dp_analytics_counters(const struct dp_analytics *a)
{
	return &a->cnt;
}

int
dp_analytics_with(struct dp_analytics *a, int (*fn)(struct mt_behav *b, void *arg), void *arg)
{
	int rc;

	pthread_mutex_lock(&a->lock);
	rc = fn(a->b, arg);
	pthread_mutex_unlock(&a->lock);
	return rc;
}
