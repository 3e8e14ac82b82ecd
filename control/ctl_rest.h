/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * REST control plane on libmicrohttpd (its own thread, never a worker).
 * Handlers only decode the request, call one action function and encode
 * the answer; the actions live with the state they act on.
 */
#ifndef CTL_REST_H
#define CTL_REST_H

#include <jansson.h>

/** Actions the REST server calls (from its own thread). */
struct ctl_rest_actions {
	/** Every counter; caller (the server) frees the result. */
	json_t *(*stats)(void *arg);
	/** Liveness and basic facts. */
	json_t *(*health)(void *arg);
	void *arg;
};

struct ctl_rest;

/**
 * Start listening on @p listen ("127.0.0.1:8088" or "[::1]:8088").
 * @param err receives a malloc'd message on failure
 * @return server or NULL
 */
struct ctl_rest *ctl_rest_start(const char *listen, const struct ctl_rest_actions *a,
				char **err);

/** Stop and free. */
void ctl_rest_stop(struct ctl_rest *r);

/** Port actually bound (useful with port 0). */
unsigned int ctl_rest_port(const struct ctl_rest *r);

/**
 * Route one request to a status code and a JSON body (exposed for tests).
 * @return HTTP status; *body set (caller decrefs).
 */
unsigned int ctl_rest_route(const struct ctl_rest_actions *a, const char *method,
			    const char *url, json_t **body);

#endif
