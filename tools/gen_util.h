/* gen_util.h - small helpers shared by the apiguard-gen traffic generator:
 * a seeded PRNG (so a seed reproduces a capture byte for byte) and an
 * append-only string builder that avoids snprintf on the bulk paths,
 * because the generator must write a million packets in a few seconds.
 */
#ifndef GEN_UTIL_H
#define GEN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* ---- PRNG: xoshiro256** seeded through splitmix64 ---- */
struct gen_rng {
	uint64_t s[4];
};

static inline uint64_t gen_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void gen_rng_seed(struct gen_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = gen_splitmix64(&seed);
}

static inline uint64_t gen_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t gen_rand64(struct gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = gen_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = gen_rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n); n == 0 yields 0. Multiply-shift keeps it bias-free
 * enough for traffic shaping and avoids a division. */
static inline uint32_t gen_below(struct gen_rng *r, uint32_t n)
{
	return (uint32_t)(((gen_rand64(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static inline uint32_t gen_range(struct gen_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + gen_below(r, hi - lo + 1);
}

/* Uniform double in [0, 1). */
static inline double gen_unit(struct gen_rng *r)
{
	return (double)(gen_rand64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* True with probability p. */
static inline int gen_chance(struct gen_rng *r, double p)
{
	return p > 0.0 && gen_unit(r) < p;
}

#define GEN_PICK(r, arr) ((arr)[gen_below((r), sizeof(arr) / sizeof((arr)[0]))])

/* ---- string builder ---- */
struct gen_sb {
	char *p;
	size_t len;
	size_t cap;
};

/* Aborts on allocation failure: the generator is an offline tool, and a
 * half-written capture is worse than a clear stop. */
static inline void gen_sb_reserve(struct gen_sb *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return;
	size_t ncap = b->cap ? b->cap : 4096;
	while (ncap < b->len + extra)
		ncap *= 2;
	char *np = realloc(b->p, ncap);
	if (!np) {
		fprintf(stderr, "apiguard-gen: out of memory\n");
		exit(1);
	}
	b->p = np;
	b->cap = ncap;
}

static inline void gen_sb_put(struct gen_sb *b, const void *s, size_t n)
{
	gen_sb_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void gen_sb_puts(struct gen_sb *b, const char *s)
{
	gen_sb_put(b, s, strlen(s));
}

static inline void gen_sb_putc(struct gen_sb *b, char c)
{
	gen_sb_reserve(b, 1);
	b->p[b->len++] = c;
}

/* String literal without strlen; the "" pasting rejects non-literals,
 * whose sizeof would silently be that of a pointer. */
#define GEN_SB_LIT(b, lit) gen_sb_put((b), "" lit "", sizeof(lit) - 1)

static inline void gen_sb_u64(struct gen_sb *b, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	gen_sb_reserve(b, (size_t)n);
	while (n)
		b->p[b->len++] = tmp[--n];
}

/* Fixed-width zero-padded decimal. */
static inline void gen_sb_u64w(struct gen_sb *b, uint64_t v, int width)
{
	gen_sb_reserve(b, (size_t)width);
	for (int i = width - 1; i >= 0; i--) {
		b->p[b->len + (size_t)i] = (char)('0' + v % 10);
		v /= 10;
	}
	b->len += (size_t)width;
}

static inline void gen_sb_hex(struct gen_sb *b, uint64_t v)
{
	static const char hx[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;
	do {
		tmp[n++] = hx[v & 15];
		v >>= 4;
	} while (v);
	gen_sb_reserve(b, (size_t)n);
	while (n)
		b->p[b->len++] = tmp[--n];
}

/* n random lowercase hex digits. */
static inline void gen_sb_randhex(struct gen_sb *b, struct gen_rng *r, int n)
{
	static const char hx[] = "0123456789abcdef";
	gen_sb_reserve(b, (size_t)n);
	uint64_t v = 0;
	for (int i = 0; i < n; i++) {
		if ((i & 15) == 0)
			v = gen_rand64(r);
		b->p[b->len++] = hx[v & 15];
		v >>= 4;
	}
}

/* A random version-4 UUID (lowercase, 36 characters). */
static inline void gen_sb_uuid(struct gen_sb *b, struct gen_rng *r)
{
	gen_sb_randhex(b, r, 8);
	gen_sb_putc(b, '-');
	gen_sb_randhex(b, r, 4);
	GEN_SB_LIT(b, "-4");
	gen_sb_randhex(b, r, 3);
	gen_sb_putc(b, '-');
	gen_sb_putc(b, "89ab"[gen_below(r, 4)]);
	gen_sb_randhex(b, r, 3);
	gen_sb_putc(b, '-');
	gen_sb_randhex(b, r, 12);
}

/* n random alphanumeric characters. */
static inline void gen_sb_randalnum(struct gen_sb *b, struct gen_rng *r, int n)
{
	static const char an[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	gen_sb_reserve(b, (size_t)n);
	for (int i = 0; i < n; i++)
		b->p[b->len++] = an[gen_below(r, 62)];
}

/* Amount in cents as "123.45". */
static inline void gen_sb_money(struct gen_sb *b, uint32_t cents)
{
	gen_sb_u64(b, cents / 100);
	gen_sb_putc(b, '.');
	gen_sb_u64w(b, cents % 100, 2);
}

/* base64url without padding, as JWTs use. */
void gen_sb_b64url(struct gen_sb *b, const void *data, size_t n);

/* JSON string body (no quotes) with the escapes JSON requires. */
void gen_sb_json_escaped(struct gen_sb *b, const char *s, size_t n);

#endif /* GEN_UTIL_H */
