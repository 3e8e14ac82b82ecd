/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_pkt.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

/* Most extension headers walked before an IPv6 packet is called malformed:
 * long chains are an evasion and DoS technique, real traffic has one or two. */
#define DP_PKT_MAX_IP6_EXT 8
#define DP_PKT_MAX_VLANS 2

static const char *const dp_pkt_err_names[DP_PKT_ERR__COUNT] = {
	[DP_PKT_OK] = "ok",
	[DP_PKT_ERR_L2_SHORT] = "l2_short",
	[DP_PKT_ERR_IP_SHORT] = "ip_short",
	[DP_PKT_ERR_IP_VERSION] = "ip_version",
	[DP_PKT_ERR_IP_HLEN] = "ip_hlen",
	[DP_PKT_ERR_IP_TOTLEN] = "ip_totlen",
	[DP_PKT_ERR_IP6_EXT] = "ip6_ext",
	[DP_PKT_ERR_L4_SHORT] = "l4_short",
	[DP_PKT_ERR_TCP_HLEN] = "tcp_hlen",
	[DP_PKT_ERR_UDP_LEN] = "udp_len",
};

const char *
dp_pkt_err_name(enum dp_pkt_err e)
{
	return (unsigned int)e < DP_PKT_ERR__COUNT ? dp_pkt_err_names[e] : "unknown";
}

static int
dp_pkt_bad(struct dp_pkt *out, enum dp_pkt_err e)
{
	out->kind = DP_PKT_MALFORMED;
	out->err = (uint8_t)e;
	return DP_PKT_MALFORMED;
}

/* Parse the L4 header at @off; @end is the end of the IP datagram. */
static int
dp_pkt_l4(const uint8_t *frame, uint32_t off, uint32_t end, struct dp_pkt *out)
{
	out->l4_off = (uint16_t)off;
	if (out->l4_proto == IPPROTO_TCP) {
		const struct rte_tcp_hdr *th;
		uint32_t hlen;

		if (end < off + sizeof(*th))
			return dp_pkt_bad(out, DP_PKT_ERR_L4_SHORT);
		th = (const struct rte_tcp_hdr *)(frame + off);
		hlen = (uint32_t)(th->data_off >> 4) * 4;
		if (hlen < sizeof(*th) || end < off + hlen)
			return dp_pkt_bad(out, DP_PKT_ERR_TCP_HLEN);
		out->src_port = rte_be_to_cpu_16(th->src_port);
		out->dst_port = rte_be_to_cpu_16(th->dst_port);
		out->seq = rte_be_to_cpu_32(th->sent_seq);
		out->ack = rte_be_to_cpu_32(th->recv_ack);
		out->tcp_flags = th->tcp_flags;
		out->window = rte_be_to_cpu_16(th->rx_win);
		out->payload_off = (uint16_t)(off + hlen);
		out->payload_len = (uint16_t)(end - off - hlen);
		out->kind = DP_PKT_TCP;
		return DP_PKT_TCP;
	}
	if (out->l4_proto == IPPROTO_UDP) {
		const struct rte_udp_hdr *uh;
		uint32_t ulen;

		if (end < off + sizeof(*uh))
			return dp_pkt_bad(out, DP_PKT_ERR_L4_SHORT);
		uh = (const struct rte_udp_hdr *)(frame + off);
		ulen = rte_be_to_cpu_16(uh->dgram_len);
		if (ulen < sizeof(*uh) || off + ulen > end)
			return dp_pkt_bad(out, DP_PKT_ERR_UDP_LEN);
		out->src_port = rte_be_to_cpu_16(uh->src_port);
		out->dst_port = rte_be_to_cpu_16(uh->dst_port);
		out->payload_off = (uint16_t)(off + sizeof(*uh));
		out->payload_len = (uint16_t)(ulen - sizeof(*uh));
		out->kind = DP_PKT_UDP;
		return DP_PKT_UDP;
	}
	out->payload_off = (uint16_t)off;
	out->payload_len = (uint16_t)(end - off);
	out->kind = DP_PKT_OTHER_L4;
	return DP_PKT_OTHER_L4;
}

static int
dp_pkt_ipv4(const uint8_t *frame, uint32_t len, uint32_t off, struct dp_pkt *out)
{
	const struct rte_ipv4_hdr *ih;
	uint32_t hlen, tot;

	if (len < off + sizeof(*ih))
		return dp_pkt_bad(out, DP_PKT_ERR_IP_SHORT);
	ih = (const struct rte_ipv4_hdr *)(frame + off);
	if ((ih->version_ihl >> 4) != 4)
		return dp_pkt_bad(out, DP_PKT_ERR_IP_VERSION);
	hlen = (uint32_t)(ih->version_ihl & 0xf) * 4;
	tot = rte_be_to_cpu_16(ih->total_length);
	if (hlen < sizeof(*ih) || len < off + hlen)
		return dp_pkt_bad(out, DP_PKT_ERR_IP_HLEN);
	/* Ethernet pads short frames: trust total_length, but never past the frame. */
	if (tot < hlen || off + tot > len)
		return dp_pkt_bad(out, DP_PKT_ERR_IP_TOTLEN);
	out->family = 4;
	out->l3_len = (uint16_t)tot;
	out->l4_proto = ih->next_proto_id;
	out->ttl = ih->time_to_live;
	memcpy(out->src_ip, &ih->src_addr, 4);
	memcpy(out->dst_ip, &ih->dst_addr, 4);
	if (rte_be_to_cpu_16(ih->fragment_offset) &
	    (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		out->l4_off = (uint16_t)(off + hlen);
		out->kind = DP_PKT_FRAGMENT;
		return DP_PKT_FRAGMENT;
	}
	return dp_pkt_l4(frame, off + hlen, off + tot, out);
}

static int
dp_pkt_ipv6(const uint8_t *frame, uint32_t len, uint32_t off, struct dp_pkt *out)
{
	const struct rte_ipv6_hdr *ih;
	uint32_t end, l4;
	int proto, i;

	if (len < off + sizeof(*ih))
		return dp_pkt_bad(out, DP_PKT_ERR_IP_SHORT);
	ih = (const struct rte_ipv6_hdr *)(frame + off);
	if ((rte_be_to_cpu_32(ih->vtc_flow) >> 28) != 6)
		return dp_pkt_bad(out, DP_PKT_ERR_IP_VERSION);
	end = off + sizeof(*ih) + rte_be_to_cpu_16(ih->payload_len);
	if (end > len)
		return dp_pkt_bad(out, DP_PKT_ERR_IP_TOTLEN);
	out->family = 6;
	out->l3_len = (uint16_t)(end - off);
	out->ttl = ih->hop_limits;
	memcpy(out->src_ip, ih->src_addr, 16);
	memcpy(out->dst_ip, ih->dst_addr, 16);
	proto = ih->proto;
	l4 = off + sizeof(*ih);
	for (i = 0; i < DP_PKT_MAX_IP6_EXT; i++) {
		size_t ext_len = 0;
		int next;

		if (proto == IPPROTO_FRAGMENT) {
			out->l4_proto = IPPROTO_FRAGMENT;
			out->l4_off = (uint16_t)l4;
			out->kind = DP_PKT_FRAGMENT;
			return DP_PKT_FRAGMENT;
		}
		/* Need the two fixed bytes of an extension header to walk it. */
		if (l4 + 2 > end) {
			if (proto == IPPROTO_HOPOPTS || proto == IPPROTO_ROUTING ||
			    proto == IPPROTO_DSTOPTS || proto == IPPROTO_AH)
				return dp_pkt_bad(out, DP_PKT_ERR_IP6_EXT);
			break;
		}
		next = rte_ipv6_get_next_ext(frame + l4, proto, &ext_len);
		if (next < 0)
			break;   /* not an extension header: proto is the L4 */
		if (l4 + ext_len > end)
			return dp_pkt_bad(out, DP_PKT_ERR_IP6_EXT);
		l4 += (uint32_t)ext_len;
		proto = next;
	}
	if (i == DP_PKT_MAX_IP6_EXT)
		return dp_pkt_bad(out, DP_PKT_ERR_IP6_EXT);
	out->l4_proto = (uint8_t)proto;
	return dp_pkt_l4(frame, l4, end, out);
}

int
dp_pkt_parse(const uint8_t *frame, uint32_t len, struct dp_pkt *out)
{
	uint32_t off = sizeof(struct rte_ether_hdr);
	uint16_t type;

	memset(out, 0, offsetof(struct dp_pkt, src_ip));
	if (len < sizeof(struct rte_ether_hdr))
		return dp_pkt_bad(out, DP_PKT_ERR_L2_SHORT);
	/* Byte reads: frames need not be aligned (captures, tunnels). */
	type = (uint16_t)(frame[12] << 8 | frame[13]);
	while (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ) {
		const struct rte_vlan_hdr *vh;

		if (out->vlans == DP_PKT_MAX_VLANS || len < off + sizeof(*vh))
			return dp_pkt_bad(out, DP_PKT_ERR_L2_SHORT);
		vh = (const struct rte_vlan_hdr *)(frame + off);
		if (out->vlans == 0)
			out->vlan_id = (uint16_t)((frame[off] << 8 | frame[off + 1]) & 0xfff);
		out->vlans++;
		type = (uint16_t)(frame[off + 2] << 8 | frame[off + 3]);
		(void)vh;
		off += sizeof(*vh);
	}
	out->l3_off = (uint16_t)off;
	switch (type) {
	case RTE_ETHER_TYPE_IPV4:
		return dp_pkt_ipv4(frame, len, off, out);
	case RTE_ETHER_TYPE_IPV6:
		return dp_pkt_ipv6(frame, len, off, out);
	default:
		out->kind = DP_PKT_NON_IP;
		return DP_PKT_NON_IP;
	}
}

int
dp_pkt_verify_csum(const uint8_t *frame, const struct dp_pkt *p)
{
	const void *l4 = frame + p->l4_off;
	int rc;

	if (p->kind != DP_PKT_TCP && p->kind != DP_PKT_UDP)
		return 0;
	if (p->family == 4) {
		const struct rte_ipv4_hdr *ih = (const void *)(frame + p->l3_off);

		/* A correct header sums to 0xffff including its checksum field. */
		if (rte_raw_cksum(ih, rte_ipv4_hdr_len(ih)) != 0xffff)
			return -EBADMSG;
		/* UDP over IPv4 may carry no checksum. */
		if (p->kind == DP_PKT_UDP && ((const struct rte_udp_hdr *)l4)->dgram_cksum == 0)
			return 0;
		rc = rte_ipv4_udptcp_cksum_verify(ih, l4);
	} else {
		const struct rte_ipv6_hdr *ih = (const void *)(frame + p->l3_off);
		uint32_t l4_len = (uint32_t)p->l3_off + p->l3_len - p->l4_off;
		uint32_t sum;

		if (p->l4_off == p->l3_off + sizeof(*ih)) {
			rc = rte_ipv6_udptcp_cksum_verify(ih, l4);
		} else {
			/* DPDK's helper takes the L4 length from payload_len,
			 * which counts extension headers too: sum the pseudo
			 * header (RFC 8200 8.1) ourselves. */
			uint32_t be_len = rte_cpu_to_be_32(l4_len);
			uint32_t be_proto = rte_cpu_to_be_32(p->l4_proto);

			sum = __rte_raw_cksum(ih->src_addr, 32, 0);
			sum = __rte_raw_cksum(&be_len, 4, sum);
			sum = __rte_raw_cksum(&be_proto, 4, sum);
			sum = __rte_raw_cksum(l4, l4_len, sum);
			rc = __rte_raw_cksum_reduce(sum) == 0xffff ? 0 : -1;
		}
	}
	return rc == 0 ? 0 : -EBADMSG;
}
