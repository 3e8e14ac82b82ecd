/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_worker.h"

#include <sched.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf_dyn.h>
#include <rte_tcp.h>

#include "dp_events.h"
#include "dp_pkt.h"

/* The transaction and message user areas of dp_http hold these. */
_Static_assert(sizeof(struct mt_behav_rec) <= DP_HTTP_TXN_USER, "record too big");
_Static_assert(sizeof(struct mt_behav_msg) <= DP_HTTP_MSG_USER, "scanner state too big");

const char *const dp_worker_counter_names[] = {
#define DP_X(n) #n,
	DP_WORKER_COUNTERS(DP_X)
#undef DP_X
};
const unsigned int dp_worker_n_counters =
	sizeof(dp_worker_counter_names) / sizeof(dp_worker_counter_names[0]);

/* Idle flows are expired at most this often, and this many at a time, so
 * that expiry never costs a burst more than a bounded amount of work. */
#define DP_EXPIRE_INTERVAL_NS 100000000ull
#define DP_EXPIRE_BUDGET 256
/* Checksum "auto" mode, for captures only: after this many checked
 * packets, stop checking if at least DP_CSUM_AUTO_PCT percent of them
 * failed (a capture taken on a host with checksum offload has its own
 * outgoing packets wrong, about half). Attackers can inject junk with bad
 * checksums, so the bar is high, and live ports never switch off: a NIC
 * in front of an API server does not receive offloaded checksums. */
#define DP_CSUM_AUTO_SAMPLE 1000
#define DP_CSUM_AUTO_PCT 40
#define DP_BOUNCE_SIZE 16384

/* ---- time -------------------------------------------------------------- */

static inline uint64_t
dp_tsc_now_ns(const struct dp_plane_shared *sh)
{
	uint64_t d = rte_rdtsc() - sh->tsc_base;

	return sh->wall_base_ns + (uint64_t)((double)d * 1e9 / (double)sh->tsc_hz);
}

static inline uint64_t
dp_pkt_time(const struct dp_worker *w, const struct rte_mbuf *m, uint64_t fallback)
{
	const struct dp_plane_shared *sh = w->sh;

	if (sh->ts_dynfield >= 0 && (m->ol_flags & sh->ts_dynflag))
		return *RTE_MBUF_DYNFIELD(m, sh->ts_dynfield, const rte_mbuf_timestamp_t *);
	return fallback;
}

void
dp_stamp_replay(struct dp_plane_shared *sh, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (m->port != sh->port_id[0] || sh->replay_next >= sh->replay_n)
			continue;
		*RTE_MBUF_DYNFIELD(m, sh->ts_dynfield, rte_mbuf_timestamp_t *) =
			sh->replay_ts[sh->replay_next++];
		m->ol_flags |= sh->ts_dynflag;
	}
}

/* ---- alerts ------------------------------------------------------------ */

static uint16_t
dp_copy_field(char *dst, size_t cap, const struct mt_slice *s, uint8_t *truncated)
{
	size_t n;

	if (s == NULL || s->p == NULL)
		return 0;
	n = RTE_MIN((size_t)s->len, cap);
	memcpy(dst, s->p, n);
	if (truncated != NULL)
		*truncated = n < s->len;
	return (uint16_t)n;
}

static void
dp_emit_alert(struct dp_worker *w, const struct mt_txn *t, const struct mt_rule_info *r,
	      int dir, uint8_t outcome)
{
	struct dp_plane_shared *sh = w->sh;
	const struct mt_slice *s;
	struct dp_alert *a;
	void *obj;

	if (rte_mempool_get(sh->alert_pool, &obj) != 0) {
		w->cnt.alerts_lost++;
		return;
	}
	a = obj;
	a->ts_ns = t->ts_ns;
	a->txn_id = t->txn_id;
	a->rule = r;
	a->tuple = *t->tuple;
	a->worker = w->id;
	a->dir = (uint8_t)dir;
	a->outcome = outcome;
	a->status = t->resp.status_code;
	a->http_major = t->req.http_major;
	a->http_minor = t->req.http_minor;
	a->req_content_length = t->req.content_length;
	a->resp_content_length = t->resp.content_length;
	a->method_len = dp_copy_field(a->method, sizeof(a->method), &t->req.method, NULL);
	a->uri_len = dp_copy_field(a->uri, sizeof(a->uri), &t->req.uri, &a->uri_truncated);
	a->host_len = dp_copy_field(a->host, sizeof(a->host),
				    mt_msg_known(&t->req, MT_HDR_HOST), NULL);
	a->ua_len = dp_copy_field(a->ua, sizeof(a->ua),
				  mt_msg_known(&t->req, MT_HDR_USER_AGENT), NULL);
	s = mt_msg_known(dir ? &t->resp : &t->req, MT_HDR_CONTENT_TYPE);
	a->ctype_len = dp_copy_field(a->ctype, sizeof(a->ctype), s, NULL);
	if (rte_ring_mp_enqueue(sh->alert_ring, a) != 0) {
		rte_mempool_put(sh->alert_pool, a);
		w->cnt.alerts_lost++;
		return;
	}
	dp_lockstep_add(sh, &sh->ls_alerts_in, 1);
	w->cnt.alerts++;
}

/* Apply a match result: alerts out, flow flags, packet verdict. */
static void
dp_apply_result(struct dp_worker *w, const struct mt_txn *t, int dir, int rc)
{
	struct dp_flow *f = w->cur_flow;
	const struct mt_result *res = &w->res;
	uint32_t i;

	if (rc < 0) {
		/* The matcher failed: the exception policy decides. */
		w->cnt.matcher_errors++;
		if (w->p->fail_policy == DP_FAIL_CLOSED) {
			w->cnt.fail_closed++;
			f->flags |= DP_FLOW_F_DROP;
			w->cur_verdict = RTE_MAX(w->cur_verdict, (uint8_t)MT_ACT_DROP);
		} else {
			w->cnt.fail_open++;
		}
		return;
	}
	if (res->n_hits == 0)
		return;
	for (i = 0; i < res->n_hits; i++) {
		const struct mt_rule_info *r = res->hits[i].rule;
		uint8_t outcome = DP_OUTCOME_ALLOWED;

		if (r->action == MT_ACT_PASS)
			continue;   /* pass rules stop inspection silently */
		if (r->action == MT_ACT_DROP || r->action == MT_ACT_REJECT)
			outcome = DP_OUTCOME_BLOCKED;
		dp_emit_alert(w, t, r, dir, outcome);
	}
	w->cnt.alerts_lost += res->hits_dropped;
	switch (res->verdict) {
	case MT_ACT_PASS:
		f->flags |= DP_FLOW_F_NOINSPECT;
		break;
	case MT_ACT_DROP:
		f->flags |= DP_FLOW_F_DROP;
		break;
	case MT_ACT_REJECT:
		f->flags |= DP_FLOW_F_DROP;
		w->cnt.rejects++;
		break;
	default:
		break;
	}
	w->cur_verdict = RTE_MAX(w->cur_verdict, res->verdict);
}

/* The behaviour worker context: the generation's when it carries one
 * (detector settings changed through the control plane), else the
 * worker's own, built from the defaults at start-up. Contexts hold no
 * per-transaction state, so a transaction may span a change. */
static inline struct mt_behav_worker *
dp_behav(const struct dp_worker *w)
{
	if (w->gen != NULL && w->gen->behav[w->id] != NULL)
		return w->gen->behav[w->id];
	return w->behav;
}

/* ---- body inspection ---------------------------------------------------- */

/* A body holds a reference on the generation it began with, so that the
 * control plane frees that generation only after the body ended. */
static void
dp_body_release(struct dp_worker *w, struct dp_flow *f, int dir, bool abort)
{
	struct dp_gen *g = f->body_gen[dir];

	if (f->body[dir] == NULL)
		return;
	if (abort)
		mt_body_abort(g->scratch[w->id], f->body[dir]);
	f->body[dir] = NULL;
	f->body_gen[dir] = NULL;
	__atomic_sub_fetch(&g->body_refs, 1, __ATOMIC_RELEASE);
}

static bool
dp_msg_has_body(const struct mt_txn *t, int dir)
{
	const struct mt_http_msg *m = dir ? &t->resp : &t->req;

	if (m->chunked)
		return true;
	if (m->has_content_length)
		return m->content_length > 0;
	/* Without framing a request has no body; a response runs to close,
	 * except those that never carry one. */
	return dir == 1 && m->status_code != 204 && m->status_code != 304 &&
	       m->status_code >= 200;
}

/* Decoded bytes of a gzip/deflate body, from the signature engine's
 * inflater, for the behaviour scanners: the body is inflated once. */
static void
dp_behav_tap(void *ctx, const uint8_t *p, uint32_t n)
{
	struct dp_worker *w = ctx;

	if (w->behav != NULL && w->http.cur_txn_user != NULL)
		mt_behav_body_decoded(dp_behav(w), w->http.cur_txn_user, w->http.cur_msg_user, p, n);
}

/* The engine's body state went away before its end: the behaviour side
 * cannot pick up an inflated stream in the middle. */
static void
dp_behav_tap_lost(struct dp_worker *w)
{
	if (w->behav != NULL && w->http.cur_txn_user != NULL)
		mt_behav_body_external_lost(dp_behav(w), w->http.cur_txn_user, w->http.cur_msg_user);
}

static void
dp_body_begin(struct dp_worker *w, const struct mt_txn *t, int dir)
{
	struct dp_flow *f = w->cur_flow;
	struct dp_gen *g = w->gen;
	int rc;

	if (g == NULL || g->engine == NULL ||
	    (f->flags & (DP_FLOW_F_NOINSPECT | DP_FLOW_F_DROP)) || !dp_msg_has_body(t, dir))
		return;
	dp_body_release(w, f, dir, true);
	rc = mt_body_begin(g->engine, g->scratch[w->id], t, dir, &f->body[dir]);
	if (rc < 0) {
		f->body[dir] = NULL;
		w->cnt.body_begin_failed++;
		dp_apply_result(w, t, dir, rc);
		return;
	}
	if (f->body[dir] != NULL) {
		f->body_gen[dir] = g;
		__atomic_add_fetch(&g->body_refs, 1, __ATOMIC_ACQ_REL);
		w->cnt.bodies_inspected++;
		/* An encoded body the engine inflates anyway: the behaviour
		 * scanners read its output instead of inflating it again. */
		if (w->behav != NULL && w->http.cur_txn_user != NULL &&
		    mt_body_set_tap(f->body[dir], dp_behav_tap, w) == 1 &&
		    !mt_behav_body_external(dp_behav(w), w->http.cur_msg_user))
			mt_body_set_tap(f->body[dir], NULL, NULL);
	}
}

static void
dp_on_body(void *arg, struct mt_txn *t, int dir, const uint8_t *p, uint32_t len)
{
	struct dp_worker *w = arg;
	struct dp_flow *f = w->cur_flow;
	struct dp_gen *g = f->body_gen[dir];
	int rc;

	if (w->behav != NULL && w->http.cur_txn_user != NULL)
		mt_behav_body(dp_behav(w), w->http.cur_txn_user, w->http.cur_msg_user, p, len);
	if (f->body[dir] == NULL)
		return;
	if (f->flags & (DP_FLOW_F_NOINSPECT | DP_FLOW_F_DROP)) {
		dp_body_release(w, f, dir, true);
		dp_behav_tap_lost(w);
		return;
	}
	rc = mt_body_data(g->engine, g->scratch[w->id], f->body[dir], t, p, len, &w->res);
	if (rc < 0) {
		dp_body_release(w, f, dir, true);
		dp_behav_tap_lost(w);
	}
	dp_apply_result(w, t, dir, rc);
}

static void
dp_on_msg_end(void *arg, struct mt_txn *t, int dir)
{
	struct dp_worker *w = arg;
	struct dp_flow *f = w->cur_flow;
	struct dp_gen *g = f->body_gen[dir];
	int rc;

	if (w->behav != NULL && w->http.cur_txn_user != NULL)
		mt_behav_body_end(dp_behav(w), w->http.cur_txn_user, w->http.cur_msg_user);
	if (f->body[dir] == NULL)
		return;
	rc = mt_body_end(g->engine, g->scratch[w->id], f->body[dir], t, &w->res);
	dp_body_release(w, f, dir, false);
	dp_apply_result(w, t, dir, rc);
}

/* ---- behaviour (worker side) -------------------------------------------- */

/* Request head: identity, template, login facts, forged tokens. Returns 1
 * when the caller's identity is blocked (the request is dropped). */
static int
dp_behav_request(struct dp_worker *w, const struct mt_txn *t)
{
	struct mt_behav_rec *rec = w->http.cur_txn_user;
	struct dp_block_key k;
	unsigned int n, i;

	if (w->behav == NULL || rec == NULL)
		return 0;
	n = mt_behav_req_head(dp_behav(w), t, rec, w->http.cur_msg_user, w->behav_hits,
			      MT_BEHAV_REQ_HITS);
	if (w->sh->blocklist != NULL && rec->id_hash != 0 &&
	    dp_block_count(w->sh->blocklist) > 0) {
		dp_block_identity_key(&k, rec->id_hash);
		if (dp_block_check(w->sh->blocklist, &k, w->now_ns)) {
			w->cnt.blocked_identities++;
			w->cur_flow->flags |= DP_FLOW_F_DROP;
			w->cur_verdict = RTE_MAX(w->cur_verdict, (uint8_t)MT_ACT_DROP);
			return 1;
		}
	}
	if (n == 0)
		return 0;
	/* Request-time detections (forged tokens, keys in URLs) act inline,
	 * through the same path as signature hits. */
	w->res.n_hits = n;
	w->res.hits_dropped = 0;
	w->res.verdict = MT_ACT_NONE;
	for (i = 0; i < n; i++) {
		w->res.hits[i].rule = w->behav_hits[i];
		w->res.verdict = RTE_MAX(w->res.verdict, w->behav_hits[i]->action);
	}
	w->cnt.behav_hits += n;
	dp_apply_result(w, t, 0, (int)n);
	return 0;
}

static void
dp_behav_txn_done(struct dp_worker *w, const struct mt_txn *t)
{
	struct mt_behav_rec *rec = w->http.cur_txn_user;
	struct dp_behav_item *it = &w->behav_item;
	const struct mt_slice *ua;

	if (w->behav == NULL || rec == NULL || w->sh->analytics == NULL)
		return;
	mt_behav_txn_end(dp_behav(w), t, rec);
	it->rec = *rec;
	it->tuple = *t->tuple;
	it->uri_len = (uint16_t)RTE_MIN((size_t)t->req.uri.len, sizeof(it->uri));
	memcpy(it->uri, t->req.uri.p, it->uri_len);
	ua = mt_msg_known(&t->req, MT_HDR_USER_AGENT);
	it->ua_len = ua != NULL ? (uint16_t)RTE_MIN((size_t)ua->len, sizeof(it->ua)) : 0;
	if (it->ua_len)
		memcpy(it->ua, ua->p, it->ua_len);
	if (dp_analytics_submit(w->sh->analytics, it) == 0) {
		dp_lockstep_add(w->sh, &w->sh->ls_records_in, 1);
		w->cnt.behav_records++;
	}
	else
		w->cnt.behav_records_lost++;
}

/* ---- HTTP upcalls ------------------------------------------------------ */

static bool
dp_client_blocked(const struct dp_worker *w, const struct dp_flow *f)
{
	struct dp_block_key k;

	if (w->sh->blocklist == NULL || dp_block_count(w->sh->blocklist) == 0)
		return false;
	dp_block_client_key(&k, f->tuple.family, f->tuple.client_ip);
	return dp_block_check(w->sh->blocklist, &k, w->now_ns);
}

static void dp_emit_event(struct dp_worker *w, int dir, enum dp_event ev);

static void
dp_on_request(void *arg, struct mt_txn *t)
{
	struct dp_worker *w = arg;
	const struct dp_gen *g = w->gen;
	int rc;

	w->cur_flow->flags |= DP_FLOW_F_HTTP_SEEN;
	if (t->req.obs_fold)
		dp_emit_event(w, 0, DP_EV_HTTP_OBS_FOLD);
	if (dp_client_blocked(w, w->cur_flow)) {
		/* Blocked after the flow began: stop it at its next request. */
		w->cnt.blocked_requests++;
		w->cur_flow->flags |= DP_FLOW_F_DROP;
		w->cur_verdict = RTE_MAX(w->cur_verdict, (uint8_t)MT_ACT_DROP);
		return;
	}
	if (dp_behav_request(w, t) != 0)
		return;   /* a blocked identity: dropped */
	if (g == NULL || g->engine == NULL || (w->cur_flow->flags & DP_FLOW_F_NOINSPECT))
		return;
	rc = mt_match_request(g->engine, g->scratch[w->id], t, &w->res);
	dp_apply_result(w, t, 0, rc);
	dp_body_begin(w, t, 0);
}

static void dp_on_response_behav(struct dp_worker *w, struct mt_txn *t);

static void
dp_on_response(void *arg, struct mt_txn *t)
{
	struct dp_worker *w = arg;
	const struct dp_gen *g = w->gen;
	int rc;

	dp_on_response_behav(w, t);

	if (g == NULL || g->engine == NULL || (w->cur_flow->flags & DP_FLOW_F_NOINSPECT))
		return;
	rc = mt_match_response(g->engine, g->scratch[w->id], t, &w->res);
	dp_apply_result(w, t, 1, rc);
	dp_body_begin(w, t, 1);
}

static void
dp_on_response_behav(struct dp_worker *w, struct mt_txn *t)
{
	if (w->behav != NULL && w->http.cur_txn_user != NULL)
		mt_behav_resp_head(dp_behav(w), t, w->http.cur_txn_user, w->http.cur_msg_user);
}

static void
dp_on_txn_done(void *arg, struct mt_txn *t)
{
	dp_behav_txn_done(arg, t);
}

static void
dp_apply_policy(struct dp_worker *w, uint8_t policy)
{
	struct dp_flow *f = w->cur_flow;

	f->flags |= DP_FLOW_F_HTTP_OFF;
	if (policy == DP_FAIL_CLOSED) {
		w->cnt.fail_closed++;
		f->flags |= DP_FLOW_F_DROP;
		w->cur_verdict = RTE_MAX(w->cur_verdict, (uint8_t)MT_ACT_DROP);
	} else {
		w->cnt.fail_open++;
	}
}

/* An engine event on the current flow, as an alert with its own rule. */
static void
dp_emit_event(struct dp_worker *w, int dir, enum dp_event ev)
{
	struct mt_txn *t = &w->ev_txn;
	int i;

	memset(t, 0, offsetof(struct mt_txn, req));
	for (i = 0; i < MT_HDR__COUNT; i++) {
		t->req.known[i] = -1;
		t->resp.known[i] = -1;
	}
	t->req.method.len = t->req.uri.len = t->req.n_headers = 0;
	t->resp.status_code = 0;
	t->req.http_major = 1;
	t->req.http_minor = 1;
	t->tuple = &w->cur_flow->tuple;
	t->ts_ns = w->now_ns;
	w->cnt.events++;
	dp_emit_alert(w, t, dp_event_rule(ev), dir, DP_OUTCOME_ALLOWED);
}

/* Errors that only a message head can produce: the stream is HTTP, and the
 * framing is one that parsers disagree on (request smuggling, desync). */
static bool
dp_head_error(int err)
{
	switch (dp_event_from_llhttp(err)) {
	case DP_EV_HTTP_SMUGGLING:
	case DP_EV_HTTP_BAD_TE:
	case DP_EV_HTTP_BAD_CL:
	case DP_EV_HTTP_BAD_HEADER:
	case DP_EV_HTTP_BAD_CHUNK:
		return true;
	default:
		return false;
	}
}

static void
dp_on_http_error(void *arg, int dir, int err)
{
	struct dp_worker *w = arg;

	/* err < 0: a TCP gap we could not step over (reassembly caps);
	 * otherwise an llhttp parse error. A request the parser refuses is
	 * reported when it is surely HTTP (a framing error in a head, or any
	 * error after a good request): what llhttp rejects, a lenient server
	 * behind us may accept, and no signature would see it. */
	if (err >= 0 && dir == MT_DIR_TO_SERVER &&
	    (dp_head_error(err) || (w->cur_flow->flags & DP_FLOW_F_HTTP_SEEN)))
		dp_emit_event(w, dir, dp_event_from_llhttp(err));
	dp_apply_policy(w, err < 0 ? w->p->fail_policy : w->p->http_error_policy);
}

const struct dp_http_ops dp_worker_http_ops = {
	.request = dp_on_request,
	.response = dp_on_response,
	.txn_done = dp_on_txn_done,
	.error = dp_on_http_error,
	.body = dp_on_body,
	.msg_end = dp_on_msg_end,
};

/* ---- TCP upcalls ------------------------------------------------------- */

static bool
dp_is_http_port(const struct dp_params *p, uint16_t port)
{
	int i;

	if (p->http_ports[0] == 0)
		return true;
	for (i = 0; i < 16 && p->http_ports[i] != 0; i++)
		if (p->http_ports[i] == port)
			return true;
	return false;
}

static void
dp_on_tcp_data(void *arg, int dir, const uint8_t *p, uint32_t len)
{
	struct dp_worker *w = arg;
	struct dp_flow *f = w->cur_flow;

	if (f->flags & (DP_FLOW_F_NOINSPECT | DP_FLOW_F_HTTP_OFF | DP_FLOW_F_DROP))
		return;
	if (f->http == NULL) {
		if (!dp_is_http_port(w->p, f->tuple.server_port)) {
			f->flags |= DP_FLOW_F_HTTP_OFF;
			return;
		}
		f->http = dp_http_sess_open(&w->http, &f->tuple);
		if (f->http == NULL) {
			w->cnt.http_sessions_failed++;
			dp_apply_policy(w, w->p->fail_policy);
			return;
		}
	}
	if (dp_http_data(&w->http, f->http, dir, p, len, w->now_ns, w) != 0)
		f->flags |= DP_FLOW_F_HTTP_OFF;
}

static void
dp_on_tcp_gap(void *arg, int dir, uint32_t len)
{
	struct dp_worker *w = arg;
	struct dp_flow *f = w->cur_flow;

	if (f->http != NULL && !(f->flags & DP_FLOW_F_HTTP_OFF))
		dp_http_gap(&w->http, f->http, dir, len, w);
}

static void
dp_on_tcp_eof(void *arg, int dir)
{
	struct dp_worker *w = arg;
	struct dp_flow *f = w->cur_flow;

	if (f->http != NULL && !(f->flags & DP_FLOW_F_HTTP_OFF))
		dp_http_eof(&w->http, f->http, dir, w->now_ns, w);
	f->flags |= dir == 0 ? DP_FLOW_F_EOF0 : DP_FLOW_F_EOF1;
	/* Both directions over (FINs or a RST): the connection is done, so
	 * its HTTP session goes back to the pool now rather than when the
	 * flow times out; otherwise many short connections exhaust it. */
	if ((f->flags & (DP_FLOW_F_EOF0 | DP_FLOW_F_EOF1)) == (DP_FLOW_F_EOF0 | DP_FLOW_F_EOF1) &&
	    f->http != NULL) {
		dp_http_sess_close(&w->http, f->http, w);
		f->http = NULL;
		f->flags |= DP_FLOW_F_HTTP_OFF;
		dp_body_release(w, f, 0, true);
		dp_body_release(w, f, 1, true);
	}
}

/* Flow table hook: a flow is about to go (timeout, eviction, shutdown). */
void
dp_worker_flow_release(void *arg, struct dp_flow *f)
{
	struct dp_worker *w = arg;
	struct dp_flow *saved = w->cur_flow;

	w->cur_flow = f;
	if (f->key.proto == IPPROTO_TCP) {
		if (!(f->flags & (DP_FLOW_F_NOINSPECT | DP_FLOW_F_DROP)))
			dp_tcp_flush(&w->tcp, &f->tcp, w);
		dp_tcp_conn_release(&w->tcp, &f->tcp);
	}
	if (f->http != NULL) {
		dp_http_sess_close(&w->http, f->http, w);
		f->http = NULL;
	}
	dp_body_release(w, f, 0, true);
	dp_body_release(w, f, 1, true);
	w->cur_flow = saved;
}

/* ---- reject: RST to both ends ----------------------------------------- */

static void dp_worker_tx(struct dp_worker *w, struct rte_mbuf *m, uint16_t port);

/* Build a RST from the packet @m (parsed as @pk). @toward_sender: the RST
 * goes back to the packet's sender (addresses swapped). */
static struct rte_mbuf *
dp_build_rst(struct dp_worker *w, const uint8_t *src, const struct dp_pkt *pk,
	     int toward_sender)
{
	uint32_t l3 = pk->l3_off;
	uint32_t iphl = pk->family == 4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	uint32_t total = l3 + iphl + sizeof(struct rte_tcp_hdr);
	struct rte_mbuf *r = rte_pktmbuf_alloc(w->sh->pkt_pool);
	struct rte_ether_hdr *eh;
	struct rte_tcp_hdr *th;
	uint8_t *d;

	if (r == NULL)
		return NULL;
	d = (uint8_t *)rte_pktmbuf_append(r, (uint16_t)total);
	if (d == NULL) {
		rte_pktmbuf_free(r);
		return NULL;
	}
	memcpy(d, src, l3);   /* Ethernet and VLAN tags */
	eh = (struct rte_ether_hdr *)d;
	if (toward_sender) {
		struct rte_ether_addr tmp = eh->src_addr;

		eh->src_addr = eh->dst_addr;
		eh->dst_addr = tmp;
	}
	th = (struct rte_tcp_hdr *)(d + l3 + iphl);
	memset(th, 0, sizeof(*th));
	th->data_off = (sizeof(*th) / 4) << 4;
	th->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	if (toward_sender) {
		th->src_port = rte_cpu_to_be_16(pk->dst_port);
		th->dst_port = rte_cpu_to_be_16(pk->src_port);
		th->sent_seq = rte_cpu_to_be_32(pk->ack);
		th->recv_ack = rte_cpu_to_be_32(pk->seq + pk->payload_len);
	} else {
		th->src_port = rte_cpu_to_be_16(pk->src_port);
		th->dst_port = rte_cpu_to_be_16(pk->dst_port);
		th->sent_seq = rte_cpu_to_be_32(pk->seq);
		th->recv_ack = rte_cpu_to_be_32(pk->ack);
	}
	if (pk->family == 4) {
		struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(d + l3);

		memset(ih, 0, sizeof(*ih));
		ih->version_ihl = RTE_IPV4_VHL_DEF;
		ih->total_length = rte_cpu_to_be_16((uint16_t)(iphl + sizeof(*th)));
		ih->time_to_live = 64;
		ih->next_proto_id = IPPROTO_TCP;
		memcpy(&ih->src_addr, toward_sender ? pk->dst_ip : pk->src_ip, 4);
		memcpy(&ih->dst_addr, toward_sender ? pk->src_ip : pk->dst_ip, 4);
		ih->hdr_checksum = rte_ipv4_cksum(ih);
		th->cksum = rte_ipv4_udptcp_cksum(ih, th);
	} else {
		struct rte_ipv6_hdr *ih = (struct rte_ipv6_hdr *)(d + l3);

		memset(ih, 0, sizeof(*ih));
		ih->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ih->payload_len = rte_cpu_to_be_16(sizeof(*th));
		ih->proto = IPPROTO_TCP;
		ih->hop_limits = 64;
		memcpy(ih->src_addr, toward_sender ? pk->dst_ip : pk->src_ip, 16);
		memcpy(ih->dst_addr, toward_sender ? pk->src_ip : pk->dst_ip, 16);
		th->cksum = rte_ipv6_udptcp_cksum(ih, th);
	}
	return r;
}

static void
dp_send_rsts(struct dp_worker *w, struct rte_mbuf *m, const uint8_t *frame,
	     const struct dp_pkt *pk)
{
	const struct dp_plane_shared *sh = w->sh;
	int16_t out = sh->out_idx[m->port];
	struct rte_mbuf *r;

	r = dp_build_rst(w, frame, pk, 1);
	if (r != NULL) {
		dp_worker_tx(w, r, m->port);
		w->cnt.rst_sent++;
	}
	if (out >= 0) {
		r = dp_build_rst(w, frame, pk, 0);
		if (r != NULL) {
			dp_worker_tx(w, r, sh->port_id[out]);
			w->cnt.rst_sent++;
		}
	}
}

/* ---- packet path ------------------------------------------------------- */

static enum dp_flow_class
dp_tcp_class(const struct dp_flow *f)
{
	switch (f->tcp.state) {
	case DP_TCP_ESTABLISHED:
		return DP_FLOW_EST;
	case DP_TCP_CLOSING:
	case DP_TCP_CLOSED:
		return DP_FLOW_CLOSED;
	default:
		/* Picked up mid-stream with data both ways: as good as established. */
		return f->tcp.s[0].started && f->tcp.s[1].started ? DP_FLOW_EST : DP_FLOW_NEW;
	}
}

/* Which side of a new TCP flow is the client: the SYN tells; mid-stream,
 * the side on an HTTP port (or the lower port) is the server. */
static int
dp_src_is_client(const struct dp_worker *w, const struct dp_pkt *pk)
{
	uint8_t fl = pk->tcp_flags & (DP_TCP_SYN | DP_TCP_ACK);

	if (fl == DP_TCP_SYN)
		return 1;
	if (fl == (DP_TCP_SYN | DP_TCP_ACK))
		return 0;
	if (w->p->http_ports[0] != 0) {
		if (dp_is_http_port(w->p, pk->dst_port))
			return 1;
		if (dp_is_http_port(w->p, pk->src_port))
			return 0;
	}
	return pk->dst_port <= pk->src_port;
}

/* The TCP path of one packet (or of a datagram reassembled from
 * fragments, in @frame, completed by the fragment @m). */

/* Rewrite the TTL (IPv4, with the header checksum) or hop limit (IPv6) of
 * @p m to @p ttl, in place. Needs the IP header in the first segment; a
 * packet without it is left alone (counted by the caller's TCP counter). */
static void
dp_raise_ttl(struct rte_mbuf *m, const struct dp_pkt *pk, uint8_t ttl)
{
	if (pk->family == 4 && rte_pktmbuf_data_len(m) >= pk->l3_off + sizeof(struct rte_ipv4_hdr)) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
								  pk->l3_off);

		ip->time_to_live = ttl;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else if (pk->family == 6 &&
		   rte_pktmbuf_data_len(m) >= pk->l3_off + sizeof(struct rte_ipv6_hdr)) {
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
								  pk->l3_off);

		ip->hop_limits = ttl;
	}
}

static int
dp_worker_tcp(struct dp_worker *w, struct rte_mbuf *m, const uint8_t *frame,
	      const struct dp_pkt *pkp)
{
	const struct dp_plane_shared *sh = w->sh;
	const struct dp_pkt pk = *pkp;
	struct dp_flow_key key;
	struct dp_flow *f;
	int src_is_lo, created, dir;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint64_t ovl, pool_ex;
	unsigned int tv;

	if (w->p->checksum == DP_CSUM_ALL || (w->p->checksum == DP_CSUM_AUTO && sh->csum_check)) {
		if (dp_pkt_verify_csum(frame, &pk) != 0) {
			/* An end host drops it: so must reassembly, or an attacker
			 * could feed us bytes the server never sees. */
			w->cnt.csum_bad++;
			return 1;
		}
	}

	dp_flow_key_make(&key, pk.family, IPPROTO_TCP, pk.src_ip, pk.dst_ip,
			 pk.src_port, pk.dst_port, pk.vlan_id, &src_is_lo);
	f = dp_flow_get(w->flows, &key, dp_flow_key_hash(&key), w->now_ns, 1,
			dp_src_is_client(w, &pk) ? src_is_lo : !src_is_lo, &created);
	if (f == NULL) {
		w->cnt.flow_alloc_failed++;
		if (w->p->fail_policy == DP_FAIL_CLOSED) {
			w->cnt.fail_closed++;
			w->cnt.drop_policy++;
			return 0;
		}
		w->cnt.fail_open++;
		return 1;
	}
	if (created && dp_client_blocked(w, f)) {
		f->flags |= DP_FLOW_F_DROP;
		w->cnt.blocked_flows++;
	}
	dir = dp_flow_dir(f, src_is_lo);
	f->pkts[dir]++;
	f->bytes[dir] += len;
	if (f->flags & DP_FLOW_F_DROP) {
		dp_flow_touch(w->flows, f, w->now_ns, (enum dp_flow_class)f->cls);
		w->cnt.drop_flow++;
		return 0;
	}
	if (f->flags & DP_FLOW_F_NOINSPECT) {
		w->cnt.noinspect_packets++;
		dp_flow_touch(w->flows, f, w->now_ns, (enum dp_flow_class)f->cls);
		return 1;
	}

	w->cur_flow = f;
	w->cur_mbuf = m;
	w->cur_verdict = MT_ACT_NONE;
	ovl = w->tcp.cnt.overlap_diff;
	pool_ex = w->tcp.cnt.pool_exhausted;
	tv = dp_tcp_segment(&w->tcp, &f->tcp, dir, pk.tcp_flags, pk.seq, pk.ack, pk.ttl,
			    frame + pk.payload_off, pk.payload_len, w);
	/* TTL far below the flow's (docs/TCP.md "Insertion: low TTL"): the
	 * segment was reassembled, so it must reach the host as it reached
	 * us; a later copy of the same bytes is a retransmission it drops. */
	if (tv & DP_TCP_RAISE_TTL)
		dp_raise_ttl(m, &pk, f->tcp.s[dir].ttl_base);
	if (tv & DP_TCP_TTL_EVASION)
		dp_emit_event(w, dir, DP_EV_TCP_TTL_EVASION);
	if (w->tcp.cnt.overlap_diff != ovl) {
		/* Bytes that differ from what we already hold (first copy wins
		 * here): forwarding them could let the end host see a stream we
		 * never inspected, so the segment is dropped (as Snort's inline
		 * normaliser does) and the flow reported once. */
		if (!(f->flags & DP_FLOW_F_EVASION)) {
			f->flags |= DP_FLOW_F_EVASION;
			dp_emit_event(w, dir, DP_EV_TCP_OVERLAP_DIFF);
		}
		w->cnt.drop_overlap++;
		w->cur_verdict = RTE_MAX(w->cur_verdict, (uint8_t)MT_ACT_DROP);
	}
	if (w->tcp.cnt.pool_exhausted != pool_ex) {
		/* Out-of-order bytes we had no room to hold: the exception policy
		 * decides whether they reach the host uninspected. */
		if (w->p->fail_policy == DP_FAIL_CLOSED) {
			w->cnt.fail_closed++;
			w->cur_verdict = RTE_MAX(w->cur_verdict, (uint8_t)MT_ACT_DROP);
		} else {
			w->cnt.fail_open++;
		}
	}
	dp_flow_touch(w->flows, f, w->now_ns, dp_tcp_class(f));
	w->cur_mbuf = NULL;

	if (w->cur_verdict >= MT_ACT_DROP) {
		/* A rule or policy that dropped the flow; a lone segment dropped
		 * by normalisation or the exception policy is counted there. */
		if (f->flags & DP_FLOW_F_DROP)
			w->cnt.drop_verdict++;
		else
			w->cnt.drop_policy++;
		if (w->cur_verdict == MT_ACT_REJECT && w->p->reject_send_rst &&
		    !(f->flags & DP_FLOW_F_REJECTED)) {
			f->flags |= DP_FLOW_F_REJECTED;
			dp_send_rsts(w, m, frame, &pk);
		}
		return 0;
	}
	return 1;
}

/* Non-final fragments below this size are not made by any real path MTU
 * (IPv4 needs 576, IPv6 1280): they are an evasion. */
#define DP_FRAG_TINY 256

static bool
dp_tiny_fragment(const struct rte_mbuf *m, const struct dp_pkt *pk)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

	if (m->nb_segs != 1)
		return false;
	if (pk->family == 4) {
		const struct rte_ipv4_hdr *ih = (const void *)(f + pk->l3_off);
		bool more = (rte_be_to_cpu_16(ih->fragment_offset) & RTE_IPV4_HDR_MF_FLAG) != 0;

		return more && pk->l3_len - rte_ipv4_hdr_len(ih) < DP_FRAG_TINY;
	} else {
		const struct rte_ipv6_fragment_ext *fh = (const void *)(f + pk->l4_off);
		bool more = (rte_be_to_cpu_16(fh->frag_data) & 1) != 0;

		return more && (uint32_t)pk->l3_off + pk->l3_len <
				(uint32_t)pk->l4_off + sizeof(*fh) + DP_FRAG_TINY;
	}
}

/* Report tiny fragments once per address pair and second. */
static void
dp_frag_event(struct dp_worker *w, const struct dp_pkt *pk)
{
	struct mt_flow_tuple *t = &w->ev_tuple;
	struct dp_flow *saved = w->cur_flow;
	size_t alen = pk->family == 4 ? 4 : 16;

	if (w->now_ns - w->frag_ev_ns < 1000000000ull && t->family == pk->family &&
	    memcmp(t->client_ip, pk->src_ip, alen) == 0 &&
	    memcmp(t->server_ip, pk->dst_ip, alen) == 0)
		return;
	w->frag_ev_ns = w->now_ns;
	memset(t, 0, sizeof(*t));
	t->family = pk->family;
	t->proto = pk->l4_proto;
	memcpy(t->client_ip, pk->src_ip, alen);
	memcpy(t->server_ip, pk->dst_ip, alen);
	w->ev_flow.tuple = *t;
	w->cur_flow = &w->ev_flow;
	dp_emit_event(w, 0, DP_EV_IP_TINY_FRAG);
	w->cur_flow = saved;
}

/* An IP fragment: forwarded as it is, and a clone (sharing its data)
 * goes into DPDK's reassembly table. When the datagram is complete it is
 * inspected like any packet, the verdict applying to the fragment that
 * completed it: without this, splitting a request into fragments would
 * walk it past every detection. */
static int
dp_worker_fragment(struct dp_worker *w, struct rte_mbuf *m, const struct dp_pkt *pk)
{
	struct rte_mbuf *c, *r;
	struct dp_pkt pk2;
	const uint8_t *frame2;
	uint32_t len;
	int ret = 1;

	w->cnt.fragments++;
	if (dp_tiny_fragment(m, pk)) {
		/* A non-final fragment far smaller than any real MTU produces
		 * (RFC 1858, 3128): only evasion does that. It is dropped (the
		 * datagram then never completes at the host) and reported,
		 * rate-limited per address pair. */
		w->cnt.frag_tiny++;
		dp_frag_event(w, pk);
		return 0;
	}
	if (w->frag_tbl == NULL || m->nb_segs != 1)
		return 1;
	c = rte_pktmbuf_clone(m, w->sh->pkt_pool);
	if (c == NULL) {
		w->cnt.frag_nomem++;
		return 1;
	}
	c->l2_len = pk->l3_off;
	if (pk->family == 4) {
		struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(c, struct rte_ipv4_hdr *,
								  pk->l3_off);

		c->l3_len = rte_ipv4_hdr_len(ih);
		r = rte_ipv4_frag_reassemble_packet(w->frag_tbl, &w->frag_dr, c, rte_rdtsc(), ih);
	} else {
		struct rte_ipv6_hdr *ih = rte_pktmbuf_mtod_offset(c, struct rte_ipv6_hdr *,
								  pk->l3_off);
		struct rte_ipv6_fragment_ext *fh = rte_pktmbuf_mtod_offset(c,
						struct rte_ipv6_fragment_ext *, pk->l4_off);

		c->l3_len = (uint16_t)(pk->l4_off - pk->l3_off + sizeof(*fh));
		r = rte_ipv6_frag_reassemble_packet(w->frag_tbl, &w->frag_dr, c, rte_rdtsc(),
						    ih, fh);
	}
	rte_ip_frag_free_death_row(&w->frag_dr, 3);
	if (r == NULL)
		return 1;   /* more to come, or dropped by the table (counted there) */
	w->cnt.frag_reassembled++;
	len = rte_pktmbuf_pkt_len(r);
	if (len > DP_REASM_BOUNCE) {
		w->cnt.oversize++;
		rte_pktmbuf_free(r);
		return 1;
	}
	frame2 = rte_pktmbuf_read(r, 0, len, w->bounce_reasm);
	if (frame2 != w->bounce_reasm) {
		memcpy(w->bounce_reasm, frame2, len);
		frame2 = w->bounce_reasm;
	}
	if (pk->family == 4) {
		/* The library rewrote total length and offset, not the checksum. */
		struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(w->bounce_reasm + pk->l3_off);

		ih->hdr_checksum = 0;
		ih->hdr_checksum = rte_ipv4_cksum(ih);
	}
	if (dp_pkt_parse(frame2, len, &pk2) == DP_PKT_TCP) {
		w->cnt.tcp++;
		ret = dp_worker_tcp(w, m, frame2, &pk2);
	}
	rte_pktmbuf_free(r);
	return ret;
}

int
dp_worker_packet(struct dp_worker *w, struct rte_mbuf *m)
{
	const uint8_t *frame;
	struct dp_pkt pk;
	int kind;
	uint32_t len = rte_pktmbuf_pkt_len(m);

	w->cnt.rx_bytes += len;
	if (likely(m->nb_segs == 1)) {
		frame = rte_pktmbuf_mtod(m, const uint8_t *);
	} else {
		/* Rare (jumbo frames): parse a linear copy. */
		w->cnt.multiseg++;
		if (len > DP_BOUNCE_SIZE) {
			w->cnt.oversize++;
			return 1;
		}
		frame = rte_pktmbuf_read(m, 0, len, w->bounce);
	}
	kind = dp_pkt_parse(frame, len, &pk);
	if (pk.vlans)
		w->cnt.vlan++;
	if (pk.family == 4)
		w->cnt.ipv4++;
	else if (pk.family == 6)
		w->cnt.ipv6++;
	switch (kind) {
	case DP_PKT_TCP:
		w->cnt.tcp++;
		break;
	case DP_PKT_UDP:
		w->cnt.udp++;
		return 1;   /* tracked by later work; forwarded untouched */
	case DP_PKT_OTHER_L4:
		w->cnt.other_l4++;
		return 1;
	case DP_PKT_NON_IP:
		w->cnt.non_ip++;
		return 1;
	case DP_PKT_FRAGMENT:
		return dp_worker_fragment(w, m, &pk);
	default:
		w->cnt.malformed++;
		return 1;   /* the end host will discard it; never inspected */
	}
	return dp_worker_tcp(w, m, frame, &pk);
}


/* ---- TX ---------------------------------------------------------------- */

static void
dp_worker_tx(struct dp_worker *w, struct rte_mbuf *m, uint16_t port)
{
	w->cnt.tx_packets++;
	w->cnt.tx_bytes += rte_pktmbuf_pkt_len(m);
	if (w->sh->software) {
		/* The I/O lcore transmits; it reads the destination from m->port. */
		m->port = port;
		/* Offline the I/O lcore always drains: wait rather than lose. */
		while (w->sh->rx_backpressure && rte_ring_full(w->out_ring) && !w->sh->stop)
			rte_pause();
		if (rte_ring_sp_enqueue(w->out_ring, m) != 0) {
			w->cnt.ring_full++;
			w->cnt.tx_packets--;
			w->cnt.tx_bytes -= rte_pktmbuf_pkt_len(m);
			rte_pktmbuf_free(m);
		}
		return;
	}
	rte_eth_tx_buffer(port, w->txq[port], w->txb[port], m);
}

static void
dp_worker_flush_tx(struct dp_worker *w)
{
	uint16_t i;

	if (w->sh->software)
		return;
	for (i = 0; i < w->sh->p->n_ports; i++) {
		uint16_t port = w->sh->port_id[i];

		if (w->txb[port] != NULL)
			rte_eth_tx_buffer_flush(port, w->txq[port], w->txb[port]);
	}
}

static void
dp_worker_burst(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	const struct dp_plane_shared *sh = w->sh;
	uint64_t tsc_now = dp_tsc_now_ns(sh);
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		int16_t out = sh->out_idx[m->port];

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		w->now_ns = dp_pkt_time(w, m, tsc_now);
		if (dp_worker_packet(w, m) == 0) {
			rte_pktmbuf_free(m);
			continue;
		}
		if (out < 0) {
			w->cnt.sink_packets++;
			rte_pktmbuf_free(m);
			continue;
		}
		dp_worker_tx(w, m, sh->port_id[out]);
	}
	/* Counted after processing, so that "received" means "done with". */
	w->cnt.rx_packets += n;
}

static void
dp_worker_csum_auto(struct dp_worker *w)
{
	/* Auto mode: once enough packets were checked, give up checking when
	 * a large share failed (the capture host offloaded checksums). */
	uint64_t checked = w->cnt.tcp;

	if (w->p->checksum != DP_CSUM_AUTO || !w->sh->csum_check ||
	    checked < DP_CSUM_AUTO_SAMPLE || !w->sh->rx_backpressure)
		return;
	if (w->cnt.csum_bad * 100 >= checked * DP_CSUM_AUTO_PCT)
		w->sh->csum_check = false;
}

/*
 * A new generation may carry new run-time settings (configuration
 * reload). Applied between bursts, so a packet sees one set of settings;
 * flows keep their state, only their class timeouts and the reassembly
 * cap and TTL limit change.
 */
static void
dp_worker_apply_params(struct dp_worker *w)
{
	const struct dp_params *p = w->gen != NULL && w->gen->params != NULL ?
		w->gen->params : w->base_p;

	w->params_gen = w->gen;
	/* Detector settings give a generation new behaviour contexts: they
	 * count into the worker's own counters, which outlive them. */
	if (w->behav != NULL)
		mt_behav_worker_bind_stats(dp_behav(w), &w->behav_stats);
	if (p == NULL || p == w->p)
		return;
	w->p = p;
	w->tcp.flow_cap_bytes = p->reasm_flow_cap;
	w->tcp.midstream = p->midstream;
	w->tcp.ttl_limit = p->reasm_ttl_limit;
	{
		uint32_t timeouts[DP_FLOW__CLASSES] = {
			[DP_FLOW_NEW] = p->flow_timeout_new,
			[DP_FLOW_EST] = p->flow_timeout_est,
			[DP_FLOW_CLOSED] = p->flow_timeout_closed,
			[DP_FLOW_UDP] = p->flow_timeout_udp,
		};

		dp_flow_set_timeouts(w->flows, timeouts);
	}
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp_plane_shared *sh = w->sh;
	struct rte_mbuf *pkts[256];
	uint16_t burst = RTE_MIN(w->p->burst, (uint16_t)RTE_DIM(pkts));
	bool csum_auto_done = false;

	w->tcp.ops.data = dp_on_tcp_data;
	w->tcp.ops.gap = dp_on_tcp_gap;
	w->tcp.ops.eof = dp_on_tcp_eof;
	rte_rcu_qsbr_thread_online(sh->qsbr, w->id);

	/* In software mode, keep going after stop until the I/O lcore has
	 * stopped receiving and our ring is empty: no packet is left behind. */
	for (;;) {
		uint16_t n = 0, q;

		if (sh->stop && (!sh->software ||
				 (sh->io_rx_stopped && rte_ring_empty(w->in_ring))))
			break;

		/* One generation per burst: picked up here, released by the
		 * quiescent-state report below. */
		w->gen = __atomic_load_n(&sh->gen, __ATOMIC_ACQUIRE);
		if (w->gen != w->params_gen)
			dp_worker_apply_params(w);
		if (sh->software) {
			n = (uint16_t)rte_ring_sc_dequeue_burst(w->in_ring, (void **)pkts, burst, NULL);
			if (n > 0)
				dp_worker_burst(w, pkts, n);
		} else {
			for (q = 0; q < w->n_rxq; q++) {
				uint16_t k = dp_rx_room(sh, burst) ?
					rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, pkts, burst) : 0;

				if (k > 0 && sh->replay_ts != NULL)
					dp_stamp_replay(sh, pkts, k);
				if (k > 0)
					dp_worker_burst(w, pkts, k);
				n += k;
			}
		}
		dp_worker_flush_tx(w);
		if (n == 0 || w->now_ns - w->last_expire_ns > DP_EXPIRE_INTERVAL_NS) {
			if (n == 0 && !sh->pkt_time)
				w->now_ns = dp_tsc_now_ns(sh);
			dp_flow_expire(w->flows, w->now_ns, DP_EXPIRE_BUDGET);
			w->last_expire_ns = w->now_ns;
			dp_worker_flush_tx(w);
		}
		if (!csum_auto_done && w->cnt.tcp >= DP_CSUM_AUTO_SAMPLE) {
			dp_worker_csum_auto(w);
			csum_auto_done = true;
		}
		rte_rcu_qsbr_quiescent(sh->qsbr, w->id);
		if (n == 0 && sh->yield_when_idle)
			sched_yield();
	}

	/* Shutdown: end every flow so open transactions are reported, then
	 * push out what the flush produced. */
	w->gen = __atomic_load_n(&sh->gen, __ATOMIC_ACQUIRE);
	if (w->gen != w->params_gen)
		dp_worker_apply_params(w);
	dp_flow_flush_all(w->flows);
	dp_worker_flush_tx(w);
	rte_rcu_qsbr_thread_offline(sh->qsbr, w->id);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return 0;
}
