/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_params.h"

#include <string.h>

/*
 * Defaults for an appliance that protects one typical JSON API with no
 * configuration file at all. They are sized for a small box (one worker,
 * a few hundred MB of hugepages) rather than for peak throughput; a
 * deployment that needs more says so in the YAML file.
 *
 * control/ctl_config.c declares the same values as the documented defaults
 * of its key table, and tests/unit/test_config.c checks that the two agree.
 */
void
dp_params_defaults(struct dp_params *p)
{
	memset(p, 0, sizeof(*p));
	for (unsigned int i = 0; i < DP_MAX_PORTS; i++)
		p->ports[i].peer = -1;
	p->n_ports = 0;
	p->n_workers = 1;
	p->distribution = DP_DIST_AUTO;
	p->checksum = DP_CSUM_AUTO;
	/* An inline appliance that breaks the API it protects is worse than
	 * one that lets a rare uninspected packet through: fail open. */
	p->fail_policy = DP_FAIL_OPEN;
	p->http_error_policy = DP_FAIL_OPEN;
	/* 2^n - 1: rte_mempool is most memory-efficient at that size. */
	p->mbufs = 16383;
	p->burst = 32;
	p->rx_desc = 1024;
	p->tx_desc = 1024;
	p->ring_size = 4096;

	p->flow_max = 65536;
	p->flow_timeout_new = 30;
	p->flow_timeout_est = 300;
	p->flow_timeout_closed = 10;
	p->flow_timeout_udp = 60;

	p->reasm_flow_cap = 256 * 1024;
	p->reasm_pool_bufs = 8192;
	/* Pick up flows that were open before start-up or a restart. */
	p->midstream = true;
	/* Snort's stream ttl_limit default: real TTLs of one flow direction
	 * stay within a few hops; an insertion needs the junk to die first. */
	p->reasm_ttl_limit = 5;

	p->http_sessions = 16384;   /* ~4.6 KiB each: 75 MB per worker */
	p->http_spill_size = 16384;
	p->http_spill_bufs = 1024;
	/* http_ports[] all zero: every TCP port is tried as HTTP. */

	p->alert_ring = 8192;
	p->reject_send_rst = true;
}
