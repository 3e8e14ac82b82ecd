/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Analytics-stage state shared by mt_detect.c, mt_inventory.c and
 * mt_openapi.c. One thread owns all of it.
 */
#ifndef MT_BEHAV_AN_INT_H
#define MT_BEHAV_AN_INT_H

#include "mt_behav_int.h"

#define HLL_P_SMALL 6   /* 64 B, 13% error: per-entry distinct counts */
#define HLL_P_MED 7     /* 128 B, 9% */
#define HLL_P_BIG 10    /* 1 KiB, 3.3%: global login counts */

struct ident_e {
	uint8_t kind;
	uint64_t win_err, win_404, win_data, win_foreign;
	uint32_t req, err, n404;
	uint64_t bytes;
	uint64_t records;
	uint32_t foreign_n;
	uint64_t foreign_recent[8];
	uint8_t hll404[1 << HLL_P_SMALL];
	/* sensitive_exfiltration: what the identity received in its window
	 * from responses that carried sensitive data */
	uint64_t win_exfil, ex_bytes;
	uint32_t ex_records, ex_resp;
	uint32_t ex_pii[MT_PII__COUNT];
	uint8_t ex_secrets;          /* MT_SECRET_* seen */
	uint8_t ex_fired;            /* fired in this window: it does not teach the usual */
};

struct at_e {
	uint64_t win_obj, win_page;
	uint64_t last_num;
	uint32_t seq_run, reqs;
	uint32_t last_page, page_run;
	uint64_t samples[4];
	uint8_t ns, has_last;
	double est;                  /* cached estimate of hll */
	uint8_t hll[1 << HLL_P_MED];
};

struct cl_e {
	uint64_t win;
	uint64_t lg_win;             /* global login window it failed in */
	uint32_t lg_fails;           /* its failures in that window */
	uint8_t lg_ok;               /* it succeeded after failing */
	uint32_t fails, attempts;
	uint8_t users[1 << HLL_P_SMALL];
};

struct us_e {
	uint64_t win, last_fail;
	uint32_t fails, fails_run;
	uint64_t ok_clients[4];
	uint8_t n_ok;
};

struct cr_e {
	uint64_t win;
	uint8_t kind;
	double est;
	uint8_t nets[1 << HLL_P_SMALL];
};

#define TM_UNAUTH_OBJS 8

struct tm_e {
	char host[MT_BEHAV_HOST_MAX];
	char method[8];
	char tmpl[MT_BEHAV_TMPL_MAX];
	uint64_t first, last, requests;
	uint64_t status[6];          /* 1xx..5xx, other */
	uint64_t auth, unauth;
	uint64_t resp_min, resp_max, resp_sum;
	uint32_t sensitive;          /* bit t: PII type t; bit 8+k: secret bit k */
	double usual_objs;
	uint32_t n_obj_windows;
	double usual_limit;
	uint32_t n_limits;
	uint32_t writes;
	uint32_t priv_count[MT_BEHAV_LIST_MAX];
	int32_t op;                  /* OpenAPI operation index, -1 none */
	uint8_t login;
	/* objects whose contact data went to callers without credentials */
	uint32_t n_unauth_objs;
	uint64_t unauth_objs[TM_UNAUTH_OBJS];
};

struct sl_e {
	uint8_t promoted;
	uint8_t hll[1 << HLL_P_SMALL];
};

struct own_e {
	uint64_t owner;
};

struct sup_e {
	uint64_t until;
};

struct blk_e {
	uint64_t until;
};

/* One OpenAPI operation. */
struct oa_op {
	char method[8];
	char tmpl[MT_BEHAV_TMPL_MAX];  /* "/users/{userId}" */
	uint8_t n_segs;
	uint8_t has_body;              /* the request body schema lists properties */
	uint32_t allowed_priv;         /* bit i: privilege_fields[i] is a property */
};

struct mt_behav {
	struct mt_behav_params p;
	struct mt_lru *t[MT_TAB__COUNT];
	struct mt_lru *blocks;
	struct mt_behav_stats st;
	/* login statistics of clients that failed (credential stuffing) */
	uint64_t lg_win;
	uint32_t lg_fo_clients;        /* clients that failed and never succeeded */
	uint32_t lg_fo_fails;          /* their failures */
	uint8_t lg_fired;              /* stuffing reported in this window */
	double lg_usual;               /* usual lg_fo_clients per window (EWMA) */
	uint32_t lg_nwin;              /* closed windows in lg_usual */
	uint8_t lg_users[1 << HLL_P_BIG]; /* usernames those clients failed on */
	/* usual bytes / records per identity window (EWMA over closed windows) */
	double usual_bytes, usual_records;
	uint32_t n_data_windows;
	/* usual sensitive bytes / records per identity window (same, for
	 * sensitive_exfiltration; only windows that received any teach it) */
	double usual_ex_bytes, usual_ex_records;
	uint32_t n_ex_windows;
	/* OpenAPI */
	struct oa_op *ops;
	uint32_t n_ops;
};

/* The record's template after OpenAPI match and slot promotion. */
struct tm_res {
	char tmpl[MT_BEHAV_TMPL_MAX];
	uint64_t id;
	uint64_t obj_hash;
	uint8_t has_obj;
	uint64_t coll;        /* collection of the object (resource name before its slot) */
	uint64_t create_coll; /* collection of the objects a write here creates */
	int32_t op;
};

void mt_an_resolve(struct mt_behav *b, const struct mt_behav_rec *r, struct tm_res *res);
struct tm_e *mt_an_inventory(struct mt_behav *b, const struct mt_behav_rec *r,
			     const struct tm_res *res);
/** Match an OpenAPI operation; -1 if none. */
int32_t mt_an_openapi_match(const struct mt_behav *b, const char *method, const char *tmpl);

#endif /* MT_BEHAV_AN_INT_H */
