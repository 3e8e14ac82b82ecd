/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration loader: defaults, a full round-trip of every key, every
 * kind of error with its line and allowed range, and the shipped file.
 * Runs without EAL (no hugepages) and under ASan/UBSan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "ctl_config.h"
#include "dp_params.h"
#include "tu_eal.h"

static struct ctl_config cfg;

/* Load @yaml as "t.yaml" into @c. */
static int
load(const char *yaml, struct ctl_config *c, char **err)
{
	return ctl_config_load_string(yaml, strlen(yaml), "t.yaml", c, err);
}

/* Count the lines of an error message. */
static unsigned int
n_lines(const char *s)
{
	unsigned int n = 1;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/*
 * Assert that @yaml fails with -EINVAL and that the message contains
 * @want (a whole error line or a part of one). Prints the message on a
 * mismatch so a failing run shows what the loader said.
 */
#define EXPECT_ERR(yaml, want) expect_err(yaml, want, __LINE__)
static char *
expect_err(const char *yaml, const char *want, int line)
{
	struct ctl_config c;
	char *err = NULL;
	int ret = load(yaml, &c, &err);

	CU_ASSERT_EQUAL(ret, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(err);
	if (err == NULL)
		return NULL;
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "\ntest line %d: wanted \"%s\" in:\n%s\n", line, want, err);
		CU_FAIL("error text mismatch");
	}
	return err;
}

static void
expect_err_free(const char *yaml, const char *want, int line)
{
	free(expect_err(yaml, want, line));
}
#define EXPECT_ERR1(yaml, want) expect_err_free(yaml, want, __LINE__)

static const char *
var(const struct ctl_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_vars; i++)
		if (strcmp(c->vars[i].name, name) == 0)
			return c->vars[i].value;
	return NULL;
}

/* ------------------------------------------------------------------------ */

static void
test_dp_defaults(void)
{
	struct dp_params p;

	memset(&p, 0x5a, sizeof(p));
	dp_params_defaults(&p);
	CU_ASSERT_EQUAL(p.n_ports, 0);
	for (unsigned int i = 0; i < DP_MAX_PORTS; i++)
		CU_ASSERT_EQUAL(p.ports[i].peer, -1);
	CU_ASSERT_EQUAL(p.n_workers, 1);
	CU_ASSERT_EQUAL(p.distribution, DP_DIST_AUTO);
	CU_ASSERT_EQUAL(p.checksum, DP_CSUM_AUTO);
	CU_ASSERT_EQUAL(p.fail_policy, DP_FAIL_OPEN);
	CU_ASSERT_EQUAL(p.http_error_policy, DP_FAIL_OPEN);
	CU_ASSERT_EQUAL(p.mbufs, 16383);
	CU_ASSERT_EQUAL(p.burst, 32);
	CU_ASSERT_EQUAL(p.rx_desc, 1024);
	CU_ASSERT_EQUAL(p.tx_desc, 1024);
	CU_ASSERT_EQUAL(p.ring_size, 4096);
	CU_ASSERT_EQUAL(p.flow_max, 65536);
	CU_ASSERT_EQUAL(p.flow_timeout_new, 30);
	CU_ASSERT_EQUAL(p.flow_timeout_est, 300);
	CU_ASSERT_EQUAL(p.flow_timeout_closed, 10);
	CU_ASSERT_EQUAL(p.flow_timeout_udp, 60);
	CU_ASSERT_EQUAL(p.reasm_flow_cap, 256 * 1024);
	CU_ASSERT_EQUAL(p.reasm_pool_bufs, 8192);
	CU_ASSERT_TRUE(p.midstream);
	CU_ASSERT_EQUAL(p.reasm_ttl_limit, 5);
	CU_ASSERT_EQUAL(p.http_sessions, 16384);
	CU_ASSERT_EQUAL(p.http_spill_size, 16384);
	CU_ASSERT_EQUAL(p.http_spill_bufs, 1024);
	CU_ASSERT_EQUAL(p.http_ports[0], 0);
	CU_ASSERT_EQUAL(p.alert_ring, 8192);
	CU_ASSERT_TRUE(p.reject_send_rst);
}

static void
test_ctl_defaults(void)
{
	struct dp_params p;
	struct ctl_config c;

	memset(&c, 0x5a, sizeof(c));
	ctl_config_defaults(&c);
	/* The key table's documented defaults agree with the data plane's. */
	dp_params_defaults(&p);
	CU_ASSERT_EQUAL(memcmp(&c.dp, &p, sizeof(p)), 0);

	CU_ASSERT_EQUAL(c.n_rule_files, 0);
	CU_ASSERT_EQUAL(c.n_vars, 6);
	CU_ASSERT_STRING_EQUAL(var(&c, "HOME_NET"), "any");
	CU_ASSERT_STRING_EQUAL(var(&c, "EXTERNAL_NET"), "any");
	CU_ASSERT_STRING_EQUAL(var(&c, "HTTP_SERVERS"), "$HOME_NET");
	CU_ASSERT_STRING_EQUAL(var(&c, "HTTP_PORTS"), "[80,443,8000,8080,8443]");
	CU_ASSERT_STRING_EQUAL(var(&c, "SQL_SERVERS"), "$HOME_NET");
	CU_ASSERT_STRING_EQUAL(var(&c, "DNS_SERVERS"), "$HOME_NET");
	CU_ASSERT_STRING_EQUAL(c.classification_file, "");
	CU_ASSERT_STRING_EQUAL(c.rule_cache_dir, "");
	CU_ASSERT_STRING_EQUAL(c.log_dir, ".");
	CU_ASSERT_TRUE(c.eve_enabled);
	CU_ASSERT_STRING_EQUAL(c.eve_file, "eve.json");
	CU_ASSERT_TRUE(c.stats_enabled);
	CU_ASSERT_STRING_EQUAL(c.stats_file, "stats.json");
	CU_ASSERT_TRUE(c.console_alerts);
	CU_ASSERT_TRUE(c.rest_enabled);
	CU_ASSERT_STRING_EQUAL(c.rest_listen, "127.0.0.1:8088");
	CU_ASSERT_STRING_EQUAL(c.rest_tokens_file, "");
	CU_ASSERT_STRING_EQUAL(c.rest_tls_cert, "");
	CU_ASSERT_STRING_EQUAL(c.rest_tls_key, "");
	CU_ASSERT_STRING_EQUAL(c.rest_audit_log, "audit.json");
	CU_ASSERT_EQUAL(c.rest_max_body, 1024 * 1024);
	CU_ASSERT_EQUAL(c.rest_sse_heartbeat, 15);
	CU_ASSERT_EQUAL(c.alert_ring, 4096);
	CU_ASSERT_STRING_EQUAL(c.api_rules_file, "api.rules");
}

static void
test_empty_input(void)
{
	struct ctl_config c, d;
	char *err = (char *)1;

	ctl_config_defaults(&d);
	memset(&c, 0x33, sizeof(c));
	CU_ASSERT_EQUAL(load("", &c, &err), 0);
	CU_ASSERT_PTR_NULL(err);
	CU_ASSERT_EQUAL(memcmp(&c, &d, sizeof(c)), 0);
	/* Comments only, and explicitly empty sections. */
	CU_ASSERT_EQUAL(load("# nothing\n", &c, &err), 0);
	CU_ASSERT_EQUAL(memcmp(&c, &d, sizeof(c)), 0);
	CU_ASSERT_EQUAL(load("dataplane:\nrules: ~\noutputs: {}\n", &c, &err), 0);
	CU_ASSERT_PTR_NULL(err);
	CU_ASSERT_EQUAL(memcmp(&c, &d, sizeof(c)), 0);
	/* err may be NULL. */
	CU_ASSERT_EQUAL(load("rest: {enabled: false}\n", &c, NULL), 0);
	CU_ASSERT_FALSE(c.rest_enabled);
	CU_ASSERT_EQUAL(load("rest: {enabled: 7}\n", &c, NULL), -EINVAL);
}

static const char full_yaml[] =
	"dataplane:\n"
	"  workers: 4\n"
	"  distribution: software\n"
	"  checksum: none\n"
	"  exception-policy: drop\n"
	"  mbufs: 65535\n"
	"  burst: 64\n"
	"  rx-descriptors: 2048\n"
	"  tx-descriptors: 512\n"
	"  ring-size: 16384\n"
	"  ports:\n"
	"    - name: net_tap0\n"
	"      peer: net_tap1\n"
	"    - name: net_tap1\n"
	"      peer: net_tap0\n"
	"    - name: \"0000:03:00.0\"\n"
	"      peer: \"0000:03:00.0\"\n"
	"    - { name: net_pcap0 }\n"
	"  flows:\n"
	"    max: 131072\n"
	"    timeout-new: 2m\n"
	"    timeout-established: 2h\n"
	"    timeout-closed: 5\n"
	"    timeout-udp: 1d\n"
	"  reassembly:\n"
	"    flow-cap: 1MiB\n"
	"    pool-buffers: 4096\n"
	"    midstream: false\n"
	"    ttl-limit: 0\n"
	"  http:\n"
	"    ports: [80, 8080, 443]\n"
	"    sessions: 1024\n"
	"    spill-size: 8192B\n"
	"    spill-buffers: 64\n"
	"    on-parse-error: drop\n"
	"  alerts:\n"
	"    ring: 1024\n"
	"  reject:\n"
	"    send-rst: no\n"
	"rules:\n"
	"  files:\n"
	"    - /etc/apiguard/rules/a.rules\n"
	"    - 'b.rules'\n"
	"  vars:\n"
	"    HOME_NET: \"[10.0.0.0/8]\"\n"
	"    API_PORTS: 8080\n"
	"  classification-file: /etc/apiguard/classification.config\n"
	"  cache-dir: /var/cache/apiguard\n"
	"outputs:\n"
	"  log-dir: /var/log/apiguard\n"
	"  eve: { enabled: false, filename: alerts.json }\n"
	"  stats: { enabled: false, filename: s.json }\n"
	"  console: off\n"
	"  alert-ring: 100000\n"
	"  api-rules: extra.rules\n"
	"rest:\n"
	"  enabled: false\n"
	"  listen: \"[::1]:9090\"\n"
	"  tokens-file: /etc/apiguard/tokens\n"
	"  tls-cert: /etc/apiguard/cert.pem\n"
	"  tls-key: /etc/apiguard/key.pem\n"
	"  audit-log: /var/log/apiguard/audit.json\n"
	"  max-body: 64KiB\n"
	"  sse-heartbeat: 1m\n";

static void
test_full_file(void)
{
	struct ctl_config c;
	char *err = NULL;

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(load(full_yaml, &c, &err), 0);
	CU_ASSERT_PTR_NULL(err);
	CU_ASSERT_EQUAL(c.dp.n_workers, 4);
	CU_ASSERT_EQUAL(c.dp.distribution, DP_DIST_SOFTWARE);
	CU_ASSERT_EQUAL(c.dp.checksum, DP_CSUM_NONE);
	CU_ASSERT_EQUAL(c.dp.fail_policy, DP_FAIL_CLOSED);
	CU_ASSERT_EQUAL(c.dp.mbufs, 65535);
	CU_ASSERT_EQUAL(c.dp.burst, 64);
	CU_ASSERT_EQUAL(c.dp.rx_desc, 2048);
	CU_ASSERT_EQUAL(c.dp.tx_desc, 512);
	CU_ASSERT_EQUAL(c.dp.ring_size, 16384);
	CU_ASSERT_EQUAL_FATAL(c.dp.n_ports, 4);
	CU_ASSERT_STRING_EQUAL(c.dp.ports[0].name, "net_tap0");
	CU_ASSERT_EQUAL(c.dp.ports[0].peer, 1);
	CU_ASSERT_STRING_EQUAL(c.dp.ports[1].name, "net_tap1");
	CU_ASSERT_EQUAL(c.dp.ports[1].peer, 0);
	CU_ASSERT_STRING_EQUAL(c.dp.ports[2].name, "0000:03:00.0");
	CU_ASSERT_EQUAL(c.dp.ports[2].peer, 2);   /* reflect */
	CU_ASSERT_STRING_EQUAL(c.dp.ports[3].name, "net_pcap0");
	CU_ASSERT_EQUAL(c.dp.ports[3].peer, -1);  /* sink */
	CU_ASSERT_EQUAL(c.dp.ports[4].peer, -1);
	CU_ASSERT_EQUAL(c.dp.flow_max, 131072);
	CU_ASSERT_EQUAL(c.dp.flow_timeout_new, 120);
	CU_ASSERT_EQUAL(c.dp.flow_timeout_est, 7200);
	CU_ASSERT_EQUAL(c.dp.flow_timeout_closed, 5);
	CU_ASSERT_EQUAL(c.dp.flow_timeout_udp, 86400);
	CU_ASSERT_EQUAL(c.dp.reasm_flow_cap, 1024 * 1024);
	CU_ASSERT_EQUAL(c.dp.reasm_pool_bufs, 4096);
	CU_ASSERT_FALSE(c.dp.midstream);
	CU_ASSERT_EQUAL(c.dp.reasm_ttl_limit, 0);
	CU_ASSERT_EQUAL(c.dp.http_ports[0], 80);
	CU_ASSERT_EQUAL(c.dp.http_ports[1], 8080);
	CU_ASSERT_EQUAL(c.dp.http_ports[2], 443);
	CU_ASSERT_EQUAL(c.dp.http_ports[3], 0);
	CU_ASSERT_EQUAL(c.dp.http_sessions, 1024);
	CU_ASSERT_EQUAL(c.dp.http_spill_size, 8192);
	CU_ASSERT_EQUAL(c.dp.http_spill_bufs, 64);
	CU_ASSERT_EQUAL(c.dp.http_error_policy, DP_FAIL_CLOSED);
	CU_ASSERT_EQUAL(c.dp.alert_ring, 1024);
	CU_ASSERT_FALSE(c.dp.reject_send_rst);

	CU_ASSERT_EQUAL_FATAL(c.n_rule_files, 2);
	CU_ASSERT_STRING_EQUAL(c.rule_files[0], "/etc/apiguard/rules/a.rules");
	CU_ASSERT_STRING_EQUAL(c.rule_files[1], "b.rules");
	/* Overrides keep the defaults' order; new variables come after. */
	CU_ASSERT_EQUAL(c.n_vars, 7);
	CU_ASSERT_STRING_EQUAL(c.vars[0].name, "HOME_NET");
	CU_ASSERT_STRING_EQUAL(c.vars[0].value, "[10.0.0.0/8]");
	CU_ASSERT_STRING_EQUAL(c.vars[6].name, "API_PORTS");
	CU_ASSERT_STRING_EQUAL(c.vars[6].value, "8080");
	CU_ASSERT_STRING_EQUAL(var(&c, "HTTP_SERVERS"), "$HOME_NET");
	CU_ASSERT_STRING_EQUAL(c.classification_file, "/etc/apiguard/classification.config");
	CU_ASSERT_STRING_EQUAL(c.rule_cache_dir, "/var/cache/apiguard");
	CU_ASSERT_STRING_EQUAL(c.log_dir, "/var/log/apiguard");
	CU_ASSERT_FALSE(c.eve_enabled);
	CU_ASSERT_STRING_EQUAL(c.eve_file, "alerts.json");
	CU_ASSERT_FALSE(c.stats_enabled);
	CU_ASSERT_STRING_EQUAL(c.stats_file, "s.json");
	CU_ASSERT_FALSE(c.console_alerts);
	CU_ASSERT_FALSE(c.rest_enabled);
	CU_ASSERT_STRING_EQUAL(c.rest_listen, "[::1]:9090");
	CU_ASSERT_STRING_EQUAL(c.rest_tokens_file, "/etc/apiguard/tokens");
	CU_ASSERT_STRING_EQUAL(c.rest_tls_cert, "/etc/apiguard/cert.pem");
	CU_ASSERT_STRING_EQUAL(c.rest_tls_key, "/etc/apiguard/key.pem");
	CU_ASSERT_STRING_EQUAL(c.rest_audit_log, "/var/log/apiguard/audit.json");
	CU_ASSERT_EQUAL(c.rest_max_body, 64 * 1024);
	CU_ASSERT_EQUAL(c.rest_sse_heartbeat, 60);
	CU_ASSERT_EQUAL(c.alert_ring, 100000);
	CU_ASSERT_STRING_EQUAL(c.api_rules_file, "extra.rules");
}

static void
test_file_io(void)
{
	char path[] = "/tmp/test_config_XXXXXX";
	struct ctl_config c;
	char *err = NULL;
	int fd;

	CU_ASSERT_EQUAL(ctl_config_load("/nonexistent/apiguard.yaml", &c, &err), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/apiguard.yaml: No such file"));
	free(err);

	/* A real file: errors are named after it. */
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, "rest:\n  port: 1\n", 16) == 16);
	close(fd);
	CU_ASSERT_EQUAL(ctl_config_load(path, &c, &err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2: rest.port: unknown key"));
	free(err);
	unlink(path);
}

static void
test_shipped_file(void)
{
	struct ctl_config c, d;
	char *err = NULL;
	int ret;

	memset(&c, 0, sizeof(c));
	ret = ctl_config_load(TEST_SRCDIR "/configs/apiguard.yaml", &c, &err);
	if (err != NULL)
		fprintf(stderr, "\n%s\n", err);
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_PTR_NULL(err);
	/* It documents every default, so it must yield exactly the defaults. */
	ctl_config_defaults(&d);
	CU_ASSERT_EQUAL(memcmp(&c, &d, sizeof(c)), 0);
}

/* ------------------------------------------------------------------------ */
/* errors */

static void
test_unknown_key(void)
{
	char *err;

	/* Nested three levels deep, on line 5; siblings listed as allowed. */
	err = EXPECT_ERR("dataplane:\n"
			 "  workers: 2\n"
			 "  flows:\n"
			 "    max: 2048\n"
			 "    timeout-establishd: 5m\n",
			 "t.yaml:5: dataplane.flows.timeout-establishd: unknown key "
			 "(allowed: max, timeout-new, timeout-established, timeout-closed, "
			 "timeout-udp)");
	if (err != NULL)
		CU_ASSERT_EQUAL(n_lines(err), 1);
	free(err);
	EXPECT_ERR1("\n\nloging: {}\n",
		    "t.yaml:3: loging: unknown key (allowed: dataplane, rules, outputs, rest)");
	EXPECT_ERR1("dataplane:\n  ports:\n    - name: a\n      pear: a\n",
		    "t.yaml:4: dataplane.ports[0].pear: unknown key (allowed: name, peer)");
	EXPECT_ERR1("outputs:\n  eve: {enabled: true, file: x}\n",
		    "t.yaml:2: outputs.eve.file: unknown key (allowed: enabled, filename)");
}

static void
test_wrong_type(void)
{
	EXPECT_ERR1("dataplane:\n  workers: [1]\n",
		    "t.yaml:2: dataplane.workers: expected a scalar, got a sequence "
		    "(allowed: 1..64)");
	EXPECT_ERR1("dataplane:\n  workers: four\n",
		    "t.yaml:2: dataplane.workers: expected an unsigned integer, got \"four\"");
	EXPECT_ERR1("dataplane:\n  workers: \"4\"\n",
		    "dataplane.workers: expected an unsigned integer, got a quoted string");
	EXPECT_ERR1("dataplane:\n  workers:\n",
		    "t.yaml:2: dataplane.workers: missing value (allowed: 1..64)");
	EXPECT_ERR1("dataplane:\n  reassembly:\n    midstream: maybe\n",
		    "t.yaml:3: dataplane.reassembly.midstream: expected a boolean, got \"maybe\" "
		    "(allowed: true, false)");
	EXPECT_ERR1("rest:\n  enabled: 'true'\n",
		    "rest.enabled: expected a boolean, got a quoted string");
	EXPECT_ERR1("dataplane:\n  flows: 5\n",
		    "t.yaml:2: dataplane.flows: expected a mapping (section), got a plain scalar");
	EXPECT_ERR1("dataplane:\n  ports: net_tap0\n",
		    "t.yaml:2: dataplane.ports: expected a sequence, got a plain scalar");
	EXPECT_ERR1("rules:\n  vars: [a]\n",
		    "t.yaml:2: rules.vars: expected a mapping, got a sequence");
	EXPECT_ERR1("rules:\n  files: x.rules\n",
		    "t.yaml:2: rules.files: expected a sequence, got a plain scalar");
	EXPECT_ERR1("- a\n- b\n",
		    "t.yaml:1: (top): expected a mapping of sections, got a sequence");
	EXPECT_ERR1("outputs:\n  log-dir: {a: b}\n",
		    "t.yaml:2: outputs.log-dir: expected a scalar, got a mapping");
	EXPECT_ERR1("outputs:\n  eve:\n    filename: \"\"\n",
		    "t.yaml:3: outputs.eve.filename: must not be empty");
	EXPECT_ERR1("rules:\n  files: [a.rules, [b]]\n",
		    "t.yaml:2: rules.files[1]: expected a file path, got a sequence");
	EXPECT_ERR1("rules:\n  vars:\n    HOME_NET: [a]\n",
		    "t.yaml:3: rules.vars.HOME_NET: expected a string, got a sequence");
	EXPECT_ERR1("rules:\n  vars:\n    HOME_NET: ''\n",
		    "t.yaml:3: rules.vars.HOME_NET: expected a string, got an empty value "
		    "(allowed: a non-empty string)");
	EXPECT_ERR1("rules:\n  files: ['']\n",
		    "t.yaml:2: rules.files[0]: expected a file path, got an empty value");
	EXPECT_ERR1("dataplane:\n  ports:\n    - name: \"\"\n",
		    "t.yaml:3: dataplane.ports[0].name: expected a port name, got an empty value "
		    "(allowed: a device name of 1..63 bytes)");
	EXPECT_ERR1("rules:\n  vars:\n    1NET: any\n",
		    "t.yaml:3: rules.vars.1NET: bad variable name");
	EXPECT_ERR1("? [a, b]\n: c\n",
		    "t.yaml:1: (top): mapping keys must be strings, got a sequence");
}

static void
test_out_of_range(void)
{
	EXPECT_ERR1("dataplane:\n  workers: 65\n",
		    "t.yaml:2: dataplane.workers: value 65 out of range (allowed: 1..64)");
	EXPECT_ERR1("dataplane:\n  workers: 0\n",
		    "dataplane.workers: value 0 out of range (allowed: 1..64)");
	EXPECT_ERR1("dataplane:\n  workers: -1\n",
		    "dataplane.workers: expected an unsigned integer, got \"-1\"");
	EXPECT_ERR1("dataplane:\n  workers: 0x10\n",
		    "dataplane.workers: expected an unsigned integer, got \"0x10\"");
	EXPECT_ERR1("dataplane:\n  workers: 1.5\n",
		    "dataplane.workers: expected an unsigned integer, got \"1.5\"");
	EXPECT_ERR1("dataplane:\n  workers: ' 4'\n",
		    "dataplane.workers: expected an unsigned integer, got a quoted string");
	EXPECT_ERR1("dataplane:\n  mbufs: 99999999999999999999999\n",
		    "dataplane.mbufs: value \"99999999999999999999999\" out of range "
		    "(allowed: 1023..16777215)");
	EXPECT_ERR1("dataplane:\n  flows:\n    timeout-new: 2d\n",
		    "t.yaml:3: dataplane.flows.timeout-new: value 2d out of range (allowed: 1s..1d)");
	EXPECT_ERR1("dataplane:\n  flows:\n    timeout-new: 0s\n",
		    "dataplane.flows.timeout-new: value 0s out of range (allowed: 1s..1d)");
	EXPECT_ERR1("dataplane:\n  flows:\n    timeout-established: 8d\n",
		    "(allowed: 1s..7d)");
	EXPECT_ERR1("dataplane:\n  reassembly:\n    flow-cap: 1KiB\n",
		    "t.yaml:3: dataplane.reassembly.flow-cap: value 1KiB out of range "
		    "(allowed: 4KiB..1GiB)");
	EXPECT_ERR1("dataplane:\n  reassembly:\n    flow-cap: 17179869184GiB\n",
		    "dataplane.reassembly.flow-cap: value \"17179869184GiB\" out of range");
	EXPECT_ERR1("dataplane:\n  reassembly:\n    ttl-limit: 256\n",
		    "t.yaml:3: dataplane.reassembly.ttl-limit: value 256 out of range "
		    "(allowed: 0..255)");
	EXPECT_ERR1("dataplane:\n  ring-size: 1000\n",
		    "t.yaml:2: dataplane.ring-size: value 1000 is not a power of two "
		    "(allowed: 64..1048576, a power of two)");
	EXPECT_ERR1("dataplane:\n  http:\n    ports: [80, 0]\n",
		    "t.yaml:3: dataplane.http.ports[1]: port 0 out of range (allowed: 1..65535)");
	EXPECT_ERR1("dataplane:\n  http:\n    ports: [80, 70000]\n",
		    "dataplane.http.ports[1]: port 70000 out of range");
	EXPECT_ERR1("dataplane:\n  http:\n    ports: [80, 81, 80]\n",
		    "dataplane.http.ports[2]: duplicate port 80");
	EXPECT_ERR1("dataplane:\n  http:\n    ports: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]\n",
		    "dataplane.http.ports[15]: too many HTTP ports (allowed: at most 15 ports)");
	/* REST and alert-ring keys added for the control plane. */
	EXPECT_ERR1("rest:\n  max-body: 100\n",
		    "t.yaml:2: rest.max-body: value 100 out of range (allowed: 1KiB..64MiB)");
	EXPECT_ERR1("outputs:\n  alert-ring: 8\n",
		    "t.yaml:2: outputs.alert-ring: value 8 out of range (allowed: 16..1048576)");
	EXPECT_ERR1("rest:\n  sse-heartbeat: 0\n",
		    "t.yaml:2: rest.sse-heartbeat: value 0 out of range (allowed: 1s..1h)");
}

static void
test_bad_enum(void)
{
	EXPECT_ERR1("dataplane:\n  distribution: fast\n",
		    "t.yaml:2: dataplane.distribution: unknown value \"fast\" "
		    "(allowed: auto, rss, software)");
	EXPECT_ERR1("dataplane:\n  checksum: some\n",
		    "dataplane.checksum: unknown value \"some\" (allowed: auto, all, none)");
	EXPECT_ERR1("dataplane:\n  exception-policy: open\n",
		    "dataplane.exception-policy: unknown value \"open\" (allowed: pass, drop)");
	EXPECT_ERR1("dataplane:\n  http:\n    on-parse-error: Drop\n",
		    "t.yaml:3: dataplane.http.on-parse-error: unknown value \"Drop\" "
		    "(allowed: pass, drop)");
}

static void
test_bad_suffix(void)
{
	EXPECT_ERR1("dataplane:\n  reassembly:\n    flow-cap: 256KB\n",
		    "t.yaml:3: dataplane.reassembly.flow-cap: bad size suffix \"KB\" in \"256KB\"");
	EXPECT_ERR1("dataplane:\n  http:\n    spill-size: 16 KiB\n",
		    "dataplane.http.spill-size: bad size suffix \" KiB\"");
	EXPECT_ERR1("dataplane:\n  flows:\n    timeout-udp: 5x\n",
		    "t.yaml:3: dataplane.flows.timeout-udp: bad duration suffix \"x\" in \"5x\"");
	EXPECT_ERR1("dataplane:\n  flows:\n    timeout-udp: 1ms\n",
		    "bad duration suffix \"ms\"");
	/* Units only where they mean something. */
	EXPECT_ERR1("dataplane:\n  mbufs: 16KiB\n",
		    "dataplane.mbufs: expected an unsigned integer, got \"16KiB\"");
}

static void
test_duplicate_key(void)
{
	EXPECT_ERR1("dataplane:\n  workers: 2\n  burst: 16\n  workers: 3\n",
		    "t.yaml:4: dataplane.workers: duplicate key (first at line 2)");
	EXPECT_ERR1("rest: {}\noutputs: {}\nrest: {}\n",
		    "t.yaml:3: rest: duplicate key (first at line 1)");
	EXPECT_ERR1("rules:\n  vars:\n    A: x\n    A: y\n",
		    "t.yaml:4: rules.vars.A: duplicate key (first at line 3)");
	EXPECT_ERR1("dataplane:\n  ports:\n    - name: a\n      name: b\n",
		    "t.yaml:4: dataplane.ports[0].name: duplicate key (first at line 3)");
	EXPECT_ERR1("dataplane:\n  ports:\n    - name: a\n    - name: a\n",
		    "t.yaml:4: dataplane.ports[1].name: duplicate port \"a\" (first at line 3)");
}

static void
test_ports(void)
{
	struct ctl_config c;
	char *err = NULL;
	char yaml[2048];
	size_t off;

	EXPECT_ERR1("dataplane:\n"
		    "  ports:\n"
		    "    - name: a\n"
		    "      peer: b\n"
		    "    - name: b\n"
		    "      peer: c\n"
		    "    - name: c\n"
		    "      peer: b\n",
		    "t.yaml:4: dataplane.ports[0].peer: port \"a\" has peer \"b\", but the peer of "
		    "\"b\" is \"c\" (allowed: peers that name each other)");
	EXPECT_ERR1("dataplane:\n"
		    "  ports:\n"
		    "    - name: a\n"
		    "      peer: b\n"
		    "    - name: b\n",
		    "t.yaml:4: dataplane.ports[0].peer: port \"a\" has peer \"b\", but \"b\" has no peer");
	EXPECT_ERR1("dataplane:\n"
		    "  ports:\n"
		    "    - name: a\n"
		    "      peer: a\n"
		    "    - name: b\n"
		    "      peer: x\n",
		    "t.yaml:6: dataplane.ports[1].peer: unknown port \"x\" (allowed: a, b)");
	EXPECT_ERR1("dataplane:\n  ports:\n    - peer: a\n",
		    "t.yaml:3: dataplane.ports[0]: missing key \"name\" (allowed: name, peer)");
	EXPECT_ERR1("dataplane:\n  ports:\n    - a\n",
		    "t.yaml:3: dataplane.ports[0]: expected a mapping, got a plain scalar");

	/* DP_MAX_PORTS reflected ports are fine; one more is not. */
	off = (size_t)snprintf(yaml, sizeof(yaml), "dataplane:\n  ports:\n");
	for (int i = 0; i < DP_MAX_PORTS; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off,
					"    - { name: p%d, peer: p%d }\n", i, i);
	CU_ASSERT_EQUAL(load(yaml, &c, &err), 0);
	CU_ASSERT_PTR_NULL(err);
	CU_ASSERT_EQUAL(c.dp.n_ports, DP_MAX_PORTS);
	CU_ASSERT_EQUAL(c.dp.ports[DP_MAX_PORTS - 1].peer, DP_MAX_PORTS - 1);
	snprintf(yaml + off, sizeof(yaml) - off, "    - { name: extra }\n");
	EXPECT_ERR1(yaml, "t.yaml:19: dataplane.ports[16]: too many ports (17 listed) "
		    "(allowed: at most 16 ports)");
	/* An empty list and an empty value both mean no ports. */
	CU_ASSERT_EQUAL(load("dataplane:\n  ports: []\n", &c, NULL), 0);
	CU_ASSERT_EQUAL(c.dp.n_ports, 0);
	CU_ASSERT_EQUAL(load("dataplane:\n  ports:\n", &c, NULL), 0);
	CU_ASSERT_EQUAL(c.dp.n_ports, 0);
}

static void
test_rest_listen(void)
{
	static const char *good[] = {
		"127.0.0.1:8088", "0.0.0.0:1", "[::1]:65535", "[::]:80", "[fe80::1]:443",
	};
	static const char *bad[][2] = {
		{ "localhost:8088", "\"localhost\" is not an IPv4 literal" },
		{ "127.0.0.1", "\"127.0.0.1\" has no :PORT" },
		{ "127.0.0.1:0", "bad port \"0\"" },
		{ "127.0.0.1:65536", "bad port \"65536\"" },
		{ "127.0.0.1:80x", "bad port \"80x\"" },
		{ "127.0.0.1:", "bad port \"\"" },
		{ "::1:8088", "(write IPv6 as [ADDR]:PORT)" },
		{ "[::1]8088", "is not [IPv6]:PORT" },
		{ "[1.2.3.4]:80", "\"1.2.3.4\" is not an IPv6 literal" },
		{ ":80", "has no valid address" },
		{ "300.1.1.1:80", "\"300.1.1.1\" is not an IPv4 literal" },
	};
	struct ctl_config c;
	char yaml[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *err = NULL;

		snprintf(yaml, sizeof(yaml), "rest:\n  listen: \"%s\"\n", good[i]);
		CU_ASSERT_EQUAL(load(yaml, &c, &err), 0);
		CU_ASSERT_PTR_NULL(err);
		CU_ASSERT_STRING_EQUAL(c.rest_listen, good[i]);
		free(err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *err;

		snprintf(yaml, sizeof(yaml), "rest:\n  listen: \"%s\"\n", bad[i][0]);
		err = EXPECT_ERR(yaml, bad[i][1]);
		if (err != NULL)
			CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.yaml:2: rest.listen: "));
		free(err);
	}
}

static void
test_limits(void)
{
	char yaml[8192];
	size_t off;

	/* Strings longer than their field. */
	off = (size_t)snprintf(yaml, sizeof(yaml), "outputs:\n  log-dir: ");
	memset(yaml + off, 'x', CTL_PATH_MAX);
	snprintf(yaml + off + CTL_PATH_MAX, sizeof(yaml) - off - CTL_PATH_MAX, "\n");
	EXPECT_ERR1(yaml, "t.yaml:2: outputs.log-dir: too long (512 bytes) "
		    "(allowed: non-empty, at most 511 bytes)");
	/* More rule files than CTL_MAX_RULE_FILES. */
	off = (size_t)snprintf(yaml, sizeof(yaml), "rules:\n  files:\n");
	for (int i = 0; i <= CTL_MAX_RULE_FILES; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off, "    - r%d.rules\n", i);
	EXPECT_ERR1(yaml, "t.yaml:67: rules.files[64]: too many rule files "
		    "(allowed: at most 64 files)");
	/* More variables than CTL_MAX_VARS (6 defaults + 27 new = 33). */
	off = (size_t)snprintf(yaml, sizeof(yaml), "rules:\n  vars:\n");
	for (int i = 0; i < CTL_MAX_VARS - 6 + 1; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off, "    V%d: any\n", i);
	EXPECT_ERR1(yaml, "t.yaml:29: rules.vars.V26: too many variables "
		    "(allowed: at most 32 variables)");
	/* A NUL inside a string cannot reach a C string field. */
	EXPECT_ERR1("outputs:\n  log-dir: \"a\\0b\"\n",
		    "t.yaml:2: outputs.log-dir: value contains a NUL byte");
}

static void
test_malformed_yaml(void)
{
	EXPECT_ERR1("dataplane:\n  workers: 1\n burst: 2\n",
		    "t.yaml:3: yaml: did not find expected key");
	EXPECT_ERR1("rest:\n  listen: \"127.0.0.1:8088\n",
		    "t.yaml:3: yaml: found unexpected end of stream");
	EXPECT_ERR1("dataplane: [1, 2\n", "t.yaml:2: yaml: did not find expected ',' or ']'");
	EXPECT_ERR1("rest: *nope\n", "yaml: found undefined alias");
	EXPECT_ERR1("rest: {}\n---\nrest: {}\n",
		    "t.yaml:3: (top): more than one YAML document");
	EXPECT_ERR1("\tdataplane: {}\n", "t.yaml:1: yaml: found character that cannot start");
}

static void
test_errors_collected(void)
{
	char *err = EXPECT_ERR("dataplane:\n"
			       "  workers: 100\n"
			       "  distribution: fast\n"
			       "  flows:\n"
			       "    bogus: 1\n"
			       "rest:\n"
			       "  listen: nowhere\n",
			       "t.yaml:2: dataplane.workers: value 100 out of range (allowed: 1..64)\n"
			       "t.yaml:3: dataplane.distribution: unknown value \"fast\" "
			       "(allowed: auto, rss, software)\n"
			       "t.yaml:5: dataplane.flows.bogus: unknown key");

	if (err != NULL) {
		CU_ASSERT_EQUAL(n_lines(err), 4);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "\nt.yaml:7: rest.listen: "));
		/* One error per line, no trailing newline. */
		CU_ASSERT_NOT_EQUAL(err[strlen(err) - 1], '\n');
	}
	free(err);
}

static void
test_untouched_on_error(void)
{
	struct ctl_config c, before;
	char *err = NULL;

	memset(&c, 0xa5, sizeof(c));
	memcpy(&before, &c, sizeof(c));
	/* Valid keys first, then one bad one: nothing at all is applied. */
	CU_ASSERT_EQUAL(load("dataplane:\n  workers: 2\n  burst: 0\n", &c, &err), -EINVAL);
	CU_ASSERT_EQUAL(memcmp(&c, &before, sizeof(c)), 0);
	free(err);
	CU_ASSERT_EQUAL(load("dataplane: [\n", &c, &err), -EINVAL);
	CU_ASSERT_EQUAL(memcmp(&c, &before, sizeof(c)), 0);
	free(err);
	CU_ASSERT_EQUAL(ctl_config_load("/nonexistent.yaml", &c, &err), -ENOENT);
	CU_ASSERT_EQUAL(memcmp(&c, &before, sizeof(c)), 0);
	free(err);

	/* A load starts from the defaults, not from what @c held. */
	CU_ASSERT_EQUAL(load("rest:\n  enabled: false\n", &cfg, NULL), 0);
	CU_ASSERT_EQUAL(load("outputs:\n  console: false\n", &cfg, NULL), 0);
	CU_ASSERT_TRUE(cfg.rest_enabled);
	CU_ASSERT_FALSE(cfg.console_alerts);
}

static void
test_yaml_features(void)
{
	struct ctl_config c;
	char *err = NULL;

	/* Anchors, flow style, comments and alternative booleans all work. */
	CU_ASSERT_EQUAL(load("# comment\n"
			     "dataplane: { workers: &w 3, reassembly: { midstream: off } }\n"
			     "outputs:\n"
			     "  eve: { enabled: yes }\n"
			     "  console: False\n"
			     "rules:\n"
			     "  cache-dir: '/var/cache/it''s'\n"
			     "  vars: { WORKERS: *w }\n", &c, &err), 0);
	CU_ASSERT_PTR_NULL(err);
	free(err);
	CU_ASSERT_EQUAL(c.dp.n_workers, 3);
	CU_ASSERT_FALSE(c.dp.midstream);
	CU_ASSERT_TRUE(c.eve_enabled);
	CU_ASSERT_FALSE(c.console_alerts);
	CU_ASSERT_STRING_EQUAL(c.rule_cache_dir, "/var/cache/it's");
	CU_ASSERT_STRING_EQUAL(var(&c, "WORKERS"), "3");
	/* An explicit empty string / null for an optional path means "". */
	CU_ASSERT_EQUAL(load("rules:\n  cache-dir:\n  classification-file: ''\n", &c, NULL), 0);
	CU_ASSERT_STRING_EQUAL(c.rule_cache_dir, "");
}

/* Reload: which keys changed, which apply at run time, and the merge keeps
 * every restart-only key at its running value. */
static void
test_reload_diff(void)
{
	static struct ctl_config run, next, merged;
	struct ctl_config_change ch[16];
	char *err = NULL;
	size_t n, i;
	bool seen_policy = false, seen_flows = false, seen_vars = false, seen_files = false,
	     seen_hp = false, seen_port = false, seen_ttl = false;

	ctl_config_defaults(&run);
	ctl_config_defaults(&next);
	CU_ASSERT_EQUAL(ctl_config_diff(&run, &next, ch, 16), 0);
	CU_ASSERT_EQUAL(load("dataplane:\n"
			     "  exception-policy: drop\n"
			     "  flows: { max: 131072, timeout-established: 60s }\n"
			     "  http: { ports: [80, 8080] }\n"
			     "  reassembly: { ttl-limit: 0 }\n"
			     "  ports:\n    - { name: net_null0, peer: net_null0 }\n"
			     "rules:\n  files: [a.rules]\n  vars: { HOME_NET: \"[198.18.0.0/15]\" }\n"
			     "rest: { max-body: 64KiB, listen: \"127.0.0.1:9999\" }\n",
			     &next, &err), 0);
	free(err);
	n = ctl_config_diff(&run, &next, ch, 16);
	CU_ASSERT_EQUAL(n, 10);
	for (i = 0; i < n && i < 16; i++) {
		if (strcmp(ch[i].path, "dataplane.exception-policy") == 0) {
			seen_policy = true;
			CU_ASSERT_TRUE(ch[i].runtime);
		} else if (strcmp(ch[i].path, "dataplane.flows.max") == 0) {
			seen_flows = true;
			CU_ASSERT_FALSE(ch[i].runtime);
		} else if (strcmp(ch[i].path, "dataplane.flows.timeout-established") == 0) {
			CU_ASSERT_TRUE(ch[i].runtime);
		} else if (strcmp(ch[i].path, "rules.vars") == 0) {
			seen_vars = true;
			CU_ASSERT_TRUE(ch[i].runtime);
		} else if (strcmp(ch[i].path, "rules.files") == 0) {
			seen_files = true;
			CU_ASSERT_TRUE(ch[i].runtime);
		} else if (strcmp(ch[i].path, "dataplane.http.ports") == 0) {
			seen_hp = true;
			CU_ASSERT_TRUE(ch[i].runtime);
		} else if (strcmp(ch[i].path, "dataplane.ports") == 0) {
			seen_port = true;
			CU_ASSERT_FALSE(ch[i].runtime);
		} else if (strcmp(ch[i].path, "dataplane.reassembly.ttl-limit") == 0) {
			seen_ttl = true;
			CU_ASSERT_TRUE(ch[i].runtime);
		} else if (strcmp(ch[i].path, "rest.max-body") == 0) {
			CU_ASSERT_TRUE(ch[i].runtime);
		} else if (strcmp(ch[i].path, "rest.listen") == 0) {
			CU_ASSERT_FALSE(ch[i].runtime);
		} else {
			fprintf(stderr, "\nunexpected change %s\n", ch[i].path);
			CU_FAIL("unexpected change");
		}
	}
	CU_ASSERT_TRUE(seen_policy && seen_flows && seen_vars && seen_files && seen_hp && seen_port &&
		       seen_ttl);
	/* A short output array still counts every change. */
	CU_ASSERT_EQUAL(ctl_config_diff(&run, &next, ch, 2), 10);

	merged = run;
	ctl_config_merge_runtime(&merged, &next);
	CU_ASSERT_EQUAL(merged.dp.fail_policy, DP_FAIL_CLOSED);
	CU_ASSERT_EQUAL(merged.dp.flow_timeout_est, 60);
	CU_ASSERT_EQUAL(merged.dp.reasm_ttl_limit, 0);
	CU_ASSERT_EQUAL(merged.dp.http_ports[0], 80);
	CU_ASSERT_EQUAL(merged.dp.http_ports[1], 8080);
	CU_ASSERT_EQUAL(merged.n_rule_files, 1);
	CU_ASSERT_STRING_EQUAL(merged.rule_files[0], "a.rules");
	CU_ASSERT_EQUAL(merged.rest_max_body, 64 * 1024);
	/* restart-only keys keep the running values */
	CU_ASSERT_EQUAL(merged.dp.flow_max, run.dp.flow_max);
	CU_ASSERT_EQUAL(merged.dp.n_ports, run.dp.n_ports);
	CU_ASSERT_STRING_EQUAL(merged.rest_listen, run.rest_listen);
	/* after the merge only restart-only keys still differ */
	n = ctl_config_diff(&merged, &next, ch, 16);
	CU_ASSERT_EQUAL(n, 3);
	for (i = 0; i < n && i < 16; i++)
		CU_ASSERT_FALSE(ch[i].runtime);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("config", NULL, NULL);
	if (s == NULL ||
	    !CU_add_test(s, "dp_params defaults", test_dp_defaults) ||
	    !CU_add_test(s, "config defaults", test_ctl_defaults) ||
	    !CU_add_test(s, "empty input gives defaults", test_empty_input) ||
	    !CU_add_test(s, "every key round-trips", test_full_file) ||
	    !CU_add_test(s, "file I/O", test_file_io) ||
	    !CU_add_test(s, "shipped apiguard.yaml", test_shipped_file) ||
	    !CU_add_test(s, "unknown key", test_unknown_key) ||
	    !CU_add_test(s, "wrong type", test_wrong_type) ||
	    !CU_add_test(s, "out of range", test_out_of_range) ||
	    !CU_add_test(s, "bad enum", test_bad_enum) ||
	    !CU_add_test(s, "bad unit suffix", test_bad_suffix) ||
	    !CU_add_test(s, "duplicate key", test_duplicate_key) ||
	    !CU_add_test(s, "ports and peers", test_ports) ||
	    !CU_add_test(s, "rest.listen", test_rest_listen) ||
	    !CU_add_test(s, "size limits", test_limits) ||
	    !CU_add_test(s, "malformed YAML", test_malformed_yaml) ||
	    !CU_add_test(s, "errors collected", test_errors_collected) ||
	    !CU_add_test(s, "output untouched on error", test_untouched_on_error) ||
	    !CU_add_test(s, "YAML features", test_yaml_features) ||
	    !CU_add_test(s, "reload: diff and merge", test_reload_diff)) {
		CU_cleanup_registry();
		return 1;
	}
	return tu_run_all();
}
