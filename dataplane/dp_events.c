/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_events.h"

#include <llhttp.h>

/* Every event is an alert rule in the 2400000 range with its ATT&CK and
 * OWASP tags (all active in ATT&CK v18.1; tests/unit/test_events.c checks
 * them against the vendored tables). */
static const char *const ev_t1190[] = { "T1190" };
static const char *const ev_ta0001[] = { "TA0001" };
static const char *const ev_t1027[] = { "T1027" };
static const char *const ev_ta0005[] = { "TA0005" };
static const char *const ev_api8[] = { "API8:2023" };

#define DP_EV_RULE(s, m, tech, tac, sev)                                       \
	{ .sid = (s), .gid = 1, .rev = 1, .action = MT_ACT_ALERT, .severity = (sev), \
	  .priority = (sev), .msg = (m), .classtype = "protocol-command-decode",   \
	  .category = "Generic Protocol Command Decode",                           \
	  .techniques = (tech), .n_techniques = 1, .tactics = (tac), .n_tactics = 1, \
	  .owasp = ev_api8, .n_owasp = 1, .text = "(engine event)", .file = "<engine>", \
	  .line = 0 }

static const struct mt_rule_info dp_event_rules[DP_EV__COUNT] = {
	[DP_EV_HTTP_SMUGGLING] = DP_EV_RULE(2400001,
		"APIGUARD HTTP anomaly: request smuggling - Content-Length with "
		"Transfer-Encoding or duplicate Content-Length", ev_t1190, ev_ta0001, 1),
	[DP_EV_HTTP_BAD_TE] = DP_EV_RULE(2400002,
		"APIGUARD HTTP anomaly: invalid Transfer-Encoding (smuggling attempt)",
		ev_t1190, ev_ta0001, 1),
	[DP_EV_HTTP_BAD_CL] = DP_EV_RULE(2400003,
		"APIGUARD HTTP anomaly: invalid Content-Length", ev_t1190, ev_ta0001, 2),
	[DP_EV_HTTP_BAD_HEADER] = DP_EV_RULE(2400004,
		"APIGUARD HTTP anomaly: malformed header (e.g. space before colon)",
		ev_t1190, ev_ta0001, 2),
	[DP_EV_HTTP_BAD_CHUNK] = DP_EV_RULE(2400005,
		"APIGUARD HTTP anomaly: invalid chunk size", ev_t1190, ev_ta0001, 2),
	[DP_EV_HTTP_BAD_REQUEST_LINE] = DP_EV_RULE(2400006,
		"APIGUARD HTTP anomaly: malformed request line", ev_t1190, ev_ta0001, 3),
	[DP_EV_HTTP_BAD_LINE_END] = DP_EV_RULE(2400007,
		"APIGUARD HTTP anomaly: bare CR or LF line ending", ev_t1190, ev_ta0001, 2),
	[DP_EV_HTTP_OTHER] = DP_EV_RULE(2400008,
		"APIGUARD HTTP anomaly: request the parser rejected", ev_t1190, ev_ta0001, 3),
	[DP_EV_HTTP_OBS_FOLD] = DP_EV_RULE(2400009,
		"APIGUARD HTTP anomaly: folded header value (obs-fold, evasion)",
		ev_t1027, ev_ta0005, 2),
	[DP_EV_TCP_OVERLAP_DIFF] = DP_EV_RULE(2400020,
		"APIGUARD TCP anomaly: overlapping segment with different data (evasion)",
		ev_t1027, ev_ta0005, 1),
	[DP_EV_TCP_TTL_EVASION] = DP_EV_RULE(2400021,
		"APIGUARD TCP anomaly: data with TTLs far apart in one direction "
		"(low-TTL insertion evasion)", ev_t1027, ev_ta0005, 1),
	[DP_EV_IP_TINY_FRAG] = DP_EV_RULE(2400030,
		"APIGUARD IP anomaly: tiny fragments (evasion), dropped",
		ev_t1027, ev_ta0005, 1),
};

const struct mt_rule_info *
dp_event_rule(enum dp_event ev)
{
	return (unsigned int)ev < DP_EV__COUNT ? &dp_event_rules[ev] : NULL;
}

enum dp_event
dp_event_from_llhttp(int err)
{
	switch (err) {
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		return DP_EV_HTTP_SMUGGLING;
	case HPE_INVALID_TRANSFER_ENCODING:
		return DP_EV_HTTP_BAD_TE;
	case HPE_INVALID_CONTENT_LENGTH:
		return DP_EV_HTTP_BAD_CL;
	case HPE_INVALID_HEADER_TOKEN:
		return DP_EV_HTTP_BAD_HEADER;
	case HPE_INVALID_CHUNK_SIZE:
		return DP_EV_HTTP_BAD_CHUNK;
	case HPE_INVALID_METHOD:
	case HPE_INVALID_URL:
	case HPE_INVALID_VERSION:
	case HPE_INVALID_CONSTANT:
		return DP_EV_HTTP_BAD_REQUEST_LINE;
	case HPE_CR_EXPECTED:
	case HPE_LF_EXPECTED:
	case HPE_STRICT:
		return DP_EV_HTTP_BAD_LINE_END;
	default:
		return DP_EV_HTTP_OTHER;
	}
}
