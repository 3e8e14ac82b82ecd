/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * L2/L3/L4 parsing of one frame: Ethernet, 802.1Q/802.1ad, IPv4, IPv6
 * (with extension headers), TCP and UDP.
 *
 * Pure function over a contiguous buffer, so that it can be tested and
 * fuzzed without EAL. Every length is checked before it is read; a frame
 * that lies about its lengths is DP_PKT_MALFORMED, never an over-read.
 */
#ifndef DP_PKT_H
#define DP_PKT_H

#include <stdint.h>
#include <stdbool.h>

/** What the parser found. */
enum dp_pkt_kind {
	DP_PKT_TCP = 0,
	DP_PKT_UDP,
	DP_PKT_OTHER_L4,   /**< IP but neither TCP nor UDP (ICMP, ...) */
	DP_PKT_NON_IP,     /**< ARP, LLDP, ... */
	DP_PKT_FRAGMENT,   /**< IP fragment: no L4 header to read */
	DP_PKT_MALFORMED,  /**< truncated or inconsistent headers */
};

/** Why a frame is malformed (for counters and tests). */
enum dp_pkt_err {
	DP_PKT_OK = 0,
	DP_PKT_ERR_L2_SHORT,
	DP_PKT_ERR_IP_SHORT,
	DP_PKT_ERR_IP_VERSION,
	DP_PKT_ERR_IP_HLEN,
	DP_PKT_ERR_IP_TOTLEN,
	DP_PKT_ERR_IP6_EXT,
	DP_PKT_ERR_L4_SHORT,
	DP_PKT_ERR_TCP_HLEN,
	DP_PKT_ERR_UDP_LEN,
	DP_PKT_ERR__COUNT
};

/** Parsed view of a frame. Addresses are in network byte order. */
struct dp_pkt {
	uint8_t kind;          /**< enum dp_pkt_kind */
	uint8_t err;           /**< enum dp_pkt_err when MALFORMED */
	uint8_t family;        /**< 4 or 6, 0 if not IP */
	uint8_t l4_proto;      /**< IPPROTO_* */
	uint8_t vlans;         /**< VLAN tags seen */
	uint8_t tcp_flags;
	uint8_t ttl;
	uint16_t vlan_id;      /**< outermost VLAN id, 0 if none */
	uint16_t l3_off;       /**< offset of the IP header */
	uint16_t l4_off;       /**< offset of the L4 header */
	uint16_t payload_off;  /**< offset of the L4 payload */
	uint16_t payload_len;  /**< L4 payload bytes (bounded by the IP length, not the frame) */
	uint16_t l3_len;       /**< IP header + payload length from the IP header */
	uint16_t src_port;     /**< host order */
	uint16_t dst_port;
	uint32_t seq;          /**< host order */
	uint32_t ack;
	uint16_t window;
	uint8_t src_ip[16];    /**< IPv4 in the first 4 bytes */
	uint8_t dst_ip[16];
};

/**
 * Parse @p len bytes at @p frame into @p out.
 * @return out->kind.
 */
int dp_pkt_parse(const uint8_t *frame, uint32_t len, struct dp_pkt *out);

/**
 * Verify the IP header checksum (IPv4) and the TCP/UDP checksum of a
 * frame parsed as TCP or UDP.
 * @return 0 if valid, -EBADMSG if not.
 */
int dp_pkt_verify_csum(const uint8_t *frame, const struct dp_pkt *p);

/** Name of a malformation reason, for stats. */
const char *dp_pkt_err_name(enum dp_pkt_err e);

#endif /* DP_PKT_H */
