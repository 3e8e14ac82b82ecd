/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded tables for the analytics stage: a fixed array of entries
 * (allocated once at creation), a chained hash index and an intrusive LRU
 * list. When full, inserting evicts the least recently used entry and
 * counts it, so memory never grows with traffic and an attacker who
 * floods a table only ages out old state (counted, visible in stats).
 *
 * Thread: the analytics thread only.
 */
#include "mt_behav_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

struct lru_node {
	uint64_t key;
	uint32_t hnext;      /* hash chain */
	uint32_t prev, next; /* LRU list, head = MRU */
	uint32_t used;
};

struct mt_lru {
	uint32_t cap, n, esize, mask;
	uint32_t head, tail, free_head;
	uint64_t evictions;
	uint32_t *buckets;
	struct lru_node *nodes;
	uint8_t *data;
};

struct mt_lru *
mt_lru_create(uint32_t cap, uint32_t esize)
{
	struct mt_lru *t;
	uint32_t nb = 16;

	if (cap == 0 || esize == 0) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < cap && nb < (1u << 30))
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->cap = cap;
	t->esize = (esize + 7) & ~7u;
	t->mask = nb - 1;
	t->buckets = malloc(sizeof(uint32_t) * nb);
	t->nodes = calloc(cap, sizeof(*t->nodes));
	t->data = calloc(cap, t->esize);
	if (t->buckets == NULL || t->nodes == NULL || t->data == NULL) {
		mt_lru_destroy(t);
		errno = ENOMEM;
		return NULL;
	}
	memset(t->buckets, 0xff, sizeof(uint32_t) * nb);
	t->head = t->tail = NIL;
	for (uint32_t i = 0; i < cap; i++)
		t->nodes[i].next = i + 1 < cap ? i + 1 : NIL;
	t->free_head = 0;
	return t;
}

void
mt_lru_destroy(struct mt_lru *t)
{
	if (t == NULL)
		return;
	free(t->buckets);
	free(t->nodes);
	free(t->data);
	free(t);
}

static inline uint32_t
bucket(const struct mt_lru *t, uint64_t key)
{
	return (uint32_t)mt_mix64(key) & t->mask;
}

static void
list_unlink(struct mt_lru *t, uint32_t i)
{
	struct lru_node *n = &t->nodes[i];

	if (n->prev != NIL)
		t->nodes[n->prev].next = n->next;
	else
		t->head = n->next;
	if (n->next != NIL)
		t->nodes[n->next].prev = n->prev;
	else
		t->tail = n->prev;
}

static void
list_push_head(struct mt_lru *t, uint32_t i)
{
	struct lru_node *n = &t->nodes[i];

	n->prev = NIL;
	n->next = t->head;
	if (t->head != NIL)
		t->nodes[t->head].prev = i;
	t->head = i;
	if (t->tail == NIL)
		t->tail = i;
}

static void
hash_unlink(struct mt_lru *t, uint32_t i)
{
	uint32_t *pp = &t->buckets[bucket(t, t->nodes[i].key)];

	while (*pp != NIL && *pp != i)
		pp = &t->nodes[*pp].hnext;
	if (*pp == i)
		*pp = t->nodes[i].hnext;
}

static uint32_t
find(const struct mt_lru *t, uint64_t key)
{
	uint32_t i = t->buckets[bucket(t, key)];

	while (i != NIL && t->nodes[i].key != key)
		i = t->nodes[i].hnext;
	return i;
}

void *
mt_lru_peek(const struct mt_lru *t, uint64_t key)
{
	uint32_t i = find(t, key);

	return i == NIL ? NULL : t->data + (size_t)i * t->esize;
}

void *
mt_lru_get(struct mt_lru *t, uint64_t key, bool create, bool *created)
{
	uint32_t i = find(t, key), b;

	if (created)
		*created = false;
	if (i != NIL) {
		if (t->head != i) {
			list_unlink(t, i);
			list_push_head(t, i);
		}
		return t->data + (size_t)i * t->esize;
	}
	if (!create)
		return NULL;
	if (t->free_head != NIL) {
		i = t->free_head;
		t->free_head = t->nodes[i].next;
		t->n++;
	} else {
		i = t->tail;
		list_unlink(t, i);
		hash_unlink(t, i);
		t->evictions++;
	}
	b = bucket(t, key);
	t->nodes[i].key = key;
	t->nodes[i].used = 1;
	t->nodes[i].hnext = t->buckets[b];
	t->buckets[b] = i;
	list_push_head(t, i);
	memset(t->data + (size_t)i * t->esize, 0, t->esize);
	if (created)
		*created = true;
	return t->data + (size_t)i * t->esize;
}

void
mt_lru_del(struct mt_lru *t, uint64_t key)
{
	uint32_t i = find(t, key);

	if (i == NIL)
		return;
	list_unlink(t, i);
	hash_unlink(t, i);
	t->nodes[i].used = 0;
	t->nodes[i].next = t->free_head;
	t->free_head = i;
	t->n--;
}

uint32_t
mt_lru_count(const struct mt_lru *t)
{
	return t->n;
}

uint32_t
mt_lru_cap(const struct mt_lru *t)
{
	return t->cap;
}

uint64_t
mt_lru_evictions(const struct mt_lru *t)
{
	return t->evictions;
}

void
mt_lru_foreach(const struct mt_lru *t, void (*fn)(void *arg, uint64_t key, void *e), void *arg)
{
	for (uint32_t i = t->head; i != NIL;) {
		uint32_t next = t->nodes[i].next;

		fn(arg, t->nodes[i].key, t->data + (size_t)i * t->esize);
		i = next;
	}
}
