/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The REST decoding and validation layer, called as ctl_rest.c calls it:
 * the method, the route (ctl_rest_match), the query arguments of
 * /alerts and /attack/layer, the {sid} path argument, and the body of
 * POST /rules and PUT /rules/{sid} (ctl_api_decode_rules). The actions
 * run against real objects: a rule set built from one shipped rule file
 * and an alert ring holding a few alerts. Actions that would build a new
 * generation from the body are not called (compiling arbitrary rules is
 * fuzz_rules' job); PUT and DELETE only ever reach rules that are not API
 * rules, so they never change state and inputs stay independent.
 *
 * Input: four lines then the body:
 *   METHOD\n  PATH[?QUERY]\n  CONTENT-TYPE\n  (unused)\n  BODY
 * The query is split on '&' and '=' and percent-decoded as
 * libmicrohttpd does before the handlers see it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_api.h"
#include "ctl_rest.h"
#include "fz_common.h"

static struct ctl_config cfg;
static struct ctl_api api;
/* An error message quoting client bytes that were not UTF-8 used to make
 * ctl_api_error() return NULL (fixed: ctl_utf8_clean; the reproducers are
 * in regressions/fuzz_rest/). Strict by default; AG_FUZZ_STRICT=0 relaxes
 * the check for 8-bit inputs again. */
static bool fz_strict;
static bool fz_input_8bit;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *files[] = { FUZZ_SRCDIR "/configs/rules/api-recon.rules" };
	struct ctl_rules_params rp = { .files = files, .n_files = 1, .n_workers = 1 };
	struct mt_errors errs = { 0 };
	static const char *techs[] = { "T1190", "T1595", "T1110" };
	int i;

	(void)argc;
	(void)argv;
	fz_strict = getenv("AG_FUZZ_STRICT") == NULL || strcmp(getenv("AG_FUZZ_STRICT"), "0") != 0;
	ctl_config_defaults(&cfg);
	api.cfg = &cfg;
	api.rules = ctl_rules_create(&rp, &errs);
	if (api.rules == NULL)
		fz_fail("ctl_rules_create: %zu errors", errs.n);
	mt_errors_clear(&errs);
	api.alerts = ctl_alerts_create(16);
	for (i = 0; i < 6; i++) {
		json_t *eve = json_pack("{s:s,s:s,s:i,s:{s:i,s:s,s:{s:[s],s:[s]}}}",
					"event_type", "alert", "src_ip", i & 1 ? "10.0.0.1" : "::1",
					"src_port", 40000 + i, "alert", "signature_id", 1000 + i,
					"signature", "fuzz", "metadata", "mitre_technique_id",
					techs[i % 3], "owasp_api", i & 1 ? "API8:2023" : "API1:2023");

		ctl_alerts_push(api.alerts, eve);
	}
	return 0;
}

static int
fz_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* In place, as MHD_http_unescape(): "+" stays, bad escapes stay. */
static void
fz_unescape(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '%' && fz_hex(s[1]) >= 0 && fz_hex(s[2]) >= 0) {
			*w++ = (char)(fz_hex(s[1]) << 4 | fz_hex(s[2]));
			s += 3;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

static void
fz_query(char *q, struct ctl_api_alert_args *a, const char **kind)
{
	char *save = NULL, *kv;

	for (kv = strtok_r(q, "&", &save); kv != NULL; kv = strtok_r(NULL, "&", &save)) {
		char *v = strchr(kv, '=');

		if (v != NULL)
			*v++ = '\0';
		else
			v = kv + strlen(kv);   /* "?since" : an empty value */
		fz_unescape(kv);
		fz_unescape(v);
		if (strcmp(kv, "since") == 0) a->since = v;
		else if (strcmp(kv, "limit") == 0) a->limit = v;
		else if (strcmp(kv, "sid") == 0) a->sid = v;
		else if (strcmp(kv, "technique") == 0) a->technique = v;
		else if (strcmp(kv, "owasp") == 0) a->owasp = v;
		else if (strcmp(kv, "src") == 0) a->src = v;
		else if (strcmp(kv, "kind") == 0) *kind = v;
	}
}

/* Every action answers with a status and a body; errors have the shape
 * the API documents. */
static void
fz_check(unsigned int st, json_t *out, const char *what)
{
	if (st < 200 || st > 599)
		fz_fail("%s: status %u", what, st);
	if (out == NULL) {
		if (!fz_strict && fz_input_8bit && st >= 400)
			return;
		fz_fail("%s: status %u without a body", what, st);
	}
	if (st >= 400) {
		json_t *e = json_object_get(out, "error");

		if (!json_is_string(json_object_get(e, "code")) ||
		    !json_is_string(json_object_get(e, "message")))
			fz_fail("%s: error %u without code and message", what, st);
	}
	/* The encoder must take whatever the action built. */
	char *s = json_dumps(out, JSON_COMPACT);

	if (s == NULL)
		fz_fail("%s: body does not encode", what);
	fz_sink += (uint32_t)strlen(s);
	free(s);
	json_decref(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *line[4], *body, *path, *q, *p;
	struct ctl_api_alert_args a = { 0 };
	const char *arg = NULL, *kind = NULL;
	unsigned int allowed, m, st;
	enum ctl_route r;
	json_t *out = NULL;
	size_t body_len;
	int i;

	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	for (i = 0; i < 4; i++) {
		char *nl = memchr(p, '\n', (size_t)(buf + size - p));

		line[i] = p;
		if (nl == NULL) {
			free(buf);
			return 0;
		}
		*nl = '\0';
		p = nl + 1;
	}
	body = p;
	body_len = (size_t)(buf + size - p);
	/* Headers and URLs are C strings by the time MHD hands them over. */
	if (strlen(line[0]) == 0) {
		free(buf);
		return 0;
	}
	path = line[1];
	fz_input_8bit = false;
	for (p = line[0]; p < buf + size; p++)
		if ((unsigned char)*p >= 0x80 || (p[0] == '%' && p[1] >= '8'))
			fz_input_8bit = true;
	q = strchr(path, '?');
	if (q != NULL)
		*q++ = '\0';
	m = ctl_rest_method_bit(line[0]);
	r = ctl_rest_match(path, &allowed, &arg);
	if (r == CTL_R_RULE && (arg == NULL || arg < path || arg > path + strlen(path)))
		fz_fail("rule route with an argument outside the URL");
	if (q != NULL)
		fz_query(q, &a, &kind);
	if (m == 0 || !(allowed & m)) {
		free(buf);
		return 0;   /* 405 / 404: answered before any action */
	}
	switch (r) {
	case CTL_R_ALERTS:
	case CTL_R_ALERTS_STREAM: {
		struct ctl_alert_filter f;

		st = ctl_api_alert_filter(&a, &f, &out);
		if (st != 0) {
			fz_check(st, out, "alert filter");
			break;
		}
		if (f.limit == 0)
			fz_fail("a filter with limit 0 was accepted");
		st = ctl_api_alerts(&api, &a, &out);
		fz_check(st, out, "alerts");
		break;
	}
	case CTL_R_LAYER:
		st = ctl_api_attack_layer(&api, kind, &out);
		fz_check(st, out, "layer");
		break;
	case CTL_R_RULE:
		if (m == CTL_M_GET) {
			st = ctl_api_rule_get(&api, arg, &out);
			fz_check(st, out, "rule get");
		} else if (m == CTL_M_DELETE) {
			st = ctl_api_rule_delete(&api, arg, &out);
			fz_check(st, out, "rule delete");
			if (st == 200)
				fz_fail("deleted a rule that was never added");
		} else {
			char *text = NULL;

			st = ctl_api_decode_rules(line[2][0] ? line[2] : NULL, body, body_len,
						  &text, &out);
			if (st != 0) {
				fz_check(st, out, "decode");
				free(text);
				break;
			}
			if (text == NULL)
				fz_fail("decode succeeded without text");
			st = ctl_api_rule_put(&api, arg, text, &out);
			fz_check(st, out, "rule put");
			if (st == 200)
				fz_fail("replaced a rule that was never added");
			free(text);
		}
		break;
	case CTL_R_RULES:
		if (m == CTL_M_POST) {
			char *text = NULL;

			st = ctl_api_decode_rules(line[2][0] ? line[2] : NULL, body, body_len,
						  &text, &out);
			if (st != 0)
				fz_check(st, out, "decode");
			else if (text == NULL || strlen(text) > body_len)
				fz_fail("decoded text longer than the body");
			free(text);
		} else {
			st = ctl_api_rules_list(&api, &out);
			fz_check(st, out, "rules list");
		}
		break;
	default:
		break;
	}
	free(buf);
	return 0;
}
