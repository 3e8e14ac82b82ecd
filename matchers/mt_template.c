/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Path templating on the worker: segments that look like identifiers
 * become "{id}" ("GET /api/v1/users/1234/orders/99" ->
 * "/api/v1/users/{id}/orders/{id}"). Identifiers: decimal numbers, UUIDs,
 * long hex, e-mail addresses, digit-rich tokens ("ord-2024-0001") and
 * high-entropy base64url. Literal segments that are really parameters
 * (user names, slugs) are promoted later by the analytics stage once a
 * slot has seen many distinct values; every segment's keyed hash travels
 * in the record for that purpose.
 */
#include "mt_behav_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool
is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!is_hex((uint8_t)s[i])) {
			return false;
		}
	}
	return true;
}

bool
mt_tmpl_segment_is_id(const char *s, size_t n)
{
	size_t digits = 0, hex = 0, alpha = 0, b64 = 0, other = 0, i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];

		if (c >= '0' && c <= '9')
			digits++;
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			alpha++;
		else if (c == '-' || c == '_')
			b64++;
		else if (c == '@')
			return true; /* e-mail address as a key */
		else
			other++;
		hex += is_hex(c);
	}
	if (digits == n)
		return true;
	if (is_uuid(s, n))
		return true;
	if (hex == n && n >= 16 && digits > 0)
		return true;
	if (other)
		return false;
	/* digit-rich tokens: ord-2024-0001, a1b2c3d4, INV00042 */
	if (n >= 5 && digits >= 3 && digits * 3 >= n)
		return true;
	if (n >= 6 && digits >= 2 && alpha > 0 && (n - b64) >= 6 && digits * 4 >= n)
		return true;
	/* opaque base64url keys */
	if (n >= 16 && digits > 0 && alpha > 0 && mt_entropy(s, n) >= 3.5)
		return true;
	return false;
}

void
mt_tmpl_path(const char *path, size_t n, struct mt_tmpl_out *o)
{
	size_t i = 0, off = 0;

	memset(o, 0, sizeof(*o));
	o->obj_slot = 0xff;
	while (i < n) {
		size_t s, len;
		bool id;
		const char *lit;
		size_t litlen;

		while (i < n && path[i] == '/')
			i++;
		if (i >= n)
			break;
		s = i;
		while (i < n && path[i] != '/')
			i++;
		len = i - s;
		id = mt_tmpl_segment_is_id(path + s, len);
		if (o->n_segs < MT_BEHAV_SEGS) {
			o->seg_hash[o->n_segs] = mt_behav_fast_hash(path + s, len);
			o->seg_is_param[o->n_segs] = id;
		}
		if (id) {
			o->obj_slot = o->n_segs < 0xff ? o->n_segs : 0xfe;
			o->obj_hash = mt_behav_fast_hash(path + s, len);
			o->obj_numeric = 0;
			if (len <= 19) {
				uint64_t v = 0;
				size_t k;

				for (k = 0; k < len && path[s + k] >= '0' && path[s + k] <= '9'; k++)
					v = v * 10 + (uint64_t)(path[s + k] - '0');
				if (k == len) {
					o->obj_numeric = 1;
					o->obj_num = v;
				}
			}
			lit = "{id}";
			litlen = 4;
		} else {
			lit = path + s;
			litlen = len;
		}
		if (off + 1 + litlen < sizeof(o->tmpl)) {
			o->tmpl[off++] = '/';
			memcpy(o->tmpl + off, lit, litlen);
			off += litlen;
		}
		if (o->n_segs < 0xff)
			o->n_segs++;
	}
	if (off == 0)
		o->tmpl[off++] = '/';
	o->tmpl[off] = '\0';
	if (o->n_segs > MT_BEHAV_SEGS)
		o->n_segs = MT_BEHAV_SEGS;
}

bool
mt_tmpl_glob(const char *pat, const char *path, size_t n)
{
	size_t pi = 0, i = 0, plen = strlen(pat);

	for (;;) {
		size_t ps, pl, s, l;

		while (pi < plen && pat[pi] == '/')
			pi++;
		while (i < n && path[i] == '/')
			i++;
		if (pi >= plen)
			return i >= n;
		ps = pi;
		while (pi < plen && pat[pi] != '/')
			pi++;
		pl = pi - ps;
		if (pl == 2 && pat[ps] == '*' && pat[ps + 1] == '*')
			return true;
		if (i >= n)
			return false;
		s = i;
		while (i < n && path[i] != '/')
			i++;
		l = i - s;
		if (pl == 1 && pat[ps] == '*')
			continue;
		if (pl != l || strncasecmp(pat + ps, path + s, l) != 0)
			return false;
	}
}

static int
mt_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Parameter name @p (raw, @len bytes) equals @name, caseless, after
 * percent-decoding: "api%5Fkey" is "api_key" to the server, so it must be
 * to us (an evasion otherwise). */
static bool
mt_qname_eq(const char *p, size_t len, const char *name, size_t nl)
{
	size_t i = 0, j = 0;

	while (i < len && j < nl) {
		int c = (unsigned char)p[i];

		if (c == '%' && i + 2 < len &&
		    mt_hexval(p[i + 1]) >= 0 && mt_hexval(p[i + 2]) >= 0) {
			c = mt_hexval(p[i + 1]) << 4 | mt_hexval(p[i + 2]);
			i += 3;
		} else {
			i++;
		}
		if (tolower(c) != tolower((unsigned char)name[j]))
			return false;
		j++;
	}
	return i == len && j == nl;
}

bool
mt_query_get(const char *q, size_t n, const char *name, const char **v, size_t *vlen)
{
	size_t nl = strlen(name), i = 0;

	while (i < n) {
		size_t s = i, e, eq;

		while (i < n && q[i] != '&')
			i++;
		e = i++;
		for (eq = s; eq < e && q[eq] != '='; eq++)
			;
		if (mt_qname_eq(q + s, eq - s, name, nl)) {
			*v = eq < e ? q + eq + 1 : q + e;
			*vlen = eq < e ? e - eq - 1 : 0;
			return true;
		}
	}
	return false;
}
