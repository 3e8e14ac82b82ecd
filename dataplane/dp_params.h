/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Data-plane parameters: the part of the configuration the workers read.
 *
 * The control plane parses and validates the configuration file into this
 * plain structure (see control/ctl_config.h); the data plane never parses
 * text. dp_params_defaults() gives the built-in defaults that let apiguard
 * run with no configuration at all.
 */
#ifndef DP_PARAMS_H
#define DP_PARAMS_H

#include <stdint.h>
#include <stdbool.h>

struct mt_behav_params;

#define DP_MAX_PORTS 16
#define DP_MAX_WORKERS 64
#define DP_PORT_NAME_MAX 64

/** How packets reach workers. */
enum dp_distribution {
	DP_DIST_AUTO = 0,   /**< RSS if every port supports it, else software */
	DP_DIST_RSS,        /**< symmetric RSS, one queue per worker */
	DP_DIST_SOFTWARE,   /**< an I/O lcore hashes symmetrically into worker rings */
};

/** What to do with packets the engine could not inspect. */
enum dp_fail_policy {
	DP_FAIL_OPEN = 0,   /**< forward uninspected (counted) */
	DP_FAIL_CLOSED,     /**< drop (counted) */
};

/** Checksum validation, as Suricata's -k. */
enum dp_checksum_mode {
	DP_CSUM_AUTO = 0,   /**< validate; stop validating a port once most packets fail (offload) */
	DP_CSUM_ALL,        /**< validate every packet, drop-count invalid ones */
	DP_CSUM_NONE,       /**< never validate */
};

/** One port. */
struct dp_port_params {
	char name[DP_PORT_NAME_MAX];   /**< DPDK device name, e.g. "net_tap0" or a PCI address */
	int peer;                      /**< index in ports[] of the inline peer, -1 = none (sink) */
};

/** Everything the data plane needs at start-up. */
struct dp_params {
	struct dp_port_params ports[DP_MAX_PORTS];
	uint16_t n_ports;
	uint16_t n_workers;            /**< worker lcores */
	uint8_t distribution;          /**< enum dp_distribution */
	uint8_t checksum;              /**< enum dp_checksum_mode */
	uint8_t fail_policy;           /**< enum dp_fail_policy */
	uint8_t http_error_policy;     /**< enum dp_fail_policy for HTTP parse errors (open: stop parsing, pass flow) */
	uint32_t mbufs;                /**< mbufs in the packet pool */
	uint16_t burst;                /**< RX/TX burst size */
	uint16_t rx_desc;
	uint16_t tx_desc;
	uint32_t ring_size;            /**< per-worker rings in software distribution */
	/* flows */
	uint32_t flow_max;             /**< per worker */
	uint32_t flow_timeout_new;     /**< seconds, flows without a completed handshake */
	uint32_t flow_timeout_est;     /**< seconds, established */
	uint32_t flow_timeout_closed;  /**< seconds, after FIN/RST */
	uint32_t flow_timeout_udp;     /**< seconds */
	/* TCP reassembly */
	uint32_t reasm_flow_cap;       /**< bytes held out of order per direction */
	uint32_t reasm_pool_bufs;      /**< per worker, DP_TCP_SEG_DATA bytes each */
	bool midstream;                /**< pick up flows already established */
	uint8_t reasm_ttl_limit;       /**< ignore (inline: drop) TCP segments whose TTL is more
					    than this below the flow direction's; 0 = off */
	/* HTTP */
	uint32_t http_sessions;        /**< per worker */
	uint32_t http_spill_size;      /**< bytes per spill buffer (fields crossing segments) */
	uint32_t http_spill_bufs;      /**< spill buffers per worker */
	uint16_t http_ports[16];       /**< TCP ports parsed as HTTP; 0 ends the list. Empty = all. */
	/* alerts */
	uint32_t alert_ring;           /**< alert records in flight to the control plane */
	bool reject_send_rst;          /**< reject: send RSTs to both ends */
	/** Behaviour settings the analytics tables are sized from, read only
	 * by dp_plane_create() (NULL: the defaults). Table sizes cannot change
	 * after that. */
	const struct mt_behav_params *behav;
};

/** Fill @p p with the built-in defaults (no ports: the caller adds them). */
void dp_params_defaults(struct dp_params *p);

#endif /* DP_PARAMS_H */
