/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_rest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "ctl_auth.h"
#include "ctl_eve.h"
#include "ctl_www.h"

/* A client must not keep a connection thread forever without talking. */
#define CTL_REST_TIMEOUT_S 30
/* Header and read buffers per connection; bodies are copied out. */
#define CTL_REST_CONN_MEMORY (256u << 10)
/* An SSE stream checks for the server stopping this often. */
#define CTL_REST_SSE_POLL_MS 500

struct ctl_rest {
	struct MHD_Daemon *d;
	struct ctl_api *api;
	struct ctl_auth *auth;        /* NULL: loopback clients only */
	char *tls_cert, *tls_key;     /* PEM kept for the daemon's lifetime */
	FILE *audit;
	pthread_mutex_t audit_lock;
	size_t max_body;
	unsigned int heartbeat_ms;
	unsigned int max_streams;
	unsigned int max_connections;
	unsigned int n_streams;       /* atomic */
	int stopping;                 /* atomic */
	unsigned int port;
};

/* Per-request state, from the first call to the completion callback. */
struct ctl_req {
	enum ctl_route route;
	const char *arg;
	char *body;
	size_t len, cap;
	bool too_large;
	bool replied;                 /* a reply was queued before the body */
	enum ctl_role role;
	char token_id[9];
	char client[INET6_ADDRSTRLEN];
	size_t max_body;              /* the limit when the request began */
};

/* ---- routing ---------------------------------------------------------------- */

unsigned int
ctl_rest_method_bit(const char *m)
{
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return CTL_M_GET;
	if (strcmp(m, "POST") == 0)
		return CTL_M_POST;
	if (strcmp(m, "PUT") == 0)
		return CTL_M_PUT;
	if (strcmp(m, "DELETE") == 0)
		return CTL_M_DELETE;
	if (strcmp(m, "PATCH") == 0)
		return CTL_M_PATCH;
	return 0;
}

/* The one non-empty path segment after @p prefix, or NULL. (A loop, not
 * strchr on url + constant: GCC's overread check misfires on that.) */
static const char *
ctl_rest_tail(const char *url, const char *prefix)
{
	size_t n = strlen(prefix), i;

	if (strncmp(url, prefix, n) != 0 || url[n] == '\0')
		return NULL;
	for (i = n; url[i] != '\0'; i++)
		if (url[i] == '/')
			return NULL;
	return url + n;
}

enum ctl_route
ctl_rest_match(const char *url, unsigned int *allowed, const char **arg)
{
	static const struct {
		const char *path;
		enum ctl_route r;
		unsigned int m;
	} routes[] = {
		{ "/healthz", CTL_R_HEALTHZ, CTL_M_GET },
		{ "/readyz", CTL_R_READYZ, CTL_M_GET },
		{ "/metrics", CTL_R_METRICS, CTL_M_GET },
		{ "/api/v1/status", CTL_R_STATUS, CTL_M_GET },
		{ "/api/v1/stats", CTL_R_STATS, CTL_M_GET },
		{ "/api/v1/config", CTL_R_CONFIG, CTL_M_GET },
		{ "/api/v1/openapi.json", CTL_R_OPENAPI, CTL_M_GET },
		{ "/api/v1/rules", CTL_R_RULES, CTL_M_GET | CTL_M_POST },
		{ "/api/v1/rules/reload", CTL_R_RULES_RELOAD, CTL_M_POST },
		{ "/api/v1/config/reload", CTL_R_CONFIG_RELOAD, CTL_M_POST },
		{ "/api/v1/alerts", CTL_R_ALERTS, CTL_M_GET },
		{ "/api/v1/alerts/stream", CTL_R_ALERTS_STREAM, CTL_M_GET },
		{ "/api/v1/attack/layer", CTL_R_LAYER, CTL_M_GET },
		{ "/api/v1/endpoints", CTL_R_ENDPOINTS, CTL_M_GET },
		{ "/api/v1/endpoints/openapi", CTL_R_OPENAPI_IMPORT, CTL_M_POST },
		{ "/api/v1/detectors", CTL_R_DETECTORS, CTL_M_GET | CTL_M_PATCH },
		{ "/api/v1/blocklist", CTL_R_BLOCKLIST, CTL_M_GET | CTL_M_POST },
		{ "/api/v1/campaigns", CTL_R_CAMPAIGNS, CTL_M_GET },
	};
	static const char camp_prefix[] = "/api/v1/campaigns/";
	static const char rule_prefix[] = "/api/v1/rules/";
	static const char block_prefix[] = "/api/v1/blocklist/";
	const struct ctl_www_file *w;
	size_t i;

	*allowed = 0;
	*arg = NULL;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(url, routes[i].path) == 0) {
			*allowed = routes[i].m;
			return routes[i].r;
		}
	if ((*arg = ctl_rest_tail(url, rule_prefix)) != NULL) {
		*allowed = CTL_M_GET | CTL_M_PUT | CTL_M_DELETE;
		return CTL_R_RULE;
	}
	/* Keys hold ':' (client:2001:db8::1) but never '/'. */
	if ((*arg = ctl_rest_tail(url, block_prefix)) != NULL) {
		*allowed = CTL_M_DELETE;
		return CTL_R_BLOCK;
	}
	if ((*arg = ctl_rest_tail(url, camp_prefix)) != NULL) {
		*allowed = CTL_M_GET;
		return CTL_R_CAMPAIGN;
	}
	if (strncmp(url, camp_prefix, sizeof(camp_prefix) - 1) == 0) {
		/* {id}/layer: the id is copied out by the handler. */
		const char *id = url + sizeof(camp_prefix) - 1, *sl = strchr(id, '/');

		if (sl != NULL && sl > id && strcmp(sl, "/layer") == 0) {
			*arg = id;
			*allowed = CTL_M_GET;
			return CTL_R_CAMPAIGN_LAYER;
		}
		*arg = NULL;
	}
	for (w = ctl_www_files; w->path != NULL; w++)
		if (strcmp(url, w->path) == 0) {
			*allowed = CTL_M_GET;
			return CTL_R_STATIC;
		}
	return CTL_R_NONE;
}

static void
ctl_rest_allow_header(unsigned int m, char *buf, size_t len)
{
	static const struct { unsigned int bit; const char *name; } names[] = {
		{ CTL_M_GET, "GET, HEAD" }, { CTL_M_POST, "POST" }, { CTL_M_PUT, "PUT" },
		{ CTL_M_DELETE, "DELETE" }, { CTL_M_PATCH, "PATCH" },
	};
	size_t off = 0, i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (m & names[i].bit)
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
						off ? ", " : "", names[i].name);
}

/* ---- replies ------------------------------------------------------------------ */

static enum MHD_Result
ctl_rest_send(struct MHD_Connection *c, unsigned int status, char *text, size_t len,
	      const char *ctype, const char *allow)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text,
								    MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (allow != NULL)
		MHD_add_response_header(resp, "Allow", allow);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"apiguard\"");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Encode @p body (reference taken) as the reply. */
static enum MHD_Result
ctl_rest_json(struct MHD_Connection *c, unsigned int status, json_t *body, const char *allow)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(body);
	if (text == NULL)
		return MHD_NO;
	return ctl_rest_send(c, status, text, strlen(text), "application/json", allow);
}

static void
ctl_rest_audit(struct ctl_rest *r, const struct ctl_req *q, const char *method, const char *url,
	       unsigned int status)
{
	char ts[64], m8[64], u8[1024], t8[128];
	struct timespec now;
	json_t *o;
	char *line;

	if (r->audit == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	ctl_eve_timestamp((uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec, ts,
			  sizeof(ts));
	ctl_utf8_clean(m8, sizeof(m8), method);
	ctl_utf8_clean(u8, sizeof(u8), url);
	ctl_utf8_clean(t8, sizeof(t8), q->token_id);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "time", ts, "token", t8,
		      "role", r->auth ? ctl_role_name(q->role) : "loopback", "client", q->client,
		      "method", m8, "path", u8, "status", (int)status,
		      "outcome", status < 300 ? "ok" : status == 401 || status == 403 ? "denied" :
				 "error");
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (line == NULL)
		return;
	pthread_mutex_lock(&r->audit_lock);
	fprintf(r->audit, "%s\n", line);
	fflush(r->audit);
	pthread_mutex_unlock(&r->audit_lock);
	free(line);
}

/* ---- Server-Sent Events -------------------------------------------------------- */

struct ctl_sse {
	struct ctl_rest *r;
	struct ctl_alert_filter f;
	char technique[16], owasp[24], src[INET6_ADDRSTRLEN];
	uint64_t cursor;
	uint64_t last_send_ns;
	char *buf;
	size_t len, off;
};

static uint64_t
ctl_rest_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Fill s->buf with the next events (or a heartbeat); false: end the stream. */
static bool
ctl_sse_refill(struct ctl_sse *s)
{
	struct ctl_rest *r = s->r;

	free(s->buf);
	s->buf = NULL;
	s->len = s->off = 0;
	for (;;) {
		struct ctl_alert_filter f = s->f;
		uint64_t next = s->cursor, now;
		json_t *arr, *o;
		size_t i;
		int w;

		if (__atomic_load_n(&r->stopping, __ATOMIC_ACQUIRE))
			return false;
		f.since = s->cursor;
		f.limit = 64;
		arr = ctl_alerts_query(r->api->alerts, &f, &next);
		s->cursor = next;
		if (json_array_size(arr) > 0) {
			FILE *m = open_memstream(&s->buf, &s->len);

			if (m == NULL) {
				json_decref(arr);
				return false;
			}
			json_array_foreach(arr, i, o) {
				char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

				if (t != NULL)
					fprintf(m, "id: %lld\nevent: alert\ndata: %s\n\n",
						(long long)json_integer_value(json_object_get(o, "cursor")),
						t);
				free(t);
			}
			fclose(m);
			json_decref(arr);
			s->last_send_ns = ctl_rest_now_ns();
			return true;
		}
		json_decref(arr);
		now = ctl_rest_now_ns();
		if (now - s->last_send_ns >= (uint64_t)r->heartbeat_ms * 1000000ull) {
			/* A comment line: keeps proxies and the client's timer alive. */
			if (asprintf(&s->buf, ": heartbeat %llu\n\n",
				     (unsigned long long)ctl_alerts_last(r->api->alerts)) < 0) {
				s->buf = NULL;
				return false;
			}
			s->len = strlen(s->buf);
			s->last_send_ns = now;
			return true;
		}
		w = ctl_alerts_wait(r->api->alerts, s->cursor, CTL_REST_SSE_POLL_MS);
		if (w < 0)
			return false;
	}
}

static ssize_t
ctl_sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ctl_sse *s = cls;
	size_t n;

	(void)pos;
	if (s->off >= s->len && !ctl_sse_refill(s))
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(buf, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void
ctl_sse_free(void *cls)
{
	struct ctl_sse *s = cls;

	__atomic_fetch_sub(&s->r->n_streams, 1, __ATOMIC_ACQ_REL);
	free(s->buf);
	free(s);
}

static enum MHD_Result
ctl_rest_stream(struct ctl_rest *r, struct MHD_Connection *c, const struct ctl_api_alert_args *q)
{
	struct ctl_alert_filter f;
	json_t *err = NULL;
	unsigned int st = ctl_api_alert_filter(q, &f, &err);
	const char *last_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	struct MHD_Response *resp;
	struct ctl_sse *s;
	enum MHD_Result ret;

	if (st != 0)
		return ctl_rest_json(c, st, err, NULL);
	if (q->since == NULL && last_id != NULL) {
		struct ctl_api_alert_args q2 = { .since = last_id };
		struct ctl_alert_filter f2;

		if (ctl_api_alert_filter(&q2, &f2, &err) != 0)
			return ctl_rest_json(c, MHD_HTTP_BAD_REQUEST, err, NULL);
		f.since = f2.since;
	} else if (q->since == NULL) {
		/* A new stream starts with what happens from now on. */
		f.since = ctl_alerts_last(r->api->alerts);
	}
	if (__atomic_add_fetch(&r->n_streams, 1, __ATOMIC_ACQ_REL) > r->max_streams) {
		__atomic_fetch_sub(&r->n_streams, 1, __ATOMIC_ACQ_REL);
		return ctl_rest_json(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				     ctl_api_error("too_many_streams",
						   "at most %u alert streams at a time", r->max_streams),
				     NULL);
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		__atomic_fetch_sub(&r->n_streams, 1, __ATOMIC_ACQ_REL);
		return MHD_NO;
	}
	s->r = r;
	s->f = f;
	/* The filter's strings point into the connection; keep copies. */
	if (f.technique) {
		snprintf(s->technique, sizeof(s->technique), "%s", f.technique);
		s->f.technique = s->technique;
	}
	if (f.owasp) {
		snprintf(s->owasp, sizeof(s->owasp), "%s", f.owasp);
		s->f.owasp = s->owasp;
	}
	if (f.src) {
		snprintf(s->src, sizeof(s->src), "%s", f.src);
		s->f.src = s->src;
	}
	s->cursor = f.since;
	s->last_send_ns = ctl_rest_now_ns();
	s->buf = strdup("retry: 2000\n: connected\n\n");
	s->len = s->buf ? strlen(s->buf) : 0;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, ctl_sse_read, s,
						 ctl_sse_free);
	if (resp == NULL) {
		ctl_sse_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- dispatch ------------------------------------------------------------------- */

static const char *
ctl_rest_arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static const char *
ctl_rest_ctype(struct MHD_Connection *c)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
}

static enum MHD_Result
ctl_rest_dispatch(struct ctl_rest *r, struct MHD_Connection *c, struct ctl_req *q,
		  const char *method, const char *url)
{
	struct ctl_api *api = r->api;
	unsigned int m = ctl_rest_method_bit(method), st = MHD_HTTP_INTERNAL_SERVER_ERROR;
	json_t *out = NULL;
	char *text = NULL;
	bool write = m != CTL_M_GET;
	enum MHD_Result ret;

	switch (q->route) {
	case CTL_R_READYZ: st = ctl_api_ready(api, &out); break;
	case CTL_R_STATUS: st = ctl_api_status(api, &out); break;
	case CTL_R_STATS: st = ctl_api_stats(api, &out); break;
	case CTL_R_CONFIG: st = ctl_api_config(api, &out); break;
	case CTL_R_OPENAPI: st = ctl_api_openapi(api, &out); break;
	case CTL_R_METRICS: {
		char *doc = NULL;

		st = ctl_api_metrics(api, &doc);
		if (doc != NULL)
			return ctl_rest_send(c, st, doc, strlen(doc),
					     "text/plain; version=0.0.4; charset=utf-8", NULL);
		break;
	}
	case CTL_R_LAYER: st = ctl_api_attack_layer(api, ctl_rest_arg(c, "kind"), &out); break;
	case CTL_R_ALERTS:
	case CTL_R_ALERTS_STREAM: {
		struct ctl_api_alert_args a = {
			.since = ctl_rest_arg(c, "since"), .limit = ctl_rest_arg(c, "limit"),
			.sid = ctl_rest_arg(c, "sid"), .technique = ctl_rest_arg(c, "technique"),
			.owasp = ctl_rest_arg(c, "owasp"), .src = ctl_rest_arg(c, "src"),
		};

		if (q->route == CTL_R_ALERTS_STREAM)
			return ctl_rest_stream(r, c, &a);
		st = ctl_api_alerts(api, &a, &out);
		break;
	}
	case CTL_R_RULES:
		if (m == CTL_M_GET) {
			st = ctl_api_rules_list(api, &out);
			break;
		}
		/* POST */
		__attribute__((fallthrough));
	case CTL_R_RULE:
		if (m == CTL_M_GET) {
			st = ctl_api_rule_get(api, q->arg, &out);
		} else if (m == CTL_M_DELETE) {
			st = ctl_api_rule_delete(api, q->arg, &out);
		} else {
			const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								     MHD_HTTP_HEADER_CONTENT_TYPE);

			st = ctl_api_decode_rules(ct, q->body ? q->body : "", q->len, &text, &out);
			if (st == 0)
				st = q->route == CTL_R_RULES ? ctl_api_rules_add(api, text, &out) :
					ctl_api_rule_put(api, q->arg, text, &out);
			free(text);
		}
		break;
	case CTL_R_RULES_RELOAD: st = ctl_api_rules_reload(api, &out); break;
	case CTL_R_CONFIG_RELOAD: st = ctl_api_config_reload(api, &out); break;
	case CTL_R_ENDPOINTS: st = ctl_api_endpoints(api, ctl_rest_arg(c, "format"), &out); break;
	case CTL_R_OPENAPI_IMPORT:
		st = ctl_api_openapi_import(api, ctl_rest_ctype(c), q->body, q->len, &out);
		break;
	case CTL_R_DETECTORS:
		if (m == CTL_M_GET)
			st = ctl_api_detectors_get(api, &out);
		else
			st = ctl_api_detectors_patch(api, ctl_rest_ctype(c), q->body, q->len, &out);
		break;
	case CTL_R_BLOCKLIST:
		if (m == CTL_M_GET)
			st = ctl_api_blocklist_list(api, &out);
		else
			st = ctl_api_blocklist_add(api, ctl_rest_ctype(c), q->body, q->len, &out);
		break;
	case CTL_R_BLOCK: st = ctl_api_blocklist_delete(api, q->arg, &out); break;
	case CTL_R_CAMPAIGNS: {
		struct ctl_api_campaign_args a = {
			.stage = ctl_rest_arg(c, "stage"), .tactic = ctl_rest_arg(c, "tactic"),
			.since = ctl_rest_arg(c, "since"), .until = ctl_rest_arg(c, "until"),
			.open = ctl_rest_arg(c, "open"), .limit = ctl_rest_arg(c, "limit"),
		};

		st = ctl_api_campaigns(api, &a, &out);
		break;
	}
	case CTL_R_CAMPAIGN: st = ctl_api_campaign_get(api, q->arg, &out); break;
	case CTL_R_CAMPAIGN_LAYER: {
		char id[24];
		size_t n = strcspn(q->arg, "/");

		snprintf(id, sizeof(id), "%.*s", (int)(n < sizeof(id) ? n : sizeof(id) - 1), q->arg);
		st = ctl_api_campaign_layer(api, n < sizeof(id) ? id : "", &out);
		break;
	}
	default:
		out = ctl_api_error("not_found", "no such endpoint");
		st = MHD_HTTP_NOT_FOUND;
		break;
	}
	if (out == NULL)
		out = ctl_api_error("internal", "the action failed");
	if (write)
		ctl_rest_audit(r, q, method, url, st);
	ret = ctl_rest_json(c, st, out, NULL);
	return ret;
}

static void
ctl_rest_client(struct MHD_Connection *c, char *buf, size_t len, bool *loopback)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	*loopback = false;
	snprintf(buf, len, "?");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, buf, (socklen_t)len);
		*loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len);
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
			    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
	}
}

static enum MHD_Result
ctl_rest_static(struct MHD_Connection *c, const char *url)
{
	const struct ctl_www_file *w;

	for (w = ctl_www_files; w->path != NULL; w++)
		if (strcmp(url, w->path) == 0) {
			struct MHD_Response *resp = MHD_create_response_from_buffer(
				w->len, (void *)w->data, MHD_RESPMEM_PERSISTENT);
			enum MHD_Result ret;

			if (resp == NULL)
				return MHD_NO;
			MHD_add_response_header(resp, "Content-Type", w->content_type);
			MHD_add_response_header(resp, "Cache-Control", "no-cache");
			MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
			/* Everything the page loads comes from this server. */
			MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; connect-src 'self'; img-src 'self' data:; "
				"style-src 'self'; script-src 'self'; frame-ancestors 'none'");
			ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
			MHD_destroy_response(resp);
			return ret;
		}
	return MHD_NO;
}

/*
 * First call of a request: headers only. Decide everything that does not
 * need the body (auth, route, method, role, declared size) and reply at
 * once when the request is refused.
 */
static enum MHD_Result
ctl_rest_first(struct ctl_rest *r, struct MHD_Connection *c, struct ctl_req *q,
	       const char *url, const char *method)
{
	unsigned int allowed, m = ctl_rest_method_bit(method);
	bool loopback;
	char allow[64];
	const char *cl;
	json_t *err = NULL;
	unsigned int st = 0;

	ctl_rest_client(c, q->client, sizeof(q->client), &loopback);
	q->route = ctl_rest_match(url, &allowed, &q->arg);
	if (q->route == CTL_R_HEALTHZ && m == CTL_M_GET) {
		ctl_api_health(r->api, &err);
		q->replied = true;
		return ctl_rest_json(c, MHD_HTTP_OK, err, NULL);
	}
	if (q->route == CTL_R_STATIC && m == CTL_M_GET) {
		q->replied = true;
		return ctl_rest_static(c, url);
	}
	if (r->auth != NULL) {
		q->role = ctl_auth_check(r->auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						MHD_HTTP_HEADER_AUTHORIZATION), q->token_id);
		if (q->role == CTL_ROLE_NONE) {
			st = MHD_HTTP_UNAUTHORIZED;
			err = ctl_api_error("unauthorized", "a valid bearer token is required");
		}
	} else if (!loopback) {
		st = MHD_HTTP_FORBIDDEN;
		err = ctl_api_error("forbidden", "no tokens file is configured: loopback clients only");
	} else {
		q->role = CTL_ROLE_ADMIN;
	}
	if (st == 0 && q->route == CTL_R_NONE) {
		st = MHD_HTTP_NOT_FOUND;
		err = ctl_api_error("not_found", "no such endpoint");
	}
	allow[0] = '\0';
	if (st == 0 && !(m & allowed)) {
		st = MHD_HTTP_METHOD_NOT_ALLOWED;
		ctl_rest_allow_header(allowed, allow, sizeof(allow));
		err = ctl_api_error("method_not_allowed", "%s is not allowed here (allowed: %s)",
				    method, allow);
	}
	if (st == 0 && m != CTL_M_GET && q->role != CTL_ROLE_ADMIN) {
		st = MHD_HTTP_FORBIDDEN;
		err = ctl_api_error("forbidden", "the read role cannot change anything");
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (st == 0 && cl != NULL) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(cl, &end, 10);
		if (errno != 0 || *end != '\0' || v > q->max_body) {
			st = MHD_HTTP_CONTENT_TOO_LARGE;
			err = ctl_api_error("too_large", "request bodies are limited to %zu bytes",
					    q->max_body);
		}
	}
	if (st == 0)
		return MHD_YES;
	q->replied = true;
	if (m != CTL_M_GET)
		ctl_rest_audit(r, q, method, url, st);
	return ctl_rest_json(c, st, err, allow[0] ? allow : NULL);
}

static enum MHD_Result
ctl_rest_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
		 const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct ctl_rest *r = cls;
	struct ctl_req *q = *state;

	(void)version;
	if (q == NULL) {
		q = calloc(1, sizeof(*q));
		if (q == NULL)
			return MHD_NO;
		*state = q;
		/* A reload may change the limit: one request keeps one. */
		q->max_body = __atomic_load_n(&r->max_body, __ATOMIC_RELAXED);
		return ctl_rest_first(r, c, q, url, method);
	}
	if (q->replied) {
		*upload_size = 0;   /* refused already: discard the body */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (q->len + *upload_size > q->max_body) {
			q->too_large = true;
		} else {
			if (q->len + *upload_size + 1 > q->cap) {
				size_t cap = (q->len + *upload_size + 1) * 2;
				char *b = realloc(q->body, cap > q->max_body + 1 ? q->max_body + 1 : cap);

				if (b == NULL)
					return MHD_NO;
				q->body = b;
				q->cap = cap > q->max_body + 1 ? q->max_body + 1 : cap;
			}
			memcpy(q->body + q->len, upload, *upload_size);
			q->len += *upload_size;
			q->body[q->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	q->replied = true;
	if (q->too_large) {
		ctl_rest_audit(r, q, method, url, MHD_HTTP_CONTENT_TOO_LARGE);
		return ctl_rest_json(c, MHD_HTTP_CONTENT_TOO_LARGE,
				     ctl_api_error("too_large", "request bodies are limited to %zu bytes",
						   q->max_body), NULL);
	}
	return ctl_rest_dispatch(r, c, q, method, url);
}

static void
ctl_rest_completed(void *cls, struct MHD_Connection *c, void **state,
		   enum MHD_RequestTerminationCode toe)
{
	struct ctl_req *q = *state;

	(void)cls;
	(void)c;
	(void)toe;
	if (q != NULL) {
		free(q->body);
		free(q);
		*state = NULL;
	}
}

/* ---- start / stop ------------------------------------------------------------ */

static int
ctl_rest_parse_listen(const char *listen, struct sockaddr_storage *ss, char **err)
{
	char host[128];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hl;

	if (listen[0] == '[') {
		const char *rb = strchr(listen, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		hl = (size_t)(rb - listen - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, listen + 1, hl);
		host[hl] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - listen);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, listen, hl);
		host[hl] = '\0';
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port > 65535 || end == colon + 1)
		goto bad;
	memset(ss, 0, sizeof(*ss));
	if (listen[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			goto bad;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad;
	}
	return 0;
bad:
	if (asprintf(err, "rest.listen '%s': expected IPv4:PORT or [IPv6]:PORT", listen) < 0)
		*err = NULL;
	return -EINVAL;
}

static char *
ctl_rest_slurp(const char *path, char **err)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	char chunk[4096];
	size_t n;

	if (f == NULL) {
		if (asprintf(err, "REST TLS: %s: %s", path, strerror(errno)) < 0)
			*err = NULL;
		return NULL;
	}
	m = open_memstream(&buf, &len);
	if (m == NULL) {
		fclose(f);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(m);
	fclose(f);
	return buf;
}

static void
ctl_rest_free(struct ctl_rest *r)
{
	if (r->audit != NULL)
		fclose(r->audit);
	ctl_auth_free(r->auth);
	if (r->tls_key != NULL) {
		memset(r->tls_key, 0, strlen(r->tls_key));
		free(r->tls_key);
	}
	free(r->tls_cert);
	pthread_mutex_destroy(&r->audit_lock);
	free(r);
}

struct ctl_rest *
ctl_rest_start(const struct ctl_rest_params *p, struct ctl_api *api, char **err)
{
	struct sockaddr_storage ss;
	struct ctl_rest *r;
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_ERROR_LOG;
	unsigned int timeout = CTL_REST_TIMEOUT_S;
	bool tls = p->tls_cert && p->tls_cert[0] && p->tls_key && p->tls_key[0];

	*err = NULL;
	if (ctl_rest_parse_listen(p->listen, &ss, err) != 0)
		return NULL;
	if ((p->tls_cert && p->tls_cert[0]) != (p->tls_key && p->tls_key[0])) {
		if (asprintf(err, "REST TLS needs both rest.tls-cert and rest.tls-key") < 0)
			*err = NULL;
		return NULL;
	}
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		if (asprintf(err, "REST TLS: libmicrohttpd was built without TLS") < 0)
			*err = NULL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	pthread_mutex_init(&r->audit_lock, NULL);
	r->api = api;
	r->max_body = p->max_body ? p->max_body : (1u << 20);
	r->heartbeat_ms = (p->sse_heartbeat ? p->sse_heartbeat : 15) * 1000u;
	r->max_streams = p->max_streams ? p->max_streams : 8;
	r->max_connections = p->max_connections ? p->max_connections : 64u;
	if (r->heartbeat_ms / 1000u * 2 > timeout)
		timeout = r->heartbeat_ms / 1000u * 2;
	if (p->tokens_file != NULL && p->tokens_file[0] != '\0') {
		char *e = NULL;

		r->auth = ctl_auth_load(p->tokens_file, &e);
		if (r->auth == NULL) {
			if (asprintf(err, "rest.tokens-file: %s", e ? e : strerror(errno)) < 0)
				*err = NULL;
			free(e);
			ctl_rest_free(r);
			return NULL;
		}
	}
	api->tokens = r->auth != NULL;
	api->tls = tls;
	if (p->audit_log != NULL) {
		r->audit = fopen(p->audit_log, "a");
		if (r->audit == NULL) {
			if (asprintf(err, "rest.audit-log %s: %s", p->audit_log, strerror(errno)) < 0)
				*err = NULL;
			ctl_rest_free(r);
			return NULL;
		}
	}
	if (tls) {
		r->tls_cert = ctl_rest_slurp(p->tls_cert, err);
		r->tls_key = r->tls_cert ? ctl_rest_slurp(p->tls_key, err) : NULL;
		if (r->tls_key == NULL) {
			ctl_rest_free(r);
			return NULL;
		}
		flags |= MHD_USE_TLS;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	r->d = MHD_start_daemon(flags, 0, NULL, NULL, ctl_rest_handler, r,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, r->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CTL_REST_CONN_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, ctl_rest_completed, r,
		tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, r->tls_cert,
		MHD_OPTION_HTTPS_MEM_KEY, r->tls_key,
		MHD_OPTION_END);
	if (r->d == NULL) {
		if (asprintf(err, "REST: cannot listen on %s (address in use, not local, or bad "
			     "TLS key/certificate?)", p->listen) < 0)
			*err = NULL;
		ctl_rest_free(r);
		return NULL;
	}
	info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
	r->port = info != NULL ? info->port : 0;
	return r;
}

void
ctl_rest_set_max_body(struct ctl_rest *r, size_t max_body)
{
	if (r != NULL && max_body > 0)
		__atomic_store_n(&r->max_body, max_body, __ATOMIC_RELAXED);
}

void
ctl_rest_stop(struct ctl_rest *r)
{
	if (r == NULL)
		return;
	/* Streams see the flag within CTL_REST_SSE_POLL_MS and end, so that
	 * stopping the daemon (which joins connection threads) returns. */
	__atomic_store_n(&r->stopping, 1, __ATOMIC_RELEASE);
	MHD_stop_daemon(r->d);
	ctl_rest_free(r);
}

unsigned int
ctl_rest_port(const struct ctl_rest *r)
{
	return r->port;
}
