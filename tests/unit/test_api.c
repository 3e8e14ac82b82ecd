/* SPDX-License-Identifier: Apache-2.0 */
/*
 * REST action functions (ctl_api.h) called directly, as the HTTP server
 * calls them: rule changes building real generations (Hyperscan), errors
 * with line/keyword/reason, persistence of API rules across a restart,
 * the alert ring and its filters, the ATT&CK Navigator layers, Prometheus
 * output, body decoding. Runs without EAL (no data plane: a generation is
 * swapped directly), so without hugepages and under ASan.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <microhttpd.h>

#include "ctl_api.h"
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

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("api", NULL, NULL);
	if (s == NULL ||
	    !CU_add_test(s, "rule changes, errors, persistence", test_rule_changes) ||
	    !CU_add_test(s, "body decoding", test_decode) ||
	    !CU_add_test(s, "alert ring and filters", test_alerts) ||
	    !CU_add_test(s, "ATT&CK Navigator layers", test_layer) ||
	    !CU_add_test(s, "Prometheus text", test_metrics) ||
	    !CU_add_test(s, "config masking, OpenAPI", test_config_and_openapi))
		return 1;
	return tu_run_all();
}
