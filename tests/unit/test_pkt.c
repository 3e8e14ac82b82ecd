/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet parser suite. Needs no EAL (dp_pkt only uses DPDK inline helpers)
 * and runs under ASan/UBSan.
 *
 * Frames are built field by field by a small builder below, with their
 * checksums computed here by an independent one's-complement routine, so
 * the parser is never checked against itself. Every parse reads its input
 * from a buffer that ends right before a PROT_NONE page: reading one byte
 * past the frame crashes the test.
 */
#include "dp_pkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>
#include <netinet/in.h>

#include "tu_eal.h"

/* ---- guard pages ------------------------------------------------------- */

struct guard {
	uint8_t *map;
	size_t maplen;
};

/* Copy @len bytes so that they end exactly at a PROT_NONE page. */
static uint8_t *
guard_place(struct guard *g, const void *data, size_t len)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (len + ps - 1) / ps + 1;
	uint8_t *p;

	g->maplen = pages * ps;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (g->map == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	if (mprotect(g->map + (pages - 1) * ps, ps, PROT_NONE) != 0) {
		perror("mprotect");
		abort();
	}
	p = g->map + (pages - 1) * ps - len;
	if (len > 0)
		memcpy(p, data, len);
	return p;
}

static void
guard_free(struct guard *g)
{
	munmap(g->map, g->maplen);
	g->map = NULL;
}

/* Parse @len bytes of @frame from a guarded copy. */
static int
parse_guarded(const uint8_t *frame, size_t len, struct dp_pkt *out)
{
	struct guard g;
	uint8_t *p = guard_place(&g, frame, len);
	int rc = dp_pkt_parse(p, (uint32_t)len, out);

	guard_free(&g);
	return rc;
}

/* Parse and verify checksums from a guarded copy. */
static int
csum_guarded(const uint8_t *frame, size_t len, int *parse_rc)
{
	struct guard g;
	struct dp_pkt pk;
	uint8_t *p = guard_place(&g, frame, len);
	int rc;

	*parse_rc = dp_pkt_parse(p, (uint32_t)len, &pk);
	rc = dp_pkt_verify_csum(p, &pk);
	guard_free(&g);
	return rc;
}

/* ---- independent checksum --------------------------------------------- */

static uint32_t
oc_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
oc_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}



/* ---- frame builder ---------------------------------------------------- */

struct spec {
	int nvlan;
	uint16_t tpid[3];
	uint16_t tci[3];
	int family;               /* 4, 6, or 0 for ARP */
	uint8_t proto;            /* IPPROTO_TCP / UDP / ICMP / ... */
	uint8_t src[16], dst[16];
	uint8_t ttl;
	uint16_t frag;            /* IPv4 flags+offset field, host order */
	int ip4_opt_words;        /* IPv4 options (NOPs), 4-byte words */
	int n_ext;                /* IPv6 extension headers */
	uint8_t ext[12];          /* their types, in order */
	uint8_t ext_len[12];      /* their length fields (8-byte units beyond the first) */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	int tcp_opt_words;
	const uint8_t *payload;
	size_t plen;
	size_t pad;               /* Ethernet padding after the datagram */
};

struct layout {
	size_t l3, l4, pl, end;   /* offsets; end = end of the IP datagram */
};

static const uint8_t v4_cli[4] = { 10, 0, 0, 1 };
static const uint8_t v4_srv[4] = { 192, 168, 7, 9 };
static const uint8_t v6_cli[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11 };
static const uint8_t v6_srv[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xef };
static const uint8_t http_get[] = "GET /api/v1/users?id=7 HTTP/1.1\r\nHost: example\r\n\r\n";

static void
spec_tcp4(struct spec *s)
{
	memset(s, 0, sizeof(*s));
	s->family = 4;
	s->proto = IPPROTO_TCP;
	memcpy(s->src, v4_cli, 4);
	memcpy(s->dst, v4_srv, 4);
	s->ttl = 63;
	s->sport = 40001;
	s->dport = 8080;
	s->seq = 0xfedcba98;
	s->ack = 0x01234567;
	s->flags = 0x18;          /* PSH|ACK */
	s->win = 29200;
	s->payload = http_get;
	s->plen = sizeof(http_get) - 1;
}

static void
spec_tcp6(struct spec *s)
{
	spec_tcp4(s);
	s->family = 6;
	memcpy(s->src, v6_cli, 16);
	memcpy(s->dst, v6_srv, 16);
}

/* Build the frame of @s into @buf with correct lengths and checksums. */
static size_t
build(uint8_t *buf, const struct spec *s, struct layout *lo)
{
	size_t off = 12, l3, l4, pl, end, l4len, i;
	uint32_t sum;

	memset(buf, 0, 2048);
	memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	for (i = 0; i < (size_t)s->nvlan; i++) {
		tu_put16(buf + off, s->tpid[i]);
		tu_put16(buf + off + 2, s->tci[i]);
		off += 4;
	}
	if (s->family == 0) {
		/* ARP request */
		tu_put16(buf + off, 0x0806);
		off += 2;
		memcpy(buf + off, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
		off += 28;
		lo->l3 = lo->l4 = lo->pl = lo->end = off;
		return off;
	}
	tu_put16(buf + off, s->family == 4 ? 0x0800 : 0x86dd);
	l3 = off + 2;
	if (s->family == 4) {
		size_t hl = 20 + 4 * (size_t)s->ip4_opt_words;

		buf[l3] = (uint8_t)(0x40 | (hl / 4));
		buf[l3 + 1] = 0;
		tu_put16(buf + l3 + 4, 0x1234);
		tu_put16(buf + l3 + 6, s->frag);
		buf[l3 + 8] = s->ttl;
		buf[l3 + 9] = s->proto;
		memcpy(buf + l3 + 12, s->src, 4);
		memcpy(buf + l3 + 16, s->dst, 4);
		for (i = 20; i < hl; i++)
			buf[l3 + i] = 1;   /* NOP options */
		l4 = l3 + hl;
	} else {
		uint8_t first = s->n_ext ? s->ext[0] : s->proto;
		size_t e = l3 + 40;
		int k;

		tu_put32(buf + l3, 0x60000000u | 0x12345);
		buf[l3 + 6] = first;
		buf[l3 + 7] = s->ttl;
		memcpy(buf + l3 + 8, s->src, 16);
		memcpy(buf + l3 + 24, s->dst, 16);
		for (k = 0; k < s->n_ext; k++) {
			uint8_t next = k + 1 < s->n_ext ? s->ext[k + 1] : s->proto;
			size_t elen;

			buf[e] = next;
			if (s->ext[k] == IPPROTO_FRAGMENT) {
				buf[e + 1] = 0;
				tu_put16(buf + e + 2, 0x0001);   /* offset 0, M=1 */
				tu_put32(buf + e + 4, 0xabcd);
				elen = 8;
			} else {
				buf[e + 1] = s->ext_len[k];
				elen = ((size_t)s->ext_len[k] + 1) * 8;
				if (s->ext[k] == IPPROTO_HOPOPTS || s->ext[k] == IPPROTO_DSTOPTS) {
					/* PadN over the option space */
					buf[e + 2] = 1;
					buf[e + 3] = (uint8_t)(elen - 4);
				} else if (s->ext[k] == IPPROTO_ROUTING) {
					buf[e + 2] = 0;      /* type 0, segments left 0 */
					buf[e + 3] = 0;
				}
			}
			e += elen;
		}
		l4 = e;
	}
	if (s->proto == IPPROTO_TCP) {
		size_t hl = 20 + 4 * (size_t)s->tcp_opt_words;

		tu_put16(buf + l4, s->sport);
		tu_put16(buf + l4 + 2, s->dport);
		tu_put32(buf + l4 + 4, s->seq);
		tu_put32(buf + l4 + 8, s->ack);
		buf[l4 + 12] = (uint8_t)((hl / 4) << 4);
		buf[l4 + 13] = s->flags;
		tu_put16(buf + l4 + 14, s->win);
		for (i = 20; i < hl; i++)
			buf[l4 + i] = 1;
		pl = l4 + hl;
	} else if (s->proto == IPPROTO_UDP) {
		tu_put16(buf + l4, s->sport);
		tu_put16(buf + l4 + 2, s->dport);
		pl = l4 + 8;
	} else {
		/* ICMP echo request */
		buf[l4] = 8;
		pl = l4 + 8;
	}
	memcpy(buf + pl, s->payload, s->plen);
	end = pl + s->plen;
	l4len = end - l4;
	if (s->family == 4) {
		tu_put16(buf + l3 + 2, (uint16_t)(end - l3));
		tu_put16(buf + l3 + 10, (uint16_t)~oc_fold(oc_add(0, buf + l3, l4 - l3)));
	} else {
		tu_put16(buf + l3 + 4, (uint16_t)(end - l3 - 40));
	}
	if (s->proto == IPPROTO_UDP)
		tu_put16(buf + l4 + 4, (uint16_t)l4len);
	if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP) {
		uint8_t ph[4];
		uint16_t ck;

		/* pseudo header: addresses, protocol, L4 length */
		sum = oc_add(0, s->src, s->family == 4 ? 4 : 16);
		sum = oc_add(sum, s->dst, s->family == 4 ? 4 : 16);
		ph[0] = 0;
		ph[1] = s->proto;
		tu_put16(ph + 2, (uint16_t)l4len);
		sum = oc_add(sum, ph, 4);
		sum = oc_add(sum, buf + l4, l4len);
		ck = (uint16_t)~oc_fold(sum);
		if (s->proto == IPPROTO_UDP && ck == 0)
			ck = 0xffff;
		tu_put16(buf + l4 + (s->proto == IPPROTO_TCP ? 16 : 6), ck);
	}
	for (i = 0; i < s->pad; i++)
		buf[end + i] = 0xa5;
	lo->l3 = l3;
	lo->l4 = l4;
	lo->pl = pl;
	lo->end = end;
	return end + s->pad;
}

static uint8_t fbuf[2048];

/* ---- field checks ----------------------------------------------------- */

static void
check_tcp_fields(const struct dp_pkt *p, const struct spec *s, const struct layout *lo)
{
	size_t alen = s->family == 4 ? 4 : 16;

	CU_ASSERT_EQUAL(p->kind, DP_PKT_TCP);
	CU_ASSERT_EQUAL(p->err, DP_PKT_OK);
	CU_ASSERT_EQUAL(p->family, s->family);
	CU_ASSERT_EQUAL(p->l4_proto, IPPROTO_TCP);
	CU_ASSERT_EQUAL(p->ttl, s->ttl);
	CU_ASSERT_EQUAL(p->l3_off, lo->l3);
	CU_ASSERT_EQUAL(p->l4_off, lo->l4);
	CU_ASSERT_EQUAL(p->payload_off, lo->pl);
	CU_ASSERT_EQUAL(p->payload_len, lo->end - lo->pl);
	CU_ASSERT_EQUAL(p->l3_len, lo->end - lo->l3);
	CU_ASSERT_EQUAL(p->src_port, s->sport);
	CU_ASSERT_EQUAL(p->dst_port, s->dport);
	CU_ASSERT_EQUAL(p->seq, s->seq);
	CU_ASSERT_EQUAL(p->ack, s->ack);
	CU_ASSERT_EQUAL(p->tcp_flags, s->flags);
	CU_ASSERT_EQUAL(p->window, s->win);
	CU_ASSERT(memcmp(p->src_ip, s->src, alen) == 0);
	CU_ASSERT(memcmp(p->dst_ip, s->dst, alen) == 0);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_ipv4_tcp(void)
{
	struct spec s;
	struct layout lo;
	struct dp_pkt p;
	size_t n;

	spec_tcp4(&s);
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
	check_tcp_fields(&p, &s, &lo);
	CU_ASSERT_EQUAL(p.vlans, 0);
	CU_ASSERT_EQUAL(p.vlan_id, 0);
	CU_ASSERT_EQUAL(p.l3_off, 14);
	CU_ASSERT_EQUAL(p.l4_off, 34);
	CU_ASSERT_EQUAL(p.payload_off, 54);
	CU_ASSERT_EQUAL(p.payload_len, sizeof(http_get) - 1);
	CU_ASSERT(memcmp(fbuf + p.payload_off, "GET /api", 8) == 0);

	/* IPv4 options and TCP options move the offsets */
	s.ip4_opt_words = 3;
	s.tcp_opt_words = 5;
	s.flags = 0x02;     /* SYN, no payload */
	s.plen = 0;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
	check_tcp_fields(&p, &s, &lo);
	CU_ASSERT_EQUAL(p.l4_off, 14 + 32);
	CU_ASSERT_EQUAL(p.payload_off, 14 + 32 + 40);
	CU_ASSERT_EQUAL(p.payload_len, 0);
}

static void
test_vlan_qinq(void)
{
	struct spec s;
	struct layout lo;
	struct dp_pkt p;
	size_t n;

	spec_tcp4(&s);
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.tci[0] = (5 << 13) | 0x123;     /* PCP 5 must not leak into the id */
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
	check_tcp_fields(&p, &s, &lo);
	CU_ASSERT_EQUAL(p.vlans, 1);
	CU_ASSERT_EQUAL(p.vlan_id, 0x123);
	CU_ASSERT_EQUAL(p.l3_off, 18);

	/* QinQ: 802.1ad outer, 802.1Q inner; the outer id is reported */
	s.nvlan = 2;
	s.tpid[0] = 0x88a8;
	s.tci[0] = 0x0fff & 300;
	s.tpid[1] = 0x8100;
	s.tci[1] = 42;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
	check_tcp_fields(&p, &s, &lo);
	CU_ASSERT_EQUAL(p.vlans, 2);
	CU_ASSERT_EQUAL(p.vlan_id, 300);
	CU_ASSERT_EQUAL(p.l3_off, 22);

	/* IPv6 behind QinQ */
	spec_tcp6(&s);
	s.nvlan = 2;
	s.tpid[0] = 0x88a8;
	s.tci[0] = 7;
	s.tpid[1] = 0x8100;
	s.tci[1] = 8;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
	check_tcp_fields(&p, &s, &lo);
	CU_ASSERT_EQUAL(p.vlan_id, 7);

	/* a third tag is refused rather than walked */
	spec_tcp4(&s);
	s.nvlan = 3;
	s.tpid[0] = 0x88a8;
	s.tpid[1] = 0x8100;
	s.tpid[2] = 0x8100;
	s.tci[0] = s.tci[1] = s.tci[2] = 1;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_L2_SHORT);
}

static void
test_ipv6_tcp_udp(void)
{
	struct spec s;
	struct layout lo;
	struct dp_pkt p;
	size_t n;

	spec_tcp6(&s);
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
	check_tcp_fields(&p, &s, &lo);
	CU_ASSERT_EQUAL(p.l4_off, 14 + 40);
	CU_ASSERT_EQUAL(p.payload_off, 14 + 40 + 20);

	s.proto = IPPROTO_UDP;
	s.sport = 5353;
	s.dport = 53;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_UDP);
	CU_ASSERT_EQUAL(p.family, 6);
	CU_ASSERT_EQUAL(p.l4_proto, IPPROTO_UDP);
	CU_ASSERT_EQUAL(p.src_port, 5353);
	CU_ASSERT_EQUAL(p.dst_port, 53);
	CU_ASSERT_EQUAL(p.l4_off, lo.l4);
	CU_ASSERT_EQUAL(p.payload_off, lo.l4 + 8);
	CU_ASSERT_EQUAL(p.payload_len, s.plen);
	CU_ASSERT(memcmp(p.src_ip, v6_cli, 16) == 0);
	CU_ASSERT(memcmp(p.dst_ip, v6_srv, 16) == 0);
}

static void
test_ipv4_udp(void)
{
	struct spec s;
	struct layout lo;
	struct dp_pkt p;
	size_t n;

	spec_tcp4(&s);
	s.proto = IPPROTO_UDP;
	s.sport = 1234;
	s.dport = 4789;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_UDP);
	CU_ASSERT_EQUAL(p.family, 4);
	CU_ASSERT_EQUAL(p.src_port, 1234);
	CU_ASSERT_EQUAL(p.dst_port, 4789);
	CU_ASSERT_EQUAL(p.l4_off, 34);
	CU_ASSERT_EQUAL(p.payload_off, 42);
	CU_ASSERT_EQUAL(p.payload_len, s.plen);
	CU_ASSERT_EQUAL(p.l3_len, 20 + 8 + s.plen);
	CU_ASSERT(memcmp(p.src_ip, v4_cli, 4) == 0);

	/* UDP length shorter than the IP payload: the UDP length wins */
	tu_put16(fbuf + lo.l4 + 4, 8 + 4);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_UDP);
	CU_ASSERT_EQUAL(p.payload_len, 4);

	/* UDP length below its header */
	tu_put16(fbuf + lo.l4 + 4, 7);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_UDP_LEN);

	/* UDP length beyond the datagram */
	tu_put16(fbuf + lo.l4 + 4, (uint16_t)(lo.end - lo.l4 + 1));
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_UDP_LEN);
}

static void
test_ipv6_ext_headers(void)
{
	static const uint8_t chain[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS };
	struct spec s;
	struct layout lo;
	struct dp_pkt p;
	size_t n;
	int k;

	/* hop-by-hop, routing, destination options, then TCP */
	spec_tcp6(&s);
	s.n_ext = 3;
	memcpy(s.ext, chain, 3);
	s.ext_len[0] = 0;   /* 8 bytes */
	s.ext_len[1] = 2;   /* 24 bytes */
	s.ext_len[2] = 1;   /* 16 bytes */
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(lo.l4, 14 + 40 + 8 + 24 + 16);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
	check_tcp_fields(&p, &s, &lo);
	CU_ASSERT_EQUAL(p.l3_len, lo.end - lo.l3);

	/* same chain before UDP */
	s.proto = IPPROTO_UDP;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_UDP);
	CU_ASSERT_EQUAL(p.l4_off, lo.l4);
	CU_ASSERT_EQUAL(p.payload_len, s.plen);

	/* a fragment header anywhere in the chain: FRAGMENT */
	spec_tcp6(&s);
	s.n_ext = 2;
	s.ext[0] = IPPROTO_HOPOPTS;
	s.ext_len[0] = 0;
	s.ext[1] = IPPROTO_FRAGMENT;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_FRAGMENT);
	CU_ASSERT_EQUAL(p.family, 6);
	CU_ASSERT_EQUAL(p.l4_off, 14 + 40 + 8);
	s.n_ext = 1;
	s.ext[0] = IPPROTO_FRAGMENT;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_FRAGMENT);

	/* a short chain is walked; a long one is refused */
	for (k = 1; k <= 12; k++) {
		int i;

		spec_tcp6(&s);
		s.n_ext = k;
		for (i = 0; i < k; i++) {
			s.ext[i] = IPPROTO_DSTOPTS;
			s.ext_len[i] = 0;
		}
		n = build(fbuf, &s, &lo);
		if (k <= 7) {
			CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
			CU_ASSERT_EQUAL(p.l4_off, lo.l4);
			CU_ASSERT_EQUAL(p.payload_len, s.plen);
		} else if (k >= 9) {
			CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
			CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_IP6_EXT);
		} else {
			/* exactly DP_PKT_MAX_IP6_EXT (8): either outcome is sane,
			 * but it must be consistent */
			int rc = parse_guarded(fbuf, n, &p);

			CU_ASSERT(rc == DP_PKT_TCP || (rc == DP_PKT_MALFORMED &&
						       p.err == DP_PKT_ERR_IP6_EXT));
		}
	}

	/* an extension header longer than the payload */
	spec_tcp6(&s);
	s.n_ext = 1;
	s.ext[0] = IPPROTO_HOPOPTS;
	s.ext_len[0] = 0;
	n = build(fbuf, &s, &lo);
	fbuf[lo.l3 + 40 + 1] = 200;
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_IP6_EXT);

	/* No Next Header (59): IP but no L4 */
	spec_tcp6(&s);
	s.proto = 59;
	s.plen = 0;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_OTHER_L4);
	CU_ASSERT_EQUAL(p.l4_proto, 59);
}

static void
test_ethernet_padding(void)
{
	struct spec s;
	struct layout lo;
	struct dp_pkt p;
	size_t n;
	int rc;

	/* A bare ACK is 54 bytes; Ethernet pads it to 60. */
	spec_tcp4(&s);
	s.flags = 0x10;
	s.plen = 0;
	s.pad = 6;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(n, 60);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
	check_tcp_fields(&p, &s, &lo);
	CU_ASSERT_EQUAL(p.payload_len, 0);
	CU_ASSERT_EQUAL(p.l3_len, 40);
	CU_ASSERT_EQUAL(csum_guarded(fbuf, n, &rc), 0);

	/* padding after a small UDP datagram, and after IPv6 */
	s.proto = IPPROTO_UDP;
	s.payload = (const uint8_t *)"hi";
	s.plen = 2;
	s.pad = 16;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_UDP);
	CU_ASSERT_EQUAL(p.payload_len, 2);
	CU_ASSERT_EQUAL(p.l3_len, 20 + 8 + 2);
	CU_ASSERT_EQUAL(csum_guarded(fbuf, n, &rc), 0);

	spec_tcp6(&s);
	s.pad = 9;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
	check_tcp_fields(&p, &s, &lo);
	CU_ASSERT_EQUAL(csum_guarded(fbuf, n, &rc), 0);
}

/* Every prefix of a valid frame: no over-read, and either MALFORMED or a
 * result that stays inside the prefix. */
static void
truncations(const struct spec *s)
{
	struct layout lo;
	struct dp_pkt p;
	size_t n, len;

	n = build(fbuf, s, &lo);
	for (len = 0; len < n; len++) {
		int rc = parse_guarded(fbuf, len, &p);

		CU_ASSERT_EQUAL(rc, p.kind);
		if (len < lo.end) {
			/* the IP length claims more than there is */
			CU_ASSERT_EQUAL_FATAL(rc, DP_PKT_MALFORMED);
			CU_ASSERT(p.err != DP_PKT_OK && p.err < DP_PKT_ERR__COUNT);
			if (len < 14)
				CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_L2_SHORT);
		} else {
			/* only padding was cut */
			CU_ASSERT_EQUAL(rc, s->proto == IPPROTO_TCP ? DP_PKT_TCP : DP_PKT_UDP);
			CU_ASSERT(p.payload_off + p.payload_len <= len);
		}
	}
}

static void
test_every_truncation(void)
{
	struct spec s;

	spec_tcp4(&s);
	s.pad = 5;
	truncations(&s);

	spec_tcp4(&s);
	s.nvlan = 2;
	s.tpid[0] = 0x88a8;
	s.tpid[1] = 0x8100;
	s.tci[0] = 10;
	s.tci[1] = 20;
	s.ip4_opt_words = 2;
	s.tcp_opt_words = 3;
	truncations(&s);

	spec_tcp4(&s);
	s.proto = IPPROTO_UDP;
	truncations(&s);

	spec_tcp6(&s);
	s.n_ext = 3;
	s.ext[0] = IPPROTO_HOPOPTS;
	s.ext[1] = IPPROTO_ROUTING;
	s.ext[2] = IPPROTO_DSTOPTS;
	s.ext_len[1] = 1;
	s.pad = 3;
	truncations(&s);

	spec_tcp6(&s);
	s.proto = IPPROTO_UDP;
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.tci[0] = 99;
	truncations(&s);
}

static void
test_ipv4_malformed(void)
{
	struct spec s;
	struct layout lo;
	struct dp_pkt p;
	uint8_t save;
	size_t n;

	spec_tcp4(&s);
	n = build(fbuf, &s, &lo);

	/* IHL below 5 words */
	save = fbuf[lo.l3];
	fbuf[lo.l3] = 0x44;
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_IP_HLEN);
	/* IHL larger than the total length */
	fbuf[lo.l3] = 0x4f;
	tu_put16(fbuf + lo.l3 + 2, 40);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT(p.err == DP_PKT_ERR_IP_HLEN || p.err == DP_PKT_ERR_IP_TOTLEN);
	/* IHL beyond the frame */
	CU_ASSERT_EQUAL(parse_guarded(fbuf, 14 + 40, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_IP_HLEN);
	fbuf[lo.l3] = save;
	n = build(fbuf, &s, &lo);

	/* wrong version in an IPv4 ethertype */
	fbuf[lo.l3] = 0x65;
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_IP_VERSION);
	n = build(fbuf, &s, &lo);

	/* total length beyond the frame, and below the header */
	tu_put16(fbuf + lo.l3 + 2, (uint16_t)(n - lo.l3 + 1));
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_IP_TOTLEN);
	tu_put16(fbuf + lo.l3 + 2, 19);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_IP_TOTLEN);
	/* total length that leaves no room for the TCP header */
	tu_put16(fbuf + lo.l3 + 2, 20 + 19);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_L4_SHORT);
	n = build(fbuf, &s, &lo);

	/* TCP data offset below 5 and beyond the datagram */
	fbuf[lo.l4 + 12] = 4 << 4;
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_TCP_HLEN);
	fbuf[lo.l4 + 12] = 0;
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_TCP_HLEN);
	s.plen = 8;    /* 28 bytes of TCP: a 32-byte header does not fit */
	n = build(fbuf, &s, &lo);
	fbuf[lo.l4 + 12] = 8 << 4;
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_TCP_HLEN);
	fbuf[lo.l4 + 12] = 7 << 4;  /* exactly fits: no payload */
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);
	CU_ASSERT_EQUAL(p.payload_len, 0);
	CU_ASSERT_EQUAL(p.payload_off, lo.l4 + 28);

	/* IPv6 payload length beyond the frame */
	spec_tcp6(&s);
	n = build(fbuf, &s, &lo);
	tu_put16(fbuf + lo.l3 + 4, (uint16_t)(n - lo.l3 - 40 + 1));
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_IP_TOTLEN);
	fbuf[lo.l3] = 0x40;
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.err, DP_PKT_ERR_IP_VERSION);

	CU_ASSERT_STRING_EQUAL(dp_pkt_err_name(DP_PKT_ERR_TCP_HLEN), "tcp_hlen");
	CU_ASSERT_STRING_EQUAL(dp_pkt_err_name(DP_PKT_ERR__COUNT), "unknown");
}

static void
test_fragments_non_ip_icmp(void)
{
	struct spec s;
	struct layout lo;
	struct dp_pkt p;
	size_t n;

	/* MF set, offset 0: first fragment */
	spec_tcp4(&s);
	s.frag = 0x2000;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_FRAGMENT);
	CU_ASSERT_EQUAL(p.family, 4);
	CU_ASSERT_EQUAL(p.l4_off, lo.l4);
	CU_ASSERT(memcmp(p.src_ip, v4_cli, 4) == 0);
	/* offset only: last fragment (its "TCP header" is payload) */
	s.frag = 0x00b9;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_FRAGMENT);
	/* DF alone is not a fragment */
	s.frag = 0x4000;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_TCP);

	/* ARP */
	spec_tcp4(&s);
	s.family = 0;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_NON_IP);
	CU_ASSERT_EQUAL(p.family, 0);
	/* ARP inside a VLAN */
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.tci[0] = 77;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_NON_IP);
	CU_ASSERT_EQUAL(p.vlan_id, 77);

	/* ICMP over IPv4 */
	spec_tcp4(&s);
	s.proto = IPPROTO_ICMP;
	s.plen = 16;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_OTHER_L4);
	CU_ASSERT_EQUAL(p.l4_proto, IPPROTO_ICMP);
	CU_ASSERT_EQUAL(p.family, 4);
	CU_ASSERT_EQUAL(p.l4_off, 34);
	CU_ASSERT_EQUAL(p.payload_len, 8 + 16);
	CU_ASSERT_EQUAL(csum_guarded(fbuf, n, &(int){ 0 }), 0);  /* nothing to verify */

	/* ICMPv6 */
	spec_tcp6(&s);
	s.proto = IPPROTO_ICMPV6;
	s.plen = 0;
	n = build(fbuf, &s, &lo);
	CU_ASSERT_EQUAL(parse_guarded(fbuf, n, &p), DP_PKT_OTHER_L4);
	CU_ASSERT_EQUAL(p.l4_proto, IPPROTO_ICMPV6);
}

/* Flip every bit of the header and payload: each flip must be rejected.
 * (Bits of the Ethernet header and of the padding are not covered.) */
static void
check_csum_flips(const struct spec *s)
{
	struct layout lo;
	size_t n, i;
	int rc, prc, bad = 0, flips = 0;

	n = build(fbuf, s, &lo);
	CU_ASSERT_EQUAL(csum_guarded(fbuf, n, &prc), 0);
	CU_ASSERT(prc == DP_PKT_TCP || prc == DP_PKT_UDP);
	for (i = lo.l3; i < lo.end; i++) {
		int b;

		/* IPv6: the fixed header has no checksum and extension headers
		 * are outside the L4 one; only the addresses (pseudo header)
		 * and the L4 bytes are covered. */
		if (s->family == 6 && (i < lo.l3 + 8 || (i >= lo.l3 + 40 && i < lo.l4)))
			continue;

		for (b = 0; b < 8; b++) {
			fbuf[i] ^= (uint8_t)(1u << b);
			rc = csum_guarded(fbuf, n, &prc);
			/* A flip that makes the frame unparseable as TCP/UDP is
			 * rejected earlier; count only those still parsed. */
			if (prc == DP_PKT_TCP || prc == DP_PKT_UDP) {
				flips++;
				if (rc != -EBADMSG) {
					bad++;
					if (bad < 5)
						printf("\n  flip at %zu bit %d accepted", i, b);
				}
			}
			fbuf[i] ^= (uint8_t)(1u << b);
		}
	}
	CU_ASSERT(flips > 0);
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_checksums(void)
{
	struct spec s;
	struct layout lo;
	size_t n;
	int prc;

	spec_tcp4(&s);
	check_csum_flips(&s);
	s.proto = IPPROTO_UDP;
	check_csum_flips(&s);
	/* odd payload length: the last byte is padded with zero in the sum */
	s.payload = (const uint8_t *)"odd";
	s.plen = 3;
	check_csum_flips(&s);

	spec_tcp6(&s);
	check_csum_flips(&s);
	s.proto = IPPROTO_UDP;
	check_csum_flips(&s);

	/* UDP over IPv4 with checksum 0: "no checksum", accepted */
	spec_tcp4(&s);
	s.proto = IPPROTO_UDP;
	n = build(fbuf, &s, &lo);
	tu_put16(fbuf + lo.l4 + 6, 0);
	CU_ASSERT_EQUAL(csum_guarded(fbuf, n, &prc), 0);
	CU_ASSERT_EQUAL(prc, DP_PKT_UDP);
	/* ... but the IPv4 header checksum is still checked */
	fbuf[lo.l3 + 8] ^= 1;
	CU_ASSERT_EQUAL(csum_guarded(fbuf, n, &prc), -EBADMSG);

	/* UDP over IPv6 with checksum 0 is invalid (RFC 8200 8.1) */
	spec_tcp6(&s);
	s.proto = IPPROTO_UDP;
	n = build(fbuf, &s, &lo);
	tu_put16(fbuf + lo.l4 + 6, 0);
	CU_ASSERT_EQUAL(csum_guarded(fbuf, n, &prc), -EBADMSG);

	/* a wrong IPv4 header checksum alone */
	spec_tcp4(&s);
	n = build(fbuf, &s, &lo);
	fbuf[lo.l3 + 10] ^= 0x80;
	CU_ASSERT_EQUAL(csum_guarded(fbuf, n, &prc), -EBADMSG);

	/* checksums with VLAN tags and padding present */
	spec_tcp4(&s);
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.tci[0] = 3;
	s.pad = 10;
	check_csum_flips(&s);
}

/* With extension headers the L4 checksum must still be verified: the
 * pseudo header carries the upper-layer length (RFC 8200 8.1), not the IPv6
 * payload length. */
static void
test_checksum_ipv6_ext(void)
{
	struct spec s;

	spec_tcp6(&s);
	s.n_ext = 2;
	s.ext[0] = IPPROTO_HOPOPTS;
	s.ext[1] = IPPROTO_DSTOPTS;
	s.ext_len[1] = 1;
	check_csum_flips(&s);
	s.proto = IPPROTO_UDP;
	check_csum_flips(&s);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("pkt", NULL, NULL);
	CU_add_test(s, "IPv4 TCP fields, IP and TCP options", test_ipv4_tcp);
	CU_add_test(s, "802.1Q and QinQ", test_vlan_qinq);
	CU_add_test(s, "IPv6 TCP and UDP", test_ipv6_tcp_udp);
	CU_add_test(s, "IPv4 UDP and UDP length errors", test_ipv4_udp);
	CU_add_test(s, "IPv6 extension headers", test_ipv6_ext_headers);
	CU_add_test(s, "Ethernet padding", test_ethernet_padding);
	CU_add_test(s, "every truncation of valid frames", test_every_truncation);
	CU_add_test(s, "malformed IPv4/IPv6/TCP lengths", test_ipv4_malformed);
	CU_add_test(s, "fragments, ARP, ICMP", test_fragments_non_ip_icmp);
	CU_add_test(s, "checksums: accept correct, reject any flipped bit", test_checksums);
	CU_add_test(s, "checksums behind IPv6 extension headers", test_checksum_ipv6_ext);
	return tu_run_all();
}
