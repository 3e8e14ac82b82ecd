/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_alerts.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ctl_alerts {
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* signalled on push and shutdown */
	json_t **ring;           /* [cursor % cap], NULL while empty */
	uint32_t cap;
	uint64_t last;           /* newest cursor */
	bool shutdown;
	json_t *counts;          /* see ctl_alerts_counts() */
};

struct ctl_alerts *
ctl_alerts_create(uint32_t capacity)
{
	struct ctl_alerts *r;

	if (capacity == 0) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->ring = calloc(capacity, sizeof(*r->ring));
	r->counts = json_pack("{s:I,s:{},s:{},s:{},s:{}}", "alerts", (json_int_t)0,
			      "signature_id", "mitre_technique_id", "owasp_api", "technique_owasp");
	if (r->ring == NULL || r->counts == NULL) {
		free(r->ring);
		json_decref(r->counts);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->cap = capacity;
	pthread_mutex_init(&r->lock, NULL);
	{
		pthread_condattr_t ca;

		/* Waits use CLOCK_MONOTONIC: wall-clock steps must not stall SSE. */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&r->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	return r;
}

void
ctl_alerts_destroy(struct ctl_alerts *r)
{
	uint32_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->cap; i++)
		json_decref(r->ring[i]);
	free(r->ring);
	json_decref(r->counts);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void
ctl_alerts_bump(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	json_object_set_new(obj, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

/* Count one alert in every breakdown (lock held). */
static void
ctl_alerts_count(struct ctl_alerts *r, json_t *eve)
{
	json_t *al = json_object_get(eve, "alert");
	json_t *md = json_object_get(al, "metadata");
	json_t *techs = json_object_get(md, "mitre_technique_id");
	json_t *owasp = json_object_get(md, "owasp_api");
	json_t *pairs = json_object_get(r->counts, "technique_owasp");
	json_t *t, *o;
	size_t i, j;
	char sid[24];

	ctl_alerts_bump(r->counts, "alerts");
	snprintf(sid, sizeof(sid), "%lld",
		 (long long)json_integer_value(json_object_get(al, "signature_id")));
	ctl_alerts_bump(json_object_get(r->counts, "signature_id"), sid);
	json_array_foreach(techs, i, t) {
		json_t *per;

		if (!json_is_string(t))
			continue;
		ctl_alerts_bump(json_object_get(r->counts, "mitre_technique_id"), json_string_value(t));
		per = json_object_get(pairs, json_string_value(t));
		if (per == NULL) {
			per = json_object();
			json_object_set_new(pairs, json_string_value(t), per);
		}
		json_array_foreach(owasp, j, o)
			if (json_is_string(o))
				ctl_alerts_bump(per, json_string_value(o));
	}
	json_array_foreach(owasp, j, o)
		if (json_is_string(o))
			ctl_alerts_bump(json_object_get(r->counts, "owasp_api"), json_string_value(o));
}

uint64_t
ctl_alerts_push(struct ctl_alerts *r, json_t *eve)
{
	uint64_t id;
	json_t **slot;

	pthread_mutex_lock(&r->lock);
	id = ++r->last;
	json_object_set_new(eve, "cursor", json_integer((json_int_t)id));
	ctl_alerts_count(r, eve);
	slot = &r->ring[id % r->cap];
	json_decref(*slot);
	*slot = eve;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return id;
}

static bool
ctl_alerts_has_string(json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static bool
ctl_alerts_match(json_t *o, const struct ctl_alert_filter *f)
{
	json_t *al = json_object_get(o, "alert");
	json_t *md = json_object_get(al, "metadata");

	if (f->sid >= 0 && json_integer_value(json_object_get(al, "signature_id")) != f->sid)
		return false;
	if (f->technique != NULL &&
	    !ctl_alerts_has_string(json_object_get(md, "mitre_technique_id"), f->technique))
		return false;
	if (f->owasp != NULL && !ctl_alerts_has_string(json_object_get(md, "owasp_api"), f->owasp))
		return false;
	if (f->src != NULL) {
		const char *s = json_string_value(json_object_get(o, "src_ip"));

		if (s == NULL || strcmp(s, f->src) != 0)
			return false;
	}
	return true;
}

json_t *
ctl_alerts_query(struct ctl_alerts *r, const struct ctl_alert_filter *f, uint64_t *next)
{
	json_t *out = json_array();
	uint32_t limit = f->limit ? f->limit : 100;
	uint64_t c, first, seen;

	pthread_mutex_lock(&r->lock);
	/* The oldest cursor still in the ring. */
	first = r->last >= r->cap ? r->last - r->cap + 1 : 1;
	c = f->since + 1 > first ? f->since + 1 : first;
	seen = f->since;
	for (; c <= r->last && json_array_size(out) < limit; c++) {
		json_t *o = r->ring[c % r->cap];

		seen = c;
		if (o != NULL && ctl_alerts_match(o, f))
			json_array_append(out, o);
	}
	if (next != NULL)
		*next = seen > f->since ? seen : f->since;
	pthread_mutex_unlock(&r->lock);
	return out;
}

int
ctl_alerts_wait(struct ctl_alerts *r, uint64_t since, int timeout_ms)
{
	struct timespec dl;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->lock);
	while (!r->shutdown && r->last <= since && rc == 0)
		rc = pthread_cond_timedwait(&r->cond, &r->lock, &dl);
	rc = r->shutdown ? -ESHUTDOWN : r->last > since ? 1 : 0;
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void
ctl_alerts_shutdown(struct ctl_alerts *r)
{
	pthread_mutex_lock(&r->lock);
	r->shutdown = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

uint64_t
ctl_alerts_last(struct ctl_alerts *r)
{
	uint64_t v;

	pthread_mutex_lock(&r->lock);
	v = r->last;
	pthread_mutex_unlock(&r->lock);
	return v;
}

json_t *
ctl_alerts_counts(struct ctl_alerts *r)
{
	json_t *c;

	pthread_mutex_lock(&r->lock);
	c = json_deep_copy(r->counts);
	pthread_mutex_unlock(&r->lock);
	return c;
}

uint32_t
ctl_alerts_capacity(const struct ctl_alerts *r)
{
	return r->cap;
}
