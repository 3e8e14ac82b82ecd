/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attack campaigns (see ctl_campaign.h). Keys live in one chained hash
 * table of fixed size (FNV-1a of kind + value); each entry points at a
 * campaign slot and carries its last use, so links expire without a
 * timer. An alert whose keys point at two campaigns merges them (the
 * older one survives): that is how an actor who changes address but keeps
 * a token, or logs in as the user it was guessing, stays one actor.
 * Campaign contents are jansson objects: this is control-plane code,
 * one alert at a time, never on the packet path.
 */
#include "ctl_campaign.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mt_attack.h"

#define NS 1000000000ull
#define CC_MAX_CLIENTS 16
#define CC_MAX_IDS 16
#define CC_MAX_ENDPOINTS 64
#define CC_MAX_TOUCHED 64
#define CC_EVENT_ALERTS 64

static const char *const cc_tactics[CTL_CAMPAIGN_N_TACTICS] = {
	"reconnaissance", "resource-development", "initial-access", "execution",
	"persistence", "privilege-escalation", "defense-evasion", "credential-access",
	"discovery", "lateral-movement", "collection", "command-and-control",
	"exfiltration", "impact",
};

static const char *const cc_key_names[CTL_CAMPAIGN_N_KEYS] = {
	"client", "network", "identity", "credential", "username", "user_agent",
};

struct cc_key {
	uint64_t h;
	uint64_t last_ns;
	uint32_t slot;          /* campaign slot + 1; 0: free entry */
	uint32_t next;          /* chain: entry index + 1 */
};

struct cc_client {
	uint8_t family;
	uint8_t addr[16];
	bool blocked;
	char str[INET6_ADDRSTRLEN];
};

struct cc_ident {
	uint64_t hash;
	bool blocked;
	char kind[12];
};

struct cc_camp {
	uint64_t id;            /* 0: free slot */
	uint64_t first_ns, last_ns;
	uint64_t tactic_first[CTL_CAMPAIGN_N_TACTICS]; /* 0: not reached */
	uint64_t objects, bytes;
	uint64_t n_alerts, alerts_dropped;
	unsigned int reported_tactics;  /* tactics when the last event went out */
	int counted_stage;              /* furthest stage counted in stage_reached, -1 none */
	uint32_t rules_applied;         /* bit per policy rule */
	struct cc_client clients[CC_MAX_CLIENTS];
	unsigned int n_clients;
	struct cc_ident ids[CC_MAX_IDS];
	unsigned int n_ids;
	json_t *alerts;         /* refs, in arrival order */
	json_t *techniques;     /* T -> {"count", "order", "first_seen"} */
	json_t *owasp;          /* id -> count */
	json_t *endpoints;      /* "METHOD host template" -> count */
	json_t *touched;        /* identity hashes read from (owners), usernames tried */
	json_t *keys;           /* kind -> [values] (display; hashes only) */
	uint64_t merged;        /* campaigns merged into this one */
};

struct ctl_campaign {
	pthread_mutex_t lock;
	struct ctl_campaign_params p;
	ctl_campaign_block_fn block;
	void *block_arg;
	struct cc_key *keys;
	uint32_t *buckets;      /* entry index + 1 */
	uint32_t nbuckets;
	uint32_t free_head;     /* entry index + 1 */
	uint32_t n_keys;
	struct cc_camp *camps;
	uint64_t next_id;
	uint64_t now_ns;        /* newest alert time */
	/* counters */
	uint64_t alerts, unlinked, events, merges, keys_expired, keys_refused,
		 campaigns_evicted, blocks, block_failures, dropped_refs, created;
	/* times a campaign's stage advanced to each stage (a jump counts
	 * the stage it lands on only) */
	uint64_t stage_reached[CTL_CAMPAIGN_N_TACTICS];
};

/* ---- tactics ---- */

int
ctl_campaign_tactic_index(const char *name)
{
	const struct mt_attack_tactic *t;
	int i;

	if (name == NULL)
		return -1;
	t = mt_attack_tactic_find(name);
	if (t != NULL)
		name = t->shortname;
	for (i = 0; i < CTL_CAMPAIGN_N_TACTICS; i++)
		if (strcmp(cc_tactics[i], name) == 0)
			return i;
	return -1;
}

const char *
ctl_campaign_tactic_name(int i)
{
	return i >= 0 && i < CTL_CAMPAIGN_N_TACTICS ? cc_tactics[i] : "";
}

/* Tactic bits of a technique from the vendored ATT&CK table. */
static uint32_t
cc_technique_tactics(const char *id)
{
	const struct mt_attack_technique *t = mt_attack_technique_find(id);
	char buf[256], *tok, *save = NULL;
	uint32_t m = 0;

	if (t == NULL || t->tactics == NULL)
		return 0;
	snprintf(buf, sizeof(buf), "%s", t->tactics);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		while (*tok == ' ')
			tok++;
		i = ctl_campaign_tactic_index(tok);
		if (i >= 0)
			m |= 1u << i;
	}
	return m;
}

/* ---- parameters ---- */

void
ctl_campaign_params_default(struct ctl_campaign_params *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->link_ttl_s = 3600;
	p->idle_s = 3600;
	p->max_keys = 65536;
	p->max_campaigns = 4096;
	p->max_alerts = 256;
	p->min_tactics = 2;
	p->network_v4 = 24;
	p->network_v6 = 64;
	for (i = 0; i < CTL_CAMPAIGN_N_KEYS; i++)
		p->link[i] = true;
}

static int
cc_err(char **err, const char *key, const char *why)
{
	if (err != NULL && asprintf(err, "%s: %s", key, why) < 0)
		*err = NULL;
	return -EINVAL;
}

static int
cc_u32(json_t *v, const char *key, uint64_t lo, uint64_t hi, uint32_t *out, char **err)
{
	char why[96];

	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)lo ||
	    json_integer_value(v) > (json_int_t)hi) {
		snprintf(why, sizeof(why), "expected an integer in %" PRIu64 "..%" PRIu64, lo, hi);
		return cc_err(err, key, why);
	}
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int
cc_rule_load(json_t *r, struct ctl_campaign_rule *out, size_t idx, char **err)
{
	char key[64];
	const char *k;
	json_t *v;
	uint32_t s = 0;

	snprintf(key, sizeof(key), "policy[%zu]", idx);
	if (!json_is_object(r))
		return cc_err(err, key, "expected an object");
	out->stage = -1;
	out->after = -1;
	out->block_s = 0;
	json_object_foreach(r, k, v) {
		snprintf(key, sizeof(key), "policy[%zu].%s", idx, k);
		if (strcmp(k, "stage") == 0 || strcmp(k, "after") == 0) {
			int t = ctl_campaign_tactic_index(json_string_value(v));

			if (t < 0)
				return cc_err(err, key, "expected a tactic shortname (reconnaissance .. impact)");
			*(strcmp(k, "stage") == 0 ? &out->stage : &out->after) = t;
		} else if (strcmp(k, "action") == 0) {
			if (!json_is_string(v) || strcmp(json_string_value(v), "block") != 0)
				return cc_err(err, key, "the only action is \"block\"");
		} else if (strcmp(k, "block_seconds") == 0) {
			if (cc_u32(v, key, 0, 30 * 86400, &s, err) != 0)
				return -EINVAL;
			out->block_s = s;
		} else {
			return cc_err(err, key, "unknown key (stage, after, action, block_seconds)");
		}
	}
	if (out->stage < 0) {
		snprintf(key, sizeof(key), "policy[%zu].stage", idx);
		return cc_err(err, key, "required");
	}
	return 0;
}

int
ctl_campaign_params_load(struct ctl_campaign_params *p, json_t *j, char **err)
{
	static const struct {
		const char *name;
		size_t off;
		uint64_t lo, hi;
	} nums[] = {
		{ "link_ttl", offsetof(struct ctl_campaign_params, link_ttl_s), 1, 30 * 86400 },
		{ "idle", offsetof(struct ctl_campaign_params, idle_s), 1, 30 * 86400 },
		{ "max_keys", offsetof(struct ctl_campaign_params, max_keys), 16, 1u << 24 },
		{ "max_campaigns", offsetof(struct ctl_campaign_params, max_campaigns), 1, 1u << 20 },
		{ "max_alerts", offsetof(struct ctl_campaign_params, max_alerts), 1, 65536 },
		{ "min_tactics", offsetof(struct ctl_campaign_params, min_tactics), 1,
		  CTL_CAMPAIGN_N_TACTICS },
	};
	struct ctl_campaign_params n = *p;
	const char *k;
	json_t *v;
	size_t i;

	if (!json_is_object(j))
		return cc_err(err, "campaigns", "expected an object");
	json_object_foreach(j, k, v) {
		bool done = false;

		for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			if (strcmp(k, nums[i].name) == 0) {
				if (cc_u32(v, k, nums[i].lo, nums[i].hi,
					   (uint32_t *)((char *)&n + nums[i].off), err) != 0)
					return -EINVAL;
				done = true;
			}
		if (done)
			continue;
		if (strcmp(k, "network_v4") == 0 || strcmp(k, "network_v6") == 0) {
			uint32_t b;

			if (cc_u32(v, k, 0, k[9] == '4' ? 32 : 128, &b, err) != 0)
				return -EINVAL;
			*(k[9] == '4' ? &n.network_v4 : &n.network_v6) = (uint8_t)b;
		} else if (strcmp(k, "link") == 0) {
			const char *lk;
			json_t *lv;

			if (!json_is_object(v))
				return cc_err(err, k, "expected an object");
			json_object_foreach(v, lk, lv) {
				char key[48];

				snprintf(key, sizeof(key), "link.%s", lk);
				for (i = 0; i < CTL_CAMPAIGN_N_KEYS; i++)
					if (strcmp(lk, cc_key_names[i]) == 0)
						break;
				if (i == CTL_CAMPAIGN_N_KEYS)
					return cc_err(err, key, "unknown key (client, network, identity, "
						      "credential, username, user_agent)");
				if (!json_is_boolean(lv))
					return cc_err(err, key, "expected true or false");
				n.link[i] = json_is_true(lv);
			}
		} else if (strcmp(k, "policy") == 0) {
			json_t *r;

			if (!json_is_array(v) || json_array_size(v) > CTL_CAMPAIGN_MAX_RULES)
				return cc_err(err, k, "expected an array of at most 8 rules");
			n.n_policy = 0;
			json_array_foreach(v, i, r) {
				if (cc_rule_load(r, &n.policy[i], i, err) != 0)
					return -EINVAL;
				n.n_policy++;
			}
		} else {
			return cc_err(err, k, "unknown key");
		}
	}
	*p = n;
	return 0;
}

json_t *
ctl_campaign_params_json(const struct ctl_campaign_params *p)
{
	json_t *link = json_object(), *pol = json_array();
	unsigned int i;

	for (i = 0; i < CTL_CAMPAIGN_N_KEYS; i++)
		json_object_set_new(link, cc_key_names[i], json_boolean(p->link[i]));
	for (i = 0; i < p->n_policy; i++) {
		json_t *r = json_pack("{s:s,s:s,s:I}", "stage", cc_tactics[p->policy[i].stage],
				      "action", "block", "block_seconds",
				      (json_int_t)p->policy[i].block_s);

		if (p->policy[i].after >= 0)
			json_object_set_new(r, "after", json_string(cc_tactics[p->policy[i].after]));
		json_array_append_new(pol, r);
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:o,s:o}",
			 "link_ttl", (json_int_t)p->link_ttl_s, "idle", (json_int_t)p->idle_s,
			 "max_keys", (json_int_t)p->max_keys,
			 "max_campaigns", (json_int_t)p->max_campaigns,
			 "max_alerts", (json_int_t)p->max_alerts,
			 "min_tactics", (json_int_t)p->min_tactics,
			 "network_v4", p->network_v4, "network_v6", p->network_v6,
			 "link", link, "policy", pol);
}

/* ---- create / destroy ---- */

static void
cc_camp_free(struct cc_camp *k)
{
	json_decref(k->alerts);
	json_decref(k->techniques);
	json_decref(k->owasp);
	json_decref(k->endpoints);
	json_decref(k->touched);
	json_decref(k->keys);
	memset(k, 0, sizeof(*k));
}

struct ctl_campaign *
ctl_campaign_create(const struct ctl_campaign_params *p, ctl_campaign_block_fn block,
		    void *block_arg)
{
	struct ctl_campaign *c;
	uint32_t i;

	if (p == NULL || p->max_keys == 0 || p->max_campaigns == 0 || p->max_alerts == 0) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->p = *p;
	c->block = block;
	c->block_arg = block_arg;
	for (c->nbuckets = 16; c->nbuckets < p->max_keys; c->nbuckets <<= 1)
		;
	c->keys = calloc(p->max_keys, sizeof(*c->keys));
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	c->camps = calloc(p->max_campaigns, sizeof(*c->camps));
	if (c->keys == NULL || c->buckets == NULL || c->camps == NULL) {
		free(c->keys);
		free(c->buckets);
		free(c->camps);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < p->max_keys; i++)
		c->keys[i].next = i + 2 <= p->max_keys ? i + 2 : 0;
	c->free_head = 1;
	c->next_id = 1;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void
ctl_campaign_destroy(struct ctl_campaign *c)
{
	uint32_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->p.max_campaigns; i++)
		if (c->camps[i].id != 0)
			cc_camp_free(&c->camps[i]);
	free(c->keys);
	free(c->buckets);
	free(c->camps);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- key table ---- */

static uint64_t
cc_hash(int kind, const char *v)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(kind + 1);

	h *= 0x100000001b3ull;
	for (; *v; v++) {
		h ^= (uint8_t)*v;
		h *= 0x100000001b3ull;
	}
	return h ? h : 1;
}

static void
cc_key_unlink(struct ctl_campaign *c, uint32_t *prev_next, uint32_t e)
{
	struct cc_key *k = &c->keys[e - 1];

	*prev_next = k->next;
	k->slot = 0;
	k->h = 0;
	k->next = c->free_head;
	c->free_head = e;
	c->n_keys--;
}

/* A key is dead once unused for link_ttl or when its campaign is gone. */
static bool
cc_key_dead(const struct ctl_campaign *c, const struct cc_key *k)
{
	return k->slot == 0 || c->camps[k->slot - 1].id == 0 ||
	       k->last_ns + (uint64_t)c->p.link_ttl_s * NS < c->now_ns;
}

/* Campaign slot + 1 linked to key @p h (0: none or expired). */
static uint32_t
cc_key_find(struct ctl_campaign *c, uint64_t h)
{
	uint32_t b = (uint32_t)(h & (c->nbuckets - 1)), *pn = &c->buckets[b], e;

	while ((e = *pn) != 0) {
		struct cc_key *k = &c->keys[e - 1];

		if (cc_key_dead(c, k)) {
			c->keys_expired++;
			cc_key_unlink(c, pn, e);
			continue;
		}
		if (k->h == h)
			return k->slot;
		pn = &k->next;
	}
	return 0;
}

/* Drop every dead key (table full, campaign evicted). */
static void
cc_key_sweep(struct ctl_campaign *c)
{
	uint32_t b;

	for (b = 0; b < c->nbuckets; b++) {
		uint32_t *pn = &c->buckets[b], e;

		while ((e = *pn) != 0) {
			if (cc_key_dead(c, &c->keys[e - 1])) {
				c->keys_expired++;
				cc_key_unlink(c, pn, e);
			} else {
				pn = &c->keys[e - 1].next;
			}
		}
	}
}

/* Point key @p h at @p slot (insert or refresh). */
static void
cc_key_set(struct ctl_campaign *c, uint64_t h, uint32_t slot)
{
	uint32_t b = (uint32_t)(h & (c->nbuckets - 1)), e;

	for (e = c->buckets[b]; e != 0; e = c->keys[e - 1].next)
		if (c->keys[e - 1].h == h) {
			c->keys[e - 1].slot = slot;
			c->keys[e - 1].last_ns = c->now_ns;
			return;
		}
	if (c->free_head == 0)
		cc_key_sweep(c);
	if (c->free_head == 0) {
		c->keys_refused++;
		return;
	}
	e = c->free_head;
	c->free_head = c->keys[e - 1].next;
	c->keys[e - 1] = (struct cc_key){ .h = h, .last_ns = c->now_ns, .slot = slot,
					  .next = c->buckets[b] };
	c->buckets[b] = e;
	c->n_keys++;
}

/* Repoint every key of slot @p from to slot @p to (merges). */
static void
cc_key_repoint(struct ctl_campaign *c, uint32_t from, uint32_t to)
{
	uint32_t i;

	for (i = 0; i < c->p.max_keys; i++)
		if (c->keys[i].slot == from)
			c->keys[i].slot = to;
}

/* ---- the alert's keys ---- */

struct cc_keys {
	uint64_t h[16];
	int kind[16];
	char val[16][80];
	unsigned int n;
	const char *client;     /* the client address (string) */
	const char *id_kind;
	uint64_t id_hash;
};

static void
cc_keys_add(struct cc_keys *ks, const struct ctl_campaign_params *p, int kind, const char *v)
{
	if (!p->link[kind] || v == NULL || *v == '\0' || ks->n == 16)
		return;
	ks->kind[ks->n] = kind;
	snprintf(ks->val[ks->n], sizeof(ks->val[0]), "%s", v);
	ks->h[ks->n] = cc_hash(kind, v);
	ks->n++;
}

static bool
cc_parse_addr(const char *s, uint8_t *family, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (s != NULL && inet_pton(AF_INET, s, addr) == 1) {
		*family = 4;
		return true;
	}
	if (s != NULL && inet_pton(AF_INET6, s, addr) == 1) {
		*family = 6;
		return true;
	}
	return false;
}

static void
cc_network(const struct ctl_campaign_params *p, const char *ip, char *out, size_t len)
{
	uint8_t a[16], fam;
	unsigned int bits, i;
	char buf[INET6_ADDRSTRLEN];

	out[0] = '\0';
	if (!cc_parse_addr(ip, &fam, a))
		return;
	bits = fam == 4 ? p->network_v4 : p->network_v6;
	if (bits == 0)
		return;
	for (i = 0; i < 16; i++) {
		unsigned int keep = bits > i * 8 ? bits - i * 8 : 0;

		if (keep < 8)
			a[i] &= (uint8_t)(0xff00u >> keep);
	}
	inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf));
	snprintf(out, len, "%s/%u", buf, bits);
}

static uint64_t
cc_hex(const char *s)
{
	return s ? strtoull(s, NULL, 16) : 0;
}

static void
cc_keys_of(const struct ctl_campaign_params *p, json_t *eve, struct cc_keys *ks)
{
	json_t *ev = json_object_get(eve, "apiguard");
	json_t *http = json_object_get(eve, "http");
	const char *dir = json_string_value(json_object_get(eve, "direction"));
	const char *ua = json_string_value(json_object_get(http, "http_user_agent"));
	char net[INET6_ADDRSTRLEN + 8], uakey[80];

	memset(ks, 0, offsetof(struct cc_keys, val));
	ks->n = 0;
	ks->client = NULL;
	ks->id_kind = NULL;
	ks->id_hash = 0;
	/* The client: the evidence's (it follows trusted proxies), else the
	 * side of the flow that sent the request. */
	ks->client = json_string_value(json_object_get(ev, "client"));
	if (ks->client == NULL)
		ks->client = json_string_value(json_object_get(eve, dir && strcmp(dir, "to_client") == 0 ?
							       "dest_ip" : "src_ip"));
	cc_keys_add(ks, p, CTL_CAMPAIGN_K_CLIENT, ks->client);
	cc_network(p, ks->client, net, sizeof(net));
	cc_keys_add(ks, p, CTL_CAMPAIGN_K_NETWORK, net);
	ks->id_kind = json_string_value(json_object_get(ev, "identity_kind"));
	/* A "client" identity is the address again: no new key. */
	if (ks->id_kind != NULL && strcmp(ks->id_kind, "client") != 0) {
		const char *id = json_string_value(json_object_get(ev, "identity"));

		ks->id_hash = cc_hex(id);
		cc_keys_add(ks, p, CTL_CAMPAIGN_K_IDENTITY, ks->id_hash ? id : NULL);
	}
	cc_keys_add(ks, p, CTL_CAMPAIGN_K_CREDENTIAL,
		    json_string_value(json_object_get(ev, "credential")));
	cc_keys_add(ks, p, CTL_CAMPAIGN_K_USERNAME,
		    json_string_value(json_object_get(ev, "username")));
	/* A user agent alone is shared by millions: only within a network. */
	if (ua != NULL && net[0] != '\0') {
		char v[512];

		snprintf(v, sizeof(v), "%s|%s", net, ua);
		snprintf(uakey, sizeof(uakey), "%016" PRIx64, cc_hash(CTL_CAMPAIGN_K_USER_AGENT, v));
		cc_keys_add(ks, p, CTL_CAMPAIGN_K_USER_AGENT, uakey);
	}
}

/* ---- campaigns ---- */

static unsigned int
cc_n_tactics(const struct cc_camp *k)
{
	unsigned int n = 0, i;

	for (i = 0; i < CTL_CAMPAIGN_N_TACTICS; i++)
		n += k->tactic_first[i] != 0;
	return n;
}

static int
cc_stage(const struct cc_camp *k)
{
	int i;

	for (i = CTL_CAMPAIGN_N_TACTICS - 1; i >= 0; i--)
		if (k->tactic_first[i] != 0)
			return i;
	return -1;
}

/* Tactics in the order they were first reached (ties: lifecycle order). */
static json_t *
cc_tactics_json(const struct cc_camp *k)
{
	json_t *a = json_array();
	bool done[CTL_CAMPAIGN_N_TACTICS] = { false };
	unsigned int n = cc_n_tactics(k), j;
	int i;

	for (j = 0; j < n; j++) {
		int best = -1;

		for (i = 0; i < CTL_CAMPAIGN_N_TACTICS; i++)
			if (k->tactic_first[i] && !done[i] &&
			    (best < 0 || k->tactic_first[i] < k->tactic_first[best]))
				best = i;
		done[best] = true;
		json_array_append_new(a, json_string(cc_tactics[best]));
	}
	return a;
}

static json_t *
cc_time(uint64_t ns)
{
	time_t s = (time_t)(ns / NS);
	struct tm tm;
	char buf[64];

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return json_sprintf("%s.%06u+0000", buf, (unsigned int)(ns % NS / 1000));
}

static struct cc_camp *
cc_camp_new(struct ctl_campaign *c, uint32_t *slot)
{
	uint32_t i, victim = UINT32_MAX;

	for (i = 0; i < c->p.max_campaigns; i++) {
		if (c->camps[i].id == 0)
			break;
		if (victim == UINT32_MAX || c->camps[i].last_ns < c->camps[victim].last_ns)
			victim = i;
	}
	if (i == c->p.max_campaigns) {
		/* Full: the least recently active campaign goes, with its links. */
		i = victim;
		cc_key_repoint(c, i + 1, 0);
		cc_key_sweep(c);
		cc_camp_free(&c->camps[i]);
		c->campaigns_evicted++;
	}
	*slot = i + 1;
	c->camps[i].id = c->next_id++;
	c->camps[i].counted_stage = -1;
	c->created++;
	c->camps[i].alerts = json_array();
	c->camps[i].techniques = json_object();
	c->camps[i].owasp = json_object();
	c->camps[i].endpoints = json_object();
	c->camps[i].touched = json_object();
	c->camps[i].keys = json_object();
	return &c->camps[i];
}

static void
cc_bump(json_t *o, const char *k, json_int_t by)
{
	json_t *v = json_object_get(o, k);

	json_object_set_new(o, k, json_integer((v ? json_integer_value(v) : 0) + by));
}

static void
cc_add_client(struct cc_camp *k, const char *s)
{
	unsigned int i;
	struct cc_client *cl;

	if (s == NULL)
		return;
	for (i = 0; i < k->n_clients; i++)
		if (strcmp(k->clients[i].str, s) == 0)
			return;
	if (k->n_clients == CC_MAX_CLIENTS)
		return;
	cl = &k->clients[k->n_clients];
	if (!cc_parse_addr(s, &cl->family, cl->addr))
		return;
	snprintf(cl->str, sizeof(cl->str), "%s", s);
	cl->blocked = false;
	k->n_clients++;
}

static void
cc_add_ident(struct cc_camp *k, uint64_t h, const char *kind)
{
	unsigned int i;

	if (h == 0)
		return;
	for (i = 0; i < k->n_ids; i++)
		if (k->ids[i].hash == h)
			return;
	if (k->n_ids == CC_MAX_IDS)
		return;
	k->ids[k->n_ids] = (struct cc_ident){ .hash = h };
	snprintf(k->ids[k->n_ids].kind, sizeof(k->ids[0].kind), "%s", kind ? kind : "");
	k->n_ids++;
}

static void
cc_add_keyval(struct cc_camp *k, int kind, const char *v)
{
	json_t *arr = json_object_get(k->keys, cc_key_names[kind]), *x;
	size_t i;

	if (arr == NULL) {
		arr = json_array();
		json_object_set_new(k->keys, cc_key_names[kind], arr);
	}
	json_array_foreach(arr, i, x)
		if (strcmp(json_string_value(x), v) == 0)
			return;
	if (json_array_size(arr) < CC_MAX_TOUCHED)
		json_array_append_new(arr, json_string(v));
}

/* Merge campaign @p b into @p a (a survives). */
static void
cc_merge(struct ctl_campaign *c, uint32_t sa, uint32_t sb)
{
	struct cc_camp *a = &c->camps[sa - 1], *b = &c->camps[sb - 1];
	const char *key;
	json_t *v, *merged = json_array(), *x;
	size_t i = 0, j = 0, na, nb;
	unsigned int t;

	c->merges++;
	for (t = 0; t < CTL_CAMPAIGN_N_TACTICS; t++)
		if (b->tactic_first[t] && (!a->tactic_first[t] || b->tactic_first[t] < a->tactic_first[t]))
			a->tactic_first[t] = b->tactic_first[t];
	a->first_ns = a->first_ns < b->first_ns ? a->first_ns : b->first_ns;
	a->last_ns = a->last_ns > b->last_ns ? a->last_ns : b->last_ns;
	a->objects += b->objects;
	a->bytes += b->bytes;
	a->n_alerts += b->n_alerts;
	a->alerts_dropped += b->alerts_dropped;
	a->merged += 1 + b->merged;
	if (b->counted_stage > a->counted_stage)
		a->counted_stage = b->counted_stage;
	for (t = 0; t < b->n_clients; t++)
		cc_add_client(a, b->clients[t].str);
	for (t = 0; t < b->n_ids; t++)
		cc_add_ident(a, b->ids[t].hash, b->ids[t].kind);
	/* Alert refs: merge by time. */
	na = json_array_size(a->alerts);
	nb = json_array_size(b->alerts);
	while (i < na || j < nb) {
		json_t *xa = json_array_get(a->alerts, i), *xb = json_array_get(b->alerts, j);
		bool take_a = xb == NULL ||
			(xa != NULL && json_integer_value(json_object_get(xa, "ts_ns")) <=
			 json_integer_value(json_object_get(xb, "ts_ns")));

		json_array_append(merged, take_a ? xa : xb);
		take_a ? i++ : j++;
	}
	json_decref(a->alerts);
	a->alerts = merged;
	json_object_foreach(b->techniques, key, v) {
		json_t *mine = json_object_get(a->techniques, key);

		if (mine == NULL) {
			json_object_set(a->techniques, key, v);
		} else {
			cc_bump(mine, "count", json_integer_value(json_object_get(v, "count")));
			if (json_integer_value(json_object_get(v, "first_ns")) <
			    json_integer_value(json_object_get(mine, "first_ns")))
				json_object_set(mine, "first_ns", json_object_get(v, "first_ns"));
		}
	}
	json_object_foreach(b->owasp, key, v)
		cc_bump(a->owasp, key, json_integer_value(v));
	json_object_foreach(b->endpoints, key, v)
		if (json_object_get(a->endpoints, key) || json_object_size(a->endpoints) < CC_MAX_ENDPOINTS)
			cc_bump(a->endpoints, key, json_integer_value(v));
	json_object_foreach(b->touched, key, v)
		if (json_object_size(a->touched) < CC_MAX_TOUCHED)
			json_object_set(a->touched, key, v);
	json_object_foreach(b->keys, key, v) {
		for (t = 0; t < CTL_CAMPAIGN_N_KEYS; t++)
			if (strcmp(key, cc_key_names[t]) == 0)
				break;
		if (t < CTL_CAMPAIGN_N_KEYS)
			json_array_foreach(v, i, x)
				cc_add_keyval(a, (int)t, json_string_value(x));
	}
	cc_key_repoint(c, sb, sa);
	cc_camp_free(b);
}

/* Technique orders ("order": 1 = first technique seen) from first_ns. */
static void
cc_orders(struct cc_camp *k)
{
	const char *key, *k2;
	json_t *v, *v2;

	json_object_foreach(k->techniques, key, v) {
		json_int_t f = json_integer_value(json_object_get(v, "first_ns")), ord = 1;

		json_object_foreach(k->techniques, k2, v2) {
			json_int_t g = json_integer_value(json_object_get(v2, "first_ns"));

			if (g < f || (g == f && strcmp(k2, key) < 0))
				ord++;
		}
		json_object_set_new(v, "order", json_integer(ord));
	}
}

/* The values of one key kind (a new reference). */
static json_t *
cc_keyvals(const struct cc_camp *k, const char *kind)
{
	json_t *v = json_object_get(k->keys, kind);

	return v ? json_copy(v) : json_array();
}

static json_t *
cc_actor_json(const struct cc_camp *k)
{
	json_t *clients = json_array(), *ids = json_array(), *blocked = json_array();
	unsigned int i;

	for (i = 0; i < k->n_clients; i++) {
		json_array_append_new(clients, json_string(k->clients[i].str));
		if (k->clients[i].blocked)
			json_array_append_new(blocked, json_sprintf("client:%s", k->clients[i].str));
	}
	for (i = 0; i < k->n_ids; i++) {
		json_array_append_new(ids, json_pack("{s:o,s:s}", "hash",
			json_sprintf("%016" PRIx64, k->ids[i].hash), "kind", k->ids[i].kind));
		if (k->ids[i].blocked)
			json_array_append_new(blocked, json_sprintf("identity:%016" PRIx64,
								    k->ids[i].hash));
	}
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			 "clients", clients,
			 "networks", cc_keyvals(k, "network"),
			 "identities_hashed", cc_keyvals(k, "identity"),
			 "credentials", cc_keyvals(k, "credential"),
			 "usernames", cc_keyvals(k, "username"),
			 "user_agents", cc_keyvals(k, "user_agent"),
			 "identities", ids, "blocked", blocked);
}

/* Summary, or with @p timeline the full alert list. Lock held. */
static json_t *
cc_camp_json(const struct ctl_campaign *c, const struct cc_camp *k, bool timeline,
	     size_t max_refs)
{
	json_t *techs = json_array(), *owasp = json_array(), *alerts = json_array(), *x;
	int stage = cc_stage(k);
	const char *key;
	json_t *v;
	size_t i, n = json_array_size(k->alerts);

	/* Techniques by first appearance. */
	for (i = 1; i <= json_object_size(k->techniques); i++)
		json_object_foreach(k->techniques, key, v)
			if ((size_t)json_integer_value(json_object_get(v, "order")) == i)
				json_array_append_new(techs, json_string(key));
	json_object_foreach(k->owasp, key, v)
		json_array_append_new(owasp, json_string(key));
	for (i = n > max_refs ? n - max_refs : 0; i < n; i++) {
		x = json_array_get(k->alerts, i);
		if (timeline) {
			json_t *cp = json_deep_copy(x);

			json_object_del(cp, "ts_ns");
			json_array_append_new(alerts, cp);
		} else {
			json_array_append_new(alerts, json_pack("{s:O,s:O,s:O,s:O}",
				"flow_id", json_object_get(x, "flow_id"),
				"tx_id", json_object_get(x, "tx_id"),
				"signature_id", json_object_get(x, "signature_id"),
				"timestamp", json_object_get(x, "timestamp")));
		}
	}
	return json_pack("{s:I,s:o,s:s,s:i,s:o,s:o,s:o,s:o,s:o,s:b,s:I,s:I,s:I,s:I,s:O,s:O,"
			 "s:I,s:o}",
			 "id", (json_int_t)k->id, "actor", cc_actor_json(k),
			 "stage", stage >= 0 ? cc_tactics[stage] : "", "stage_index", stage,
			 "tactics", cc_tactics_json(k), "techniques", techs, "owasp_api", owasp,
			 "first_seen", cc_time(k->first_ns), "last_seen", cc_time(k->last_ns),
			 "open", k->last_ns + (uint64_t)c->p.idle_s * NS >= c->now_ns,
			 "alert_count", (json_int_t)k->n_alerts,
			 "alerts_dropped", (json_int_t)k->alerts_dropped,
			 "objects", (json_int_t)k->objects, "bytes", (json_int_t)k->bytes,
			 "endpoints", k->endpoints, "identities_touched", k->touched,
			 "merged", (json_int_t)k->merged,
			 "alerts", alerts);
}

/* The response policy: block every key not yet blocked, once a rule holds. */
static void
cc_respond(struct ctl_campaign *c, struct cc_camp *k)
{
	int stage = cc_stage(k);
	unsigned int r, i;
	uint64_t blk_s = 0;
	bool forever = false, any = false;
	char reason[96];

	for (r = 0; r < c->p.n_policy; r++) {
		const struct ctl_campaign_rule *ru = &c->p.policy[r];
		uint64_t reached = 0;
		int t;

		if (stage < ru->stage)
			continue;
		/* When the campaign first reached the rule's stage or beyond. */
		for (t = ru->stage; t < CTL_CAMPAIGN_N_TACTICS; t++)
			if (k->tactic_first[t] && (!reached || k->tactic_first[t] < reached))
				reached = k->tactic_first[t];
		if (ru->after >= 0 && (!k->tactic_first[ru->after] ||
				       k->tactic_first[ru->after] > reached))
			continue;
		k->rules_applied |= 1u << r;
	}
	for (r = 0; r < c->p.n_policy; r++)
		if (k->rules_applied & (1u << r)) {
			any = true;
			if (c->p.policy[r].block_s == 0)
				forever = true;
			else if (c->p.policy[r].block_s > blk_s)
				blk_s = c->p.policy[r].block_s;
		}
	if (!any || c->block == NULL)
		return;
	snprintf(reason, sizeof(reason), "campaign %" PRIu64 " reached %s", k->id,
		 cc_tactics[stage]);
	for (i = 0; i < k->n_clients + k->n_ids; i++) {
		bool is_id = i >= k->n_clients;
		bool *done = is_id ? &k->ids[i - k->n_clients].blocked : &k->clients[i].blocked;
		struct ctl_campaign_block b = {
			.identity = is_id, .now_ns = c->now_ns,
			.expires_ns = forever ? UINT64_MAX : c->now_ns + blk_s * NS,
			.campaign = k->id, .reason = reason,
		};

		if (*done)
			continue;
		if (is_id) {
			b.id_hash = k->ids[i - k->n_clients].hash;
		} else {
			b.family = k->clients[i].family;
			memcpy(b.addr, k->clients[i].addr, 16);
		}
		if (c->block(c->block_arg, &b) == 0) {
			*done = true;
			c->blocks++;
		} else {
			c->block_failures++;
		}
	}
}

static void
cc_touch(struct cc_camp *k, json_t *ev, json_t *eve)
{
	json_t *http = json_object_get(eve, "http");
	const char *tmpl = json_string_value(json_object_get(ev, "template"));
	const char *method = json_string_value(json_object_get(ev, "method"));
	const char *host = json_string_value(json_object_get(ev, "host"));
	const char *owner = json_string_value(json_object_get(ev, "owner"));
	const char *user = json_string_value(json_object_get(ev, "username"));
	char ep[320];
	static const char *const obj_fields[] = { "distinct_objects", "records", "foreign_objects",
						  "objects_with_contact_data", "pages_in_sequence" };
	json_int_t objs = 0;
	size_t i;

	if (tmpl == NULL) {
		const char *url = json_string_value(json_object_get(http, "url"));
		size_t n = url ? strcspn(url, "?") : 0;

		method = json_string_value(json_object_get(http, "http_method"));
		host = json_string_value(json_object_get(http, "hostname"));
		snprintf(ep, sizeof(ep), "%s %s%.*s", method ? method : "?", host ? host : "",
			 (int)(n < 200 ? n : 200), url ? url : "");
	} else {
		snprintf(ep, sizeof(ep), "%s %s%s", method ? method : "?", host ? host : "", tmpl);
	}
	if (json_object_get(k->endpoints, ep) || json_object_size(k->endpoints) < CC_MAX_ENDPOINTS)
		cc_bump(k->endpoints, ep, 1);
	if (owner && json_object_size(k->touched) < CC_MAX_TOUCHED)
		json_object_set_new(k->touched, owner, json_string("owner"));
	if (user && json_object_size(k->touched) < CC_MAX_TOUCHED)
		json_object_set_new(k->touched, user, json_string("username"));
	for (i = 0; i < sizeof(obj_fields) / sizeof(obj_fields[0]); i++) {
		json_t *v = json_object_get(ev, obj_fields[i]);
		json_int_t n = json_is_number(v) ? (json_int_t)json_number_value(v) : 0;

		if (n > objs)
			objs = n;
	}
	k->objects += (uint64_t)objs;
	if (json_is_integer(json_object_get(ev, "bytes")))
		k->bytes += (uint64_t)json_integer_value(json_object_get(ev, "bytes"));
}

json_t *
ctl_campaign_observe(struct ctl_campaign *c, json_t *eve, uint64_t ts_ns)
{
	json_t *events = json_array(), *al = json_object_get(eve, "alert");
	json_t *md = json_object_get(al, "metadata"), *ev = json_object_get(eve, "apiguard");
	json_t *techs = json_object_get(md, "mitre_technique_id"), *t, *ref, *new_tac;
	struct cc_keys ks;
	struct cc_camp *k;
	uint32_t slot = 0, s;
	unsigned int i, before;
	size_t j;
	bool new_tactic = false;

	if (!json_is_object(eve) || !json_is_object(al))
		return events;
	pthread_mutex_lock(&c->lock);
	c->alerts++;
	if (ts_ns > c->now_ns)
		c->now_ns = ts_ns;
	cc_keys_of(&c->p, eve, &ks);
	if (ks.n == 0) {
		c->unlinked++;
		pthread_mutex_unlock(&c->lock);
		return events;
	}
	/* Every campaign any key points at becomes one. */
	for (i = 0; i < ks.n; i++) {
		s = cc_key_find(c, ks.h[i]);
		if (s == 0 || s == slot)
			continue;
		if (slot == 0) {
			slot = s;
		} else if (c->camps[s - 1].id < c->camps[slot - 1].id) {
			cc_merge(c, s, slot);
			slot = s;
		} else {
			cc_merge(c, slot, s);
		}
	}
	if (slot == 0) {
		k = cc_camp_new(c, &slot);
		k->first_ns = ts_ns;
	}
	k = &c->camps[slot - 1];
	before = cc_n_tactics(k);
	for (i = 0; i < ks.n; i++) {
		cc_key_set(c, ks.h[i], slot);
		cc_add_keyval(k, ks.kind[i], ks.val[i]);
	}
	cc_add_client(k, ks.client);
	cc_add_ident(k, ks.id_hash, ks.id_kind);
	if (ts_ns < k->first_ns)
		k->first_ns = ts_ns;
	if (ts_ns > k->last_ns)
		k->last_ns = ts_ns;
	k->n_alerts++;
	/* Techniques -> tactics from the vendored tables. */
	new_tac = json_array();
	json_array_foreach(techs, j, t) {
		const char *id = json_string_value(t);
		json_t *e;
		uint32_t m;
		int x;

		if (id == NULL)
			continue;
		e = json_object_get(k->techniques, id);
		if (e == NULL) {
			e = json_pack("{s:I,s:I}", "count", (json_int_t)0, "first_ns", (json_int_t)ts_ns);
			json_object_set_new(k->techniques, id, e);
		}
		cc_bump(e, "count", 1);
		m = cc_technique_tactics(id);
		for (x = 0; x < CTL_CAMPAIGN_N_TACTICS; x++)
			if ((m & (1u << x)) && (k->tactic_first[x] == 0 || k->tactic_first[x] > ts_ns)) {
				if (k->tactic_first[x] == 0) {
					json_array_append_new(new_tac, json_string(cc_tactics[x]));
					new_tactic = true;
				}
				k->tactic_first[x] = ts_ns;
			}
	}
	cc_orders(k);
	json_array_foreach(json_object_get(md, "owasp_api"), j, t)
		if (json_is_string(t))
			cc_bump(k->owasp, json_string_value(t), 1);
	cc_touch(k, ev, eve);
	/* Keep the first max_alerts refs, then only those that add a tactic. */
	if (json_array_size(k->alerts) < c->p.max_alerts ||
	    (new_tactic && json_array_size(k->alerts) < 2 * (size_t)c->p.max_alerts)) {
		ref = json_pack("{s:O,s:I,s:O,s:O,s:O,s:O,s:O,s:s,s:O,s:O,s:O}",
			"timestamp", json_object_get(eve, "timestamp") ?: json_null(),
			"ts_ns", (json_int_t)ts_ns,
			"flow_id", json_object_get(eve, "flow_id") ?: json_null(),
			"tx_id", json_object_get(eve, "tx_id") ?: json_null(),
			"signature_id", json_object_get(al, "signature_id") ?: json_null(),
			"signature", json_object_get(al, "signature") ?: json_null(),
			"action", json_object_get(al, "action") ?: json_null(),
			"client", ks.client ? ks.client : "",
			"url", json_object_get(json_object_get(eve, "http"), "url") ?: json_null(),
			"techniques", techs ?: json_null(),
			"new_tactics", new_tac);
		json_array_append_new(k->alerts, ref);
	} else {
		k->alerts_dropped++;
		c->dropped_refs++;
	}
	json_decref(new_tac);
	/* Report at min_tactics, then on every new tactic. */
	if (cc_n_tactics(k) >= c->p.min_tactics &&
	    (cc_n_tactics(k) > k->reported_tactics || before < c->p.min_tactics) &&
	    cc_n_tactics(k) != k->reported_tactics) {
		json_t *o = json_pack("{s:o,s:s,s:o}", "timestamp", cc_time(ts_ns),
				      "event_type", "campaign",
				      "campaign", cc_camp_json(c, k, false, CC_EVENT_ALERTS));

		k->reported_tactics = cc_n_tactics(k);
		json_array_append_new(events, o);
		c->events++;
	}
	if (cc_stage(k) > k->counted_stage) {
		k->counted_stage = cc_stage(k);
		c->stage_reached[k->counted_stage]++;
	}
	cc_respond(c, k);
	pthread_mutex_unlock(&c->lock);
	return events;
}

/* ---- queries ---- */

static int
cc_cmp_recent(const void *a, const void *b, void *arg)
{
	const struct cc_camp *camps = arg;
	uint64_t x = camps[*(const uint32_t *)a].last_ns;
	uint64_t y = camps[*(const uint32_t *)b].last_ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

json_t *
ctl_campaign_list(struct ctl_campaign *c, const struct ctl_campaign_filter *f)
{
	json_t *out = json_array();
	uint32_t limit = f && f->limit ? f->limit : 100, i, n = 0;
	uint32_t *idx;

	pthread_mutex_lock(&c->lock);
	idx = calloc(c->p.max_campaigns, sizeof(*idx));
	for (i = 0; idx != NULL && i < c->p.max_campaigns; i++) {
		const struct cc_camp *k = &c->camps[i];

		if (k->id == 0)
			continue;
		if (f != NULL) {
			if (f->stage >= 0 && cc_stage(k) < f->stage)
				continue;
			if (f->tactic >= 0 && k->tactic_first[f->tactic] == 0)
				continue;
			if (f->since_ns && k->last_ns < f->since_ns)
				continue;
			if (f->until_ns && k->first_ns > f->until_ns)
				continue;
			if (f->open_only && k->last_ns + (uint64_t)c->p.idle_s * NS < c->now_ns)
				continue;
		}
		idx[n++] = i;
	}
	/* Newest activity first. */
	qsort_r(idx, n, sizeof(*idx), cc_cmp_recent, c->camps);
	for (i = 0; i < n && i < limit; i++)
		json_array_append_new(out, cc_camp_json(c, &c->camps[idx[i]], false, 16));
	free(idx);
	pthread_mutex_unlock(&c->lock);
	return out;
}

static struct cc_camp *
cc_by_id(struct ctl_campaign *c, uint64_t id)
{
	uint32_t i;

	for (i = 0; id != 0 && i < c->p.max_campaigns; i++)
		if (c->camps[i].id == id)
			return &c->camps[i];
	return NULL;
}

json_t *
ctl_campaign_get(struct ctl_campaign *c, uint64_t id)
{
	struct cc_camp *k;
	json_t *o = NULL;

	pthread_mutex_lock(&c->lock);
	k = cc_by_id(c, id);
	if (k != NULL)
		o = cc_camp_json(c, k, true, SIZE_MAX);
	pthread_mutex_unlock(&c->lock);
	return o;
}

json_t *
ctl_campaign_techniques(struct ctl_campaign *c, uint64_t id)
{
	struct cc_camp *k;
	json_t *o = NULL, *techs, *v;
	const char *key;

	pthread_mutex_lock(&c->lock);
	k = cc_by_id(c, id);
	if (k != NULL) {
		techs = json_object();
		json_object_foreach(k->techniques, key, v)
			json_object_set_new(techs, key, json_pack("{s:O,s:O}", "count",
				json_object_get(v, "count"), "order", json_object_get(v, "order")));
		o = json_pack("{s:I,s:o,s:O,s:I,s:o}", "id", (json_int_t)k->id, "techniques", techs,
			      "owasp_api", k->owasp, "alerts", (json_int_t)k->n_alerts,
			      "tactics", cc_tactics_json(k));
	}
	pthread_mutex_unlock(&c->lock);
	return o;
}

json_t *
ctl_campaign_dump(struct ctl_campaign *c)
{
	json_t *arr = json_array();
	uint64_t id, next;
	struct cc_camp *k;

	pthread_mutex_lock(&c->lock);
	next = c->next_id;
	for (id = 1; id < next; id++) {
		k = cc_by_id(c, id);
		if (k != NULL)
			json_array_append_new(arr, cc_camp_json(c, k, true, SIZE_MAX));
	}
	pthread_mutex_unlock(&c->lock);
	return json_pack("{s:o,s:o}", "campaigns", arr, "stats", ctl_campaign_stats(c));
}

json_t *
ctl_campaign_stats(struct ctl_campaign *c)
{
	json_t *o, *by_stage = json_object(), *reached = json_object();
	uint32_t i, n = 0, open = 0, held[CTL_CAMPAIGN_N_TACTICS] = { 0 };

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->p.max_campaigns; i++)
		if (c->camps[i].id != 0) {
			int st = cc_stage(&c->camps[i]);

			n++;
			open += c->camps[i].last_ns + (uint64_t)c->p.idle_s * NS >= c->now_ns;
			if (st >= 0)
				held[st]++;
		}
	/* Every stage, zeros included: a metric series that appears only
	 * once non-zero cannot be rated or alerted on. */
	for (i = 0; i < CTL_CAMPAIGN_N_TACTICS; i++) {
		json_object_set_new(by_stage, cc_tactics[i], json_integer(held[i]));
		json_object_set_new(reached, cc_tactics[i], json_integer((json_int_t)c->stage_reached[i]));
	}
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		      "alerts", (json_int_t)c->alerts, "unlinked", (json_int_t)c->unlinked,
		      "events", (json_int_t)c->events, "merges", (json_int_t)c->merges,
		      "campaigns", (json_int_t)n, "open", (json_int_t)open,
		      "max_campaigns", (json_int_t)c->p.max_campaigns,
		      "campaigns_evicted", (json_int_t)c->campaigns_evicted,
		      "keys", (json_int_t)c->n_keys, "max_keys", (json_int_t)c->p.max_keys,
		      "keys_expired", (json_int_t)c->keys_expired,
		      "keys_refused", (json_int_t)c->keys_refused,
		      "alert_refs_dropped", (json_int_t)c->dropped_refs,
		      "blocks", (json_int_t)c->blocks,
		      "block_failures", (json_int_t)c->block_failures);
	json_object_set_new(o, "created", json_integer((json_int_t)c->created));
	json_object_set_new(o, "alerts_linked", json_integer((json_int_t)(c->alerts - c->unlinked)));
	json_object_set_new(o, "by_stage", by_stage);
	json_object_set_new(o, "stage_reached", reached);
	pthread_mutex_unlock(&c->lock);
	return o;
}
