/* gen_scn.h - scripted behaviour scenarios for apiguard-gen: a population
 * of benign API users with stable identities plus one attack (or, for a
 * "NAME-benign" twin, the same actors staying below the detection
 * thresholds), written as complete HTTP exchanges grouped into TCP
 * sessions. apiguard-gen turns the sessions into packets.
 *
 * The scenario names, sids and tags follow the behaviour detector
 * catalogue (sids 2300001-2300060).
 */
#ifndef GEN_SCN_H
#define GEN_SCN_H

#include <stdint.h>
#include <stdio.h>
#include "gen_util.h"

#define GEN_SCN_MAX_KINDS 16
#define GEN_SCN_MAX_SIDS 24

/* Shared HMAC key of every benign HS256 token, so that an appliance
 * configured with it can verify signatures (jwt_bad_signature). */
#define GEN_SCN_JWT_SECRET "apiguard-gen-demo-hs256-secret"

/* One request/response exchange; offsets point into gen_scn.buf. */
struct gen_scn_xchg {
	uint32_t req_off, req_len;
	uint32_t head_len;        /* request head incl. the blank line */
	uint32_t uri_off, uri_len; /* relative to req_off */
	uint32_t resp_off, resp_len;
	uint16_t status;
	uint8_t chunked;
	int8_t kind;              /* -1 benign, else index into kinds[] */
	char method[8];
};

/* One keep-alive TCP session of one client. */
struct gen_scn_sess {
	uint64_t start_us;    /* offset from the capture start */
	uint32_t client_ip;   /* IPv4, host order */
	uint32_t think_us;    /* mean client pause between exchanges */
	uint32_t first, count; /* exchanges x[first .. first+count) */
	uint8_t small_split;  /* cut messages into small segments */
};

struct gen_scn {
	char name[48];
	int benign_twin;
	struct gen_sb buf;
	struct gen_scn_xchg *x;
	size_t nx, capx;
	struct gen_scn_sess *s; /* sorted by start_us */
	size_t ns, caps;
	const char *kinds[GEN_SCN_MAX_KINDS]; /* manifest "kind" names */
	int nkinds;
	uint32_t sids[GEN_SCN_MAX_SIDS];      /* expected sids (union) */
	int nsids;
	uint32_t users;                       /* benign identities */
	const char *settings;                 /* detector settings (JSON) the appliance
						 needs for this scenario, or NULL */
};

/** @return 1 if @p name is a behaviour scenario (or its -benign twin). */
int gen_scn_known(const char *name);

/** Print the scenario names, space separated. */
void gen_scn_list(FILE *out);

/**
 * Build scenario @p name deterministically from @p seed.
 * @param base_us  capture start (µs since the epoch), for token times
 * @return 0, or -EINVAL for an unknown name
 */
int gen_scn_build(struct gen_scn *s, const char *name, uint64_t seed,
		  uint64_t base_us);

/** Expected sids of one kind (for the manifest), 0-terminated. */
const uint32_t *gen_scn_kind_sids(const char *kind);

void gen_scn_free(struct gen_scn *s);

#endif /* GEN_SCN_H */
