/* SPDX-License-Identifier: Apache-2.0 */
/*
 * REST server pieces that need no socket: routing (paths, {sid}, methods)
 * and bearer-token authentication (file format, roles, digests, constant-
 * time comparison). The server itself is exercised end to end by
 * tests/integration/test_rest.py. No EAL, no hugepages; ASan-clean.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "ctl_auth.h"
#include "ctl_rest.h"
#include "tu_eal.h"

static void
test_routes(void)
{
	unsigned int m;
	const char *arg;

	CU_ASSERT_EQUAL(ctl_rest_match("/healthz", &m, &arg), CTL_R_HEALTHZ);
	CU_ASSERT_EQUAL(m, CTL_M_GET);
	CU_ASSERT_EQUAL(ctl_rest_match("/metrics", &m, &arg), CTL_R_METRICS);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/rules", &m, &arg), CTL_R_RULES);
	CU_ASSERT_EQUAL(m, CTL_M_GET | CTL_M_POST);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/rules/reload", &m, &arg), CTL_R_RULES_RELOAD);
	CU_ASSERT_EQUAL(m, CTL_M_POST);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/rules/2200001", &m, &arg), CTL_R_RULE);
	CU_ASSERT_STRING_EQUAL(arg, "2200001");
	CU_ASSERT_EQUAL(m, CTL_M_GET | CTL_M_PUT | CTL_M_DELETE);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/rules/", &m, &arg), CTL_R_NONE);
	CU_ASSERT_EQUAL(m, 0);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/rules/1/x", &m, &arg), CTL_R_NONE);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/alerts/stream", &m, &arg), CTL_R_ALERTS_STREAM);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/attack/layer", &m, &arg), CTL_R_LAYER);
	CU_ASSERT_EQUAL(ctl_rest_match("/", &m, &arg), CTL_R_STATIC);
	CU_ASSERT_EQUAL(ctl_rest_match("/app.js", &m, &arg), CTL_R_STATIC);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/endpoints", &m, &arg), CTL_R_ENDPOINTS);
	CU_ASSERT_EQUAL(m, CTL_M_GET);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/endpoints/openapi", &m, &arg), CTL_R_OPENAPI_IMPORT);
	CU_ASSERT_EQUAL(m, CTL_M_POST);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/detectors", &m, &arg), CTL_R_DETECTORS);
	CU_ASSERT_EQUAL(m, CTL_M_GET | CTL_M_PATCH);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/blocklist", &m, &arg), CTL_R_BLOCKLIST);
	CU_ASSERT_EQUAL(m, CTL_M_GET | CTL_M_POST);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/blocklist/client:2001:db8::1", &m, &arg), CTL_R_BLOCK);
	CU_ASSERT_EQUAL(m, CTL_M_DELETE);
	CU_ASSERT_STRING_EQUAL(arg, "client:2001:db8::1");
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/blocklist/", &m, &arg), CTL_R_NONE);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/blocklist/a/b", &m, &arg), CTL_R_NONE);
	CU_ASSERT_EQUAL(ctl_rest_method_bit("PATCH"), CTL_M_PATCH);
	CU_ASSERT_EQUAL(ctl_rest_match("/api/v1/stats/", &m, &arg), CTL_R_NONE);
	CU_ASSERT_EQUAL(ctl_rest_match("/../etc/passwd", &m, &arg), CTL_R_NONE);
	CU_ASSERT_EQUAL(ctl_rest_method_bit("HEAD"), CTL_M_GET);
	CU_ASSERT_EQUAL(ctl_rest_method_bit("DELETE"), CTL_M_DELETE);
	CU_ASSERT_EQUAL(ctl_rest_method_bit("TRACE"), 0);
}

static void
test_tokens(void)
{
	const char *text = "# comment\n\nAAAAAAAAAAAAAAAAAAAAAAAA admin\r\n"
			   "  rrrrrrrrrrrrrrrrrrrr\tread  # trailing comment\n";
	char *err = NULL, id[9], id2[9];
	struct ctl_auth *a = ctl_auth_parse(text, "t", &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NULL(err);
	CU_ASSERT_EQUAL(ctl_auth_count(a), 2);
	CU_ASSERT_EQUAL(ctl_auth_check(a, "Bearer AAAAAAAAAAAAAAAAAAAAAAAA", id), CTL_ROLE_ADMIN);
	CU_ASSERT_EQUAL(strlen(id), 8);
	CU_ASSERT_EQUAL(ctl_auth_check(a, "bearer rrrrrrrrrrrrrrrrrrrr ", id2), CTL_ROLE_READ);
	CU_ASSERT_STRING_NOT_EQUAL(id, id2);
	/* Prefixes, extensions, other schemes, nothing: no role, no id. */
	CU_ASSERT_EQUAL(ctl_auth_check(a, "Bearer AAAAAAAAAAAAAAAAAAAAAAA", id), CTL_ROLE_NONE);
	CU_ASSERT_STRING_EQUAL(id, "");
	CU_ASSERT_EQUAL(ctl_auth_check(a, "Bearer AAAAAAAAAAAAAAAAAAAAAAAAA", id), CTL_ROLE_NONE);
	CU_ASSERT_EQUAL(ctl_auth_check(a, "Basic AAAAAAAAAAAAAAAAAAAAAAAA", id), CTL_ROLE_NONE);
	CU_ASSERT_EQUAL(ctl_auth_check(a, "AAAAAAAAAAAAAAAAAAAAAAAA", id), CTL_ROLE_NONE);
	CU_ASSERT_EQUAL(ctl_auth_check(a, "Bearer ", id), CTL_ROLE_NONE);
	CU_ASSERT_EQUAL(ctl_auth_check(a, NULL, id), CTL_ROLE_NONE);
	CU_ASSERT_EQUAL(ctl_auth_check(NULL, "Bearer AAAAAAAAAAAAAAAAAAAAAAAA", id), CTL_ROLE_NONE);
	CU_ASSERT_STRING_EQUAL(ctl_role_name(CTL_ROLE_READ), "read");
	ctl_auth_free(a);
}

static void
expect_bad(const char *text, const char *want)
{
	char *err = NULL;
	struct ctl_auth *a = ctl_auth_parse(text, "tok", &err);

	CU_ASSERT_PTR_NULL(a);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NOT_NULL(err);
	if (err != NULL && strstr(err, want) == NULL) {
		fprintf(stderr, "got \"%s\", want \"%s\"\n", err, want);
		CU_FAIL("error text");
	}
	free(err);
	ctl_auth_free(a);
}

static void
test_token_file_errors(void)
{
	char path[] = "/tmp/test_rest_tokens_XXXXXX";
	char *err = NULL;
	struct ctl_auth *a;
	int fd;

	expect_bad("", "tok:0: no token in the file");
	expect_bad("# only\n", "no token");
	expect_bad("short admin\n", "tok:1: token shorter than 16 characters");
	expect_bad("AAAAAAAAAAAAAAAAAAAA\n", "tok:1: expected \"TOKEN ROLE\"");
	expect_bad("AAAAAAAAAAAAAAAAAAAA root\n", "tok:1: unknown role (allowed: read, admin)");
	expect_bad("AAAAAAAAAAAAAAAAAAAA read extra\n", "expected \"TOKEN ROLE\"");
	expect_bad("AAAAAAAAAAAAAAAAAAAA read\nAAAAAAAAAAAAAAAAAAAA admin\n", "tok:2: duplicate token");
	CU_ASSERT_PTR_NULL(ctl_auth_load("/nonexistent/tokens", &err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/tokens: No such file"));
	free(err);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, "0123456789abcdef0123 admin\n", 27) == 27);
	close(fd);
	a = ctl_auth_load(path, &err);
	CU_ASSERT_PTR_NOT_NULL(a);
	{
		char id[9];

		CU_ASSERT_EQUAL(ctl_auth_check(a, "Bearer 0123456789abcdef0123", id), CTL_ROLE_ADMIN);
	}
	ctl_auth_free(a);
	unlink(path);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("rest", NULL, NULL);
	if (s == NULL ||
	    !CU_add_test(s, "routes", test_routes) ||
	    !CU_add_test(s, "bearer tokens", test_tokens) ||
	    !CU_add_test(s, "tokens file errors", test_token_file_errors))
		return 1;
	return tu_run_all();
}
