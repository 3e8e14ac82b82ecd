/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * API behaviour analytics: endpoint inventory, caller identities and the
 * behavioural detectors of docs/BEHAVIOUR.md (sids 2300001..2300060).
 *
 * Two halves, two threading contracts:
 *
 * - Worker side (many threads, hot path): a worker context
 *   (mt_behav_worker, one per worker, immutable after creation except its
 *   own counters and verification cache) and, per transaction, a record
 *   (struct mt_behav_rec) plus one scanner state per body direction
 *   (struct mt_behav_msg). The data plane embeds both in its per-flow
 *   transaction slot; nothing here allocates, locks or does I/O (see the
 *   one exception for RS256/ES256 verification in mt_behav_req_head()).
 *   Detections that need no shared state (JWT forgeries, API key in URL)
 *   are returned at request head so the data plane can act on that packet.
 *
 * - Analytics side (ONE thread): mt_behav owns every table (identities,
 *   clients, usernames, credentials, templates, object owners), bounded by
 *   caps with LRU eviction. Completed records are handed over (a ring in
 *   the data plane) and processed in order; detections come back with the
 *   rule, the actor, an action and an evidence JSON object.
 *
 * Raw credentials, usernames and identities never leave the module: they
 * are reduced on the worker to HMAC-SHA256 (random per-process key)
 * truncated to 64 bits.
 */
#ifndef MT_BEHAV_H
#define MT_BEHAV_H

#include <stdint.h>
#include <stddef.h>

#include "mt_engine.h"
#include "mt_txn.h"

/* ------------------------------------------------------------------ */
/* Parameters                                                          */
/* ------------------------------------------------------------------ */

/** Detectors, in catalogue order (index into mt_behav_params.det[]). */
enum mt_behav_det {
	MT_DET_BOLA_ENUMERATION,      /**< 2300001 */
	MT_DET_BOLA_MANY_OBJECTS,     /**< 2300002 */
	MT_DET_BOLA_ERROR_RATIO,      /**< 2300003 */
	MT_DET_SCAN_404_SPREAD,       /**< 2300004 */
	MT_DET_BOLA_FOREIGN_OBJECT,   /**< 2300005 */
	MT_DET_BRUTE_FORCE_CLIENT,    /**< 2300010 */
	MT_DET_BRUTE_FORCE_USER,      /**< 2300011 */
	MT_DET_PASSWORD_SPRAYING,     /**< 2300012 */
	MT_DET_CREDENTIAL_STUFFING,   /**< 2300013 */
	MT_DET_LOGIN_AFTER_FAILURES,  /**< 2300014 */
	MT_DET_TOKEN_REUSE,           /**< 2300020 */
	MT_DET_COOKIE_REUSE,          /**< 2300021 */
	MT_DET_JWT_ALG_NONE,          /**< 2300022 */
	MT_DET_JWT_EMPTY_SIGNATURE,   /**< 2300023 */
	MT_DET_JWT_EXPIRED,           /**< 2300024 */
	MT_DET_JWT_HEADER_INJECTION,  /**< 2300025 */
	MT_DET_JWT_BAD_SIGNATURE,     /**< 2300026 */
	MT_DET_APIKEY_IN_URL,         /**< 2300027 */
	MT_DET_PII_CARD,              /**< 2300030 */
	MT_DET_PII_SSN,               /**< 2300031 */
	MT_DET_PII_IBAN,              /**< 2300032 */
	MT_DET_PII_EMAIL_BULK,        /**< 2300033 */
	MT_DET_PII_PHONE_BULK,        /**< 2300034 */
	MT_DET_SECRET_PRIVATE_KEY,    /**< 2300040 */
	MT_DET_SECRET_CLOUD_KEY,      /**< 2300041 */
	MT_DET_SECRET_TOKEN,          /**< 2300042 */
	MT_DET_SECRET_HIGH_ENTROPY,   /**< 2300043 */
	MT_DET_SENSITIVE_UNAUTH,      /**< 2300050 */
	MT_DET_EXCESSIVE_DATA,        /**< 2300051 */
	MT_DET_PAGINATION_WALK,       /**< 2300052 */
	MT_DET_LIMIT_ABUSE,           /**< 2300053 */
	MT_DET_SENSITIVE_EXFIL,       /**< 2300054 */
	MT_DET_MASS_ASSIGNMENT,       /**< 2300060 */
	MT_DET__COUNT
};

/** What to do when a detector fires. */
enum mt_behav_action {
	MT_BEHAV_ALERT = 0,
	MT_BEHAV_BLOCK_IDENTITY,  /**< block the identity (token, key, cookie, user) */
	MT_BEHAV_BLOCK_CLIENT,    /**< block the client address */
};

/**
 * Per-detector settings. Every detector reads the same five numbers; what
 * each means for a given detector is in docs/BEHAVIOUR.md and in
 * mt_behav_det_doc[] (e.g. bola_enumeration: threshold = sequential run
 * length, min_count = distinct objects; ratio = factor or share).
 */
struct mt_behav_det_cfg {
	uint8_t enabled;
	uint8_t action;           /**< enum mt_behav_action */
	uint32_t block_s;         /**< block duration when action != alert */
	uint32_t window_s;        /**< counting window (tumbling) */
	uint32_t suppress_s;      /**< same detector + same actor: silent this long */
	uint32_t threshold;       /**< primary count */
	uint32_t min_count;       /**< secondary count (evidence floor) */
	double ratio;             /**< share (0..1) or factor (>1) */
};

#define MT_BEHAV_LIST_MAX 16    /**< entries per string list */
#define MT_BEHAV_STR_MAX 48     /**< bytes per list entry, NUL included */
#define MT_BEHAV_KEYS_MAX 4     /**< JWT verification keys */
#define MT_BEHAV_PEM_MAX 2048   /**< bytes per PEM key, NUL included */

/** A bounded list of short strings (compared case-insensitively). */
struct mt_behav_strlist {
	uint32_t n;
	char v[MT_BEHAV_LIST_MAX][MT_BEHAV_STR_MAX];
};

/** A JWT verification key. */
struct mt_behav_jwt_key {
	char alg[8];              /**< "HS256", "RS256" or "ES256" */
	char kid[MT_BEHAV_STR_MAX]; /**< "" matches any kid */
	char material[MT_BEHAV_PEM_MAX]; /**< HS256 secret or PEM public key */
};

/** A trusted reverse proxy network (X-Forwarded-For honoured from it). */
struct mt_behav_cidr {
	uint8_t family;           /**< 4 or 6 */
	uint8_t prefix;
	uint8_t addr[16];
};

/** Everything the module can be told. A plain value: copy freely. */
struct mt_behav_params {
	/* login */
	struct mt_behav_strlist login_paths;      /**< globs, '*' = one segment */
	struct mt_behav_strlist username_fields;
	struct mt_behav_strlist password_fields;
	struct mt_behav_strlist login_fail_bodies; /**< substrings, case-insensitive */
	uint16_t login_fail_status[8];            /**< 0-terminated */
	/* identity */
	struct mt_behav_strlist apikey_headers;
	struct mt_behav_strlist apikey_params;
	struct mt_behav_strlist session_cookies;
	struct mt_behav_strlist tenant_claims;
	struct mt_behav_strlist privilege_fields;
	struct mt_behav_strlist page_params;
	struct mt_behav_strlist limit_params;
	uint32_t n_proxies;
	struct mt_behav_cidr proxies[MT_BEHAV_LIST_MAX];
	/* JWT */
	uint32_t jwt_leeway_s;
	uint32_t n_jwt_keys;
	struct mt_behav_jwt_key jwt_keys[MT_BEHAV_KEYS_MAX];
	struct mt_behav_strlist jwt_allowed_jku_hosts;
	/* templates */
	uint32_t promote_after;        /**< distinct values before a slot becomes {param} */
	/* scanning */
	uint32_t scan_max_bytes;       /**< per body */
	/* memory caps (entries) */
	uint32_t max_identities;
	uint32_t max_actor_templates;
	uint32_t max_clients;
	uint32_t max_usernames;
	uint32_t max_credentials;
	uint32_t max_templates;
	uint32_t max_owned_objects;
	uint32_t max_slots;            /**< template slot promotion candidates */
	uint32_t max_suppress;         /**< suppression / block entries */
	/* detectors */
	struct mt_behav_det_cfg det[MT_DET__COUNT];
};

/** Fill @p p with defaults that protect a typical JSON API. */
void mt_behav_params_defaults(struct mt_behav_params *p);

/**
 * Apply a YAML or JSON snippet on top of @p p (keys absent from the
 * snippet keep their value). Strict: unknown keys, wrong types and values
 * out of range are errors. @p p is unchanged on error.
 * @param err  receives "line N: key: reason" (may be NULL)
 * @return 0 or -EINVAL.
 */
int mt_behav_params_load(struct mt_behav_params *p, const char *text, size_t len,
			 char *err, size_t errlen);

/**
 * The parameters as a JSON document (the schema the loader accepts; JWT
 * key material is replaced by "<redacted>"). @return malloc'd string or NULL.
 */
char *mt_behav_params_to_json(const struct mt_behav_params *p);

/** Name of a detector ("bola_enumeration"), or NULL. */
const char *mt_behav_det_name(enum mt_behav_det d);

/** Rule description of a detector (static storage), or NULL. */
const struct mt_rule_info *mt_behav_rule(enum mt_behav_det d);

/** Rule by sid, or NULL. */
const struct mt_rule_info *mt_behav_rule_by_sid(uint32_t sid);

/* ------------------------------------------------------------------ */
/* The transaction record (worker -> analytics)                         */
/* ------------------------------------------------------------------ */

/** Identity kinds, weakest first. */
enum mt_behav_id_kind {
	MT_ID_CLIENT = 0,   /**< no credential: the client address */
	MT_ID_BASIC,        /**< HTTP Basic user */
	MT_ID_COOKIE,       /**< session cookie */
	MT_ID_APIKEY,       /**< API key (header or query) */
	MT_ID_TOKEN,        /**< opaque bearer token */
	MT_ID_JWT,          /**< JWT iss + sub (+ tenant) */
};

/** PII types (index into mt_behav_rec.pii[]). */
enum mt_behav_pii {
	MT_PII_CARD, MT_PII_SSN, MT_PII_IBAN, MT_PII_EMAIL, MT_PII_PHONE, MT_PII__COUNT
};

/** Secret kinds (bits of mt_behav_rec.secrets). */
#define MT_SECRET_PRIVKEY   0x01u
#define MT_SECRET_CLOUD     0x02u
#define MT_SECRET_TOKEN     0x04u  /**< provider tokens (ghp_, xox?-, sk_live_) */
#define MT_SECRET_JWT       0x08u  /**< a JWT in a response body */
#define MT_SECRET_ENTROPY   0x10u

/** JWT facts (bits of mt_behav_rec.jwt). */
#define MT_JWT_PRESENT      0x01u
#define MT_JWT_ALG_NONE     0x02u
#define MT_JWT_EMPTY_SIG    0x04u
#define MT_JWT_EXPIRED      0x08u
#define MT_JWT_HDR_INJECT   0x10u
#define MT_JWT_SIG_OK       0x20u
#define MT_JWT_SIG_BAD      0x40u
#define MT_JWT_MALFORMED    0x80u

/** Record flags (bits of mt_behav_rec.flags). */
#define MT_REC_LOGIN        0x0001u  /**< login endpoint */
#define MT_REC_LOGIN_FAIL   0x0002u  /**< login outcome: failure (else success) */
#define MT_REC_HAS_USER     0x0004u  /**< user_hash valid */
#define MT_REC_WRITE        0x0008u  /**< POST/PUT/PATCH/DELETE */
#define MT_REC_HAS_OBJ      0x0010u  /**< obj_hash valid */
#define MT_REC_OBJ_NUMERIC  0x0020u  /**< obj_num valid */
#define MT_REC_APIKEY_URL   0x0040u
#define MT_REC_CARD_CONTEXT 0x0080u  /**< a valid card under a card-like key or grouped */
#define MT_REC_HAS_PAGE     0x0100u
#define MT_REC_HAS_LIMIT    0x0200u
#define MT_REC_RESP_SCANNED 0x0400u  /**< response body was scanned */
#define MT_REC_FAIL_BODY    0x0800u  /**< login failure pattern in the response */
#define MT_REC_ENCODED      0x1000u  /**< response body compressed and not (fully)
					  scanned: unsupported coding or no inflater */
#define MT_REC_HAS_RESP     0x2000u

#define MT_BEHAV_HOST_MAX 48
#define MT_BEHAV_TMPL_MAX 112
#define MT_BEHAV_SEGS 8        /**< path segments hashed for promotion */
#define MT_BEHAV_RESP_IDS 8    /**< IDs harvested per response */

/**
 * One completed transaction, fixed size, no pointers: copy it into a ring.
 * All hashes are keyed (per process); 0 means "absent".
 */
struct mt_behav_rec {
	uint64_t ts_ns;
	uint64_t flow_id;
	uint64_t txn_id;
	uint64_t id_hash;          /**< identity (kind in id_kind) */
	uint64_t cred_hash;        /**< the credential itself (token/key/cookie/basic) */
	uint64_t user_hash;        /**< login username */
	uint64_t tmpl_id;          /**< hash(host, method, tmpl) */
	uint64_t obj_hash;         /**< object id in the path (last {id} slot) */
	uint64_t obj_num;          /**< its numeric value when decimal */
	uint64_t seg_hash[MT_BEHAV_SEGS]; /**< every path segment, for promotion */
	uint64_t resp_ids[MT_BEHAV_RESP_IDS]; /**< "id"/"uuid" values in the response */
	uint64_t req_bytes;        /**< request body bytes */
	uint64_t resp_bytes;       /**< response body bytes */
	uint32_t resp_records;     /**< JSON objects inside arrays */
	uint32_t page;             /**< page number (or offset / limit + 1) */
	uint32_t limit;            /**< limit / size / per_page */
	uint32_t priv_fields;      /**< bit i: privilege_fields.v[i] in the request body */
	uint16_t status;
	uint16_t flags;            /**< MT_REC_* */
	uint16_t pii[MT_PII__COUNT];
	uint16_t card_tokens;      /**< 13..19-digit tokens (valid or not) */
	uint8_t secrets;           /**< MT_SECRET_* */
	uint8_t jwt;               /**< MT_JWT_* */
	uint8_t id_kind;           /**< enum mt_behav_id_kind */
	uint8_t cred_kind;         /**< enum mt_behav_id_kind of the credential, 0 = none */
	uint8_t family;            /**< client address family (4/6), after XFF */
	uint8_t n_segs;
	uint8_t obj_slot;          /**< segment index of the object id */
	uint8_t n_resp_ids;
	uint8_t client_ip[16];
	char method[8];
	char host[MT_BEHAV_HOST_MAX];
	char tmpl[MT_BEHAV_TMPL_MAX]; /**< "/api/v1/users/{id}/orders/{id}" */
};

/* ------------------------------------------------------------------ */
/* Worker side                                                          */
/* ------------------------------------------------------------------ */

#define MT_BEHAV_KV_KEY 32
#define MT_BEHAV_KV_VAL 64
#define MT_BEHAV_WORD 96
#define MT_BEHAV_FAILPAT 4

/**
 * Streaming body scanner state for one message direction. Treat as
 * opaque; it is public only so the data plane can embed it.
 * sizeof(struct mt_behav_msg) <= 512 (static_assert in mt_behav_rec.c).
 */
struct mt_behav_msg {
	/* what to do */
	uint8_t dir;
	uint8_t active;
	uint8_t mode;              /**< 0 skip, 1 JSON, 2 form, 3 text */
	uint8_t want;              /**< MT_BM_WANT_* */
	uint32_t scanned;
	/* key/value tokenizer (JSON or form) */
	uint8_t kv_state;
	uint8_t depth;
	uint8_t expect_key;
	uint8_t key_len;
	uint8_t val_len;
	uint8_t val_str;
	uint8_t val_trunc;
	uint8_t hexdig;
	uint64_t stack;            /**< bit d: container at depth d is an array */
	uint32_t val_total;
	char key[MT_BEHAV_KV_KEY];
	char val[MT_BEHAV_KV_VAL];
	/* digit tokens: cards, SSN, phones */
	uint8_t d_n;
	uint8_t d_seps;
	uint8_t d_plus;
	uint8_t d_bad;             /**< glued to letters or too long */
	uint8_t d_groups;          /**< number of digit groups */
	uint8_t d_grp[6];          /**< group lengths */
	uint8_t d_sepch;
	uint8_t d_run;             /**< separators since the last digit */
	uint8_t prev;              /**< previous byte */
	char d[20];
	/* email */
	uint8_t em_state;
	uint8_t em_local;
	uint8_t em_label;
	uint8_t em_dots;
	uint8_t em_alpha;
	/* IBAN */
	uint8_t ib_n;
	uint8_t ib_bad;
	char ib[35];
	/* secret words */
	uint8_t w_dots;
	uint8_t w_seg2;            /**< offset where the 2nd dot segment starts */
	uint16_t w_len;
	char w[MT_BEHAV_WORD];
	/* substring matchers: private key, login failure patterns */
	uint8_t pk_state;
	uint8_t fp_state[MT_BEHAV_FAILPAT];
	/* Content-Encoding: how the body reaches the scanners (MT_BM_ENC_*),
	 * and the inflater slot it holds in the worker context's pool: an
	 * index and an id (pool tag << 16 | sequence), checked before use;
	 * never a pointer, the worker context may change mid-body */
	uint8_t enc;
	uint8_t dec_slot;
	uint32_t dec_id;           /**< 0: no slot */
};

/** Per-worker context. */
struct mt_behav_worker;

/** Per-worker counters (plain; the control plane sums them). */
struct mt_behav_wstats {
	uint64_t requests;
	uint64_t records;
	uint64_t body_bytes_scanned;
	uint64_t body_bytes_skipped;   /**< over scan_max_bytes or binary */
	uint64_t jwt_seen;
	uint64_t jwt_verified;         /**< signature checks actually run */
	uint64_t jwt_cache_hits;       /**< checks answered by the cache */
	uint64_t request_hits;         /**< detections at request head */
	/* Content-Encoding gzip / x-gzip / deflate bodies */
	uint64_t bodies_tapped;        /**< decoded bytes taken from the signature engine */
	uint64_t bodies_inflated;      /**< decoded by the worker's own inflater */
	uint64_t inflate_errors;       /**< own inflater: corrupt, the rest scanned raw */
	uint64_t inflate_cap_hits;     /**< own inflater: cut at the decoded-bytes cap */
	uint64_t inflate_lost;         /**< encoded bodies not fully scanned: no inflater
					    free, or the engine's stopped mid-body */
	uint64_t encoding_unsupported; /**< br, compress, stacked codings: not scanned */
};

/**
 * Create a worker context from @p p (parses JWT keys; off the hot path).
 * @return the context, or NULL with errno set (EINVAL: a bad key).
 */
struct mt_behav_worker *mt_behav_worker_create(const struct mt_behav_params *p);

/** Free a worker context. */
void mt_behav_worker_destroy(struct mt_behav_worker *w);

/** The worker's counters. */
const struct mt_behav_wstats *mt_behav_worker_stats(const struct mt_behav_worker *w);

/**
 * Count into @p st from now on (NULL: the context's own counters). A data
 * plane worker binds every context it switches to (detector settings
 * change them) to one set of counters that outlives them all.
 */
void mt_behav_worker_bind_stats(struct mt_behav_worker *w, struct mt_behav_wstats *st);

/** Most detections returned at request head. */
#define MT_BEHAV_REQ_HITS 8

/**
 * Request head complete: resolve client (X-Forwarded-For from trusted
 * proxies), identity, credential, JWT facts, template, object id, page and
 * limit, login endpoint; start the request body scanner.
 *
 * Hot path: no heap, except that RS256/ES256 verification goes through
 * OpenSSL (which allocates internally); its results are cached per worker
 * by token hash, so each distinct token is verified once.
 *
 * @param rec   the transaction's record, fully (re)initialised here
 * @param req   the request body scanner state (initialised here)
 * @param hits  receives request-time detections (JWT forgeries, API key
 *              in URL): rules whose action the caller applies inline
 * @return number of hits written (<= max).
 */
unsigned mt_behav_req_head(struct mt_behav_worker *w, const struct mt_txn *t,
			   struct mt_behav_rec *rec, struct mt_behav_msg *req,
			   const struct mt_rule_info **hits, unsigned max);

/**
 * Body bytes as they come off the wire, de-chunked, for the message whose
 * scanner is @p m. Matches split across calls are found. When the head
 * said Content-Encoding gzip / x-gzip / deflate the bytes are inflated
 * here (a slot of the worker's preallocated inflaters, same cap as the
 * signature engine), unless mt_behav_body_external() handed decoding to
 * the caller: then only the wire size is counted here.
 */
void mt_behav_body(struct mt_behav_worker *w, struct mt_behav_rec *rec,
		   struct mt_behav_msg *m, const uint8_t *p, uint32_t len);

/**
 * The caller inflates this message's body itself (the signature engine's
 * body tap, mt_body_set_tap()) and passes the decoded bytes to
 * mt_behav_body_decoded(), so the body is inflated once. Call after the
 * head function that started @p m, before its first body byte.
 * @return 1 if accepted (the body is gzip/deflate and is scanned), else 0
 *         (nothing changes; the decoded bytes would be ignored).
 */
int mt_behav_body_external(struct mt_behav_worker *w, struct mt_behav_msg *m);

/** Decoded body bytes of a message under mt_behav_body_external(). */
void mt_behav_body_decoded(struct mt_behav_worker *w, struct mt_behav_rec *rec,
			   struct mt_behav_msg *m, const uint8_t *p, uint32_t len);

/**
 * The caller's inflater for @p m stopped before the end of the body
 * (its state was dropped): what was scanned counts, the rest cannot be
 * decoded (inflate_lost, MT_REC_ENCODED). No-op for other messages.
 */
void mt_behav_body_external_lost(struct mt_behav_worker *w, struct mt_behav_rec *rec,
				 struct mt_behav_msg *m);

/** End of the body of @p m: flush the pending tokens into @p rec. */
void mt_behav_body_end(struct mt_behav_worker *w, struct mt_behav_rec *rec,
		       struct mt_behav_msg *m);

/** Response head complete: status; start the response body scanner. */
void mt_behav_resp_head(struct mt_behav_worker *w, const struct mt_txn *t,
			struct mt_behav_rec *rec, struct mt_behav_msg *resp);

/**
 * Transaction complete (response body ended, or the flow closed): decide
 * the login outcome, body sizes. The record is then ready to be copied to
 * the analytics stage.
 */
void mt_behav_txn_end(struct mt_behav_worker *w, const struct mt_txn *t,
		      struct mt_behav_rec *rec);

/* ------------------------------------------------------------------ */
/* Analytics side (one thread)                                          */
/* ------------------------------------------------------------------ */

#define MT_BEHAV_EVIDENCE_MAX 640

/** One behavioural detection. */
struct mt_behav_detection {
	const struct mt_rule_info *rule;
	enum mt_behav_det det;
	uint8_t action;            /**< enum mt_behav_action */
	uint8_t id_kind;
	uint8_t family;
	uint8_t client_ip[16];
	uint64_t id_hash;
	uint64_t ts_ns;
	uint64_t flow_id;          /**< of the record that tipped the detector */
	uint64_t txn_id;
	uint64_t expires_ns;       /**< block end (0 for alerts) */
	char evidence[MT_BEHAV_EVIDENCE_MAX]; /**< JSON object text */
};

/** Analytics counters. */
struct mt_behav_stats {
	uint64_t records;
	uint64_t detections;
	uint64_t suppressed;           /**< detections silenced by suppress_s */
	uint64_t detections_dropped;   /**< more than the caller's max */
	uint64_t evictions[9];         /**< per table, in mt_behav_table order */
	uint32_t entries[9];
	uint32_t caps[9];
	uint64_t templates_promoted;
	uint64_t blocks_active;
};

/** Tables, for stats (names via mt_behav_table_name()). */
enum mt_behav_table {
	MT_TAB_IDENTITY, MT_TAB_ACTOR_TMPL, MT_TAB_CLIENT, MT_TAB_USER, MT_TAB_CRED,
	MT_TAB_TEMPLATE, MT_TAB_OWNER, MT_TAB_SLOT, MT_TAB_SUPPRESS, MT_TAB__COUNT
};

struct mt_behav;

/** @return analytics state or NULL (errno: ENOMEM, EINVAL). */
struct mt_behav *mt_behav_create(const struct mt_behav_params *p);

/** Free it. */
void mt_behav_destroy(struct mt_behav *b);

/** Replace the parameters (caps keep their creation value). */
void mt_behav_set_params(struct mt_behav *b, const struct mt_behav_params *p);

/**
 * Process one completed record: update inventory and tables, evaluate the
 * detectors. @return number of detections written to @p out (<= max).
 */
unsigned mt_behav_process(struct mt_behav *b, const struct mt_behav_rec *r,
			  struct mt_behav_detection *out, unsigned max);

/** Expire blocks whose time is over. @return blocks still active. */
unsigned mt_behav_tick(struct mt_behav *b, uint64_t now_ns);

/** Is this identity (kind + hash) or client blocked at @p now_ns? */
int mt_behav_blocked(const struct mt_behav *b, uint64_t id_hash, uint8_t family,
		     const uint8_t *client_ip, uint64_t now_ns);

/** Counters and table sizes. */
void mt_behav_get_stats(const struct mt_behav *b, struct mt_behav_stats *s);

/** Name of a table ("identity", ...). */
const char *mt_behav_table_name(enum mt_behav_table t);

/**
 * Endpoint inventory as JSON: {"endpoints":[{host, method, template,
 * requests, status{}, auth, unauth, resp_bytes{min,max,avg}, sensitive[],
 * first_seen, last_seen, source}]}. @return malloc'd string or NULL.
 */
char *mt_behav_inventory_json(const struct mt_behav *b);

/** Endpoint inventory as an OpenAPI 3.0 document (JSON). malloc'd or NULL. */
char *mt_behav_inventory_openapi(const struct mt_behav *b);

/**
 * Import an OpenAPI 3 document (JSON or YAML): its paths define templates
 * ("/users/{userId}") that take precedence over learned ones, and its
 * request body schemas tell mass_assignment which fields an endpoint takes.
 * @return number of operations imported, or -EINVAL (err filled).
 */
int mt_behav_openapi_import(struct mt_behav *b, const char *text, size_t len,
			    char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Building blocks, exported for tests and the control plane           */
/* ------------------------------------------------------------------ */

/** Luhn + IIN + length check of a digit string. */
int mt_pii_card_valid(const char *digits, size_t n);
/** US SSN (9 digits) area/group/serial rules. */
int mt_pii_ssn_valid(const char *digits9);
/** IBAN (no spaces, upper case): country length + mod 97. */
int mt_pii_iban_valid(const char *s, size_t n);

/** Keyed (per-process) HMAC-SHA256 of @p p truncated to 64 bits, never 0. */
uint64_t mt_behav_keyed_hash(const void *p, size_t n);

#endif /* MT_BEHAV_H */
