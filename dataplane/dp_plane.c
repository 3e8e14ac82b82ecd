/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_plane.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>

#include "dp_analytics.h"
#include "dp_pkt.h"
#include "dp_worker.h"

/* Counters of the software distribution (I/O) lcore. */
#define DP_IO_COUNTERS(X) \
	X(io_rx_packets) X(io_dispatched) X(io_ring_full) X(io_bypassed) \
	X(io_dropped) X(io_tx_packets) X(io_tx_failed)

struct dp_io_counters {
#define DP_X(n) uint64_t n;
	DP_IO_COUNTERS(DP_X)
#undef DP_X
};

static const char *const dp_io_counter_names[] = {
#define DP_X(n) #n,
	DP_IO_COUNTERS(DP_X)
#undef DP_X
};

struct dp_plane {
	struct dp_params p;
	struct dp_plane_shared sh;
	struct dp_worker *w[DP_MAX_WORKERS];
	unsigned int io_lcore;
	bool rss;
	bool started;
	struct dp_io_counters io;
	struct mt_behav_params behav_params;
};

/* Symmetric Toeplitz key: a repeated 16-bit pattern makes the hash the same
 * for (src, dst) and (dst, src), so both directions land on one queue. */
static uint8_t dp_sym_rss_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

static void __attribute__((format(printf, 2, 3)))
dp_err(char **err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || *err != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
}

static uint64_t
dp_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- ports --------------------------------------------------------------- */

static int
dp_port_setup(struct dp_plane *dp, uint16_t idx, uint16_t nrxq, uint16_t ntxq, char **err)
{
	uint16_t port = dp->sh.port_id[idx];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxc;
	uint16_t q, nb_rxd = dp->p.rx_desc, nb_txd = dp->p.tx_desc;
	int rc, socket = rte_eth_dev_socket_id(port);

	if (socket < 0)
		socket = 0;
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		dp_err(err, "port %s: cannot get device info: %s", dp->p.ports[idx].name,
		       strerror(-rc));
		return rc;
	}
	memset(&conf, 0, sizeof(conf));
	if (dp->rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = dp_sym_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(dp_sym_rss_key);
		/* Addresses only, so that fragments (no ports) and the rest of
		 * their flow land on one queue. */
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
		dp->sh.ts_offload[port] = true;
	}
	rc = rte_eth_dev_configure(port, nrxq, ntxq, &conf);
	if (rc != 0) {
		dp_err(err, "port %s: configure with %u RX / %u TX queues failed: %s",
		       dp->p.ports[idx].name, nrxq, ntxq, strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc != 0) {
		dp_err(err, "port %s: descriptor counts rejected: %s", dp->p.ports[idx].name,
		       strerror(-rc));
		return rc;
	}
	rxc = info.default_rxconf;
	rxc.offloads = conf.rxmode.offloads;
	for (q = 0; q < nrxq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, nb_rxd, (unsigned int)socket, &rxc,
					    dp->sh.pkt_pool);
		if (rc != 0) {
			dp_err(err, "port %s: RX queue %u: %s", dp->p.ports[idx].name, q,
			       strerror(-rc));
			return rc;
		}
	}
	for (q = 0; q < ntxq; q++) {
		rc = rte_eth_tx_queue_setup(port, q, nb_txd, (unsigned int)socket, NULL);
		if (rc != 0) {
			dp_err(err, "port %s: TX queue %u: %s", dp->p.ports[idx].name, q,
			       strerror(-rc));
			return rc;
		}
	}
	/* Inline: frames addressed to the hosts behind us must be seen. */
	(void)rte_eth_promiscuous_enable(port);
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		dp_err(err, "port %s: start failed: %s", dp->p.ports[idx].name, strerror(-rc));
		return rc;
	}
	return 0;
}

static bool
dp_port_can_rss(uint16_t port, uint16_t nq)
{
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port, &info) != 0)
		return false;
	return info.max_rx_queues >= nq && info.max_tx_queues >= nq &&
	       (info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP)) != 0;
}

/* ---- workers ------------------------------------------------------------- */

static void
dp_tx_err_cb(struct rte_mbuf **unsent, uint16_t count, void *userdata)
{
	struct dp_worker *w = userdata;

	w->cnt.tx_failed += count;
	w->cnt.tx_packets -= count;
	rte_pktmbuf_free_bulk(unsent, count);
}

static struct dp_worker *
dp_worker_create(struct dp_plane *dp, uint16_t id, unsigned int lcore, char **err)
{
	const struct dp_params *p = &dp->p;
	uint32_t timeouts[DP_FLOW__CLASSES] = {
		[DP_FLOW_NEW] = p->flow_timeout_new,
		[DP_FLOW_EST] = p->flow_timeout_est,
		[DP_FLOW_CLOSED] = p->flow_timeout_closed,
		[DP_FLOW_UDP] = p->flow_timeout_udp,
	};
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct dp_worker *w;
	char name[RTE_MEMZONE_NAMESIZE];
	uint16_t i;
	int rc;

	w = rte_zmalloc_socket("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL) {
		dp_err(err, "worker %u: out of memory", id);
		return NULL;
	}
	w->id = id;
	w->lcore = lcore;
	w->sh = &dp->sh;
	w->p = &dp->p;
	w->base_p = &dp->p;
	w->bounce = rte_malloc_socket("dp_bounce", 16384, 64, socket);
	w->bounce_reasm = rte_malloc_socket("dp_bounce_reasm", DP_REASM_BOUNCE, 64, socket);
	w->frag_tbl = rte_ip_frag_table_create(DP_FRAG_BUCKETS, DP_FRAG_BUCKET_ENTRIES,
					       DP_FRAG_BUCKETS * DP_FRAG_BUCKET_ENTRIES,
					       rte_get_tsc_hz() * DP_FRAG_TIMEOUT_S, socket);
	if (w->bounce_reasm == NULL || w->frag_tbl == NULL) {
		dp_err(err, "worker %u: cannot create the IP reassembly table", id);
		return NULL;
	}
	snprintf(name, sizeof(name), "ag_flows_%u", id);
	w->flows = dp_flow_table_create(name, p->flow_max, timeouts, socket, id,
					dp_worker_flow_release, w);
	if (w->bounce == NULL || w->flows == NULL) {
		dp_err(err, "worker %u: cannot create a flow table of %u flows: %s", id,
		       p->flow_max, strerror(errno));
		return NULL;
	}
	snprintf(name, sizeof(name), "ag_tcp_%u", id);
	w->tcp.seg_pool = dp_tcp_pool_create(name, p->reasm_pool_bufs, socket);
	if (w->tcp.seg_pool == NULL) {
		dp_err(err, "worker %u: cannot create %u reassembly buffers: %s", id,
		       p->reasm_pool_bufs, rte_strerror(rte_errno));
		return NULL;
	}
	w->behav = mt_behav_worker_create(&dp->behav_params);
	if (w->behav == NULL) {
		dp_err(err, "worker %u: cannot create the behaviour context", id);
		return NULL;
	}
	mt_behav_worker_bind_stats(w->behav, &w->behav_stats);
	w->tcp.flow_cap_bytes = p->reasm_flow_cap;
	w->tcp.midstream = p->midstream;
	w->tcp.ttl_limit = p->reasm_ttl_limit;
	snprintf(name, sizeof(name), "ag_http_%u", id);
	rc = dp_http_ctx_init(&w->http, name, p->http_sessions, p->http_spill_bufs,
			      p->http_spill_size, socket, &dp_worker_http_ops);
	if (rc != 0) {
		dp_err(err, "worker %u: cannot create %u HTTP sessions: %s (about %zu MB are "
		       "needed in all: give EAL more memory, -m)", id, p->http_sessions,
		       strerror(-rc), dp_plane_mem_estimate(p) >> 20);
		return NULL;
	}
	if (dp->sh.software) {
		snprintf(name, sizeof(name), "ag_in_%u", id);
		w->in_ring = rte_ring_create(name, p->ring_size, socket,
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "ag_out_%u", id);
		w->out_ring = rte_ring_create(name, p->ring_size, socket,
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->in_ring == NULL || w->out_ring == NULL) {
			dp_err(err, "worker %u: cannot create rings of %u: %s", id,
			       p->ring_size, rte_strerror(rte_errno));
			return NULL;
		}
	} else {
		for (i = 0; i < p->n_ports; i++) {
			uint16_t port = dp->sh.port_id[i];

			w->rxq[w->n_rxq].port = port;
			w->rxq[w->n_rxq].queue = dp->rss ? id : 0;
			w->n_rxq++;
			w->txq[port] = dp->rss ? id : 0;
			w->txb[port] = rte_zmalloc_socket("dp_txb",
					RTE_ETH_TX_BUFFER_SIZE(p->burst), 0, socket);
			if (w->txb[port] == NULL) {
				dp_err(err, "worker %u: out of memory for TX buffers", id);
				return NULL;
			}
			rte_eth_tx_buffer_init(w->txb[port], p->burst);
			rte_eth_tx_buffer_set_err_callback(w->txb[port], dp_tx_err_cb, w);
		}
	}
	return w;
}

static void
dp_worker_destroy(struct dp_worker *w)
{
	uint16_t i;

	if (w == NULL)
		return;
	dp_flow_table_destroy(w->flows);
	dp_http_ctx_fini(&w->http);
	mt_behav_worker_destroy(w->behav);
	rte_mempool_free(w->tcp.seg_pool);
	rte_ring_free(w->in_ring);
	rte_ring_free(w->out_ring);
	for (i = 0; i < RTE_MAX_ETHPORTS; i++)
		rte_free(w->txb[i]);
	rte_free(w->bounce);
	rte_free(w->bounce_reasm);
	if (w->frag_tbl != NULL)
		rte_ip_frag_table_destroy(w->frag_tbl);
	rte_ip_frag_free_death_row(&w->frag_dr, 0);
	rte_free(w);
}

/* Lcores that share a CPU must yield when idle or they starve each other. */
static bool
dp_lcores_share_cpus(void)
{
	unsigned int a, b;

	RTE_LCORE_FOREACH(a) {
		rte_cpuset_t ca = rte_lcore_cpuset(a);

		RTE_LCORE_FOREACH(b) {
			rte_cpuset_t cb = rte_lcore_cpuset(b), both;

			if (b <= a)
				continue;
			CPU_AND(&both, &ca, &cb);
			if (CPU_COUNT(&both) > 0)
				return true;
		}
	}
	return false;
}

struct dp_plane *
dp_plane_create(const struct dp_params *p, char **err)
{
	struct dp_plane *dp;
	unsigned int lcore, need;
	uint16_t i, nq;
	size_t sz;
	int socket = (int)rte_socket_id();

	if (p->n_ports == 0) {
		dp_err(err, "no ports: give ports in the configuration or as DPDK devices");
		return NULL;
	}
	if (p->n_workers == 0 || p->n_workers > DP_MAX_WORKERS) {
		dp_err(err, "workers must be 1..%d", DP_MAX_WORKERS);
		return NULL;
	}
	dp = calloc(1, sizeof(*dp));
	if (dp == NULL) {
		dp_err(err, "out of memory");
		return NULL;
	}
	dp_flow_seed_random();
	dp->p = *p;
	dp->sh.p = &dp->p;
	dp->sh.ts_dynfield = -1;
	/* "auto has not given up": mode changes at reload keep it meaningful. */
	dp->sh.csum_check = true;
	dp->sh.io_fail_policy = p->fail_policy;
	dp->sh.tsc_hz = rte_get_tsc_hz();
	dp->sh.tsc_base = rte_rdtsc();
	dp->sh.wall_base_ns = dp_wall_ns();
	for (i = 0; i < RTE_MAX_ETHPORTS; i++) {
		dp->sh.out_idx[i] = -1;
		dp->sh.idx_of_port[i] = -1;
	}
	for (i = 0; i < p->n_ports; i++) {
		uint16_t id;

		if (rte_eth_dev_get_port_by_name(p->ports[i].name, &id) != 0) {
			char names[512] = "";
			size_t off = 0;
			uint16_t pid;

			RTE_ETH_FOREACH_DEV(pid) {
				char n[RTE_ETH_NAME_MAX_LEN];

				if (rte_eth_dev_get_name_by_port(pid, n) == 0 && off < sizeof(names))
					off += (size_t)snprintf(names + off, sizeof(names) - off,
								"%s%s", off ? ", " : "", n);
			}
			dp_err(err, "port '%s' not found (DPDK ports: %s)", p->ports[i].name,
			       off ? names : "none");
			goto fail;
		}
		dp->sh.port_id[i] = id;
		dp->sh.idx_of_port[id] = (int16_t)i;
	}
	for (i = 0; i < p->n_ports; i++)
		if (p->ports[i].peer >= 0)
			dp->sh.out_idx[dp->sh.port_id[i]] = p->ports[i].peer;

	/* Distribution: one worker polls everything itself; several workers
	 * share the ports through symmetric RSS when every port supports it,
	 * else through the software stage. */
	if (p->n_workers > 1 && p->distribution != DP_DIST_SOFTWARE) {
		bool all = true;

		for (i = 0; i < p->n_ports; i++)
			all = all && dp_port_can_rss(dp->sh.port_id[i], p->n_workers);
		if (all)
			dp->rss = true;
		else if (p->distribution == DP_DIST_RSS) {
			dp_err(err, "distribution rss: a port lacks %u RSS queues; use auto or software",
			       p->n_workers);
			goto fail;
		}
	}
	dp->sh.software = p->n_workers > 1 && !dp->rss;
	need = p->n_workers + (dp->sh.software ? 1 : 0);
	if (rte_lcore_count() < need + 1) {
		dp_err(err, "%u worker lcore(s)%s need %u lcores besides the main one; EAL has %u "
		       "(use -l/--lcores)", p->n_workers, dp->sh.software ? " and an I/O lcore" : "",
		       need, rte_lcore_count() - 1);
		goto fail;
	}
	dp->sh.yield_when_idle = dp_lcores_share_cpus();

	dp->sh.pkt_pool = rte_pktmbuf_pool_create("ag_mbufs", p->mbufs, 256, 0,
						  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (dp->sh.pkt_pool == NULL) {
		dp_err(err, "cannot create %u mbufs: %s", p->mbufs, rte_strerror(rte_errno));
		goto fail;
	}
	nq = dp->rss ? p->n_workers : 1;
	for (i = 0; i < p->n_ports; i++)
		if (dp_port_setup(dp, i, nq, nq, err) != 0)
			goto fail;
	/* Packet timestamps (pcap input) drive flow time when every port has them. */
	for (i = 0; i < p->n_ports; i++)
		if (dp->sh.ts_offload[dp->sh.port_id[i]])
			break;
	if (i < p->n_ports && rte_mbuf_dyn_rx_timestamp_register(&dp->sh.ts_dynfield,
								  &dp->sh.ts_dynflag) != 0)
		dp->sh.ts_dynfield = -1;
	dp->sh.pkt_time = dp->sh.ts_dynfield >= 0;
	for (i = 0; i < p->n_ports; i++)
		dp->sh.pkt_time = dp->sh.pkt_time && dp->sh.ts_offload[dp->sh.port_id[i]];

	dp->sh.alert_ring = rte_ring_create("ag_alerts", rte_align32pow2(p->alert_ring), socket,
					    RING_F_SC_DEQ);
	dp->sh.alert_pool = rte_mempool_create("ag_alert_pool", p->alert_ring,
					       sizeof(struct dp_alert), 0, 0, NULL, NULL,
					       NULL, NULL, socket, 0);
	if (dp->sh.alert_ring == NULL || dp->sh.alert_pool == NULL) {
		dp_err(err, "cannot create the alert ring of %u: %s", p->alert_ring,
		       rte_strerror(rte_errno));
		goto fail;
	}
	sz = rte_rcu_qsbr_get_memsize(p->n_workers);
	dp->sh.qsbr = rte_zmalloc("ag_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (dp->sh.qsbr == NULL || rte_rcu_qsbr_init(dp->sh.qsbr, p->n_workers) != 0) {
		dp_err(err, "cannot create the RCU state");
		goto fail;
	}
	dp->sh.blocklist = dp_block_create("ag_blocklist", DP_BLOCKLIST_MAX, dp->sh.qsbr);
	if (dp->sh.blocklist == NULL) {
		dp_err(err, "cannot create the blocklist: %s", strerror(errno));
		goto fail;
	}
	if (p->behav != NULL)
		dp->behav_params = *p->behav;
	else
		mt_behav_params_defaults(&dp->behav_params);
	dp->p.behav = NULL;   /* the caller's object need not outlive us */
	dp->sh.analytics = dp_analytics_create(&dp->sh, &dp->behav_params,
					       DP_ANALYTICS_RING, err);
	if (dp->sh.analytics == NULL)
		goto fail;

	lcore = rte_get_next_lcore(-1, 1, 0);
	if (dp->sh.software) {
		dp->io_lcore = lcore;
		lcore = rte_get_next_lcore(lcore, 1, 0);
	}
	for (i = 0; i < p->n_workers; i++) {
		dp->w[i] = dp_worker_create(dp, i, lcore, err);
		if (dp->w[i] == NULL)
			goto fail;
		rte_rcu_qsbr_thread_register(dp->sh.qsbr, i);
		lcore = rte_get_next_lcore(lcore, 1, 0);
	}
	return dp;
fail:
	dp_plane_destroy(dp);
	return NULL;
}

/* ---- software distribution (I/O lcore) ------------------------------------ */

static uint16_t
dp_io_pick_worker(const struct dp_plane *dp, const struct rte_mbuf *m, uint8_t *bounce)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct dp_flow_key k;
	struct dp_pkt pk;
	int lo;

	if (m->nb_segs > 1) {
		if (len > 16384)
			return 0;
		frame = rte_pktmbuf_read(m, 0, len, bounce);
	}
	switch (dp_pkt_parse(frame, len, &pk)) {
	case DP_PKT_TCP:
	case DP_PKT_UDP:
	case DP_PKT_OTHER_L4:
	case DP_PKT_FRAGMENT:
		/* By address pair only, like RSS on IP: a flow's fragments
		 * (which carry no ports) reach the worker of its other packets. */
		dp_flow_key_make(&k, pk.family, 0, pk.src_ip, pk.dst_ip, 0, 0, pk.vlan_id, &lo);
		break;
	default:
		return 0;
	}
	return (uint16_t)(dp_flow_key_hash(&k) % dp->p.n_workers);
}

static void
dp_io_tx(struct dp_plane *dp, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent = rte_eth_tx_burst(port, 0, pkts, n);

	dp->io.io_tx_packets += sent;
	if (sent < n) {
		dp->io.io_tx_failed += (uint64_t)(n - sent);
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}

/* Send what workers queued back out, grouped by destination port. */
static unsigned int
dp_io_drain_out(struct dp_plane *dp)
{
	struct rte_mbuf *pkts[64];
	unsigned int total = 0;
	uint16_t i;

	for (i = 0; i < dp->p.n_workers; i++) {
		unsigned int n = rte_ring_sc_dequeue_burst(dp->w[i]->out_ring, (void **)pkts,
							   RTE_DIM(pkts), NULL);
		unsigned int j = 0;

		total += n;
		while (j < n) {
			uint16_t port = pkts[j]->port;
			unsigned int k = j + 1;

			while (k < n && pkts[k]->port == port)
				k++;
			dp_io_tx(dp, port, pkts + j, (uint16_t)(k - j));
			j = k;
		}
	}
	return total;
}

int
dp_io_main(void *arg)
{
	struct dp_plane *dp = arg;
	struct dp_plane_shared *sh = &dp->sh;
	struct rte_mbuf *pkts[256];
	struct rte_mbuf *per[DP_MAX_WORKERS][64];
	uint16_t nper[DP_MAX_WORKERS];
	uint8_t bounce[16384];
	uint16_t burst = RTE_MIN(dp->p.burst, (uint16_t)64);
	uint16_t i, w;

	while (!sh->stop) {
		unsigned int busy = 0;

		for (i = 0; i < dp->p.n_ports; i++) {
			uint16_t n = 0, j;

			if (dp_rx_room(sh, burst))
				n = rte_eth_rx_burst(sh->port_id[i], 0, pkts, burst);
			if (n == 0)
				continue;
			busy += n;
			dp->io.io_rx_packets += n;
			if (sh->replay_ts != NULL)
				dp_stamp_replay(sh, pkts, n);
			memset(nper, 0, sizeof(nper[0]) * dp->p.n_workers);
			for (j = 0; j < n; j++) {
				w = dp_io_pick_worker(dp, pkts[j], bounce);
				per[w][nper[w]++] = pkts[j];
			}
			for (w = 0; w < dp->p.n_workers; w++) {
				unsigned int q;

				if (nper[w] == 0)
					continue;
				q = rte_ring_sp_enqueue_burst(dp->w[w]->in_ring, (void **)per[w],
							      nper[w], NULL);
				/* Offline: wait for the worker instead of applying the
				 * exception policy; keep its output moving meanwhile. */
				while (sh->rx_backpressure && q < nper[w] && !sh->stop) {
					dp_io_drain_out(dp);
					q += rte_ring_sp_enqueue_burst(dp->w[w]->in_ring,
								       (void **)per[w] + q,
								       nper[w] - q, NULL);
				}
				dp->io.io_dispatched += q;
				if (q < nper[w]) {
					/* Exception policy for a full ring. */
					uint16_t left = (uint16_t)(nper[w] - q), k;

					dp->io.io_ring_full += left;
					if (__atomic_load_n(&sh->io_fail_policy, __ATOMIC_ACQUIRE) ==
					    DP_FAIL_OPEN) {
						for (k = 0; k < left; k++) {
							struct rte_mbuf *m = per[w][q + k];
							int16_t out = sh->out_idx[m->port];

							if (out < 0) {
								rte_pktmbuf_free(m);
								dp->io.io_dropped++;
								continue;
							}
							dp->io.io_bypassed++;
							dp_io_tx(dp, sh->port_id[out], &m, 1);
						}
					} else {
						dp->io.io_dropped += left;
						rte_pktmbuf_free_bulk(per[w] + q, left);
					}
				}
			}
		}
		busy += dp_io_drain_out(dp);
		if (busy == 0 && sh->yield_when_idle)
			sched_yield();
	}
	__atomic_store_n(&sh->io_rx_stopped, true, __ATOMIC_RELEASE);
	/* Workers flush their flows after stop; forward what they still send. */
	for (;;) {
		bool all_done = true;

		for (w = 0; w < dp->p.n_workers; w++)
			all_done = all_done && __atomic_load_n(&dp->w[w]->done, __ATOMIC_ACQUIRE);
		if (dp_io_drain_out(dp) == 0 && all_done)
			break;
	}
	return 0;
}

/* ---- lifecycle ------------------------------------------------------------ */

void
dp_plane_set_replay_times(struct dp_plane *dp, const uint64_t *ts, uint64_t n)
{
	if (dp->sh.ts_dynfield < 0 &&
	    rte_mbuf_dyn_rx_timestamp_register(&dp->sh.ts_dynfield, &dp->sh.ts_dynflag) != 0) {
		dp->sh.ts_dynfield = -1;
		return;
	}
	dp->sh.replay_ts = ts;
	dp->sh.replay_n = n;
	dp->sh.replay_next = 0;
	dp->sh.pkt_time = true;
}

void
dp_plane_set_lockstep(struct dp_plane *dp, bool on)
{
	dp->sh.lockstep = on;
}

void
dp_plane_set_rx_backpressure(struct dp_plane *dp, bool on)
{
	dp->sh.rx_backpressure = on;
}

int
dp_plane_start(struct dp_plane *dp, struct dp_gen *gen)
{
	uint16_t i;
	int rc;

	__atomic_store_n(&dp->sh.gen, gen, __ATOMIC_RELEASE);
	for (i = 0; i < dp->p.n_workers; i++) {
		rc = rte_eal_remote_launch(dp_worker_main, dp->w[i], dp->w[i]->lcore);
		if (rc != 0)
			return rc;
	}
	if (dp->sh.software) {
		rc = rte_eal_remote_launch(dp_io_main, dp, dp->io_lcore);
		if (rc != 0)
			return rc;
	}
	if (dp->sh.analytics != NULL) {
		rc = dp_analytics_start(dp->sh.analytics);
		if (rc != 0)
			return rc;
	}
	dp->started = true;
	return 0;
}

struct dp_gen *
dp_plane_publish(struct dp_plane *dp, struct dp_gen *gen)
{
	struct dp_gen *old = __atomic_exchange_n(&dp->sh.gen, gen, __ATOMIC_ACQ_REL);
	uint64_t token = rte_rcu_qsbr_start(dp->sh.qsbr);

	/* The I/O lcore is no RCU reader: it gets the one setting it applies
	 * (the exception policy for a full worker ring) as a plain value. */
	__atomic_store_n(&dp->sh.io_fail_policy, gen != NULL && gen->params != NULL ?
			 gen->params->fail_policy : dp->p.fail_policy, __ATOMIC_RELEASE);

	/* Waits on the control thread only; workers never wait. */
	rte_rcu_qsbr_check(dp->sh.qsbr, token, true);
	return old;
}

struct dp_gen *
dp_plane_current(struct dp_plane *dp)
{
	return __atomic_load_n(&dp->sh.gen, __ATOMIC_ACQUIRE);
}

int
dp_plane_input_done(struct dp_plane *dp, uint64_t expected)
{
	uint64_t in = 0, lost = 0, done = 0;
	uint16_t i;

	for (i = 0; i < dp->p.n_ports; i++) {
		struct rte_eth_stats st;

		if (rte_eth_stats_get(dp->sh.port_id[i], &st) != 0)
			return 0;
		in += st.ipackets;
		lost += st.rx_nombuf + st.imissed;
	}
	if (in + lost < expected)
		return 0;
	for (i = 0; i < dp->p.n_workers; i++)
		done += __atomic_load_n(&dp->w[i]->cnt.rx_packets, __ATOMIC_RELAXED);
	done += dp->io.io_bypassed + dp->io.io_dropped;
	return done >= in;
}

void
dp_plane_stop(struct dp_plane *dp)
{
	uint16_t i;

	if (!dp->started)
		return;
	__atomic_store_n(&dp->sh.stop, true, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	/* Workers have flushed their flows: every record is queued now. */
	dp_analytics_stop(dp->sh.analytics);
	for (i = 0; i < dp->p.n_ports; i++)
		(void)rte_eth_dev_stop(dp->sh.port_id[i]);
	dp->started = false;
}

void
dp_plane_destroy(struct dp_plane *dp)
{
	uint16_t i;

	if (dp == NULL)
		return;
	dp_plane_stop(dp);
	for (i = 0; i < DP_MAX_WORKERS; i++)
		dp_worker_destroy(dp->w[i]);
	for (i = 0; i < dp->p.n_ports; i++) {
		(void)rte_eth_dev_stop(dp->sh.port_id[i]);
		(void)rte_eth_dev_close(dp->sh.port_id[i]);
	}
	rte_ring_free(dp->sh.alert_ring);
	rte_mempool_free(dp->sh.alert_pool);
	dp_analytics_destroy(dp->sh.analytics);
	dp_block_destroy(dp->sh.blocklist);
	rte_free(dp->sh.qsbr);
	rte_mempool_free(dp->sh.pkt_pool);
	free(dp);
}

unsigned int
dp_plane_drain_alerts(struct dp_plane *dp, void (*cb)(void *arg, const struct dp_alert *a),
		      void *arg, unsigned int max)
{
	void *objs[64];
	unsigned int total = 0;

	while (total < max) {
		unsigned int n = rte_ring_sc_dequeue_burst(dp->sh.alert_ring, objs,
							   RTE_MIN(RTE_DIM(objs), max - total), NULL), i;

		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			cb(arg, objs[i]);
		rte_mempool_put_bulk(dp->sh.alert_pool, objs, n);
		dp_lockstep_add(&dp->sh, &dp->sh.ls_alerts_out, n);
		total += n;
	}
	return total;
}

/* ---- stats ---------------------------------------------------------------- */

#define DP_STAT_FIELD(s, f) { #f, offsetof(s, f) }

struct dp_stat_field {
	const char *name;
	size_t off;
};

static const struct dp_stat_field dp_tcp_fields[] = {
	DP_STAT_FIELD(struct dp_tcp_counters, segments),
	DP_STAT_FIELD(struct dp_tcp_counters, bytes_in_order),
	DP_STAT_FIELD(struct dp_tcp_counters, bytes_reassembled),
	DP_STAT_FIELD(struct dp_tcp_counters, ooo_segments),
	DP_STAT_FIELD(struct dp_tcp_counters, retransmissions),
	DP_STAT_FIELD(struct dp_tcp_counters, overlaps),
	DP_STAT_FIELD(struct dp_tcp_counters, overlap_diff),
	DP_STAT_FIELD(struct dp_tcp_counters, gaps),
	DP_STAT_FIELD(struct dp_tcp_counters, gap_bytes),
	DP_STAT_FIELD(struct dp_tcp_counters, flow_cap_hits),
	DP_STAT_FIELD(struct dp_tcp_counters, pool_exhausted),
	DP_STAT_FIELD(struct dp_tcp_counters, midstream_pickups),
	DP_STAT_FIELD(struct dp_tcp_counters, bad_seq),
	DP_STAT_FIELD(struct dp_tcp_counters, ttl_raised),
	DP_STAT_FIELD(struct dp_tcp_counters, ttl_evasion),
};

static const struct dp_stat_field dp_http_fields[] = {
	DP_STAT_FIELD(struct dp_http_counters, requests),
	DP_STAT_FIELD(struct dp_http_counters, responses),
	DP_STAT_FIELD(struct dp_http_counters, interim),
	DP_STAT_FIELD(struct dp_http_counters, txn_done),
	DP_STAT_FIELD(struct dp_http_counters, parse_errors),
	DP_STAT_FIELD(struct dp_http_counters, non_http),
	DP_STAT_FIELD(struct dp_http_counters, upgrades),
	DP_STAT_FIELD(struct dp_http_counters, heads_spilled),
	DP_STAT_FIELD(struct dp_http_counters, heads_truncated),
	DP_STAT_FIELD(struct dp_http_counters, spill_exhausted),
	DP_STAT_FIELD(struct dp_http_counters, sessions_exhausted),
	DP_STAT_FIELD(struct dp_http_counters, pipeline_overflow),
	DP_STAT_FIELD(struct dp_http_counters, orphan_responses),
	DP_STAT_FIELD(struct dp_http_counters, gaps_recovered),
	DP_STAT_FIELD(struct dp_http_counters, gaps_fatal),
	DP_STAT_FIELD(struct dp_http_counters, headers_dropped),
	{ "request_body_bytes", offsetof(struct dp_http_counters, body_bytes) },
	{ "response_body_bytes", offsetof(struct dp_http_counters, body_bytes) + sizeof(uint64_t) },
};

static const struct dp_stat_field dp_flow_fields[] = {
	DP_STAT_FIELD(struct dp_flow_counters, created),
	DP_STAT_FIELD(struct dp_flow_counters, timed_out),
	DP_STAT_FIELD(struct dp_flow_counters, evicted),
	DP_STAT_FIELD(struct dp_flow_counters, insert_failed),
	DP_STAT_FIELD(struct dp_flow_counters, active),
};

#define DP_STAT_MAX 160

/* Walk every per-worker counter as (prefixed name, value). */
static unsigned int
dp_worker_values(const struct dp_worker *w, const char **names, uint64_t *vals)
{
	static char tcp_names[RTE_DIM(dp_tcp_fields)][48];
	static char http_names[RTE_DIM(dp_http_fields)][48];
	static char flow_names[RTE_DIM(dp_flow_fields)][48];
	const uint64_t *wc = (const uint64_t *)&w->cnt;
	const struct dp_flow_counters *fc = dp_flow_counters(w->flows);
	unsigned int n = 0, i;

	for (i = 0; i < dp_worker_n_counters; i++) {
		names[n] = dp_worker_counter_names[i];
		vals[n++] = wc[i];
	}
	for (i = 0; i < RTE_DIM(dp_flow_fields); i++) {
		snprintf(flow_names[i], sizeof(flow_names[i]), "flow_%s", dp_flow_fields[i].name);
		names[n] = flow_names[i];
		vals[n++] = *(const uint64_t *)((const char *)fc + dp_flow_fields[i].off);
	}
	for (i = 0; i < RTE_DIM(dp_tcp_fields); i++) {
		snprintf(tcp_names[i], sizeof(tcp_names[i]), "tcp_%s", dp_tcp_fields[i].name);
		names[n] = tcp_names[i];
		vals[n++] = *(const uint64_t *)((const char *)&w->tcp.cnt + dp_tcp_fields[i].off);
	}
	for (i = 0; i < RTE_DIM(dp_http_fields); i++) {
		snprintf(http_names[i], sizeof(http_names[i]), "http_%s", dp_http_fields[i].name);
		names[n] = http_names[i];
		vals[n++] = *(const uint64_t *)((const char *)&w->http.cnt + dp_http_fields[i].off);
	}
	return n;
}

void
dp_plane_stats(struct dp_plane *dp, dp_stat_fn fn, void *arg)
{
	const char *names[DP_STAT_MAX];
	uint64_t vals[DP_STAT_MAX], total[DP_STAT_MAX];
	unsigned int n = 0, i;
	uint16_t k;

	memset(total, 0, sizeof(total));
	for (k = 0; k < dp->p.n_workers; k++) {
		n = dp_worker_values(dp->w[k], names, vals);
		for (i = 0; i < n; i++) {
			fn(arg, "worker", k, names[i], vals[i]);
			total[i] += vals[i];
		}
	}
	/* Totals count every alert record, the analytics stage's included. */
	for (i = 0; i < n; i++) {
		if (dp->sh.analytics != NULL && strcmp(names[i], "alerts") == 0)
			total[i] += dp_analytics_counters(dp->sh.analytics)->alerts;
		fn(arg, "total", -1, names[i], total[i]);
	}
	if (dp->sh.software) {
		const uint64_t *io = (const uint64_t *)&dp->io;

		for (i = 0; i < RTE_DIM(dp_io_counter_names); i++)
			fn(arg, "io", 0, dp_io_counter_names[i], io[i]);
	}
	if (dp->sh.analytics != NULL) {
		const struct dp_analytics_counters *ac = dp_analytics_counters(dp->sh.analytics);

		fn(arg, "analytics", 0, "records", ac->records);
		fn(arg, "analytics", 0, "records_lost", ac->records_lost);
		fn(arg, "analytics", 0, "detections", ac->detections);
		fn(arg, "analytics", 0, "alerts", ac->alerts);
		fn(arg, "analytics", 0, "alerts_lost", ac->alerts_lost);
		fn(arg, "analytics", 0, "blocks_added", ac->blocks_added);
		fn(arg, "analytics", 0, "blocks_failed", ac->blocks_failed);
		fn(arg, "analytics", 0, "blocks_expired", ac->blocks_expired);
		fn(arg, "analytics", 0, "blocklist_entries", dp_block_count(dp->sh.blocklist));
	}
	{
		/* The workers' side of behaviour analytics, summed. */
		struct mt_behav_wstats sum;
		const uint64_t *v;
		uint64_t *t = (uint64_t *)&sum;
		static const char *const wnames[] = {
			"worker_requests", "worker_records", "body_bytes_scanned",
			"body_bytes_skipped", "jwt_seen", "jwt_verified", "jwt_cache_hits",
			"request_hits", "bodies_tapped", "bodies_inflated", "inflate_errors",
			"inflate_cap_hits", "inflate_lost", "encoding_unsupported",
		};

		RTE_BUILD_BUG_ON(sizeof(sum) != RTE_DIM(wnames) * sizeof(uint64_t));
		memset(&sum, 0, sizeof(sum));
		for (k = 0; k < dp->p.n_workers; k++) {
			v = (const uint64_t *)&dp->w[k]->behav_stats;
			for (i = 0; i < RTE_DIM(wnames); i++)
				t[i] += v[i];
		}
		for (i = 0; i < RTE_DIM(wnames); i++)
			fn(arg, "analytics", 0, wnames[i], t[i]);
	}
	for (k = 0; k < dp->p.n_ports; k++) {
		struct rte_eth_stats st;

		if (rte_eth_stats_get(dp->sh.port_id[k], &st) != 0)
			continue;
		fn(arg, "port", k, "rx_packets", st.ipackets);
		fn(arg, "port", k, "tx_packets", st.opackets);
		fn(arg, "port", k, "rx_bytes", st.ibytes);
		fn(arg, "port", k, "tx_bytes", st.obytes);
		fn(arg, "port", k, "rx_missed", st.imissed);
		fn(arg, "port", k, "rx_errors", st.ierrors);
		fn(arg, "port", k, "tx_errors", st.oerrors);
		fn(arg, "port", k, "rx_nombuf", st.rx_nombuf);
	}
}

uint16_t
dp_plane_n_workers(const struct dp_plane *dp)
{
	return dp->p.n_workers;
}

uint16_t
dp_plane_n_ports(const struct dp_plane *dp)
{
	return dp->p.n_ports;
}

const char *
dp_plane_port_name(const struct dp_plane *dp, uint16_t idx)
{
	return idx < dp->p.n_ports ? dp->p.ports[idx].name : NULL;
}

const char *
dp_plane_distribution(const struct dp_plane *dp)
{
	return dp->rss ? "rss" : dp->sh.software ? "software" : "direct";
}

size_t
dp_plane_mem_estimate(const struct dp_params *p)
{
	/* rte_hash keeps a key slot and bucket share per entry; the rest are
	 * the pools each worker creates, then the shared pools. */
	size_t per_flow = sizeof(struct dp_flow) + sizeof(struct dp_flow_key) + 64;
	size_t worker = (size_t)p->flow_max * per_flow +
			(size_t)p->http_sessions * (dp_http_sess_size() + 64) +
			(size_t)p->http_spill_bufs * (p->http_spill_size + 64) +
			(size_t)p->reasm_pool_bufs * (DP_TCP_SEG_DATA + 128) +
			2 * (size_t)p->ring_size * sizeof(void *) + sizeof(struct dp_worker) + 65536;
	size_t shared = (size_t)DP_ANALYTICS_RING * (sizeof(struct dp_behav_item) + 64) +
			(size_t)p->mbufs * (RTE_MBUF_DEFAULT_BUF_SIZE + 192) +
			(size_t)p->alert_ring * (sizeof(struct dp_alert) + 64) * 2;

	/* Pools round up, rte_hash adds buckets and EAL keeps its own heap:
	 * be generous, untouched pages cost nothing without hugepages. */
	return ((size_t)p->n_workers * worker + shared) * 3 / 2 + ((size_t)128 << 20);
}

struct dp_analytics *
dp_plane_analytics(struct dp_plane *dp)
{
	return dp->sh.analytics;
}

struct dp_blocklist *
dp_plane_blocklist(struct dp_plane *dp)
{
	return dp->sh.blocklist;
}

bool
dp_plane_packet_time(const struct dp_plane *dp)
{
	return dp->sh.pkt_time;
}
