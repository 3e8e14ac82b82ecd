/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * The dashboard's files, compiled in from control/www/ by embed.py.
 */
#ifndef CTL_WWW_H
#define CTL_WWW_H

#include <stddef.h>

/** One embedded file; the table ends with path == NULL. */
struct ctl_www_file {
	const char *path;          /**< URL path: "/" for index.html, "/app.js", ... */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

extern const struct ctl_www_file ctl_www_files[];

#endif
