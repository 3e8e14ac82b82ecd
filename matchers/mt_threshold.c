/* SPDX-License-Identifier: Apache-2.0 */
/*
 * threshold / detection_filter enforcement, with the semantics of
 * Suricata's detect-engine-threshold.c (ThresholdHandlePacket), timed by
 * the packet time t->ts_ns.
 *
 * State lives in the scratch, so counts are per worker (and per rule
 * generation: a new generation starts from zero). A fixed table of
 * MT_THR_ENTRIES entries, allocated at mt_scratch_create() when a rule
 * needs it, chained hash plus LRU list; when full, the least recently used
 * entry is evicted (counter threshold_evictions). No heap on the hot path.
 */
#include "mt_engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

struct thr_ent {
	uint64_t tv1;          /* window start (ns) */
	uint32_t count;
	uint32_t sid, gid;
	uint32_t hash;
	uint32_t hnext;        /* bucket chain */
	uint32_t lprev, lnext; /* LRU list, most recent first */
	uint8_t df;            /* 1 detection_filter, 0 threshold */
	uint8_t track;
	uint8_t family;
	uint8_t a[16], b[16];
};

struct mt_thr_table {
	uint32_t n, used, mask;
	uint32_t lru_head, lru_tail;
	uint32_t *bucket;
	struct thr_ent ent[];
};

int
mt_thr_prepare(struct mt_scratch *s, const struct mt_engine *e)
{
	struct mt_thr_table *t;
	uint32_t nb = 1;

	if (e->n_thr_rules == 0 || s->thr != NULL)
		return 0;
	while (nb < MT_THR_ENTRIES * 2)
		nb <<= 1;
	t = calloc(1, sizeof(*t) + sizeof(struct thr_ent) * MT_THR_ENTRIES);
	if (t == NULL)
		return -ENOMEM;
	t->bucket = malloc(sizeof(uint32_t) * nb);
	if (t->bucket == NULL) {
		free(t);
		return -ENOMEM;
	}
	memset(t->bucket, 0xff, sizeof(uint32_t) * nb);
	t->n = MT_THR_ENTRIES;
	t->mask = nb - 1;
	t->lru_head = t->lru_tail = NIL;
	s->thr = t;
	return 0;
}

void
mt_thr_free(struct mt_scratch *s)
{
	if (s->thr != NULL) {
		free(s->thr->bucket);
		free(s->thr);
		s->thr = NULL;
	}
}

static void
lru_unlink(struct mt_thr_table *t, uint32_t i)
{
	struct thr_ent *x = &t->ent[i];

	if (x->lprev != NIL)
		t->ent[x->lprev].lnext = x->lnext;
	else
		t->lru_head = x->lnext;
	if (x->lnext != NIL)
		t->ent[x->lnext].lprev = x->lprev;
	else
		t->lru_tail = x->lprev;
}

static void
lru_push(struct mt_thr_table *t, uint32_t i)
{
	struct thr_ent *x = &t->ent[i];

	x->lprev = NIL;
	x->lnext = t->lru_head;
	if (t->lru_head != NIL)
		t->ent[t->lru_head].lprev = i;
	t->lru_head = i;
	if (t->lru_tail == NIL)
		t->lru_tail = i;
}

static void
bucket_unlink(struct mt_thr_table *t, uint32_t i)
{
	uint32_t *pp = &t->bucket[t->ent[i].hash & t->mask];

	while (*pp != NIL && *pp != i)
		pp = &t->ent[*pp].hnext;
	if (*pp == i)
		*pp = t->ent[i].hnext;
}

static uint32_t
hash_key(const struct thr_ent *k)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const uint8_t *p = (const uint8_t *)&k->sid;

	for (size_t i = 0; i < 8; i++) /* sid, gid */
		h = (h ^ p[i]) * 0x100000001b3ull;
	h = (h ^ k->df) * 0x100000001b3ull;
	h = (h ^ k->track) * 0x100000001b3ull;
	h = (h ^ k->family) * 0x100000001b3ull;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ k->a[i]) * 0x100000001b3ull;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ k->b[i]) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32));
}

static bool
same_key(const struct thr_ent *x, const struct thr_ent *k)
{
	return x->sid == k->sid && x->gid == k->gid && x->df == k->df && x->track == k->track &&
	       x->family == k->family && memcmp(x->a, k->a, 16) == 0 &&
	       memcmp(x->b, k->b, 16) == 0;
}

/* Fill the tracking key: by_src/by_dst use the addresses of the packet the
 * match is on (a response-side rule's source is the server, as in
 * Suricata); by_both the pair; by_rule none. */
static void
make_key(struct thr_ent *k, const struct mt_rule *r, const struct mt_threshold *td, bool df,
	 const struct mt_txn *t)
{
	const struct mt_flow_tuple *tp = t->tuple;
	const uint8_t *src = NULL, *dst = NULL;

	memset(k, 0, sizeof(*k));
	k->sid = r->info.sid;
	k->gid = r->info.gid;
	k->df = df;
	k->track = td->track;
	if (tp != NULL && td->track != MT_TRACK_BY_RULE) {
		src = r->src_is_server ? tp->server_ip : tp->client_ip;
		dst = r->src_is_server ? tp->client_ip : tp->server_ip;
		k->family = tp->family;
	}
	if (src == NULL)
		return;
	if (td->track == MT_TRACK_BY_SRC || td->track == MT_TRACK_BY_BOTH)
		memcpy(k->a, src, 16);
	if (td->track == MT_TRACK_BY_DST)
		memcpy(k->a, dst, 16);
	if (td->track == MT_TRACK_BY_BOTH)
		memcpy(k->b, dst, 16);
}

/* Suricata's per-type rules; returns true when the hit is reported. */
static bool
apply(struct mt_scratch *s, const struct mt_rule *r, const struct mt_threshold *td, bool df,
      const struct mt_txn *t)
{
	struct mt_thr_table *tb = s->thr;
	struct thr_ent k, *x;
	uint64_t win = (uint64_t)td->seconds * 1000000000ull;
	uint32_t i;
	bool ret = false;

	make_key(&k, r, td, df, t);
	k.hash = hash_key(&k);
	for (i = tb->bucket[k.hash & tb->mask]; i != NIL; i = tb->ent[i].hnext)
		if (tb->ent[i].hash == k.hash && same_key(&tb->ent[i], &k))
			break;
	if (i != NIL) {
		bool inside;

		x = &tb->ent[i];
		lru_unlink(tb, i);
		lru_push(tb, i);
		inside = t->ts_ns < x->tv1 || t->ts_ns - x->tv1 < win;
		switch (td->type) {
		case MT_THR_LIMIT:
			if (inside) {
				x->count++;
				ret = x->count <= td->count;
			} else {
				x->tv1 = t->ts_ns;
				x->count = 1;
				ret = true;
			}
			break;
		case MT_THR_THRESHOLD:
			if (inside) {
				x->count++;
				if (x->count >= td->count) {
					ret = true;
					x->count = 0;
				}
			} else {
				x->tv1 = t->ts_ns;
				x->count = 1;
				ret = td->count == 1;
			}
			break;
		case MT_THR_BOTH:
			if (inside) {
				x->count++;
				ret = x->count == td->count;
			} else {
				x->tv1 = t->ts_ns;
				x->count = 1;
				ret = td->count == 1;
			}
			break;
		default: /* detection_filter */
			if (inside) {
				x->count++;
				ret = x->count > td->count;
			} else {
				x->tv1 = t->ts_ns;
				x->count = 1;
			}
			break;
		}
		return ret;
	}
	/* new entry: a free one, else the least recently used */
	if (tb->used < tb->n) {
		i = tb->used++;
	} else {
		i = tb->lru_tail;
		lru_unlink(tb, i);
		bucket_unlink(tb, i);
		s->ctr.threshold_evictions++;
	}
	x = &tb->ent[i];
	*x = k;
	x->tv1 = t->ts_ns;
	x->count = 1;
	x->hnext = tb->bucket[k.hash & tb->mask];
	tb->bucket[k.hash & tb->mask] = i;
	lru_push(tb, i);
	switch (td->type) {
	case MT_THR_LIMIT:
		return true;
	case MT_THR_THRESHOLD:
		if (td->count == 1) {
			x->count = 0;
			return true;
		}
		return false;
	case MT_THR_BOTH:
		return td->count == 1;
	default:
		return false; /* detection_filter: count >= 1, the first hit never passes */
	}
}

bool
mt_thr_check(struct mt_scratch *s, const struct mt_rule *r, const struct mt_txn *t)
{
	if (r->threshold.type == MT_THR_NONE && r->detection_filter.type == MT_THR_NONE)
		return true;
	if (s->thr == NULL)
		return true; /* scratch not prepared for this engine: report, untracked */
	/* detection_filter decides whether the rule matched at all; threshold
	 * then decides whether that match alerts */
	if (r->detection_filter.type != MT_THR_NONE &&
	    !apply(s, r, &r->detection_filter, true, t)) {
		s->ctr.threshold_suppressed++;
		return false;
	}
	if (r->threshold.type != MT_THR_NONE && !apply(s, r, &r->threshold, false, t)) {
		s->ctr.threshold_suppressed++;
		return false;
	}
	return true;
}
