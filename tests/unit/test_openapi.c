/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_openapi: OpenAPI 3 import from YAML and JSON (templates with named
 * parameters, server base path, request body properties for
 * mass_assignment), rejection of bad documents, and the inventory exports
 * (JSON, and an OpenAPI 3 document that jansson parses back).
 * No EAL; ASan-clean.
 */
#include "tu_eal.h"
#include "mt_behav.h"
#include "mt_behav_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct mt_behav_params P;

static const char *spec_yaml =
	"openapi: 3.0.3\n"
	"info: {title: shop, version: '1'}\n"
	"servers:\n"
	"  - url: https://api.shop.test/v1\n"
	"paths:\n"
	"  /users/{username}:\n"
	"    get:\n"
	"      responses: {'200': {description: ok}}\n"
	"    put:\n"
	"      requestBody:\n"
	"        content:\n"
	"          application/json:\n"
	"            schema: {$ref: '#/components/schemas/UserUpdate'}\n"
	"      responses: {'200': {description: ok}}\n"
	"  /admin/users/{id}/role:\n"
	"    put:\n"
	"      requestBody:\n"
	"        content:\n"
	"          application/json:\n"
	"            schema:\n"
	"              type: object\n"
	"              properties: {role: {type: string}}\n"
	"      responses: {'204': {description: ok}}\n"
	"components:\n"
	"  schemas:\n"
	"    UserUpdate:\n"
	"      allOf:\n"
	"        - type: object\n"
	"          properties: {display_name: {type: string}, email: {type: string}}\n";

static void
mkrec(struct mt_behav_rec *r, uint64_t ts, uint64_t id, const char *method, const char *path, uint16_t status)
{
	struct mt_tmpl_out o;

	mt_tmpl_path(path, strlen(path), &o);
	memset(r, 0, sizeof(*r));
	r->ts_ns = ts;
	r->id_hash = id;
	r->id_kind = id ? MT_ID_JWT : MT_ID_CLIENT;
	r->family = 4;
	r->client_ip[0] = 10;
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->host, sizeof(r->host), "api.shop.test");
	memcpy(r->tmpl, o.tmpl, sizeof(r->tmpl));
	memcpy(r->seg_hash, o.seg_hash, sizeof(r->seg_hash));
	r->n_segs = o.n_segs;
	r->obj_slot = o.obj_slot;
	if (o.obj_slot != 0xff) {
		r->flags |= MT_REC_HAS_OBJ;
		r->obj_hash = o.obj_hash;
	}
	if (strcmp(method, "GET"))
		r->flags |= MT_REC_WRITE;
	r->status = status;
	r->flags |= MT_REC_HAS_RESP;
	r->resp_bytes = 300;
}

static void
test_import_yaml(void)
{
	struct mt_behav *b = mt_behav_create(&P);
	struct mt_behav_rec r;
	struct mt_behav_detection d[8];
	char err[256], *inv;
	int role = mt_strlist_find(&P.privilege_fields, "role", 4);
	unsigned n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(mt_behav_openapi_import(b, spec_yaml, strlen(spec_yaml), err, sizeof(err)), 3);
	/* a literal user name maps to the spec's template at once */
	mkrec(&r, 1000000000ULL, 5, "GET", "/v1/users/alice", 200);
	mt_behav_process(b, &r, d, 8);
	inv = mt_behav_inventory_json(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(inv);
	CU_ASSERT_PTR_NOT_NULL(strstr(inv, "\"template\":\"/v1/users/{username}\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(inv, "\"source\":\"openapi\""));
	free(inv);
	/* mass assignment from the schema, no warm-up needed: role is not a
	 * property of UserUpdate, but is one of the admin endpoint */
	mkrec(&r, 2000000000ULL, 5, "PUT", "/v1/users/alice", 200);
	r.priv_fields = 1u << role;
	n = mt_behav_process(b, &r, d, 8);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(n == 1 && d[0].rule->sid == 2300060 && strstr(d[0].evidence, "\"source\":\"openapi\""));
	mkrec(&r, 3000000000ULL, 6, "PUT", "/v1/admin/users/17/role", 204);
	r.priv_fields = 1u << role;
	CU_ASSERT_EQUAL(mt_behav_process(b, &r, d, 8), 0);
	mt_behav_destroy(b);
}

static void
test_import_json_and_errors(void)
{
	struct mt_behav *b = mt_behav_create(&P);
	char err[256];
	const char *js = "{\"openapi\":\"3.1.0\",\"paths\":{\"/orders/{orderId}\":{\"get\":{},\"delete\":{}},"
			 "\"/orders\":{\"post\":{\"requestBody\":{\"content\":{\"application/json\":{\"schema\":"
			 "{\"properties\":{\"item\":{},\"qty\":{}}}}}}}}}}";

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(mt_behav_openapi_import(b, js, strlen(js), err, sizeof(err)), 3);
	CU_ASSERT_EQUAL(mt_behav_openapi_import(b, "{\"swagger\":\"2.0\",\"paths\":{}}", 28, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "OpenAPI 3"));
	CU_ASSERT_EQUAL(mt_behav_openapi_import(b, "openapi: 3.0.0\n", 15, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "paths"));
	CU_ASSERT_EQUAL(mt_behav_openapi_import(b, "openapi: [\n", 11, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line"));
	mt_behav_destroy(b);
}

static void
test_export(void)
{
	struct mt_behav *b = mt_behav_create(&P);
	struct mt_behav_rec r;
	char *inv, *oa;
	json_t *o, *paths, *op;
	json_error_t je;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (int i = 0; i < 20; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/v1/users/%d/orders/%d", i, i * 3);
		mkrec(&r, (uint64_t)(i + 1) * 1000000000ULL, 9, "GET", path, i == 3 ? 404 : 200);
		r.pii[MT_PII_EMAIL] = 2;
		mt_behav_process(b, &r, NULL, 0);
	}
	mkrec(&r, 30000000000ULL, 0, "GET", "/v1/health", 200);
	mt_behav_process(b, &r, NULL, 0);
	inv = mt_behav_inventory_json(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(inv);
	o = json_loads(inv, 0, &je);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "count")), 2);
	{
		json_t *e = json_array_get(json_object_get(o, "endpoints"), 1); /* LRU: orders is older */

		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "template")), "/v1/users/{id}/orders/{id}");
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "requests")), 20);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(e, "status"), "4xx")), 1);
		CU_ASSERT(json_is_true(json_object_get(e, "auth_seen")));
		CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(e, "sensitive"), 0)), "email");
		CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(e, "first_seen")), 1.0, 1e-6);
	}
	json_decref(o);
	free(inv);

	oa = mt_behav_inventory_openapi(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(oa);
	o = json_loads(oa, 0, &je);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "openapi")), "3.0.3");
	paths = json_object_get(o, "paths");
	op = json_object_get(json_object_get(paths, "/v1/users/{id1}/orders/{id2}"), "get");
	CU_ASSERT_PTR_NOT_NULL(op);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(op, "parameters")), 2);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(op, "responses"), "2XX"));
	/* the unauthenticated endpoint says so */
	op = json_object_get(json_object_get(paths, "/v1/health"), "get");
	CU_ASSERT(op && json_array_size(json_object_get(op, "security")) == 0 && json_object_get(op, "security"));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(json_object_get(o, "servers"), 0), "url")),
			       "https://api.shop.test");
	json_decref(o);
	{ /* and the exported document imports back */
		char err[128];
		struct mt_behav *b2 = mt_behav_create(&P);

		CU_ASSERT_EQUAL(mt_behav_openapi_import(b2, oa, strlen(oa), err, sizeof(err)), 2);
		mt_behav_destroy(b2);
	}
	free(oa);
	mt_behav_destroy(b);
}

int
main(void)
{
	CU_pSuite s;

	mt_behav_params_defaults(&P);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("openapi", NULL, NULL);
	CU_add_test(s, "import YAML", test_import_yaml);
	CU_add_test(s, "import JSON, errors", test_import_json_and_errors);
	CU_add_test(s, "inventory export", test_export);
	return tu_run_all();
}
