/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Bearer-token authentication for the REST API.
 *
 * The tokens file holds one "TOKEN ROLE" per line (ROLE is read or admin;
 * blank lines and '#' comments are ignored). Only SHA-256 digests of the
 * tokens are kept in memory, and a presented token is compared with every
 * digest in constant time, so neither timing nor a memory dump gives a
 * token away. A token is named in logs by the first 8 hex digits of its
 * digest.
 */
#ifndef CTL_AUTH_H
#define CTL_AUTH_H

#include <stddef.h>

/** What a request may do. */
enum ctl_role {
	CTL_ROLE_NONE = 0,    /**< not authenticated */
	CTL_ROLE_READ,        /**< GET only */
	CTL_ROLE_ADMIN,       /**< everything */
};

struct ctl_auth;

/**
 * Load a tokens file.
 * @param err receives a malloc'd "FILE:LINE: reason" on failure
 * @return the token set, or NULL (errno set)
 */
struct ctl_auth *ctl_auth_load(const char *path, char **err);

/** As ctl_auth_load() from memory (@p origin names it in errors). */
struct ctl_auth *ctl_auth_parse(const char *text, const char *origin, char **err);

/** Free. */
void ctl_auth_free(struct ctl_auth *a);

/** Number of tokens. */
size_t ctl_auth_count(const struct ctl_auth *a);

/**
 * Check an Authorization header value ("Bearer TOKEN").
 * @param id  receives the token's id (8 hex digits) when known, else ""
 * @return the token's role, or CTL_ROLE_NONE (missing, malformed, unknown)
 */
enum ctl_role ctl_auth_check(const struct ctl_auth *a, const char *header, char id[9]);

/** "read", "admin" or "none". */
const char *ctl_role_name(enum ctl_role r);

#endif
