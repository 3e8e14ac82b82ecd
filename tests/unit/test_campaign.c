/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attack campaigns (ctl_campaign.h) fed with hand-built EVE alert objects:
 * linking through each key kind (client, network, identity, credential,
 * username, user agent within a network), merges, no linking of unrelated
 * actors, link expiry, the key and campaign caps (counters), stage
 * ordering and the tactic table, new-tactic events, the response policy
 * (block callback), settings validation, and the REST actions
 * (ctl_api_campaign*) called directly. No EAL needed; runs under ASan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <microhttpd.h>

#include "ctl_api.h"
#include "ctl_campaign.h"
#include "tu_eal.h"

#define S(x) (1000000000ull * (x))
#define T0 S(1714557600ull)

/* One EVE alert. @p id/@p kind: identity evidence (NULL: a signature
 * alert without evidence); @p extra: more evidence keys (JSON text). */
static json_t *
alert(const char *src, const char *ua, long sid, const char *techs, const char *id,
      const char *kind, const char *extra)
{
	json_t *o = json_pack("{s:s,s:I,s:s,s:s,s:s,s:I,s:{s:s,s:I,s:s,s:{s:o,s:[s]}},"
			      "s:{s:s,s:s,s:s}}",
			      "timestamp", "2024-05-01T10:00:00.000000+0000", "flow_id", (json_int_t)sid,
			      "event_type", "alert", "src_ip", src, "direction", "to_server",
			      "tx_id", (json_int_t)1, "alert", "action", "allowed", "signature_id",
			      (json_int_t)sid, "signature", "test", "metadata",
			      "mitre_technique_id", json_loads(techs, 0, NULL), "owasp_api",
			      "API1:2023", "http", "url", "/api/v1/x?y=1", "http_method", "GET",
			      "http_user_agent", ua);

	if (id != NULL) {
		char buf[512];

		snprintf(buf, sizeof(buf), "{\"identity\":\"%s\",\"identity_kind\":\"%s\","
			 "\"client\":\"%s\",\"method\":\"GET\",\"host\":\"h\",\"template\":"
			 "\"/api/v1/users/{id}\"%s%s}", id, kind, src, extra ? "," : "",
			 extra ? extra : "");
		json_object_set_new(o, "apiguard", json_loads(buf, 0, NULL));
	}
	return o;
}

/* Observe and return the id of the campaign the alert landed in (the
 * newest-activity campaign), counting events into *nev. */
static json_t *last_events;

static uint64_t
feed(struct ctl_campaign *c, json_t *a, uint64_t ts)
{
	struct ctl_campaign_filter f = { .stage = -1, .tactic = -1, .limit = 1 };
	json_t *l;
	uint64_t id;

	json_decref(last_events);
	last_events = ctl_campaign_observe(c, a, ts);
	json_decref(a);
	l = ctl_campaign_list(c, &f);
	id = (uint64_t)json_integer_value(json_object_get(json_array_get(l, 0), "id"));
	json_decref(l);
	return id;
}

static struct ctl_campaign *
make(const char *settings)
{
	struct ctl_campaign_params p;
	json_t *j;
	char *err = NULL;

	ctl_campaign_params_default(&p);
	if (settings != NULL) {
		j = json_loads(settings, 0, NULL);
		CU_ASSERT_FATAL(j != NULL);
		CU_ASSERT_EQUAL_FATAL(ctl_campaign_params_load(&p, j, &err), 0);
		json_decref(j);
	}
	return ctl_campaign_create(&p, NULL, NULL);
}

static json_int_t
stat(struct ctl_campaign *c, const char *k)
{
	json_t *s = ctl_campaign_stats(c);
	json_int_t v = json_integer_value(json_object_get(s, k));

	json_decref(s);
	return v;
}

static void
test_link_client_and_network(void)
{
	struct ctl_campaign *c = make(NULL);
	uint64_t a, b, d;

	a = feed(c, alert("203.0.113.66", "u1", 1, "[\"T1595.002\"]", NULL, NULL, NULL), T0);
	b = feed(c, alert("203.0.113.66", "u2", 2, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(1));
	CU_ASSERT_EQUAL(a, b);
	/* Same /24, other address: the network links. */
	d = feed(c, alert("203.0.113.99", "u3", 3, "[\"T1119\"]", NULL, NULL, NULL), T0 + S(2));
	CU_ASSERT_EQUAL(a, d);
	/* Another /24: a new actor. */
	d = feed(c, alert("198.51.100.7", "u1", 4, "[\"T1119\"]", NULL, NULL, NULL), T0 + S(3));
	CU_ASSERT_NOT_EQUAL(a, d);
	CU_ASSERT_EQUAL(stat(c, "campaigns"), 2);
	ctl_campaign_destroy(c);
}

static void
test_link_identity_credential_username(void)
{
	struct ctl_campaign *c = make(NULL);
	uint64_t a, b;

	/* Token carried over to a new network. */
	a = feed(c, alert("203.0.113.66", "u", 1, "[\"T1119\"]", "00000000000000aa", "token", NULL), T0);
	b = feed(c, alert("198.51.100.7", "v", 2, "[\"T1213\"]", "00000000000000aa", "token", NULL),
		 T0 + S(1));
	CU_ASSERT_EQUAL(a, b);
	/* Username tried at login, logged in from elsewhere. */
	a = feed(c, alert("192.0.2.1", "u", 3, "[\"T1110\"]", "0000000000000001", "client",
			  "\"username\":\"00000000000000bb\""), T0 + S(2));
	b = feed(c, alert("100.64.1.1", "w", 4, "[\"T1078\"]", "0000000000000002", "client",
			  "\"username\":\"00000000000000bb\""), T0 + S(3));
	CU_ASSERT_EQUAL(a, b);
	/* "client" identities are the address: no identity link. */
	a = feed(c, alert("192.0.3.1", "u", 5, "[\"T1110\"]", "0000000000000009", "client", NULL),
		 T0 + S(4));
	b = feed(c, alert("100.65.1.1", "u", 6, "[\"T1110\"]", "0000000000000009", "client", NULL),
		 T0 + S(5));
	CU_ASSERT_NOT_EQUAL(a, b);
	/* Credential hash (token_reuse evidence). */
	a = feed(c, alert("10.1.0.1", "u", 7, "[\"T1550.001\"]", "0000000000000003", "cookie",
			  "\"credential\":\"00000000000000cc\""), T0 + S(6));
	b = feed(c, alert("10.2.0.1", "u", 8, "[\"T1550.001\"]", "0000000000000004", "cookie",
			  "\"credential\":\"00000000000000cc\""), T0 + S(7));
	CU_ASSERT_EQUAL(a, b);
	ctl_campaign_destroy(c);
}

static void
test_link_user_agent_and_merge(void)
{
	struct ctl_campaign *c = make("{\"link\": {\"client\": true, \"network\": false}}");
	uint64_t a, b, m;
	json_t *g;

	/* Without the network key a user agent links within the network only. */
	a = feed(c, alert("203.0.113.66", "evil/1", 1, "[\"T1595.002\"]", NULL, NULL, NULL), T0);
	b = feed(c, alert("203.0.113.67", "evil/1", 2, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(1));
	CU_ASSERT_EQUAL(a, b);
	b = feed(c, alert("203.0.113.68", "other/2", 3, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(2));
	CU_ASSERT_NOT_EQUAL(a, b);
	m = feed(c, alert("198.51.100.1", "evil/1", 4, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(3));
	CU_ASSERT_NOT_EQUAL(a, m);
	/* One alert carrying keys of two actors merges them; the older id stays. */
	b = feed(c, alert("198.51.100.1", "x", 5, "[\"T1119\"]", "00000000000000dd", "jwt", NULL),
		 T0 + S(4));
	CU_ASSERT_EQUAL(b, m);
	b = feed(c, alert("203.0.113.66", "y", 6, "[\"T1119\"]", "00000000000000dd", "jwt", NULL),
		 T0 + S(5));
	CU_ASSERT_EQUAL(b, a);
	CU_ASSERT_EQUAL(stat(c, "merges"), 1);
	CU_ASSERT_PTR_NULL(ctl_campaign_get(c, m));
	g = ctl_campaign_get(c, a);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(g, "alert_count")), 5);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(json_object_get(g, "actor"), "clients")), 3);
	/* Timeline in time order after the merge. */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(
		json_object_get(g, "alerts"), 2), "signature_id")), 4);
	json_decref(g);
	ctl_campaign_destroy(c);
}

static void
test_expiry(void)
{
	struct ctl_campaign *c = make("{\"link_ttl\": 10, \"idle\": 10}");
	uint64_t a, b;
	struct ctl_campaign_filter f = { .stage = -1, .tactic = -1, .open_only = true };
	json_t *l;

	a = feed(c, alert("203.0.113.66", "u", 1, "[\"T1110\"]", NULL, NULL, NULL), T0);
	b = feed(c, alert("203.0.113.66", "u", 2, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(9));
	CU_ASSERT_EQUAL(a, b);
	/* 9 s later again: still within 10 s of the last use. */
	b = feed(c, alert("203.0.113.66", "u", 3, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(18));
	CU_ASSERT_EQUAL(a, b);
	b = feed(c, alert("203.0.113.66", "u", 4, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(40));
	CU_ASSERT_NOT_EQUAL(a, b);
	CU_ASSERT(stat(c, "keys_expired") >= 3);
	l = ctl_campaign_list(c, &f);
	CU_ASSERT_EQUAL(json_array_size(l), 1);   /* the old one is closed */
	json_decref(l);
	ctl_campaign_destroy(c);
}

static void
test_caps(void)
{
	struct ctl_campaign *c = make("{\"max_keys\": 16, \"max_campaigns\": 4, \"max_alerts\": 3}");
	char ip[32];
	json_t *g;
	uint64_t a = 0;
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(ip, sizeof(ip), "10.%d.0.1", i);
		feed(c, alert(ip, "u", i, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(i));
	}
	CU_ASSERT_EQUAL(stat(c, "campaigns"), 4);
	CU_ASSERT_EQUAL(stat(c, "campaigns_evicted"), 16);
	CU_ASSERT(stat(c, "keys") <= 16);
	/* Alert references per campaign: capped, counted, tactic changes kept. */
	for (i = 0; i < 6; i++)
		a = feed(c, alert("10.19.0.1", "u", 100 + i, "[\"T1110\"]", NULL, NULL, NULL),
			 T0 + S(30 + i));
	a = feed(c, alert("10.19.0.1", "u", 200, "[\"T1119\"]", NULL, NULL, NULL), T0 + S(40));
	g = ctl_campaign_get(c, a);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(g, "alert_count")), 8);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(g, "alerts")), 4);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(g, "alerts_dropped")), 4);
	json_decref(g);
	ctl_campaign_destroy(c);
	/* A full key table refuses new keys (all live) and counts them. */
	c = make("{\"max_keys\": 16, \"max_campaigns\": 64}");
	for (i = 0; i < 20; i++) {
		snprintf(ip, sizeof(ip), "10.%d.0.1", i);
		feed(c, alert(ip, "u", i, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(i));
	}
	CU_ASSERT(stat(c, "keys_refused") > 0);
	CU_ASSERT_EQUAL(stat(c, "keys"), 16);
	ctl_campaign_destroy(c);
}

static void
test_stages_and_events(void)
{
	struct ctl_campaign *c = make(NULL);
	uint64_t a;
	json_t *g, *ev;

	CU_ASSERT_EQUAL(ctl_campaign_tactic_index("reconnaissance"), 0);
	CU_ASSERT_EQUAL(ctl_campaign_tactic_index("TA0006"), 7);
	CU_ASSERT_EQUAL(ctl_campaign_tactic_index("collection"), 10);
	CU_ASSERT_EQUAL(ctl_campaign_tactic_index("TA0010"), 12);
	CU_ASSERT_EQUAL(ctl_campaign_tactic_index("impact"), 13);
	CU_ASSERT_EQUAL(ctl_campaign_tactic_index("nonsense"), -1);

	/* One tactic: no event yet. */
	a = feed(c, alert("203.0.113.66", "u", 1, "[\"T1595.002\"]", NULL, NULL, NULL), T0);
	CU_ASSERT_EQUAL(json_array_size(last_events), 0);
	feed(c, alert("203.0.113.66", "u", 2, "[\"T1595.003\"]", NULL, NULL, NULL), T0 + S(1));
	CU_ASSERT_EQUAL(json_array_size(last_events), 0);
	/* Second tactic: event. */
	feed(c, alert("203.0.113.66", "u", 3, "[\"T1110.004\"]", NULL, NULL, NULL), T0 + S(2));
	CU_ASSERT_EQUAL_FATAL(json_array_size(last_events), 1);
	ev = json_array_get(last_events, 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ev, "event_type")), "campaign");
	ev = json_object_get(ev, "campaign");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(ev, "id")), (json_int_t)a);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ev, "stage")), "credential-access");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(ev, "alerts")), 3);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(ev, "tactics"), 0)),
			       "reconnaissance");
	/* Same tactic again: nothing. */
	feed(c, alert("203.0.113.66", "u", 4, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(3));
	CU_ASSERT_EQUAL(json_array_size(last_events), 0);
	/* T1078: four new tactics (all earlier in the lifecycle): one event,
	 * stage stays credential-access. */
	feed(c, alert("203.0.113.66", "u", 5, "[\"T1078\"]", NULL, NULL, NULL), T0 + S(4));
	CU_ASSERT_EQUAL_FATAL(json_array_size(last_events), 1);
	ev = json_object_get(json_array_get(last_events, 0), "campaign");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ev, "stage")), "credential-access");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(ev, "tactics")), 6);
	/* Collection: the stage moves on, evidence counts add up. */
	feed(c, alert("203.0.113.66", "u", 6, "[\"T1119\",\"T1213\"]", "00000000000000ee", "jwt",
		      "\"distinct_objects\":25,\"bytes\":4096,\"owner\":\"0000000000000077\""),
	     T0 + S(5));
	CU_ASSERT_EQUAL_FATAL(json_array_size(last_events), 1);
	ev = json_object_get(json_array_get(last_events, 0), "campaign");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ev, "stage")), "collection");
	/* An earlier-stage technique afterwards does not lower the stage. */
	feed(c, alert("203.0.113.66", "u", 7, "[\"T1595.002\"]", NULL, NULL, NULL), T0 + S(6));
	CU_ASSERT_EQUAL(json_array_size(last_events), 0);
	g = ctl_campaign_get(c, a);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(g, "stage")), "collection");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(g, "objects")), 25);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(g, "bytes")), 4096);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(g, "identities_touched"),
					       "0000000000000077"));
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(g, "endpoints"),
					       "GET h/api/v1/users/{id}"));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(g, "techniques"), 0)),
			       "T1595.002");
	json_decref(g);
	ctl_campaign_destroy(c);
}

struct blocks {
	int n, ids, clients;
	uint64_t last_exp;
};

static int
on_block(void *arg, const struct ctl_campaign_block *b)
{
	struct blocks *bl = arg;

	bl->n++;
	if (b->identity)
		bl->ids++;
	else
		bl->clients++;
	bl->last_exp = b->expires_ns;
	return 0;
}

static void
test_policy(void)
{
	struct ctl_campaign_params p;
	struct ctl_campaign *c;
	struct blocks bl = { 0 };
	json_t *j = json_loads("{\"policy\":[{\"stage\":\"collection\",\"after\":\"credential-access\","
			       "\"action\":\"block\",\"block_seconds\":600}]}", 0, NULL);
	char *err = NULL;

	ctl_campaign_params_default(&p);
	CU_ASSERT_EQUAL(p.n_policy, 0);   /* default: no response */
	CU_ASSERT_EQUAL(ctl_campaign_params_load(&p, j, &err), 0);
	json_decref(j);
	c = ctl_campaign_create(&p, on_block, &bl);
	/* Recon, credential access: nothing blocked yet. */
	feed(c, alert("203.0.113.66", "u", 1, "[\"T1595.002\"]", NULL, NULL, NULL), T0);
	feed(c, alert("203.0.113.66", "u", 2, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(1));
	CU_ASSERT_EQUAL(bl.n, 0);
	/* Collection with a token from another address (linked by the /24). */
	feed(c, alert("203.0.113.70", "u", 3, "[\"T1119\"]", "00000000000000ab", "jwt", NULL),
	     T0 + S(2));
	CU_ASSERT_EQUAL(bl.clients, 2);
	CU_ASSERT_EQUAL(bl.ids, 1);
	CU_ASSERT_EQUAL(bl.last_exp, T0 + S(2) + S(600));
	/* Once blocked, a newly linked key is blocked too, the rest not again. */
	feed(c, alert("198.51.100.9", "u", 4, "[\"T1119\"]", "00000000000000ab", "jwt", NULL),
	     T0 + S(3));
	CU_ASSERT_EQUAL(bl.n, 4);
	CU_ASSERT_EQUAL(stat(c, "blocks"), 4);
	/* Collection before credential access: the rule does not hold. */
	memset(&bl, 0, sizeof(bl));
	feed(c, alert("192.0.2.5", "u", 5, "[\"T1119\"]", NULL, NULL, NULL), T0 + S(4));
	feed(c, alert("192.0.2.5", "u", 6, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(5));
	CU_ASSERT_EQUAL(bl.n, 0);
	ctl_campaign_destroy(c);
}

static void
test_params(void)
{
	struct ctl_campaign_params p, q;
	const char *bad[] = {
		"{\"nope\": 1}", "{\"link_ttl\": 0}", "{\"network_v4\": 33}",
		"{\"link\": {\"phone\": true}}", "{\"policy\": [{\"stage\": \"lunch\"}]}",
		"{\"policy\": [{\"after\": \"collection\"}]}",
		"{\"policy\": [{\"stage\": \"impact\", \"action\": \"email\"}]}",
	};
	json_t *j;
	char *err;
	size_t i;

	ctl_campaign_params_default(&p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q = p;
		err = NULL;
		j = json_loads(bad[i], 0, NULL);
		CU_ASSERT_EQUAL(ctl_campaign_params_load(&q, j, &err), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(err);
		CU_ASSERT_EQUAL(memcmp(&p, &q, sizeof(p)), 0);
		free(err);
		json_decref(j);
	}
	j = json_loads("{\"link_ttl\": 60, \"network_v6\": 48, \"policy\": [{\"stage\": \"TA0010\"}]}",
		       0, NULL);
	CU_ASSERT_EQUAL(ctl_campaign_params_load(&p, j, NULL), 0);
	json_decref(j);
	CU_ASSERT_EQUAL(p.link_ttl_s, 60);
	CU_ASSERT_EQUAL(p.network_v6, 48);
	CU_ASSERT_EQUAL(p.policy[0].stage, 12);
	j = ctl_campaign_params_json(&p);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(
		json_object_get(j, "policy"), 0), "stage")), "exfiltration");
	json_decref(j);
}

static void
test_api(void)
{
	struct ctl_api api = { 0 };
	struct ctl_api_campaign_args q = { 0 };
	json_t *out = NULL, *t;
	size_t i;
	bool ordered = false;

	CU_ASSERT_EQUAL(ctl_api_campaigns(&api, &q, &out), MHD_HTTP_SERVICE_UNAVAILABLE);
	json_decref(out);
	api.campaigns = make(NULL);
	feed(api.campaigns, alert("203.0.113.66", "u", 1, "[\"T1595.002\"]", NULL, NULL, NULL), T0);
	feed(api.campaigns, alert("203.0.113.66", "u", 2, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(1));
	feed(api.campaigns, alert("203.0.113.66", "u", 3, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(2));
	feed(api.campaigns, alert("198.51.100.1", "u", 4, "[\"T1119\"]", NULL, NULL, NULL), T0 + S(3));
	CU_ASSERT_EQUAL(ctl_api_campaigns(&api, &q, &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "count")), 2);
	json_decref(out);
	q.stage = "credential-access";   /* minimum stage: both qualify */
	CU_ASSERT_EQUAL(ctl_api_campaigns(&api, &q, &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "count")), 2);
	json_decref(out);
	q.stage = "collection";
	CU_ASSERT_EQUAL(ctl_api_campaigns(&api, &q, &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "count")), 1);
	json_decref(out);
	q.stage = NULL;
	q.tactic = "reconnaissance";
	CU_ASSERT_EQUAL(ctl_api_campaigns(&api, &q, &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "count")), 1);
	json_decref(out);
	q.tactic = "lunch";
	CU_ASSERT_EQUAL(ctl_api_campaigns(&api, &q, &out), MHD_HTTP_BAD_REQUEST);
	json_decref(out);
	q.tactic = NULL;
	q.since = "1714557603";
	CU_ASSERT_EQUAL(ctl_api_campaigns(&api, &q, &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(out, "count")), 1);
	json_decref(out);
	q.since = "-1";
	CU_ASSERT_EQUAL(ctl_api_campaigns(&api, &q, &out), MHD_HTTP_BAD_REQUEST);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_campaign_get(&api, "1", &out), MHD_HTTP_OK);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(out, "alerts")), 3);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(
		json_object_get(out, "alerts"), 0), "url")), "/api/v1/x?y=1");
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_campaign_get(&api, "99", &out), MHD_HTTP_NOT_FOUND);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_campaign_get(&api, "x", &out), MHD_HTTP_BAD_REQUEST);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_campaign_layer(&api, "1", &out), MHD_HTTP_OK);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(out, "name")), "apiguard campaign 1");
	json_array_foreach(json_object_get(out, "techniques"), i, t) {
		const char *id = json_string_value(json_object_get(t, "techniqueID"));

		if (strcmp(id, "T1110") == 0) {
			CU_ASSERT_EQUAL(json_integer_value(json_object_get(t, "score")), 2);
			CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "comment")),
					       "#2, 2 alert(s)");
			ordered = true;
		}
	}
	CU_ASSERT(ordered);
	json_decref(out);
	CU_ASSERT_EQUAL(ctl_api_campaign_layer(&api, "5", &out), MHD_HTTP_NOT_FOUND);
	json_decref(out);
	ctl_campaign_destroy(api.campaigns);
}

/* The counters of GET /stats and /metrics: started, linked, by stage,
 * stage advances (a jump counts where it lands), merges keep the count. */
static void
test_stage_counters(void)
{
	struct ctl_campaign *c = make(NULL);
	json_t *s;

	feed(c, alert("203.0.113.66", "u1", 1, "[\"T1595.002\"]", NULL, NULL, NULL), T0);
	feed(c, alert("203.0.113.66", "u1", 2, "[\"T1110\"]", NULL, NULL, NULL), T0 + S(1));
	/* exfiltration straight after credential access: one advance */
	feed(c, alert("203.0.113.66", "u1", 2300054, "[\"T1020\"]", "00000000000000a1", "jwt",
		      "\"records\":300,\"bytes\":21000"), T0 + S(2));
	/* an unrelated actor in another network, recon only */
	feed(c, alert("198.51.100.7", "u2", 3, "[\"T1595.003\"]", NULL, NULL, NULL), T0 + S(3));
	/* no key at all: counted, not linked */
	{
		json_t *a = alert("203.0.113.1", "u3", 4, "[\"T1110\"]", NULL, NULL, NULL);

		json_object_set_new(a, "src_ip", json_string(""));
		json_object_del(a, "http");
		feed(c, a, T0 + S(4));
	}
	s = ctl_campaign_stats(c);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "created")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "alerts")), 5);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "alerts_linked")), 4);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "unlinked")), 1);
	CU_ASSERT_EQUAL(json_object_size(json_object_get(s, "by_stage")), CTL_CAMPAIGN_N_TACTICS);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(s, "by_stage"),
							   "exfiltration")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(s, "by_stage"),
							   "reconnaissance")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(s, "by_stage"),
							   "collection")), 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(s, "stage_reached"),
							   "reconnaissance")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(s, "stage_reached"),
							   "credential-access")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(s, "stage_reached"),
							   "exfiltration")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(s, "stage_reached"),
							   "collection")), 0);
	json_decref(s);
	/* the identity carried to the second network merges the two: the
	 * merged campaign does not count exfiltration again */
	feed(c, alert("198.51.100.7", "u2", 2300054, "[\"T1020\"]", "00000000000000a1", "jwt",
		      NULL), T0 + S(5));
	s = ctl_campaign_stats(c);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "merges")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "campaigns")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(s, "stage_reached"),
							   "exfiltration")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(s, "by_stage"),
							   "exfiltration")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(s, "by_stage"),
							   "reconnaissance")), 0);
	/* /metrics: one family per counter, HELP and TYPE once, stages as labels */
	{
		json_t *st = json_pack("{s:o}", "campaigns", ctl_campaign_stats(c));
		json_t *counts = json_pack("{s:i,s:{},s:{},s:{}}", "alerts", 0, "signature_id",
					   "mitre_technique_id", "owasp_api");
		json_t *info = json_object();
		char *m = ctl_metrics_render(st, counts, info);

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "# TYPE apiguard_campaigns gauge\napiguard_campaigns 1\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "# TYPE apiguard_campaigns_created_total counter\n"
						 "apiguard_campaigns_created_total 2\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "apiguard_campaign_merges_total 1\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "apiguard_campaign_alerts_linked_total 5\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "apiguard_campaigns_by_stage{stage=\"exfiltration\"} 1\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "apiguard_campaign_stage_reached_total{stage=\"impact\"} 0\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "# TYPE apiguard_campaign_policy_blocks_total counter\n"));
		{
			const char *p = m;
			unsigned n = 0;

			while ((p = strstr(p, "# TYPE apiguard_campaigns_by_stage ")) != NULL) {
				n++;
				p++;
			}
			CU_ASSERT_EQUAL(n, 1);
		}
		free(m);
		json_decref(st);
		json_decref(counts);
		json_decref(info);
	}
	json_decref(s);
	ctl_campaign_destroy(c);
}

int
main(void)
{
	CU_pSuite s;
	int rc;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("campaign", NULL, NULL);
	CU_add_test(s, "link: client and network", test_link_client_and_network);
	CU_add_test(s, "link: identity, credential, username", test_link_identity_credential_username);
	CU_add_test(s, "link: user agent within a network, merges", test_link_user_agent_and_merge);
	CU_add_test(s, "link expiry, open/closed", test_expiry);
	CU_add_test(s, "caps and counters", test_caps);
	CU_add_test(s, "stage ordering, new-tactic events, evidence", test_stages_and_events);
	CU_add_test(s, "response policy", test_policy);
	CU_add_test(s, "settings validation", test_params);
	CU_add_test(s, "REST actions", test_api);
	CU_add_test(s, "stage counters", test_stage_counters);
	rc = tu_run_all();
	json_decref(last_events);
	return rc;
}
