/* gen_http.h - realistic JSON API requests/responses and attack requests
 * for apiguard-gen. Everything here is text; TCP lives elsewhere.
 */
#ifndef GEN_HTTP_H
#define GEN_HTTP_H

#include <stdint.h>
#include "gen_util.h"

/* X-macro: attack kind id and its manifest/CLI name. */
#define GEN_ATTACKS(X)            \
	X(SQLI, "sqli")           \
	X(TRAVERSAL, "traversal") \
	X(LOG4SHELL, "log4shell") \
	X(SCANNER, "scanner")     \
	X(XSS, "xss")             \
	X(SSRF, "ssrf")           \
	X(CMDI, "cmdi")           \
	X(JWT_NONE, "jwt_none")   \
	X(ADMIN, "admin")         \
	X(APIKEY_URL, "apikey_url")

enum gen_attack {
#define GEN_X(id, name) GEN_ATK_##id,
	GEN_ATTACKS(GEN_X)
#undef GEN_X
	GEN_ATK_COUNT,
	GEN_ATK_NONE = -1,
};

/** @return the CLI/manifest name of attack kind @p k. */
const char *gen_attack_name(int k);

/** @return attack kind for @p name, or GEN_ATK_NONE. */
int gen_attack_by_name(const char *name);

/* Identity of one client connection: the same browser/app keeps its
 * User-Agent, token and cookies for the life of a keep-alive session. */
struct gen_ident {
	const char *user_agent;
	const char *accept_language;
	char host[40];
	char jwt_payload[512]; /* base64url payload, reused by jwt_none */
	char auth[768];        /* "Bearer <jwt>" */
	char cookie[384];
	uint32_t user_id;
	uint8_t first, last;   /* name indexes */
	uint64_t now_s;        /* session start, for iat/exp */
};

/** Fill a client identity. @p server_idx picks the Host name. */
void gen_ident_init(struct gen_ident *id, struct gen_rng *r,
		    unsigned server_idx, uint64_t now_s);

/* What to generate for one request. */
struct gen_req_opts {
	int attack;          /* GEN_ATK_NONE or the kind to send */
	int allow_expect;    /* may use Expect: 100-continue */
	int force_expect;    /* must use it (needs a body route) */
	int allow_head;      /* may be HEAD; not when pipelined, since
			      * dissectors (tshark) pair a response with the
			      * latest request and would expect no body */
	int force_head;      /* must be a HEAD request */
	int conn_close;      /* send Connection: close */
	double expect_share; /* chance a body request uses 100-continue */
	double head_share;   /* chance of a HEAD request */
};

/* Result of request generation, consumed by the response generator. */
struct gen_req_info {
	int route;
	int attack;
	const char *method;
	size_t uri_off;       /* URI inside the request bytes */
	size_t uri_len;
	size_t head_len;      /* bytes up to and including the blank line */
	size_t total_len;
	int expect_continue;
	int is_head;
	int conn_close;
	int if_none_match;
	uint32_t id1, id2, page, limit;
	char request_id[40];
};

/**
 * Append one HTTP/1.1 request to @p b (its start is b->len on entry).
 */
void gen_http_request(struct gen_sb *b, struct gen_rng *r,
		      const struct gen_ident *id, const struct gen_req_opts *o,
		      struct gen_req_info *q);

/* Response summary. */
struct gen_resp_info {
	int status;
	int has_body;
	int chunked;
};

/**
 * Append the final response to request @p q.
 * @param chunked  use Transfer-Encoding: chunked when there is a body
 * @param ts_us    capture time, for the Date header
 */
void gen_http_response(struct gen_sb *b, struct gen_rng *r,
		       const struct gen_ident *id,
		       const struct gen_req_info *q, int chunked,
		       uint64_t ts_us, struct gen_resp_info *ri);

/** Append "HTTP/1.1 100 Continue\r\n\r\n". */
void gen_http_continue(struct gen_sb *b);

#endif /* GEN_HTTP_H */
