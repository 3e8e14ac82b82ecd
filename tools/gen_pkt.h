/* gen_pkt.h - frame building (Ethernet / 802.1Q / IPv4 / IPv6 / TCP with
 * correct checksums) and a buffered pcap writer for apiguard-gen.
 */
#ifndef GEN_PKT_H
#define GEN_PKT_H

#include <stddef.h>
#include <stdint.h>

#define GEN_TCP_FIN 0x01
#define GEN_TCP_SYN 0x02
#define GEN_TCP_RST 0x04
#define GEN_TCP_PSH 0x08
#define GEN_TCP_ACK 0x10

/* Largest frame the builder emits: Ethernet + VLAN + IPv6 + TCP with
 * options + one MSS worth of payload (MSS is capped at 9000). */
#define GEN_MAX_FRAME (18 + 40 + 60 + 9000)

/* Addresses of one TCP connection. IPv4 addresses use the first 4 bytes. */
struct gen_endpoints {
	int ipv6;
	int vlan;
	uint16_t vlan_id;
	uint8_t client_mac[6];
	uint8_t server_mac[6];
	uint8_t client_ip[16];
	uint8_t server_ip[16];
	uint16_t client_port;
	uint16_t server_port;
};

/* One TCP segment to build. */
struct gen_seg {
	int from_client;
	uint16_t ip_id;     /* IPv4 identification */
	uint8_t ttl;        /* TTL / hop limit */
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	uint16_t window;
	const uint8_t *opts; /* TCP options, length multiple of 4 */
	size_t opts_len;
	const uint8_t *payload;
	size_t payload_len;
	int bad_checksum;    /* deliberately corrupt the TCP checksum */
};

/**
 * Build one Ethernet frame into @p out (at least GEN_MAX_FRAME bytes).
 * @param out  destination buffer
 * @param ep   connection addresses
 * @param seg  segment description
 * @return frame length in bytes
 */
size_t gen_pkt_build(uint8_t *out, const struct gen_endpoints *ep,
		     const struct gen_seg *seg);

/**
 * Internet checksum (RFC 1071) folded to 16 bits, not inverted.
 * @param sum  running 32-bit-or-wider partial sum to continue from
 */
uint64_t gen_csum_partial(const void *data, size_t len, uint64_t sum);
uint16_t gen_csum_fold(uint64_t sum);

struct gen_pcap;

/**
 * Create a pcap file (LINKTYPE_ETHERNET, microsecond timestamps).
 * @return writer, or NULL with errno set
 */
struct gen_pcap *gen_pcap_open(const char *path);

/**
 * Append one record. Timestamps must be non-decreasing; the writer
 * rejects a step backwards so a scheduling bug cannot go unnoticed.
 * @return 0, or a negative errno (-EINVAL for a timestamp going back)
 */
int gen_pcap_write(struct gen_pcap *w, uint64_t ts_us, const void *frame,
		   size_t len);

/**
 * Flush and close. Frees @p w in every case.
 * @return 0, or a negative errno from the final write/close
 */
int gen_pcap_close(struct gen_pcap *w);

#endif /* GEN_PKT_H */
