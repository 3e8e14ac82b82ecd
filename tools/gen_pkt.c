/* gen_pkt.c - frame building and pcap writing for apiguard-gen. */
#include "gen_pkt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checksums ---- */

/* Sums native-order 32-bit words into a 64-bit accumulator: the one's
 * complement sum is byte-order independent (RFC 1071 section 2), so the
 * folded result stored back in native order is the right checksum.
 * Every buffer but the last one of a sum must have an even length. */
uint64_t gen_csum_partial(const void *data, size_t len, uint64_t sum)
{
	const uint8_t *p = data;
	while (len >= 32) {
		uint32_t w[8];
		memcpy(w, p, 32);
		sum += (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] +
		       w[6] + w[7];
		p += 32;
		len -= 32;
	}
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };
		uint16_t h;
		memcpy(&h, last, 2);
		sum += h;
	}
	return sum;
}

uint16_t gen_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t gen_pkt_build(uint8_t *out, const struct gen_endpoints *ep,
		     const struct gen_seg *seg)
{
	const uint8_t *src_mac = seg->from_client ? ep->client_mac : ep->server_mac;
	const uint8_t *dst_mac = seg->from_client ? ep->server_mac : ep->client_mac;
	const uint8_t *src_ip = seg->from_client ? ep->client_ip : ep->server_ip;
	const uint8_t *dst_ip = seg->from_client ? ep->server_ip : ep->client_ip;
	uint16_t sport = seg->from_client ? ep->client_port : ep->server_port;
	uint16_t dport = seg->from_client ? ep->server_port : ep->client_port;
	size_t tcp_len = 20 + seg->opts_len + seg->payload_len;
	uint8_t *p = out;

	memcpy(p, dst_mac, 6);
	memcpy(p + 6, src_mac, 6);
	p += 12;
	if (ep->vlan) {
		put16(p, 0x8100);
		put16(p + 2, ep->vlan_id & 0x0fff);
		p += 4;
	}
	put16(p, ep->ipv6 ? 0x86dd : 0x0800);
	p += 2;

	uint64_t pseudo;
	if (ep->ipv6) {
		put32(p, 0x60000000u); /* version 6, no traffic class/flow label */
		put16(p + 4, (uint16_t)tcp_len);
		p[6] = 6; /* next header TCP */
		p[7] = seg->ttl;
		memcpy(p + 8, src_ip, 16);
		memcpy(p + 24, dst_ip, 16);
		uint8_t ph[8] = { 0 };
		put32(ph, (uint32_t)tcp_len);
		ph[7] = 6;
		pseudo = gen_csum_partial(p + 8, 32, 0);
		pseudo = gen_csum_partial(ph, 8, pseudo);
		p += 40;
	} else {
		p[0] = 0x45;
		p[1] = 0;
		put16(p + 2, (uint16_t)(20 + tcp_len));
		put16(p + 4, seg->ip_id);
		put16(p + 6, 0x4000); /* DF, as Linux sets on TCP */
		p[8] = seg->ttl;
		p[9] = 6;
		p[10] = p[11] = 0;
		memcpy(p + 12, src_ip, 4);
		memcpy(p + 16, dst_ip, 4);
		uint16_t ipc = (uint16_t)~gen_csum_fold(gen_csum_partial(p, 20, 0));
		memcpy(p + 10, &ipc, 2);
		uint8_t ph[4] = { 0, 6, 0, 0 };
		put16(ph + 2, (uint16_t)tcp_len);
		pseudo = gen_csum_partial(p + 12, 8, 0);
		pseudo = gen_csum_partial(ph, 4, pseudo);
		p += 20;
	}

	uint8_t *tcp = p;
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seg->seq);
	put32(tcp + 8, seg->ack);
	tcp[12] = (uint8_t)(((20 + seg->opts_len) / 4) << 4);
	tcp[13] = seg->flags;
	put16(tcp + 14, seg->window);
	tcp[16] = tcp[17] = 0;
	tcp[18] = tcp[19] = 0;
	if (seg->opts_len)
		memcpy(tcp + 20, seg->opts, seg->opts_len);
	size_t hdr = 20 + seg->opts_len;
	if (seg->payload_len)
		memcpy(tcp + hdr, seg->payload, seg->payload_len);
	uint16_t c = (uint16_t)~gen_csum_fold(gen_csum_partial(tcp, tcp_len, pseudo));
	if (seg->bad_checksum)
		c ^= 0x5a5a; /* never a no-op, and 0xffff/0x0000 stay distinct */
	memcpy(tcp + 16, &c, 2);
	return (size_t)(tcp + tcp_len - out);
}

/* ---- pcap writer ---- */

#define PCAP_BUF_SIZE (8u << 20)

struct gen_pcap {
	FILE *f;
	uint8_t *buf;
	size_t len;
	uint64_t last_ts;
	int err;
};

static int pcap_flush(struct gen_pcap *w)
{
	if (w->len && fwrite(w->buf, 1, w->len, w->f) != w->len)
		w->err = errno ? -errno : -EIO;
	w->len = 0;
	return w->err;
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

struct gen_pcap *gen_pcap_open(const char *path)
{
	struct gen_pcap *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->buf = malloc(PCAP_BUF_SIZE);
	w->f = w->buf ? fopen(path, "wb") : NULL;
	if (!w->f) {
		int e = errno;
		free(w->buf);
		free(w);
		errno = e;
		return NULL;
	}
	/* The FILE's own buffer would only add a copy. */
	setvbuf(w->f, NULL, _IONBF, 0);
	uint8_t *h = w->buf;
	le32(h, 0xa1b2c3d4u);                   /* magic: microseconds */
	h[4] = 2; h[5] = 0; h[6] = 4; h[7] = 0; /* version 2.4 */
	le32(h + 8, 0);                         /* thiszone */
	le32(h + 12, 0);                        /* sigfigs */
	le32(h + 16, 65535);                    /* snaplen */
	le32(h + 20, 1);                        /* LINKTYPE_ETHERNET */
	w->len = 24;
	return w;
}

int gen_pcap_write(struct gen_pcap *w, uint64_t ts_us, const void *frame,
		   size_t len)
{
	if (ts_us < w->last_ts || len > 65535)
		return -EINVAL;
	w->last_ts = ts_us;
	if (w->len + 16 + len > PCAP_BUF_SIZE && pcap_flush(w))
		return w->err;
	uint8_t *r = w->buf + w->len;
	le32(r, (uint32_t)(ts_us / 1000000));
	le32(r + 4, (uint32_t)(ts_us % 1000000));
	le32(r + 8, (uint32_t)len);
	le32(r + 12, (uint32_t)len);
	memcpy(r + 16, frame, len);
	w->len += 16 + len;
	return 0;
}

int gen_pcap_close(struct gen_pcap *w)
{
	int rc = pcap_flush(w);
	if (fclose(w->f) && !rc)
		rc = -errno;
	free(w->buf);
	free(w);
	return rc;
}
