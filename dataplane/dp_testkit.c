/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_testkit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_analytics.h"
#include "dp_worker.h"

/* As in dp_worker.c: frames longer than this are not parsed (oversize). */
#define DP_TK_BOUNCE 16384
#define DP_TK_RING 64

struct dp_testkit {
	char name[24];
	struct dp_testkit_params p;
	struct dp_plane_shared sh;
	struct dp_gen gen;
	struct dp_worker *w;
	uint64_t now_ns;
	struct dp_testkit_stats st;
	unsigned int pkt_pool_size;
	/* The worker lives in rte_malloc memory, which LeakSanitizer does not
	 * scan: heap objects it points to are also pointed to from here. */
	struct mt_behav_worker *behav;
	/* the first bytes of the last frame the worker forwarded, as it left */
	uint8_t last[256];
	uint32_t last_len;
};

static void __attribute__((format(printf, 2, 3)))
dp_tk_err(char **err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || *err != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
}

void
dp_testkit_params_defaults(struct dp_testkit_params *p)
{
	memset(p, 0, sizeof(*p));
	dp_params_defaults(&p->dp);
	p->dp.mbufs = 255;
	p->dp.flow_max = 64;
	p->dp.reasm_flow_cap = 16 * 1024;
	p->dp.reasm_pool_bufs = 64;
	p->dp.http_sessions = 16;
	p->dp.http_spill_bufs = 8;
	p->dp.http_spill_size = 4096;
	p->dp.alert_ring = 256;
	/* Fuzzers cannot compute checksums: validation is opt-in. */
	p->dp.checksum = DP_CSUM_NONE;
	p->behav = true;
	mt_behav_params_defaults(&p->behav_params);
	p->behav_params.max_identities = 256;
	p->behav_params.max_actor_templates = 256;
	p->behav_params.max_clients = 256;
	p->behav_params.max_usernames = 256;
	p->behav_params.max_credentials = 256;
	p->behav_params.max_templates = 256;
	p->behav_params.max_owned_objects = 1024;
	p->behav_params.max_slots = 256;
	p->behav_params.max_suppress = 256;
	p->analytics_ring = 256;
}

/* ---- draining ------------------------------------------------------------ */

static void
dp_tk_drain_tx(struct dp_testkit *k)
{
	void *objs[32];
	unsigned int n;

	while ((n = rte_ring_sc_dequeue_burst(k->w->out_ring, objs, RTE_DIM(objs), NULL)) > 0) {
		k->st.tx += n;
		rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, n);
	}
}

static unsigned int
dp_tk_drain_alerts(struct dp_testkit *k)
{
	void *objs[32];
	unsigned int n, i, total = 0;

	while ((n = rte_ring_sc_dequeue_burst(k->sh.alert_ring, objs, RTE_DIM(objs), NULL)) > 0) {
		for (i = 0; i < n; i++)
			if (k->p.alert_cb != NULL)
				k->p.alert_cb(k->p.alert_arg, objs[i]);
		rte_mempool_put_bulk(k->sh.alert_pool, objs, n);
		total += n;
	}
	k->st.alerts += total;
	return total;
}

/* ---- life cycle ------------------------------------------------------------ */

static int
dp_tk_analytics_create(struct dp_testkit *k, char **err)
{
	if (!k->p.analytics)
		return 0;
	k->sh.analytics = dp_analytics_create(&k->sh, &k->p.behav_params,
					      k->p.analytics_ring, err);
	return k->sh.analytics == NULL ? -ENOMEM : 0;
}

/* The worker's TCP upcalls are static in dp_worker.c and installed by
 * dp_worker_main() on entry. Running it once with stop already set
 * installs them and returns at once (no flows, nothing to receive): the
 * kit then drives dp_worker_packet() itself. */
static void
dp_tk_install_ops(struct dp_testkit *k)
{
	k->sh.stop = true;
	k->sh.io_rx_stopped = true;
	(void)dp_worker_main(k->w);
	k->w->done = false;
	/* dp_worker_main() went offline: report quiescence ourselves. */
	rte_rcu_qsbr_thread_online(k->sh.qsbr, 0);
}

static struct dp_worker *
dp_tk_worker_create(struct dp_testkit *k, char **err)
{
	const struct dp_params *p = &k->p.dp;
	uint32_t timeouts[DP_FLOW__CLASSES] = {
		[DP_FLOW_NEW] = p->flow_timeout_new,
		[DP_FLOW_EST] = p->flow_timeout_est,
		[DP_FLOW_CLOSED] = p->flow_timeout_closed,
		[DP_FLOW_UDP] = p->flow_timeout_udp,
	};
	int socket = (int)rte_socket_id();
	struct dp_worker *w;
	char name[RTE_MEMZONE_NAMESIZE];
	int rc;

	w = rte_zmalloc_socket("dp_tk_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL) {
		dp_tk_err(err, "%s: out of memory for the worker", k->name);
		return NULL;
	}
	k->w = w;
	w->id = 0;
	w->lcore = rte_lcore_id();
	w->sh = &k->sh;
	w->p = &k->p.dp;
	w->base_p = &k->p.dp;
	w->bounce = rte_malloc_socket("dp_tk_bounce", DP_TK_BOUNCE, 64, socket);
	snprintf(name, sizeof(name), "%s_fl", k->name);
	w->flows = dp_flow_table_create(name, p->flow_max, timeouts, socket, 0,
					dp_worker_flow_release, w);
	if (w->bounce == NULL || w->flows == NULL) {
		dp_tk_err(err, "%s: cannot create a flow table of %u flows: %s", k->name,
			  p->flow_max, strerror(errno));
		return NULL;
	}
	snprintf(name, sizeof(name), "%s_tcp", k->name);
	w->tcp.seg_pool = dp_tcp_pool_create(name, p->reasm_pool_bufs, socket);
	if (w->tcp.seg_pool == NULL) {
		dp_tk_err(err, "%s: cannot create %u reassembly buffers: %s", k->name,
			  p->reasm_pool_bufs, rte_strerror(rte_errno));
		return NULL;
	}
	w->tcp.flow_cap_bytes = p->reasm_flow_cap;
	w->tcp.midstream = p->midstream;
	w->tcp.ttl_limit = p->reasm_ttl_limit;
	if (k->p.behav) {
		w->behav = mt_behav_worker_create(&k->p.behav_params);
		k->behav = w->behav;
		if (w->behav == NULL) {
			dp_tk_err(err, "%s: cannot create the behaviour context: %s", k->name,
				  strerror(errno));
			return NULL;
		}
	}
	snprintf(name, sizeof(name), "%s_http", k->name);
	rc = dp_http_ctx_init(&w->http, name, p->http_sessions, p->http_spill_bufs,
			      p->http_spill_size, socket, &dp_worker_http_ops);
	if (rc != 0) {
		dp_tk_err(err, "%s: cannot create %u HTTP sessions: %s", k->name,
			  p->http_sessions, strerror(-rc));
		return NULL;
	}
	/* Software distribution: what the worker transmits goes to out_ring,
	 * which the kit drains; nothing touches an ethdev. */
	snprintf(name, sizeof(name), "%s_in", k->name);
	w->in_ring = rte_ring_create(name, DP_TK_RING, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "%s_out", k->name);
	w->out_ring = rte_ring_create(name, DP_TK_RING, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->in_ring == NULL || w->out_ring == NULL) {
		dp_tk_err(err, "%s: cannot create rings: %s", k->name, rte_strerror(rte_errno));
		return NULL;
	}
	return w;
}

static void
dp_tk_worker_destroy(struct dp_worker *w)
{
	if (w == NULL)
		return;
	dp_flow_table_destroy(w->flows);
	dp_http_ctx_fini(&w->http);
	mt_behav_worker_destroy(w->behav);
	rte_mempool_free(w->tcp.seg_pool);
	rte_ring_free(w->in_ring);
	rte_ring_free(w->out_ring);
	rte_free(w->bounce);
	rte_free(w);
}

struct dp_testkit *
dp_testkit_create(const char *name, const struct dp_testkit_params *p, char **err)
{
	struct dp_testkit *k;
	char nm[RTE_MEMZONE_NAMESIZE];
	int socket = (int)rte_socket_id();
	uint16_t i;
	size_t sz;

	if (name == NULL || strlen(name) == 0 || strlen(name) >= sizeof(k->name)) {
		dp_tk_err(err, "testkit: name must be 1..%zu characters", sizeof(k->name) - 1);
		errno = EINVAL;
		return NULL;
	}
	if (p->analytics && !p->behav) {
		dp_tk_err(err, "%s: analytics needs the behaviour worker side", name);
		errno = EINVAL;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		dp_tk_err(err, "%s: out of memory", name);
		return NULL;
	}
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->p = *p;
	k->p.dp.n_workers = 1;
	k->p.dp.n_ports = 2;
	k->p.dp.ports[0].peer = 1;
	k->p.dp.ports[1].peer = 0;
	/* The flow hash keeps its fixed default seed: runs are reproducible. */

	k->sh.p = &k->p.dp;
	k->sh.software = true;
	k->sh.ts_dynfield = -1;
	k->sh.csum_check = k->p.dp.checksum != DP_CSUM_NONE;
	k->sh.tsc_hz = rte_get_tsc_hz();
	for (i = 0; i < RTE_MAX_ETHPORTS; i++) {
		k->sh.out_idx[i] = -1;
		k->sh.idx_of_port[i] = -1;
	}
	/* An inline pair: port 0 <-> port 1. */
	k->sh.port_id[0] = 0;
	k->sh.port_id[1] = 1;
	k->sh.idx_of_port[0] = 0;
	k->sh.idx_of_port[1] = 1;
	k->sh.out_idx[0] = 1;
	k->sh.out_idx[1] = 0;

	snprintf(nm, sizeof(nm), "%s_mb", name);
	k->sh.pkt_pool = rte_pktmbuf_pool_create(nm, k->p.dp.mbufs, 0, 0,
						 RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	snprintf(nm, sizeof(nm), "%s_al", name);
	k->sh.alert_ring = rte_ring_create(nm, rte_align32pow2(k->p.dp.alert_ring + 1), socket,
					   RING_F_SC_DEQ);
	snprintf(nm, sizeof(nm), "%s_ap", name);
	k->sh.alert_pool = rte_mempool_create(nm, k->p.dp.alert_ring, sizeof(struct dp_alert),
					      0, 0, NULL, NULL, NULL, NULL, socket, 0);
	if (k->sh.pkt_pool == NULL || k->sh.alert_ring == NULL || k->sh.alert_pool == NULL) {
		dp_tk_err(err, "%s: cannot create pools: %s", name, rte_strerror(rte_errno));
		goto fail;
	}
	k->pkt_pool_size = k->p.dp.mbufs;
	sz = rte_rcu_qsbr_get_memsize(1);
	k->sh.qsbr = rte_zmalloc("dp_tk_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (k->sh.qsbr == NULL || rte_rcu_qsbr_init(k->sh.qsbr, 1) != 0 ||
	    rte_rcu_qsbr_thread_register(k->sh.qsbr, 0) != 0) {
		dp_tk_err(err, "%s: cannot create the RCU state", name);
		goto fail;
	}
	if (dp_tk_analytics_create(k, err) != 0)
		goto fail;

	k->gen.id = 1;
	k->gen.engine = k->p.engine;
	if (k->p.engine != NULL) {
		k->gen.scratch[0] = mt_scratch_create(k->p.engine);
		if (k->gen.scratch[0] == NULL) {
			dp_tk_err(err, "%s: cannot create a matcher scratch: %s", name,
				  strerror(errno));
			goto fail;
		}
	}
	k->sh.gen = &k->gen;
	if (dp_tk_worker_create(k, err) == NULL)
		goto fail;
	dp_tk_install_ops(k);
	k->w->gen = &k->gen;
	return k;
fail:
	dp_testkit_destroy(k);
	return NULL;
}

void
dp_testkit_destroy(struct dp_testkit *k)
{
	if (k == NULL)
		return;
	if (k->w != NULL) {
		dp_testkit_flush(k);
		dp_tk_worker_destroy(k->w);
	}
	dp_analytics_destroy(k->sh.analytics);
	mt_scratch_destroy(k->gen.scratch[0]);
	rte_free(k->sh.qsbr);
	rte_ring_free(k->sh.alert_ring);
	rte_mempool_free(k->sh.alert_pool);
	rte_mempool_free(k->sh.pkt_pool);
	free(k);
}

struct dp_worker *
dp_testkit_worker(struct dp_testkit *k)
{
	return k->w;
}

struct dp_params *
dp_testkit_dp_params(struct dp_testkit *k)
{
	return &k->p.dp;
}

void
dp_testkit_set_checks(struct dp_testkit *k, bool checksums, bool midstream)
{
	k->p.dp.checksum = checksums ? DP_CSUM_ALL : DP_CSUM_NONE;
	k->sh.csum_check = checksums;
	k->p.dp.midstream = midstream;
	k->w->tcp.midstream = midstream;
}

void
dp_testkit_set_time(struct dp_testkit *k, uint64_t now_ns)
{
	k->now_ns = now_ns;
	k->w->now_ns = now_ns;
}

uint64_t
dp_testkit_time(const struct dp_testkit *k)
{
	return k->now_ns;
}

/* ---- packets --------------------------------------------------------------- */

/* Copy a frame into one mbuf, or a chain when it is longer than one. */
static struct rte_mbuf *
dp_tk_mbuf(struct dp_testkit *k, const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	uint32_t off = 0;

	while (off < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(k->sh.pkt_pool);
		uint16_t room, n;
		char *d;

		if (m == NULL)
			goto fail;
		room = rte_pktmbuf_tailroom(m);
		n = (uint16_t)RTE_MIN((uint32_t)room, len - off);
		d = rte_pktmbuf_append(m, n);
		memcpy(d, frame + off, n);
		off += n;
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		last = m;
	}
	return head;
fail:
	rte_pktmbuf_free(head);
	return NULL;
}

int
dp_testkit_frame(struct dp_testkit *k, const uint8_t *frame, uint32_t len, uint16_t port)
{
	struct rte_mbuf *m;
	int rc;

	if (len == 0 || len > UINT16_MAX)
		return -EINVAL;
	m = dp_tk_mbuf(k, frame, len);
	if (m == NULL) {
		k->st.no_mbuf++;
		return -ENOBUFS;
	}
	m->port = port & 1;
	k->st.frames++;
	k->w->now_ns = k->now_ns;
	k->w->gen = &k->gen;
	rc = dp_worker_packet(k->w, m);
	if (rc) {
		k->last_len = RTE_MIN((uint32_t)rte_pktmbuf_data_len(m), (uint32_t)sizeof(k->last));
		memcpy(k->last, rte_pktmbuf_mtod(m, const uint8_t *), k->last_len);
	}
	/* The kit is the sink of both ports: forwarded or not, it is done. */
	rte_pktmbuf_free(m);
	if (rc)
		k->st.forwarded++;
	else
		k->st.dropped++;
	k->w->cnt.rx_packets++;
	dp_tk_drain_tx(k);
	dp_tk_drain_alerts(k);
	rte_rcu_qsbr_quiescent(k->sh.qsbr, 0);
	return rc;
}

const uint8_t *
dp_testkit_last_frame(const struct dp_testkit *k, uint32_t *len)
{
	*len = k->last_len;
	return k->last;
}

uint32_t
dp_testkit_expire(struct dp_testkit *k, uint32_t budget)
{
	uint32_t n;

	k->w->now_ns = k->now_ns;
	n = dp_flow_expire(k->w->flows, k->now_ns, budget);
	k->w->last_expire_ns = k->now_ns;
	k->st.expired += n;
	dp_tk_drain_tx(k);
	dp_tk_drain_alerts(k);
	return n;
}

unsigned int
dp_testkit_flush(struct dp_testkit *k)
{
	uint64_t before = k->st.alerts;

	k->w->now_ns = k->now_ns;
	k->w->gen = &k->gen;
	dp_flow_flush_all(k->w->flows);
	dp_tk_drain_tx(k);
	if (k->sh.analytics != NULL) {
		/* The stage's own thread, started and joined: it processes
		 * every queued record before it exits. */
		if (dp_analytics_start(k->sh.analytics) == 0)
			dp_analytics_stop(k->sh.analytics);
	}
	dp_tk_drain_alerts(k);
	return (unsigned int)(k->st.alerts - before);
}

int
dp_testkit_reset(struct dp_testkit *k)
{
	dp_testkit_flush(k);
	memset(&k->st, 0, sizeof(k->st));
	if (k->sh.analytics != NULL) {
		dp_analytics_destroy(k->sh.analytics);
		k->sh.analytics = NULL;
		if (dp_tk_analytics_create(k, NULL) != 0)
			return -ENOMEM;
	}
	return 0;
}

static int
dp_tk_busy(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EBUSY;
}

int
dp_testkit_check_idle(const struct dp_testkit *k, char *why, size_t len)
{
	const struct dp_worker *w = k->w;
	unsigned int n;

	if (dp_flow_counters(w->flows)->active != 0)
		return dp_tk_busy(why, len, "%" PRIu64 " flows active",
				  dp_flow_counters(w->flows)->active);
	n = rte_mempool_avail_count(k->sh.pkt_pool);
	if (n != k->pkt_pool_size)
		return dp_tk_busy(why, len, "mbufs: %u of %u free", n, k->pkt_pool_size);
	n = rte_mempool_avail_count(w->tcp.seg_pool);
	if (n != w->tcp.seg_pool->size)
		return dp_tk_busy(why, len, "reassembly buffers: %u of %u free", n,
				  w->tcp.seg_pool->size);
	n = rte_mempool_avail_count(w->http.sess_pool);
	if (n != w->http.sess_pool->size)
		return dp_tk_busy(why, len, "HTTP sessions: %u of %u free", n,
				  w->http.sess_pool->size);
	n = rte_mempool_avail_count(w->http.spill_pool);
	if (n != w->http.spill_pool->size)
		return dp_tk_busy(why, len, "spill buffers: %u of %u free", n,
				  w->http.spill_pool->size);
	n = rte_mempool_avail_count(k->sh.alert_pool);
	if (n != k->sh.alert_pool->size)
		return dp_tk_busy(why, len, "alert records: %u of %u free", n,
				  k->sh.alert_pool->size);
	if (!rte_ring_empty(w->out_ring) || !rte_ring_empty(k->sh.alert_ring))
		return dp_tk_busy(why, len, "rings not drained");
	n = __atomic_load_n(&k->gen.body_refs, __ATOMIC_ACQUIRE);
	if (n != 0)
		return dp_tk_busy(why, len, "%u bodies still reference the generation", n);
	return 0;
}

const struct dp_testkit_stats *
dp_testkit_stats(const struct dp_testkit *k)
{
	return &k->st;
}
