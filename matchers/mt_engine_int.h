/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Private layouts of the signature engine, shared by the mt_*.c files
 * (and by the unit tests, which link the static library).
 */
#ifndef MT_ENGINE_INT_H
#define MT_ENGINE_INT_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#include <hs.h>
#include <zlib.h>

#include "mt_engine.h"
#include "mt_inflate.h"
#include "mt_relit.h"

/* ---- memory pool: everything a rule owns dies with its engine ---- */
struct mt_pool_blk;
struct mt_pool {
	struct mt_pool_blk *head;
};
void *mt_pool_alloc(struct mt_pool *p, size_t n);
char *mt_pool_strndup(struct mt_pool *p, const char *s, size_t n);
void mt_pool_free(struct mt_pool *p);

/* ---- errors ---- */
void mt_err_add(struct mt_errors *errs, const char *file, uint32_t line,
		const char *keyword, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* ---- inspection buffers ---- */
enum mt_buf_kind {
	MT_B_METHOD,
	MT_B_URI,
	MT_B_URI_RAW,
	MT_B_HOST,
	MT_B_HOST_RAW,
	MT_B_HEADER,
	MT_B_HEADER_RAW,
	MT_B_HEADER_NAMES,
	MT_B_UA,
	MT_B_COOKIE,
	MT_B_CONTENT_TYPE,
	MT_B_CONTENT_LEN,
	MT_B_REQUEST_LINE,
	MT_B_PROTOCOL,
	MT_B_START,
	MT_B_STAT_CODE,
	MT_B_STAT_MSG,
	MT_B_RESPONSE_LINE,
	MT_B_SERVER,
	MT_B_LOCATION,
	MT_B_REFERER,
	MT_B_ACCEPT,
	MT_B_ACCEPT_ENC,
	MT_B_ACCEPT_LANG,
	MT_B_CONNECTION,
	/* body buffers: never built from a head; fed by mt_body_* (mt_body.c) */
	MT_B_REQ_BODY,         /* http.request_body, http_client_body, pcre P */
	MT_B_RESP_BODY,        /* http.response_body, http_server_body, pcre Q */
	MT_B_FILE_DATA,        /* file_data, file.data: the body of the rule's direction */
	MT_B__COUNT
};

static inline bool
mt_buf_kind_is_body(unsigned kind)
{
	return kind == MT_B_REQ_BODY || kind == MT_B_RESP_BODY || kind == MT_B_FILE_DATA;
}

/** Which message a buffer kind may come from. */
enum { MT_SIDE_REQ = 1, MT_SIDE_RESP = 2, MT_SIDE_BOTH = 3 };

/** A buffer id is kind * 2 + side (0 request, 1 response). */
#define MT_BUFID(kind, side) ((uint8_t)((kind) * 2 + (side)))
#define MT_BUFID_KIND(id) ((id) / 2)
#define MT_BUFID_SIDE(id) ((id) % 2)
#define MT_NBUFID (MT_B__COUNT * 2)

const char *mt_buf_name(unsigned kind);
unsigned mt_buf_sides(unsigned kind);

/* ---- rule items ---- */
enum mt_item_type { MT_IT_CONTENT, MT_IT_PCRE, MT_IT_ISDATAAT, MT_IT_BSIZE };

enum {
	MT_F_NEGATED = 1u << 0,
	MT_F_NOCASE = 1u << 1,
	MT_F_OFFSET = 1u << 2,
	MT_F_DEPTH = 1u << 3,
	MT_F_DISTANCE = 1u << 4,
	MT_F_WITHIN = 1u << 5,
	MT_F_STARTSWITH = 1u << 6,
	MT_F_ENDSWITH = 1u << 7,
	MT_F_RELATIVE = 1u << 8,      /* pcre R, isdataat relative */
	MT_F_FAST_PATTERN = 1u << 9,
	MT_F_FP_ONLY = 1u << 10,
	MT_F_FP_CHOP = 1u << 11,
	MT_F_LATER_REL = 1u << 12,    /* a later item of the group is relative */
};

enum mt_bsize_op { MT_BS_EQ, MT_BS_LT, MT_BS_GT, MT_BS_RANGE };

struct mt_item {
	uint8_t type;
	uint8_t bs_op;
	uint16_t flags;
	uint32_t len;          /* content length */
	const uint8_t *pat;    /* content bytes */
	int32_t offset, depth, distance, within;
	uint16_t fp_off, fp_len;
	uint32_t num;          /* isdataat n, bsize value / low bound */
	uint32_t num2;         /* bsize high bound */
	const char *re;        /* pcre: Hyperscan expression */
	unsigned hs_flags;
	hs_database_t *db;     /* pcre: exact single-pattern database */
	/* pcre whose every match lies on one line and holds one of win_n
	 * LF-free strings (mt_relit): confirmation scans only the lines that
	 * hold one (mt_confirm.c). 0: the whole buffer. */
	uint8_t win_n;
	uint8_t win_ci;        /* the strings are lower case, compared caselessly */
	const uint8_t *win_len;
	const uint8_t *const *win_s;
};

#define MT_WIN_STRINGS 4       /* most strings searched for a pcre's lines */

static inline bool
mt_item_relative(const struct mt_item *it)
{
	return (it->flags & (MT_F_DISTANCE | MT_F_WITHIN | MT_F_RELATIVE)) != 0;
}

/** All items of one rule that inspect one buffer, in rule order. */
struct mt_group {
	uint8_t buf;           /* buffer id */
	uint16_t n;
	struct mt_item *items;
};

/* ---- addresses and ports ---- */
struct mt_cidr {
	uint8_t family;        /* 0 any, 4, 6 */
	uint8_t prefix;
	uint8_t neg;
	uint8_t addr[16];
};
struct mt_addrset {
	uint16_t n;
	struct mt_cidr *v;
};
struct mt_prange {
	uint16_t lo, hi;
	uint8_t neg;
};
struct mt_portset {
	uint16_t n;
	struct mt_prange *v;
};

int mt_addr_parse(struct mt_pool *pool, const struct mt_engine_params *p,
		  const char *s, struct mt_addrset *out, char *why, size_t whylen);
int mt_port_parse(struct mt_pool *pool, const struct mt_engine_params *p,
		  const char *s, struct mt_portset *out, char *why, size_t whylen);
bool mt_addr_match(const struct mt_addrset *a, uint8_t family, const uint8_t *ip);
bool mt_port_match(const struct mt_portset *a, uint16_t port);

/* ---- classification ---- */
struct mt_class {
	const char *name;
	const char *desc;
	uint16_t prio;
};
struct mt_classes {
	size_t n;
	struct mt_class *v;
};
int mt_classes_load(struct mt_pool *pool, const char *path, struct mt_classes *out,
		    struct mt_errors *errs);
const struct mt_class *mt_classes_find(const struct mt_classes *c, const char *name);
extern const char mt_builtin_classification[];

/* ---- threshold / detection_filter (enforced per worker; mt_threshold.c) ---- */
enum mt_thr_type { MT_THR_NONE, MT_THR_LIMIT, MT_THR_THRESHOLD, MT_THR_BOTH,
		   MT_THR_DETECTION_FILTER };
enum mt_thr_track { MT_TRACK_BY_SRC, MT_TRACK_BY_DST, MT_TRACK_BY_RULE, MT_TRACK_BY_BOTH };
struct mt_threshold {
	uint8_t type;
	uint8_t track;
	uint32_t count;
	uint32_t seconds;
};

struct mt_meta {
	const char *key;
	const char *value;
};

#define MT_FLOW_ESTABLISHED 1u
#define MT_FLOW_TO_SERVER 2u
#define MT_FLOW_TO_CLIENT 4u

/** One parsed rule. info must stay first: hits point at it. */
struct mt_rule {
	struct mt_rule_info info;
	uint32_t idx;
	uint8_t bidir;
	uint8_t flow;
	uint8_t eval_side;     /* 0 request, 1 response */
	uint8_t src_is_server; /* rule source address is the server */
	uint8_t addr_any;      /* every address and port matches (set by mt_hs_build) */
	int8_t body_dir;       /* body the rule inspects (0 request, 1 response), -1 none */
	struct mt_addrset src, dst;
	struct mt_portset sp, dp;
	uint16_t n_groups;
	struct mt_group *groups;
	/* fast pattern: group/item index, -1 if none */
	int16_t fp_group, fp_item;
	struct mt_threshold threshold;
	struct mt_threshold detection_filter;
	uint16_t n_meta;
	struct mt_meta *meta;
	uint16_t n_refs;
	const char **refs;
	/* A rule without a flow direction whose buffers all exist in both
	 * messages (http.header, file_data, ...) inspects both, as Suricata's:
	 * the parser makes this copy, evaluated on the response, and the
	 * engine keeps it after every rule it lists (mt_rules.c). A twin's
	 * twin is the rule it copies, whose info its hits report. */
	struct mt_rule *twin;
	uint8_t is_twin;
	/* flowbits: conditions checked before the buffers, actions applied
	 * when the rule matches (mt_match.c); masks are the engine's bits */
	uint8_t n_fb;
	uint8_t noalert;       /* flowbits:noalert: matches, sets bits, never reports */
	uint8_t fb_sets;       /* some action: confirmed before the other rules */
	struct mt_fb *fb;
};

enum mt_fb_op { MT_FB_SET, MT_FB_UNSET, MT_FB_TOGGLE, MT_FB_ISSET, MT_FB_ISNOTSET };
#define MT_FB_NAMES 8          /* names in one flowbits keyword ("a|b|...") */
#define MT_FB_MAX 64           /* distinct names in a rule generation */

struct mt_fb {
	uint8_t op;
	uint8_t n;
	const char *names[MT_FB_NAMES];
	uint64_t mask;         /* set by mt_hs_build */
};

struct mt_rule *mt_rule_parse(struct mt_pool *pool, const struct mt_engine_params *p,
			      const struct mt_classes *cls, const char *text,
			      const char *file, uint32_t line, struct mt_errors *errs);

/* ---- compiled engine ---- */

/** One multi-pattern database: every fast pattern for one buffer at one side. */
struct mt_mpm {
	uint8_t side;          /* evaluation side */
	uint8_t buf;           /* buffer id scanned */
	hs_database_t *db;
	uint32_t n;            /* targets: rule|slot pairs in rule_of */
	uint32_t n_ids;        /* Hyperscan patterns (equal literals are one) */
	uint32_t *rule_of;     /* rule index | slot << MT_MPM_SLOT_SHIFT, grouped by id */
	uint32_t *first;       /* id -> its targets rule_of[first[id] .. first[id + 1]) */
	/* A literal-only database of at most MT_MPM_DIRECT_MAX patterns also
	 * keeps its literals: on a short buffer, comparing them in place costs
	 * less than hs_scan's fixed cost (400-1,000 instructions). NULL when
	 * the database holds a regex or more literals. */
	uint8_t *lit;          /* literal bytes, id after id */
	uint32_t *lit_off;     /* id -> lit[lit_off[id] .. lit_off[id + 1]) */
	uint8_t *lit_ci;       /* id -> caseless */
	uint32_t *by_first;    /* byte -> ids (bit mask) of the literals starting with it */
	/* http.header_names: the buffer is CRLF, then each name followed by
	 * CRLF, then CRLF. A literal CRLF NAME CRLF occurs exactly where a
	 * header is named NAME, and CRLF PREFIX where a name starts with
	 * PREFIX (names hold no CR or LF), so those literals are looked up
	 * name by name (mt_match.c: scan_names) instead of scanned: Hyperscan
	 * pays for every CRLF of that buffer. db then holds only the other
	 * literals, and is NULL when there are none. */
	struct mt_name_lit *names; /* n_names entries, prefixes last */
	uint32_t n_names, n_exact;
	uint32_t *name_tab;        /* open addressing: mt_name_key -> index + 1 into names */
	uint32_t name_mask;
};

struct mt_name_lit {
	uint32_t id;           /* the mpm's pattern id */
	uint16_t len;
	uint8_t ci;            /* caseless */
	uint8_t prefix;        /* matches a name's start, not a whole name */
	uint8_t *p;            /* the name (or prefix), without CRLFs */
};

/* The name lookup's key: length and three folded bytes; a hit is then
 * compared in full. */
static inline uint32_t
mt_name_key(const uint8_t *p, uint32_t len)
{
	uint32_t k = len * 0x9e3779b1u;

	if (len == 0)
		return k;
	k ^= (uint32_t)(p[0] | 0x20) << 5 ^ (uint32_t)(p[len / 2] | 0x20) << 13 ^
	     (uint32_t)(p[len - 1] | 0x20) << 21;
	return k * 0x85ebca6bu ^ k >> 15;
}

#define MT_MPM_DIRECT_MAX 32
/* buffers up to this long are matched in place when the database allows */
#define MT_MPM_DIRECT_LEN 16

/* rule_of[] holds the rule index and the pattern's slot in the rule:
 * slot 0 is the fast pattern, slots 1..MT_MPM_MAX_SLOT are gates, each a
 * set of literals of which every match of one of the rule's pcres holds
 * one (mt_relit.c). A rule becomes a candidate only when every slot it has
 * in the databases matched in the call (e->need): a gate never loses a
 * match, and it spares the confirmation of rules whose literal is common
 * ("Authorization: ", "eyJ") but whose pcre is rare. */
#define MT_MPM_SLOT_SHIFT 24
#define MT_MPM_RULE_MASK 0x00ffffffu
#define MT_MPM_MAX_SLOT 7

/* Rules that inspect the body of one direction (mt_stream.c). Local index
 * k = position in rule[], which is in rule-load order. */
enum mt_body_mode {
	MT_BM_ALWAYS,          /* no positive body content: confirmed against the window */
	MT_BM_PREFILTER,       /* a stream match makes it a candidate, confirmed against the window */
	MT_BM_DECIDED,         /* its only body condition is the stream pattern: a match decides */
	/* a body pcre's HS_FLAG_PREFILTER form makes it a candidate. Trusted
	 * only while the window holds the whole body: `$`, `\b` and the like
	 * can match at the window's end but not at the same place in the
	 * longer stream, so a full window confirms it as MT_BM_ALWAYS does. */
	MT_BM_PREFILTER_RE,
};

struct mt_body_idx {
	uint32_t n;            /* rules whose body is this direction */
	uint32_t *rule;        /* local -> global rule index */
	uint8_t *mode;         /* enum mt_body_mode per local rule */
	uint32_t *depth_end;   /* MT_BM_DECIDED: the match must end at or before (0: anywhere) */
	hs_database_t *db;     /* HS_MODE_STREAM literal prefilter, NULL when n_pat == 0 */
	uint32_t n_pat;
	uint32_t *local_of;    /* pattern id -> local index */
	/* per local rule: the factor of its body pcre whose literals stand for
	 * it (a run of pattern ids); n == 0 when its pattern is a content or a
	 * prefilter regex */
	struct mt_relit *lits;
	/* rules eligible for every body: no head keyword, any address and port
	 * (a bit per local rule); the others are decided when a body begins */
	uint64_t *base_eligible;
	uint32_t n_head_check;
	uint32_t *head_check;  /* local indexes of the others */
	/* the rules of each mode, a bit per local rule, so that deciding a
	 * window looks only at the rules that need it */
	uint64_t *always_bits, *re_bits, *decided_bits;
};

struct mt_engine {
	struct mt_pool pool;
	struct mt_classes classes;
	size_t n_rules;        /* every rule, response twins last */
	size_t n_listed;       /* the rules as written: rules[0 .. n_listed) */
	struct mt_rule **rules;
	uint32_t *by_sid;      /* rule indexes of gid-1 rules, sorted by sid */
	size_t n_by_sid;
	size_t n_mpm;
	struct mt_mpm mpm[MT_NBUFID * 2];
	/* per rule: bit mask of the slots (fast pattern, gates) that must all
	 * match in one call; derived from the mpm tables */
	uint8_t *need;
	/* rules without a usable fast pattern, evaluated on every call */
	uint32_t *always[2];
	size_t n_always[2];
	/* buffers that some rule evaluated at this side inspects */
	uint8_t uses_buf[2][MT_NBUFID];
	struct mt_body_idx body[2];
	uint32_t max_bodies;   /* concurrent bodies per scratch (mt_engine_params) */
	uint32_t n_thr_rules;  /* rules with threshold or detection_filter */
	struct mt_thr_table *thr; /* their shared state (mt_threshold.c) */
	uint8_t has_fb_sets;   /* some rule sets, unsets or toggles a flowbit */
	hs_scratch_t *proto;   /* prototype scratch, big enough for every db */
	bool from_cache;       /* databases came from the on-disk cache */
	char cache_path[512];
};

/* Can this pcre (item @p idx of its group) select candidates through a
 * HS_FLAG_PREFILTER form? Not negated, not relative to an earlier item,
 * and never matching the empty string. */
bool mt_hs_pcre_prefilterable(const struct mt_item *it, int idx);
/* Up to @p max factors (mt_relit.c) of a pcre item: literals one of which
 * every match holds. 0 for a negated pcre or one in UTF-8/UCP mode (case
 * folding there is not ASCII's); < 0 on allocation failure. */
int mt_hs_pcre_factors(const struct mt_item *it, unsigned class_max, struct mt_relit *f, int max);
/* Hyperscan match callback that sets *(int *)ctx and stops the scan: does
 * the database match at all? */
int mt_hs_found_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		   void *ctx);
/* A literal as a Hyperscan expression (\xHH per byte), malloc'ed. */
char *mt_hs_escape_lit(const uint8_t *p, uint32_t n);

int mt_hs_build(struct mt_engine *e, const struct mt_engine_params *p,
		struct mt_errors *errs, uint64_t key_lo, uint64_t key_hi);
void mt_hs_free(struct mt_engine *e);

/* Body index (mt_stream.c): mt_stream_index() is deterministic from the
 * rules (run before the cache is read); mt_stream_compile() builds the
 * streaming databases that the cache did not provide. */
int mt_stream_index(struct mt_engine *e);
int mt_stream_compile(struct mt_engine *e, struct mt_errors *errs);
void mt_stream_free(struct mt_engine *e);
/* Installs the process-wide Hyperscan stream allocator (once). */
void mt_stream_allocator_install(void);
/* Points the stream allocator of this thread at @p area (size bytes) for
 * the next hs_open_stream, and declares [lo, hi) as memory that the
 * stream free hook must not hand to free(). */
void mt_stream_tls_set(void *area, size_t size, const void *lo, const void *hi);
void mt_stream_tls_clear(void);

/* ---- per-worker scratch ---- */
#define MT_SCRATCH_ARENA (256u * 1024u)
#define MT_BUF_MAX (64u * 1024u)

struct mt_bufv {
	const uint8_t *p;
	uint32_t len;
	uint32_t epoch;        /* built during call number 'epoch' */
};

/* Per-scratch counters, exported by mt_scratch_counters(): plain, per worker. */
#define MT_SCRATCH_COUNTERS(X) \
	X(body_begun) \
	X(body_not_needed) \
	X(body_ended) \
	X(body_aborted) \
	X(body_pool_exhausted) \
	X(body_bytes_raw) \
	X(body_bytes_inspected) \
	X(body_bytes_beyond_window) \
	X(body_decided_in_stream) \
	X(body_confirmed_in_window) \
	X(body_stream_errors) \
	X(body_stream_alloc_fallback) \
	X(inflate_bodies) \
	X(encoding_unsupported) \
	X(threshold_suppressed) \
	X(threshold_evictions) \
	X(threshold_untracked)

struct mt_body_pool;
struct mt_thr_table;

struct mt_scratch {
	hs_scratch_t *hs;
	uint32_t epoch;
	uint32_t cap_rules;
	uint32_t *cand_mark;   /* per rule: epoch when marked */
	uint32_t *cand;
	/* per rule marked by a scan in this call: end offset of the first
	 * fast-pattern match in its buffer, UINT32_MAX if not known */
	uint32_t *cand_fp_end;
	uint8_t *cand_hits;    /* per rule marked: slots matched in this call */
	uint32_t n_cand;
	uint32_t arena_used;
	uint32_t truncated;    /* buffers cut short by the caps (counter) */
	uint32_t budget_exhausted;
	int32_t budget;
	struct {
#define MT_X_FIELD(n) uint64_t n;
		MT_SCRATCH_COUNTERS(MT_X_FIELD)
#undef MT_X_FIELD
	} ctr;
	struct mt_inflate_ctr inf;     /* reported as inflate_errors, ... */
	struct mt_body_pool *bodies;   /* NULL when no loaded rule inspects a body */
	uint8_t zout[MT_INFLATE_CHUNK];  /* inflate output, consumed within one call */
	bool double_encoded;   /* last URI normalisation saw %25xx */
	struct mt_bufv bufs[MT_NBUFID];
	uint8_t arena[MT_SCRATCH_ARENA];
};

/* Builds buffer @p id from @p t into the scratch (once per call). */
const struct mt_bufv *mt_buf_get(struct mt_scratch *s, const struct mt_txn *t, uint8_t id);

/* ASCII lower case of @p c */
static inline uint8_t
mt_fold(uint8_t c)
{
	return (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* true when mt_uri_normalize() would return [p, p+len) unchanged */
bool mt_uri_is_normal(const uint8_t *p, uint32_t len);
/* URI normalisation, exposed for tests: returns output length. */
uint32_t mt_uri_normalize(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap,
			  bool *double_encoded);

/* Full confirmation of one candidate rule: 1 match, 0 no match, <0 error. */
int mt_confirm_rule(const struct mt_rule *r, struct mt_scratch *s, const struct mt_txn *t);
/* Addresses and ports only. */
bool mt_confirm_addrs(const struct mt_rule *r, const struct mt_txn *t);
/* Every head group of @p r (body groups are skipped): 1, 0 or <0. */
int mt_confirm_head_groups(const struct mt_rule *r, struct mt_scratch *s,
			   const struct mt_txn *t);
/* One group's items over [p, p+len): 1, 0 or <0. Resets the work budget. */
int mt_confirm_group(const struct mt_group *g, struct mt_scratch *s, const uint8_t *p,
		     uint32_t len);

/* Starts a match call: new epoch for the buffer cache, empty arena. */
void mt_scratch_new_call(struct mt_scratch *s);

/* Appends confirmed rules (global indexes, rule order; the array is
 * compacted in place) to @p out: applies threshold/detection_filter, then
 * the pass precedence. */
void mt_emit(const struct mt_engine *e, struct mt_scratch *s, const struct mt_txn *t,
	     uint32_t *rules, uint32_t n, struct mt_result *out);

/* ---- inflate: mt_inflate.h (shared with the behaviour scanners) ---- */

/* ---- scratch parts (mt_body.c, mt_threshold.c) ---- */
int mt_body_pool_prepare(struct mt_scratch *s, const struct mt_engine *e);
void mt_body_pool_free(struct mt_scratch *s);
int mt_thr_table_create(struct mt_engine *e);
void mt_thr_table_free(struct mt_engine *e);

/* true: report this hit; false: suppressed by threshold/detection_filter */
bool mt_thr_check(struct mt_scratch *s, const struct mt_engine *e, const struct mt_rule *r,
		  const struct mt_txn *t);

/* Inspection window per body: the first MT_BODY_WINDOW decoded bytes are
 * kept for positional confirmation (Suricata's request-body-limit and
 * response-body-limit default to 100 KiB). */
#define MT_BODY_WINDOW (100u * 1024u)
/* Default concurrent bodies per scratch when mt_engine_params.max_bodies is 0. */
#define MT_BODY_DEFAULT_MAX 64u
/* Threshold tracking slots per rule generation (shared by the workers; one
 * cache line each), and the slots a key may take from its home slot on. */
#define MT_THR_SLOTS 65536u
#define MT_THR_PROBE 16u

/* Do the @p n bytes at @p a and @p b agree (ASCII case folded when
 * @p nocase)? */
bool mt_bytes_eq(const uint8_t *a, const uint8_t *b, uint32_t n, bool nocase);

/* Caseless/exact search; returns offset or -1. */
int64_t mt_search(const uint8_t *hay, uint32_t hlen, const uint8_t *pat, uint32_t plen,
		  bool nocase);

/** Strip leading and trailing white space in place; returns the new start. */
char *mt_trim(char *s);

#endif /* MT_ENGINE_INT_H */
