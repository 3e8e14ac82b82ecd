/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rule addresses and ports: any, CIDRs, ranges, [lists], !negation and
 * $VARIABLES (which may refer to other variables). Lists are flattened
 * into entries carrying their effective negation; a value matches when it
 * matches some positive entry (or there is none) and no negative entry.
 */
#include "mt_engine_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MT_ADDR_MAX 256
#define MT_VAR_DEPTH 16

struct flat {
	bool port;
	int n;
	struct mt_cidr a[MT_ADDR_MAX];
	struct mt_prange p[MT_ADDR_MAX];
	char *why;
	size_t whylen;
	const struct mt_engine_params *params;
};

static const char *
var_lookup(const struct mt_engine_params *p, const char *name, size_t len)
{
	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < p->n_vars; i++)
		if (strlen(p->vars[i].name) == len && strncmp(p->vars[i].name, name, len) == 0)
			return p->vars[i].value;
	return NULL;
}

static int
fail(struct flat *f, const char *fmt, const char *arg)
{
	snprintf(f->why, f->whylen, fmt, arg);
	return -EINVAL;
}

static int add_any(struct flat *f, bool neg)
{
	if (neg)
		return fail(f, "%s'!any' matches nothing", "");
	if (f->n == MT_ADDR_MAX)
		return fail(f, "%stoo many list entries", "");
	if (f->port)
		f->p[f->n++] = (struct mt_prange){0, 65535, 0};
	else
		f->a[f->n++] = (struct mt_cidr){.family = 0};
	return 0;
}

static int
parse_leaf(struct flat *f, const char *s, bool neg)
{
	char tmp[128];
	char *slash;

	if (f->n == MT_ADDR_MAX)
		return fail(f, "%stoo many list entries", "");
	if (strlen(s) >= sizeof(tmp))
		return fail(f, "'%.60s' is too long", s);
	strcpy(tmp, s);
	if (f->port) {
		char *colon = strchr(tmp, ':'), *end;
		long lo = 0, hi = 65535;

		if (colon != NULL) {
			*colon = '\0';
			if (tmp[0] != '\0') {
				lo = strtol(tmp, &end, 10);
				if (*end || !isdigit((unsigned char)tmp[0]))
					return fail(f, "bad port range '%s'", s);
			}
			if (colon[1] != '\0') {
				hi = strtol(colon + 1, &end, 10);
				if (*end || !isdigit((unsigned char)colon[1]))
					return fail(f, "bad port range '%s'", s);
			}
		} else {
			lo = hi = strtol(tmp, &end, 10);
			if (*end || !isdigit((unsigned char)tmp[0]))
				return fail(f, "bad port '%s'", s);
		}
		if (lo < 0 || hi > 65535 || lo > hi)
			return fail(f, "port range '%s' outside 0..65535 or reversed", s);
		f->p[f->n++] = (struct mt_prange){(uint16_t)lo, (uint16_t)hi, neg};
		return 0;
	}
	{
		struct mt_cidr c = {.neg = neg};
		long pfx = -1;
		char *end;

		slash = strchr(tmp, '/');
		if (slash != NULL) {
			*slash = '\0';
			pfx = strtol(slash + 1, &end, 10);
			if (*end || !isdigit((unsigned char)slash[1]))
				return fail(f, "bad prefix length in '%s'", s);
		}
		if (inet_pton(AF_INET, tmp, c.addr) == 1) {
			c.family = 4;
			if (pfx > 32)
				return fail(f, "IPv4 prefix longer than 32 in '%s'", s);
			c.prefix = (uint8_t)(pfx < 0 ? 32 : pfx);
		} else if (inet_pton(AF_INET6, tmp, c.addr) == 1) {
			c.family = 6;
			if (pfx > 128)
				return fail(f, "IPv6 prefix longer than 128 in '%s'", s);
			c.prefix = (uint8_t)(pfx < 0 ? 128 : pfx);
		} else {
			return fail(f, "'%s' is not an address, CIDR, list or variable", s);
		}
		f->a[f->n++] = c;
		return 0;
	}
}

static int parse_expr(struct flat *f, const char *s, size_t len, bool neg, int depth);

static int
parse_list(struct flat *f, const char *s, size_t len, bool neg, int depth)
{
	size_t i = 0, start = 0;
	int nest = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] == '[')
			nest++;
		else if (i < len && s[i] == ']')
			nest--;
		if (i == len || (s[i] == ',' && nest == 0)) {
			if (parse_expr(f, s + start, i - start, neg, depth) < 0)
				return -EINVAL;
			start = i + 1;
		}
	}
	return 0;
}

static int
parse_expr(struct flat *f, const char *s, size_t len, bool neg, int depth)
{
	char tmp[128];

	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return fail(f, "%sempty address or port entry", "");
	if (depth > MT_VAR_DEPTH)
		return fail(f, "%svariables nest too deep (a loop?)", "");
	if (*s == '!')
		return parse_expr(f, s + 1, len - 1, !neg, depth);
	if (*s == '[') {
		if (s[len - 1] != ']')
			return fail(f, "%sunbalanced '['", "");
		return parse_list(f, s + 1, len - 2, neg, depth);
	}
	if (*s == '$') {
		const char *v = var_lookup(f->params, s + 1, len - 1);
		if (v == NULL) {
			snprintf(tmp, sizeof(tmp), "%.*s", (int)len, s);
			return fail(f, "undefined variable '%s'", tmp);
		}
		return parse_expr(f, v, strlen(v), neg, depth + 1);
	}
	if (len == 3 && strncmp(s, "any", 3) == 0)
		return add_any(f, neg);
	if (len >= sizeof(tmp))
		return fail(f, "%sentry too long", "");
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return parse_leaf(f, tmp, neg);
}

/* Parse @s flat (addresses or ports) and copy the result into @pool:
 * @n_out and @v_out receive the count and the array of @esz-byte items. */
static int
parse_flat(struct mt_pool *pool, const struct mt_engine_params *p, const char *s, bool port,
	   size_t esz, uint16_t *n_out, void **v_out, char *why, size_t whylen)
{
	struct flat *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	f->port = port;
	f->why = why;
	f->whylen = whylen;
	f->params = p;
	rc = parse_expr(f, s, strlen(s), false, 0);
	if (rc == 0) {
		*n_out = (uint16_t)f->n;
		*v_out = mt_pool_alloc(pool, esz * (size_t)(f->n + 1));
		if (*v_out == NULL)
			rc = -ENOMEM;
		else
			memcpy(*v_out, port ? (const void *)f->p : (const void *)f->a,
			       esz * (size_t)f->n);
	}
	free(f);
	return rc;
}

int
mt_addr_parse(struct mt_pool *pool, const struct mt_engine_params *p, const char *s,
	      struct mt_addrset *out, char *why, size_t whylen)
{
	void *v = NULL;
	int rc = parse_flat(pool, p, s, false, sizeof(struct mt_cidr), &out->n, &v, why, whylen);

	out->v = v;
	return rc;
}

int
mt_port_parse(struct mt_pool *pool, const struct mt_engine_params *p, const char *s,
	      struct mt_portset *out, char *why, size_t whylen)
{
	void *v = NULL;
	int rc = parse_flat(pool, p, s, true, sizeof(struct mt_prange), &out->n, &v, why, whylen);

	out->v = v;
	return rc;
}

static bool
cidr_match(const struct mt_cidr *c, uint8_t family, const uint8_t *ip)
{
	unsigned full, rem;

	if (c->family == 0)
		return true;
	if (c->family != family)
		return false;
	full = c->prefix / 8u;
	rem = c->prefix % 8u;
	if (memcmp(c->addr, ip, full) != 0)
		return false;
	if (rem == 0)
		return true;
	return ((c->addr[full] ^ ip[full]) & (uint8_t)(0xff00u >> rem)) == 0;
}

bool
mt_addr_match(const struct mt_addrset *a, uint8_t family, const uint8_t *ip)
{
	bool have_pos = false, pos = false;

	for (uint16_t i = 0; i < a->n; i++) {
		const struct mt_cidr *c = &a->v[i];
		if (c->neg) {
			if (cidr_match(c, family, ip))
				return false;
		} else {
			have_pos = true;
			pos = pos || cidr_match(c, family, ip);
		}
	}
	return !have_pos || pos;
}

bool
mt_port_match(const struct mt_portset *a, uint16_t port)
{
	bool have_pos = false, pos = false;

	for (uint16_t i = 0; i < a->n; i++) {
		const struct mt_prange *r = &a->v[i];
		bool in = port >= r->lo && port <= r->hi;
		if (r->neg) {
			if (in)
				return false;
		} else {
			have_pos = true;
			pos = pos || in;
		}
	}
	return !have_pos || pos;
}
