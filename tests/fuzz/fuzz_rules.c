/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rule parser and compiler (mt_engine_build_text) on arbitrary text.
 * Inputs over 4 KiB are ignored so that Hyperscan compile time stays
 * bounded. When the text builds, every rule's description is read, a
 * scratch is made and one fixed transaction (request head and body,
 * response head and body) is matched, so that what the parser accepted
 * is also exercised by the matcher.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fz_common.h"

#define FZ_MAX_TEXT 4096

static const char fz_req_body[] = "{\"user\":\"admin' OR 1=1--\",\"id\":42}";
static const char fz_resp_body[] = "{\"token\":\"eyJhbGciOiJub25lIn0.e30.\"}";

static void
fz_set(struct mt_slice *s, const char *v)
{
	s->p = (const uint8_t *)v;
	s->len = (uint32_t)strlen(v);
}

static void
fz_msg_init(struct mt_http_msg *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < MT_HDR__COUNT; i++)
		m->known[i] = -1;
	m->http_major = 1;
	m->http_minor = 1;
}

static void
fz_hdr(struct mt_http_msg *m, enum mt_known_hdr k, const char *name, const char *value)
{
	fz_set(&m->headers[m->n_headers].name, name);
	fz_set(&m->headers[m->n_headers].value, value);
	if ((int)k >= 0)
		m->known[k] = (int16_t)m->n_headers;
	m->n_headers++;
}

static void
fz_match(const struct mt_engine *e)
{
	static const struct mt_flow_tuple tuple = {
		.family = 4, .proto = 6, .client_port = 40000, .server_port = 80,
		.client_ip = { 10, 0, 0, 1 }, .server_ip = { 10, 0, 0, 2 }, .flow_id = 7,
	};
	struct mt_scratch *s = mt_scratch_create(e);
	struct mt_result res;
	struct mt_body *b = NULL;
	struct mt_txn t;

	if (s == NULL) {
		if (errno == ENOMEM)
			return;
		fz_fail("mt_scratch_create failed for an engine that built: %d", errno);
	}
	memset(&t, 0, sizeof(t));
	t.tuple = &tuple;
	t.ts_ns = 1700000000000000000ull;
	fz_msg_init(&t.req);
	fz_msg_init(&t.resp);
	fz_set(&t.req.method, "POST");
	fz_set(&t.req.uri, "/api/v1/users/42?q=%27%20union%20select%201--&debug=true");
	fz_hdr(&t.req, MT_HDR_HOST, "Host", "api.example.com");
	fz_hdr(&t.req, MT_HDR_USER_AGENT, "User-Agent", "sqlmap/1.7");
	fz_hdr(&t.req, MT_HDR_CONTENT_TYPE, "Content-Type", "application/json");
	fz_hdr(&t.req, MT_HDR_AUTHORIZATION, "Authorization", "Bearer eyJhbGciOiJub25lIn0.e30.");
	fz_hdr(&t.req, MT_HDR_COOKIE, "Cookie", "session=abc; role=admin");
	t.req.has_content_length = 1;
	t.req.content_length = sizeof(fz_req_body) - 1;
	(void)mt_match_request(e, s, &t, &res);
	if (mt_body_begin(e, s, &t, MT_DIR_TO_SERVER, &b) == 0 && b != NULL) {
		(void)mt_body_data(e, s, b, &t, (const uint8_t *)fz_req_body, 10, &res);
		(void)mt_body_data(e, s, b, &t, (const uint8_t *)fz_req_body + 10,
				   sizeof(fz_req_body) - 11, &res);
		(void)mt_body_end(e, s, b, &t, &res);
	}
	t.resp.status_code = 200;
	fz_set(&t.resp.reason, "OK");
	fz_hdr(&t.resp, MT_HDR_CONTENT_TYPE, "Content-Type", "application/json");
	fz_hdr(&t.resp, MT_HDR_SERVER, "Server", "nginx/1.18.0");
	t.resp.has_content_length = 1;
	t.resp.content_length = sizeof(fz_resp_body) - 1;
	(void)mt_match_response(e, s, &t, &res);
	b = NULL;
	if (mt_body_begin(e, s, &t, MT_DIR_TO_CLIENT, &b) == 0 && b != NULL) {
		(void)mt_body_data(e, s, b, &t, (const uint8_t *)fz_resp_body,
				   sizeof(fz_resp_body) - 1, &res);
		(void)mt_body_end(e, s, b, &t, &res);
	}
	if (res.n_hits > MT_MAX_HITS)
		fz_fail("%u hits reported, at most %d fit", res.n_hits, MT_MAX_HITS);
	mt_scratch_destroy(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mt_errors errs = { 0 };
	struct mt_engine *e;
	char *text;
	size_t i, n;

	if (size > FZ_MAX_TEXT)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	e = mt_engine_build_text(NULL, text, "<fuzz>", &errs);
	free(text);   /* the engine must not keep pointers into the text */
	if (e == NULL && errs.n == 0 && errno != ENOMEM)
		fz_fail("build failed (errno %d) without an error entry", errno);
	if (e != NULL && errs.n != 0)
		fz_fail("an engine built with %zu errors", errs.n);
	for (i = 0; i < errs.n; i++) {
		const struct mt_error *er = &errs.v[i];

		if (memchr(er->file, 0, sizeof(er->file)) == NULL ||
		    memchr(er->keyword, 0, sizeof(er->keyword)) == NULL ||
		    memchr(er->reason, 0, sizeof(er->reason)) == NULL)
			fz_fail("unterminated error string");
		if (er->reason[0] == '\0')
			fz_fail("error without a reason at line %u", er->line);
		fz_sink += (uint32_t)strlen(er->reason);
	}
	mt_errors_clear(&errs);
	if (e == NULL)
		return 0;
	n = mt_engine_rule_count(e);
	for (i = 0; i < n; i++) {
		const struct mt_rule_info *r = mt_engine_rule(e, i);
		unsigned int k;

		if (r == NULL)
			fz_fail("rule %zu of %zu is NULL", i, n);
		fz_sink += (uint32_t)(strlen(r->msg) + strlen(r->classtype) + strlen(r->category) +
				      strlen(r->text) + strlen(r->file));
		for (k = 0; k < r->n_techniques; k++)
			fz_sink += (uint32_t)strlen(r->techniques[k]);
		for (k = 0; k < r->n_tactics; k++)
			fz_sink += (uint32_t)strlen(r->tactics[k]);
		for (k = 0; k < r->n_owasp; k++)
			fz_sink += (uint32_t)strlen(r->owasp[k]);
		if (r->sid != 0 && mt_engine_rule_by_sid(e, r->sid) == NULL)
			fz_fail("rule sid %u not found by sid", r->sid);
	}
	fz_match(e);
	mt_engine_destroy(e);
	return 0;
}
