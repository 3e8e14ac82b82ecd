/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_behav: parameters (defaults, strict YAML/JSON loader with line
 * numbers, JSON export round trip), and the worker side end to end on
 * mt_txn views: client behind trusted proxies, identity precedence,
 * templates, login username from JSON and form bodies split at every
 * point, login outcome, privilege fields, harvested response ids, sizes of
 * the embedded structures, and the worker cost per transaction.
 * No EAL; ASan-clean.
 */
#include "tu_eal.h"
#include "mt_behav.h"
#include "mt_behav_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <time.h>

static struct mt_behav_params P;

static void
test_params(void)
{
	struct mt_behav_params p;
	char err[256], *js;
	const char *yaml =
		"login:\n"
		"  paths: [\"/v2/auth\", \"/api/*/login\"]\n"
		"  failure_status: [401, 429]\n"
		"identity:\n"
		"  trusted_proxies: [\"10.0.0.0/8\", \"2001:db8::/32\"]\n"
		"detectors:\n"
		"  bola_enumeration: {threshold: 12, action: block_identity, block_seconds: 120}\n"
		"  pii_ssn:\n"
		"    enabled: false\n";

	mt_behav_params_defaults(&p);
	CU_ASSERT_EQUAL(p.det[MT_DET_BOLA_ENUMERATION].threshold, 20);
	CU_ASSERT(mt_strlist_find(&p.session_cookies, "jsessionid", 10) >= 0);
	CU_ASSERT(mt_strlist_find(&p.apikey_headers, "x-api-key", 9) >= 0);
	CU_ASSERT_EQUAL(mt_behav_params_load(&p, yaml, strlen(yaml), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.login_paths.n, 2);
	CU_ASSERT_EQUAL(p.login_fail_status[1], 429);
	CU_ASSERT_EQUAL(p.login_fail_status[2], 0);
	CU_ASSERT_EQUAL(p.n_proxies, 2);
	CU_ASSERT_EQUAL(p.det[MT_DET_BOLA_ENUMERATION].threshold, 12);
	CU_ASSERT_EQUAL(p.det[MT_DET_BOLA_ENUMERATION].action, MT_BEHAV_BLOCK_IDENTITY);
	CU_ASSERT_EQUAL(p.det[MT_DET_BOLA_ENUMERATION].window_s, 600); /* untouched */
	CU_ASSERT_EQUAL(p.det[MT_DET_PII_SSN].enabled, 0);

	{ /* errors name the line and key; the params do not change */
		struct mt_behav_params q = p;
		static const struct { const char *text, *want; } bad[] = {
			{ "detectors:\n  bola_enumeration:\n    treshold: 3\n", "line 3: detectors.bola_enumeration.treshold: unknown key" },
			{ "detectors:\n  nope: {}\n", "line 2: detectors.nope: unknown key" },
			{ "detectors:\n  pii_ssn: {ratio: -1}\n", "line 2: detectors.pii_ssn.ratio: expected a number" },
			{ "login:\n  failure_status: [99]\n", "line 2: login.failure_status: expected an integer in [100, 599]" },
			{ "identity:\n  trusted_proxies: [\"10.0.0.0/33\"]\n", "line 2: identity.trusted_proxies: expected an address" },
			{ "limits: {identities: 1}\n", "line 1: limits.identities: expected an integer in [16, 16777216]" },
			{ "detectors: {jwt_expired: {action: drop}}\n", "line 1: detectors.jwt_expired.action: expected alert" },
			{ "jwt: {keys: [{alg: RS256, pem: \"not a key\"}]}\n", "jwt.keys" },
			{ "login: [1, 2\n", "line 2" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int rc = mt_behav_params_load(&q, bad[i].text, strlen(bad[i].text), err, sizeof(err));

			CU_ASSERT_EQUAL(rc, -EINVAL);
			CU_ASSERT(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0 || strstr(err, bad[i].want));
			if (!strstr(err, bad[i].want))
				printf("\n  got \"%s\" want \"%s\"", err, bad[i].want);
			CU_ASSERT(memcmp(&q, &p, sizeof(p)) == 0);
		}
	}
	/* the export is accepted back by the loader (GET then PATCH) */
	js = mt_behav_params_to_json(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(js);
	CU_ASSERT_PTR_NOT_NULL(strstr(js, "\"bola_enumeration\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(js, "\"sid\": 2300001"));
	{
		struct mt_behav_params q;
		char *fixed = strdup(js);
		char *sid;

		/* "sid" is informative, not a setting: strip it for the round trip */
		while ((sid = strstr(fixed, ",\n      \"sid\": ")) != NULL) {
			char *e = strchr(sid + 2, '\n');

			memmove(sid, e, strlen(e) + 1);
		}
		mt_behav_params_defaults(&q);
		CU_ASSERT_EQUAL(mt_behav_params_load(&q, fixed, strlen(fixed), err, sizeof(err)), 0);
		if (err[0])
			printf("\n  round trip: %s", err);
		CU_ASSERT(memcmp(&q, &p, sizeof(p)) == 0);
		for (size_t k = 0; k < sizeof(p); k++)
			if (((uint8_t *)&q)[k] != ((uint8_t *)&p)[k]) {
				printf("\n  differs at %zu (det at %zu)", k, offsetof(struct mt_behav_params, det));
				break;
			}
		free(fixed);
	}
	free(js);
}

/* ---- worker side ---- */

struct txn_buf {
	struct mt_flow_tuple tu;
	struct mt_txn t;
};

static void
txn(struct txn_buf *b, const char *method, const char *uri, const char *const *hdrs)
{
	memset(b, 0, sizeof(*b));
	b->tu.family = 4;
	b->tu.client_ip[0] = 10;
	b->tu.client_ip[3] = 9;
	b->tu.flow_id = 77;
	b->t.tuple = &b->tu;
	b->t.ts_ns = 1700000000ULL * 1000000000ULL;
	memset(b->t.req.known, -1, sizeof(b->t.req.known));
	memset(b->t.resp.known, -1, sizeof(b->t.resp.known));
	b->t.req.method = (struct mt_slice){ (const uint8_t *)method, (uint32_t)strlen(method) };
	b->t.req.uri = (struct mt_slice){ (const uint8_t *)uri, (uint32_t)strlen(uri) };
	for (int i = 0; hdrs && hdrs[i]; i += 2) {
		struct mt_header *h = &b->t.req.headers[b->t.req.n_headers];
		static const char *const known[MT_HDR__COUNT] = { "host", "user-agent", "content-type",
			"content-length", "cookie", "authorization", "transfer-encoding", "content-encoding",
			"server", "location", "set-cookie", "x-forwarded-for" };

		h->name = (struct mt_slice){ (const uint8_t *)hdrs[i], (uint32_t)strlen(hdrs[i]) };
		h->value = (struct mt_slice){ (const uint8_t *)hdrs[i + 1], (uint32_t)strlen(hdrs[i + 1]) };
		for (int k = 0; k < MT_HDR__COUNT; k++)
			if (!strcasecmp(known[k], hdrs[i]))
				b->t.req.known[k] = (int16_t)b->t.req.n_headers;
		b->t.req.n_headers++;
	}
}

static void
resp(struct txn_buf *b, uint16_t status, const char *ctype)
{
	b->t.resp.status_code = status;
	if (ctype) {
		b->t.resp.headers[0].name = (struct mt_slice){ (const uint8_t *)"Content-Type", 12 };
		b->t.resp.headers[0].value = (struct mt_slice){ (const uint8_t *)ctype, (uint32_t)strlen(ctype) };
		b->t.resp.n_headers = 1;
		b->t.resp.known[MT_HDR_CONTENT_TYPE] = 0;
	}
}

/* One full transaction; bodies cut at @cut (or not fed when NULL). */
static unsigned
run(struct mt_behav_worker *w, struct txn_buf *b, const char *req_body, const char *resp_body,
    size_t cut, struct mt_behav_rec *r)
{
	struct mt_behav_msg m;
	const struct mt_rule_info *hits[MT_BEHAV_REQ_HITS];
	unsigned n = mt_behav_req_head(w, &b->t, r, &m, hits, MT_BEHAV_REQ_HITS);

	if (req_body) {
		size_t l = strlen(req_body), c = cut < l ? cut : l;

		mt_behav_body(w, r, &m, (const uint8_t *)req_body, (uint32_t)c);
		mt_behav_body(w, r, &m, (const uint8_t *)req_body + c, (uint32_t)(l - c));
		mt_behav_body_end(w, r, &m);
	}
	mt_behav_resp_head(w, &b->t, r, &m);
	if (resp_body) {
		size_t l = strlen(resp_body), c = cut < l ? cut : l;

		mt_behav_body(w, r, &m, (const uint8_t *)resp_body, (uint32_t)c);
		mt_behav_body(w, r, &m, (const uint8_t *)resp_body + c, (uint32_t)(l - c));
	}
	mt_behav_body_end(w, r, &m);
	mt_behav_txn_end(w, &b->t, r);
	return n;
}

static void
test_sizes(void)
{
	printf("\n  sizeof(struct mt_behav_msg) = %zu, sizeof(struct mt_behav_rec) = %zu ",
	       sizeof(struct mt_behav_msg), sizeof(struct mt_behav_rec));
	CU_ASSERT(sizeof(struct mt_behav_msg) <= 512);
	CU_ASSERT(sizeof(struct mt_behav_rec) <= 512);
}

static void
test_identity(void)
{
	struct mt_behav_params p = P;
	struct mt_behav_worker *w;
	struct txn_buf b;
	struct mt_behav_rec r, r2;

	mt_behav_cidr_parse("10.0.0.0/8", &p.proxies[0]);
	p.n_proxies = 1;
	w = mt_behav_worker_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);

	/* trusted proxy: right-most untrusted XFF address is the client */
	txn(&b, "GET", "/api/v1/users/1234/orders/99?page=2&limit=50",
	    (const char *const[]){ "Host", "API.Example.com:8443", "X-Forwarded-For", "198.51.100.7, 10.1.1.1", NULL });
	run(w, &b, NULL, NULL, 0, &r);
	CU_ASSERT(r.family == 4 && r.client_ip[0] == 198 && r.client_ip[3] == 7);
	CU_ASSERT_EQUAL(r.id_kind, MT_ID_CLIENT);
	CU_ASSERT_STRING_EQUAL(r.host, "api.example.com");
	CU_ASSERT_STRING_EQUAL(r.tmpl, "/api/v1/users/{id}/orders/{id}");
	CU_ASSERT(r.obj_num == 99 && (r.flags & MT_REC_OBJ_NUMERIC));
	CU_ASSERT(r.page == 2 && r.limit == 50);
	CU_ASSERT_EQUAL(r.flow_id, 77);
	/* untrusted peer: XFF ignored */
	b.tu.client_ip[0] = 203;
	run(w, &b, NULL, NULL, 0, &r);
	CU_ASSERT(r.client_ip[0] == 203);

	/* precedence: API key header over cookie over basic */
	txn(&b, "GET", "/x", (const char *const[]){ "Cookie", "theme=dark; sessionid=abc123def", "Authorization",
		"Basic YWxpY2U6c2VjcmV0", "X-Api-Key", "k-1234567890", NULL });
	run(w, &b, NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.id_kind, MT_ID_APIKEY);
	CU_ASSERT_EQUAL(r.cred_kind, MT_ID_APIKEY);
	txn(&b, "GET", "/x", (const char *const[]){ "Cookie", "theme=dark; sessionid=abc123def", "Authorization",
		"Basic YWxpY2U6c2VjcmV0", NULL });
	run(w, &b, NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.id_kind, MT_ID_COOKIE);
	txn(&b, "GET", "/x", (const char *const[]){ "Authorization", "Basic YWxpY2U6c2VjcmV0", NULL });
	run(w, &b, NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.id_kind, MT_ID_BASIC);
	CU_ASSERT_EQUAL(r.id_hash, mt_behav_keyed_hash2('B', "alice", 5));
	/* the same user with another password: same identity, other credential */
	txn(&b, "GET", "/x", (const char *const[]){ "Authorization", "Basic YWxpY2U6b3RoZXI=", NULL });
	run(w, &b, NULL, NULL, 0, &r2);
	CU_ASSERT_EQUAL(r2.id_hash, r.id_hash);
	CU_ASSERT_NOT_EQUAL(r2.cred_hash, r.cred_hash);
	/* API key in the query: identity and an inline hit */
	txn(&b, "GET", "/v1/data?api_key=AbCdEf123456&x=1", NULL);
	CU_ASSERT_EQUAL(run(w, &b, NULL, NULL, 0, &r), 1);
	CU_ASSERT_EQUAL(r.id_kind, MT_ID_APIKEY);
	CU_ASSERT(r.flags & MT_REC_APIKEY_URL);
	/* opaque bearer */
	txn(&b, "GET", "/x", (const char *const[]){ "Authorization", "Bearer 8f14e45fceea167a5a36dedd4bea2543", NULL });
	run(w, &b, NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.id_kind, MT_ID_TOKEN);
	/* raw values never appear in the record */
	CU_ASSERT_PTR_NULL(memmem(&r, sizeof(r), "8f14e45f", 8));
	mt_behav_worker_destroy(w);
}

static void
test_login_bodies(void)
{
	struct mt_behav_worker *w = mt_behav_worker_create(&P);
	struct txn_buf b;
	struct mt_behav_rec r;
	const char *json = "{\"password\":\"hunter2\",\"remember\":true,\"Email\":\"Alice@Example.com\"}";
	const char *form = "password=p%40ss&username=alice%40example.com&x=1";
	uint64_t want = mt_behav_keyed_hash2('u', "alice@example.com", 17);
	unsigned bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	for (size_t cut = 0; cut <= strlen(json); cut++) {
		txn(&b, "POST", "/api/v1/auth/login", (const char *const[]){ "Content-Type", "application/json", NULL });
		resp(&b, 401, "application/json");
		run(w, &b, json, "{\"error\":\"invalid credentials\"}", cut, &r);
		bad += !(r.flags & MT_REC_LOGIN) || !(r.flags & MT_REC_LOGIN_FAIL) || r.user_hash != want;
	}
	CU_ASSERT_EQUAL(bad, 0);
	for (size_t cut = 0; cut <= strlen(form); cut++) {
		txn(&b, "POST", "/login", (const char *const[]){ "Content-Type", "application/x-www-form-urlencoded", NULL });
		resp(&b, 200, "application/json");
		/* 200 with an error body is a failure too (split across chunks) */
		run(w, &b, form, "{\"ok\":false,\"message\":\"Invalid password\"}", cut, &r);
		bad += !(r.flags & MT_REC_LOGIN_FAIL) || r.user_hash != want;
	}
	CU_ASSERT_EQUAL(bad, 0);
	txn(&b, "POST", "/oauth/token", (const char *const[]){ "Content-Type", "application/json", NULL });
	resp(&b, 200, "application/json");
	run(w, &b, "{\"username\":\"bob\",\"password\":\"x\"}", "{\"access_token\":\"abc\"}", 5, &r);
	CU_ASSERT((r.flags & MT_REC_LOGIN) && !(r.flags & MT_REC_LOGIN_FAIL) && (r.flags & MT_REC_HAS_USER));
	/* not a login path: no username kept */
	txn(&b, "POST", "/api/v1/comments", (const char *const[]){ "Content-Type", "application/json", NULL });
	resp(&b, 201, "application/json");
	run(w, &b, "{\"username\":\"bob\"}", "{}", 3, &r);
	CU_ASSERT(!(r.flags & (MT_REC_LOGIN | MT_REC_HAS_USER)));
	mt_behav_worker_destroy(w);
}

static void
test_write_bodies(void)
{
	struct mt_behav_worker *w = mt_behav_worker_create(&P);
	struct txn_buf b;
	struct mt_behav_rec r;
	const char *req = "{\"name\":\"x\",\"profile\":{\"isAdmin\":true,\"bio\":\"role: none\"},\"role\":\"admin\"}";
	/* ids near the top only (depth <= 3): nested items and user_id are not owned */
	const char *rsp = "{\"data\":{\"id\":\"ord_8812\",\"items\":[{\"id\":1},{\"id\":2}]},\"user_id\":5}";
	uint32_t want = 1u << mt_strlist_find(&P.privilege_fields, "isAdmin", 7) |
			1u << mt_strlist_find(&P.privilege_fields, "role", 4);
	unsigned bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	for (size_t cut = 0; cut <= strlen(req); cut++) {
		txn(&b, "PATCH", "/api/v1/users/12", (const char *const[]){ "Content-Type", "application/json; charset=utf-8", NULL });
		resp(&b, 200, "application/json");
		run(w, &b, req, rsp, cut, &r);
		bad += r.priv_fields != want || r.n_resp_ids != 1 ||
		       r.resp_ids[0] != mt_behav_fast_hash("ord_8812", 8) || r.resp_records != 2 ||
		       r.req_bytes != strlen(req) || r.resp_bytes != strlen(rsp);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(r.flags & MT_REC_WRITE);
	/* compressed responses are not scanned, but sized */
	txn(&b, "GET", "/x", NULL);
	resp(&b, 200, "application/json");
	b.t.resp.headers[1].name = (struct mt_slice){ (const uint8_t *)"Content-Encoding", 16 };
	b.t.resp.headers[1].value = (struct mt_slice){ (const uint8_t *)"gzip", 4 };
	b.t.resp.n_headers = 2;
	b.t.resp.known[MT_HDR_CONTENT_ENCODING] = 1;
	run(w, &b, NULL, "123-45-6789", 3, &r);
	CU_ASSERT((r.flags & MT_REC_ENCODED) && r.pii[MT_PII_SSN] == 0 && r.resp_bytes == 11);
	mt_behav_worker_destroy(w);
}

/* Worker + analytics on real transactions: a BOLA walk end to end. */
static void
test_end_to_end(void)
{
	struct mt_behav_worker *w = mt_behav_worker_create(&P);
	struct mt_behav *an = mt_behav_create(&P);
	struct txn_buf b;
	struct mt_behav_rec r;
	struct mt_behav_detection d[8];
	char uri[64];
	unsigned got = 0;

	CU_ASSERT_FATAL(w && an);
	for (int i = 0; i < 40 && !got; i++) {
		snprintf(uri, sizeof(uri), "/api/v1/accounts/%d", 3000 + i);
		txn(&b, "GET", uri, (const char *const[]){ "Host", "bank.test", "Authorization", "Bearer opaque-token-0001", NULL });
		b.t.ts_ns += (uint64_t)i * 1000000000ULL;
		resp(&b, 200, "application/json");
		run(w, &b, NULL, "{\"id\":1,\"owner\":\"x\"}", 4, &r);
		for (unsigned k = mt_behav_process(an, &r, d, 8); k > 0; k--)
			if (d[k - 1].rule->sid == 2300001) {
				got = 1;
				CU_ASSERT_PTR_NOT_NULL(strstr(d[k - 1].evidence, "\"template\":\"/api/v1/accounts/{id}\""));
				CU_ASSERT_PTR_NOT_NULL(strstr(d[k - 1].evidence, "\"identity_kind\":\"token\""));
				CU_ASSERT_PTR_NULL(strstr(d[k - 1].evidence, "opaque-token"));
			}
	}
	CU_ASSERT_EQUAL(got, 1);
	mt_behav_destroy(an);
	mt_behav_worker_destroy(w);
}

static void
test_bench(void)
{
	struct mt_behav_worker *w = mt_behav_worker_create(&P);
	struct txn_buf b;
	struct mt_behav_rec r;
	struct timespec t0, t1;
	const char *body = "{\"id\":4412,\"name\":\"Widget\",\"owner\":{\"id\":77,\"email\":\"o@example.com\"},\"price\":12.5}";
	enum { N = 100000 };
	double ns_head, ns_full;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	txn(&b, "GET", "/api/v1/users/1234/orders/99?limit=20",
	    (const char *const[]){ "Host", "api.example.com", "Authorization", "Bearer 8f14e45fceea167a5a36dedd4bea2543",
				   "User-Agent", "bench", "Accept", "application/json", NULL });
	resp(&b, 200, "application/json");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++)
		run(w, &b, NULL, NULL, 0, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns_head = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / N;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++)
		run(w, &b, NULL, body, 40, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns_full = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / N;
	printf("\n  worker: %.0f ns/record (heads only), %.0f ns/record (with a %zu-byte JSON response) ",
	       ns_head, ns_full, strlen(body));
	CU_ASSERT(ns_head < 50000);
	mt_behav_worker_destroy(w);
}

int
main(void)
{
	CU_pSuite s;

	mt_behav_params_defaults(&P);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("behaviour worker side", NULL, NULL);
	CU_add_test(s, "parameters", test_params);
	CU_add_test(s, "struct sizes", test_sizes);
	CU_add_test(s, "client and identity", test_identity);
	CU_add_test(s, "login bodies at every split", test_login_bodies);
	CU_add_test(s, "write bodies and response ids", test_write_bodies);
	CU_add_test(s, "worker to analytics", test_end_to_end);
	CU_add_test(s, "bench", test_bench);
	return tu_run_all();
}
