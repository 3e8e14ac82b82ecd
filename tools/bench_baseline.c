/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-baseline: the reference point for apiguard's per-transaction cost.
 *
 * It reads a capture with libpcap, rebuilds every TCP stream (payload bytes
 * per direction per flow, in sequence order, keeping the segment boundaries
 * the sender used) and then times three passes over exactly those bytes:
 *
 *   llhttp  llhttp alone parses every request and response stream, fed
 *           segment by segment as apiguard's reassembler feeds it;
 *   hs      a bare Hyperscan block scan of every segment with one literal
 *           database made of the content strings of the given rule files;
 *   both    the two together, segment by segment.
 *
 * What it leaves out on purpose (apiguard has to pay for all of it): packet
 * I/O, L2-L4 parsing, checksums, flow lookup, reassembly, buffer building
 * (URI normalisation, header buffers), rules without a literal (pcre only),
 * confirmation of candidates and alert output. The ratio of apiguard's cost
 * to "both" is the figure docs/BENCHMARKS.md reports.
 *
 * The passes are noinline functions (bb_pass_*) so that callgrind can give
 * their inclusive instruction counts: run with -n 1 under
 * valgrind --tool=callgrind and read bb_pass_llhttp/bb_pass_hs/bb_pass_both.
 *
 * Usage: bench-baseline [-n RUNS] [-S RULES]... CAPTURE.pcap
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs/hs.h>
#include <llhttp.h>
#include <pcap/pcap.h>

#define BB_BUCKETS (1u << 18)
#define BB_MAX_LITERALS 4096
#define BB_MAX_RUNS 50

/* One direction of one TCP connection: the payload, contiguous, plus the
 * length of each segment it came in. */
struct bb_dir {
	uint8_t *data;
	size_t len, cap;
	uint32_t *seg;
	size_t n_seg, seg_cap;
	uint32_t next_seq;
	bool have_seq;
};

struct bb_key {
	uint8_t addr[2][16]; /* [0] = client, [1] = server */
	uint16_t port[2];
	uint8_t v6;
};

struct bb_flow {
	struct bb_key key;
	struct bb_dir d[2]; /* [0] client->server, [1] server->client */
	struct bb_flow *hnext;
};

struct bb_capture {
	struct bb_flow **bucket;
	struct bb_flow **flows;
	size_t n_flows, flows_cap;
	uint64_t packets, frame_bytes, payload_bytes, segments;
	uint64_t skipped_ooo, skipped_other;
};

/* Per-flow parse state shared by the request and response parsers: the
 * response parser needs each request's method (a response to HEAD has no
 * body even when it carries Content-Length). */
struct bb_http {
	uint8_t *methods;
	size_t n_methods, cap, next_resp;
	uint64_t requests, responses, interim, errors;
};

struct bb_literals {
	char *lit[BB_MAX_LITERALS];
	size_t len[BB_MAX_LITERALS];
	unsigned flags[BB_MAX_LITERALS];
	unsigned n, caseless;
};

static void *
bb_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fprintf(stderr, "bench-baseline: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return q;
}

static double
bb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- capture loading ---------------------------------------------------- */

static uint32_t
bb_hash(const uint8_t *a, const uint8_t *b, uint16_t pa, uint16_t pb)
{
	/* Symmetric: both directions of a connection land in one bucket. */
	uint32_t h = 2166136261u, x = 0;
	int i;

	for (i = 0; i < 16; i++)
		x += (uint32_t)(a[i] ^ b[i]) * (uint32_t)(i + 1) + (uint32_t)(a[i] + b[i]);
	h = (h ^ x) * 16777619u;
	h = (h ^ (uint32_t)(pa ^ pb)) * 16777619u;
	h = (h ^ (uint32_t)(pa + pb)) * 16777619u;
	return h & (BB_BUCKETS - 1);
}

static struct bb_flow *
bb_flow_find(struct bb_capture *c, const uint8_t *src, const uint8_t *dst, uint16_t sp,
	     uint16_t dp, uint8_t v6, int *dir)
{
	struct bb_flow *f;

	for (f = c->bucket[bb_hash(src, dst, sp, dp)]; f != NULL; f = f->hnext) {
		if (f->key.v6 != v6)
			continue;
		if (f->key.port[0] == sp && f->key.port[1] == dp &&
		    memcmp(f->key.addr[0], src, 16) == 0 && memcmp(f->key.addr[1], dst, 16) == 0) {
			*dir = 0;
			return f;
		}
		if (f->key.port[0] == dp && f->key.port[1] == sp &&
		    memcmp(f->key.addr[0], dst, 16) == 0 && memcmp(f->key.addr[1], src, 16) == 0) {
			*dir = 1;
			return f;
		}
	}
	return NULL;
}

static struct bb_flow *
bb_flow_new(struct bb_capture *c, const uint8_t *cli, const uint8_t *srv, uint16_t cp,
	    uint16_t sp, uint8_t v6)
{
	struct bb_flow *f = calloc(1, sizeof(*f));
	uint32_t h = bb_hash(cli, srv, cp, sp);

	if (f == NULL) {
		fprintf(stderr, "bench-baseline: out of memory\n");
		exit(1);
	}
	memcpy(f->key.addr[0], cli, 16);
	memcpy(f->key.addr[1], srv, 16);
	f->key.port[0] = cp;
	f->key.port[1] = sp;
	f->key.v6 = v6;
	/* Newest first: a reused 4-tuple (new SYN) shadows the old connection. */
	f->hnext = c->bucket[h];
	c->bucket[h] = f;
	if (c->n_flows == c->flows_cap) {
		c->flows_cap = c->flows_cap ? c->flows_cap * 2 : 1024;
		c->flows = bb_xrealloc(c->flows, c->flows_cap * sizeof(*c->flows));
	}
	c->flows[c->n_flows++] = f;
	return f;
}

static void
bb_dir_append(struct bb_dir *d, const uint8_t *p, uint32_t n)
{
	if (d->len + n > d->cap) {
		d->cap = (d->len + n) * 2 + 4096;
		d->data = bb_xrealloc(d->data, d->cap);
	}
	memcpy(d->data + d->len, p, n);
	d->len += n;
	if (d->n_seg == d->seg_cap) {
		d->seg_cap = d->seg_cap ? d->seg_cap * 2 : 16;
		d->seg = bb_xrealloc(d->seg, d->seg_cap * sizeof(*d->seg));
	}
	d->seg[d->n_seg++] = n;
}

static void
bb_tcp(struct bb_capture *c, const uint8_t *src, const uint8_t *dst, uint8_t v6,
       const uint8_t *tcp, size_t tcp_len)
{
	uint16_t sp, dp;
	uint32_t seq, off;
	uint8_t fl;
	struct bb_flow *f;
	struct bb_dir *d;
	int dir = 0;
	int32_t delta;
	const uint8_t *pl;
	uint32_t n;

	if (tcp_len < 20) {
		c->skipped_other++;
		return;
	}
	sp = (uint16_t)(tcp[0] << 8 | tcp[1]);
	dp = (uint16_t)(tcp[2] << 8 | tcp[3]);
	seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	off = (uint32_t)(tcp[12] >> 4) * 4;
	fl = tcp[13];
	if (off < 20 || off > tcp_len) {
		c->skipped_other++;
		return;
	}
	if ((fl & 0x02) && !(fl & 0x10)) {
		/* SYN from the client: a new connection. */
		f = bb_flow_new(c, src, dst, sp, dp, v6);
		f->d[0].next_seq = seq + 1;
		f->d[0].have_seq = true;
		return;
	}
	f = bb_flow_find(c, src, dst, sp, dp, v6, &dir);
	if (f == NULL) {
		/* Picked up mid-stream: the side talking to the lower port is
		 * taken to be the client. */
		if (sp > dp)
			f = bb_flow_new(c, src, dst, sp, dp, v6);
		else
			f = bb_flow_new(c, dst, src, dp, sp, v6);
		dir = sp > dp ? 0 : 1;
	}
	d = &f->d[dir];
	if (fl & 0x02) {
		/* SYN-ACK */
		d->next_seq = seq + 1;
		d->have_seq = true;
		return;
	}
	pl = tcp + off;
	n = (uint32_t)(tcp_len - off);
	if (n == 0)
		return;
	if (!d->have_seq) {
		d->next_seq = seq;
		d->have_seq = true;
	}
	delta = (int32_t)(seq - d->next_seq);
	if (delta > 0) {
		/* A gap (loss or reordering): the baseline keeps in-order bytes
		 * only and reports how many segments it skipped. */
		c->skipped_ooo++;
		return;
	}
	if (delta < 0) {
		if ((uint32_t)-delta >= n)
			return; /* a pure retransmission */
		pl += (uint32_t)-delta;
		n -= (uint32_t)-delta;
	}
	bb_dir_append(d, pl, n);
	d->next_seq += n;
	c->payload_bytes += n;
	c->segments++;
}

static void
bb_packet(struct bb_capture *c, const uint8_t *p, size_t len, int dlt)
{
	uint16_t et;
	size_t l3 = 0;
	uint8_t src[16] = { 0 }, dst[16] = { 0 };

	if (dlt == DLT_EN10MB) {
		if (len < 14)
			goto bad;
		et = (uint16_t)(p[12] << 8 | p[13]);
		l3 = 14;
		while (et == 0x8100 || et == 0x88a8) {
			if (len < l3 + 4)
				goto bad;
			et = (uint16_t)(p[l3 + 2] << 8 | p[l3 + 3]);
			l3 += 4;
		}
	} else {
		/* DLT_RAW: the version nibble says which IP. */
		if (len < 1)
			goto bad;
		et = (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
	}
	if (et == 0x0800) {
		size_t ihl, tot;

		if (len < l3 + 20)
			goto bad;
		ihl = (size_t)(p[l3] & 0x0f) * 4;
		tot = (size_t)(p[l3 + 2] << 8 | p[l3 + 3]);
		if (ihl < 20 || tot < ihl || len < l3 + tot || p[l3 + 9] != 6 ||
		    (p[l3 + 6] & 0x3f) != 0 || p[l3 + 7] != 0)
			goto bad; /* not TCP, truncated or a fragment */
		memcpy(src + 12, p + l3 + 12, 4);
		memcpy(dst + 12, p + l3 + 16, 4);
		bb_tcp(c, src, dst, 0, p + l3 + ihl, tot - ihl);
		return;
	}
	if (et == 0x86dd) {
		size_t plen;

		if (len < l3 + 40)
			goto bad;
		plen = (size_t)(p[l3 + 4] << 8 | p[l3 + 5]);
		if (p[l3 + 6] != 6 || len < l3 + 40 + plen)
			goto bad; /* extension headers are not followed */
		memcpy(src, p + l3 + 8, 16);
		memcpy(dst, p + l3 + 24, 16);
		bb_tcp(c, src, dst, 1, p + l3 + 40, plen);
		return;
	}
bad:
	c->skipped_other++;
}

static int
bb_load(struct bb_capture *c, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	int dlt, rc;

	p = pcap_open_offline(path, err);
	if (p == NULL) {
		fprintf(stderr, "bench-baseline: %s: %s\n", path, err);
		return -EINVAL;
	}
	dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB && dlt != DLT_RAW) {
		fprintf(stderr, "bench-baseline: %s: link type %d not supported\n", path, dlt);
		pcap_close(p);
		return -ENOTSUP;
	}
	c->bucket = calloc(BB_BUCKETS, sizeof(*c->bucket));
	if (c->bucket == NULL) {
		pcap_close(p);
		return -ENOMEM;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		c->packets++;
		c->frame_bytes += h->len;
		bb_packet(c, data, h->caplen, dlt);
	}
	if (rc == PCAP_ERROR)
		fprintf(stderr, "bench-baseline: %s: %s\n", path, pcap_geterr(p));
	pcap_close(p);
	return 0;
}

/* ---- rule literals ---------------------------------------------------- */

static int
bb_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes a Suricata content string starting after the opening quote:
 * |hex| blocks and the escapes \" \; \\ \:. Returns the position after the
 * closing quote, or NULL. */
static const char *
bb_content(const char *s, char *out, size_t *out_len, size_t cap)
{
	bool hex = false;
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		if (!hex && *s == '"') {
			*out_len = n;
			return s + 1;
		}
		if (*s == '|') {
			hex = !hex;
			continue;
		}
		if (n == cap)
			return NULL;
		if (hex) {
			int v = bb_hexval((unsigned char)*s);

			if (v < 0)
				continue; /* spaces between hex bytes */
			if (hi < 0) {
				hi = v;
			} else {
				out[n++] = (char)(hi << 4 | v);
				hi = -1;
			}
			continue;
		}
		if (*s == '\\' && s[1] != '\0')
			s++;
		out[n++] = *s;
	}
	return NULL;
}

static void
bb_add_literal(struct bb_literals *l, const char *lit, size_t len, bool nocase)
{
	unsigned i, fl = nocase ? HS_FLAG_CASELESS : 0;

	if (len == 0)
		return;
	for (i = 0; i < l->n; i++)
		if (l->len[i] == len && l->flags[i] == fl && memcmp(l->lit[i], lit, len) == 0)
			return;
	if (l->n == BB_MAX_LITERALS)
		return;
	l->lit[l->n] = bb_xrealloc(NULL, len);
	memcpy(l->lit[l->n], lit, len);
	l->len[l->n] = len;
	l->flags[l->n] = fl;
	l->caseless += nocase;
	l->n++;
}

/* One rule (continuation lines already joined): every positive content,
 * caseless when a "nocase" follows it before the next content. */
static void
bb_rule_literals(struct bb_literals *l, const char *rule)
{
	const char *s = strstr(rule, "content:");
	char buf[4096];
	size_t len;

	while (s != NULL) {
		const char *q = s + strlen("content:"), *end, *next;
		bool neg = false, nocase = false;

		while (*q == ' ')
			q++;
		if (*q == '!') {
			neg = true;
			q++;
		}
		if (*q != '"') {
			s = strstr(q, "content:");
			continue;
		}
		end = bb_content(q + 1, buf, &len, sizeof(buf));
		if (end == NULL)
			return;
		next = strstr(end, "content:");
		{
			const char *nc = strstr(end, "nocase");

			nocase = nc != NULL && (next == NULL || nc < next);
		}
		if (!neg)
			bb_add_literal(l, buf, len, nocase);
		s = next;
	}
}

static int
bb_load_rules(struct bb_literals *l, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *rule = NULL;
	size_t cap = 0, rlen = 0, rcap = 0;
	ssize_t n;

	if (f == NULL) {
		fprintf(stderr, "bench-baseline: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		bool cont;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (rlen == 0) {
			const char *t = line + strspn(line, " \t");

			if (*t == '#' || *t == '\0')
				continue;
		}
		cont = n > 0 && line[n - 1] == '\\';
		if (cont)
			line[--n] = '\0';
		if (rlen + (size_t)n + 2 > rcap) {
			rcap = (rlen + (size_t)n + 2) * 2;
			rule = bb_xrealloc(rule, rcap);
		}
		memcpy(rule + rlen, line, (size_t)n);
		rlen += (size_t)n;
		rule[rlen] = '\0';
		if (!cont) {
			bb_rule_literals(l, rule);
			rlen = 0;
		}
	}
	if (rlen > 0)
		bb_rule_literals(l, rule);
	free(line);
	free(rule);
	fclose(f);
	return 0;
}

/* ---- the timed passes ------------------------------------------------- */

static int
bb_on_request_complete(llhttp_t *p)
{
	struct bb_http *h = p->data;

	if (h->n_methods == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->methods = bb_xrealloc(h->methods, h->cap);
	}
	h->methods[h->n_methods++] = p->method;
	h->requests++;
	return 0;
}

static int
bb_on_response_headers(llhttp_t *p)
{
	struct bb_http *h = p->data;
	uint8_t method;

	if (p->status_code >= 100 && p->status_code < 200) {
		h->interim++;
		return 0;
	}
	method = h->next_resp < h->n_methods ? h->methods[h->next_resp] : HTTP_GET;
	h->next_resp++;
	/* 1 = "this message has no body". */
	return method == HTTP_HEAD ? 1 : 0;
}

static int
bb_on_response_complete(llhttp_t *p)
{
	struct bb_http *h = p->data;

	h->responses++;
	return 0;
}

static llhttp_settings_t bb_req_settings, bb_resp_settings;

static struct {
	hs_database_t *db;
	hs_scratch_t *scratch;
	uint64_t matches;
} bb_hs;

static int
bb_on_hit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(*(uint64_t *)ctx)++;
	return 0;
}

static void
bb_http_dir(llhttp_t *p, const struct bb_dir *d, struct bb_http *h, bool scan, bool parse,
	    bool resp)
{
	size_t i, off = 0;
	bool ok = parse;

	for (i = 0; i < d->n_seg; i++) {
		const char *b = (const char *)d->data + off;

		if (ok && llhttp_execute(p, b, d->seg[i]) != HPE_OK) {
			h->errors++;
			ok = false;
		}
		if (scan)
			hs_scan(bb_hs.db, b, d->seg[i], 0, bb_hs.scratch, bb_on_hit, &bb_hs.matches);
		off += d->seg[i];
	}
	/* A response read until the connection closes ends here. */
	if (ok && resp && llhttp_finish(p) != HPE_OK)
		h->errors++;
}

static void
bb_pass(const struct bb_capture *c, bool parse, bool scan, struct bb_http *tot)
{
	struct bb_http h = { 0 };
	llhttp_t req, resp;
	size_t i;

	memset(tot, 0, sizeof(*tot));
	bb_hs.matches = 0;
	for (i = 0; i < c->n_flows; i++) {
		const struct bb_flow *f = c->flows[i];

		h.n_methods = 0;
		h.next_resp = 0;
		if (parse) {
			llhttp_init(&req, HTTP_REQUEST, &bb_req_settings);
			llhttp_init(&resp, HTTP_RESPONSE, &bb_resp_settings);
			req.data = &h;
			resp.data = &h;
		}
		bb_http_dir(&req, &f->d[0], &h, scan, parse, false);
		bb_http_dir(&resp, &f->d[1], &h, scan, parse, true);
	}
	tot->requests = h.requests;
	tot->responses = h.responses;
	tot->interim = h.interim;
	tot->errors = h.errors;
	free(h.methods);
}

/* Separate noinline functions: one callgrind symbol per pass. */
__attribute__((noinline)) static void
bb_pass_llhttp(const struct bb_capture *c, struct bb_http *tot)
{
	bb_pass(c, true, false, tot);
}

__attribute__((noinline)) static void
bb_pass_hs(const struct bb_capture *c, struct bb_http *tot)
{
	bb_pass(c, false, true, tot);
}

__attribute__((noinline)) static void
bb_pass_both(const struct bb_capture *c, struct bb_http *tot)
{
	bb_pass(c, true, true, tot);
}

static int
bb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
bb_time(const char *name, void (*fn)(const struct bb_capture *, struct bb_http *),
	const struct bb_capture *c, int runs, uint64_t txns, struct bb_http *res)
{
	double t[BB_MAX_RUNS], med;
	int i;

	for (i = 0; i < runs; i++) {
		double t0 = bb_now();

		fn(c, res);
		t[i] = bb_now() - t0;
	}
	qsort(t, (size_t)runs, sizeof(t[0]), bb_cmp_double);
	med = t[runs / 2];
	printf("pass %-6s runs=%d median_s=%.6f best_s=%.6f GBps=%.3f Gbitps=%.3f "
	       "ns_per_txn=%.1f ns_per_packet=%.1f\n",
	       name, runs, med, t[0], (double)c->payload_bytes / med / 1e9,
	       (double)c->frame_bytes * 8 / med / 1e9, txns ? med * 1e9 / (double)txns : 0.0,
	       c->packets ? med * 1e9 / (double)c->packets : 0.0);
}

static void
bb_usage(void)
{
	fprintf(stderr, "usage: bench-baseline [-n RUNS] [-S RULES]... CAPTURE.pcap\n"
			"  -n RUNS   timed runs per pass, median reported (default 5, max %d)\n"
			"  -S RULES  rule file whose content strings form the literal database\n"
			"            (repeatable; default configs/rules/api-attacks.rules)\n",
		BB_MAX_RUNS);
}

int
main(int argc, char **argv)
{
	static struct bb_capture cap;
	static struct bb_literals lits;
	const char *rules[64];
	int n_rules = 0, runs = 5, opt, i;
	struct bb_http res;
	hs_compile_error_t *cerr = NULL;
	unsigned ids[BB_MAX_LITERALS];
	uint64_t txns;

	while ((opt = getopt(argc, argv, "n:S:h")) != -1) {
		switch (opt) {
		case 'n': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end != '\0' || v < 1 || v > BB_MAX_RUNS) {
				fprintf(stderr, "bench-baseline: -n: 1..%d\n", BB_MAX_RUNS);
				return 2;
			}
			runs = (int)v;
			break;
		}
		case 'S':
			if (n_rules == (int)(sizeof(rules) / sizeof(rules[0]))) {
				fprintf(stderr, "bench-baseline: too many -S\n");
				return 2;
			}
			rules[n_rules++] = optarg;
			break;
		default:
			bb_usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 != argc) {
		bb_usage();
		return 2;
	}
	if (n_rules == 0)
		rules[n_rules++] = "configs/rules/api-attacks.rules";
	for (i = 0; i < n_rules; i++)
		if (bb_load_rules(&lits, rules[i]) != 0)
			return 2;
	if (lits.n == 0) {
		fprintf(stderr, "bench-baseline: no content strings in the rule files\n");
		return 2;
	}
	for (i = 0; i < (int)lits.n; i++)
		ids[i] = (unsigned)i;
	if (hs_compile_lit_multi((const char *const *)lits.lit, lits.flags, ids, lits.len, lits.n,
				 HS_MODE_BLOCK, NULL, &bb_hs.db, &cerr) != HS_SUCCESS) {
		fprintf(stderr, "bench-baseline: hs_compile_lit_multi: %s\n",
			cerr ? cerr->message : "failed");
		return 2;
	}
	if (hs_alloc_scratch(bb_hs.db, &bb_hs.scratch) != HS_SUCCESS) {
		fprintf(stderr, "bench-baseline: hs_alloc_scratch failed\n");
		return 2;
	}
	printf("rules: files=%d literals=%u caseless=%u\n", n_rules, lits.n, lits.caseless);

	if (bb_load(&cap, argv[optind]) != 0)
		return 2;
	printf("capture: packets=%" PRIu64 " frame_bytes=%" PRIu64 " tcp_payload_bytes=%" PRIu64
	       " segments=%" PRIu64 " flows=%zu skipped_ooo=%" PRIu64 " skipped_other=%" PRIu64 "\n",
	       cap.packets, cap.frame_bytes, cap.payload_bytes, cap.segments, cap.n_flows,
	       cap.skipped_ooo, cap.skipped_other);

	llhttp_settings_init(&bb_req_settings);
	bb_req_settings.on_message_complete = bb_on_request_complete;
	llhttp_settings_init(&bb_resp_settings);
	bb_resp_settings.on_headers_complete = bb_on_response_headers;
	bb_resp_settings.on_message_complete = bb_on_response_complete;

	/* One untimed pass for the counts (and to warm caches and pages). */
	bb_pass(&cap, true, true, &res);
	txns = res.requests;
	printf("http: requests=%" PRIu64 " responses=%" PRIu64 " interim=%" PRIu64
	       " parse_errors=%" PRIu64 " hs_matches=%" PRIu64 "\n",
	       res.requests, res.responses, res.interim, res.errors, bb_hs.matches);
	bb_time("llhttp", bb_pass_llhttp, &cap, runs, txns, &res);
	bb_time("hs", bb_pass_hs, &cap, runs, txns, &res);
	bb_time("both", bb_pass_both, &cap, runs, txns, &res);

	hs_free_scratch(bb_hs.scratch);
	hs_free_database(bb_hs.db);
	for (i = 0; i < (int)lits.n; i++)
		free(lits.lit[i]);
	for (i = 0; i < (int)cap.n_flows; i++) {
		free(cap.flows[i]->d[0].data);
		free(cap.flows[i]->d[0].seg);
		free(cap.flows[i]->d[1].data);
		free(cap.flows[i]->d[1].seg);
		free(cap.flows[i]);
	}
	free(cap.flows);
	free(cap.bucket);
	return 0;
}
