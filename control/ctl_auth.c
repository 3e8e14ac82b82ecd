/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_auth.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define CTL_DIGEST 32
/* Shorter tokens are too easy to guess to be worth accepting. */
#define CTL_TOKEN_MIN 16
#define CTL_TOKEN_MAX 512

struct ctl_token {
	unsigned char digest[CTL_DIGEST];
	enum ctl_role role;
};

struct ctl_auth {
	struct ctl_token *v;
	size_t n;
};

static int
ctl_sha256(const char *s, size_t len, unsigned char out[CTL_DIGEST])
{
	unsigned int n = 0;

	return EVP_Digest(s, len, out, &n, EVP_sha256(), NULL) == 1 && n == CTL_DIGEST ? 0 : -EIO;
}

static void
ctl_hex_id(const unsigned char *d, char id[9])
{
	snprintf(id, 9, "%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
}

const char *
ctl_role_name(enum ctl_role r)
{
	return r == CTL_ROLE_ADMIN ? "admin" : r == CTL_ROLE_READ ? "read" : "none";
}

void
ctl_auth_free(struct ctl_auth *a)
{
	if (a == NULL)
		return;
	OPENSSL_cleanse(a->v, a->n * sizeof(*a->v));
	free(a->v);
	free(a);
}

size_t
ctl_auth_count(const struct ctl_auth *a)
{
	return a ? a->n : 0;
}

static int
ctl_auth_fail(char **err, const char *origin, unsigned int line, const char *why)
{
	if (err != NULL && asprintf(err, "%s:%u: %s", origin, line, why) < 0)
		*err = NULL;
	errno = EINVAL;
	return -EINVAL;
}

struct ctl_auth *
ctl_auth_parse(const char *text, const char *origin, char **err)
{
	struct ctl_auth *a = calloc(1, sizeof(*a));
	const char *p = text;
	unsigned int line = 0;

	if (a == NULL)
		return NULL;
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char buf[CTL_TOKEN_MAX + 64], *tok, *role, *extra, *save = NULL;
		struct ctl_token *v;
		size_t i;

		line++;
		if (len >= sizeof(buf)) {
			ctl_auth_fail(err, origin, line, "line too long");
			goto fail;
		}
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (eol ? 1 : 0);
		if (len > 0 && buf[len - 1] == '\r')
			buf[len - 1] = '\0';
		tok = strtok_r(buf, " \t", &save);
		if (tok == NULL || tok[0] == '#')
			continue;
		role = strtok_r(NULL, " \t", &save);
		extra = strtok_r(NULL, " \t", &save);
		if (role == NULL || (extra != NULL && extra[0] != '#')) {
			ctl_auth_fail(err, origin, line, "expected \"TOKEN ROLE\" (ROLE: read or admin)");
			goto fail;
		}
		if (strlen(tok) < CTL_TOKEN_MIN) {
			ctl_auth_fail(err, origin, line, "token shorter than 16 characters");
			goto fail;
		}
		for (i = 0; tok[i]; i++)
			if (tok[i] < 0x21 || tok[i] > 0x7e) {
				ctl_auth_fail(err, origin, line, "token must be printable ASCII");
				goto fail;
			}
		v = realloc(a->v, (a->n + 1) * sizeof(*v));
		if (v == NULL)
			goto fail;
		a->v = v;
		if (strcmp(role, "read") == 0)
			a->v[a->n].role = CTL_ROLE_READ;
		else if (strcmp(role, "admin") == 0)
			a->v[a->n].role = CTL_ROLE_ADMIN;
		else {
			ctl_auth_fail(err, origin, line, "unknown role (allowed: read, admin)");
			goto fail;
		}
		if (ctl_sha256(tok, strlen(tok), a->v[a->n].digest) != 0)
			goto fail;
		OPENSSL_cleanse(buf, sizeof(buf));
		for (i = 0; i < a->n; i++)
			if (CRYPTO_memcmp(a->v[i].digest, a->v[a->n].digest, CTL_DIGEST) == 0) {
				ctl_auth_fail(err, origin, line, "duplicate token");
				goto fail;
			}
		a->n++;
	}
	if (a->n == 0) {
		ctl_auth_fail(err, origin, line, "no token in the file");
		goto fail;
	}
	return a;
fail:
	{
		int saved = errno ? errno : EINVAL;

		ctl_auth_free(a);
		errno = saved;
	}
	return NULL;
}

struct ctl_auth *
ctl_auth_load(const char *path, char **err)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	struct ctl_auth *a;
	int saved;

	if (f == NULL) {
		saved = errno;
		if (err != NULL && asprintf(err, "%s: %s", path, strerror(saved)) < 0)
			*err = NULL;
		errno = saved;
		return NULL;
	}
	{
		FILE *m = open_memstream(&text, &len);
		char buf[4096];
		size_t n;

		if (m == NULL) {
			fclose(f);
			return NULL;
		}
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, m);
		fclose(m);
		OPENSSL_cleanse(buf, sizeof(buf));
	}
	fclose(f);
	a = ctl_auth_parse(text ? text : "", path, err);
	saved = errno;
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	errno = saved;
	return a;
}

enum ctl_role
ctl_auth_check(const struct ctl_auth *a, const char *header, char id[9])
{
	unsigned char d[CTL_DIGEST];
	enum ctl_role role = CTL_ROLE_NONE;
	const char *tok;
	size_t i, len;

	id[0] = '\0';
	if (a == NULL || header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return CTL_ROLE_NONE;
	tok = header + 7;
	while (*tok == ' ')
		tok++;
	len = strlen(tok);
	while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
		len--;
	if (len == 0 || len > CTL_TOKEN_MAX || ctl_sha256(tok, len, d) != 0)
		return CTL_ROLE_NONE;
	/* Every digest is compared: the time does not depend on which matched. */
	for (i = 0; i < a->n; i++) {
		bool eq = CRYPTO_memcmp(a->v[i].digest, d, CTL_DIGEST) == 0;

		role = eq ? a->v[i].role : role;
	}
	if (role != CTL_ROLE_NONE)
		ctl_hex_id(d, id);
	return role;
}
