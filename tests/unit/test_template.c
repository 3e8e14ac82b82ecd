/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_template: path templating (numbers, UUIDs, long hex, base64url,
 * digit-rich tokens), object slot, login globs, query parameters, and
 * promotion of a literal slot to {param} after many distinct values.
 * No EAL; ASan-clean.
 */
#include "tu_eal.h"
#include "mt_behav.h"
#include "mt_behav_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
tmpl(const char *path, const char *want)
{
	struct mt_tmpl_out o;

	mt_tmpl_path(path, strlen(path), &o);
	CU_ASSERT_STRING_EQUAL(o.tmpl, want);
	if (strcmp(o.tmpl, want))
		printf("\n  %s -> %s (want %s)", path, o.tmpl, want);
}

static void
test_paths(void)
{
	struct mt_tmpl_out o;

	tmpl("/api/v1/users/1234/orders/99", "/api/v1/users/{id}/orders/{id}");
	tmpl("/api/v1/users/550e8400-e29b-41d4-a716-446655440000", "/api/v1/users/{id}");
	tmpl("/files/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "/files/{id}");
	tmpl("/share/dGhpc0lzQVNlY3JldDEyMzRLZXk_x-y", "/share/{id}");
	tmpl("/orders/ORD-2024-000123/items", "/orders/{id}/items");
	tmpl("/users/a1b2c3d4e5", "/users/{id}");
	tmpl("/users/alice@example.com", "/users/{id}");
	tmpl("/api/v2/oauth2/token", "/api/v2/oauth2/token");
	tmpl("/api/v1/getUserPreferences", "/api/v1/getUserPreferences");
	tmpl("/static/app.min.js", "/static/app.min.js");
	tmpl("//a///b/", "/a/b");
	tmpl("/", "/");
	tmpl("", "/");
	CU_ASSERT(!mt_tmpl_segment_is_id("v1", 2));
	CU_ASSERT(!mt_tmpl_segment_is_id("s3", 2));
	CU_ASSERT(!mt_tmpl_segment_is_id("http2", 5));
	CU_ASSERT(!mt_tmpl_segment_is_id("deadbeef", 8)); /* short hex without digits is a word */
	CU_ASSERT(mt_tmpl_segment_is_id("0", 1));

	mt_tmpl_path("/api/v1/users/1234/orders/99", 28, &o);
	CU_ASSERT_EQUAL(o.n_segs, 6);
	CU_ASSERT_EQUAL(o.obj_slot, 5);
	CU_ASSERT_EQUAL(o.obj_numeric, 1);
	CU_ASSERT_EQUAL(o.obj_num, 99);
	CU_ASSERT_EQUAL(o.obj_hash, o.seg_hash[5]);
	CU_ASSERT_EQUAL(o.obj_hash, mt_behav_fast_hash("99", 2));
	mt_tmpl_path("/health", 7, &o);
	CU_ASSERT_EQUAL(o.obj_slot, 0xff);
}

static void
test_glob_query(void)
{
	const char *v;
	size_t vl;
	const char *q = "page=3&limit=50&API_KEY=abcdef123&flag&x=";

	CU_ASSERT(mt_tmpl_glob("/api/*/auth/login", "/api/v1/auth/login", 18));
	CU_ASSERT(mt_tmpl_glob("/api/*/auth/login", "/API/v2/Auth/Login/", 19));
	CU_ASSERT(!mt_tmpl_glob("/api/*/auth/login", "/api/auth/login", 15));
	CU_ASSERT(!mt_tmpl_glob("/login", "/login/extra", 12));
	CU_ASSERT(mt_tmpl_glob("/admin/**", "/admin/a/b/c", 12));
	CU_ASSERT(mt_tmpl_glob("/oauth/token", "/oauth/token", 12));
	CU_ASSERT(mt_query_get(q, strlen(q), "limit", &v, &vl) && vl == 2 && !memcmp(v, "50", 2));
	CU_ASSERT(mt_query_get(q, strlen(q), "api_key", &v, &vl) && vl == 9);
	CU_ASSERT(mt_query_get(q, strlen(q), "flag", &v, &vl) && vl == 0);
	CU_ASSERT(mt_query_get(q, strlen(q), "x", &v, &vl) && vl == 0);
	CU_ASSERT(!mt_query_get(q, strlen(q), "pag", &v, &vl));
	/* Names are compared percent-decoded, caselessly, as servers do. */
	{
		const char *e = "API%5fKey=abcdefghij&x%3d=1&bad%zz=2&%61=3";

		CU_ASSERT(mt_query_get(e, strlen(e), "api_key", &v, &vl) && vl == 10);
		CU_ASSERT(mt_query_get(e, strlen(e), "x=", &v, &vl) && vl == 1);
		CU_ASSERT(mt_query_get(e, strlen(e), "bad%zz", &v, &vl) && vl == 1);
		CU_ASSERT(mt_query_get(e, strlen(e), "a", &v, &vl) && vl == 1 && *v == '3');
		CU_ASSERT(!mt_query_get(e, strlen(e), "api%5fkey", &v, &vl));
	}
}

/* A slot with many distinct literal values becomes {param}. */
static void
test_promotion(void)
{
	struct mt_behav_params p;
	struct mt_behav *b;
	struct mt_behav_rec r;
	struct mt_behav_stats st;
	char path[64], *inv;
	static const char *const names[] = { "alice", "bob", "carol", "dave", "erin", "frank" };

	mt_behav_params_defaults(&p);
	p.promote_after = 40;
	b = mt_behav_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (int i = 0; i < 200; i++) {
		struct mt_tmpl_out o;

		snprintf(path, sizeof(path), "/repos/%s%c%c/settings", names[i % 6], 'a' + i % 26, 'a' + (i / 26) % 26);
		mt_tmpl_path(path, strlen(path), &o);
		memset(&r, 0, sizeof(r));
		r.ts_ns = 1000000000ULL * (uint64_t)(i + 1);
		r.id_hash = 1 + (uint64_t)i;
		r.id_kind = MT_ID_JWT;
		r.family = 4;
		strcpy(r.method, "GET");
		strcpy(r.host, "api.example.com");
		memcpy(r.tmpl, o.tmpl, sizeof(r.tmpl));
		memcpy(r.seg_hash, o.seg_hash, sizeof(r.seg_hash));
		r.n_segs = o.n_segs;
		r.obj_slot = o.obj_slot;
		r.status = 200;
		mt_behav_process(b, &r, NULL, 0);
	}
	mt_behav_get_stats(b, &st);
	CU_ASSERT_EQUAL(st.templates_promoted, 1);
	inv = mt_behav_inventory_json(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(inv);
	CU_ASSERT_PTR_NOT_NULL(strstr(inv, "\"/repos/{param}/settings\""));
	/* the literal templates seen before promotion stay, the cap bounds them */
	CU_ASSERT(st.entries[MT_TAB_TEMPLATE] <= 45);
	free(inv);
	mt_behav_destroy(b);
}

int
main(void)
{
	/* Fixed hash keys: the estimates below must repeat run after run. */
	static const uint8_t keys[48] = "apiguard unit-test keys, fixed for repeatability";

	if (mt_behav_keys_fixed(keys) != 0)
		return 1;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("template", NULL, NULL);
	CU_add_test(s, "paths", test_paths);
	CU_add_test(s, "globs and query", test_glob_query);
	CU_add_test(s, "promotion", test_promotion);
	return tu_run_all();
}
