/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWT (compact JWS) decoding and verification.
 *
 * Decoding runs on the worker hot path: base64url into fixed buffers and
 * a flat, non-allocating JSON lookup (JWT headers and claim sets are flat
 * objects; nested values are skipped). Verification: HS256 with our own
 * HMAC (no heap), RS256 and ES256 through OpenSSL EVP (which allocates;
 * the worker caches results per token, see mt_behav_rec.c).
 */
#include "mt_behav.h"
#include "mt_behav_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

static int
b64val(uint8_t c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

long
mt_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap, bool url)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0, i;

	while (n && in[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		int v = b64val((uint8_t)in[i], url);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 6) /* a lone trailing character carries no byte */
		return -1;
	return (long)o;
}

/* ---- flat JSON ---- */

static size_t
skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* i at the opening quote; @return index after the closing quote or n+1. */
static size_t
skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n + 1;
}

static size_t
skip_value(const char *s, size_t n, size_t i)
{
	int depth = 0;

	while (i < n) {
		char c = s[i];

		if (c == '"') {
			i = skip_string(s, n, i);
			if (i > n)
				return i;
			if (depth == 0)
				return i;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',')) {
			return i;
		}
		i++;
	}
	return i;
}

enum mt_jtype
mt_json_find(const char *js, size_t n, const char *key, const char **v, size_t *vlen)
{
	size_t klen = strlen(key), i = skip_ws(js, n, 0);

	if (i >= n || js[i] != '{')
		return MT_J_NONE;
	i++;
	for (;;) {
		size_t ks, ke, vs, ve;
		bool match;

		i = skip_ws(js, n, i);
		if (i >= n || js[i] != '"')
			return MT_J_NONE;
		ks = i + 1;
		i = skip_string(js, n, i);
		if (i > n)
			return MT_J_NONE;
		ke = i - 1;
		match = ke - ks == klen && memcmp(js + ks, key, klen) == 0;
		i = skip_ws(js, n, i);
		if (i >= n || js[i] != ':')
			return MT_J_NONE;
		i = skip_ws(js, n, i + 1);
		if (i >= n)
			return MT_J_NONE;
		vs = i;
		ve = skip_value(js, n, i);
		if (ve > n)
			return MT_J_NONE;
		if (match) {
			if (js[vs] == '"') {
				*v = js + vs + 1;
				*vlen = ve - vs - 2;
				return MT_J_STRING;
			}
			while (ve > vs && (js[ve - 1] == ' ' || js[ve - 1] == '\n' ||
					   js[ve - 1] == '\r' || js[ve - 1] == '\t'))
				ve--;
			*v = js + vs;
			*vlen = ve - vs;
			return (js[vs] == '-' || (js[vs] >= '0' && js[vs] <= '9')) ?
				MT_J_NUMBER : MT_J_OTHER;
		}
		i = skip_ws(js, n, ve);
		if (i >= n || js[i] != ',')
			return MT_J_NONE;
		i++;
	}
}

/* ---- JWT ---- */

int
mt_jwt_decode(const char *tok, size_t n, struct mt_jwt *j)
{
	const char *d1 = memchr(tok, '.', n), *d2;
	long r;
	const char *a;
	size_t alen;

	if (d1 == NULL)
		return -EINVAL;
	d2 = memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - tok));
	if (d2 == NULL || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - tok)) != NULL)
		return -EINVAL;
	r = mt_b64_decode(tok, (size_t)(d1 - tok), (uint8_t *)j->hdr, sizeof(j->hdr) - 1, true);
	if (r <= 0)
		return -EINVAL;
	j->hdr_len = (size_t)r;
	j->hdr[r] = '\0';
	r = mt_b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), (uint8_t *)j->pay, sizeof(j->pay) - 1, true);
	if (r < 0)
		return -EINVAL;
	j->pay_len = (size_t)r;
	j->pay[r] = '\0';
	r = mt_b64_decode(d2 + 1, n - (size_t)(d2 + 1 - tok), j->sig, sizeof(j->sig), true);
	if (r < 0)
		return -EINVAL;
	j->sig_len = (size_t)r;
	j->signing_input = tok;
	j->signing_len = (size_t)(d2 - tok);
	j->alg[0] = '\0';
	if (mt_json_find(j->hdr, j->hdr_len, "alg", &a, &alen) == MT_J_STRING &&
	    alen < sizeof(j->alg)) {
		memcpy(j->alg, a, alen);
		j->alg[alen] = '\0';
	}
	return 0;
}

static bool
contains_ci(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp(s + i, needle, k) == 0)
			return true;
	return false;
}

/* kid values used for path traversal, SQL or command injection. */
static bool
kid_suspicious(const char *s, size_t n)
{
	static const char *const bad[] = { "..", "/", "\\", "'", ";", "--", "|", "`", "$(",
					   "\\u0000", " or ", " union ", "select ", "sleep(" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (contains_ci(s, n, bad[i]))
			return true;
	return false;
}

static bool
url_host_allowed(const char *u, size_t n, const struct mt_behav_strlist *allowed)
{
	const char *h = memchr(u, ':', n);
	size_t hl;

	if (h == NULL || (size_t)(u + n - h) < 3 || h[1] != '/' || h[2] != '/')
		return false;
	h += 3;
	hl = 0;
	while (h + hl < u + n && h[hl] != '/' && h[hl] != ':' && h[hl] != '?' && h[hl] != '@')
		hl++;
	if (h + hl < u + n && h[hl] == '@') /* userinfo tricks: never allowed */
		return false;
	return mt_strlist_find(allowed, h, hl) >= 0;
}

static bool
json_u64(const char *js, size_t n, const char *key, uint64_t *out)
{
	const char *v;
	size_t vl;
	uint64_t x = 0;

	if (mt_json_find(js, n, key, &v, &vl) != MT_J_NUMBER || v[0] == '-')
		return false;
	for (size_t i = 0; i < vl && v[i] >= '0' && v[i] <= '9'; i++)
		x = x * 10 + (uint64_t)(v[i] - '0');
	*out = x;
	return true;
}

bool
mt_jwt_claim_u64(const struct mt_jwt *j, const char *name, uint64_t *out)
{
	return json_u64(j->pay, j->pay_len, name, out);
}

uint8_t
mt_jwt_facts(const struct mt_jwt *j, const struct mt_behav_params *p, uint64_t now_s,
	     char *ident, size_t cap, size_t *ident_len)
{
	uint8_t f = MT_JWT_PRESENT;
	const char *v;
	size_t vl, off = 0;
	uint64_t exp;

	if (strcasecmp(j->alg, "none") == 0)
		f |= MT_JWT_ALG_NONE;
	else if (j->sig_len == 0)
		f |= MT_JWT_EMPTY_SIG;
	if (json_u64(j->pay, j->pay_len, "exp", &exp) && exp + p->jwt_leeway_s < now_s)
		f |= MT_JWT_EXPIRED;
	if (mt_json_find(j->hdr, j->hdr_len, "kid", &v, &vl) == MT_J_STRING && kid_suspicious(v, vl))
		f |= MT_JWT_HDR_INJECT;
	if (mt_json_find(j->hdr, j->hdr_len, "jku", &v, &vl) == MT_J_STRING &&
	    !url_host_allowed(v, vl, &p->jwt_allowed_jku_hosts))
		f |= MT_JWT_HDR_INJECT;
	if (mt_json_find(j->hdr, j->hdr_len, "x5u", &v, &vl) == MT_J_STRING &&
	    !url_host_allowed(v, vl, &p->jwt_allowed_jku_hosts))
		f |= MT_JWT_HDR_INJECT;
	/* an embedded key lets the attacker sign with a key of their choice */
	if (mt_json_find(j->hdr, j->hdr_len, "jwk", &v, &vl) != MT_J_NONE)
		f |= MT_JWT_HDR_INJECT;

	*ident_len = 0;
	if (mt_json_find(j->pay, j->pay_len, "sub", &v, &vl) == MT_J_NONE || vl == 0)
		return f;
	{
		const char *iv;
		size_t il;

		if (mt_json_find(j->pay, j->pay_len, "iss", &iv, &il) != MT_J_NONE && il < cap) {
			memcpy(ident, iv, il);
			off = il;
		}
	}
	if (off + 1 + vl >= cap)
		return f;
	ident[off++] = '|';
	memcpy(ident + off, v, vl);
	off += vl;
	for (uint32_t i = 0; i < p->tenant_claims.n; i++) {
		const char *tv;
		size_t tl;

		if (mt_json_find(j->pay, j->pay_len, p->tenant_claims.v[i], &tv, &tl) != MT_J_NONE &&
		    off + 1 + tl < cap) {
			ident[off++] = '|';
			memcpy(ident + off, tv, tl);
			off += tl;
			break;
		}
	}
	*ident_len = off;
	return f;
}

/* ---- verification ---- */

struct jwt_key {
	char alg[8];
	char kid[MT_BEHAV_STR_MAX];
	uint8_t *secret;
	size_t secret_len;
	EVP_PKEY *pkey;
};

struct mt_jwt_keyset {
	uint32_t n;
	struct jwt_key k[MT_BEHAV_KEYS_MAX];
};

void
mt_jwt_keyset_destroy(struct mt_jwt_keyset *ks)
{
	if (ks == NULL)
		return;
	for (uint32_t i = 0; i < ks->n; i++) {
		if (ks->k[i].secret) {
			OPENSSL_cleanse(ks->k[i].secret, ks->k[i].secret_len);
			free(ks->k[i].secret);
		}
		EVP_PKEY_free(ks->k[i].pkey);
	}
	free(ks);
}

struct mt_jwt_keyset *
mt_jwt_keyset_create(const struct mt_behav_params *p)
{
	struct mt_jwt_keyset *ks;

	if (p->n_jwt_keys == 0) {
		errno = 0;
		return NULL;
	}
	ks = calloc(1, sizeof(*ks));
	if (ks == NULL)
		return NULL;
	for (uint32_t i = 0; i < p->n_jwt_keys && i < MT_BEHAV_KEYS_MAX; i++) {
		const struct mt_behav_jwt_key *src = &p->jwt_keys[i];
		struct jwt_key *k = &ks->k[ks->n++];

		memcpy(k->alg, src->alg, sizeof(k->alg));
		memcpy(k->kid, src->kid, sizeof(k->kid));
		if (strcmp(src->alg, "HS256") == 0) {
			k->secret_len = strnlen(src->material, sizeof(src->material));
			k->secret = malloc(k->secret_len + 1);
			if (k->secret == NULL)
				goto fail;
			memcpy(k->secret, src->material, k->secret_len);
		} else if (strcmp(src->alg, "RS256") == 0 || strcmp(src->alg, "ES256") == 0) {
			BIO *bio = BIO_new_mem_buf(src->material, -1);

			if (bio == NULL)
				goto fail;
			k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
			BIO_free(bio);
			if (k->pkey == NULL ||
			    (strcmp(src->alg, "RS256") == 0) != (EVP_PKEY_base_id(k->pkey) == EVP_PKEY_RSA) ||
			    (strcmp(src->alg, "ES256") == 0 && EVP_PKEY_base_id(k->pkey) != EVP_PKEY_EC)) {
				errno = EINVAL;
				goto fail_keep;
			}
		} else {
			errno = EINVAL;
			goto fail_keep;
		}
	}
	return ks;
fail:
	errno = ENOMEM;
fail_keep:
	{
		int e = errno;

		mt_jwt_keyset_destroy(ks);
		errno = e;
	}
	return NULL;
}

static int
verify_evp(EVP_PKEY *pkey, const uint8_t *sig, size_t slen, const char *msg, size_t mlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		return 0;
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, slen, (const uint8_t *)msg, mlen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* JOSE ES256 signatures are raw r||s (64 bytes); OpenSSL wants DER. */
static int
verify_es256(EVP_PKEY *pkey, const struct mt_jwt *j)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	uint8_t der[80], *q = der;
	int len, ok;

	if (j->sig_len != 64)
		return 0;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(j->sig, 32, NULL);
	s = BN_bin2bn(j->sig + 32, 32, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return 0;
	}
	len = i2d_ECDSA_SIG(es, NULL);
	if (len <= 0 || len > (int)sizeof(der)) {
		ECDSA_SIG_free(es);
		return 0;
	}
	len = i2d_ECDSA_SIG(es, &q);
	ok = verify_evp(pkey, der, (size_t)len, j->signing_input, j->signing_len);
	ECDSA_SIG_free(es);
	return ok;
}

int
mt_jwt_verify(const struct mt_jwt_keyset *ks, const struct mt_jwt *j)
{
	const char *kid;
	size_t kidlen = 0;
	bool have_kid;

	if (ks == NULL || ks->n == 0 || strcasecmp(j->alg, "none") == 0)
		return -1;
	have_kid = mt_json_find(j->hdr, j->hdr_len, "kid", &kid, &kidlen) == MT_J_STRING;
	for (uint32_t i = 0; i < ks->n; i++) {
		const struct jwt_key *k = &ks->k[i];

		/* an algorithm we hold no key for (e.g. HS256 against an RSA
		 * public key: algorithm confusion) is simply not valid */
		if (strcmp(k->alg, j->alg) != 0)
			continue;
		if (k->kid[0] && have_kid && (strlen(k->kid) != kidlen ||
					      memcmp(k->kid, kid, kidlen) != 0))
			continue;
		if (k->secret) {
			uint8_t mac[32];

			mt_hmac_sha256(k->secret, k->secret_len, j->signing_input, j->signing_len, mac);
			if (j->sig_len == 32 && CRYPTO_memcmp(mac, j->sig, 32) == 0)
				return 1;
		} else if (strcmp(k->alg, "RS256") == 0) {
			if (verify_evp(k->pkey, j->sig, j->sig_len, j->signing_input, j->signing_len))
				return 1;
		} else if (verify_es256(k->pkey, j)) {
			return 1;
		}
	}
	return 0;
}
