/* SPDX-License-Identifier: Apache-2.0 */
/*
 * REST action functions (ctl_api.h) called directly, as the HTTP server
 * calls them: rule changes building real generations (Hyperscan), errors
 * with line/keyword/reason, persistence of API rules across a restart,
 * the alert ring and its filters, the ATT&CK Navigator layers, Prometheus
 * output, body decoding; and the behaviour analytics actions: endpoint
 * inventory and OpenAPI import/export, detector settings (GET -> PATCH ->
 * GET round trip, errors with line, persistence), generations that share
 * the rule engine and carry behaviour contexts, the blocklist (add, list,
 * delete, expiry, validation). EAL is started without hugepages (the
 * analytics ring and the blocklist hash live in EAL memory) but no data
 * plane: generations are swapped directly. Runs under ASan.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <microhttpd.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "ctl_api.h"
#include "dp_analytics.h"
#include "dp_block.h"
#include "tu_eal.h"

static char dir[64];
static char file_rules[128], store[128];
static struct ctl_config cfg;

#define RULE(sid, msg, tech, owasp) \
	"alert http any any -> any any (msg:\"" msg "\"; flow:established,to_server; " \
	"http.uri; content:\"/" #sid "\"; metadata: mitre_technique_id " tech \
	", owasp_api " owasp "; sid:" #sid "; rev:1;)"

static struct ctl_rules *
make_rules(void)
{
	const char *files[1] = { file_rules };
	struct ctl_rules_params p = {
		.files = files, .n_files = 1, .store_path = store, .n_workers = 2,
	};
	struct mt_errors errs = { 0 };
	struct ctl_rules *r = ctl_rules_create(&p, &errs);

	CU_ASSERT_EQUAL(errs.n, 0);
	mt_errors_clear(&errs);
	return r;
}

static void
setup_files(void)
{
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/test_api_XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(file_rules, sizeof(file_rules), "%s/file.rules", dir);
	snprintf(store, sizeof(store), "%s/api.rules", dir);
	f = fopen(file_rules, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "# a file rule\n%s\n", RULE(1000001, "file rule", "T1190", "API8:2023"));
	fclose(f);
	ctl_config_defaults(&cfg);
}

static json_t *
first_error(json_t *out)
{
	return json_array_get(json_object_get(json_object_get(out, "error"), "errors"), 0);
}

static void
test_rule_changes(void)
{
	struct ctl_api api = { .cfg = &cfg };
	json_t *out = NULL, *e;
	uint64_t gen;
	char *text;
	size_t len;

	setup_files();
	api.rules = make_rules();
	api.alerts = ctl_alerts_create(64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(api.rules);
	CU_ASSERT_EQUAL(ctl_rules_count(api.rules), 1);
	gen = ctl_rules_generation(api.rules);

	/* Add two rules: one new generation, both listed as API rules. */
	CU_ASSERT_EQUAL(ctl_api_rules_add(&api, RULE(1000002, "two", "T1190", "API8:2023") "\n"
					  RULE(1000003, "three", "T1110.004", "API2:2023"), &out),
			MHD_HTTP_CREATED);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(out, "added")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "generation")), (json_int_t)gen + 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "rules")), 3);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_rule_get(&api, "1000002", &out), MHD_HTTP_OK);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "source")), "api");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "msg")), "two");
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_rule_get(&api, "1000001", &out), MHD_HTTP_OK);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "source")), "file");
	json_decref(out);
	/* Persisted: the store holds both rules. */
	text = tu_read_file(store, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "sid:1000002"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "sid:1000003"));
	free(text);

	/* A bad rule on line 2: 400 naming the line, keyword and reason;
	 * nothing changes. */
	gen = ctl_rules_generation(api.rules);
	CU_ASSERT_EQUAL(ctl_api_rules_add(&api, RULE(1000004, "ok", "T1190", "API8:2023") "\n"
		"alert http any any -> any any (msg:\"bad\"; nosuchkeyword; sid:1000005;)", &out),
		MHD_HTTP_BAD_REQUEST);
	e = first_error(out);
	CU_ASSERT_PTR_NOT_NULL(e);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "file")), "request");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "line")), 2);
	CU_ASSERT_PTR_NOT_NULL(json_string_value(json_object_get(e, "keyword")));
	CU_ASSERT(strlen(json_string_value(json_object_get(e, "reason"))) > 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(out, "error"),
								 "code")), "invalid_rules");
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_rules_generation(api.rules), gen);
	CU_ASSERT_EQUAL(ctl_rules_count(api.rules), 3);
	CU_ASSERT_EQUAL(ctl_api_rule_get(&api, "1000004", &out), MHD_HTTP_NOT_FOUND);
	json_decref(out);

	/* A sid the rule file has: the whole build rejects the duplicate. */
	CU_ASSERT_EQUAL(ctl_api_rules_add(&api, RULE(1000001, "dup", "T1190", "API8:2023"), &out),
			MHD_HTTP_BAD_REQUEST);
	e = first_error(out);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "keyword")), "sid");
	json_decref(out);
	/* A sid added through the API already: 409. */
	CU_ASSERT_EQUAL(ctl_api_rules_add(&api, RULE(1000002, "again", "T1190", "API8:2023"), &out),
			MHD_HTTP_CONFLICT);
	json_decref(out);
	/* Empty body. */
	CU_ASSERT_EQUAL(ctl_api_rules_add(&api, "# nothing\n", &out), MHD_HTTP_BAD_REQUEST);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_rules_generation(api.rules), gen);

	/* PUT */
	CU_ASSERT_EQUAL(ctl_api_rule_put(&api, "1000002", RULE(1000002, "two v2", "T1190",
							       "API8:2023"), &out), MHD_HTTP_OK);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_rule_get(&api, "1000002", &out), MHD_HTTP_OK);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "msg")), "two v2");
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_rule_put(&api, "1000002", RULE(1000009, "other sid", "T1190",
							       "API8:2023"), &out), MHD_HTTP_BAD_REQUEST);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_rule_put(&api, "1000001", RULE(1000001, "x", "T1190", "API8:2023"),
					 &out), MHD_HTTP_CONFLICT);
	e = first_error(out);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "file")), file_rules);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "line")), 2);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_rule_put(&api, "42", RULE(42, "x", "T1190", "API8:2023"), &out),
			MHD_HTTP_NOT_FOUND);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_rule_put(&api, "12x", "", &out), MHD_HTTP_BAD_REQUEST);
	json_decref(out);

	/* DELETE */
	CU_ASSERT_EQUAL(ctl_api_rule_delete(&api, "1000003", &out), MHD_HTTP_OK);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_rule_delete(&api, "1000003", &out), MHD_HTTP_NOT_FOUND);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_rule_delete(&api, "1000001", &out), MHD_HTTP_CONFLICT);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_rule_delete(&api, "0", &out), MHD_HTTP_BAD_REQUEST);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_rules_count(api.rules), 2);

	/* Reload re-reads the file. */
	{
		FILE *f = fopen(file_rules, "a");

		fprintf(f, "%s\n", RULE(1000010, "appended", "T1595", "API9:2023"));
		fclose(f);
	}
	gen = ctl_rules_generation(api.rules);
	CU_ASSERT_EQUAL(ctl_api_rules_reload(&api, &out), MHD_HTTP_OK);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_rules_generation(api.rules), gen + 1);
	CU_ASSERT_EQUAL(ctl_rules_count(api.rules), 3);
	/* A broken file: 400 with the file's line, the running rules stay. */
	{
		FILE *f = fopen(file_rules, "a");

		fprintf(f, "alert http any any -> any any (msg:\"broken\"; sid:;)\n");
		fclose(f);
	}
	CU_ASSERT_EQUAL(ctl_api_rules_reload(&api, &out), MHD_HTTP_BAD_REQUEST);
	e = first_error(out);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "file")), file_rules);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "line")), 4);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_rules_generation(api.rules), gen + 1);
	CU_ASSERT_EQUAL(ctl_rules_changes(api.rules, true) > 0, 1);

	/* Coverage from the loaded rules. */
	{
		json_t *cov = ctl_rules_coverage(api.rules);

		CU_ASSERT_EQUAL(json_array_size(json_object_get(cov, "T1190")), 2);
		CU_ASSERT_EQUAL(json_array_size(json_object_get(cov, "T1595")), 1);
		json_decref(cov);
	}
	/* Restart: the API rule comes back from the store. */
	ctl_rules_destroy(api.rules);
	{
		FILE *f = fopen(file_rules, "w");

		fprintf(f, "%s\n", RULE(1000001, "file rule", "T1190", "API8:2023"));
		fclose(f);
	}
	api.rules = make_rules();
	CU_ASSERT_PTR_NOT_NULL_FATAL(api.rules);
	CU_ASSERT_EQUAL(ctl_rules_api_count(api.rules), 1);
	CU_ASSERT_EQUAL(ctl_api_rule_get(&api, "1000002", &out), MHD_HTTP_OK);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "msg")), "two v2");
	json_decref(out);
	/* Deleting the last API rule removes the store. */
	CU_ASSERT_EQUAL(ctl_api_rule_delete(&api, "1000002", &out), MHD_HTTP_OK);
	json_decref(out);
	CU_ASSERT_NOT_EQUAL(access(store, F_OK), 0);

	/* Status reflects the rules. */
	CU_ASSERT_EQUAL(ctl_api_status(&api, &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(out, "rules"), "count")),
			1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(out, "api"),
								 "auth")), "loopback-only");
	CU_ASSERT_FALSE(json_is_true(json_object_get(out, "ready")));
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_ready(&api, &out), MHD_HTTP_SERVICE_UNAVAILABLE);
	json_decref(out);
	api.ready = 1;
	CU_ASSERT_EQUAL(ctl_api_ready(&api, &out), MHD_HTTP_OK);
	json_decref(out);

	ctl_rules_destroy(api.rules);
	ctl_alerts_destroy(api.alerts);
	unlink(file_rules);
	rmdir(dir);
}

static void
test_decode(void)
{
	char *text = NULL;
	json_t *err = NULL;
	const char js[] = "{\"rules\":\"alert x\"}";

	CU_ASSERT_EQUAL(ctl_api_decode_rules("text/plain; charset=utf-8", "a\nb", 3, &text, &err), 0);
	CU_ASSERT_STRING_EQUAL(text, "a\nb");
	free(text);
	CU_ASSERT_EQUAL(ctl_api_decode_rules("application/json", js, strlen(js), &text, &err), 0);
	CU_ASSERT_STRING_EQUAL(text, "alert x");
	free(text);
	CU_ASSERT_EQUAL(ctl_api_decode_rules("application/json", "{\"rules\":", 9, &text, &err),
			MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(err, "error"),
								 "code")), "bad_json");
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(err, "error"), "line"));
	json_decref(err);
	CU_ASSERT_EQUAL(ctl_api_decode_rules("application/json", "{\"rules\":\"a\",\"rules\":\"b\"}",
					     25, &text, &err), MHD_HTTP_BAD_REQUEST);
	json_decref(err);
	CU_ASSERT_EQUAL(ctl_api_decode_rules("application/json", "{\"rules\":\"a\",\"x\":1}", 19,
					     &text, &err), MHD_HTTP_BAD_REQUEST);
	json_decref(err);
	CU_ASSERT_EQUAL(ctl_api_decode_rules("application/json", "{\"rules\":5}", 11, &text, &err),
			MHD_HTTP_BAD_REQUEST);
	json_decref(err);
	CU_ASSERT_EQUAL(ctl_api_decode_rules("application/json", "[\"rules\"]", 9, &text, &err),
			MHD_HTTP_BAD_REQUEST);
	json_decref(err);
	CU_ASSERT_EQUAL(ctl_api_decode_rules("text/plain", "a\0b", 3, &text, &err),
			MHD_HTTP_BAD_REQUEST);
	json_decref(err);
	CU_ASSERT_EQUAL(ctl_api_decode_rules("application/xml", "<a/>", 4, &text, &err),
			MHD_HTTP_UNSUPPORTED_MEDIA_TYPE);
	json_decref(err);
}

static json_t *
fake_alert(int sid, const char *tech, const char *owasp, const char *src)
{
	return json_pack("{s:s,s:s,s:{s:i,s:{s:[s],s:[s]}}}", "event_type", "alert", "src_ip", src,
			 "alert", "signature_id", sid, "metadata", "mitre_technique_id", tech,
			 "owasp_api", owasp);
}

static void
test_alerts(void)
{
	struct ctl_alerts *r = ctl_alerts_create(8);
	struct ctl_api api = { .cfg = &cfg, .alerts = r };
	struct ctl_alert_filter f = { .sid = -1 };
	struct ctl_api_alert_args q = { 0 };
	uint64_t next = 0;
	json_t *a, *out;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(ctl_alerts_wait(r, 0, 10), 0);
	for (i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(ctl_alerts_push(r, fake_alert(i % 2 ? 7 : 8, i % 2 ? "T1190" : "T1595",
							     i % 2 ? "API8:2023" : "API9:2023",
							     i == 11 ? "10.0.0.9" : "10.0.0.1")),
				(uint64_t)i + 1);
	CU_ASSERT_EQUAL(ctl_alerts_wait(r, 0, 10), 1);
	CU_ASSERT_EQUAL(ctl_alerts_last(r), 12);
	/* Only the newest 8 are kept: cursors 5..12. */
	a = ctl_alerts_query(r, &f, &next);
	CU_ASSERT_EQUAL(json_array_size(a), 8);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(a, 0), "cursor")), 5);
	CU_ASSERT_EQUAL(next, 12);
	json_decref(a);
	f.since = 10;
	a = ctl_alerts_query(r, &f, &next);
	CU_ASSERT_EQUAL(json_array_size(a), 2);
	json_decref(a);
	f.since = 0;
	f.limit = 3;
	a = ctl_alerts_query(r, &f, &next);
	CU_ASSERT_EQUAL(json_array_size(a), 3);
	CU_ASSERT_EQUAL(next, 7);
	json_decref(a);
	f.limit = 0;
	f.sid = 7;
	a = ctl_alerts_query(r, &f, &next);
	CU_ASSERT_EQUAL(json_array_size(a), 4);
	json_decref(a);
	f.sid = -1;
	f.technique = "T1595";
	a = ctl_alerts_query(r, &f, &next);
	CU_ASSERT_EQUAL(json_array_size(a), 4);
	json_decref(a);
	f.technique = NULL;
	f.owasp = "API8:2023";
	f.src = "10.0.0.9";
	a = ctl_alerts_query(r, &f, &next);
	CU_ASSERT_EQUAL(json_array_size(a), 1);
	json_decref(a);
	/* All-time counts survive the ring wrapping. */
	out = ctl_alerts_counts(r);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "alerts")), 12);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(out, "signature_id"), "7")),
			6);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(json_object_get(out,
		"technique_owasp"), "T1190"), "API8:2023")), 6);
	json_decref(out);

	/* Through the action, with argument validation. */
	q.since = "4";
	q.limit = "2";
	CU_ASSERT_EQUAL(ctl_api_alerts(&api, &q, &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(out, "alerts")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "next")), 6);
	json_decref(out);
	{
		static const struct ctl_api_alert_args bad[] = {
			{ .since = "-1" }, { .since = "1x" }, { .limit = "0" }, { .limit = "1001" },
			{ .sid = "abc" }, { .technique = "X1190" }, { .technique = "T11" },
			{ .owasp = "API99:2023" }, { .src = "10.0.0.300" },
		};
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			CU_ASSERT_EQUAL(ctl_api_alerts(&api, &bad[k], &out), MHD_HTTP_BAD_REQUEST);
			json_decref(out);
		}
	}
	ctl_alerts_shutdown(r);
	CU_ASSERT_EQUAL(ctl_alerts_wait(r, 100, 1000), -ESHUTDOWN);
	ctl_alerts_destroy(r);
}

static void
test_layer(void)
{
	json_t *cov = json_pack("{s:[i,i],s:[i]}", "T1190", 1, 2, "T1110.004", 3);
	json_t *counts = json_pack("{s:i,s:{s:i},s:{s:i},s:{s:{s:i}}}", "alerts", 5,
				   "mitre_technique_id", "T1190", 5, "owasp_api", "API8:2023", 5,
				   "technique_owasp", "T1190", "API8:2023", 5);
	json_t *l = ctl_layer_build("coverage", cov, counts), *t;
	size_t i;
	bool seen_sub = false;

	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(l, "domain")), "enterprise-attack");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(l, "versions"),
								 "layer")), "4.5");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(l, "versions"),
								 "attack")), "18");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(l, "versions"),
								 "navigator")), "4.9.1");
	json_array_foreach(json_object_get(l, "techniques"), i, t) {
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(t, "score")), 1);
		CU_ASSERT(json_is_string(json_object_get(t, "tactic")));
		if (strcmp(json_string_value(json_object_get(t, "techniqueID")), "T1110.004") == 0) {
			seen_sub = true;
			CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "tactic")),
					       "credential-access");
			CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "comment")),
					       "sids: 3");
		}
	}
	CU_ASSERT_TRUE(seen_sub);
	json_decref(l);
	l = ctl_layer_build("observed", cov, counts);
	t = json_array_get(json_object_get(l, "techniques"), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "techniqueID")), "T1190");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "tactic")), "initial-access");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(t, "score")), 5);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(
		json_object_get(t, "metadata"), 1), "name")), "API8:2023");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(
		json_object_get(t, "metadata"), 1), "value")), "5");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(l, "gradient"),
							   "maxValue")), 5);
	CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_object_get(json_array_get(
		json_object_get(l, "metadata"), 0), "name")), "API8:2023"));
	json_decref(l);
	json_decref(cov);
	json_decref(counts);
}

/* Every line is a comment (HELP/TYPE) or "name{labels} value"; a family's
 * HELP and TYPE come before its samples and a family appears only once. */
static void
test_metrics(void)
{
	json_t *stats = json_pack("{s:[{s:i,s:i,s:i},{s:i,s:i,s:i}],s:[{s:s,s:i,s:i}],s:{s:i}}",
				  "workers", "id", 0, "rx_packets", 10, "flow_active", 3,
				  "id", 1, "rx_packets", 20, "flow_active", 4,
				  "ports", "name", "net_\"pcap0", "rx_packets", 30, "rx_nombuf", 0,
				  "io", "rx_packets", 30);
	json_t *counts = json_pack("{s:i,s:{s:i},s:{s:i},s:{s:i}}", "alerts", 2,
				   "signature_id", "2200001", 2, "mitre_technique_id", "T1190", 2,
				   "owasp_api", "API8:2023", 2);
	json_t *info = json_pack("{s:f,s:i,s:i}", "uptime_seconds", 1.5, "rule_generation", 3,
				 "rule_changes", 2);
	char *doc = ctl_metrics_render(stats, counts, info), *line, *save = NULL;
	regex_t sample;
	char families[64][96];
	int nf = 0, i;
	char typed[96] = "";

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(regcomp(&sample, "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\""
				"([^\"\\\\]|\\\\.)*\",?)*\\})? -?[0-9.e+]+$", REG_EXTENDED | REG_NOSUB), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "apiguard_worker_rx_packets_total{worker=\"1\"} 20\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "# TYPE apiguard_worker_flow_active gauge\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "apiguard_port_rx_packets_total{port=\"net_\\\"pcap0\"} 30"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "apiguard_rule_hits_total{sid=\"2200001\"} 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "apiguard_technique_alerts_total{technique=\"T1190\"} 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "apiguard_owasp_alerts_total{owasp=\"API8:2023\"} 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "# TYPE apiguard_rule_changes_total counter\n"));
	for (line = strtok_r(doc, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[96];

		if (strncmp(line, "# HELP ", 7) == 0) {
			sscanf(line + 7, "%95s", name);
			for (i = 0; i < nf; i++)
				CU_ASSERT_STRING_NOT_EQUAL(families[i], name);
			if (nf < 64)
				snprintf(families[nf++], sizeof(families[0]), "%s", name);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sscanf(line + 7, "%95s", typed);
			CU_ASSERT_STRING_EQUAL(typed, families[nf - 1]);
			continue;
		}
		CU_ASSERT_EQUAL(regexec(&sample, line, 0, NULL, 0), 0);
		if (regexec(&sample, line, 0, NULL, 0) != 0)
			fprintf(stderr, "bad sample line: %s\n", line);
		/* Samples belong to the family declared last. */
		CU_ASSERT_EQUAL(strncmp(line, typed, strlen(typed)), 0);
	}
	regfree(&sample);
	free(doc);
	json_decref(stats);
	json_decref(counts);
	json_decref(info);
}

/* Configuration reload at the rules level: new variables and run-time
 * settings in one generation; a bad variable changes nothing. */
static void
test_reconfigure(void)
{
	const char *files[1] = { file_rules };
	struct mt_var v1[1] = { { "SRV", "198.18.0.0/15" } }, bad[1] = { { "SRV", "[198.18.0.0/15" } };
	struct ctl_rules_params p = {
		.files = files, .n_files = 1, .vars = v1, .n_vars = 1, .n_workers = 2,
	};
	struct mt_errors errs = { 0 };
	struct dp_params rt;
	struct ctl_rules *r;
	struct ctl_api api = { .cfg = &cfg };
	json_t *out;
	uint64_t gen;
	FILE *f;

	setup_files();
	f = fopen(file_rules, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "alert http any any -> $SRV any (msg:\"v\"; flow:established,to_server; "
		"http.uri; content:\"/x\"; metadata: mitre_technique_id T1190, owasp_api "
		"API8:2023; sid:1000010; rev:1;)\n");
	fclose(f);
	r = ctl_rules_create(&p, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NULL(ctl_rules_current(r)->params);
	gen = ctl_rules_generation(r);

	/* A variable that does not parse: error, nothing changes. */
	dp_params_defaults(&rt);
	rt.fail_policy = DP_FAIL_CLOSED;
	p.vars = bad;
	CU_ASSERT_EQUAL(ctl_rules_reconfigure(r, &p, &rt, &errs), -EINVAL);
	CU_ASSERT_TRUE(errs.n > 0);
	mt_errors_clear(&errs);
	CU_ASSERT_EQUAL(ctl_rules_generation(r), gen);
	CU_ASSERT_PTR_NULL(ctl_rules_current(r)->params);
	/* The old sources are still in force: a plain reload works. */
	CU_ASSERT_EQUAL(ctl_rules_reload(r, &errs), 0);
	CU_ASSERT_EQUAL(ctl_rules_generation(r), gen + 1);

	/* Good sources and settings: one generation carrying both. */
	p.vars = v1;
	rt.flow_timeout_est = 42;
	CU_ASSERT_EQUAL(ctl_rules_reconfigure(r, &p, &rt, &errs), 0);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL(ctl_rules_generation(r), gen + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl_rules_current(r)->params);
	CU_ASSERT_EQUAL(ctl_rules_current(r)->params->fail_policy, DP_FAIL_CLOSED);
	CU_ASSERT_EQUAL(ctl_rules_current(r)->params->flow_timeout_est, 42);
	CU_ASSERT_EQUAL(ctl_rules_count(r), 1);
	/* Later changes keep carrying the settings. */
	CU_ASSERT_EQUAL(ctl_rules_reload(r, &errs), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl_rules_current(r)->params);
	CU_ASSERT_EQUAL(ctl_rules_current(r)->params->flow_timeout_est, 42);
	/* The caller's strings may go: the rules object owns copies. */
	v1[0].value = "garbage that would not parse [";
	CU_ASSERT_EQUAL(ctl_rules_reload(r, &errs), 0);
	mt_errors_clear(&errs);
	ctl_rules_destroy(r);

	/* Without a reload hook the action answers 503, and GET /config
	 * shows the run-time keys. */
	CU_ASSERT_EQUAL(ctl_api_config_reload(&api, &out), MHD_HTTP_SERVICE_UNAVAILABLE);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(out, "error"),
								 "code")), "unavailable");
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_config(&api, &out), MHD_HTTP_OK);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(out, "dataplane"),
								 "exception-policy")), "pass");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(out, "dataplane"),
								 "checksum")), "auto");
	json_decref(out);
	unlink(file_rules);
	rmdir(dir);
}

static void
test_config_and_openapi(void)
{
	struct ctl_config c;
	struct ctl_api api = { .cfg = &c };
	json_t *out;

	ctl_config_defaults(&c);
	snprintf(c.rest_tls_key, sizeof(c.rest_tls_key), "/secret/key.pem");
	CU_ASSERT_EQUAL(ctl_api_config(&api, &out), MHD_HTTP_OK);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(out, "rest"),
								 "tls-key")), "********");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(out, "rest"),
								 "listen")), "127.0.0.1:8088");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(json_object_get(out,
		"dataplane"), "reassembly"), "ttl-limit")), 5);
	{
		char *s = json_dumps(out, 0);

		CU_ASSERT_PTR_NULL(strstr(s, "/secret"));
		free(s);
	}
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_openapi(&api, &out), MHD_HTTP_OK);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "openapi")), "3.0.3");
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(out, "paths"), "/api/v1/rules/{sid}"));
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(out, "paths"), "/metrics"));
	json_decref(out);
}

/* ---- behaviour analytics ---------------------------------------------------- */

/* What the behaviour actions reach, without a data plane. */
struct bh {
	struct ctl_api api;
	struct ctl_behav *behav;
	struct dp_analytics *an;
	struct dp_blocklist *bl;
	struct rte_rcu_qsbr *qsbr;
	char path[160];
};

static void
bh_open(struct bh *h, bool with_rules)
{
	struct mt_behav_params p;
	char *err = NULL;
	size_t sz = rte_rcu_qsbr_get_memsize(1);

	memset(h, 0, sizeof(*h));
	setup_files();
	snprintf(h->path, sizeof(h->path), "%s/detectors.json", dir);
	h->api.cfg = &cfg;
	h->api.alerts = ctl_alerts_create(64);
	if (with_rules)
		h->api.rules = make_rules();
	h->behav = ctl_behav_create(h->path, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->behav);
	mt_behav_params_defaults(&p);
	h->an = dp_analytics_create(NULL, &p, 1024, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->an);
	h->qsbr = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->qsbr);
	CU_ASSERT_EQUAL(rte_rcu_qsbr_init(h->qsbr, 1), 0);
	h->bl = dp_block_create("test_api_bl", 64, h->qsbr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->bl);
	CU_ASSERT_EQUAL(ctl_behav_attach(h->behav, h->api.rules, h->an, h->bl), 0);
	h->api.behav = h->behav;
}

static void
bh_close(struct bh *h)
{
	ctl_behav_destroy(h->behav);
	dp_analytics_destroy(h->an);
	dp_block_destroy(h->bl);
	rte_free(h->qsbr);
	ctl_rules_destroy(h->api.rules);
	ctl_alerts_destroy(h->api.alerts);
}

struct feed {
	const char *method, *tmpl;
	uint16_t status;
	unsigned int n;
};

static int
feed_fn(struct mt_behav *b, void *arg)
{
	const struct feed *f = arg;
	struct mt_behav_detection d[8];
	struct mt_behav_rec r;
	unsigned int i;

	for (i = 0; i < f->n; i++) {
		memset(&r, 0, sizeof(r));
		r.ts_ns = 1000000000ull * (1700000000ull + i);
		r.flow_id = i + 1;
		r.txn_id = 1;
		r.id_hash = 0x1234 + (i % 3);
		r.id_kind = MT_ID_TOKEN;
		r.family = 4;
		r.client_ip[0] = 198;
		r.client_ip[1] = 18;
		r.client_ip[3] = (uint8_t)(i % 3 + 1);
		r.status = f->status;
		r.flags = MT_REC_HAS_RESP;
		r.resp_bytes = 100 + i;
		r.obj_slot = 0xff;
		snprintf(r.method, sizeof(r.method), "%s", f->method);
		snprintf(r.host, sizeof(r.host), "api.example.com");
		snprintf(r.tmpl, sizeof(r.tmpl), "%s", f->tmpl);
		mt_behav_process(b, &r, d, 8);
	}
	return 0;
}

static json_t *
find_endpoint(json_t *inv, const char *method, const char *tmpl)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(inv, "endpoints"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "method")), method) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "template")), tmpl) == 0)
			return e;
	return NULL;
}

static const char *
err_code(json_t *out)
{
	return json_string_value(json_object_get(json_object_get(out, "error"), "code"));
}

static json_int_t
err_line(json_t *out)
{
	return json_integer_value(json_object_get(json_object_get(out, "error"), "line"));
}

static void
test_endpoints(void)
{
	struct bh h;
	struct feed f1 = { "GET", "/api/v1/users/{id}", 200, 12 };
	struct feed f2 = { "POST", "/api/v1/orders", 201, 5 };
	const char *spec =
		"openapi: 3.0.3\n"
		"info: {title: shop, version: '1'}\n"
		"paths:\n"
		"  /api/v1/users/{userId}:\n"
		"    get:\n"
		"      responses: {'200': {description: ok}}\n"
		"  /api/v1/users/{userId}/cards:\n"
		"    post:\n"
		"      requestBody:\n"
		"        content:\n"
		"          application/json:\n"
		"            schema: {type: object, properties: {number: {type: string}}}\n"
		"      responses: {'201': {description: created}}\n";
	json_t *out = NULL, *e, *st;

	bh_open(&h, false);
	/* Nothing seen yet. */
	CU_ASSERT_EQUAL(ctl_api_endpoints(&h.api, NULL, &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "count")), 0);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(out, "endpoints")), 0);
	json_decref(out);
	CU_ASSERT_EQUAL(dp_analytics_with(h.an, feed_fn, &f1), 0);
	CU_ASSERT_EQUAL(dp_analytics_with(h.an, feed_fn, &f2), 0);
	CU_ASSERT_EQUAL(ctl_api_endpoints(&h.api, "json", &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "count")), 2);
	e = find_endpoint(out, "GET", "/api/v1/users/{id}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "requests")), 12);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "host")), "api.example.com");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "source")), "learned");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(e, "status"), "2xx")), 12);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(e, "resp_bytes"), "min")),
			100);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(e, "resp_bytes"), "max")),
			111);
	CU_ASSERT_PTR_NOT_NULL(find_endpoint(out, "POST", "/api/v1/orders"));
	json_decref(out);
	/* OpenAPI export: an OpenAPI 3 document with the learned paths. */
	CU_ASSERT_EQUAL(ctl_api_endpoints(&h.api, "openapi", &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(strncmp(json_string_value(json_object_get(out, "openapi")), "3.", 2), 0);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(out, "info"));
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(json_object_get(out, "paths"),
							       "/api/v1/orders"), "post"));
	CU_ASSERT_EQUAL(json_object_size(json_object_get(out, "paths")), 2);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_endpoints(&h.api, "xml", &out), MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_STRING_EQUAL(err_code(out), "bad_query");
	json_decref(out);

	/* Import errors: YAML syntax (with its line), not OpenAPI, media type. */
	CU_ASSERT_EQUAL(ctl_api_openapi_import(&h.api, "application/yaml",
		"openapi: 3.0.3\npaths:\n  /a: {get: [\n", 29, &out), MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_STRING_EQUAL(err_code(out), "invalid_openapi");
	CU_ASSERT(err_line(out) >= 3);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_openapi_import(&h.api, "application/json", "{\"swagger\":\"2.0\"}",
					       17, &out), MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_STRING_EQUAL(err_code(out), "invalid_openapi");
	CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_object_get(json_object_get(out, "error"),
		"message")), "OpenAPI 3"));
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_openapi_import(&h.api, "image/png", "x", 1, &out),
			MHD_HTTP_UNSUPPORTED_MEDIA_TYPE);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_openapi_import(&h.api, NULL, "", 0, &out), MHD_HTTP_BAD_REQUEST);
	json_decref(out);
	/* A good spec: its templates take precedence from now on. */
	CU_ASSERT_EQUAL(ctl_api_openapi_import(&h.api, "application/yaml", spec, strlen(spec), &out),
			MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "imported")), 2);
	json_decref(out);
	CU_ASSERT_EQUAL(dp_analytics_with(h.an, feed_fn, &f1), 0);
	CU_ASSERT_EQUAL(ctl_api_endpoints(&h.api, NULL, &out), MHD_HTTP_OK);
	e = find_endpoint(out, "GET", "/api/v1/users/{userId}");
	CU_ASSERT_PTR_NOT_NULL(e);
	if (e != NULL) {
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "source")), "openapi");
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "requests")), 12);
	}
	json_decref(out);

	/* Stats: analytics counters copied, tables with entries and caps. */
	st = json_pack("{s:i}", "records", 41);
	out = ctl_api_behaviour_stats(h.behav, st);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "records")), 41);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "blocklist_entries")), 0);
	e = json_object_get(json_object_get(out, "tables"), "template");
	CU_ASSERT(json_integer_value(json_object_get(e, "entries")) >= 3);
	CU_ASSERT(json_integer_value(json_object_get(e, "capacity")) > 0);
	{
		json_t *stats = json_pack("{s:[],s:[],s:O}", "workers", "ports", "behaviour", out);
		json_t *counts = json_object(), *info = json_object();
		char *doc = ctl_metrics_render(stats, counts, info);

		CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
		CU_ASSERT_PTR_NOT_NULL(strstr(doc, "# TYPE apiguard_behaviour_records_total counter\n"
						   "apiguard_behaviour_records_total 41\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(doc, "# TYPE apiguard_behaviour_blocklist_entries gauge"));
		CU_ASSERT_PTR_NOT_NULL(strstr(doc, "apiguard_behaviour_table_entries{table=\"template\"} "));
		CU_ASSERT_PTR_NOT_NULL(strstr(doc, "apiguard_behaviour_table_evictions_total{table=\"identity\"} 0"));
		free(doc);
		json_decref(stats);
		json_decref(counts);
		json_decref(info);
	}
	json_decref(out);
	json_decref(st);
	bh_close(&h);
}

static json_t *
detector(json_t *doc, const char *name)
{
	return json_object_get(json_object_get(doc, "detectors"), name);
}

static void
test_detectors(void)
{
	struct bh h;
	json_t *out = NULL, *before;
	struct dp_gen *g0, *g1;
	char *text, *file;
	size_t len;
	const char *key_patch = "jwt:\n  keys:\n    - {alg: HS256, kid: k1, secret: s3cret-value}\n";

	bh_open(&h, true);
	g0 = ctl_rules_current(h.api.rules);
	CU_ASSERT_PTR_NULL(g0->behav[0]);     /* defaults: the workers' own */
	CU_ASSERT_EQUAL(ctl_api_detectors_get(&h.api, &before), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(detector(before, "bola_enumeration"), "sid")),
			2300001);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(detector(before, "bola_enumeration"), "threshold"));
	CU_ASSERT_PTR_NOT_NULL(json_object_get(detector(before, "bola_enumeration"), "window"));
	CU_ASSERT_PTR_NOT_NULL(json_object_get(detector(before, "bola_enumeration"), "action"));

	/* GET -> PATCH (the document as it is, sids and all) -> GET: same. */
	text = json_dumps(before, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, "application/json", text, strlen(text), &out),
			MHD_HTTP_OK);
	CU_ASSERT(json_equal(out, before));
	json_decref(out);
	free(text);
	g1 = ctl_rules_current(h.api.rules);
	/* A new generation with contexts for both workers, same engine. */
	CU_ASSERT_PTR_NOT_EQUAL(g1, g0);
	CU_ASSERT_PTR_EQUAL(g1->engine, ctl_rules_current(h.api.rules)->engine);
	CU_ASSERT_PTR_NOT_NULL(g1->behav[0]);
	CU_ASSERT_PTR_NOT_NULL(g1->behav[1]);
	CU_ASSERT_EQUAL(ctl_rules_count(h.api.rules), 1);

	/* YAML, partial: one threshold and one window change. */
	text = "detectors:\n  bola_enumeration:\n    threshold: 33\n    window: 120\n"
	       "  brute_force_client: {action: block_client, block_seconds: 900}\n";
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, "application/yaml", text, strlen(text), &out),
			MHD_HTTP_OK);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_detectors_get(&h.api, &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(detector(out, "bola_enumeration"), "threshold")), 33);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(detector(out, "bola_enumeration"), "window")), 120);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(detector(out, "brute_force_client"),
								 "action")), "block_client");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(detector(out, "brute_force_client"),
							   "block_seconds")), 900);
	json_decref(before);
	before = out;

	/* Errors name the line of the body; nothing changes. */
	text = "{\n  \"detectors\": {\n    \"bola_enumeration\": {\n      \"threshold\": -3\n    }\n  }\n}";
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, "application/json", text, strlen(text), &out),
			MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_STRING_EQUAL(err_code(out), "invalid_settings");
	CU_ASSERT_EQUAL(err_line(out), 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_object_get(json_object_get(out, "error"),
		"message")), "detectors.bola_enumeration.threshold"));
	json_decref(out);
	text = "detectors:\n  bola_enumeration:\n    treshold: 3\n";
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, NULL, text, strlen(text), &out),
			MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_EQUAL(err_line(out), 3);
	json_decref(out);
	text = "detectors:\n  no_such_detector: {enabled: false}\n";
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, NULL, text, strlen(text), &out),
			MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_EQUAL(err_line(out), 2);
	json_decref(out);
	text = "detectors:\n  bola_enumeration:\n    enabled: true\n    sid: 2300002\n";
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, NULL, text, strlen(text), &out),
			MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_EQUAL(err_line(out), 4);
	json_decref(out);
	text = "detectors: {bola_enumeration: {threshold: 5}\n";
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, NULL, text, strlen(text), &out),
			MHD_HTTP_BAD_REQUEST);
	CU_ASSERT(err_line(out) >= 1);
	json_decref(out);
	text = "limits:\n  identities: 1000\n";
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, NULL, text, strlen(text), &out),
			MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_STRING_EQUAL(err_code(out), "not_runtime");
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, "application/xml", "<a/>", 4, &out),
			MHD_HTTP_UNSUPPORTED_MEDIA_TYPE);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_detectors_get(&h.api, &out), MHD_HTTP_OK);
	CU_ASSERT(json_equal(out, before));
	json_decref(out);

	/* JWT keys: shown redacted, kept when sent back redacted, persisted. */
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, NULL, key_patch, strlen(key_patch), &out),
			MHD_HTTP_OK);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(json_object_get(
		json_object_get(out, "jwt"), "keys"), 0), "secret")), "<redacted>");
	text = json_dumps(out, JSON_INDENT(2));
	json_decref(out);
	CU_ASSERT_PTR_NULL(strstr(text, "s3cret-value"));
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, "application/json", text, strlen(text), &out),
			MHD_HTTP_OK);
	json_decref(out);
	free(text);
	text = "jwt:\n  keys:\n    - {alg: HS256, kid: other, secret: <redacted>}\n";
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, NULL, text, strlen(text), &out),
			MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_EQUAL(err_line(out), 3);
	json_decref(out);
	file = tu_read_file(h.path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(file);
	CU_ASSERT_PTR_NOT_NULL(strstr(file, "s3cret-value"));
	CU_ASSERT_PTR_NULL(strstr(file, "\"sid\": 23"));   /* informative sids are not kept */
	free(file);

	/* A rule change keeps carrying the behaviour contexts. */
	{
		uint32_t sids[4];
		size_t n = 4;
		struct mt_errors errs = { 0 };

		CU_ASSERT_EQUAL(ctl_rules_add(h.api.rules, RULE(1000009, "x", "T1190", "API8:2023"),
					      "request", sids, &n, &errs), 0);
		mt_errors_clear(&errs);
		CU_ASSERT_PTR_NOT_NULL(ctl_rules_current(h.api.rules)->behav[1]);
		CU_ASSERT_EQUAL(ctl_rules_count(h.api.rules), 2);
	}

	/* Coverage layer: detectors add their techniques while enabled. */
	CU_ASSERT_EQUAL(ctl_api_attack_layer(&h.api, "coverage", &out), MHD_HTTP_OK);
	text = json_dumps(out, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"techniqueID\": \"T1110.004\"") ?
			       strstr(text, "\"techniqueID\": \"T1110.004\"") :
			       strstr(text, "\"techniqueID\":\"T1110.004\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "2300013"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "1000001"));
	free(text);
	json_decref(out);
	text = "detectors:\n  credential_stuffing: {enabled: false}\n";
	CU_ASSERT_EQUAL(ctl_api_detectors_patch(&h.api, NULL, text, strlen(text), &out), MHD_HTTP_OK);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_attack_layer(&h.api, "coverage", &out), MHD_HTTP_OK);
	text = json_dumps(out, 0);
	CU_ASSERT_PTR_NULL(strstr(text, "2300013"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "2300001"));
	free(text);
	json_decref(out);

	/* Restart: the persisted settings come back. */
	{
		char *err = NULL;
		struct ctl_behav *b2 = ctl_behav_create(h.path, &err);
		struct mt_behav_params *p = malloc(sizeof(*p));

		CU_ASSERT_PTR_NOT_NULL_FATAL(b2);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT(ctl_behav_custom(b2));
		ctl_behav_get(b2, p);
		CU_ASSERT_EQUAL(p->det[MT_DET_BOLA_ENUMERATION].threshold, 33);
		CU_ASSERT_EQUAL(p->det[MT_DET_CREDENTIAL_STUFFING].enabled, 0);
		CU_ASSERT_EQUAL(p->n_jwt_keys, 1);
		CU_ASSERT_STRING_EQUAL(p->jwt_keys[0].material, "s3cret-value");
		free(p);
		ctl_behav_destroy(b2);
	}
	/* A corrupt file stops the start-up with its line. */
	{
		FILE *f = fopen(h.path, "w");
		char *err = NULL;

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("detectors:\n  bola_enumeration:\n    window: soon\n", f);
		fclose(f);
		CU_ASSERT_PTR_NULL(ctl_behav_create(h.path, &err));
		CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "line 3"));
		free(err);
	}
	json_decref(before);
	bh_close(&h);
}

static json_t *
block_entry(struct bh *h, const char *key)
{
	json_t *out = NULL, *e, *found = NULL;
	size_t i;

	CU_ASSERT_EQUAL(ctl_api_blocklist_list(&h->api, &out), MHD_HTTP_OK);
	json_array_foreach(json_object_get(out, "entries"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "key")), key) == 0)
			found = json_incref(e);
	json_decref(out);
	return found;
}

static unsigned int
block_post(struct bh *h, const char *body, json_t **out)
{
	return ctl_api_blocklist_add(&h->api, "application/json", body, strlen(body), out);
}

static void
test_blocklist(void)
{
	static const char *const bad[] = {
		"{\"kind\":\"client\"}",
		"{\"kind\":\"client\",\"address\":\"198.18.0.300\"}",
		"{\"kind\":\"host\",\"address\":\"198.18.0.9\"}",
		"{\"address\":\"198.18.0.9\"}",
		"{\"kind\":\"client\",\"address\":\"198.18.0.9\",\"expires_in\":0}",
		"{\"kind\":\"client\",\"address\":\"198.18.0.9\",\"expires_in\":\"60\"}",
		"{\"kind\":\"client\",\"address\":\"198.18.0.9\",\"expires_in\":99999999}",
		"{\"kind\":\"client\",\"address\":\"198.18.0.9\",\"identity\":\"ab\"}",
		"{\"kind\":\"client\",\"address\":\"198.18.0.9\",\"extra\":1}",
		"{\"kind\":\"identity\",\"identity\":\"0\"}",
		"{\"kind\":\"identity\",\"identity\":\"xyz\"}",
		"{\"kind\":\"identity\",\"identity\":\"0123456789abcdef0\"}",
		"{\"kind\":\"identity\",\"address\":\"198.18.0.9\"}",
		"{\"kind\":\"client\",\"address\":\"198.18.0.9\",\"reason\":7}",
		"[1]",
	};
	struct bh h;
	struct dp_block_key k;
	json_t *out = NULL, *e;
	uint8_t a4[4] = { 198, 18, 0, 9 };
	struct timespec ts;
	uint64_t now;
	size_t i;

	bh_open(&h, false);
	CU_ASSERT_EQUAL(block_post(&h, "{\"kind\":\"client\",\"address\":\"198.18.0.9\","
				   "\"expires_in\":600,\"reason\":\"scraper\"}", &out), MHD_HTTP_CREATED);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "key")), "client:198.18.0.9");
	json_decref(out);
	CU_ASSERT_EQUAL(block_post(&h, "{\"kind\":\"identity\",\"identity\":\"00000000000AB12f\"}",
				   &out), MHD_HTTP_CREATED);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "key")),
			       "identity:00000000000ab12f");
	json_decref(out);
	CU_ASSERT_EQUAL(block_post(&h, "{\"kind\":\"client\",\"address\":\"2001:db8::7\","
				   "\"expires_in\":1}", &out), MHD_HTTP_CREATED);
	json_decref(out);

	/* Listed with kind, key, added, expires, sid, reason. */
	CU_ASSERT_EQUAL(ctl_api_blocklist_list(&h.api, &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "count")), 3);
	json_decref(out);
	e = block_entry(&h, "client:198.18.0.9");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "kind")), "client");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "address")), "198.18.0.9");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "reason")), "scraper");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "sid")), 0);
	CU_ASSERT(json_is_string(json_object_get(e, "added")));
	CU_ASSERT(json_is_string(json_object_get(e, "expires")));
	CU_ASSERT(json_integer_value(json_object_get(e, "expires_in")) > 590);
	CU_ASSERT(json_is_false(json_object_get(e, "expired")));
	json_decref(e);
	e = block_entry(&h, "identity:00000000000ab12f");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT(json_is_null(json_object_get(e, "expires")));   /* no expires_in: until deleted */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "identity")), "00000000000ab12f");
	json_decref(e);

	/* What workers see. */
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	dp_block_client_key(&k, 4, a4);
	CU_ASSERT(dp_block_check(h.bl, &k, now));
	dp_block_identity_key(&k, 0xab12full);
	CU_ASSERT(dp_block_check(h.bl, &k, now));

	/* Validation: 400 JSON errors, nothing added. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(block_post(&h, bad[i], &out), MHD_HTTP_BAD_REQUEST);
		CU_ASSERT_STRING_EQUAL(err_code(out), "bad_body");
		if (strcmp(err_code(out), "bad_body") != 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		json_decref(out);
	}
	CU_ASSERT_EQUAL(block_post(&h, "{\"kind\":", &out), MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_STRING_EQUAL(err_code(out), "bad_json");
	CU_ASSERT_EQUAL(err_line(out), 1);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_blocklist_add(&h.api, "text/plain", "{}", 2, &out),
			MHD_HTTP_UNSUPPORTED_MEDIA_TYPE);
	json_decref(out);
	CU_ASSERT_EQUAL(dp_block_count(h.bl), 3);

	/* Expiry: after its second the entry no longer blocks, then goes. */
	e = block_entry(&h, "client:2001:db8::7");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT(json_integer_value(json_object_get(e, "expires_in")) <= 1);
	json_decref(e);
	usleep(1100000);
	e = block_entry(&h, "client:2001:db8::7");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT(json_is_true(json_object_get(e, "expired")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "expires_in")), 0);
	json_decref(e);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	CU_ASSERT_EQUAL(dp_block_expire(h.bl, now), 1);
	CU_ASSERT_PTR_NULL(block_entry(&h, "client:2001:db8::7"));

	/* Delete by key. */
	CU_ASSERT_EQUAL(ctl_api_blocklist_delete(&h.api, "client:198.18.0.9", &out), MHD_HTTP_OK);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "deleted")), "client:198.18.0.9");
	json_decref(out);
	dp_block_client_key(&k, 4, a4);
	CU_ASSERT_FALSE(dp_block_check(h.bl, &k, now));
	CU_ASSERT_EQUAL(ctl_api_blocklist_delete(&h.api, "client:198.18.0.9", &out), MHD_HTTP_NOT_FOUND);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_blocklist_delete(&h.api, "198.18.0.9", &out), MHD_HTTP_BAD_REQUEST);
	CU_ASSERT_STRING_EQUAL(err_code(out), "bad_key");
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_blocklist_delete(&h.api, "identity:AB12F", &out), MHD_HTTP_OK);
	json_decref(out);
	CU_ASSERT_EQUAL(dp_block_count(h.bl), 0);
	bh_close(&h);

	/* No analytics stage: 503, never a crash. */
	{
		struct ctl_api none = { .cfg = &cfg };

		CU_ASSERT_EQUAL(ctl_api_blocklist_list(&none, &out), MHD_HTTP_SERVICE_UNAVAILABLE);
		json_decref(out);
		CU_ASSERT_EQUAL(ctl_api_endpoints(&none, NULL, &out), MHD_HTTP_SERVICE_UNAVAILABLE);
		json_decref(out);
		CU_ASSERT_EQUAL(ctl_api_detectors_get(&none, &out), MHD_HTTP_SERVICE_UNAVAILABLE);
		json_decref(out);
	}
}

/* Client bytes quoted in errors: invalid UTF-8 must never lose the answer. */
static void
test_utf8_clean(void)
{
	char out[16];
	json_t *e;

	CU_ASSERT_EQUAL(ctl_utf8_clean(out, sizeof(out), "abc"), 3);
	CU_ASSERT_STRING_EQUAL(out, "abc");
	ctl_utf8_clean(out, sizeof(out), "a\xff\xc3" "b");
	CU_ASSERT_STRING_EQUAL(out, "a??b");
	ctl_utf8_clean(out, sizeof(out), "\xc3\xa9t\xc3\xa9");     /* "été" stays */
	CU_ASSERT_STRING_EQUAL(out, "\xc3\xa9t\xc3\xa9");
	ctl_utf8_clean(out, sizeof(out), "\xc0\xaf\xed\xa0\x80");  /* overlong, surrogate */
	CU_ASSERT_STRING_EQUAL(out, "?????");
	ctl_utf8_clean(out, 4, "ab\xc3\xa9");                  /* no half character */
	CU_ASSERT_STRING_EQUAL(out, "ab");
	e = ctl_api_error("bad_sid", "sid '%s' is not a number", "\xff\xfe");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(e, "error"),
								   "message")),
			       "sid '?" "?' is not a number");
	json_decref(e);
}

int
main(void)
{
	CU_pSuite s;

	if (tu_eal_init("test_api") != 0)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("api", NULL, NULL);
	if (s == NULL ||
	    !CU_add_test(s, "rule changes, errors, persistence", test_rule_changes) ||
	    !CU_add_test(s, "body decoding", test_decode) ||
	    !CU_add_test(s, "UTF-8 cleaning of client text", test_utf8_clean) ||
	    !CU_add_test(s, "alert ring and filters", test_alerts) ||
	    !CU_add_test(s, "ATT&CK Navigator layers", test_layer) ||
	    !CU_add_test(s, "Prometheus text", test_metrics) ||
	    !CU_add_test(s, "config masking, OpenAPI", test_config_and_openapi) ||
	    !CU_add_test(s, "reconfigure: sources and settings", test_reconfigure) ||
	    !CU_add_test(s, "endpoint inventory, OpenAPI import/export", test_endpoints) ||
	    !CU_add_test(s, "detector settings", test_detectors) ||
	    !CU_add_test(s, "blocklist", test_blocklist))
		return 1;
	return tu_run_all();
}
