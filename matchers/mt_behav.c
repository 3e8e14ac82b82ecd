/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Behaviour module: the detector catalogue (one static mt_rule_info per
 * row of the contract in docs/BEHAVIOUR.md), parameter defaults, and the
 * strict YAML/JSON parameter loader behind GET/PATCH /detectors.
 */
#include "mt_behav.h"
#include "mt_behav_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <yaml.h>

/* ---- catalogue ---- */

#define S(...) ((const char *const[]){ __VA_ARGS__ })
#define N(...) (uint8_t)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))
#define RULE(sid_, sev, desc, tech, tac, ow) { .sid = (sid_), .gid = 1, .rev = 1, \
	.action = MT_ACT_ALERT, .severity = (sev), .priority = (sev), \
	.msg = "APIGUARD behaviour: " desc, .classtype = "api-abuse", .category = "API Abuse", \
	.techniques = S tech, .tactics = S tac, .owasp = S ow, \
	.n_techniques = N tech, .n_tactics = N tac, .n_owasp = N ow, \
	.text = "behaviour detector: " desc, .file = "<behaviour>", .line = 0 }

#define TA_RECON "TA0043"
#define TA_COLL "TA0009"
#define TA_CRED "TA0006"
#define TA_DEF "TA0005"
#define TA_PERS "TA0003"
#define TA_PRIV "TA0004"
#define TA_INIT "TA0001"
#define TA_LAT "TA0008"
#define TA_EXFIL "TA0010"
#define TAC_T1078 (TA_DEF, TA_PERS, TA_PRIV, TA_INIT)

const struct mt_rule_info mt_behav_rules[MT_DET__COUNT] = {
	[MT_DET_BOLA_ENUMERATION] = RULE(2300001, 2, "sequential/enumerated object IDs from one identity on one template",
		("T1595.003", "T1119"), (TA_RECON, TA_COLL), ("API1:2023")),
	[MT_DET_BOLA_MANY_OBJECTS] = RULE(2300002, 2, "one identity reads many distinct objects of one template",
		("T1119", "T1213"), (TA_COLL), ("API1:2023")),
	[MT_DET_BOLA_ERROR_RATIO] = RULE(2300003, 2, "high share of 403/404 for one identity",
		("T1595.003"), (TA_RECON), ("API1:2023")),
	[MT_DET_SCAN_404_SPREAD] = RULE(2300004, 2, "404s spread across many templates (scanner/fuzzer)",
		("T1595.002", "T1595.003"), (TA_RECON), ("API9:2023")),
	[MT_DET_BOLA_FOREIGN_OBJECT] = RULE(2300005, 2, "identity reads objects another identity owns",
		("T1078"), TAC_T1078, ("API1:2023")),
	[MT_DET_BRUTE_FORCE_CLIENT] = RULE(2300010, 2, "many login failures from one client",
		("T1110", "T1110.001"), (TA_CRED), ("API2:2023")),
	[MT_DET_BRUTE_FORCE_USER] = RULE(2300011, 2, "many login failures for one username",
		("T1110", "T1110.001"), (TA_CRED), ("API2:2023")),
	[MT_DET_PASSWORD_SPRAYING] = RULE(2300012, 2, "password spraying: one client failing across many usernames",
		("T1110.003"), (TA_CRED), ("API2:2023")),
	[MT_DET_CREDENTIAL_STUFFING] = RULE(2300013, 2, "credential stuffing: many clients failing across many usernames",
		("T1110.004"), (TA_CRED), ("API2:2023")),
	[MT_DET_LOGIN_AFTER_FAILURES] = RULE(2300014, 2, "login success after a run of failures from a new client",
		("T1078"), TAC_T1078, ("API2:2023")),
	[MT_DET_TOKEN_REUSE] = RULE(2300020, 2, "bearer token or API key used from many clients/networks",
		("T1550.001"), (TA_DEF, TA_LAT), ("API2:2023")),
	[MT_DET_COOKIE_REUSE] = RULE(2300021, 2, "session cookie used from many clients/networks",
		("T1550.004"), (TA_DEF, TA_LAT), ("API2:2023")),
	[MT_DET_JWT_ALG_NONE] = RULE(2300022, 1, "JWT with alg none",
		("T1606.001"), (TA_CRED), ("API2:2023")),
	[MT_DET_JWT_EMPTY_SIGNATURE] = RULE(2300023, 1, "JWT with an empty signature",
		("T1606.001"), (TA_CRED), ("API2:2023")),
	[MT_DET_JWT_EXPIRED] = RULE(2300024, 1, "expired JWT",
		("T1606.001"), (TA_CRED), ("API2:2023")),
	[MT_DET_JWT_HEADER_INJECTION] = RULE(2300025, 1, "JWT header injection (kid path/SQL, jku/x5u URL, embedded jwk)",
		("T1606.001"), (TA_CRED), ("API2:2023")),
	[MT_DET_JWT_BAD_SIGNATURE] = RULE(2300026, 1, "JWT with an invalid signature",
		("T1606.001"), (TA_CRED), ("API2:2023")),
	[MT_DET_APIKEY_IN_URL] = RULE(2300027, 2, "API key or access token in the URL",
		("T1552"), (TA_CRED), ("API2:2023")),
	[MT_DET_PII_CARD] = RULE(2300030, 1, "payment card numbers in a response",
		("T1213", "T1589"), (TA_COLL, TA_RECON), ("API3:2023")),
	[MT_DET_PII_SSN] = RULE(2300031, 2, "US social security numbers in a response",
		("T1213", "T1589"), (TA_COLL, TA_RECON), ("API3:2023")),
	[MT_DET_PII_IBAN] = RULE(2300032, 2, "IBANs in a response",
		("T1213", "T1589"), (TA_COLL, TA_RECON), ("API3:2023")),
	[MT_DET_PII_EMAIL_BULK] = RULE(2300033, 2, "many e-mail addresses in one response",
		("T1213", "T1589.002"), (TA_COLL, TA_RECON), ("API3:2023")),
	[MT_DET_PII_PHONE_BULK] = RULE(2300034, 2, "many phone numbers in one response",
		("T1213", "T1589"), (TA_COLL, TA_RECON), ("API3:2023")),
	[MT_DET_SECRET_PRIVATE_KEY] = RULE(2300040, 1, "private key in a response",
		("T1552.004"), (TA_CRED), ("API8:2023")),
	[MT_DET_SECRET_CLOUD_KEY] = RULE(2300041, 1, "cloud provider key in a response",
		("T1552.001"), (TA_CRED), ("API8:2023")),
	[MT_DET_SECRET_TOKEN] = RULE(2300042, 1, "access token in a response",
		("T1528"), (TA_CRED), ("API8:2023")),
	[MT_DET_SECRET_HIGH_ENTROPY] = RULE(2300043, 1, "high-entropy secret value in a response",
		("T1552"), (TA_CRED), ("API8:2023")),
	[MT_DET_SENSITIVE_UNAUTH] = RULE(2300050, 2, "sensitive data served without authentication",
		("T1213"), (TA_COLL), ("API3:2023", "API9:2023")),
	[MT_DET_EXCESSIVE_DATA] = RULE(2300051, 2, "bytes or records per identity far above usual",
		("T1119", "T1213"), (TA_COLL), ("API4:2023", "API6:2023")),
	[MT_DET_PAGINATION_WALK] = RULE(2300052, 2, "one identity walks the pages of a listing",
		("T1119"), (TA_COLL), ("API6:2023")),
	[MT_DET_LIMIT_ABUSE] = RULE(2300053, 2, "page size parameter far above the usual",
		("T1119"), (TA_COLL), ("API4:2023")),
	/* T1020 Automated Exfiltration: a scripted client pulling data it
	 * has found out through the API, a series of responses, not one;
	 * API3 (the responses expose sensitive properties), API6 (the
	 * business flow "read a record" is used in bulk by automation). */
	[MT_DET_SENSITIVE_EXFIL] = RULE(2300054, 1, "bulk transfer of sensitive data to one identity",
		("T1020"), (TA_EXFIL), ("API3:2023", "API6:2023")),
	[MT_DET_MASS_ASSIGNMENT] = RULE(2300060, 2, "privilege fields in a write request the endpoint never takes",
		("T1098"), (TA_PERS, TA_PRIV), ("API3:2023")),
};

const struct mt_rule_info mt_behav_rule_many_objects_auth =
	RULE(2300002, 2, "one identity reads many distinct objects of one template",
	     ("T1119", "T1213", "T1078"), (TA_COLL, TA_DEF, TA_PERS, TA_PRIV, TA_INIT), ("API1:2023"));

static const char *const det_names[MT_DET__COUNT] = {
	"bola_enumeration", "bola_many_objects", "bola_error_ratio", "scan_404_spread",
	"bola_foreign_object", "brute_force_client", "brute_force_user", "password_spraying",
	"credential_stuffing", "login_after_failures", "token_reuse", "cookie_reuse",
	"jwt_alg_none", "jwt_empty_signature", "jwt_expired", "jwt_header_injection",
	"jwt_bad_signature", "apikey_in_url", "pii_card_numbers", "pii_ssn", "pii_iban",
	"pii_email_bulk", "pii_phone_bulk", "secret_private_key", "secret_cloud_key",
	"secret_token", "secret_high_entropy", "sensitive_unauthenticated", "excessive_data",
	"pagination_walk", "limit_abuse", "sensitive_exfiltration", "mass_assignment",
};

const char *
mt_behav_det_name(enum mt_behav_det d)
{
	return (unsigned)d < MT_DET__COUNT ? det_names[d] : NULL;
}

const struct mt_rule_info *
mt_behav_rule(enum mt_behav_det d)
{
	return (unsigned)d < MT_DET__COUNT ? &mt_behav_rules[d] : NULL;
}

const struct mt_rule_info *
mt_behav_rule_by_sid(uint32_t sid)
{
	for (unsigned i = 0; i < MT_DET__COUNT; i++)
		if (mt_behav_rules[i].sid == sid)
			return &mt_behav_rules[i];
	return NULL;
}

/* ---- defaults ---- */

static void
list_set(struct mt_behav_strlist *l, const char *const *v)
{
	memset(l, 0, sizeof(*l));
	for (; *v && l->n < MT_BEHAV_LIST_MAX; v++)
		snprintf(l->v[l->n++], MT_BEHAV_STR_MAX, "%s", *v);
}

#define LIST(l, ...) list_set(l, (const char *const[]){ __VA_ARGS__, NULL })

static void
det(struct mt_behav_params *p, enum mt_behav_det d, uint32_t window, uint32_t threshold,
    uint32_t min_count, double ratio)
{
	struct mt_behav_det_cfg *c = &p->det[d];

	c->enabled = 1;
	c->action = MT_BEHAV_ALERT;
	c->block_s = 600;
	c->window_s = window;
	c->suppress_s = window ? window : 600;
	c->threshold = threshold;
	c->min_count = min_count;
	c->ratio = ratio;
}

void
mt_behav_params_defaults(struct mt_behav_params *p)
{
	memset(p, 0, sizeof(*p));
	LIST(&p->login_paths, "/login", "/api/*/login", "/api/*/auth/login", "/auth/login",
	     "/oauth/token", "/oauth2/token", "/signin", "/sign-in", "/session", "/sessions",
	     "/api/*/token", "/api/token", "/api/login", "/users/sign_in", "/api/*/sessions");
	LIST(&p->username_fields, "username", "user", "email", "login", "user_name", "userName",
	     "mail", "account");
	LIST(&p->password_fields, "password", "pass", "passwd", "pwd", "secret");
	LIST(&p->login_fail_bodies, "\"error\"", "invalid", "incorrect", "failed");
	p->login_fail_status[0] = 401;
	p->login_fail_status[1] = 403;
	p->login_fail_status[2] = 400;
	p->login_fail_status[3] = 422;
	LIST(&p->apikey_headers, "X-API-Key", "Api-Key", "apikey", "X-Auth-Token", "X-Access-Token");
	LIST(&p->apikey_params, "api_key", "apikey", "key", "access_token", "token", "auth_token");
	LIST(&p->session_cookies, "session", "sessionid", "JSESSIONID", "PHPSESSID", "connect.sid",
	     "sid", "_session", "ASP.NET_SessionId", "laravel_session", "session_id");
	LIST(&p->tenant_claims, "tid", "tenant", "tenant_id", "org_id", "organization");
	LIST(&p->privilege_fields, "role", "roles", "isAdmin", "is_admin", "admin", "permissions",
	     "privileges", "is_staff", "is_superuser", "superuser", "scope", "scopes", "groups",
	     "account_type", "verified", "is_verified");
	LIST(&p->page_params, "page", "page_number", "pageNumber", "pageNo", "p");
	LIST(&p->limit_params, "limit", "size", "per_page", "page_size", "pageSize", "count",
	     "max_results", "$top", "first");
	p->jwt_leeway_s = 60;
	p->promote_after = 50;
	p->scan_max_bytes = 1u << 20;
	p->max_identities = 65536;
	p->max_actor_templates = 65536;
	p->max_clients = 65536;
	p->max_usernames = 65536;
	p->max_credentials = 65536;
	p->max_templates = 4096;
	p->max_owned_objects = 262144;
	p->max_slots = 16384;
	p->max_suppress = 65536;

	det(p, MT_DET_BOLA_ENUMERATION, 600, 20, 20, 3);
	det(p, MT_DET_BOLA_MANY_OBJECTS, 600, 30, 5, 10);
	det(p, MT_DET_BOLA_ERROR_RATIO, 300, 20, 30, 0.5);
	det(p, MT_DET_SCAN_404_SPREAD, 300, 15, 15, 0);
	det(p, MT_DET_BOLA_FOREIGN_OBJECT, 3600, 3, 0, 0);
	det(p, MT_DET_BRUTE_FORCE_CLIENT, 300, 10, 0, 0);
	det(p, MT_DET_BRUTE_FORCE_USER, 300, 10, 0, 0);
	det(p, MT_DET_PASSWORD_SPRAYING, 600, 10, 0, 3);
	det(p, MT_DET_CREDENTIAL_STUFFING, 600, 40, 10, 3);
	det(p, MT_DET_LOGIN_AFTER_FAILURES, 600, 5, 0, 0);
	det(p, MT_DET_TOKEN_REUSE, 600, 5, 0, 0);
	det(p, MT_DET_COOKIE_REUSE, 600, 5, 0, 0);
	det(p, MT_DET_JWT_ALG_NONE, 0, 1, 0, 0);
	det(p, MT_DET_JWT_EMPTY_SIGNATURE, 0, 1, 0, 0);
	det(p, MT_DET_JWT_EXPIRED, 0, 1, 0, 0);
	det(p, MT_DET_JWT_HEADER_INJECTION, 0, 1, 0, 0);
	det(p, MT_DET_JWT_BAD_SIGNATURE, 0, 1, 0, 0);
	det(p, MT_DET_APIKEY_IN_URL, 0, 1, 0, 0);
	det(p, MT_DET_PII_CARD, 0, 1, 3, 0.5);
	det(p, MT_DET_PII_SSN, 0, 1, 0, 0);
	det(p, MT_DET_PII_IBAN, 0, 1, 0, 0);
	det(p, MT_DET_PII_EMAIL_BULK, 0, 20, 0, 0);
	det(p, MT_DET_PII_PHONE_BULK, 0, 20, 0, 0);
	det(p, MT_DET_SECRET_PRIVATE_KEY, 0, 1, 0, 0);
	det(p, MT_DET_SECRET_CLOUD_KEY, 0, 1, 0, 0);
	det(p, MT_DET_SECRET_TOKEN, 0, 1, 0, 0);
	det(p, MT_DET_SECRET_HIGH_ENTROPY, 0, 1, 0, 0);
	det(p, MT_DET_SENSITIVE_UNAUTH, 0, 1, 3, 0);
	det(p, MT_DET_EXCESSIVE_DATA, 600, 10240, 5000, 10);
	det(p, MT_DET_PAGINATION_WALK, 600, 20, 0, 0);
	det(p, MT_DET_LIMIT_ABUSE, 3600, 1000, 20, 10);
	det(p, MT_DET_SENSITIVE_EXFIL, 3600, 4096, 250, 10);
	det(p, MT_DET_MASS_ASSIGNMENT, 0, 20, 0, 0.05);
}

/* ---- loader ---- */

struct ld {
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

static int
ld_fail(struct ld *l, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	va_list ap;
	char why[192];

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (l->err && l->errlen)
		snprintf(l->err, l->errlen, "line %zu: %s: %s",
			 n ? n->start_mark.line + 1 : (size_t)0, key, why);
	return -EINVAL;
}

static const char *
scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int
ld_u32(struct ld *l, const yaml_node_t *n, const char *key, uint32_t lo, uint32_t hi, uint32_t *out)
{
	const char *s = scalar(n);
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0' || *s == '-')
		return ld_fail(l, n, key, "expected an integer in [%u, %u]", lo, hi);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return ld_fail(l, n, key, "expected an integer in [%u, %u], got \"%s\"", lo, hi, s);
	*out = (uint32_t)v;
	return 0;
}

static int
ld_double(struct ld *l, const yaml_node_t *n, const char *key, double lo, double hi, double *out)
{
	const char *s = scalar(n);
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return ld_fail(l, n, key, "expected a number in [%g, %g]", lo, hi);
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= lo && v <= hi))
		return ld_fail(l, n, key, "expected a number in [%g, %g], got \"%s\"", lo, hi, s);
	*out = v;
	return 0;
}

static int
ld_bool(struct ld *l, const yaml_node_t *n, const char *key, uint8_t *out)
{
	const char *s = scalar(n);

	if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")))
		*out = 1;
	else if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")))
		*out = 0;
	else
		return ld_fail(l, n, key, "expected true or false");
	return 0;
}

static int
ld_str(struct ld *l, const yaml_node_t *n, const char *key, char *out, size_t cap)
{
	const char *s = scalar(n);

	if (s == NULL)
		return ld_fail(l, n, key, "expected a string");
	if (strlen(s) >= cap)
		return ld_fail(l, n, key, "longer than %zu bytes", cap - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int
ld_list(struct ld *l, const yaml_node_t *n, const char *key, struct mt_behav_strlist *out)
{
	struct mt_behav_strlist tmp;
	yaml_node_item_t *it;

	if (n->type != YAML_SEQUENCE_NODE)
		return ld_fail(l, n, key, "expected a list of strings");
	memset(&tmp, 0, sizeof(tmp));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(l->doc, *it);

		if (tmp.n >= MT_BEHAV_LIST_MAX)
			return ld_fail(l, e, key, "at most %d entries", MT_BEHAV_LIST_MAX);
		if (ld_str(l, e, key, tmp.v[tmp.n], MT_BEHAV_STR_MAX) < 0)
			return -EINVAL;
		if (tmp.v[tmp.n][0] == '\0')
			return ld_fail(l, e, key, "empty entry");
		tmp.n++;
	}
	*out = tmp;
	return 0;
}

typedef int (*ld_fn)(struct ld *l, const yaml_node_t *n, const char *key, void *ctx);

struct ld_key {
	const char *name;
	ld_fn fn;
	void *ctx;
};

static int
ld_map(struct ld *l, const yaml_node_t *n, const char *where, const struct ld_key *keys, size_t nk)
{
	yaml_node_pair_t *pr;

	if (n->type != YAML_MAPPING_NODE)
		return ld_fail(l, n, where, "expected a mapping");
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(l->doc, pr->value);
		const char *ks = scalar(k);
		char full[160];
		size_t i;

		if (ks == NULL)
			return ld_fail(l, k, where, "keys must be strings");
		snprintf(full, sizeof(full), "%s%s%s", where, *where ? "." : "", ks);
		for (i = 0; i < nk && strcmp(keys[i].name, ks) != 0; i++)
			;
		if (i == nk)
			return ld_fail(l, k, full, "unknown key");
		if (keys[i].fn(l, v, full, keys[i].ctx) < 0)
			return -EINVAL;
	}
	return 0;
}

static int
f_list(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	return ld_list(l, n, key, ctx);
}

static int
f_u32_1m(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	return ld_u32(l, n, key, 1, 100000000, ctx);
}

static int
f_u32_cap(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	return ld_u32(l, n, key, 16, 16777216, ctx);
}

static int
f_leeway(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	return ld_u32(l, n, key, 0, 86400, ctx);
}

static int
f_status(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	uint16_t *out = ctx, tmp[8] = { 0 };
	unsigned k = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return ld_fail(l, n, key, "expected a list of status codes");
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(l->doc, *it);
		uint32_t v = 0;

		if (k >= 7)
			return ld_fail(l, e, key, "at most 7 status codes");
		if (ld_u32(l, e, key, 100, 599, &v) < 0)
			return -EINVAL;
		tmp[k++] = (uint16_t)v;
	}
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

static int
f_proxies(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	struct mt_behav_params *p = ctx;
	struct mt_behav_cidr tmp[MT_BEHAV_LIST_MAX];
	uint32_t k = 0;

	memset(tmp, 0, sizeof(tmp));
	if (n->type != YAML_SEQUENCE_NODE)
		return ld_fail(l, n, key, "expected a list of CIDRs");
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(l->doc, *it);
		const char *s = scalar(e);

		if (k >= MT_BEHAV_LIST_MAX)
			return ld_fail(l, e, key, "at most %d entries", MT_BEHAV_LIST_MAX);
		if (s == NULL || mt_behav_cidr_parse(s, &tmp[k]) < 0)
			return ld_fail(l, e, key, "expected an address or CIDR (10.0.0.0/8, 2001:db8::/32)");
		k++;
	}
	memcpy(p->proxies, tmp, sizeof(tmp));
	p->n_proxies = k;
	return 0;
}

struct key_ctx {
	struct mt_behav_jwt_key *k;
	bool have_material;
};

static int
f_key_alg(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	struct key_ctx *kc = ctx;
	const char *s = scalar(n);

	if (s == NULL || (strcmp(s, "HS256") && strcmp(s, "RS256") && strcmp(s, "ES256")))
		return ld_fail(l, n, key, "expected HS256, RS256 or ES256");
	snprintf(kc->k->alg, sizeof(kc->k->alg), "%s", s);
	return 0;
}

static int
f_key_kid(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	struct key_ctx *kc = ctx;

	return ld_str(l, n, key, kc->k->kid, sizeof(kc->k->kid));
}

static int
f_key_material(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	struct key_ctx *kc = ctx;

	kc->have_material = true;
	if (ld_str(l, n, key, kc->k->material, sizeof(kc->k->material)) < 0)
		return -EINVAL;
	if (kc->k->material[0] == '\0')
		return ld_fail(l, n, key, "empty key");
	return 0;
}

static int
f_keys(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	struct mt_behav_params *p = ctx;
	struct mt_behav_jwt_key *tmp = calloc(MT_BEHAV_KEYS_MAX, sizeof(*tmp));
	uint32_t k = 0;
	int rc = 0;

	if (tmp == NULL)
		return ld_fail(l, n, key, "out of memory");
	if (n->type != YAML_SEQUENCE_NODE) {
		rc = ld_fail(l, n, key, "expected a list of {alg, kid, secret|pem}");
		goto out;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(l->doc, *it);
		struct key_ctx kc = { &tmp[k], false };
		const struct ld_key keys[] = {
			{ "alg", f_key_alg, &kc }, { "kid", f_key_kid, &kc },
			{ "secret", f_key_material, &kc }, { "pem", f_key_material, &kc },
		};

		if (k >= MT_BEHAV_KEYS_MAX) {
			rc = ld_fail(l, e, key, "at most %d keys", MT_BEHAV_KEYS_MAX);
			goto out;
		}
		if ((rc = ld_map(l, e, key, keys, 4)) < 0)
			goto out;
		if (tmp[k].alg[0] == '\0' || !kc.have_material) {
			rc = ld_fail(l, e, key, "each key needs alg and secret (HS256) or pem");
			goto out;
		}
		k++;
	}
	memcpy(p->jwt_keys, tmp, sizeof(p->jwt_keys));
	p->n_jwt_keys = k;
out:
	free(tmp);
	return rc;
}

static int
f_action(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	uint8_t *a = ctx;
	const char *s = scalar(n);

	if (s && !strcmp(s, "alert"))
		*a = MT_BEHAV_ALERT;
	else if (s && !strcmp(s, "block_identity"))
		*a = MT_BEHAV_BLOCK_IDENTITY;
	else if (s && !strcmp(s, "block_client"))
		*a = MT_BEHAV_BLOCK_CLIENT;
	else
		return ld_fail(l, n, key, "expected alert, block_identity or block_client");
	return 0;
}

static int
f_bool(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	return ld_bool(l, n, key, ctx);
}

static int
f_secs(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	return ld_u32(l, n, key, 0, 604800, ctx);
}

static int
f_count(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	return ld_u32(l, n, key, 0, 1000000000, ctx);
}

static int
f_ratio(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	return ld_double(l, n, key, 0, 1000000, ctx);
}

static int
f_det(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	struct mt_behav_det_cfg *c = ctx;
	const struct ld_key keys[] = {
		{ "enabled", f_bool, &c->enabled }, { "action", f_action, &c->action },
		{ "block_seconds", f_secs, &c->block_s }, { "window", f_secs, &c->window_s },
		{ "suppress", f_secs, &c->suppress_s }, { "threshold", f_count, &c->threshold },
		{ "min_count", f_count, &c->min_count }, { "ratio", f_ratio, &c->ratio },
	};

	return ld_map(l, n, key, keys, sizeof(keys) / sizeof(keys[0]));
}

static int
f_sub(struct ld *l, const yaml_node_t *n, const char *key, void *ctx)
{
	const struct { const struct ld_key *k; size_t n; } *s = ctx;

	return ld_map(l, n, key, s->k, s->n);
}

int
mt_behav_params_load(struct mt_behav_params *out, const char *text, size_t len, char *err,
		     size_t errlen)
{
	struct mt_behav_params *p = malloc(sizeof(*p));
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct ld l = { &doc, err, errlen };
	int rc;

	if (p == NULL)
		return -ENOMEM;
	*p = *out;
	if (err && errlen)
		err[0] = '\0';
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		if (err && errlen)
			snprintf(err, errlen, "line %zu: %s", parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		free(p);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) { /* empty document: nothing to change */
		rc = 0;
		goto done;
	}
	{
		const struct ld_key login[] = {
			{ "paths", f_list, &p->login_paths },
			{ "username_fields", f_list, &p->username_fields },
			{ "password_fields", f_list, &p->password_fields },
			{ "failure_bodies", f_list, &p->login_fail_bodies },
			{ "failure_status", f_status, p->login_fail_status },
		};
		const struct ld_key ident[] = {
			{ "api_key_headers", f_list, &p->apikey_headers },
			{ "api_key_params", f_list, &p->apikey_params },
			{ "session_cookies", f_list, &p->session_cookies },
			{ "tenant_claims", f_list, &p->tenant_claims },
			{ "trusted_proxies", f_proxies, p },
		};
		const struct ld_key jwt[] = {
			{ "leeway", f_leeway, &p->jwt_leeway_s },
			{ "allowed_jku_hosts", f_list, &p->jwt_allowed_jku_hosts },
			{ "keys", f_keys, p },
		};
		const struct ld_key fields[] = {
			{ "privilege", f_list, &p->privilege_fields },
			{ "page", f_list, &p->page_params },
			{ "limit", f_list, &p->limit_params },
		};
		const struct ld_key tmpl[] = { { "promote_after", f_u32_1m, &p->promote_after } };
		const struct ld_key scan[] = { { "max_bytes", f_u32_1m, &p->scan_max_bytes } };
		const struct ld_key limits[] = {
			{ "identities", f_u32_cap, &p->max_identities },
			{ "actor_templates", f_u32_cap, &p->max_actor_templates },
			{ "clients", f_u32_cap, &p->max_clients },
			{ "usernames", f_u32_cap, &p->max_usernames },
			{ "credentials", f_u32_cap, &p->max_credentials },
			{ "templates", f_u32_cap, &p->max_templates },
			{ "owned_objects", f_u32_cap, &p->max_owned_objects },
			{ "slots", f_u32_cap, &p->max_slots },
			{ "suppress", f_u32_cap, &p->max_suppress },
		};
		struct ld_key dets[MT_DET__COUNT];
		struct { const struct ld_key *k; size_t n; }
			s_login = { login, 5 }, s_ident = { ident, 5 }, s_jwt = { jwt, 3 },
			s_fields = { fields, 3 }, s_tmpl = { tmpl, 1 }, s_scan = { scan, 1 },
			s_limits = { limits, 9 }, s_dets = { dets, MT_DET__COUNT };
		const struct ld_key top[] = {
			{ "login", f_sub, &s_login }, { "identity", f_sub, &s_ident },
			{ "jwt", f_sub, &s_jwt }, { "fields", f_sub, &s_fields },
			{ "templates", f_sub, &s_tmpl }, { "scan", f_sub, &s_scan },
			{ "limits", f_sub, &s_limits }, { "detectors", f_sub, &s_dets },
		};

		for (unsigned i = 0; i < MT_DET__COUNT; i++)
			dets[i] = (struct ld_key){ det_names[i], f_det, &p->det[i] };
		rc = ld_map(&l, root, "", top, sizeof(top) / sizeof(top[0]));
	}
done:
	if (rc == 0) {
		/* a key list that cannot be parsed would fail at worker creation */
		struct mt_jwt_keyset *ks = mt_jwt_keyset_create(p);

		if (ks == NULL && errno != 0) {
			if (err && errlen)
				snprintf(err, errlen, "jwt.keys: a PEM key does not parse or does not match its alg");
			rc = -EINVAL;
		}
		mt_jwt_keyset_destroy(ks);
	}
	if (rc == 0)
		*out = *p;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(p);
	return rc;
}

/* ---- export ---- */

static json_t *
jlist(const struct mt_behav_strlist *l)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static const char *const action_names[] = { "alert", "block_identity", "block_client" };

char *
mt_behav_params_to_json(const struct mt_behav_params *p)
{
	json_t *o = json_object(), *x, *a;
	char *s;

	x = json_object();
	json_object_set_new(x, "paths", jlist(&p->login_paths));
	json_object_set_new(x, "username_fields", jlist(&p->username_fields));
	json_object_set_new(x, "password_fields", jlist(&p->password_fields));
	json_object_set_new(x, "failure_bodies", jlist(&p->login_fail_bodies));
	a = json_array();
	for (unsigned i = 0; i < 8 && p->login_fail_status[i]; i++)
		json_array_append_new(a, json_integer(p->login_fail_status[i]));
	json_object_set_new(x, "failure_status", a);
	json_object_set_new(o, "login", x);

	x = json_object();
	json_object_set_new(x, "api_key_headers", jlist(&p->apikey_headers));
	json_object_set_new(x, "api_key_params", jlist(&p->apikey_params));
	json_object_set_new(x, "session_cookies", jlist(&p->session_cookies));
	json_object_set_new(x, "tenant_claims", jlist(&p->tenant_claims));
	a = json_array();
	for (uint32_t i = 0; i < p->n_proxies; i++) {
		char buf[64], ip[48];

		inet_ntop(p->proxies[i].family == 4 ? AF_INET : AF_INET6, p->proxies[i].addr, ip,
			  sizeof(ip));
		snprintf(buf, sizeof(buf), "%s/%u", ip, p->proxies[i].prefix);
		json_array_append_new(a, json_string(buf));
	}
	json_object_set_new(x, "trusted_proxies", a);
	json_object_set_new(o, "identity", x);

	x = json_object();
	json_object_set_new(x, "leeway", json_integer(p->jwt_leeway_s));
	json_object_set_new(x, "allowed_jku_hosts", jlist(&p->jwt_allowed_jku_hosts));
	a = json_array();
	for (uint32_t i = 0; i < p->n_jwt_keys; i++) {
		json_t *k = json_object();

		json_object_set_new(k, "alg", json_string(p->jwt_keys[i].alg));
		json_object_set_new(k, "kid", json_string(p->jwt_keys[i].kid));
		json_object_set_new(k, strcmp(p->jwt_keys[i].alg, "HS256") ? "pem" : "secret",
				    json_string("<redacted>"));
		json_array_append_new(a, k);
	}
	json_object_set_new(x, "keys", a);
	json_object_set_new(o, "jwt", x);

	x = json_object();
	json_object_set_new(x, "privilege", jlist(&p->privilege_fields));
	json_object_set_new(x, "page", jlist(&p->page_params));
	json_object_set_new(x, "limit", jlist(&p->limit_params));
	json_object_set_new(o, "fields", x);
	json_object_set_new(o, "templates", json_pack("{s:i}", "promote_after", (json_int_t)p->promote_after));
	json_object_set_new(o, "scan", json_pack("{s:i}", "max_bytes", (json_int_t)p->scan_max_bytes));
	json_object_set_new(o, "limits", json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}",
		"identities", (json_int_t)p->max_identities,
		"actor_templates", (json_int_t)p->max_actor_templates,
		"clients", (json_int_t)p->max_clients, "usernames", (json_int_t)p->max_usernames,
		"credentials", (json_int_t)p->max_credentials, "templates", (json_int_t)p->max_templates,
		"owned_objects", (json_int_t)p->max_owned_objects, "slots", (json_int_t)p->max_slots,
		"suppress", (json_int_t)p->max_suppress));
	x = json_object();
	for (unsigned i = 0; i < MT_DET__COUNT; i++) {
		const struct mt_behav_det_cfg *c = &p->det[i];
		json_t *d = json_object();

		json_object_set_new(d, "enabled", json_boolean(c->enabled));
		json_object_set_new(d, "action", json_string(action_names[c->action < 3 ? c->action : 0]));
		json_object_set_new(d, "block_seconds", json_integer(c->block_s));
		json_object_set_new(d, "window", json_integer(c->window_s));
		json_object_set_new(d, "suppress", json_integer(c->suppress_s));
		json_object_set_new(d, "threshold", json_integer(c->threshold));
		json_object_set_new(d, "min_count", json_integer(c->min_count));
		json_object_set_new(d, "ratio", json_real(c->ratio));
		json_object_set_new(d, "sid", json_integer(mt_behav_rules[i].sid));
		json_object_set_new(x, det_names[i], d);
	}
	json_object_set_new(o, "detectors", x);
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}
