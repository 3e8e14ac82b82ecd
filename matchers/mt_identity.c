/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keyed hashing of identities and credentials, and address helpers.
 *
 * Raw secrets never leave the module: the worker reduces every token,
 * key, cookie, username and identity to HMAC-SHA256 under a random key
 * drawn once per process, truncated to 64 bits. SHA-256 is implemented
 * here (not through EVP) because the hot path must not allocate, and
 * OpenSSL 3's EVP_MAC duplicates contexts on the heap; the inner and
 * outer HMAC states are precomputed once, so hashing a short value costs
 * two compressions. test_behav checks it against OpenSSL's HMAC().
 *
 * Non-personal values (path segments, object ids, template names) use
 * SipHash-2-4 under another random key: it is 10x cheaper and keyed, so
 * table indexes cannot be flooded by chosen collisions.
 */
#include "mt_behav.h"
#include "mt_behav_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
sha256_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) +
			      K256[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void
mt_sha256_init(struct mt_sha256 *s)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->n = 0;
}

void
mt_sha256_update(struct mt_sha256 *s, const void *p, size_t n)
{
	const uint8_t *b = p;

	s->len += n;
	if (s->n) {
		size_t k = 64 - s->n < n ? 64 - s->n : n;

		memcpy(s->buf + s->n, b, k);
		s->n += (uint32_t)k;
		b += k;
		n -= k;
		if (s->n < 64)
			return;
		sha256_block(s->h, s->buf);
		s->n = 0;
	}
	for (; n >= 64; n -= 64, b += 64)
		sha256_block(s->h, b);
	memcpy(s->buf, b, n);
	s->n = (uint32_t)n;
}

void
mt_sha256_final(struct mt_sha256 *s, uint8_t out[32])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80;
	int i;

	mt_sha256_update(s, &pad, 1);
	pad = 0;
	while (s->n != 56)
		mt_sha256_update(s, &pad, 1);
	for (i = 7; i >= 0; i--) {
		uint8_t c = (uint8_t)(bits >> (8 * i));

		mt_sha256_update(s, &c, 1);
	}
	for (i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

static void
hmac_prepare(const void *key, size_t klen, struct mt_sha256 *in, struct mt_sha256 *out)
{
	uint8_t k[64], pad[64];
	int i;

	memset(k, 0, sizeof(k));
	if (klen > 64) {
		struct mt_sha256 s;

		mt_sha256_init(&s);
		mt_sha256_update(&s, key, klen);
		mt_sha256_final(&s, k);
	} else if (klen) {
		memcpy(k, key, klen);
	}
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	mt_sha256_init(in);
	mt_sha256_update(in, pad, 64);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	mt_sha256_init(out);
	mt_sha256_update(out, pad, 64);
}

static void
hmac_finish(struct mt_sha256 *in, struct mt_sha256 *out, uint8_t res[32])
{
	uint8_t ih[32];

	mt_sha256_final(in, ih);
	mt_sha256_update(out, ih, 32);
	mt_sha256_final(out, res);
}

void
mt_hmac_sha256(const void *key, size_t klen, const void *p, size_t n, uint8_t out[32])
{
	struct mt_sha256 in, o;

	hmac_prepare(key, klen, &in, &o);
	mt_sha256_update(&in, p, n);
	hmac_finish(&in, &o, out);
}

/* Process keys: drawn once, read-only afterwards (safe from any thread). */
static struct mt_sha256 g_in, g_out;
static uint64_t g_sip[2];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static const uint8_t *g_fixed_keys;   /* tests only: see mt_behav_keys_fixed() */
static int g_keys_fixed;

static void
keys_init(void)
{
	uint8_t k[48];
	size_t got = 0;

	if (g_fixed_keys != NULL) {
		memcpy(k, g_fixed_keys, sizeof(k));
		got = sizeof(k);
		g_keys_fixed = 1;
	}
	while (got < sizeof(k)) {
		ssize_t r = getrandom(k + got, sizeof(k) - got, 0);

		if (r > 0)
			got += (size_t)r;
		else if (errno != EINTR)
			abort(); /* no entropy at start-up: nothing sensible to do */
	}
	hmac_prepare(k, 32, &g_in, &g_out);
	memcpy(g_sip, k + 32, 16);
	memset(k, 0, sizeof(k));
}

int
mt_behav_keys_fixed(const uint8_t key[48])
{
	g_fixed_keys = key;
	pthread_once(&g_once, keys_init);
	g_fixed_keys = NULL;
	return g_keys_fixed ? 0 : -EALREADY;
}

uint64_t
mt_behav_keyed_hash2(uint8_t tag, const void *p, size_t n)
{
	struct mt_sha256 in, out;
	uint8_t r[32];
	uint64_t h = 0;
	int i;

	pthread_once(&g_once, keys_init);
	in = g_in;
	out = g_out;
	mt_sha256_update(&in, &tag, 1);
	mt_sha256_update(&in, p, n);
	hmac_finish(&in, &out, r);
	for (i = 0; i < 8; i++)
		h = h << 8 | r[i];
	return h ? h : 1;
}

uint64_t
mt_behav_keyed_hash(const void *p, size_t n)
{
	return mt_behav_keyed_hash2(0, p, n);
}

#define SIPROT(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = SIPROT(v1, 13); v1 ^= v0; v0 = SIPROT(v0, 32); \
	v2 += v3; v3 = SIPROT(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = SIPROT(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = SIPROT(v1, 17); v1 ^= v2; v2 = SIPROT(v2, 32); } while (0)

uint64_t
mt_behav_fast_hash(const void *p, size_t n)
{
	const uint8_t *in = p;
	uint64_t v0, v1, v2, v3, m, b = (uint64_t)n << 56;
	size_t i, end = n - (n % 8);

	pthread_once(&g_once, keys_init);
	v0 = 0x736f6d6570736575ULL ^ g_sip[0];
	v1 = 0x646f72616e646f6dULL ^ g_sip[1];
	v2 = 0x6c7967656e657261ULL ^ g_sip[0];
	v3 = 0x7465646279746573ULL ^ g_sip[1];
	for (i = 0; i < end; i += 8) {
		memcpy(&m, in + i, 8);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < n % 8; i++)
		b |= (uint64_t)in[end + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	m = v0 ^ v1 ^ v2 ^ v3;
	return m ? m : 1;
}

bool
mt_behav_cidr_match(const struct mt_behav_cidr *c, uint8_t family, const uint8_t *ip)
{
	unsigned full, rem;

	if (c->family != family)
		return false;
	full = c->prefix / 8;
	rem = c->prefix % 8;
	if (memcmp(c->addr, ip, full) != 0)
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));

		return (c->addr[full] & mask) == (ip[full] & mask);
	}
	return true;
}

int
mt_behav_cidr_parse(const char *s, struct mt_behav_cidr *c)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long pfx;
	char *end;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1)
		c->family = 4;
	else if (inet_pton(AF_INET6, buf, c->addr) == 1)
		c->family = 6;
	else
		return -EINVAL;
	pfx = c->family == 4 ? 32 : 128;
	if (slash) {
		unsigned long max = pfx;

		errno = 0;
		pfx = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || pfx > max)
			return -EINVAL;
	}
	c->prefix = (uint8_t)pfx;
	return 0;
}
