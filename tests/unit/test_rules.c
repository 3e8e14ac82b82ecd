/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rules: the rule parser. Every keyword, every kind of error (with
 * its file:line and keyword), whole-file-or-nothing loading, variables,
 * addresses and ports. Runs without EAL, and under ASan/UBSan.
 */
#include "tu_eal.h"
#include "mt_engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mt_attack.h"

static struct mt_engine *
load(const char *text, struct mt_errors *er)
{
	return mt_engine_build_text(NULL, text, "t.rules", er);
}

static const struct mt_rule *
one(struct mt_engine **e, const char *text)
{
	struct mt_errors er = {0};

	*e = load(text, &er);
	for (size_t i = 0; i < er.n; i++)
		fprintf(stderr, "unexpected error: %s:%u [%s] %s\n", er.v[i].file, er.v[i].line,
			er.v[i].keyword, er.v[i].reason);
	mt_errors_clear(&er);
	if (*e == NULL || (*e)->n_listed != 1)
		return NULL;
	return (*e)->rules[0];
}

/* Loading @p text must fail with an error on @p line naming @p kw and
 * containing @p why. */
static void
expect_err(const char *text, uint32_t line, const char *kw, const char *why)
{
	struct mt_errors er = {0};
	struct mt_engine *e;
	bool found = false;

	errno = 0;
	e = load(text, &er);
	CU_ASSERT_PTR_NULL(e);
	CU_ASSERT_EQUAL(errno, EINVAL);
	for (size_t i = 0; i < er.n; i++)
		if (er.v[i].line == line && strcmp(er.v[i].keyword, kw) == 0 &&
		    strstr(er.v[i].reason, why) != NULL && strcmp(er.v[i].file, "t.rules") == 0)
			found = true;
	if (!found) {
		fprintf(stderr, "\nwanted %u [%s] '%s' for: %s\n  got:\n", line, kw, why, text);
		for (size_t i = 0; i < er.n; i++)
			fprintf(stderr, "  %s:%u [%s] %s\n", er.v[i].file, er.v[i].line,
				er.v[i].keyword, er.v[i].reason);
	}
	CU_ASSERT(found);
	mt_engine_destroy(e);
	mt_errors_clear(&er);
}

#define R(opts) "alert http any any -> any any (" opts ")"

/* ---------- valid keywords ---------- */

static void
test_header_info(void)
{
	struct mt_engine *e;
	const struct mt_rule *r = one(&e,
		"drop http any any -> any any (msg:\"a \\\"quoted\\\" \\; msg\"; sid:7; rev:3; gid:1; "
		"classtype:web-application-attack; reference:url,example.com/x; "
		"metadata: mitre_technique_id T1190, mitre_tactic_id TA0001, owasp_api API8:2023, "
		"mitre_technique_id T1059.004, created_at 2024_01_01; "
		"http.uri; content:\"x\";)");

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->info.sid, 7);
	CU_ASSERT_EQUAL(r->info.rev, 3);
	CU_ASSERT_EQUAL(r->info.gid, 1);
	CU_ASSERT_EQUAL(r->info.action, MT_ACT_DROP);
	CU_ASSERT_STRING_EQUAL(r->info.msg, "a \"quoted\" ; msg");
	CU_ASSERT_STRING_EQUAL(r->info.classtype, "web-application-attack");
	CU_ASSERT_STRING_EQUAL(r->info.category, "Web Application Attack");
	CU_ASSERT_EQUAL(r->info.priority, 1);
	CU_ASSERT_EQUAL(r->info.severity, 1);
	CU_ASSERT_EQUAL(r->info.n_techniques, 2);
	CU_ASSERT_STRING_EQUAL(r->info.techniques[0], "T1190");
	CU_ASSERT_STRING_EQUAL(r->info.techniques[1], "T1059.004");
	CU_ASSERT_EQUAL(r->info.n_tactics, 1);
	CU_ASSERT_STRING_EQUAL(r->info.tactics[0], "TA0001");
	CU_ASSERT_EQUAL(r->info.n_owasp, 1);
	CU_ASSERT_STRING_EQUAL(r->info.owasp[0], "API8:2023");
	CU_ASSERT_EQUAL(r->n_meta, 5);
	CU_ASSERT_STRING_EQUAL(r->meta[4].key, "created_at");
	CU_ASSERT_STRING_EQUAL(r->meta[4].value, "2024_01_01");
	CU_ASSERT_EQUAL(r->n_refs, 1);
	CU_ASSERT_STRING_EQUAL(r->info.file, "t.rules");
	CU_ASSERT_EQUAL(r->info.line, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->info.text, "sid:7"));
	CU_ASSERT_PTR_EQUAL(mt_engine_rule_by_sid(e, 7), &r->info);
	CU_ASSERT_PTR_NULL(mt_engine_rule_by_sid(e, 8));
	CU_ASSERT_PTR_EQUAL(mt_engine_rule(e, 0), &r->info);
	CU_ASSERT_PTR_NULL(mt_engine_rule(e, 1));
	mt_engine_destroy(e);

	/* priority overrides the classtype's; no classtype: priority 3 */
	r = one(&e, R("classtype:misc-activity; priority:2; http.uri; content:\"x\"; sid:1;"));
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->info.priority, 2);
	CU_ASSERT_EQUAL(r->info.severity, 2);
	mt_engine_destroy(e);
	r = one(&e, R("priority:9; classtype:misc-activity; http.uri; content:\"x\"; sid:1;"));
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->info.priority, 9);
	CU_ASSERT_EQUAL(r->info.severity, 4);
	mt_engine_destroy(e);
	r = one(&e, R("http.uri; content:\"x\"; sid:1;"));
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->info.priority, 3);
	CU_ASSERT_STRING_EQUAL(r->info.classtype, "");
	CU_ASSERT_STRING_EQUAL(r->info.msg, "");
	CU_ASSERT_EQUAL(r->info.gid, 1);
	mt_engine_destroy(e);

	/* actions and protocols */
	r = one(&e, "reject tcp any any -> any any (http.uri; content:\"x\"; sid:1;)");
	CU_ASSERT(r != NULL && r->info.action == MT_ACT_REJECT);
	mt_engine_destroy(e);
	r = one(&e, "pass http1 any any <> any any (http.uri; content:\"x\"; sid:1;)");
	CU_ASSERT(r != NULL && r->info.action == MT_ACT_PASS && r->bidir);
	mt_engine_destroy(e);
}

static void
test_content_keywords(void)
{
	struct mt_engine *e;
	const struct mt_rule *r = one(&e, R(
		"http.uri; content:\"a|41 42|\\\"\\;\\\\\"; nocase; offset:1; depth:9; "
		"content:!\"zz\"; distance:-2; within:4; "
		"content:\"st\"; startswith; content:\"en\"; endswith; fast_pattern; "
		"content:\"chop\"; "
		"isdataat:!3,relative; bsize:2<>9; pcre:\"/x/iR\"; sid:1;"));
	const struct mt_item *it;

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL_FATAL(r->n_groups, 1);
	CU_ASSERT_EQUAL(r->groups[0].buf, MT_BUFID(MT_B_URI, 0));
	CU_ASSERT_EQUAL_FATAL(r->groups[0].n, 8);
	it = r->groups[0].items;
	CU_ASSERT_EQUAL(it[0].len, 6);
	CU_ASSERT(memcmp(it[0].pat, "aAB\";\\", 6) == 0);
	CU_ASSERT_EQUAL(it[0].flags & (MT_F_NOCASE | MT_F_OFFSET | MT_F_DEPTH),
			MT_F_NOCASE | MT_F_OFFSET | MT_F_DEPTH);
	CU_ASSERT_EQUAL(it[0].offset, 1);
	CU_ASSERT_EQUAL(it[0].depth, 9);
	CU_ASSERT(it[1].flags & MT_F_NEGATED);
	CU_ASSERT_EQUAL(it[1].distance, -2);
	CU_ASSERT_EQUAL(it[1].within, 4);
	CU_ASSERT(it[2].flags & MT_F_STARTSWITH);
	CU_ASSERT(it[3].flags & MT_F_ENDSWITH);
	CU_ASSERT(it[3].flags & MT_F_FAST_PATTERN);
	CU_ASSERT_EQUAL(it[4].len, 4);
	CU_ASSERT_EQUAL(it[5].type, MT_IT_ISDATAAT);
	CU_ASSERT_EQUAL(it[5].flags & (MT_F_NEGATED | MT_F_RELATIVE), MT_F_NEGATED | MT_F_RELATIVE);
	CU_ASSERT_EQUAL(it[6].type, MT_IT_BSIZE);
	CU_ASSERT_EQUAL(it[6].bs_op, MT_BS_RANGE);
	CU_ASSERT_EQUAL(it[7].type, MT_IT_PCRE);
	CU_ASSERT(it[7].hs_flags & HS_FLAG_CASELESS);
	CU_ASSERT(it[7].flags & MT_F_RELATIVE);
	/* explicit fast_pattern wins over the longest content */
	CU_ASSERT_EQUAL(r->fp_item, 3);
	/* items before a relative one must try every occurrence */
	CU_ASSERT(it[0].flags & MT_F_LATER_REL);
	mt_engine_destroy(e);

	r = one(&e, R("http.uri; content:\"chop\"; fast_pattern:1,2; sid:1;"));
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(r->groups[0].items[0].flags & MT_F_FP_CHOP);
	CU_ASSERT_EQUAL(r->groups[0].items[0].fp_off, 1);
	CU_ASSERT_EQUAL(r->groups[0].items[0].fp_len, 2);
	mt_engine_destroy(e);
	r = one(&e, R("http.uri; content:\"only\"; fast_pattern:only; sid:1;"));
	CU_ASSERT(r != NULL && (r->groups[0].items[0].flags & MT_F_FP_ONLY));
	mt_engine_destroy(e);
	r = one(&e, R("uricontent:\"/x\"; sid:1;"));
	CU_ASSERT(r != NULL && r->groups[0].buf == MT_BUFID(MT_B_URI, 0));
	mt_engine_destroy(e);
	r = one(&e, R("http.uri; bsize:5; sid:1;"));
	CU_ASSERT(r != NULL && r->groups[0].items[0].bs_op == MT_BS_EQ && r->groups[0].items[0].num == 5);
	mt_engine_destroy(e);
	r = one(&e, R("http.uri; bsize:<5; http.method; bsize:>2; sid:1;"));
	CU_ASSERT(r != NULL && r->n_groups == 2 && r->groups[0].items[0].bs_op == MT_BS_LT &&
		  r->groups[1].items[0].bs_op == MT_BS_GT);
	mt_engine_destroy(e);
}

static void
test_buffer_keywords(void)
{
	static const struct {
		const char *kw;
		unsigned kind;
		int side;
	} sticky[] = {
		{"http.method", MT_B_METHOD, 0}, {"http.uri", MT_B_URI, 0},
		{"http.uri.raw", MT_B_URI_RAW, 0}, {"http.host", MT_B_HOST, 0},
		{"http.host.raw", MT_B_HOST_RAW, 0}, {"http.header", MT_B_HEADER, 0},
		{"http.header.raw", MT_B_HEADER_RAW, 0}, {"http.header_names", MT_B_HEADER_NAMES, 0},
		{"http.user_agent", MT_B_UA, 0}, {"http.cookie", MT_B_COOKIE, 0},
		{"http.content_type", MT_B_CONTENT_TYPE, 0}, {"http.content_len", MT_B_CONTENT_LEN, 0},
		{"http.request_line", MT_B_REQUEST_LINE, 0}, {"http.stat_code", MT_B_STAT_CODE, 1},
		{"http.stat_msg", MT_B_STAT_MSG, 1}, {"http.response_line", MT_B_RESPONSE_LINE, 1},
		{"http.server", MT_B_SERVER, 1}, {"http.location", MT_B_LOCATION, 1},
		{"http.protocol", MT_B_PROTOCOL, 0}, {"http.start", MT_B_START, 0},
	};
	static const struct {
		const char *kw;
		unsigned kind;
	} mods[] = {
		{"http_method", MT_B_METHOD}, {"http_uri", MT_B_URI}, {"http_raw_uri", MT_B_URI_RAW},
		{"http_header", MT_B_HEADER}, {"http_raw_header", MT_B_HEADER_RAW},
		{"http_cookie", MT_B_COOKIE}, {"http_user_agent", MT_B_UA}, {"http_host", MT_B_HOST},
		{"http_raw_host", MT_B_HOST_RAW}, {"http_stat_code", MT_B_STAT_CODE},
		{"http_stat_msg", MT_B_STAT_MSG},
	};
	char rule[256];

	for (size_t i = 0; i < sizeof(sticky) / sizeof(sticky[0]); i++) {
		struct mt_engine *e;
		const struct mt_rule *r;

		snprintf(rule, sizeof(rule), R("%s; content:\"x\"; sid:1;"), sticky[i].kw);
		r = one(&e, rule);
		CU_ASSERT(r != NULL && r->groups[0].buf == MT_BUFID(sticky[i].kind, sticky[i].side) &&
			  r->eval_side == sticky[i].side);
		/* without a flow direction, a buffer of both messages is
		 * inspected in both: a response twin follows the rule */
		if (r != NULL && mt_buf_sides(sticky[i].kind) == MT_SIDE_BOTH) {
			CU_ASSERT_EQUAL_FATAL(e->n_rules, 2);
			CU_ASSERT(e->rules[1]->is_twin && e->rules[1]->twin == r && r->twin == e->rules[1]);
			CU_ASSERT_EQUAL(e->rules[1]->eval_side, 1);
			CU_ASSERT_EQUAL(e->rules[1]->src_is_server, 1);
			CU_ASSERT_EQUAL(e->rules[1]->groups[0].buf, MT_BUFID(sticky[i].kind, 1));
			CU_ASSERT_EQUAL(mt_engine_rule_count(e), 1);
		} else if (r != NULL) {
			CU_ASSERT_EQUAL(e->n_rules, 1);
			CU_ASSERT_PTR_NULL(r->twin);
		}
		mt_engine_destroy(e);
	}
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		struct mt_engine *e;
		const struct mt_rule *r;

		snprintf(rule, sizeof(rule), R("content:\"x\"; %s; content:\"y\"; %s; distance:0; sid:1;"),
			 mods[i].kw, mods[i].kw);
		r = one(&e, rule);
		CU_ASSERT(r != NULL && MT_BUFID_KIND(r->groups[0].buf) == mods[i].kind &&
			  r->groups[0].n == 2);
		mt_engine_destroy(e);
	}
	{
		/* flow selects the side of shared buffers */
		struct mt_engine *e;
		const struct mt_rule *r = one(&e, R("flow:established,to_client; http.header; content:\"x\"; sid:1;"));
		CU_ASSERT(r != NULL && r->groups[0].buf == MT_BUFID(MT_B_HEADER, 1) && r->eval_side == 1 &&
			  r->src_is_server);
		mt_engine_destroy(e);
		r = one(&e, R("flow:from_client,established; http.header; content:\"x\"; sid:1;"));
		CU_ASSERT(r != NULL && r->groups[0].buf == MT_BUFID(MT_B_HEADER, 0) && r->eval_side == 0);
		mt_engine_destroy(e);
		r = one(&e, R("flow:from_server; http.cookie; content:\"x\"; sid:1;"));
		CU_ASSERT(r != NULL && r->groups[0].buf == MT_BUFID(MT_B_COOKIE, 1));
		mt_engine_destroy(e);
		/* mixed request and response buffers: response time */
		r = one(&e, R("http.uri; content:\"x\"; http.stat_code; content:\"500\"; http.header; content:\"h\"; sid:1;"));
		CU_ASSERT(r != NULL && r->eval_side == 1 && r->groups[2].buf == MT_BUFID(MT_B_HEADER, 1));
		mt_engine_destroy(e);
	}
}

static void
test_threshold(void)
{
	struct mt_engine *e;
	const struct mt_rule *r = one(&e, R(
		"http.uri; content:\"x\"; threshold: type both, track by_src, count 5, seconds 60; "
		"detection_filter: track by_dst, count 3, seconds 10; sid:1;"));

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->threshold.type, MT_THR_BOTH);
	CU_ASSERT_EQUAL(r->threshold.track, MT_TRACK_BY_SRC);
	CU_ASSERT_EQUAL(r->threshold.count, 5);
	CU_ASSERT_EQUAL(r->threshold.seconds, 60);
	CU_ASSERT_EQUAL(r->detection_filter.type, MT_THR_DETECTION_FILTER);
	CU_ASSERT_EQUAL(r->detection_filter.track, MT_TRACK_BY_DST);
	CU_ASSERT_EQUAL(r->detection_filter.count, 3);
	mt_engine_destroy(e);
	expect_err(R("http.uri; content:\"x\"; threshold: type often, track by_src, count 5, seconds 60; sid:1;"),
		   1, "threshold", "type 'often'");
	expect_err(R("http.uri; content:\"x\"; threshold: type limit, track by_src, count 5; sid:1;"),
		   1, "threshold", "needs type, track, count and seconds");
	expect_err(R("http.uri; content:\"x\"; threshold: type limit, track by_host, count 5, seconds 1; sid:1;"),
		   1, "threshold", "track 'by_host'");
	expect_err(R("http.uri; content:\"x\"; detection_filter: track by_src, count 0, seconds 1; sid:1;"),
		   1, "detection_filter", "count '0'");
	expect_err(R("http.uri; content:\"x\"; detection_filter: type limit, track by_src, count 1, seconds 1; sid:1;"),
		   1, "detection_filter", "unknown option 'type'");
}

/* ---------- errors ---------- */

static void
test_errors_structure(void)
{
	expect_err("alert http any any -> any any (msg:\"x\"; http.uri; content:\"x\";)", 1, "sid", "missing sid");
	expect_err("alert http any any -> any any (sid:1; http.uri; content:\"x\";", 1, "rule", "missing '('");
	expect_err("alert http any any -> any any (sid:1; http.uri; content:\"x\";) x", 1, "rule", "after the closing");
	expect_err("alert http any any -> any (sid:1;)", 1, "header", "needs 'action proto");
	expect_err("log http any any -> any any (sid:1;)", 1, "action", "unknown action 'log'");
	expect_err("alert udp any any -> any any (sid:1;)", 1, "protocol", "'udp' is not supported");
	expect_err("alert http any any => any any (sid:1;)", 1, "direction", "'=>'");
	expect_err(R("sid:1; http.uri; content:\"x\""), 1, "options", "not terminated");
	expect_err(R("sid:abc;"), 1, "sid", "'abc'");
	expect_err(R("sid:0;"), 1, "sid", "not a number in 1..");
	expect_err(R("sid:1; priority:300;"), 1, "priority", "1..255");
	expect_err(R("sid:1; msg:noquotes;"), 1, "msg", "quoted");
	expect_err(R("sid:1; classtype:no-such-class;"), 1, "classtype", "unknown classtype 'no-such-class'");
	expect_err(R("sid:1; reference:nocomma;"), 1, "reference", "type,id");
	expect_err(R("sid:1; frobnicate:3;"), 1, "frobnicate", "unknown or unsupported keyword");
	expect_err(R("sid:1; xbits:set,x,track ip_src;"), 1, "xbits", "unknown or unsupported keyword");
}

static void
test_errors_content(void)
{
	expect_err(R("sid:1; http.uri; content:\"a\\x\";"), 1, "content", "invalid escape");
	expect_err(R("sid:1; http.uri; content:\"|4|\";"), 1, "content", "odd number of hex digits");
	expect_err(R("sid:1; http.uri; content:\"|4g|\";"), 1, "content", "invalid hex character");
	expect_err(R("sid:1; http.uri; content:\"|41\";"), 1, "content", "unterminated hex");
	expect_err(R("sid:1; http.uri; content:\"\";"), 1, "content", "empty pattern");
	expect_err(R("sid:1; http.uri; content:abc;"), 1, "content", "quoted");
	expect_err(R("sid:1; content:\"x\";"), 1, "content", "not in an HTTP buffer");
	expect_err(R("sid:1; nocase; http.uri; content:\"x\";"), 1, "nocase", "preceding content");
	expect_err(R("sid:1; http.uri; content:\"x\"; nocase; nocase;"), 1, "nocase", "twice");
	expect_err(R("sid:1; http.uri; content:\"abc\"; depth:2;"), 1, "depth", "smaller than the content length");
	expect_err(R("sid:1; http.uri; content:\"a\"; content:\"abc\"; within:2;"), 1, "within", "smaller than the content length");
	expect_err(R("sid:1; http.uri; content:\"a\"; offset:-1;"), 1, "offset", "not a number");
	expect_err(R("sid:1; http.uri; content:\"a\"; offset:x;"), 1, "offset", "byte_extract");
	expect_err(R("sid:1; http.uri; content:\"a\"; offset:1; distance:1;"), 1, "distance", "cannot mix");
	expect_err(R("sid:1; http.uri; content:\"a\"; within:2; depth:2;"), 1, "depth", "cannot mix");
	expect_err(R("sid:1; http.uri; content:\"a\"; startswith; offset:1;"), 1, "offset", "startswith");
	expect_err(R("sid:1; http.uri; content:\"a\"; offset:1; startswith;"), 1, "startswith", "cannot be combined");
	expect_err(R("sid:1; http.uri; content:\"a\"; fast_pattern; content:\"b\"; fast_pattern;"), 1, "fast_pattern", "only one");
	expect_err(R("sid:1; http.uri; content:!\"a\"; fast_pattern;"), 1, "fast_pattern", "negated");
	expect_err(R("sid:1; http.uri; content:\"ab\"; fast_pattern:1,5;"), 1, "fast_pattern", "within the content");
	expect_err(R("sid:1; http.uri; content:\"ab\"; fast_pattern:only; depth:4;"), 1, "fast_pattern", "positional");
	expect_err(R("sid:1; http.uri; isdataat:1,rawbytes;"), 1, "isdataat", "relative");
	expect_err(R("sid:1; isdataat:1;"), 1, "isdataat", "preceding sticky buffer");
	expect_err(R("sid:1; http.uri; bsize:9<>2;"), 1, "bsize", "min < max");
	expect_err(R("sid:1; http.uri; bsize:big;"), 1, "bsize", "not a size");
	expect_err(R("sid:1; http.host; content:\"Example\";"), 1, "content", "lowercase");
	expect_err(R("sid:1; http.uri; content:\"x\"; http_uri;"), 1, "http_uri", "after sticky buffer");
	expect_err(R("sid:1; content:\"x\"; http_uri; http_header;"), 1, "http_header", "already in buffer");
	expect_err(R("sid:1; http.uri; http.method; content:\"x\";"), 1, "http.uri", "no match keyword");
	expect_err(R("sid:1; http.uri;"), 1, "http.uri", "no match keyword");
}

/* Body buffers load, with their side and the body they inspect. */
static void
test_body_keywords(void)
{
	static const struct {
		const char *opts;
		int kind;
		int dir;
	} ok[] = {
		{"http.request_body; content:\"x\";", MT_B_REQ_BODY, 0},
		{"content:\"x\"; http_client_body;", MT_B_REQ_BODY, 0},
		{"pcre:\"/x/P\";", MT_B_REQ_BODY, 0},
		{"file_data; content:\"x\";", MT_B_FILE_DATA, 0},
		{"file.data; content:\"x\";", MT_B_FILE_DATA, 0},
		{"flow:to_client; file_data; content:\"x\";", MT_B_FILE_DATA, 1},
		{"http.response_body; content:\"x\";", MT_B_RESP_BODY, 1},
		{"content:\"x\"; http_server_body;", MT_B_RESP_BODY, 1},
		{"pcre:\"/x/Q\";", MT_B_RESP_BODY, 1},
		{"http.uri; content:\"/u\"; http.response_body; content:\"x\";", MT_B_RESP_BODY, 1},
	};
	char text[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct mt_engine *e;
		const struct mt_rule *r;
		bool seen = false;

		snprintf(text, sizeof(text), R("sid:1; %s"), ok[i].opts);
		r = one(&e, text);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(r->body_dir, ok[i].dir);
		CU_ASSERT_EQUAL(r->eval_side, ok[i].dir);
		for (uint16_t g = 0; g < r->n_groups; g++)
			if (MT_BUFID_KIND(r->groups[g].buf) == (unsigned)ok[i].kind &&
			    MT_BUFID_SIDE(r->groups[g].buf) == (unsigned)ok[i].dir)
				seen = true;
		CU_ASSERT(seen);
		mt_engine_destroy(e);
	}
}

static void
test_errors_unsupported(void)
{
	expect_err(R("sid:1; http.response_body.raw; content:\"x\";"), 1, "http.response_body.raw",
		   "use http.response_body");
	expect_err(R("sid:1; http.request_body; content:\"a\"; http.response_body; content:\"b\";"),
		   1, "http.response_body", "one body only");
	expect_err(R("sid:1; flow:to_client; http.request_body; content:\"a\";"), 1,
		   "http.request_body", "cannot be combined");
	expect_err(R("sid:1; pcre:\"/a/P\"; http.stat_code; content:\"200\";"), 1,
		   "http.request_body", "cannot be combined");
	expect_err(R("sid:1; flow:to_server; pcre:\"/b/Q\";"), 1,
		   "flow", "to_server conflicts");
	expect_err(R("sid:1; http.uri; pcre:\"/(a)\\1/\";"), 1, "pcre", "Hyperscan cannot compile");
	expect_err(R("sid:1; http.uri; pcre:\"/(?<=a)b/\";"), 1, "pcre", "Hyperscan cannot compile");
	expect_err(R("sid:1; pcre:\"/a/E\";"), 1, "pcre", "'E'");
	expect_err(R("sid:1; pcre:\"/a/B\";"), 1, "pcre", "rawbytes");
	expect_err(R("sid:1; pcre:\"/a/UH\";"), 1, "pcre", "more than one buffer flag");
	expect_err(R("sid:1; http.uri; pcre:\"/a/U\";"), 1, "pcre", "conflicts with sticky");
	expect_err(R("sid:1; pcre:\"/a/\";"), 1, "pcre", "not in an HTTP buffer");
	expect_err(R("sid:1; pcre:\"/a\";"), 1, "pcre", "missing closing");
	expect_err(R("sid:1; pcre:\"/a/k\";"), 1, "pcre", "unsupported flag 'k'");
	expect_err(R("sid:1; http.uri; pcre:\"/a/\"; content:\"b\"; distance:0;"), 1, "content",
		   "relative to a preceding pcre");
	expect_err(R("sid:1; http.uri; pcre:\"/a/\"; isdataat:1,relative;"), 1, "isdataat",
		   "relative to a preceding pcre");
	expect_err(R("sid:1; flow:stateless; http.uri; content:\"x\";"), 1, "flow", "established");
	expect_err(R("sid:1; http.referer; content:\"a\"; http.stat_code; content:\"200\";"), 1,
		   "http.referer", "only its line, Host and User-Agent");
	expect_err(R("sid:1; flow:to_client; http.accept; content:\"a\";"), 1, "http.accept",
		   "cannot be combined");
	expect_err(R("sid:1; urilen:5, wide;"), 1, "urilen", "neither 'norm' nor 'raw'");
	expect_err(R("sid:1; http.uri; content:\"a\"; flowbits:set;"), 1, "flowbits", "expected noalert");
	expect_err(R("sid:1; http.uri; content:\"a\"; flowbits:isset,a&b;"), 1, "flowbits",
		   "only isset takes several names");
	expect_err(R("sid:1; http.uri; content:\"a\"; flowbits:set,a|b;"), 1, "flowbits",
		   "only isset takes several names");
	expect_err(R("sid:1; http.uri; content:\"a\"; flowbits:setx,a;"), 1, "flowbits",
		   "not supported");
	expect_err(R("sid:1; http.uri; content:\"a\"; flowbits:set,a b;"), 1, "flowbits",
		   "not a flowbit name");
	expect_err(R("sid:1; file_data; content:\"a\"; flowbits:isset,a;"), 1, "flowbits",
		   "body");
	expect_err(R("sid:1; urilen:9<>3;"), 1, "urilen", "min < max");
	expect_err(R("sid:1; urilen:abc;"), 1, "urilen", "not a size");
	expect_err(R("sid:1; flow:only_stream; http.uri; content:\"x\";"), 1, "flow", "no meaning");
	expect_err(R("sid:1; flow:sideways; http.uri; content:\"x\";"), 1, "flow", "unknown flow option");
	expect_err(R("sid:1; flow:to_server,to_client; http.uri; content:\"x\";"), 1, "flow", "mutually exclusive");
	expect_err(R("sid:1; flow:to_server; http.stat_code; content:\"200\";"), 1, "flow", "conflicts with response buffer");
}

static void
test_errors_metadata(void)
{
	const struct mt_attack_technique *dep = NULL, *rev = NULL;
	char rule[256], why[64];

	for (size_t i = 0; i < mt_attack_n_techniques; i++) {
		if (dep == NULL && mt_attack_techniques[i].status == MT_ATTACK_DEPRECATED)
			dep = &mt_attack_techniques[i];
		if (rev == NULL && mt_attack_techniques[i].status == MT_ATTACK_REVOKED)
			rev = &mt_attack_techniques[i];
	}
	CU_ASSERT_FATAL(dep != NULL && rev != NULL);
	snprintf(rule, sizeof(rule), R("sid:1; metadata: mitre_technique_id %s;"), dep->id);
	snprintf(why, sizeof(why), "%s (", dep->id);
	expect_err(rule, 1, "metadata", why);
	expect_err(rule, 1, "metadata", "deprecated");
	snprintf(rule, sizeof(rule), R("sid:1; metadata: mitre_technique_id %s;"), rev->id);
	snprintf(why, sizeof(why), "%s (", rev->id);
	expect_err(rule, 1, "metadata", why);
	expect_err(rule, 1, "metadata", "revoked");
	expect_err(R("sid:1; metadata: mitre_technique_id T9999;"), 1, "metadata", "T9999 is not an ATT&CK");
	expect_err(R("sid:1; metadata: mitre_tactic_id TA9999;"), 1, "metadata", "TA9999");
	expect_err(R("sid:1; metadata: mitre_tactic_id initial-access;"), 1, "metadata", "tactic id");
	expect_err(R("sid:1; metadata: owasp_api API11:2023;"), 1, "metadata", "API11:2023");
	expect_err(R("sid:1; metadata: owasp_api API1:2019;"), 1, "metadata", "API1:2019");
	expect_err(R("sid:1; metadata: owasp_api api1:2023;"), 1, "metadata", "api1:2023");
	expect_err(R("sid:1; metadata: lonelykey;"), 1, "metadata", "key value");
}

static void
test_errors_addresses(void)
{
	expect_err("alert http $NOPE any -> any any (sid:1;)", 1, "source address", "undefined variable '$NOPE'");
	expect_err("alert http 10.0.0.0/33 any -> any any (sid:1;)", 1, "source address", "prefix longer than 32");
	expect_err("alert http any any -> 10.0.0.300 any (sid:1;)", 1, "destination address", "not an address");
	expect_err("alert http !any any -> any any (sid:1;)", 1, "source address", "'!any'");
	expect_err("alert http [1.2.3.4]x any -> any any (sid:1;)", 1, "source address", "unbalanced");
	expect_err("alert http any 70000 -> any any (sid:1;)", 1, "source port", "outside 0..65535");
	expect_err("alert http any 90:80 -> any any (sid:1;)", 1, "source port", "reversed");
	expect_err("alert http any any -> any http (sid:1;)", 1, "destination port", "bad port");
	expect_err("alert http any any -> any [80,] (sid:1;)", 1, "destination port", "empty");
}

static void
test_vars(void)
{
	static const struct mt_var vars[] = {
		{"HOME_NET", "[10.0.0.0/8,$DMZ]"}, {"DMZ", "192.168.1.0/24"},
		{"EXTERNAL_NET", "!$HOME_NET"}, {"HTTP_PORTS", "[80,8080,8000:8100]"},
		{"LOOP_A", "$LOOP_B"}, {"LOOP_B", "$LOOP_A"},
	};
	struct mt_engine_params p = {.vars = vars, .n_vars = 6};
	struct mt_errors er = {0};
	struct mt_engine *e = mt_engine_build_text(&p,
		"alert http $EXTERNAL_NET any -> $HOME_NET $HTTP_PORTS (http.uri; content:\"x\"; sid:1;)",
		"v.rules", &er);
	uint8_t ip[16] = {192, 168, 1, 7};

	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(e->rules[0]->dst.n, 2);
	CU_ASSERT(mt_addr_match(&e->rules[0]->dst, 4, ip));
	CU_ASSERT_FALSE(mt_addr_match(&e->rules[0]->src, 4, ip));
	ip[0] = 8;
	CU_ASSERT(mt_addr_match(&e->rules[0]->src, 4, ip));
	CU_ASSERT_FALSE(mt_addr_match(&e->rules[0]->dst, 4, ip));
	CU_ASSERT(mt_port_match(&e->rules[0]->dp, 8050));
	CU_ASSERT_FALSE(mt_port_match(&e->rules[0]->dp, 443));
	mt_engine_destroy(e);
	e = mt_engine_build_text(&p, "alert http $LOOP_A any -> any any (sid:1;)", "v.rules", &er);
	CU_ASSERT_PTR_NULL(e);
	CU_ASSERT(er.n == 1 && strstr(er.v[0].reason, "too deep") != NULL);
	mt_errors_clear(&er);
}

/* ---------- whole file or nothing ---------- */

static void
test_whole_file(void)
{
	const char *text =
		"# comment line\n"
		"\n"
		"alert http any any -> any any (msg:\"good\"; http.uri; content:\"a\"; sid:1;)\n"
		"   # indented comment\n"
		"alert http any any -> any any (msg:\"bad\"; \\\n"
		"    http.uri; content:\"a\"; bogus; sid:2;)\n"
		"alert http any any -> any any (msg:\"good\"; http.uri; content:\"b\"; sid:3;)\n"
		"alert http any any -> any any (msg:\"dup\"; http.uri; content:\"c\"; sid:1;)\n"
		"alert http any any -> any any (msg:\"other gid\"; http.uri; content:\"c\"; sid:1; gid:2;)\n"
		"alert http any any -> any any (msg:\"bad2\"; http.uri; content:\"x\"; depth:0; sid:5;)\n";
	struct mt_errors er = {0};
	struct mt_engine *e;
	bool bogus = false, dup = false, depth = false;

	errno = 0;
	e = load(text, &er);
	CU_ASSERT_PTR_NULL(e);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(er.n, 2); /* duplicates are checked once parsing succeeded */
	for (size_t i = 0; i < er.n; i++) {
		if (er.v[i].line == 5 && strcmp(er.v[i].keyword, "bogus") == 0)
			bogus = true;
		if (er.v[i].line == 10 && strcmp(er.v[i].keyword, "depth") == 0)
			depth = true;
	}
	CU_ASSERT(bogus);
	CU_ASSERT(depth);
	mt_errors_clear(&er);

	/* the same file without the parse errors: only the duplicate remains */
	text = "alert http any any -> any any (http.uri; content:\"a\"; sid:1;)\n"
	       "alert http any any -> any any (http.uri; content:\"a\"; sid:1; gid:2;)\n"
	       "\n"
	       "alert http any any -> any any (http.uri; content:\"c\"; \\\n  sid:1;)\n";
	e = load(text, &er);
	CU_ASSERT_PTR_NULL(e);
	for (size_t i = 0; i < er.n; i++)
		if (er.v[i].line == 4 && strcmp(er.v[i].keyword, "sid") == 0 &&
		    strstr(er.v[i].reason, "duplicate sid 1 (gid 1), first defined at t.rules:1"))
			dup = true;
	CU_ASSERT(dup);
	CU_ASSERT_EQUAL(er.n, 1);
	mt_errors_clear(&er);

	/* continuation lines and CRLF: one rule, numbered by its first line */
	e = load("\r\nalert http any any -> any any (http.uri; \\\r\n content:\"a\"; \\\r\n sid:9;)\r\n", &er);
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(e->n_rules, 1);
	CU_ASSERT_EQUAL(e->rules[0]->info.line, 2);
	CU_ASSERT_EQUAL(e->rules[0]->info.sid, 9);
	mt_engine_destroy(e);
	/* an empty rule set is valid */
	e = load("# nothing\n", &er);
	CU_ASSERT(e != NULL && mt_engine_rule_count(e) == 0);
	mt_engine_destroy(e);
}

static void
test_files(void)
{
	char good[] = "/tmp/mt_rules_good_XXXXXX", bad[] = "/tmp/mt_rules_bad_XXXXXX";
	int fg = mkstemp(good), fb = mkstemp(bad);
	const char *g = "alert http any any -> any any (http.uri; content:\"a\"; sid:1;)\n";
	const char *b = "\n\nalert http any any -> any any (http.uri; content:\"a\"; sid:2; wat;)\n";
	const char *files[3] = {good, bad, "/nonexistent/x.rules"};
	struct mt_errors er = {0};
	struct mt_engine *e;
	bool bad_line = false, missing = false;

	CU_ASSERT_FATAL(fg >= 0 && fb >= 0);
	CU_ASSERT(write(fg, g, strlen(g)) == (ssize_t)strlen(g));
	CU_ASSERT(write(fb, b, strlen(b)) == (ssize_t)strlen(b));
	close(fg);
	close(fb);
	e = mt_engine_build_files(NULL, files, 1, &er);
	CU_ASSERT(e != NULL && mt_engine_rule_count(e) == 1);
	CU_ASSERT_STRING_EQUAL(mt_engine_rule(e, 0)->file, good);
	mt_engine_destroy(e);
	e = mt_engine_build_files(NULL, files, 3, &er);
	CU_ASSERT_PTR_NULL(e);
	for (size_t i = 0; i < er.n; i++) {
		if (strcmp(er.v[i].file, bad) == 0 && er.v[i].line == 3 && strcmp(er.v[i].keyword, "wat") == 0)
			bad_line = true;
		if (strcmp(er.v[i].file, files[2]) == 0 && strstr(er.v[i].reason, "cannot open"))
			missing = true;
	}
	CU_ASSERT(bad_line);
	CU_ASSERT(missing);
	mt_errors_clear(&er);
	unlink(good);
	unlink(bad);
}

static void
test_classification(void)
{
	struct mt_engine_params p = {.classification_file = TEST_SRCDIR "/configs/classification.config"};
	struct mt_errors er = {0};
	struct mt_engine *fe = mt_engine_build_text(&p, "", "x", &er);
	struct mt_engine *be = mt_engine_build_text(NULL, "", "x", &er);
	char bad[] = "/tmp/mt_class_XXXXXX";
	int fd;
	const char *txt = "config classification: ok,Fine,2\nconfig classification: broken,No prio\n";

	CU_ASSERT_FATAL(fe != NULL && be != NULL);
	/* the built-in table is the shipped file */
	CU_ASSERT(fe->classes.n >= 40);
	CU_ASSERT_EQUAL(fe->classes.n, be->classes.n);
	for (size_t i = 0; i < fe->classes.n && i < be->classes.n; i++) {
		CU_ASSERT_STRING_EQUAL(fe->classes.v[i].name, be->classes.v[i].name);
		CU_ASSERT_STRING_EQUAL(fe->classes.v[i].desc, be->classes.v[i].desc);
		CU_ASSERT_EQUAL(fe->classes.v[i].prio, be->classes.v[i].prio);
	}
	CU_ASSERT_EQUAL(mt_classes_find(&be->classes, "bad-unknown")->prio, 2);
	mt_engine_destroy(fe);
	mt_engine_destroy(be);

	fd = mkstemp(bad);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, txt, strlen(txt)) == (ssize_t)strlen(txt));
	close(fd);
	p.classification_file = bad;
	fe = mt_engine_build_text(&p, "", "x", &er);
	CU_ASSERT_PTR_NULL(fe);
	CU_ASSERT(er.n == 1 && er.v[0].line == 2 && strcmp(er.v[0].keyword, "classification") == 0);
	mt_errors_clear(&er);
	unlink(bad);
	p.classification_file = "/nonexistent/classification.config";
	fe = mt_engine_build_text(&p, "", "x", &er);
	CU_ASSERT_PTR_NULL(fe);
	CU_ASSERT(er.n == 1 && strcmp(er.v[0].keyword, "classification_file") == 0);
	mt_errors_clear(&er);
}

int
main(void)
{
	CU_pSuite su;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	su = CU_add_suite("matchers_rules", NULL, NULL);
	CU_add_test(su, "header_info", test_header_info);
	CU_add_test(su, "content_keywords", test_content_keywords);
	CU_add_test(su, "buffer_keywords", test_buffer_keywords);
	CU_add_test(su, "body_keywords", test_body_keywords);
	CU_add_test(su, "threshold", test_threshold);
	CU_add_test(su, "errors_structure", test_errors_structure);
	CU_add_test(su, "errors_content", test_errors_content);
	CU_add_test(su, "errors_unsupported", test_errors_unsupported);
	CU_add_test(su, "errors_metadata", test_errors_metadata);
	CU_add_test(su, "errors_addresses", test_errors_addresses);
	CU_add_test(su, "vars", test_vars);
	CU_add_test(su, "whole_file", test_whole_file);
	CU_add_test(su, "files", test_files);
	CU_add_test(su, "classification", test_classification);
	return tu_run_all();
}
