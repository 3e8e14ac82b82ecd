/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The behaviour module's text inputs: the OpenAPI importer
 * (mt_behav_openapi_import, JSON or YAML) and the detector settings loader
 * (mt_behav_params_load). Byte 0 picks which; the rest is the document.
 * The importer runs on a fresh behaviour state each time (small tables),
 * then the inventory is rendered, as GET /inventory would after an import.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fz_common.h"
#include "mt_behav.h"

static struct mt_behav_params small;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mt_behav_params_defaults(&small);
	small.max_identities = small.max_actor_templates = small.max_clients = 64;
	small.max_usernames = small.max_credentials = small.max_templates = 64;
	small.max_owned_objects = small.max_slots = small.max_suppress = 64;
	return 0;
}

static void
fz_import(const char *text, size_t len)
{
	struct mt_behav *b = mt_behav_create(&small);
	char err[256];
	char *js;
	int n;

	if (b == NULL)
		fz_fail("mt_behav_create failed");
	err[0] = '\0';
	n = mt_behav_openapi_import(b, text, len, err, sizeof(err));
	if (n < 0 && (memchr(err, 0, sizeof(err)) == NULL || err[0] == '\0'))
		fz_fail("import failed (%d) without a message", n);
	js = mt_behav_inventory_json(b);
	if (js != NULL)
		fz_sink += (uint32_t)strlen(js);
	free(js);
	js = mt_behav_inventory_openapi(b);
	if (js != NULL)
		fz_sink += (uint32_t)strlen(js);
	free(js);
	mt_behav_destroy(b);
}

static void
fz_params(const char *text, size_t len)
{
	struct mt_behav_params p, before;
	struct mt_behav_worker *w;
	char err[256];
	char *js;
	int rc;

	mt_behav_params_defaults(&p);
	before = p;
	err[0] = '\0';
	rc = mt_behav_params_load(&p, text, len, err, sizeof(err));
	if (rc != 0) {
		if (memcmp(&p, &before, sizeof(p)) != 0)
			fz_fail("a failed load changed the parameters");
		if (memchr(err, 0, sizeof(err)) == NULL || err[0] == '\0')
			fz_fail("load failed (%d) without a message", rc);
		return;
	}
	js = mt_behav_params_to_json(&p);
	if (js == NULL)
		fz_fail("accepted parameters do not render as JSON");
	/* What was written must load back (it is "the schema the loader
	 * accepts"), except JWT keys, which it redacts. */
	if (p.n_jwt_keys == 0) {
		struct mt_behav_params q;

		char *sid;

		/* "sid" is informative, not a setting (as in test_behav.c). */
		while ((sid = strstr(js, ",\n      \"sid\": ")) != NULL) {
			char *e = strchr(sid + 2, '\n');

			memmove(sid, e, strlen(e) + 1);
		}
		mt_behav_params_defaults(&q);
		if (mt_behav_params_load(&q, js, strlen(js), err, sizeof(err)) != 0)
			fz_fail("parameters written as JSON do not load back: %s", err);
	}
	free(js);
	/* A worker context parses the JWT keys: it may refuse a bad key. */
	w = mt_behav_worker_create(&p);
	mt_behav_worker_destroy(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	/* NUL-terminated exact copy: the loaders take (text, len) but a
	 * terminator keeps a strlen-style over-read from hiding a bug. */
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] & 1)
		fz_params(text, size - 1);
	else
		fz_import(text, size - 1);
	free(text);
	return 0;
}
