/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The whole worker packet path on arbitrary frames: parse, flow, TCP
 * reassembly, HTTP, the shipped rule pack (compiled once), the behaviour
 * worker side and the analytics stage, verdicts and RSTs, through
 * dp_testkit (a single-threaded worker with no ports).
 *
 * Rules: the shipped pack plus fuzz_packets.rules (pass, drop and reject
 * rules with short triggers, for the verdict and RST paths).
 *
 * Input (make_corpus.py in this folder makes it from a capture):
 *   byte 0      mode: bit0 validate checksums, bit1 no mid-stream pick-up,
 *               bit2 fail closed, bit3 HTTP errors fail closed,
 *               bit4 no RST on reject, bit5 HTTP only on ports 80/8080
 *   then frames: u16 big-endian length, u8 meta, the frame bytes;
 *               meta bit0 = arrival port (0 client side, 1 server side),
 *               meta >> 1 = n: the clock advances n*n ms before the frame.
 * A truncated last frame is fed as far as it goes.
 *
 * After each input every flow is ended and the kit must be idle: no flow,
 * every pool full, no open body (else abort: a leak). Alerts are checked
 * field by field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_pkt.h"
#include "dp_testkit.h"
#include "dp_worker.h"
#include "fz_common.h"

#define FZ_T0 1700000000000000000ull   /* a fixed start: runs are reproducible */
#define FZ_EXPIRE_NS 100000000ull       /* as the worker loop */

static struct dp_testkit *kit;

static void
fz_alert(void *arg, const struct dp_alert *a)
{
	(void)arg;
	if (a->rule == NULL)
		fz_fail("alert without a rule");
	if (a->method_len > DP_ALERT_METHOD || a->uri_len > DP_ALERT_URI ||
	    a->host_len > DP_ALERT_HOST || a->ua_len > DP_ALERT_UA ||
	    a->ctype_len > DP_ALERT_CTYPE || a->evidence_len > sizeof(a->evidence))
		fz_fail("alert field length beyond its array");
	if (a->dir > 1 || a->outcome > DP_OUTCOME_PASSED)
		fz_fail("alert dir %u outcome %u", a->dir, a->outcome);
	/* The rule must still be alive (it lives as long as its engine). */
	fz_sink += (uint32_t)strlen(a->rule->msg) + a->rule->sid;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dp_testkit_params p;
	char *err = NULL;

	(void)argc;
	(void)argv;
	fz_eal_init("fuzz_packets");
	dp_testkit_params_defaults(&p);
	p.engine = fz_rule_pack(FUZZ_SRCDIR "/tests/fuzz/fuzz_packets.rules"); /* until exit */
	p.analytics = true;
	p.alert_cb = fz_alert;
	kit = dp_testkit_create("fzpk", &p, &err);
	if (kit == NULL)
		fz_fail("dp_testkit_create: %s", err ? err : "?");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_params *dpp = dp_testkit_dp_params(kit);
	uint64_t now = FZ_T0, last_expire = FZ_T0;
	size_t off = 1;
	char why[128];
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	dp_testkit_set_checks(kit, mode & 1, !(mode & 2));
	dpp->fail_policy = (mode & 4) ? DP_FAIL_CLOSED : DP_FAIL_OPEN;
	dpp->http_error_policy = (mode & 8) ? DP_FAIL_CLOSED : DP_FAIL_OPEN;
	dpp->reject_send_rst = !(mode & 16);
	memset(dpp->http_ports, 0, sizeof(dpp->http_ports));
	if (mode & 32) {
		dpp->http_ports[0] = 80;
		dpp->http_ports[1] = 8080;
	}
	dp_testkit_set_time(kit, now);

	while (off + 3 <= size) {
		uint32_t len = (uint32_t)data[off] << 8 | data[off + 1];
		uint8_t meta = data[off + 2];
		uint64_t step = (uint64_t)(meta >> 1) * (meta >> 1) * 1000000ull;

		off += 3;
		if (len > size - off)
			len = (uint32_t)(size - off);
		now += step;
		dp_testkit_set_time(kit, now);
		if (now - last_expire > FZ_EXPIRE_NS) {
			dp_testkit_expire(kit, 256);
			last_expire = now;
		}
		if (len > 0) {
			/* An exactly sized copy: any over-read hits a redzone. */
			uint8_t *frame = malloc(len);

			struct dp_pkt pk;
			int kind;

			memcpy(frame, data + off, len);
			/* The parser alone on the exact copy (the mbuf hides
			 * over-reads), and the bounds the worker relies on. */
			kind = dp_pkt_parse(frame, len, &pk);
			if ((kind == DP_PKT_TCP || kind == DP_PKT_UDP) &&
			    ((uint32_t)pk.payload_off + pk.payload_len > len ||
			     pk.l4_off < pk.l3_off || pk.payload_off < pk.l4_off))
				fz_fail("parsed payload %u+%u beyond a %u-byte frame",
					pk.payload_off, pk.payload_len, len);
			if (kind == DP_PKT_TCP || kind == DP_PKT_UDP)
				fz_sink += (uint32_t)dp_pkt_verify_csum(frame, &pk);
			(void)dp_testkit_frame(kit, frame, len, meta & 1);
			free(frame);
		}
		off += len;
	}
	dp_testkit_flush(kit);
	if (dp_testkit_check_idle(kit, why, sizeof(why)) != 0)
		fz_fail("not idle after the input: %s", why);
	if (dp_testkit_reset(kit) != 0)
		fz_fail("dp_testkit_reset failed");
	return 0;
}
