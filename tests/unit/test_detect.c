/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_detect: every behavioural detector fires on a synthetic malicious
 * record sequence within 50 records and stays silent on its benign twin;
 * memory caps hold with counters; analytics cost per record.
 * No EAL; runs under ASan.
 */
#include "tu_eal.h"
#include "mt_behav.h"
#include "mt_behav_int.h"
#include "mt_attack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0 1700000000000000000ULL
#define SEC 1000000000ULL

static struct mt_behav_params P;
static unsigned hits[MT_DET__COUNT];
static unsigned first_at[MT_DET__COUNT];
static unsigned fed;
static unsigned mark; /* records fed before the malicious part */
#define ATTACK() (mark = fed)
static char last_evidence[MT_DET__COUNT][MT_BEHAV_EVIDENCE_MAX];

static struct mt_behav *
fresh(void)
{
	memset(hits, 0, sizeof(hits));
	memset(first_at, 0, sizeof(first_at));
	fed = 0;
	mark = 0;
	return mt_behav_create(&P);
}

static void
feed(struct mt_behav *b, const struct mt_behav_rec *r)
{
	struct mt_behav_detection d[16];
	unsigned n = mt_behav_process(b, r, d, 16);

	fed++;
	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(d[i].rule->sid, mt_behav_rule(d[i].det)->sid);
		if (hits[d[i].det]++ == 0)
			first_at[d[i].det] = fed;
		snprintf(last_evidence[d[i].det], sizeof(last_evidence[0]), "%s", d[i].evidence);
	}
}

static void
rec(struct mt_behav_rec *r, uint64_t ts, uint64_t id, uint8_t kind, uint32_t ip, const char *method,
    const char *path, uint16_t status)
{
	struct mt_tmpl_out to;
	const char *q = strchr(path, '?');
	size_t pl = q ? (size_t)(q - path) : strlen(path);

	memset(r, 0, sizeof(*r));
	r->ts_ns = ts;
	r->id_hash = id;
	r->id_kind = kind;
	r->family = 4;
	r->client_ip[0] = (uint8_t)(ip >> 24);
	r->client_ip[1] = (uint8_t)(ip >> 16);
	r->client_ip[2] = (uint8_t)(ip >> 8);
	r->client_ip[3] = (uint8_t)ip;
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->host, sizeof(r->host), "api.example.com");
	mt_tmpl_path(path, pl, &to);
	memcpy(r->tmpl, to.tmpl, sizeof(r->tmpl));
	r->n_segs = to.n_segs;
	memcpy(r->seg_hash, to.seg_hash, sizeof(r->seg_hash));
	r->obj_slot = to.obj_slot;
	r->tmpl_id = mt_behav_fast_hash(r->tmpl, strlen(r->tmpl));
	if (to.obj_slot != 0xff) {
		r->flags |= MT_REC_HAS_OBJ;
		r->obj_hash = to.obj_hash;
		if (to.obj_numeric) {
			r->flags |= MT_REC_OBJ_NUMERIC;
			r->obj_num = to.obj_num;
		}
	}
	if (!strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH"))
		r->flags |= MT_REC_WRITE;
	if (q) {
		const char *v;
		size_t vl;

		if (mt_query_get(q + 1, strlen(q + 1), "page", &v, &vl)) {
			r->page = (uint32_t)atoi(v);
			r->flags |= MT_REC_HAS_PAGE;
		}
		if (mt_query_get(q + 1, strlen(q + 1), "limit", &v, &vl)) {
			r->limit = (uint32_t)atoi(v);
			r->flags |= MT_REC_HAS_LIMIT;
		}
	}
	r->status = status;
	r->flags |= MT_REC_HAS_RESP;
	r->resp_bytes = 800;
}

#define USER(i) (0x1000000ULL + (uint64_t)(i) * 7919)
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static void
expect(enum mt_behav_det d, bool fire)
{
	if (fire) {
		CU_ASSERT(hits[d] > 0);
		CU_ASSERT(first_at[d] > mark && first_at[d] - mark <= 50);
		if (!hits[d])
			printf("\n  %s did not fire\n", mt_behav_det_name(d));
		else if (first_at[d] - mark > 50)
			printf("\n  %s fired after %u records\n", mt_behav_det_name(d), first_at[d] - mark);
	} else {
		CU_ASSERT_EQUAL(hits[d], 0);
		if (hits[d])
			printf("\n  %s fired on benign: %s\n", mt_behav_det_name(d), last_evidence[d]);
	}
}

/* Many users each reading (and creating) their own objects. */
static void
benign_own_objects(struct mt_behav *b)
{
	struct mt_behav_rec r;
	char path[96];
	uint64_t ts = T0;

	for (int u = 0; u < 60; u++) {
		for (int k = 0; k < 4; k++) {
			uint64_t oid = 500000 + (uint64_t)u * 977 + (uint64_t)k * 131;

			rec(&r, ts += SEC / 10, USER(u), MT_ID_JWT, IP(10, 1, u, 7), "POST", "/api/v1/orders", 201);
			r.n_resp_ids = 1;
			snprintf(path, sizeof(path), "%llu", (unsigned long long)oid);
			r.resp_ids[0] = mt_behav_fast_hash(path, strlen(path));
			feed(b, &r);
			snprintf(path, sizeof(path), "/api/v1/orders/%llu", (unsigned long long)oid);
			rec(&r, ts += SEC / 10, USER(u), MT_ID_JWT, IP(10, 1, u, 7), "GET", path, 200);
			feed(b, &r);
		}
		rec(&r, ts += SEC / 10, USER(u), MT_ID_JWT, IP(10, 1, u, 7), "GET", "/api/v1/orders/999999999", 404);
		feed(b, &r);
	}
}

static void
test_bola(void)
{
	struct mt_behav *b = fresh();
	struct mt_behav_rec r;
	char path[96];
	uint64_t ts = T0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	benign_own_objects(b);
	expect(MT_DET_BOLA_ENUMERATION, false);
	expect(MT_DET_BOLA_MANY_OBJECTS, false);
	expect(MT_DET_BOLA_FOREIGN_OBJECT, false);
	expect(MT_DET_BOLA_ERROR_RATIO, false);
	mt_behav_destroy(b);

	/* enumeration: 1000, 1001, ... */
	b = fresh();
	ATTACK();
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "/api/v1/users/42/orders/%d", 1000 + i);
		rec(&r, ts += SEC, USER(1), MT_ID_JWT, IP(10, 0, 0, 1), "GET", path, 200);
		feed(b, &r);
	}
	expect(MT_DET_BOLA_ENUMERATION, true);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_evidence[MT_DET_BOLA_ENUMERATION], "\"samples\":["));
	CU_ASSERT_PTR_NOT_NULL(strstr(last_evidence[MT_DET_BOLA_ENUMERATION],
				      "/api/v1/users/{id}/orders/{id}"));
	mt_behav_destroy(b);

	/* many distinct objects, not sequential (UUID-like keys) */
	b = fresh();
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "/api/v1/documents/%08x-1234-4abc-8def-%012x", i * 2654435761u,
			 i * 40503u);
		rec(&r, ts += SEC, USER(2), MT_ID_JWT, IP(10, 0, 0, 2), "GET", path, 200);
		feed(b, &r);
	}
	expect(MT_DET_BOLA_MANY_OBJECTS, true);
	expect(MT_DET_BOLA_ENUMERATION, false);
	mt_behav_destroy(b);

	/* error ratio: probing ids that mostly do not exist or are forbidden */
	b = fresh();
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "/api/v1/invoices/%d", 7000 + i * 37);
		rec(&r, ts += SEC, USER(3), MT_ID_JWT, IP(10, 0, 0, 3), "GET", path, i % 5 ? 403 : 200);
		feed(b, &r);
	}
	expect(MT_DET_BOLA_ERROR_RATIO, true);
	expect(MT_DET_SCAN_404_SPREAD, false);
	mt_behav_destroy(b);

	/* foreign objects: A creates, B reads A's objects */
	b = fresh();
	benign_own_objects(b);
	ATTACK();
	for (int k = 0; k < 4; k++) {
		uint64_t oid = 500000 + (uint64_t)5 * 977 + (uint64_t)k * 131; /* user 5's */

		snprintf(path, sizeof(path), "/api/v1/orders/%llu", (unsigned long long)oid);
		rec(&r, T0 + 100 * SEC + k * SEC, USER(6), MT_ID_JWT, IP(10, 1, 6, 7), "GET", path, 200);
		feed(b, &r);
	}
	expect(MT_DET_BOLA_FOREIGN_OBJECT, true);
	mt_behav_destroy(b);

	/* created under a parent (POST /users/{id}/orders), read flat
	 * (/orders/{id}) by another identity: one "orders" collection */
	b = fresh();
	for (int k = 0; k < 5; k++) {
		rec(&r, T0 + k * SEC, USER(20), MT_ID_JWT, IP(10, 1, 20, 7), "POST", "/api/v1/users/420/orders", 201);
		r.n_resp_ids = 1;
		snprintf(path, sizeof(path), "%d", 880000 + k * 3);
		r.resp_ids[0] = mt_behav_fast_hash(path, strlen(path));
		feed(b, &r);
	}
	for (int k = 0; k < 5; k++) { /* the owner reads its own: silent */
		snprintf(path, sizeof(path), "/api/v1/orders/%d", 880000 + k * 3);
		rec(&r, T0 + 10 * SEC + k * SEC, USER(20), MT_ID_JWT, IP(10, 1, 20, 7), "GET", path, 200);
		feed(b, &r);
	}
	expect(MT_DET_BOLA_FOREIGN_OBJECT, false);
	ATTACK();
	for (int k = 0; k < 5; k++) {
		snprintf(path, sizeof(path), "/api/v1/orders/%d", 880000 + k * 3);
		rec(&r, T0 + 20 * SEC + k * SEC, USER(21), MT_ID_JWT, IP(10, 1, 21, 7), "GET", path, 200);
		feed(b, &r);
	}
	expect(MT_DET_BOLA_FOREIGN_OBJECT, true);
	mt_behav_destroy(b);

	/* a shared collection: an admin creates products, customers browse
	 * them (interleaved, as real browsing is): silent */
	b = fresh();
	for (int k = 0; k < 10; k++) {
		rec(&r, T0 + k * SEC, USER(30), MT_ID_JWT, IP(10, 1, 30, 7), "POST", "/api/v1/products", 201);
		r.n_resp_ids = 1;
		snprintf(path, sizeof(path), "%d", 1000 + k);
		r.resp_ids[0] = mt_behav_fast_hash(path, strlen(path));
		feed(b, &r);
	}
	for (int round = 0; round < 6; round++)
		for (int u = 0; u < 20; u++) {
			snprintf(path, sizeof(path), "/api/v1/products/%d", 1000 + (u + round * 3) % 10);
			rec(&r, T0 + 20 * SEC + (uint64_t)(round * 20 + u) * SEC, USER(100 + u), MT_ID_JWT,
			    IP(10, 2, u, 7), "GET", path, 200);
			feed(b, &r);
		}
	expect(MT_DET_BOLA_FOREIGN_OBJECT, false);
	mt_behav_destroy(b);
}

static void
test_scan(void)
{
	struct mt_behav *b = fresh();
	struct mt_behav_rec r;
	char path[96];
	uint64_t ts = T0;
	static const char *const words[] = { "admin", "backup", "config", "debug", "env", "git",
		"phpinfo", "server-status", "wp-admin", "console", "actuator", "swagger", "graphql",
		"old", "test", "dev", "staging", "internal", "metrics", "trace", "dump", "logs" };

	for (int i = 0; i < 40; i++) { /* benign: a few 404s on a few templates */
		snprintf(path, sizeof(path), "/api/v1/%s", i % 10 == 0 ? "missing" : "status");
		rec(&r, ts += SEC, 0, MT_ID_CLIENT, IP(192, 0, 2, 1), "GET", path, i % 10 == 0 ? 404 : 200);
		feed(b, &r);
	}
	expect(MT_DET_SCAN_404_SPREAD, false);
	ATTACK();
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "/%s/%s.%s", words[i % 22], words[(i * 7) % 22], i & 1 ? "bak" : "old");
		rec(&r, ts += SEC / 10, 77, MT_ID_CLIENT, IP(198, 51, 100, 9), "GET", path, 404);
		feed(b, &r);
	}
	expect(MT_DET_SCAN_404_SPREAD, true);
	mt_behav_destroy(b);
}

static void
login(struct mt_behav *b, uint64_t ts, uint32_t ip, uint64_t user, bool fail)
{
	struct mt_behav_rec r;

	rec(&r, ts, 0, MT_ID_CLIENT, ip, "POST", "/api/v1/auth/login", fail ? 401 : 200);
	r.flags |= MT_REC_LOGIN | MT_REC_HAS_USER | (fail ? MT_REC_LOGIN_FAIL : 0);
	r.user_hash = user;
	feed(b, &r);
}

static void
test_login(void)
{
	struct mt_behav *b = fresh();
	uint64_t ts = T0;

	/* benign: 300 logins by 150 users from their own address, ~10% typos */
	for (int i = 0; i < 300; i++) {
		int u = i % 150;

		if (i % 10 == 3)
			login(b, ts += SEC, IP(10, 2, u, 1), USER(u), true);
		login(b, ts += SEC, IP(10, 2, u, 1), USER(u), false);
	}
	for (int d = 0; d < MT_DET__COUNT; d++)
		expect((enum mt_behav_det)d, false);
	mt_behav_destroy(b);

	b = fresh(); /* brute force against one user from one client */
	for (int i = 0; i < 15; i++)
		login(b, ts += SEC, IP(203, 0, 113, 5), USER(9), true);
	expect(MT_DET_BRUTE_FORCE_CLIENT, true);
	expect(MT_DET_BRUTE_FORCE_USER, true);
	expect(MT_DET_PASSWORD_SPRAYING, false);
	mt_behav_destroy(b);

	b = fresh(); /* spraying: one client, many users, one try each */
	for (int i = 0; i < 30; i++)
		login(b, ts += SEC, IP(203, 0, 113, 6), USER(100 + i), true);
	expect(MT_DET_PASSWORD_SPRAYING, true);
	expect(MT_DET_BRUTE_FORCE_USER, false);
	mt_behav_destroy(b);

	b = fresh(); /* stuffing: many clients, many users, nearly all fail */
	for (int i = 0; i < 50; i++)
		login(b, ts += SEC / 5, IP(100, 64, i, 3 + i % 7), USER(1000 + i), i % 25 != 7);
	expect(MT_DET_CREDENTIAL_STUFFING, true);
	expect(MT_DET_BRUTE_FORCE_CLIENT, false);
	mt_behav_destroy(b);

	b = fresh(); /* success from a new client after a run of failures */
	login(b, ts += SEC, IP(10, 3, 0, 1), USER(5), false);           /* usual device */
	for (int i = 0; i < 6; i++)
		login(b, ts += SEC, IP(203, 0, 113, 50 + i), USER(5), true);
	login(b, ts += SEC, IP(10, 3, 0, 1), USER(5), false);           /* owner: silent */
	expect(MT_DET_LOGIN_AFTER_FAILURES, false);
	ATTACK();
	for (int i = 0; i < 6; i++)
		login(b, ts += SEC, IP(203, 0, 113, 60 + i), USER(5), true);
	login(b, ts += SEC, IP(203, 0, 113, 99), USER(5), false);       /* attacker */
	expect(MT_DET_LOGIN_AFTER_FAILURES, true);
	mt_behav_destroy(b);

	/* the real user logs in for the first time while someone else
	 * guesses its password: no failures from its client, silent */
	b = fresh();
	for (int i = 0; i < 30; i++)
		login(b, ts += SEC / 4, IP(203, 0, 113, 66), USER(6), true);
	login(b, ts += SEC / 4, IP(10, 6, 0, 1), USER(6), false);
	for (int i = 0; i < 4; i++) /* 4 typos from a new device: below the run */
		login(b, ts += SEC, IP(10, 6, 9, 1), USER(6), true);
	login(b, ts += SEC, IP(10, 6, 9, 1), USER(6), false);
	expect(MT_DET_LOGIN_AFTER_FAILURES, false);
	mt_behav_destroy(b);

	/* stuffing hides among clean logins: 300 users log in (10% typos)
	 * while 30 bots try 4 leaked pairs each */
	b = fresh();
	for (int i = 0; i < 300; i++) {
		int u = i % 150;

		if (i % 10 == 3)
			login(b, ts += SEC / 2, IP(10, 2, u, 1), USER(u), true);
		login(b, ts += SEC / 2, IP(10, 2, u, 1), USER(u), false);
	}
	for (int d = 0; d < MT_DET__COUNT; d++)
		expect((enum mt_behav_det)d, false);
	ATTACK();
	for (int i = 0; i < 120; i++) {
		int bot = i / 4;

		login(b, ts += SEC / 5, IP(45, 10 + bot, 7, 9), USER(5000 + i), i != 37);
		if (i % 10 == 9) /* clean logins go on */
			login(b, ts += SEC / 5, IP(10, 2, i % 150, 1), USER(i % 150), false);
	}
	expect(MT_DET_CREDENTIAL_STUFFING, true);
	mt_behav_destroy(b);

	/* a busy API: every 10-minute window some users give up after a few
	 * tries (8, then 14 per window); the usual level is learnt, a bot
	 * wave well above it (one try per proxy address) fires */
	b = fresh();
	for (int w = 0; w < 4; w++) {
		uint64_t w0 = T0 + (uint64_t)w * 600 * SEC;
		int quit = w ? 14 : 8;

		for (int k = 0; k < quit; k++)
			for (int t = 0; t < 4; t++)
				login(b, w0 + (uint64_t)(k * 4 + t) * 5 * SEC, IP(10, 8, w, k), USER(w * 100 + k), true);
		for (int k = 0; k < 60; k++)
			login(b, w0 + 300 * SEC + (uint64_t)k * SEC, IP(10, 9, w, k), USER(2000 + k), false);
	}
	expect(MT_DET_CREDENTIAL_STUFFING, false);
	ATTACK();
	for (int i = 0; i < 400; i++)
		login(b, T0 + 4 * 600 * SEC + (uint64_t)i * SEC / 5, IP(45, 20 + i / 200, i % 200, 1), USER(9000 + i), true);
	expect(MT_DET_CREDENTIAL_STUFFING, true);
	mt_behav_destroy(b);

	/* one loud brute forcer among typo users is not stuffing */
	b = fresh();
	for (int i = 0; i < 200; i++) {
		login(b, ts += SEC / 2, IP(203, 0, 113, 7), USER(9), true);
		if (i % 10 == 0) { /* 20 users with a typo each */
			login(b, ts += SEC / 2, IP(10, 5, i, 1), USER(300 + i), true);
			login(b, ts += SEC / 2, IP(10, 5, i, 1), USER(300 + i), false);
		}
	}
	expect(MT_DET_CREDENTIAL_STUFFING, false);
	expect(MT_DET_BRUTE_FORCE_CLIENT, true);
	mt_behav_destroy(b);
}

static void
test_reuse(void)
{
	struct mt_behav *b = fresh();
	struct mt_behav_rec r;
	uint64_t ts = T0;

	/* users with several devices: own token per device, or one token
	 * from home, office and phone */
	for (int u = 0; u < 40; u++)
		for (int dev = 0; dev < 3; dev++) {
			rec(&r, ts += SEC, USER(u), MT_ID_JWT, IP(10 + dev, u, 1, 2), "GET", "/api/v1/me", 200);
			r.cred_kind = MT_ID_TOKEN;
			r.cred_hash = u % 2 ? 0xabc000 + (uint64_t)u : 0xdef000 + (uint64_t)u * 3 + (uint64_t)dev;
			feed(b, &r);
			rec(&r, ts += SEC, USER(u), MT_ID_COOKIE, IP(10 + dev, u, 1, 2), "GET", "/account", 200);
			r.cred_kind = MT_ID_COOKIE;
			r.cred_hash = r.id_hash = 0x5e55000 + (uint64_t)u;
			feed(b, &r);
		}
	expect(MT_DET_TOKEN_REUSE, false);
	expect(MT_DET_COOKIE_REUSE, false);
	ATTACK();
	for (int i = 0; i < 12; i++) {
		rec(&r, ts += SEC, USER(1), MT_ID_JWT, IP(45, i * 17, 3, 4), "GET", "/api/v1/me", 200);
		r.cred_kind = MT_ID_TOKEN;
		r.cred_hash = 0x70c3;
		feed(b, &r);
		rec(&r, ts += SEC, 0x5e55, MT_ID_COOKIE, IP(77, i * 13, 5, 6), "GET", "/account", 200);
		r.cred_kind = MT_ID_COOKIE;
		r.cred_hash = 0x5e55;
		feed(b, &r);
	}
	expect(MT_DET_TOKEN_REUSE, true);
	expect(MT_DET_COOKIE_REUSE, true);
	mt_behav_destroy(b);
}

static void
test_request_facts(void)
{
	struct mt_behav *b = fresh();
	struct mt_behav_rec r;
	static const struct { uint8_t bit; enum mt_behav_det d; } jw[] = {
		{ MT_JWT_ALG_NONE, MT_DET_JWT_ALG_NONE }, { MT_JWT_EMPTY_SIG, MT_DET_JWT_EMPTY_SIGNATURE },
		{ MT_JWT_EXPIRED, MT_DET_JWT_EXPIRED }, { MT_JWT_HDR_INJECT, MT_DET_JWT_HEADER_INJECTION },
		{ MT_JWT_SIG_BAD, MT_DET_JWT_BAD_SIGNATURE },
	};

	for (int i = 0; i < 50; i++) { /* valid tokens, key in a header */
		rec(&r, T0 + i * SEC, USER(i), MT_ID_JWT, IP(10, 9, 9, i), "GET", "/api/v1/me", 200);
		r.jwt = MT_JWT_PRESENT | MT_JWT_SIG_OK;
		feed(b, &r);
	}
	for (unsigned i = 0; i < 5; i++)
		expect(jw[i].d, false);
	expect(MT_DET_APIKEY_IN_URL, false);
	ATTACK();
	for (unsigned i = 0; i < 5; i++) {
		rec(&r, T0 + 100 * SEC, USER(99), MT_ID_JWT, IP(10, 9, 9, 1), "GET", "/api/v1/me", 200);
		r.jwt = MT_JWT_PRESENT | jw[i].bit;
		feed(b, &r);
		expect(jw[i].d, true);
	}
	rec(&r, T0 + 200 * SEC, 5, MT_ID_APIKEY, IP(10, 9, 9, 2), "GET", "/api/v1/items?api_key=x", 200);
	r.flags |= MT_REC_APIKEY_URL;
	feed(b, &r);
	expect(MT_DET_APIKEY_IN_URL, true);
	mt_behav_destroy(b);
}

static void
test_data(void)
{
	struct mt_behav *b = fresh();
	struct mt_behav_rec r;
	char path[96];
	static const struct { enum mt_behav_det d; int pii; uint16_t n; uint8_t secret; } cases[] = {
		{ MT_DET_PII_SSN, MT_PII_SSN, 1, 0 }, { MT_DET_PII_IBAN, MT_PII_IBAN, 1, 0 },
		{ MT_DET_PII_EMAIL_BULK, MT_PII_EMAIL, 40, 0 }, { MT_DET_PII_PHONE_BULK, MT_PII_PHONE, 40, 0 },
		{ MT_DET_SECRET_PRIVATE_KEY, -1, 0, MT_SECRET_PRIVKEY },
		{ MT_DET_SECRET_CLOUD_KEY, -1, 0, MT_SECRET_CLOUD },
		{ MT_DET_SECRET_TOKEN, -1, 0, MT_SECRET_TOKEN },
		{ MT_DET_SECRET_HIGH_ENTROPY, -1, 0, MT_SECRET_ENTROPY },
	};

	/* benign: order listings whose 16-digit ids sometimes pass Luhn, a
	 * profile with the user's own e-mail and phone */
	for (int i = 0; i < 50; i++) {
		rec(&r, T0 + i * SEC, USER(i), MT_ID_JWT, IP(10, 4, 4, i), "GET", "/api/v1/orders", 200);
		r.card_tokens = 40;
		r.pii[MT_PII_CARD] = 3;
		r.pii[MT_PII_EMAIL] = 1;
		r.pii[MT_PII_PHONE] = 1;
		r.flags |= MT_REC_RESP_SCANNED;
		feed(b, &r);
	}
	for (int d = 0; d < MT_DET__COUNT; d++)
		expect((enum mt_behav_det)d, false);

	ATTACK();
	rec(&r, T0 + 60 * SEC, USER(1), MT_ID_JWT, IP(10, 4, 4, 1), "GET", "/api/v1/wallet", 200);
	r.pii[MT_PII_CARD] = 1;
	r.card_tokens = 1;
	r.flags |= MT_REC_CARD_CONTEXT;
	feed(b, &r);
	expect(MT_DET_PII_CARD, true);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rec(&r, T0 + 70 * SEC + i, USER(2), MT_ID_JWT, IP(10, 4, 4, 2), "GET", "/api/v1/export", 200);
		if (cases[i].pii >= 0)
			r.pii[cases[i].pii] = cases[i].n;
		r.secrets = cases[i].secret;
		feed(b, &r);
		expect(cases[i].d, true);
	}
	expect(MT_DET_SENSITIVE_UNAUTH, false);
	rec(&r, T0 + 90 * SEC, 0x77, MT_ID_CLIENT, IP(198, 51, 100, 1), "GET", "/public/customers", 200);
	r.pii[MT_PII_SSN] = 3;
	feed(b, &r);
	expect(MT_DET_SENSITIVE_UNAUTH, true);
	mt_behav_destroy(b);

	/* one person per response, but anyone gets anyone's contact data */
	b = fresh();
	for (int i = 0; i < 30; i++) { /* public pages: one support contact */
		rec(&r, T0 + (uint64_t)i * SEC, 0x78, MT_ID_CLIENT, IP(198, 51, 100, 2),
		    "GET", i % 2 ? "/api/v1/contact" : "/api/v1/stores/17", 200);
		r.pii[MT_PII_EMAIL] = 1;
		r.pii[MT_PII_PHONE] = 1;
		feed(b, &r);
	}
	for (int i = 0; i < 30; i++) { /* profiles, with credentials */
		snprintf(path, sizeof(path), "/api/v1/users/%d", 4000 + i);
		rec(&r, T0 + 40 * SEC + (uint64_t)i * SEC, USER(i), MT_ID_JWT, IP(10, 4, 5, i), "GET", path, 200);
		r.pii[MT_PII_EMAIL] = 1;
		r.pii[MT_PII_PHONE] = 1;
		feed(b, &r);
	}
	expect(MT_DET_SENSITIVE_UNAUTH, false);
	ATTACK();
	for (int i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "/api/v1/public/customers/%d", 100000 + i * 7919);
		rec(&r, T0 + 80 * SEC + (uint64_t)i * SEC, 0x79, MT_ID_CLIENT, IP(198, 51, 100, 77),
		    "GET", path, 200);
		r.pii[MT_PII_EMAIL] = 1;
		r.pii[MT_PII_PHONE] = 1;
		feed(b, &r);
	}
	expect(MT_DET_SENSITIVE_UNAUTH, true);
	mt_behav_destroy(b);
}

static void
test_volume(void)
{
	struct mt_behav *b = fresh();
	struct mt_behav_rec r;
	char path[96];
	uint64_t ts = T0;

	for (int i = 0; i < 1000; i++) { /* benign: 100 users, modest pages */
		int u = i % 100;

		snprintf(path, sizeof(path), "/api/v1/products?page=%d&limit=%d", 1 + (i / 100) % 3,
			 (i % 3 + 1) * 25);
		rec(&r, ts += SEC / 2, USER(u), MT_ID_JWT, IP(10, 5, u, 1), "GET", path, 200);
		r.resp_bytes = 20000;
		r.resp_records = 25;
		feed(b, &r);
	}
	for (int d = 0; d < MT_DET__COUNT; d++)
		expect((enum mt_behav_det)d, false);

	ATTACK();
	for (int i = 1; i <= 30; i++) { /* page walk */
		snprintf(path, sizeof(path), "/api/v1/products?page=%d&limit=50", i);
		rec(&r, ts += SEC, USER(500), MT_ID_JWT, IP(10, 6, 0, 1), "GET", path, 200);
		r.resp_bytes = 20000;
		feed(b, &r);
	}
	expect(MT_DET_PAGINATION_WALK, true);
	expect(MT_DET_EXCESSIVE_DATA, false);
	expect(MT_DET_LIMIT_ABUSE, false);

	ATTACK();
	rec(&r, ts += SEC, USER(501), MT_ID_JWT, IP(10, 6, 0, 2), "GET", "/api/v1/products?limit=100000", 200);
	feed(b, &r);
	expect(MT_DET_LIMIT_ABUSE, true);

	ATTACK();
	for (int i = 0; i < 20; i++) { /* bulk export by one identity */
		rec(&r, ts += SEC, USER(502), MT_ID_JWT, IP(10, 6, 0, 3), "GET", "/api/v1/customers/export", 200);
		r.resp_bytes = 2 << 20;
		r.resp_records = 4000;
		feed(b, &r);
	}
	expect(MT_DET_EXCESSIVE_DATA, true);
	mt_behav_destroy(b);
}

static void
test_mass_assignment(void)
{
	struct mt_behav *b = fresh();
	struct mt_behav_rec r;
	char path[96];
	int role = mt_strlist_find(&P.privilege_fields, "role", 4);
	int admin = mt_strlist_find(&P.privilege_fields, "isAdmin", 7);

	CU_ASSERT_FATAL(role >= 0 && admin >= 0);
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "/api/v1/users/%d", 100 + i);
		rec(&r, T0 + i * SEC, USER(i), MT_ID_JWT, IP(10, 7, 0, i), "PUT", path, 200);
		feed(b, &r);
		/* an admin API that always takes a role: not mass assignment */
		snprintf(path, sizeof(path), "/admin/users/%d", 100 + i);
		rec(&r, T0 + i * SEC, USER(1000), MT_ID_JWT, IP(10, 7, 1, 1), "PUT", path, 200);
		r.priv_fields = 1u << role;
		feed(b, &r);
	}
	expect(MT_DET_MASS_ASSIGNMENT, false);
	ATTACK();
	rec(&r, T0 + 50 * SEC, USER(3), MT_ID_JWT, IP(10, 7, 0, 3), "PUT", "/api/v1/users/103", 200);
	r.priv_fields = 1u << admin;
	feed(b, &r);
	expect(MT_DET_MASS_ASSIGNMENT, true);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_evidence[MT_DET_MASS_ASSIGNMENT], "\"field\":\"isAdmin\""));
	mt_behav_destroy(b);
}

static void
test_actions_blocks(void)
{
	struct mt_behav_params p = P;
	struct mt_behav *b;
	struct mt_behav_rec r;
	struct mt_behav_detection d[8];
	unsigned n = 0;

	p.det[MT_DET_BRUTE_FORCE_CLIENT].action = MT_BEHAV_BLOCK_CLIENT;
	p.det[MT_DET_BRUTE_FORCE_CLIENT].block_s = 60;
	b = mt_behav_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (int i = 0; i < 10; i++) {
		rec(&r, T0 + i * SEC, 0, MT_ID_CLIENT, IP(203, 0, 113, 7), "POST", "/login", 401);
		r.flags |= MT_REC_LOGIN | MT_REC_LOGIN_FAIL;
		n += mt_behav_process(b, &r, d + n, 8 - n);
	}
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(d[0].action, MT_BEHAV_BLOCK_CLIENT);
	CU_ASSERT_EQUAL(d[0].expires_ns, T0 + 9 * SEC + 60 * SEC);
	CU_ASSERT_EQUAL(d[0].rule->sid, 2300010);
	CU_ASSERT_EQUAL(mt_behav_blocked(b, 0, 4, r.client_ip, T0 + 20 * SEC), 1);
	CU_ASSERT_EQUAL(mt_behav_tick(b, T0 + 20 * SEC), 1);
	CU_ASSERT_EQUAL(mt_behav_tick(b, T0 + 70 * SEC), 0);
	CU_ASSERT_EQUAL(mt_behav_blocked(b, 0, 4, r.client_ip, T0 + 70 * SEC), 0);
	/* suppression: more failures inside suppress_s report nothing new */
	for (int i = 10; i < 30; i++) {
		rec(&r, T0 + i * SEC, 0, MT_ID_CLIENT, IP(203, 0, 113, 7), "POST", "/login", 401);
		r.flags |= MT_REC_LOGIN | MT_REC_LOGIN_FAIL;
		CU_ASSERT_EQUAL(mt_behav_process(b, &r, d, 8), 0);
	}
	mt_behav_destroy(b);
}

static void
test_caps(void)
{
	struct mt_behav_params p = P;
	struct mt_behav *b;
	struct mt_behav_rec r;
	struct mt_behav_stats st;
	char path[64];

	p.max_identities = 64;
	p.max_templates = 32;
	p.max_actor_templates = 128;
	p.max_slots = 16;
	b = mt_behav_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (int i = 0; i < 2000; i++) {
		snprintf(path, sizeof(path), "/svc%d/items/%d", i % 100, i);
		rec(&r, T0 + (uint64_t)i * SEC / 100, USER(i), MT_ID_JWT, IP(10, 8, i >> 8, i & 255), "GET", path, 200);
		mt_behav_process(b, &r, NULL, 0);
	}
	mt_behav_get_stats(b, &st);
	CU_ASSERT_EQUAL(st.entries[MT_TAB_IDENTITY], 64);
	CU_ASSERT_EQUAL(st.evictions[MT_TAB_IDENTITY], 2000 - 64);
	CU_ASSERT_EQUAL(st.entries[MT_TAB_TEMPLATE], 32);
	CU_ASSERT(st.evictions[MT_TAB_TEMPLATE] >= 68);
	CU_ASSERT(st.entries[MT_TAB_ACTOR_TMPL] <= 128);
	CU_ASSERT(st.entries[MT_TAB_SLOT] <= 16);
	CU_ASSERT_EQUAL(st.records, 2000);
	printf("\n  caps: identity %u/%u evicted %llu, template %u/%u evicted %llu ",
	       st.entries[0], st.caps[0], (unsigned long long)st.evictions[0], st.entries[MT_TAB_TEMPLATE],
	       st.caps[MT_TAB_TEMPLATE], (unsigned long long)st.evictions[MT_TAB_TEMPLATE]);
	mt_behav_destroy(b);
}

static void
test_bench(void)
{
	struct mt_behav *b = fresh();
	enum { N = 200000 };
	struct mt_behav_rec *rs = calloc(1024, sizeof(*rs));
	struct mt_behav_detection d[16];
	struct timespec t0, t1;
	char path[96];
	double ns;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	for (int i = 0; i < 1024; i++) {
		int u = i % 200;

		snprintf(path, sizeof(path), "/api/v1/users/%d/orders/%d", u, i * 13);
		rec(&rs[i], 0, USER(u), MT_ID_JWT, IP(10, 9, u, 1), i % 5 ? "GET" : "POST", path, 200);
		rs[i].cred_hash = USER(u) ^ 1;
		rs[i].cred_kind = MT_ID_TOKEN;
		if (i % 17 == 0) {
			rs[i].flags |= MT_REC_LOGIN | MT_REC_HAS_USER;
			rs[i].user_hash = USER(u);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++) {
		rs[i & 1023].ts_ns = T0 + (uint64_t)i * 100000;
		mt_behav_process(b, &rs[i & 1023], d, 16);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / N;
	printf("\n  analytics: %.0f ns/record (%d records) ", ns, N);
	CU_ASSERT(ns < 100000);
	free(rs);
	mt_behav_destroy(b);
}

/* Evidence member @p key of detector @p d's last detection, as a number. */
static double
evidence_num(enum mt_behav_det d, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(last_evidence[d], pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

static void
test_exfil(void)
{
	struct mt_behav *b = fresh();
	struct mt_behav_rec r;
	char path[96];
	uint64_t ts = T0;

	/* benign: 60 users read their profile (own e-mail and phone) and pages
	 * of their team (a few contacts each) many times in the hour; a
	 * reporting client pulls big pages without personal data; one user
	 * downloads one large export of contacts (a single response is what
	 * pii_email_bulk reports, not a transfer) */
	for (int i = 0; i < 1200; i++) {
		int u = i % 60;

		snprintf(path, sizeof(path), "/api/v1/users/%d/%s", 7000 + u, i % 3 ? "profile" : "team?page=1");
		rec(&r, ts += SEC, USER(u), MT_ID_JWT, IP(10, 7, u, 1), "GET", path, 200);
		r.resp_bytes = 900;
		r.pii[MT_PII_EMAIL] = i % 3 ? 1 : 4;
		r.pii[MT_PII_PHONE] = 1;
		r.resp_records = i % 3 ? 0 : 4;
		feed(b, &r);
	}
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "/api/v1/reports/sales?page=%d", 1 + i);
		rec(&r, ts += SEC, USER(900), MT_ID_APIKEY, IP(10, 8, 0, 1), "GET", path, 200);
		r.resp_bytes = 200000;
		r.resp_records = 100;
		feed(b, &r);
	}
	rec(&r, ts += SEC, USER(61), MT_ID_JWT, IP(10, 7, 61, 1), "GET", "/api/v1/contacts/export", 200);
	r.resp_bytes = 3 << 20;
	r.resp_records = 3000;
	r.pii[MT_PII_EMAIL] = 3000;
	feed(b, &r);
	/* a login answer with a session token is not sensitive data taken */
	for (int i = 0; i < 10; i++) {
		rec(&r, ts += SEC, USER(4), MT_ID_JWT, IP(10, 7, 4, 1), "POST", "/api/v1/auth/login", 200);
		r.flags |= MT_REC_LOGIN;
		r.secrets = MT_SECRET_JWT | MT_SECRET_ENTROPY;
		r.resp_records = 100;
		feed(b, &r);
	}
	expect(MT_DET_SENSITIVE_EXFIL, false);
	expect(MT_DET_EXCESSIVE_DATA, false);

	/* attack: one token pulls the customer list page by page, 60 e-mail
	 * addresses per page (as apiguard-gen's pii-email-bulk does) */
	ATTACK();
	for (int p = 1; p <= 12; p++) {
		snprintf(path, sizeof(path), "/api/v1/admin/users/export?page=%d&limit=60", p);
		rec(&r, ts += SEC / 2, USER(666), MT_ID_JWT, IP(203, 0, 113, 66), "GET", path, 200);
		r.resp_bytes = 4200;
		r.resp_records = 60;
		r.pii[MT_PII_EMAIL] = 60;
		feed(b, &r);
	}
	expect(MT_DET_SENSITIVE_EXFIL, true);
	CU_ASSERT_EQUAL(first_at[MT_DET_SENSITIVE_EXFIL] - mark, 5); /* 5 x 60 >= 250 */
	CU_ASSERT_EQUAL(hits[MT_DET_SENSITIVE_EXFIL], 1);             /* then suppressed */
	CU_ASSERT_EQUAL(evidence_num(MT_DET_SENSITIVE_EXFIL, "records"), 300);
	CU_ASSERT_EQUAL(evidence_num(MT_DET_SENSITIVE_EXFIL, "responses"), 5);
	CU_ASSERT_EQUAL(evidence_num(MT_DET_SENSITIVE_EXFIL, "bytes"), 5 * 4200);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_evidence[MT_DET_SENSITIVE_EXFIL], "\"pii\":[0,0,0,300,0]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(last_evidence[MT_DET_SENSITIVE_EXFIL],
				      "\"detector\":\"sensitive_exfiltration\""));
	{
		const struct mt_rule_info *ri = mt_behav_rule(MT_DET_SENSITIVE_EXFIL);

		CU_ASSERT_STRING_EQUAL(ri->techniques[0], "T1020");
		CU_ASSERT_STRING_EQUAL(ri->tactics[0], "TA0010");
	}

	/* the byte criterion alone: secrets in a few large responses (card
	 * numbers under a card key count; 16-digit ids that pass Luhn not) */
	ATTACK();
	for (int i = 0; i < 3; i++) {
		rec(&r, ts += SEC, USER(667), MT_ID_TOKEN, IP(203, 0, 113, 67), "GET", "/api/v1/vault/dump", 200);
		r.resp_bytes = 2 << 20;
		r.secrets = MT_SECRET_CLOUD;
		feed(b, &r);
	}
	CU_ASSERT_EQUAL(hits[MT_DET_SENSITIVE_EXFIL], 2);
	CU_ASSERT_EQUAL(evidence_num(MT_DET_SENSITIVE_EXFIL, "secret_kinds"), MT_SECRET_CLOUD);
	for (int i = 0; i < 20; i++) {
		rec(&r, ts += SEC, USER(668), MT_ID_JWT, IP(10, 9, 0, 1), "GET", "/api/v1/orders", 200);
		r.resp_records = 50;
		r.card_tokens = 50;
		r.pii[MT_PII_CARD] = 5;
		feed(b, &r);
	}
	CU_ASSERT_EQUAL(hits[MT_DET_SENSITIVE_EXFIL], 2);
	mt_behav_destroy(b);

	/* settings: threshold/min_count 0 turn a criterion off, window bounds
	 * the sum, the usual level raises the bar, disabled is silent */
	{
		struct mt_behav_params p = P;
		char err[160];
		const char *y = "detectors: {sensitive_exfiltration: {threshold: 0, min_count: 100, "
				"window: 60, action: block_identity}}";

		CU_ASSERT_EQUAL(mt_behav_params_load(&p, y, strlen(y), err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(p.det[MT_DET_SENSITIVE_EXFIL].window_s, 60);
		b = mt_behav_create(&p);
		memset(hits, 0, sizeof(hits));
		ts = T0;
		for (int i = 0; i < 3; i++) { /* 120 in one window, no usual yet */
			rec(&r, ts += SEC, USER(701), MT_ID_JWT, IP(10, 10, 0, 2), "GET", "/api/v1/team", 200);
			r.resp_records = 40;
			r.pii[MT_PII_PHONE] = 40;
			feed(b, &r);
		}
		CU_ASSERT_EQUAL(hits[MT_DET_SENSITIVE_EXFIL], 1);
		CU_ASSERT(mt_behav_blocked(b, USER(701), 0, NULL, ts + SEC));
		for (int i = 0; i < 8; i++) { /* 40 records a minute apart: never 100 in one window */
			rec(&r, ts += 61 * SEC, USER(700), MT_ID_JWT, IP(10, 10, 0, 1), "GET", "/api/v1/team", 200);
			r.resp_bytes = 50 << 20;
			r.resp_records = 40;
			r.pii[MT_PII_PHONE] = 40;
			feed(b, &r);
		}
		CU_ASSERT_EQUAL(hits[MT_DET_SENSITIVE_EXFIL], 1);
		/* USER(700)'s closed windows taught a usual of 40 records:
		 * 10 x 40 = 400 is now the bar */
		for (int i = 0; i < 9; i++) {
			rec(&r, ts += SEC, USER(702), MT_ID_JWT, IP(10, 10, 0, 3), "GET", "/api/v1/team", 200);
			r.resp_records = 40;
			r.pii[MT_PII_PHONE] = 40;
			feed(b, &r);
		}
		CU_ASSERT_EQUAL(hits[MT_DET_SENSITIVE_EXFIL], 1);
		rec(&r, ts += SEC, USER(702), MT_ID_JWT, IP(10, 10, 0, 3), "GET", "/api/v1/team", 200);
		r.resp_records = 40;
		r.pii[MT_PII_PHONE] = 40;
		feed(b, &r);
		CU_ASSERT_EQUAL(hits[MT_DET_SENSITIVE_EXFIL], 2);
		mt_behav_destroy(b);

		y = "detectors: {sensitive_exfiltration: {enabled: false}}";
		CU_ASSERT_EQUAL(mt_behav_params_load(&p, y, strlen(y), err, sizeof(err)), 0);
		b = mt_behav_create(&p);
		memset(hits, 0, sizeof(hits));
		for (int i = 0; i < 20; i++) {
			rec(&r, ts += SEC, USER(703), MT_ID_JWT, IP(10, 10, 0, 4), "GET", "/api/v1/team", 200);
			r.resp_records = 400;
			r.pii[MT_PII_EMAIL] = 400;
			feed(b, &r);
		}
		CU_ASSERT_EQUAL(hits[MT_DET_SENSITIVE_EXFIL], 0);
		mt_behav_destroy(b);
		/* GET /detectors shows it with its sid */
		{
			char *js = mt_behav_params_to_json(&P);

			CU_ASSERT_PTR_NOT_NULL(js && strstr(js, "\"sensitive_exfiltration\""));
			CU_ASSERT_PTR_NOT_NULL(js && strstr(js, "2300054"));
			free(js);
		}
	}
}

static void
test_catalogue(void)
{
	/* every rule: catalogue sid, tactics derived from the techniques */
	static const uint32_t sids[MT_DET__COUNT] = { 2300001, 2300002, 2300003, 2300004, 2300005,
		2300010, 2300011, 2300012, 2300013, 2300014, 2300020, 2300021, 2300022, 2300023,
		2300024, 2300025, 2300026, 2300027, 2300030, 2300031, 2300032, 2300033, 2300034,
		2300040, 2300041, 2300042, 2300043, 2300050, 2300051, 2300052, 2300053, 2300054,
		2300060 };
	const struct mt_rule_info *extra = &mt_behav_rule_many_objects_auth;

	for (int i = 0; i <= MT_DET__COUNT; i++) {
		const struct mt_rule_info *ri = i < MT_DET__COUNT ? mt_behav_rule((enum mt_behav_det)i) : extra;
		char want[256] = "", got[256] = "";

		CU_ASSERT_EQUAL(ri->sid, i < MT_DET__COUNT ? sids[i] : 2300002);
		CU_ASSERT_EQUAL(ri->gid, 1);
		CU_ASSERT_STRING_EQUAL(ri->category, "API Abuse");
		CU_ASSERT(strncmp(ri->msg, "APIGUARD behaviour: ", 20) == 0);
		CU_ASSERT(ri->n_owasp >= 1 && ri->n_techniques >= 1);
		for (unsigned k = 0; k < ri->n_owasp; k++)
			CU_ASSERT_PTR_NOT_NULL(mt_owasp_find(ri->owasp[k]));
		/* the set of tactics follows from the techniques */
		for (size_t t = 0; t < mt_attack_n_tactics; t++) {
			bool need = false, have = false;

			for (unsigned k = 0; k < ri->n_techniques; k++) {
				const struct mt_attack_technique *te = mt_attack_technique_find(ri->techniques[k]);

				CU_ASSERT_FATAL(te != NULL);
				CU_ASSERT_EQUAL(te->status, MT_ATTACK_ACTIVE);
				need |= strstr(te->tactics, mt_attack_tactics[t].shortname) != NULL;
			}
			for (unsigned k = 0; k < ri->n_tactics; k++)
				have |= strcmp(ri->tactics[k], mt_attack_tactics[t].id) == 0;
			if (need)
				strcat(want, mt_attack_tactics[t].id);
			if (have)
				strcat(got, mt_attack_tactics[t].id);
		}
		CU_ASSERT_STRING_EQUAL(want, got);
		if (i < MT_DET__COUNT)
			CU_ASSERT_PTR_EQUAL(mt_behav_rule_by_sid(sids[i]), ri);
	}
	CU_ASSERT_EQUAL(mt_behav_rule(MT_DET_PII_CARD)->severity, 1);
	CU_ASSERT_EQUAL(mt_behav_rule(MT_DET_JWT_ALG_NONE)->severity, 1);
	CU_ASSERT_EQUAL(mt_behav_rule(MT_DET_SECRET_TOKEN)->severity, 1);
	CU_ASSERT_EQUAL(mt_behav_rule(MT_DET_BOLA_ENUMERATION)->severity, 2);
}

int
main(void)
{
	CU_pSuite s;

	mt_behav_params_defaults(&P);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("behaviour detectors", NULL, NULL);
	CU_add_test(s, "catalogue", test_catalogue);
	CU_add_test(s, "bola", test_bola);
	CU_add_test(s, "scan_404", test_scan);
	CU_add_test(s, "login", test_login);
	CU_add_test(s, "credential reuse", test_reuse);
	CU_add_test(s, "request facts", test_request_facts);
	CU_add_test(s, "sensitive data", test_data);
	CU_add_test(s, "volume", test_volume);
	CU_add_test(s, "sensitive exfiltration", test_exfil);
	CU_add_test(s, "mass assignment", test_mass_assignment);
	CU_add_test(s, "actions and blocks", test_actions_blocks);
	CU_add_test(s, "memory caps", test_caps);
	CU_add_test(s, "bench", test_bench);
	return tu_run_all();
}
