/* apiguard-gen - writes pcap captures of complete, valid TCP sessions
 * carrying JSON API traffic (with a configurable share of attacks) for
 * the apiguard demo, integration tests and benchmarks.
 *
 * Model: the capture point sits in front of the API servers (where the
 * appliance is inline), so server replies to client data appear after
 * a short processing delay and client ACKs of server data appear one
 * RTT after the data. Each flow is a small state machine that produces
 * one "step" (handshake, one exchange or pipelined group, close) at a
 * time into its own time-sorted packet queue; a min-heap over the flows
 * merges the queues so the file's timestamps never go backwards while
 * many sessions overlap.
 */
#include "gen_http.h"
#include "gen_pkt.h"
#include "gen_scn.h"
#include "gen_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BASE_TIME_US 1714557600000000ULL /* 2024-05-01 10:00:00 UTC */
#define MAX_PIPELINE 3
#define CLIENT_POOL 4096
#define N_SERVERS 6

enum split_mode { SPLIT_MSS, SPLIT_SMALL };
enum scenario { SCEN_DEFAULT, SCEN_MIX, SCEN_DEMO, SCEN_BEHAV };

struct opts {
	const char *out;
	const char *manifest;
	uint64_t flows;
	int flows_set;
	uint64_t packets;
	uint32_t req_min, req_max;
	uint64_t seed;
	double attack_share;
	int attack_enabled[GEN_ATK_COUNT];
	double chunked_share;
	double pipeline_share;
	double expect_share;
	double head_share;
	double close_share;
	double ooo_share;
	double bad_csum_share;
	double ipv6_share;
	double vlan_share;
	int split;
	uint32_t mss;
	uint16_t server_port;
	int scenario;
	const char *scenario_name;
	double flow_gap_us; /* mean gap between flow starts */
	double think_us;    /* mean client think time between exchanges */
};

/* One queued frame of a flow's current step. */
struct qpkt {
	uint64_t ts;
	uint32_t off;
	uint32_t len;
};

/* Demo scenario: features a given flow must show. */
struct force {
	int attack;     /* kind, or GEN_ATK_NONE */
	int attack_at;  /* request index carrying it */
	int pipeline;
	int expect;
	int head;
	int chunked;
	int conn_close;
	int small_split;
	int ipv6;
	int vlan;
};

enum flow_state { ST_HANDSHAKE, ST_EXCHANGE, ST_CLOSE, ST_DONE };

struct flow {
	uint64_t id;
	struct gen_endpoints ep;
	struct gen_ident ident;
	uint32_t cseq, sseq; /* next sequence number each side sends */
	uint16_t cipid, sipid;
	uint8_t cttl;
	uint32_t rtt_us;
	uint64_t t;          /* earliest start of the next step */
	int state;
	uint32_t req_total, req_done;
	int small_split;
	const struct gen_scn_sess *sess; /* scripted session, or NULL */
	struct force force;
	struct qpkt *q;
	size_t qn, qhead, qcap;
	struct gen_sb qbuf;
};

/* Exact counts for the manifest. */
struct counts {
	uint64_t packets, bytes, flows, requests, responses, interim;
	uint64_t ipv6_flows, vlan_flows, chunked, head, expect, pipelined;
	uint64_t conn_close, ooo_messages, bad_csum, request_bytes, response_bytes;
	uint64_t attacks[GEN_ATK_COUNT];
	uint64_t scn_attacks[GEN_SCN_MAX_KINDS];
	uint64_t status[600];
	uint64_t first_ts, last_ts;
};

struct gen {
	struct opts o;
	struct gen_rng rng;
	struct counts c;
	struct gen_sb attack_json; /* manifest attack_requests entries */
	struct gen_sb reqbuf, respbuf;
	struct { uint32_t off, len; } *segs;
	size_t segs_cap;
	uint32_t *perm;
	uint8_t *recv;
	size_t perm_cap;
	struct flow **heap;
	size_t heap_n, heap_cap;
	uint32_t client_ip[CLIENT_POOL];
	uint16_t client_port[CLIENT_POOL];
	uint64_t flows_started;
	uint64_t next_start;
	int enabled[GEN_ATK_COUNT];
	int n_enabled;
	struct gen_scn scn;   /* behaviour scenario, SCEN_BEHAV only */
	size_t scn_next;      /* next session to start */
};

static const uint8_t CLIENT_MAC[6] = { 0x02, 0x00, 0x5e, 0x18, 0x00, 0x01 };
static const uint8_t SERVER_MAC[6] = { 0x02, 0x00, 0x5e, 0x19, 0x00, 0x01 };

static void *xrealloc(void *p, size_t n)
{
	void *np = realloc(p, n);
	if (!np) {
		fprintf(stderr, "apiguard-gen: out of memory\n");
		exit(1);
	}
	return np;
}

static uint64_t exp_us(struct gen_rng *r, double mean)
{
	return (uint64_t)(-mean * log(1.0 - gen_unit(r)));
}

/* ---- packet emission into a flow's queue ---- */

static void emit(struct gen *g, struct flow *f, uint64_t ts, int from_client,
		 uint8_t flags, uint32_t seq, uint32_t ack,
		 const uint8_t *opts, size_t opts_len,
		 const uint8_t *payload, size_t plen)
{
	struct gen_seg s = {
		.from_client = from_client,
		.ip_id = from_client ? f->cipid++ : f->sipid++,
		.ttl = from_client ? f->cttl : 64,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		/* Windows stay constant so tshark sees no window updates; SYNs
		 * carry unscaled values (wscale 7 applies after). */
		.window = (flags & GEN_TCP_SYN) ? (from_client ? 64240 : 64128)
						: (from_client ? 2053 : 501),
		.opts = opts,
		.opts_len = opts_len,
		.payload = payload,
		.payload_len = plen,
	};
	if (plen && g->o.bad_csum_share > 0 && gen_chance(&g->rng, g->o.bad_csum_share)) {
		s.bad_checksum = 1;
		g->c.bad_csum++;
	}
	if (f->qn == f->qcap) {
		f->qcap = f->qcap ? f->qcap * 2 : 64;
		f->q = xrealloc(f->q, f->qcap * sizeof(*f->q));
	}
	gen_sb_reserve(&f->qbuf, GEN_MAX_FRAME);
	size_t len = gen_pkt_build((uint8_t *)f->qbuf.p + f->qbuf.len, &f->ep, &s);
	f->q[f->qn].ts = ts;
	f->q[f->qn].off = (uint32_t)f->qbuf.len;
	f->q[f->qn].len = (uint32_t)len;
	f->qn++;
	f->qbuf.len += len;
}

/* Stable insertion sort of the step's packets by time: almost sorted
 * already, only delayed ACKs move. */
static void sort_queue(struct flow *f)
{
	for (size_t i = 1; i < f->qn; i++) {
		struct qpkt x = f->q[i];
		size_t j = i;
		while (j > 0 && f->q[j - 1].ts > x.ts) {
			f->q[j] = f->q[j - 1];
			j--;
		}
		f->q[j] = x;
	}
}

static uint64_t step_end(const struct flow *f)
{
	uint64_t m = 0;
	for (size_t i = 0; i < f->qn; i++)
		if (f->q[i].ts > m)
			m = f->q[i].ts;
	return m;
}

/* ---- segmentation ---- */

static uint32_t seg_limit(const struct gen *g, const struct flow *f)
{
	return f->ep.ipv6 ? g->o.mss - 20 : g->o.mss;
}

/* Splits [0,len) into segments; cut points (write boundaries) always
 * end a segment, and no segment ends strictly inside a keep range
 * [keep[2i], keep[2i+1]). Returns the count, in g->segs. */
static size_t segment(struct gen *g, const struct flow *f, size_t len,
		      const size_t *cuts, int ncuts, const size_t *keep, int nkeep)
{
	uint32_t mss = seg_limit(g, f);
	size_t n = 0, off = 0;
	int ci = 0;
	while (off < len) {
		size_t lim = len;
		while (ci < ncuts && cuts[ci] <= off)
			ci++;
		if (ci < ncuts)
			lim = cuts[ci];
		size_t sz = lim - off;
		uint32_t cap = mss;
		if (f->small_split) {
			uint32_t small = mss < 256 ? mss : 256;
			cap = gen_range(&g->rng, 1, small);
		}
		if (sz > cap)
			sz = cap;
		for (int k = 0; k < nkeep; k++) {
			size_t a = keep[2 * k], b = keep[2 * k + 1];
			if (off + sz > a && off + sz < b)
				sz = off < a ? a - off : b - off;
		}
		if (n == g->segs_cap) {
			g->segs_cap = g->segs_cap ? g->segs_cap * 2 : 256;
			g->segs = xrealloc(g->segs, g->segs_cap * sizeof(*g->segs));
		}
		g->segs[n].off = (uint32_t)off;
		g->segs[n].len = (uint32_t)sz;
		n++;
		off += sz;
	}
	return n;
}

/* Wire time of a frame at 1 Gbit/s, plus a little jitter. */
static uint64_t wire_us(struct gen *g, size_t bytes)
{
	return (bytes + 78) / 125 + gen_below(&g->rng, 3);
}

/*
 * Sends a message from one side starting at time t. The receiver ACKs
 * every second segment it gets (ack_delay later) and, with ack_tail,
 * the trailing odd one; otherwise its next packet carries the ACK.
 * Segments may be emitted out of order (each exactly once); ACKs always
 * acknowledge the contiguous prefix received, so reordering yields
 * genuine duplicate ACKs. Returns the time of the last data segment.
 */
static uint64_t send_message(struct gen *g, struct flow *f, int from_client,
			     const uint8_t *data, size_t len,
			     const size_t *cuts, int ncuts,
			     const size_t *keep, int nkeep, uint64_t t,
			     uint32_t ack_delay, int ack_tail)
{
	size_t n = segment(g, f, len, cuts, ncuts, keep, nkeep);
	uint32_t *seqp = from_client ? &f->cseq : &f->sseq;
	uint32_t base = *seqp;
	uint32_t peer_seq = from_client ? f->sseq : f->cseq;

	if (n > g->perm_cap) {
		g->perm_cap = n * 2;
		g->perm = xrealloc(g->perm, g->perm_cap * sizeof(*g->perm));
		g->recv = xrealloc(g->recv, g->perm_cap);
	}
	uint32_t *perm = g->perm;
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	if (n >= 2 && g->o.ooo_share > 0 && gen_chance(&g->rng, g->o.ooo_share)) {
		/* Swap one adjacent pair, or rotate a window of three. */
		size_t i = gen_below(&g->rng, (uint32_t)(n - 1));
		if (n >= 3 && i + 2 < n && gen_chance(&g->rng, 0.3)) {
			uint32_t a = perm[i];
			perm[i] = perm[i + 1];
			perm[i + 1] = perm[i + 2];
			perm[i + 2] = a;
		} else {
			uint32_t a = perm[i];
			perm[i] = perm[i + 1];
			perm[i + 1] = a;
		}
		g->c.ooo_messages++;
	}

	/* recv[i]: the receiver holds segment i; edge: first missing one. */
	uint8_t *recv = g->recv;
	memset(recv, 0, n);
	size_t edge = 0, count = 0;
	uint64_t ts = t;
	for (size_t k = 0; k < n; k++) {
		uint32_t si = perm[k];
		uint32_t off = g->segs[si].off, sl = g->segs[si].len;
		uint8_t flags = GEN_TCP_ACK;
		int write_end = off + sl == len;
		for (int c = 0; c < ncuts; c++)
			if (off + sl == cuts[c])
				write_end = 1;
		if (write_end)
			flags |= GEN_TCP_PSH;
		emit(g, f, ts, from_client, flags, base + off, peer_seq, NULL, 0,
		     data + off, sl);
		recv[si] = 1;
		count++;
		int last = k + 1 == n;
		if (count % 2 == 0 || (last && ack_tail)) {
			while (edge < n && recv[edge])
				edge++;
			uint32_t acked = edge >= n ? (uint32_t)len : g->segs[edge].off;
			/* Nothing new in order yet: no ACK. Right after the
			 * handshake tshark would call a duplicate of the
			 * SYN/ACK's ACK a window update. */
			if (acked)
				emit(g, f, ts + ack_delay + gen_below(&g->rng, 8),
				     !from_client, GEN_TCP_ACK, peer_seq, base + acked,
				     NULL, 0, NULL, 0);
		}
		if (!last)
			ts += wire_us(g, sl);
	}
	*seqp = base + (uint32_t)len;
	return ts;
}

/* ---- steps ---- */

static void step_handshake(struct gen *g, struct flow *f)
{
	uint16_t mss = (uint16_t)seg_limit(g, f);
	uint8_t opts[12] = { 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss,
			     1, 3, 3, 7,   /* NOP, window scale 7 */
			     1, 1, 4, 2 }; /* NOP, NOP, SACK permitted */
	uint64_t t = f->t;
	emit(g, f, t, 1, GEN_TCP_SYN, f->cseq, 0, opts, sizeof(opts), NULL, 0);
	f->cseq++;
	t += 20 + gen_below(&g->rng, 60);
	emit(g, f, t, 0, GEN_TCP_SYN | GEN_TCP_ACK, f->sseq, f->cseq, opts,
	     sizeof(opts), NULL, 0);
	f->sseq++;
	t += f->rtt_us + gen_below(&g->rng, 30);
	emit(g, f, t, 1, GEN_TCP_ACK, f->cseq, f->sseq, NULL, 0, NULL, 0);
	f->t = t + gen_below(&g->rng, 40);
	f->state = ST_EXCHANGE;
}

/* Client FIN first: the normal keep-alive session end. */
static void step_client_close(struct gen *g, struct flow *f)
{
	uint64_t t = f->t;
	emit(g, f, t, 1, GEN_TCP_FIN | GEN_TCP_ACK, f->cseq, f->sseq, NULL, 0, NULL, 0);
	f->cseq++;
	t += 40 + gen_below(&g->rng, 120);
	emit(g, f, t, 0, GEN_TCP_FIN | GEN_TCP_ACK, f->sseq, f->cseq, NULL, 0, NULL, 0);
	f->sseq++;
	t += f->rtt_us + gen_below(&g->rng, 30);
	emit(g, f, t, 1, GEN_TCP_ACK, f->cseq, f->sseq, NULL, 0, NULL, 0);
	f->state = ST_DONE;
}

/* Server FIN first, after answering "Connection: close". */
static void server_close(struct gen *g, struct flow *f, uint64_t t)
{
	t += 10 + gen_below(&g->rng, 40);
	emit(g, f, t, 0, GEN_TCP_FIN | GEN_TCP_ACK, f->sseq, f->cseq, NULL, 0, NULL, 0);
	f->sseq++;
	t += f->rtt_us + 50 + gen_below(&g->rng, 100);
	emit(g, f, t, 1, GEN_TCP_FIN | GEN_TCP_ACK, f->cseq, f->sseq, NULL, 0, NULL, 0);
	f->cseq++;
	t += 20 + gen_below(&g->rng, 40);
	emit(g, f, t, 0, GEN_TCP_ACK, f->sseq, f->cseq, NULL, 0, NULL, 0);
	f->state = ST_DONE;
}

static void ip_string(const struct flow *f, int client, char *buf, size_t n)
{
	inet_ntop(f->ep.ipv6 ? AF_INET6 : AF_INET,
		  client ? f->ep.client_ip : f->ep.server_ip, buf, (socklen_t)n);
}

static void record_entry(struct gen *g, const struct flow *f, const char *kind,
			 const char *method, const char *uri, size_t uri_len,
			 uint64_t ts_us, uint64_t resp_end_us, int status)
{
	char cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN];
	struct gen_sb *b = &g->attack_json;
	ip_string(f, 1, cip, sizeof(cip));
	ip_string(f, 0, sip, sizeof(sip));
	if (b->len)
		GEN_SB_LIT(b, ",\n");
	GEN_SB_LIT(b, "    {\"kind\": \"");
	gen_sb_puts(b, kind);
	GEN_SB_LIT(b, "\", \"client_ip\": \"");
	gen_sb_puts(b, cip);
	GEN_SB_LIT(b, "\", \"client_port\": ");
	gen_sb_u64(b, f->ep.client_port);
	GEN_SB_LIT(b, ", \"server_ip\": \"");
	gen_sb_puts(b, sip);
	GEN_SB_LIT(b, "\", \"server_port\": ");
	gen_sb_u64(b, f->ep.server_port);
	GEN_SB_LIT(b, ", \"method\": \"");
	gen_sb_puts(b, method);
	GEN_SB_LIT(b, "\", \"uri\": \"");
	gen_sb_json_escaped(b, uri, uri_len);
	GEN_SB_LIT(b, "\", \"flow\": ");
	gen_sb_u64(b, f->id);
	if (ts_us) {
		/* Request's first byte and response's last byte on the wire. */
		GEN_SB_LIT(b, ", \"ts_us\": ");
		gen_sb_u64(b, ts_us);
		GEN_SB_LIT(b, ", \"resp_end_us\": ");
		gen_sb_u64(b, resp_end_us);
		GEN_SB_LIT(b, ", \"status\": ");
		gen_sb_u64(b, (uint64_t)status);
	}
	GEN_SB_LIT(b, "}");
}

static void record_attack(struct gen *g, const struct flow *f,
			  const struct gen_req_info *q, const char *reqbytes)
{
	record_entry(g, f, gen_attack_name(q->attack), q->method, reqbytes + q->uri_off,
		     q->uri_len, 0, 0, 0);
}

static int pick_attack(struct gen *g, struct flow *f, uint32_t idx)
{
	if (f->force.attack != GEN_ATK_NONE && (uint32_t)f->force.attack_at == idx)
		return f->force.attack;
	if (g->n_enabled && gen_chance(&g->rng, g->o.attack_share))
		return g->enabled[gen_below(&g->rng, (uint32_t)g->n_enabled)];
	return GEN_ATK_NONE;
}

/* One scripted exchange of a behaviour scenario session. */
static void step_scripted(struct gen *g, struct flow *f)
{
	const struct gen_scn_xchg *x = &g->scn.x[f->sess->first + f->req_done];
	const uint8_t *rq = (const uint8_t *)g->scn.buf.p + x->req_off;
	const uint8_t *rs = (const uint8_t *)g->scn.buf.p + x->resp_off;
	uint64_t t = f->t, t_req = f->t;
	uint32_t srv_ack = 20 + gen_below(&g->rng, 40);
	size_t cut = x->head_len;
	int ncut = x->req_len > x->head_len && gen_chance(&g->rng, 0.3);
	t = send_message(g, f, 1, rq, x->req_len, &cut, ncut, NULL, 0, t, srv_ack, 0);
	g->c.requests++;
	g->c.request_bytes += x->req_len;

	/* Never split a chunked body's final "0\r\n\r\n" (see step_exchange). */
	size_t keep[2] = { x->resp_len - 5, x->resp_len };
	t += 150 + exp_us(&g->rng, 2500);
	t = send_message(g, f, 0, rs, x->resp_len, NULL, 0, keep, x->chunked ? 1 : 0, t,
			 f->rtt_us, 1);
	g->c.responses++;
	g->c.status[x->status]++;
	g->c.response_bytes += x->resp_len;
	if (x->chunked)
		g->c.chunked++;
	if (x->kind >= 0) {
		g->c.scn_attacks[x->kind]++;
		record_entry(g, f, g->scn.kinds[x->kind], x->method, (const char *)rq + x->uri_off,
			     x->uri_len, t_req, t, x->status);
	}
	f->req_done++;
	uint64_t next = t + f->rtt_us + 300 + exp_us(&g->rng, f->sess->think_us);
	uint64_t end = step_end(f);
	f->t = next > end ? next : end;
	if (f->req_done == f->req_total)
		f->state = ST_CLOSE;
}

/* One exchange: a single request, or a pipelined group of 2-3. */
static void step_exchange(struct gen *g, struct flow *f)
{
	if (f->sess) {
		step_scripted(g, f);
		return;
	}
	uint32_t left = f->req_total - f->req_done;
	uint32_t n = 1;
	int want_pipe = f->force.pipeline ? f->req_done == 0
					  : gen_chance(&g->rng, g->o.pipeline_share);
	if (left >= 2 && want_pipe)
		n = left >= 3 && gen_chance(&g->rng, 0.4) ? 3 : 2;

	struct gen_req_info q[MAX_PIPELINE];
	size_t qoff[MAX_PIPELINE];
	int last_of_flow = f->req_done + n == f->req_total;
	int conn_close = last_of_flow &&
		(f->force.conn_close || gen_chance(&g->rng, g->o.close_share));
	g->reqbuf.len = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t idx = f->req_done + i;
		struct gen_req_opts ro = {
			.attack = pick_attack(g, f, idx),
			.allow_expect = n == 1,
			.allow_head = n == 1,
			.force_expect = n == 1 && f->force.expect && idx == 0,
			.force_head = f->force.head && idx == f->req_total - 1 && n == 1,
			.conn_close = conn_close && i + 1 == n,
			.expect_share = g->o.expect_share,
			.head_share = g->o.head_share,
		};
		if (ro.attack != GEN_ATK_NONE)
			ro.force_expect = ro.force_head = 0;
		qoff[i] = g->reqbuf.len;
		gen_http_request(&g->reqbuf, &g->rng, &f->ident, &ro, &q[i]);
		g->c.requests++;
		g->c.request_bytes += q[i].total_len;
		if (n > 1)
			g->c.pipelined++;
		if (q[i].is_head)
			g->c.head++;
		if (q[i].attack != GEN_ATK_NONE) {
			g->c.attacks[q[i].attack]++;
			record_attack(g, f, &q[i], g->reqbuf.p + qoff[i]);
		}
	}
	f->req_done += n;

	const uint8_t *rb = (const uint8_t *)g->reqbuf.p;
	uint64_t t = f->t;
	uint32_t srv_ack = 20 + gen_below(&g->rng, 40);
	uint64_t proc = 150 + exp_us(&g->rng, 2500);
	if (n == 1 && q[0].expect_continue) {
		g->c.expect++;
		g->c.interim++;
		t = send_message(g, f, 1, rb, q[0].head_len, NULL, 0, NULL, 0, t, srv_ack, 0);
		g->respbuf.len = 0;
		gen_http_continue(&g->respbuf);
		g->c.response_bytes += g->respbuf.len;
		t += 100 + gen_below(&g->rng, 400);
		t = send_message(g, f, 0, (const uint8_t *)g->respbuf.p, g->respbuf.len,
				 NULL, 0, NULL, 0, t, f->rtt_us, 0);
		t += f->rtt_us + 20 + gen_below(&g->rng, 100);
		t = send_message(g, f, 1, rb + q[0].head_len,
				 q[0].total_len - q[0].head_len, NULL, 0, NULL, 0, t, srv_ack, 0);
	} else {
		/* A client that writes headers and body separately puts a
		 * write boundary (PSH) between them. */
		size_t cut = q[0].head_len;
		int ncut = n == 1 && q[0].total_len > q[0].head_len &&
			   gen_chance(&g->rng, 0.3);
		t = send_message(g, f, 1, rb, g->reqbuf.len, &cut, ncut, NULL, 0, t,
				 srv_ack, 0);
	}

	/*
	 * Two concessions to tshark 4.0 (which the tests use as the
	 * reference dissector), both valid HTTP either way:
	 *  - a chunked response starts a new server write (segment) instead
	 *    of following a pipelined response mid-segment: tshark marks a
	 *    chunked PDU that starts mid-segment and spans segments as
	 *    malformed;
	 *  - the final "0\r\n\r\n" of a chunked body is never split:
	 *    tshark throws on a terminator cut inside its CRLFs.
	 * Content-Length responses still follow each other mid-segment.
	 */
	size_t cuts[MAX_PIPELINE], keep[2 * MAX_PIPELINE];
	int ncuts = 0, nkeep = 0;
	g->respbuf.len = 0;
	t += proc;
	for (uint32_t i = 0; i < n; i++) {
		struct gen_resp_info ri;
		int chunked = f->force.chunked || gen_chance(&g->rng, g->o.chunked_share);
		size_t start = g->respbuf.len;
		gen_http_response(&g->respbuf, &g->rng, &f->ident, &q[i], chunked,
				  t, &ri);
		g->c.responses++;
		g->c.status[ri.status]++;
		if (ri.chunked) {
			g->c.chunked++;
			if (start)
				cuts[ncuts++] = start;
			keep[2 * nkeep] = g->respbuf.len - 5;
			keep[2 * nkeep + 1] = g->respbuf.len;
			nkeep++;
		}
	}
	g->c.response_bytes += g->respbuf.len;
	t = send_message(g, f, 0, (const uint8_t *)g->respbuf.p, g->respbuf.len,
			 cuts, ncuts, keep, nkeep, t, f->rtt_us, !conn_close);
	if (conn_close) {
		g->c.conn_close++;
		server_close(g, f, t);
		return;
	}
	uint64_t next = t + f->rtt_us + 300 + exp_us(&g->rng, g->o.think_us);
	uint64_t end = step_end(f);
	f->t = next > end ? next : end;
	if (f->req_done == f->req_total)
		f->state = ST_CLOSE;
}

/* Generates the flow's next step into its (empty) queue. */
static void flow_step(struct gen *g, struct flow *f)
{
	f->qn = f->qhead = 0;
	f->qbuf.len = 0;
	switch (f->state) {
	case ST_HANDSHAKE:
		step_handshake(g, f);
		break;
	case ST_EXCHANGE:
		step_exchange(g, f);
		break;
	case ST_CLOSE:
		step_client_close(g, f);
		break;
	}
	sort_queue(f);
}

/* ---- flow creation ---- */

static void init_clients(struct gen *g)
{
	/* Distinct addresses in 198.18.0.0/16 via an odd-multiplier walk;
	 * skip .0 and .255 host bytes so nothing looks like a broadcast. */
	uint32_t mul = (uint32_t)(gen_rand64(&g->rng) | 1) & 0xffff;
	uint32_t add = (uint32_t)gen_rand64(&g->rng) & 0xffff;
	size_t n = 0;
	for (uint32_t i = 0; n < CLIENT_POOL; i++) {
		uint32_t low = (i * mul + add) & 0xffff;
		if ((low & 0xff) == 0 || (low & 0xff) == 255)
			continue;
		g->client_ip[n] = (198u << 24) | (18u << 16) | low;
		g->client_port[n] = (uint16_t)gen_range(&g->rng, 32768, 60999);
		n++;
	}
}

static struct flow *flow_new(struct gen *g, uint64_t start)
{
	struct flow *f = calloc(1, sizeof(*f));
	if (!f) {
		fprintf(stderr, "apiguard-gen: out of memory\n");
		exit(1);
	}
	struct gen_rng *r = &g->rng;
	f->id = g->flows_started++;
	f->force.attack = GEN_ATK_NONE;
	if (g->o.scenario == SCEN_DEMO) {
		/* Odd flows carry one attack each; even ones show features. */
		uint64_t i = f->id;
		if (i % 2 == 1 && (i - 1) / 2 < (uint64_t)g->n_enabled)
			f->force.attack = g->enabled[(i - 1) / 2];
		f->force.pipeline = i == 2 || i == 12;
		f->force.expect = i == 4 || i == 14;
		f->force.head = i == 6;
		f->force.chunked = i == 8 || i == 12;
		f->force.conn_close = i == 10;
		f->force.small_split = i == 16;
		f->force.ipv6 = i == 18;
		f->force.vlan = i == 14;
	}

	if (g->o.scenario == SCEN_BEHAV)
		f->sess = &g->scn.s[g->scn_next++];
	unsigned srv = f->sess ? 0 : gen_below(r, N_SERVERS);
	unsigned ci = gen_below(r, CLIENT_POOL);
	f->ep.ipv6 = !f->sess && (f->force.ipv6 || gen_chance(r, g->o.ipv6_share));
	f->ep.vlan = !f->sess && (f->force.vlan || gen_chance(r, g->o.vlan_share));
	f->ep.vlan_id = (uint16_t)(100 + gen_below(r, 4));
	memcpy(f->ep.client_mac, CLIENT_MAC, 6);
	memcpy(f->ep.server_mac, SERVER_MAC, 6);
	if (f->ep.ipv6) {
		static const uint8_t cpre[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x18 };
		static const uint8_t spre[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x19 };
		memcpy(f->ep.client_ip, cpre, 6);
		/* Subnet from the pool index, interface id from the IPv4 pick,
		 * so each pool client has one stable IPv6 address. */
		f->ep.client_ip[6] = (uint8_t)(ci >> 8);
		f->ep.client_ip[7] = (uint8_t)ci;
		uint32_t v4 = g->client_ip[ci];
		f->ep.client_ip[12] = (uint8_t)(v4 >> 24) ^ 0x02;
		f->ep.client_ip[13] = (uint8_t)(v4 >> 16);
		f->ep.client_ip[14] = (uint8_t)(v4 >> 8);
		f->ep.client_ip[15] = (uint8_t)v4;
		memcpy(f->ep.server_ip, spre, 6);
		f->ep.server_ip[15] = (uint8_t)(10 + srv);
	} else {
		uint32_t v4 = f->sess ? f->sess->client_ip : g->client_ip[ci];
		f->ep.client_ip[0] = (uint8_t)(v4 >> 24);
		f->ep.client_ip[1] = (uint8_t)(v4 >> 16);
		f->ep.client_ip[2] = (uint8_t)(v4 >> 8);
		f->ep.client_ip[3] = (uint8_t)v4;
		f->ep.server_ip[0] = 198;
		f->ep.server_ip[1] = 19;
		f->ep.server_ip[2] = 0;
		f->ep.server_ip[3] = (uint8_t)(10 + srv);
	}
	/* Sequential ephemeral ports per client (like Linux) keep 4-tuples
	 * unique until a client has opened 28k connections. */
	f->ep.client_port = g->client_port[ci];
	g->client_port[ci] = g->client_port[ci] >= 60999 ? 32768
							 : (uint16_t)(g->client_port[ci] + 1);
	f->ep.server_port = g->o.server_port;

	f->cseq = (uint32_t)gen_rand64(r);
	f->sseq = (uint32_t)gen_rand64(r);
	f->cipid = (uint16_t)gen_rand64(r);
	f->sipid = (uint16_t)gen_rand64(r);
	f->cttl = (uint8_t)(gen_chance(r, 0.3) ? 128 - gen_range(r, 5, 20)
					      : 64 - gen_range(r, 3, 20));
	/* RTT log-uniform between 0.3 ms and ~40 ms. */
	f->rtt_us = (uint32_t)(300.0 * exp(gen_unit(r) * 4.9));
	f->req_total = gen_range(r, g->o.req_min, g->o.req_max);
	if (f->sess) {
		/* Scripted clients: the session's own address and count; the
		 * flow id keeps 4-tuples unique below 28232 sessions. */
		f->req_total = f->sess->count;
		f->ep.client_port = (uint16_t)(32768 + (f->sess->client_ip * 2654435761u + f->id) % 28232);
	}
	if (f->force.pipeline && f->req_total < 3)
		f->req_total = 3;
	if (f->force.attack != GEN_ATK_NONE)
		f->force.attack_at = (int)gen_below(r, f->req_total);
	f->small_split = g->o.split == SPLIT_SMALL || f->force.small_split ||
			 (f->sess && f->sess->small_split);
	f->t = start;
	gen_ident_init(&f->ident, r, srv, start / 1000000);

	g->c.flows++;
	if (f->ep.ipv6)
		g->c.ipv6_flows++;
	if (f->ep.vlan)
		g->c.vlan_flows++;
	return f;
}

static void flow_free(struct flow *f)
{
	free(f->q);
	free(f->qbuf.p);
	free(f);
}

/* ---- heap of flows keyed by their next packet time ---- */

static int flow_before(const struct flow *a, const struct flow *b)
{
	uint64_t ta = a->q[a->qhead].ts, tb = b->q[b->qhead].ts;
	return ta < tb || (ta == tb && a->id < b->id);
}

static void heap_down(struct gen *g, size_t i)
{
	struct flow **h = g->heap;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < g->heap_n && flow_before(h[l], h[m]))
			m = l;
		if (l + 1 < g->heap_n && flow_before(h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct flow *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_push(struct gen *g, struct flow *f)
{
	if (g->heap_n == g->heap_cap) {
		g->heap_cap = g->heap_cap ? g->heap_cap * 2 : 64;
		g->heap = xrealloc(g->heap, g->heap_cap * sizeof(*g->heap));
	}
	size_t i = g->heap_n++;
	g->heap[i] = f;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!flow_before(g->heap[i], g->heap[p]))
			break;
		struct flow *t = g->heap[i];
		g->heap[i] = g->heap[p];
		g->heap[p] = t;
		i = p;
	}
}

static void heap_pop(struct gen *g)
{
	g->heap[0] = g->heap[--g->heap_n];
	if (g->heap_n)
		heap_down(g, 0);
}

/* ---- main loop ---- */

static int may_start_flow(const struct gen *g)
{
	if (g->o.scenario == SCEN_BEHAV)
		return g->scn_next < g->scn.ns;
	if (g->o.packets)
		return g->c.packets < g->o.packets;
	return g->flows_started < g->o.flows;
}

static int run(struct gen *g, struct gen_pcap *w)
{
	uint64_t last = BASE_TIME_US;
	g->next_start = BASE_TIME_US;
	if (g->o.scenario == SCEN_BEHAV && g->scn.ns)
		g->next_start = BASE_TIME_US + g->scn.s[0].start_us;
	for (;;) {
		struct flow *top = g->heap_n ? g->heap[0] : NULL;
		if (may_start_flow(g) &&
		    (!top || g->next_start <= top->q[top->qhead].ts)) {
			uint64_t start = g->next_start > last ? g->next_start : last;
			struct flow *f = flow_new(g, start);
			flow_step(g, f);
			heap_push(g, f);
			if (g->o.scenario == SCEN_BEHAV)
				g->next_start = g->scn_next < g->scn.ns
					? BASE_TIME_US + g->scn.s[g->scn_next].start_us : UINT64_MAX;
			else
				g->next_start += 1 + exp_us(&g->rng, g->o.flow_gap_us);
			continue;
		}
		if (!top)
			break;
		struct qpkt *p = &top->q[top->qhead++];
		int rc = gen_pcap_write(w, p->ts, top->qbuf.p + p->off, p->len);
		if (rc)
			return rc;
		if (!g->c.packets)
			g->c.first_ts = p->ts;
		last = p->ts;
		g->c.packets++;
		g->c.bytes += p->len;
		if (top->qhead == top->qn) {
			if (top->state == ST_DONE) {
				heap_pop(g);
				flow_free(top);
				continue;
			}
			flow_step(g, top);
		}
		heap_down(g, 0);
	}
	g->c.last_ts = last;
	return 0;
}

/* ---- manifest ---- */

static int write_manifest(const struct gen *g, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	const struct counts *c = &g->c;
	fprintf(f, "{\n  \"generator\": \"apiguard-gen\",\n  \"seed\": %llu,\n",
		(unsigned long long)g->o.seed);
	fprintf(f, "  \"packets\": %llu,\n  \"bytes\": %llu,\n  \"flows\": %llu,\n",
		(unsigned long long)c->packets, (unsigned long long)c->bytes,
		(unsigned long long)c->flows);
	fprintf(f, "  \"requests\": %llu,\n  \"responses\": %llu,\n"
		   "  \"transactions\": %llu,\n  \"interim_responses\": %llu,\n",
		(unsigned long long)c->requests, (unsigned long long)c->responses,
		(unsigned long long)c->responses, (unsigned long long)c->interim);
	fprintf(f, "  \"ipv6_flows\": %llu,\n  \"vlan_flows\": %llu,\n"
		   "  \"chunked_responses\": %llu,\n  \"head_requests\": %llu,\n"
		   "  \"expect_continue_requests\": %llu,\n  \"pipelined_requests\": %llu,\n"
		   "  \"connection_close_flows\": %llu,\n  \"out_of_order_messages\": %llu,\n"
		   "  \"bad_checksum_packets\": %llu,\n  \"request_bytes\": %llu,\n"
		   "  \"response_bytes\": %llu,\n",
		(unsigned long long)c->ipv6_flows, (unsigned long long)c->vlan_flows,
		(unsigned long long)c->chunked, (unsigned long long)c->head,
		(unsigned long long)c->expect, (unsigned long long)c->pipelined,
		(unsigned long long)c->conn_close, (unsigned long long)c->ooo_messages,
		(unsigned long long)c->bad_csum, (unsigned long long)c->request_bytes,
		(unsigned long long)c->response_bytes);
	fprintf(f, "  \"first_ts_us\": %llu,\n  \"last_ts_us\": %llu,\n",
		(unsigned long long)c->first_ts, (unsigned long long)c->last_ts);
	fprintf(f, "  \"status\": {");
	int first = 1;
	for (int s = 0; s < 600; s++)
		if (c->status[s]) {
			fprintf(f, "%s\"%d\": %llu", first ? "" : ", ", s,
				(unsigned long long)c->status[s]);
			first = 0;
		}
	fprintf(f, "},\n  \"scenario\": \"%s\",\n  \"behaviour\": %s,\n",
		g->o.scenario_name, g->o.scenario == SCEN_BEHAV ? "true" : "false");
	uint64_t total = 0;
	if (g->o.scenario == SCEN_BEHAV) {
		const struct gen_scn *sc = &g->scn;
		fprintf(f, "  \"benign_twin\": %s,\n  \"benign_users\": %u,\n"
			   "  \"jwt_hs256_secret\": \"%s\",\n",
			sc->benign_twin ? "true" : "false", sc->users, GEN_SCN_JWT_SECRET);
		/* settings the appliance must run with (its detectors.json) */
		fprintf(f, "  \"detector_settings\": %s,\n  \"expected_sids\": [",
			sc->settings ? sc->settings : "null");
		for (int i = 0; i < sc->nsids; i++)
			fprintf(f, "%s%u", i ? ", " : "", sc->sids[i]);
		fprintf(f, "],\n  \"kind_sids\": {");
		for (int k = 0; k < sc->nkinds; k++) {
			const uint32_t *ks = gen_scn_kind_sids(sc->kinds[k]);
			fprintf(f, "%s\"%s\": [", k ? ", " : "", sc->kinds[k]);
			for (int i = 0; i < 3 && ks[i]; i++)
				fprintf(f, "%s%u", i ? ", " : "", ks[i]);
			fprintf(f, "]");
		}
		fprintf(f, "},\n  \"attacks\": {");
		for (int k = 0; k < sc->nkinds; k++) {
			fprintf(f, "%s\"%s\": %llu", k ? ", " : "", sc->kinds[k],
				(unsigned long long)c->scn_attacks[k]);
			total += c->scn_attacks[k];
		}
	} else {
		fprintf(f, "  \"expected_sids\": [],\n  \"attacks\": {");
		for (int k = 0; k < GEN_ATK_COUNT; k++) {
			fprintf(f, "%s\"%s\": %llu", k ? ", " : "", gen_attack_name(k),
				(unsigned long long)c->attacks[k]);
			total += c->attacks[k];
		}
	}
	fprintf(f, "},\n  \"attack_total\": %llu,\n  \"attack_requests\": [\n",
		(unsigned long long)total);
	if (g->attack_json.len)
		fwrite(g->attack_json.p, 1, g->attack_json.len, f);
	fprintf(f, "%s  ]\n}\n", g->attack_json.len ? "\n" : "");
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

/* ---- options ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: apiguard-gen -o OUT.pcap [options]\n"
		"  --flows N              TCP sessions to write (default 100)\n"
		"  --requests-per-flow N|A-B  requests per session (default 1-8)\n"
		"  --packets N            keep starting sessions until N packets are written\n"
		"  --seed S               PRNG seed (default 1)\n"
		"  --attack-share F       share of requests replaced by attacks (default 0.05)\n"
		"  --attacks LIST         comma list of: sqli,traversal,log4shell,scanner,xss,\n"
		"                         ssrf,cmdi,jwt_none,admin,apikey_url (default all)\n"
		"  --chunked-share F      share of responses sent chunked (default 0.15)\n"
		"  --pipeline-share F     share of exchanges pipelined (default 0.1)\n"
		"  --expect-share F       share of body requests using 100-continue (default 0.1)\n"
		"  --head-share F         share of HEAD requests (default 0.03)\n"
		"  --close-share F        share of sessions ending with Connection: close (default 0.2)\n"
		"  --split small|mss      segment at MSS, or into small random pieces\n"
		"  --mss N                MSS (64-9000, default 1460)\n"
		"  --ooo-share F          share of messages with reordered segments (default 0)\n"
		"  --bad-csum-share F     share of data segments with a bad TCP checksum (default 0)\n"
		"  --ipv6-share F         share of IPv6 sessions (default 0)\n"
		"  --vlan-share F         share of 802.1Q-tagged sessions (default 0)\n"
		"  --server-port P        server TCP port (default 80)\n"
		"  --flow-gap-us F        mean gap between session starts (default 1500)\n"
		"  --think-us F           mean client think time (default 5000)\n"
		"  --manifest OUT.json    write exact counts and all attack requests\n"
		"  --scenario NAME        preset: demo (~20 readable flows, one of each attack),\n"
		"                         mix, behaviour-demo, or a behaviour scenario (and its\n"
		"                         NAME-benign twin); --scenario list prints them\n");
}

static int parse_u64(const char *name, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "apiguard-gen: --%s: '%s' is not an integer in [%llu, %llu]\n",
			name, s, (unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_share(const char *name, const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0)) {
		fprintf(stderr, "apiguard-gen: --%s: '%s' is not a number in [0, 1]\n", name, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_pos_double(const char *name, const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 1.0 && v <= 1e9)) {
		fprintf(stderr, "apiguard-gen: --%s: '%s' is not a number in [1, 1e9]\n", name, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_range(const char *s, uint32_t *lo, uint32_t *hi)
{
	char a[32];
	const char *dash = strchr(s, '-');
	uint64_t x, y;
	if (!dash) {
		if (parse_u64("requests-per-flow", s, 1, 10000, &x))
			return -EINVAL;
		*lo = *hi = (uint32_t)x;
		return 0;
	}
	size_t n = (size_t)(dash - s);
	if (n == 0 || n >= sizeof(a)) {
		fprintf(stderr, "apiguard-gen: --requests-per-flow: '%s' is not N or A-B\n", s);
		return -EINVAL;
	}
	memcpy(a, s, n);
	a[n] = 0;
	if (parse_u64("requests-per-flow", a, 1, 10000, &x) ||
	    parse_u64("requests-per-flow", dash + 1, 1, 10000, &y))
		return -EINVAL;
	if (x > y) {
		fprintf(stderr, "apiguard-gen: --requests-per-flow: range %s is reversed\n", s);
		return -EINVAL;
	}
	*lo = (uint32_t)x;
	*hi = (uint32_t)y;
	return 0;
}

static int parse_attacks(const char *s, int *enabled)
{
	char buf[256];
	if (strlen(s) >= sizeof(buf)) {
		fprintf(stderr, "apiguard-gen: --attacks: list too long\n");
		return -EINVAL;
	}
	strcpy(buf, s);
	memset(enabled, 0, sizeof(int) * GEN_ATK_COUNT);
	if (!strcmp(buf, "all")) {
		for (int k = 0; k < GEN_ATK_COUNT; k++)
			enabled[k] = 1;
		return 0;
	}
	if (!strcmp(buf, "none"))
		return 0;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k = gen_attack_by_name(tok);
		if (k == GEN_ATK_NONE) {
			fprintf(stderr, "apiguard-gen: --attacks: unknown kind '%s' (known:", tok);
			for (int i = 0; i < GEN_ATK_COUNT; i++)
				fprintf(stderr, " %s", gen_attack_name(i));
			fprintf(stderr, ")\n");
			return -EINVAL;
		}
		enabled[k] = 1;
	}
	return 0;
}

enum {
	OPT_FLOWS = 256, OPT_RPF, OPT_PACKETS, OPT_SEED, OPT_ATTACK_SHARE,
	OPT_ATTACKS, OPT_CHUNKED, OPT_PIPELINE, OPT_EXPECT, OPT_HEAD, OPT_CLOSE,
	OPT_SPLIT, OPT_MSS, OPT_OOO, OPT_BADCSUM, OPT_IPV6, OPT_VLAN,
	OPT_SPORT, OPT_MANIFEST, OPT_SCENARIO, OPT_GAP, OPT_THINK,
};

static const struct option long_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "flows", required_argument, NULL, OPT_FLOWS },
	{ "requests-per-flow", required_argument, NULL, OPT_RPF },
	{ "packets", required_argument, NULL, OPT_PACKETS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "attack-share", required_argument, NULL, OPT_ATTACK_SHARE },
	{ "attacks", required_argument, NULL, OPT_ATTACKS },
	{ "chunked-share", required_argument, NULL, OPT_CHUNKED },
	{ "pipeline-share", required_argument, NULL, OPT_PIPELINE },
	{ "expect-share", required_argument, NULL, OPT_EXPECT },
	{ "head-share", required_argument, NULL, OPT_HEAD },
	{ "close-share", required_argument, NULL, OPT_CLOSE },
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "mss", required_argument, NULL, OPT_MSS },
	{ "ooo-share", required_argument, NULL, OPT_OOO },
	{ "bad-csum-share", required_argument, NULL, OPT_BADCSUM },
	{ "ipv6-share", required_argument, NULL, OPT_IPV6 },
	{ "vlan-share", required_argument, NULL, OPT_VLAN },
	{ "server-port", required_argument, NULL, OPT_SPORT },
	{ "manifest", required_argument, NULL, OPT_MANIFEST },
	{ "scenario", required_argument, NULL, OPT_SCENARIO },
	{ "flow-gap-us", required_argument, NULL, OPT_GAP },
	{ "think-us", required_argument, NULL, OPT_THINK },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void set_defaults(struct opts *o, int scenario)
{
	memset(o, 0, sizeof(*o));
	o->flows = 100;
	o->req_min = 1;
	o->req_max = 8;
	o->seed = 1;
	o->attack_share = 0.05;
	for (int k = 0; k < GEN_ATK_COUNT; k++)
		o->attack_enabled[k] = 1;
	o->chunked_share = 0.15;
	o->pipeline_share = 0.1;
	o->expect_share = 0.1;
	o->head_share = 0.03;
	o->close_share = 0.2;
	o->split = SPLIT_MSS;
	o->mss = 1460;
	o->server_port = 80;
	o->flow_gap_us = 1500;
	o->think_us = 5000;
	o->scenario = scenario;
	if (scenario == SCEN_MIX) {
		o->ipv6_share = 0.15;
		o->vlan_share = 0.1;
		o->chunked_share = 0.25;
		o->pipeline_share = 0.15;
	} else if (scenario == SCEN_DEMO) {
		/* Few, readable flows; attacks come from the forced schedule. */
		o->flows = 20;
		o->req_min = 2;
		o->req_max = 5;
		o->attack_share = 0;
		o->chunked_share = 0.1;
		o->pipeline_share = 0;
		o->expect_share = 0;
		o->head_share = 0;
		o->close_share = 0;
		o->flow_gap_us = 40000;
		o->think_us = 30000;
	}
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	/* First pass: the scenario sets defaults the other options refine. */
	int scenario = SCEN_DEFAULT, c;
	const char *scenario_name = "default";
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1)
		if (c == OPT_SCENARIO) {
			if (!strcmp(optarg, "demo"))
				scenario = SCEN_DEMO;
			else if (!strcmp(optarg, "mix"))
				scenario = SCEN_MIX;
			else if (gen_scn_known(optarg))
				scenario = SCEN_BEHAV;
			else if (!strcmp(optarg, "list")) {
				printf("demo mix ");
				gen_scn_list(stdout);
				exit(0);
			} else {
				fprintf(stderr, "apiguard-gen: --scenario: unknown '%s' (try --scenario list)\n",
					optarg);
				return -EINVAL;
			}
			scenario_name = optarg;
		}
	set_defaults(o, scenario);
	o->scenario_name = scenario_name;
	optind = 0; /* GNU: re-initialise getopt */
	opterr = 1;
	uint64_t v;
	int rc = 0;
	while (!rc && (c = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'h': usage(stdout); exit(0);
		case OPT_FLOWS:
			rc = parse_u64("flows", optarg, 1, 100000000, &o->flows);
			o->flows_set = 1;
			break;
		case OPT_RPF: rc = parse_range(optarg, &o->req_min, &o->req_max); break;
		case OPT_PACKETS: rc = parse_u64("packets", optarg, 1, 10000000000ULL, &o->packets); break;
		case OPT_SEED: rc = parse_u64("seed", optarg, 0, UINT64_MAX, &o->seed); break;
		case OPT_ATTACK_SHARE: rc = parse_share("attack-share", optarg, &o->attack_share); break;
		case OPT_ATTACKS: rc = parse_attacks(optarg, o->attack_enabled); break;
		case OPT_CHUNKED: rc = parse_share("chunked-share", optarg, &o->chunked_share); break;
		case OPT_PIPELINE: rc = parse_share("pipeline-share", optarg, &o->pipeline_share); break;
		case OPT_EXPECT: rc = parse_share("expect-share", optarg, &o->expect_share); break;
		case OPT_HEAD: rc = parse_share("head-share", optarg, &o->head_share); break;
		case OPT_CLOSE: rc = parse_share("close-share", optarg, &o->close_share); break;
		case OPT_SPLIT:
			if (!strcmp(optarg, "small"))
				o->split = SPLIT_SMALL;
			else if (!strcmp(optarg, "mss"))
				o->split = SPLIT_MSS;
			else {
				fprintf(stderr, "apiguard-gen: --split: '%s' is not small or mss\n", optarg);
				rc = -EINVAL;
			}
			break;
		case OPT_MSS:
			rc = parse_u64("mss", optarg, 64, 9000, &v);
			o->mss = (uint32_t)v;
			break;
		case OPT_OOO: rc = parse_share("ooo-share", optarg, &o->ooo_share); break;
		case OPT_BADCSUM: rc = parse_share("bad-csum-share", optarg, &o->bad_csum_share); break;
		case OPT_IPV6: rc = parse_share("ipv6-share", optarg, &o->ipv6_share); break;
		case OPT_VLAN: rc = parse_share("vlan-share", optarg, &o->vlan_share); break;
		case OPT_SPORT:
			rc = parse_u64("server-port", optarg, 1, 65535, &v);
			o->server_port = (uint16_t)v;
			break;
		case OPT_MANIFEST: o->manifest = optarg; break;
		case OPT_SCENARIO: break;
		case OPT_GAP: rc = parse_pos_double("flow-gap-us", optarg, &o->flow_gap_us); break;
		case OPT_THINK: rc = parse_pos_double("think-us", optarg, &o->think_us); break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (rc)
		return rc;
	if (optind < argc) {
		fprintf(stderr, "apiguard-gen: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->out) {
		fprintf(stderr, "apiguard-gen: -o OUT.pcap is required\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct gen g; /* large: client pool and counters */
	if (parse_opts(argc, argv, &g.o))
		return 2;
	gen_rng_seed(&g.rng, g.o.seed);
	for (int k = 0; k < GEN_ATK_COUNT; k++)
		if (g.o.attack_enabled[k])
			g.enabled[g.n_enabled++] = k;
	init_clients(&g);
	if (g.o.scenario == SCEN_BEHAV &&
	    gen_scn_build(&g.scn, g.o.scenario_name, g.o.seed, BASE_TIME_US)) {
		fprintf(stderr, "apiguard-gen: cannot build scenario %s\n", g.o.scenario_name);
		return 2;
	}

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct gen_pcap *w = gen_pcap_open(g.o.out);
	if (!w) {
		fprintf(stderr, "apiguard-gen: %s: %s\n", g.o.out, strerror(errno));
		return 1;
	}
	int rc = run(&g, w);
	int crc = gen_pcap_close(w);
	if (rc || crc) {
		fprintf(stderr, "apiguard-gen: writing %s failed: %s\n", g.o.out,
			strerror(-(rc ? rc : crc)));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (g.o.manifest) {
		rc = write_manifest(&g, g.o.manifest);
		if (rc) {
			fprintf(stderr, "apiguard-gen: %s: %s\n", g.o.manifest, strerror(-rc));
			return 1;
		}
	}
	uint64_t atk = 0;
	for (int k = 0; k < GEN_ATK_COUNT; k++)
		atk += g.c.attacks[k];
	for (int k = 0; k < GEN_SCN_MAX_KINDS; k++)
		atk += g.c.scn_attacks[k];
	fprintf(stderr,
		"apiguard-gen: %s: %llu packets, %llu bytes, %llu flows, %llu requests "
		"(%llu attacks) in %.3f s (%.0f pkt/s)\n",
		g.o.out, (unsigned long long)g.c.packets, (unsigned long long)g.c.bytes,
		(unsigned long long)g.c.flows, (unsigned long long)g.c.requests,
		(unsigned long long)atk, secs, secs > 0 ? (double)g.c.packets / secs : 0.0);
	free(g.attack_json.p);
	free(g.reqbuf.p);
	free(g.respbuf.p);
	free(g.segs);
	free(g.perm);
	free(g.recv);
	free(g.heap);
	gen_scn_free(&g.scn);
	return 0;
}
