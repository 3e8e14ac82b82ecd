/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Engine events: anomalies the data plane itself detects (HTTP framing
 * that parsers disagree on, TCP segments that rewrite data or may never
 * reach the host), reported as alerts like Suricata's stream and
 * app-layer events. They matter because
 * a signature can never see what the parser refused: a request-smuggling
 * attempt that llhttp rejects would otherwise pass silently.
 */
#ifndef DP_EVENTS_H
#define DP_EVENTS_H

#include "mt_engine.h"

/** Event kinds. */
enum dp_event {
	DP_EV_HTTP_SMUGGLING = 0,   /**< Content-Length with Transfer-Encoding, duplicate CL */
	DP_EV_HTTP_BAD_TE,          /**< Transfer-Encoding not ending in chunked */
	DP_EV_HTTP_BAD_CL,          /**< invalid Content-Length value */
	DP_EV_HTTP_BAD_HEADER,      /**< header syntax (space before colon, bad token) */
	DP_EV_HTTP_BAD_CHUNK,       /**< invalid chunk size */
	DP_EV_HTTP_BAD_REQUEST_LINE,/**< method, URI or version */
	DP_EV_HTTP_BAD_LINE_END,    /**< bare CR or LF where CRLF is required */
	DP_EV_HTTP_OTHER,           /**< any other request parse error */
	DP_EV_HTTP_OBS_FOLD,        /**< a folded header value */
	DP_EV_TCP_OVERLAP_DIFF,     /**< overlapping segment with different data */
	DP_EV_TCP_TTL_EVASION,      /**< segment with a TTL far below the flow's */
	DP_EV_IP_TINY_FRAG,         /**< tiny non-final IP fragments */
	DP_EV__COUNT
};

/** The rule description of an event (static). */
const struct mt_rule_info *dp_event_rule(enum dp_event ev);

/** The event for an llhttp error on a request. */
enum dp_event dp_event_from_llhttp(int llhttp_errno);

#endif /* DP_EVENTS_H */
