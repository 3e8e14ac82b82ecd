/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * The HTTP transaction as the matchers see it.
 *
 * The data plane fills these structures; the matchers only read them.
 * Every slice points either into packet data (zero-copy, the common case)
 * or into a bounded per-flow spill buffer when a field crossed a TCP
 * segment boundary. Contract: slices are valid only for the duration of
 * the callback that hands the structure to a matcher; a matcher that needs
 * a value later must copy it.
 */
#ifndef MT_TXN_H
#define MT_TXN_H

#include <stdint.h>
#include <stddef.h>

/** A (pointer, length) view into someone else's bytes. */
struct mt_slice {
	const uint8_t *p;
	uint32_t len;
};

/** One header line, name and value without surrounding whitespace. */
struct mt_header {
	struct mt_slice name;
	struct mt_slice value;
};

/** Most headers kept per message; later ones are counted, not kept. */
#define MT_MAX_HEADERS 64

/** Direction of a message within its flow. */
enum mt_dir {
	MT_DIR_TO_SERVER = 0, /**< request */
	MT_DIR_TO_CLIENT = 1, /**< response */
};

/** Well-known header slots, located once by the data plane. */
enum mt_known_hdr {
	MT_HDR_HOST,
	MT_HDR_USER_AGENT,
	MT_HDR_CONTENT_TYPE,
	MT_HDR_CONTENT_LENGTH,
	MT_HDR_COOKIE,
	MT_HDR_AUTHORIZATION,
	MT_HDR_TRANSFER_ENCODING,
	MT_HDR_CONTENT_ENCODING,
	MT_HDR_SERVER,
	MT_HDR_LOCATION,
	MT_HDR_SET_COOKIE,
	MT_HDR_X_FORWARDED_FOR,
	MT_HDR__COUNT
};

/** Message head of one direction (request or response). */
struct mt_http_msg {
	/* request line: method SP uri SP protocol */
	struct mt_slice method;
	struct mt_slice uri;          /**< raw request target */
	/* response line: protocol SP status SP reason */
	struct mt_slice reason;
	uint16_t status_code;         /**< 0 for requests */
	uint8_t http_major;
	uint8_t http_minor;
	uint8_t chunked;              /**< Transfer-Encoding: chunked */
	uint8_t has_content_length;
	uint8_t obs_fold;             /**< a header value was folded (obsolete line folding) */
	uint8_t names_plain;          /**< no header name holds CR or LF (the parser checked) */
	uint16_t n_headers;
	uint32_t headers_dropped;     /**< headers beyond MT_MAX_HEADERS */
	uint32_t truncated;           /**< bytes lost to the spill cap */
	uint64_t content_length;      /**< valid when has_content_length */
	/** index into headers[] of each well-known header, -1 if absent */
	int16_t known[MT_HDR__COUNT];
	struct mt_header headers[MT_MAX_HEADERS];
};

/** Addresses of the flow a transaction belongs to (client = initiator). */
struct mt_flow_tuple {
	uint8_t family;               /**< 4 or 6 */
	uint8_t proto;                /**< IPPROTO_TCP */
	uint16_t client_port;         /**< host byte order */
	uint16_t server_port;
	uint8_t client_ip[16];        /**< IPv4 in the first 4 bytes */
	uint8_t server_ip[16];
	uint64_t flow_id;
};

/** One request/response exchange. */
struct mt_txn {
	const struct mt_flow_tuple *tuple;
	uint64_t txn_id;              /**< per flow, from 0 */
	uint64_t ts_ns;               /**< time of the packet being processed */
	struct mt_http_msg req;
	struct mt_http_msg resp;      /**< status_code == 0 until the response head */
	uint64_t req_body_len;        /**< body bytes seen so far */
	uint64_t resp_body_len;
	/** the flow's flowbits (one bit per name of the rule generation); NULL:
	 *  none are set, and rules that set them change nothing */
	uint64_t *flowbits;
};

/** Look up a header by its well-known slot; NULL if absent. */
static inline const struct mt_slice *
mt_msg_known(const struct mt_http_msg *m, enum mt_known_hdr h)
{
	int16_t i = m->known[h];
	return i < 0 ? NULL : &m->headers[i].value;
}

#endif /* MT_TXN_H */
