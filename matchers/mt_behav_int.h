/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private building blocks of the behaviour module (mt_behav*.c, mt_jwt.c,
 * mt_template.c, mt_hll.c, mt_pii.c, mt_secrets.c, mt_login.c,
 * mt_detect.c, mt_inventory.c, mt_openapi.c). Exposed to the unit tests.
 */
#ifndef MT_BEHAV_INT_H
#define MT_BEHAV_INT_H

#include "mt_behav.h"
#include "mt_inflate.h"

#include <stdbool.h>

/* ---- hashing (mt_identity.c) ---- */

struct mt_sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	uint32_t n;
};
void mt_sha256_init(struct mt_sha256 *s);
void mt_sha256_update(struct mt_sha256 *s, const void *p, size_t n);
void mt_sha256_final(struct mt_sha256 *s, uint8_t out[32]);
/** HMAC-SHA256 with an arbitrary key (no heap). */
void mt_hmac_sha256(const void *key, size_t klen, const void *p, size_t n, uint8_t out[32]);
/** HMAC-SHA256 over two parts (kind tag + value) with the process key. */
uint64_t mt_behav_keyed_hash2(uint8_t tag, const void *p, size_t n);
/** Fast keyed hash (SipHash-2-4, per-process key) for non-personal data. */
uint64_t mt_behav_fast_hash(const void *p, size_t n);

/**
 * Tests only: use @p key (32 bytes HMAC, 16 bytes SipHash) instead of
 * random process keys, so that hash-dependent results (HyperLogLog
 * estimates, promotions) repeat run after run. Must come before any hash.
 * @return 0, or -EALREADY if the keys were already drawn.
 */
int mt_behav_keys_fixed(const uint8_t key[48]);
/** Mix a 64-bit value (for HLL / table indexes). */
static inline uint64_t
mt_mix64(uint64_t x)
{
	x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27; x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}
/** Is @p ip (family 4/6) inside @p c? */
bool mt_behav_cidr_match(const struct mt_behav_cidr *c, uint8_t family, const uint8_t *ip);
/** Parse "10.0.0.0/8" or "2001:db8::/32". @return 0 or -EINVAL. */
int mt_behav_cidr_parse(const char *s, struct mt_behav_cidr *c);

/* ---- HyperLogLog (mt_hll.c) ---- */

/**
 * HyperLogLog with 2^p one-byte registers in caller storage (p in 4..16).
 * Relative standard error 1.04 / sqrt(2^p): p=6 13%, p=8 6.5%, p=10 3.3%,
 * p=12 1.6%. Ertl's estimator: unbiased, near exact for small sets.
 */
/** @return true when a register changed (the estimate may have). */
bool mt_hll_add(uint8_t *reg, unsigned p, uint64_t hash);
double mt_hll_estimate(const uint8_t *reg, unsigned p);
/** Standard error of precision @p p. */
double mt_hll_error(unsigned p);
/** reg_a |= reg_b (union). */
void mt_hll_merge(uint8_t *a, const uint8_t *b, unsigned p);

/* ---- flat JSON lookup (mt_jwt.c) ---- */

enum mt_jtype { MT_J_NONE = 0, MT_J_STRING, MT_J_NUMBER, MT_J_OTHER };
/** Find top-level @p key of the object in @p js; value slice without quotes. */
enum mt_jtype mt_json_find(const char *js, size_t n, const char *key,
			   const char **v, size_t *vlen);

/* ---- JWT (mt_jwt.c) ---- */

/** Decode base64url (or base64 when @p std); @return bytes or -1. */
long mt_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap, bool url);

#define MT_JWT_HDR_MAX 512
#define MT_JWT_PAY_MAX 2048
struct mt_jwt {
	char hdr[MT_JWT_HDR_MAX];
	char pay[MT_JWT_PAY_MAX];
	size_t hdr_len, pay_len;
	const char *signing_input;  /**< header.payload (into the token) */
	size_t signing_len;
	uint8_t sig[512];
	size_t sig_len;
	char alg[16];
};
/** Split and decode a compact JWS. @return 0 or -EINVAL. */
int mt_jwt_decode(const char *tok, size_t n, struct mt_jwt *j);

struct mt_jwt_keyset;
/** Parse the configured keys. NULL + errno on error; NULL + errno 0 if none. */
struct mt_jwt_keyset *mt_jwt_keyset_create(const struct mt_behav_params *p);
void mt_jwt_keyset_destroy(struct mt_jwt_keyset *k);
/** @return 1 valid, 0 invalid, -1 no key applies. */
int mt_jwt_verify(const struct mt_jwt_keyset *k, const struct mt_jwt *j);
/**
 * Facts of a decoded JWT: MT_JWT_* bits (not SIG_*), and the identity
 * material "iss|sub|tenant" in @p ident (length returned, 0 if no sub).
 */
uint8_t mt_jwt_facts(const struct mt_jwt *j, const struct mt_behav_params *p,
		     uint64_t now_s, char *ident, size_t cap, size_t *ident_len);
/** The payload's numeric claim @p name. @return true if present. */
bool mt_jwt_claim_u64(const struct mt_jwt *j, const char *name, uint64_t *out);

/* ---- templates (mt_template.c) ---- */

struct mt_tmpl_out {
	char tmpl[MT_BEHAV_TMPL_MAX];
	uint8_t n_segs;
	uint8_t obj_slot;         /**< 0xff: none */
	uint8_t obj_numeric;
	uint64_t obj_num;
	uint64_t seg_hash[MT_BEHAV_SEGS];
	uint64_t obj_hash;
	uint8_t seg_is_param[MT_BEHAV_SEGS];
};
/** Is this path segment an identifier ({id})? */
bool mt_tmpl_segment_is_id(const char *s, size_t n);
/** Template a path (no query). */
void mt_tmpl_path(const char *path, size_t n, struct mt_tmpl_out *o);
/** Glob match: '*' matches one segment, a trailing '**' any rest; case-insensitive. */
bool mt_tmpl_glob(const char *pat, const char *path, size_t n);
/** Query parameter value (raw) by name, case-insensitive. */
bool mt_query_get(const char *q, size_t n, const char *name, const char **v, size_t *vlen);

/* ---- PII / secrets scanners (mt_pii.c, mt_secrets.c, mt_login.c) ---- */

#define MT_BM_WANT_USER   0x01u  /* login username in the request body */
#define MT_BM_WANT_PRIV   0x02u  /* privilege fields */
#define MT_BM_WANT_PII    0x04u  /* PII + secrets + records + ids */
#define MT_BM_WANT_FAIL   0x08u  /* login failure patterns */
#define MT_BM_WANT_IDS    0x10u  /* harvest ids */

/** Per byte PII scanner step / flush. */
void mt_pii_byte(struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t c);
void mt_pii_flush(struct mt_behav_msg *m, struct mt_behav_rec *r);
/** Per byte secret scanner step / flush. */
void mt_secret_byte(struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t c, bool login);
void mt_secret_flush(struct mt_behav_msg *m, struct mt_behav_rec *r, bool login);
/*
 * Bulk forms of the three scanners over one body chunk: same results as
 * feeding the bytes one at a time, but runs that cannot change a verdict
 * are skipped with tight table loops. The PII scanner reads the key/value
 * tokenizer's state (card context) only when it validates an ungrouped
 * card; @p sync (may be NULL) is then called with the chunk offset the
 * tokenizer must have consumed up to.
 */
void mt_pii_scan(struct mt_behav_msg *m, struct mt_behav_rec *r, const uint8_t *p, size_t n,
		 void (*sync)(void *arg, size_t pos), void *arg);
void mt_secret_scan(struct mt_behav_msg *m, struct mt_behav_rec *r, const uint8_t *p, size_t n,
		    bool login);
/** KMP over a short fixed pattern (failure table from mt_kmp_table). */
void mt_kmp_table(const char *pat, uint8_t len, uint8_t *f);
uint8_t mt_kmp_step(const char *pat, const uint8_t *f, uint8_t len, uint8_t st, uint8_t c);
extern const uint8_t mt_pk_fail[16];
/** Shannon entropy in bits per byte. */
double mt_entropy(const char *s, size_t n);
/** Does a key name look like it holds a secret? */
bool mt_secret_key_name(const char *k, size_t n);

struct mt_behav_worker;
/** Key/value tokenizer step (JSON or form). */
void mt_kv_byte(struct mt_behav_worker *w, struct mt_behav_msg *m, struct mt_behav_rec *r,
		uint8_t c);
void mt_kv_scan(struct mt_behav_worker *w, struct mt_behav_msg *m, struct mt_behav_rec *r,
		const uint8_t *p, size_t n);
void mt_kv_flush(struct mt_behav_worker *w, struct mt_behav_msg *m, struct mt_behav_rec *r);

/* ---- worker context (mt_behav_rec.c) ---- */

#define MT_VCACHE 256
#define MT_TCACHE 1024   /* power of two */
#define MT_JCACHE 1024   /* power of two */
struct mt_behav_worker {
	struct mt_behav_params p;
	struct mt_jwt_keyset *keys;
	struct mt_behav_wstats st;
	struct mt_behav_wstats *stp;   /* where counters go: st, or the owner's (bind_stats) */
	/* failure patterns (lower case) with KMP tables */
	uint8_t n_fail;
	uint8_t fail_len[MT_BEHAV_FAILPAT];
	char fail[MT_BEHAV_FAILPAT][MT_BEHAV_STR_MAX];
	uint8_t fail_kmp[MT_BEHAV_FAILPAT][MT_BEHAV_STR_MAX];
	/* verification cache: token hash -> result (1 ok, 2 bad, 3 no key) */
	uint64_t vc_key[MT_VCACHE];
	uint8_t vc_val[MT_VCACHE];
	/* token hash cache: keyed SipHash fingerprint -> HMAC 'T' hash. Most
	 * requests reuse a token, and HMAC-SHA256 of a JWT costs ~35k
	 * instructions against ~100 for the fingerprint. */
	uint64_t tc_key[MT_TCACHE];
	uint64_t tc_val[MT_TCACHE];
	/* JWT facts cache: token hash -> what decoding the token tells, but
	 * for the time-dependent expiry (exp kept, compared per request).
	 * Decoding, 10-odd claim lookups and the identity HMAC cost ~45k
	 * instructions per request otherwise. Contexts are rebuilt when the
	 * settings (tenant claims, leeway) change, so it never goes stale. */
	struct {
		uint64_t key;       /* token hash, 0 = empty */
		uint64_t exp;       /* "exp" claim, 0 = none */
		uint64_t id_hash;   /* identity hash when id_kind is MT_ID_JWT */
		uint8_t flags;      /* MT_JWT_* without EXPIRED and SIG_* */
		uint8_t id_kind;
	} jc[MT_JCACHE];
	/* inflaters for encoded bodies the signature engine does not decode */
	struct mt_behav_decpool *dec;
};

/* ---- Content-Encoding (mt_behav_rec.c) ---- */

/* mt_behav_msg.enc */
#define MT_BM_ENC_NONE     0  /* bytes are the body */
#define MT_BM_ENC_INFLATE  1  /* gzip/deflate: the worker's own inflater */
#define MT_BM_ENC_EXTERNAL 2  /* gzip/deflate: the caller hands decoded bytes */

/* Concurrent encoded bodies per worker context decoded by the behaviour
 * side itself; when all are busy, the least recently fed is taken over
 * (its body counts as inflate_lost). 48 KiB of zlib arena each. */
#define MT_BEHAV_INFLATERS 32u

struct mt_behav_dec {
	struct mt_inflate z;
	uint64_t last_use;
	uint32_t id;              /* tag << 16 | sequence; 0: free */
};

struct mt_behav_decpool {
	uint16_t tag;             /* per pool (wraps after 65536 contexts): a message's
				     slot id from another context does not match */
	uint16_t next_seq;
	uint64_t clock;
	struct mt_inflate_ctr ctr;
	struct mt_behav_dec slot[MT_BEHAV_INFLATERS];
	uint8_t out[MT_INFLATE_CHUNK];
	uint8_t arena[MT_BEHAV_INFLATERS][MT_INFLATE_ARENA];
};

/** Case-insensitive list lookup; @return index or -1. */
int mt_strlist_find(const struct mt_behav_strlist *l, const char *s, size_t n);

/* ---- bounded LRU tables (mt_behav_state.c) ---- */

struct mt_lru;
struct mt_lru *mt_lru_create(uint32_t cap, uint32_t esize);
void mt_lru_destroy(struct mt_lru *t);
/** Find @p key; with @p create, insert it (evicting the LRU entry when
 *  full; *created set, payload zeroed). Found entries become MRU. */
void *mt_lru_get(struct mt_lru *t, uint64_t key, bool create, bool *created);
/** Find without touching the LRU order. */
void *mt_lru_peek(const struct mt_lru *t, uint64_t key);
uint32_t mt_lru_count(const struct mt_lru *t);
uint32_t mt_lru_cap(const struct mt_lru *t);
uint64_t mt_lru_evictions(const struct mt_lru *t);
/** Visit every entry (MRU first). */
void mt_lru_foreach(const struct mt_lru *t, void (*fn)(void *arg, uint64_t key, void *e),
		    void *arg);
/** Remove an entry. */
void mt_lru_del(struct mt_lru *t, uint64_t key);

/* ---- the detector catalogue (mt_behav.c) ---- */
extern const struct mt_rule_info mt_behav_rules[MT_DET__COUNT];
/** bola_many_objects by an authenticated identity (+T1078), same sid. */
extern const struct mt_rule_info mt_behav_rule_many_objects_auth;

#endif /* MT_BEHAV_INT_H */
