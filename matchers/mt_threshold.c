/* SPDX-License-Identifier: Apache-2.0 */
/*
 * threshold / detection_filter enforcement, with the semantics of
 * Suricata's detect-engine-threshold.c (ThresholdHandlePacket), timed by
 * the packet time t->ts_ns.
 *
 * One table per rule generation, shared by every worker's scratch (as
 * Suricata's threshold hash is shared by its threads), so a client whose
 * connections land on several workers is counted once. Lock-free and
 * bounded: MT_THR_SLOTS slots of one cache line, open addressing over a
 * window of MT_THR_PROBE slots. A slot's key is written once, behind its
 * 64-bit tag; its window start (milliseconds) and count are one 64-bit
 * word that every update replaces with a compare-and-swap, so concurrent
 * hits of one key are all counted. A slot whose window has expired is
 * taken over by a new key (counter threshold_evictions); a hit whose
 * window holds only live slots of other keys is reported untracked
 * (threshold_untracked). Two workers inserting the same new key at the
 * same instant may make two slots for it; the later one only holds the
 * hits of that instant and expires. No heap on the hot path.
 */
#include "mt_engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define THR_LOCKED UINT64_MAX  /* state while a slot's key is (re)written */
#define THR_RETRIES 4

struct thr_key {
	uint32_t sid, gid;
	uint8_t df;            /* 1 detection_filter, 0 threshold */
	uint8_t track;
	uint8_t family;
	uint8_t pad;
	uint8_t a[16], b[16];
};

struct thr_slot {
	uint64_t tag;          /* 0 empty, else the key's hash | 1; set before use */
	uint64_t state;        /* window start (ms, 32 bits) << 32 | count */
	uint32_t win_ms;       /* the window of the slot's rule */
	uint32_t pad;
	struct thr_key k;
} __attribute__((aligned(64)));

struct mt_thr_table {
	uint32_t mask;
	struct thr_slot slot[];
};

int
mt_thr_table_create(struct mt_engine *e)
{
	size_t sz = sizeof(struct mt_thr_table) + sizeof(struct thr_slot) * MT_THR_SLOTS;
	struct mt_thr_table *t;

	if (e->n_thr_rules == 0)
		return 0;
	t = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	if (t == NULL)
		return -ENOMEM;
	memset(t, 0, sz);
	t->mask = MT_THR_SLOTS - 1;
	e->thr = t;
	return 0;
}

void
mt_thr_table_free(struct mt_engine *e)
{
	free(e->thr);
	e->thr = NULL;
}

static uint64_t
hash_key(const struct thr_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ull;
	return (h ^ h >> 29) | 1;
}

/* Fill the tracking key: by_src/by_dst use the addresses of the packet the
 * match is on (a response-side rule's source is the server, as in
 * Suricata); by_both the pair; by_rule none. */
static void
make_key(struct thr_key *k, const struct mt_rule *r, const struct mt_threshold *td, bool df,
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

/* One hit on a key whose state is @p st: the next state, and in *ret
 * whether the hit is reported (Suricata's per-type rules). */
static uint64_t
step(uint64_t st, uint32_t now, uint32_t win, const struct mt_threshold *td, bool *ret)
{
	uint32_t tv1 = (uint32_t)(st >> 32), count = (uint32_t)st, d = now - tv1;
	/* a packet time before the window start (d "negative") is inside */
	bool inside = d >= 0x80000000u || d < win;

	*ret = false;
	if (!inside) {
		tv1 = now;
		count = 1;
		*ret = td->type == MT_THR_LIMIT ||
		       ((td->type == MT_THR_THRESHOLD || td->type == MT_THR_BOTH) && td->count == 1);
		return (uint64_t)tv1 << 32 | count;
	}
	count++;
	switch (td->type) {
	case MT_THR_LIMIT:
		*ret = count <= td->count;
		break;
	case MT_THR_THRESHOLD:
		if (count >= td->count) {
			*ret = true;
			count = 0;
		}
		break;
	case MT_THR_BOTH:
		*ret = count == td->count;
		break;
	default: /* detection_filter */
		*ret = count > td->count;
		break;
	}
	return (uint64_t)tv1 << 32 | count;
}

/* The first hit of a key: its state, and in *ret whether it is reported. */
static uint64_t
first(uint32_t now, const struct mt_threshold *td, bool *ret)
{
	uint32_t count = 1;

	switch (td->type) {
	case MT_THR_LIMIT:
		*ret = true;
		break;
	case MT_THR_THRESHOLD:
		*ret = td->count == 1;
		if (*ret)
			count = 0;
		break;
	case MT_THR_BOTH:
		*ret = td->count == 1;
		break;
	default:
		*ret = false; /* detection_filter: count >= 1, the first hit never passes */
		break;
	}
	return (uint64_t)now << 32 | count;
}

static bool
expired(uint64_t st, uint32_t now, uint32_t win)
{
	uint32_t d = now - (uint32_t)(st >> 32);

	return st != THR_LOCKED && d < 0x80000000u && d >= win;
}

enum { THR_DONE, THR_RETRY, THR_ABSENT };

/* Count the hit in the slot holding @p k, if one does. */
static int
update(struct mt_thr_table *tb, const struct thr_key *k, uint64_t h, uint32_t now, uint32_t win,
       const struct mt_threshold *td, bool *ret)
{
	for (uint32_t i = 0; i < MT_THR_PROBE; i++) {
		struct thr_slot *x = &tb->slot[(h + i) & tb->mask];
		uint64_t tag = __atomic_load_n(&x->tag, __ATOMIC_ACQUIRE), st;

		if (tag == 0) {
			/* slots fill in probe order, never empty again: k is not
			 * further on, unless this one is being filled */
			if (__atomic_load_n(&x->state, __ATOMIC_ACQUIRE) == THR_LOCKED)
				continue;
			return THR_ABSENT;
		}
		if (tag != h || memcmp(&x->k, k, sizeof(*k)) != 0)
			continue;
		st = __atomic_load_n(&x->state, __ATOMIC_ACQUIRE);
		for (;;) {
			uint64_t nst;

			/* being taken over by another key, or taken over since
			 * the tag was read: look again */
			if (st == THR_LOCKED || __atomic_load_n(&x->tag, __ATOMIC_ACQUIRE) != h)
				return THR_RETRY;
			nst = step(st, now, win, td, ret);
			if (__atomic_compare_exchange_n(&x->state, &st, nst, false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return THR_DONE;
		}
	}
	return THR_ABSENT;
}

/* Put @p k in an empty slot of its window, or in one whose window has
 * expired. */
static int
insert(struct mt_scratch *s, struct mt_thr_table *tb, const struct thr_key *k, uint64_t h,
       uint32_t now, uint32_t win, const struct mt_threshold *td, bool *ret)
{
	for (uint32_t i = 0; i < MT_THR_PROBE; i++) {
		struct thr_slot *x = &tb->slot[(h + i) & tb->mask];
		uint64_t tag = __atomic_load_n(&x->tag, __ATOMIC_ACQUIRE);
		uint64_t st = __atomic_load_n(&x->state, __ATOMIC_ACQUIRE);
		bool reuse;

		if (tag == 0 && st != 0)
			continue; /* being filled */
		if (tag == h && memcmp(&x->k, k, sizeof(*k)) == 0)
			return THR_RETRY; /* another worker just inserted k */
		reuse = tag != 0;
		if (reuse && !expired(st, now, x->win_ms))
			continue;
		if (!__atomic_compare_exchange_n(&x->state, &st, THR_LOCKED, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		/* the slot is ours until state is published: key first, then
		 * the tag, then the state (readers check the tag after the
		 * state) */
		x->k = *k;
		x->win_ms = win;
		__atomic_store_n(&x->tag, h, __ATOMIC_RELEASE);
		__atomic_store_n(&x->state, first(now, td, ret), __ATOMIC_RELEASE);
		if (reuse)
			s->ctr.threshold_evictions++;
		return THR_DONE;
	}
	return THR_ABSENT;
}

static bool
apply(struct mt_scratch *s, struct mt_thr_table *tb, const struct mt_rule *r,
      const struct mt_threshold *td, bool df, const struct mt_txn *t)
{
	struct thr_key k;
	uint64_t h, ms = t->ts_ns / 1000000u;
	uint32_t now = (uint32_t)ms;
	uint64_t w = (uint64_t)td->seconds * 1000u;
	uint32_t win = w < 0x7fffffffu ? (uint32_t)w : 0x7fffffffu;
	bool ret = true;

	make_key(&k, r, td, df, t);
	h = hash_key(&k);
	for (int a = 0; a < THR_RETRIES; a++) {
		int rc = update(tb, &k, h, now, win, td, &ret);

		if (rc == THR_DONE)
			return ret;
		if (rc == THR_RETRY)
			continue;
		rc = insert(s, tb, &k, h, now, win, td, &ret);
		if (rc == THR_DONE)
			return ret;
		if (rc == THR_ABSENT)
			break;
	}
	s->ctr.threshold_untracked++;
	return true; /* no slot: reported, untracked */
}

bool
mt_thr_check(struct mt_scratch *s, const struct mt_engine *e, const struct mt_rule *r,
	     const struct mt_txn *t)
{
	if (r->threshold.type == MT_THR_NONE && r->detection_filter.type == MT_THR_NONE)
		return true;
	if (e->thr == NULL)
		return true; /* defensive: an engine with such a rule has its table */
	/* detection_filter decides whether the rule matched at all; threshold
	 * then decides whether that match alerts */
	if (r->detection_filter.type != MT_THR_NONE &&
	    !apply(s, e->thr, r, &r->detection_filter, true, t)) {
		s->ctr.threshold_suppressed++;
		return false;
	}
	if (r->threshold.type != MT_THR_NONE && !apply(s, e->thr, r, &r->threshold, false, t)) {
		s->ctr.threshold_suppressed++;
		return false;
	}
	return true;
}
