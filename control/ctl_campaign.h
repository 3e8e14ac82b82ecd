/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Attack campaigns: alerts that belong to one attacker, linked through the
 * keys they share (client address, its /24 or /64 network, identity hash,
 * credential hash, username tried at login, user agent within a network),
 * followed through the ATT&CK lifecycle.
 *
 * Input is the alert's EVE object (as ctl_eve_alert_json() builds it) and
 * its time; output is zero or more "campaign" EVE events (the campaign
 * reached two tactics, or a new tactic) and, when a response rule of the
 * policy matches, calls of the caller's block function for every client
 * address and identity of the actor. Pure logic: no EAL, no I/O.
 *
 * Memory is capped: a key table (links expire after link_ttl) and a
 * campaign table (the least recently active campaign is evicted when it is
 * full); what the caps refuse is counted (ctl_campaign_stats()).
 *
 * Threads: ctl_campaign_observe() on the control thread; the query
 * functions from any thread (one internal mutex).
 */
#ifndef CTL_CAMPAIGN_H
#define CTL_CAMPAIGN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/** Tactics in lifecycle order (the stage is the furthest one reached). */
#define CTL_CAMPAIGN_N_TACTICS 14

/** Keys alerts are linked through. */
enum ctl_campaign_key {
	CTL_CAMPAIGN_K_CLIENT = 0,  /**< client address */
	CTL_CAMPAIGN_K_NETWORK,     /**< its /network_v4 or /network_v6 prefix */
	CTL_CAMPAIGN_K_IDENTITY,    /**< identity hash (token, API key, cookie, JWT subject, Basic user) */
	CTL_CAMPAIGN_K_CREDENTIAL,  /**< credential hash (token_reuse, cookie_reuse evidence) */
	CTL_CAMPAIGN_K_USERNAME,    /**< username hash tried at login */
	CTL_CAMPAIGN_K_USER_AGENT,  /**< user agent within one network */
	CTL_CAMPAIGN_N_KEYS,
};

/** One response rule: once stage >= @c stage (and @c after, when >= 0,
 * was reached before it), block every key of the actor. */
struct ctl_campaign_rule {
	int stage;                  /**< tactic index in lifecycle order */
	int after;                  /**< tactic index, or -1 */
	uint32_t block_s;           /**< block duration; 0 = forever */
};

#define CTL_CAMPAIGN_MAX_RULES 8

/** Settings (ctl_campaign_params_default(), ctl_campaign_params_load()). */
struct ctl_campaign_params {
	uint32_t link_ttl_s;        /**< a link (key -> campaign) expires this long after last use */
	uint32_t idle_s;            /**< a campaign is closed after this long without alerts */
	uint32_t max_keys;          /**< key table entries */
	uint32_t max_campaigns;     /**< campaigns kept */
	uint32_t max_alerts;        /**< alert references kept per campaign */
	uint32_t min_tactics;       /**< tactics before a campaign is reported (2) */
	uint8_t network_v4;         /**< prefix length of the network key, 0 = off */
	uint8_t network_v6;
	bool link[CTL_CAMPAIGN_N_KEYS]; /**< which keys link */
	struct ctl_campaign_rule policy[CTL_CAMPAIGN_MAX_RULES];
	unsigned int n_policy;
};

/** What the response policy asks to block (see ctl_campaign_block_fn). */
struct ctl_campaign_block {
	bool identity;              /**< false: client address */
	uint8_t family;             /**< 4 or 6 (clients) */
	uint8_t addr[16];
	uint64_t id_hash;           /**< identities */
	uint64_t now_ns;
	uint64_t expires_ns;        /**< UINT64_MAX: forever */
	uint64_t campaign;
	const char *reason;
};

/** Block callback: 0 or a negative errno (counted as a failed block). */
typedef int (*ctl_campaign_block_fn)(void *arg, const struct ctl_campaign_block *b);

struct ctl_campaign;

/** Defaults: links 1 h, idle 1 h, 65536 keys, 4096 campaigns, 256 alerts,
 * /24 and /64, every key links, two tactics, no response rule. */
void ctl_campaign_params_default(struct ctl_campaign_params *p);

/**
 * Apply a JSON object on top of @p p (keys absent keep their value):
 * link_ttl, idle, max_keys, max_campaigns, max_alerts, min_tactics,
 * network_v4, network_v6, link{client,network,identity,credential,
 * username,user_agent}, policy[{stage, after?, action:"block",
 * block_seconds?}]. Unknown keys, wrong types, bad ranges: error.
 * @param err receives a malloc'd message naming the key on failure
 * @return 0 or -EINVAL (p unchanged)
 */
int ctl_campaign_params_load(struct ctl_campaign_params *p, json_t *j, char **err);

/** Settings as JSON (the ctl_campaign_params_load() schema). A new object. */
json_t *ctl_campaign_params_json(const struct ctl_campaign_params *p);

/**
 * @param block called for response-policy blocks; NULL: policy only reports
 * @return engine or NULL (errno set)
 */
struct ctl_campaign *ctl_campaign_create(const struct ctl_campaign_params *p,
					 ctl_campaign_block_fn block, void *block_arg);

void ctl_campaign_destroy(struct ctl_campaign *c);

/**
 * Link one alert into its actor's campaign.
 * @param eve    the alert's EVE object (read only; not kept)
 * @param ts_ns  its time (packet time offline), ns since the epoch
 * @return a new array of campaign EVE events to write (possibly empty)
 */
json_t *ctl_campaign_observe(struct ctl_campaign *c, json_t *eve, uint64_t ts_ns);

/** What GET /campaigns selects; NULL/0 do not filter. */
struct ctl_campaign_filter {
	int stage;                  /**< minimum stage index, -1 any */
	int tactic;                 /**< campaigns that reached this tactic, -1 any */
	uint64_t since_ns;          /**< last seen >= */
	uint64_t until_ns;          /**< first seen <= (0: no bound) */
	bool open_only;
	uint32_t limit;             /**< 0: 100 */
};

/** Campaign summaries (newest activity first). A new array. */
json_t *ctl_campaign_list(struct ctl_campaign *c, const struct ctl_campaign_filter *f);

/** One campaign with its timeline; NULL if unknown. A new object. */
json_t *ctl_campaign_get(struct ctl_campaign *c, uint64_t id);

/**
 * Per-technique scores of one campaign for a Navigator layer:
 * {"techniques": {T: {"count": n, "order": k}}, "owasp_api": {...},
 * "alerts": n, "id": id}; NULL if unknown.
 */
json_t *ctl_campaign_techniques(struct ctl_campaign *c, uint64_t id);

/**
 * Every campaign with its full timeline, oldest first, and the counters:
 * {"campaigns": [...], "stats": {...}} (written at exit). A new object.
 */
json_t *ctl_campaign_dump(struct ctl_campaign *c);

/**
 * Counters and table sizes. A new object: running totals (alerts,
 * alerts_linked, unlinked, events, merges, created, campaigns_evicted,
 * keys_expired, keys_refused, alert_refs_dropped, blocks, block_failures),
 * levels (campaigns, open, keys, max_campaigns, max_keys), by_stage
 * {stage: campaigns held now whose stage it is} and stage_reached
 * {stage: times a campaign's stage advanced to it}, every stage listed.
 */
json_t *ctl_campaign_stats(struct ctl_campaign *c);

/** Tactic index of a shortname ("collection") or id ("TA0009"); -1 if unknown. */
int ctl_campaign_tactic_index(const char *name);

/** Shortname of tactic index @p i (lifecycle order). */
const char *ctl_campaign_tactic_name(int i);

#endif
