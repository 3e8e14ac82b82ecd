/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_rest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

/* Bounds on what a client can make the control plane hold. */
#define CTL_REST_MAX_CONNECTIONS 64
#define CTL_REST_TIMEOUT_S 10
#define CTL_REST_MAX_BODY (1u << 20)

struct ctl_rest {
	struct MHD_Daemon *d;
	struct ctl_rest_actions a;
	unsigned int port;
};

static json_t *
ctl_rest_error(const char *code, const char *msg)
{
	return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
}

unsigned int
ctl_rest_route(const struct ctl_rest_actions *a, const char *method, const char *url,
	       json_t **body)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	struct {
		const char *path;
		json_t *(*fn)(void *);
	} routes[] = {
		{ "/healthz", a->health },
		{ "/api/v1/stats", a->stats },
	};
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(url, routes[i].path) != 0)
			continue;
		if (!get) {
			*body = ctl_rest_error("method_not_allowed", "only GET is allowed here");
			return MHD_HTTP_METHOD_NOT_ALLOWED;
		}
		*body = routes[i].fn(a->arg);
		if (*body == NULL) {
			*body = ctl_rest_error("internal", "the action failed");
			return MHD_HTTP_INTERNAL_SERVER_ERROR;
		}
		return MHD_HTTP_OK;
	}
	*body = ctl_rest_error("not_found", "no such endpoint");
	return MHD_HTTP_NOT_FOUND;
}

static enum MHD_Result
ctl_rest_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		 const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct ctl_rest *r = cls;
	struct MHD_Response *resp;
	json_t *body = NULL;
	unsigned int status;
	enum MHD_Result ret;
	char *text;

	(void)version;
	(void)upload;
	/* First call per request: headers only. Bodies are not taken yet. */
	if (*state == NULL) {
		*state = (void *)1;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		*upload_size = 0;   /* discard: no endpoint takes a body yet */
		return MHD_YES;
	}
	status = ctl_rest_route(&r->a, method, url, &body);
	text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (text == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

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

struct ctl_rest *
ctl_rest_start(const char *listen, const struct ctl_rest_actions *a, char **err)
{
	struct sockaddr_storage ss;
	struct ctl_rest *r;
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (ctl_rest_parse_listen(listen, &ss, err) != 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->a = *a;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	r->d = MHD_start_daemon(flags, 0, NULL, NULL, ctl_rest_handler, r,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CTL_REST_MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CTL_REST_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CTL_REST_MAX_BODY,
				MHD_OPTION_END);
	if (r->d == NULL) {
		if (asprintf(err, "REST: cannot listen on %s (address in use or not local?)",
			     listen) < 0)
			*err = NULL;
		free(r);
		return NULL;
	}
	info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
	r->port = info != NULL ? info->port : 0;
	return r;
}

void
ctl_rest_stop(struct ctl_rest *r)
{
	if (r == NULL)
		return;
	MHD_stop_daemon(r->d);
	free(r);
}

unsigned int
ctl_rest_port(const struct ctl_rest *r)
{
	return r->port;
}
