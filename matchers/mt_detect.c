/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Analytics stage: one thread consumes the records of every worker, keeps
 * all behavioural state in bounded LRU tables, and runs the detectors of
 * docs/BEHAVIOUR.md. Windows are tumbling: a counter group restarts when
 * its window has passed (cheap, no per-event timestamps; the cost is that
 * a burst straddling two windows counts half in each, so thresholds are
 * reached at most one window later than with sliding windows).
 */
#include "mt_behav.h"
#include "mt_behav_an_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS 1000000000ULL

static const char *const table_names[MT_TAB__COUNT] = {
	"identity", "actor_template", "client", "username", "credential", "template",
	"owned_object", "slot", "suppress",
};

const char *
mt_behav_table_name(enum mt_behav_table t)
{
	return (unsigned)t < MT_TAB__COUNT ? table_names[t] : NULL;
}

struct mt_behav *
mt_behav_create(const struct mt_behav_params *p)
{
	struct mt_behav *b = calloc(1, sizeof(*b));
	const uint32_t caps[MT_TAB__COUNT] = {
		p->max_identities, p->max_actor_templates, p->max_clients, p->max_usernames,
		p->max_credentials, p->max_templates, p->max_owned_objects, p->max_slots,
		p->max_suppress,
	};
	const uint32_t sizes[MT_TAB__COUNT] = {
		sizeof(struct ident_e), sizeof(struct at_e), sizeof(struct cl_e), sizeof(struct us_e),
		sizeof(struct cr_e), sizeof(struct tm_e), sizeof(struct own_e), sizeof(struct sl_e),
		sizeof(struct sup_e),
	};

	if (b == NULL)
		return NULL;
	b->p = *p;
	for (unsigned i = 0; i < MT_TAB__COUNT; i++) {
		b->t[i] = mt_lru_create(caps[i], sizes[i]);
		if (b->t[i] == NULL)
			goto fail;
	}
	b->blocks = mt_lru_create(p->max_suppress, sizeof(struct blk_e));
	if (b->blocks == NULL)
		goto fail;
	(void)mt_behav_fast_hash("", 0);
	return b;
fail:
	mt_behav_destroy(b);
	errno = ENOMEM;
	return NULL;
}

void
mt_behav_destroy(struct mt_behav *b)
{
	if (b == NULL)
		return;
	for (unsigned i = 0; i < MT_TAB__COUNT; i++)
		mt_lru_destroy(b->t[i]);
	mt_lru_destroy(b->blocks);
	free(b->ops);
	free(b);
}

void
mt_behav_set_params(struct mt_behav *b, const struct mt_behav_params *p)
{
	b->p = *p;
}

void
mt_behav_get_stats(const struct mt_behav *b, struct mt_behav_stats *s)
{
	*s = b->st;
	for (unsigned i = 0; i < MT_TAB__COUNT; i++) {
		s->evictions[i] = mt_lru_evictions(b->t[i]);
		s->entries[i] = mt_lru_count(b->t[i]);
		s->caps[i] = mt_lru_cap(b->t[i]);
	}
	s->blocks_active = mt_lru_count(b->blocks);
}

/* ---- helpers ---- */

/* Restart a tumbling window when it has passed. @return true if restarted. */
/* A closed window's bytes and records into a usual level (EWMA, weight 0.1;
 * the first window sets it). */
static void
usual_update(double *ubytes, double *urecords, uint32_t *n, uint64_t bytes, uint64_t records)
{
	double w = *n ? 0.1 : 1.0;

	*ubytes = (1 - w) * *ubytes + w * (double)bytes;
	*urecords = (1 - w) * *urecords + w * (double)records;
	(*n)++;
}

static bool
window(uint64_t *start, uint64_t now, uint32_t win_s)
{
	if (*start == 0 || now < *start || now - *start >= (uint64_t)win_s * NS) {
		*start = now ? now : 1;
		return true;
	}
	return false;
}

static uint64_t
client_key(const struct mt_behav_rec *r)
{
	uint8_t a[17];

	a[0] = r->family;
	memcpy(a + 1, r->client_ip, 16);
	return mt_behav_fast_hash(a, sizeof(a));
}

static uint64_t
net_key(const struct mt_behav_rec *r)
{
	uint8_t a[17] = { 0 };

	a[0] = r->family;
	memcpy(a + 1, r->client_ip, r->family == 4 ? 3 : 6); /* /24 or /48 */
	return mt_behav_fast_hash(a, sizeof(a));
}

static size_t
json_esc(char *o, size_t cap, const char *s)
{
	size_t off = 0;

	for (; *s && off + 7 < cap; s++) {
		uint8_t c = (uint8_t)*s;

		if (c == '"' || c == '\\') {
			o[off++] = '\\';
			o[off++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			off += (size_t)snprintf(o + off, cap - off, "\\u%04x", c);
		} else {
			o[off++] = (char)c;
		}
	}
	o[off] = '\0';
	return off;
}

static const char *const kind_names[] = { "client", "basic", "cookie", "apikey", "token", "jwt" };

struct emit_ctx {
	struct mt_behav *b;
	const struct mt_behav_rec *r;
	const struct tm_res *res;
	struct mt_behav_detection *out;
	unsigned max, n;
};

/*
 * Report detector @d unless the same (detector, actor) fired within its
 * suppress_s. @extra: JSON members appended to the evidence object.
 */
static void
emit(struct emit_ctx *c, enum mt_behav_det d, const struct mt_rule_info *rule, uint64_t actor,
     bool client_actor, const char *fmt, ...)
{
	struct mt_behav *b = c->b;
	const struct mt_behav_det_cfg *cfg = &b->p.det[d];
	const struct mt_behav_rec *r = c->r;
	struct mt_behav_detection *o;
	struct sup_e *s;
	uint64_t now = r->ts_ns;
	char ip[48], tmpl[2 * MT_BEHAV_TMPL_MAX], host[2 * MT_BEHAV_HOST_MAX];
	size_t off;
	va_list ap;

	if (!cfg->enabled)
		return;
	s = mt_lru_get(b->t[MT_TAB_SUPPRESS], mt_mix64(((uint64_t)d << 56) ^ actor), true, NULL);
	if (s->until && now < s->until) {
		b->st.suppressed++;
		return;
	}
	s->until = now + (uint64_t)(cfg->suppress_s ? cfg->suppress_s : 1) * NS;
	b->st.detections++;
	if (c->n >= c->max) {
		b->st.detections_dropped++;
		return;
	}
	o = &c->out[c->n++];
	memset(o, 0, sizeof(*o));
	o->rule = rule ? rule : &mt_behav_rules[d];
	o->det = d;
	o->action = cfg->action;
	o->id_kind = r->id_kind;
	o->family = r->family;
	memcpy(o->client_ip, r->client_ip, 16);
	o->id_hash = r->id_hash;
	o->ts_ns = now;
	o->flow_id = r->flow_id;
	o->txn_id = r->txn_id;
	if (cfg->action != MT_BEHAV_ALERT) {
		struct blk_e *be;
		uint64_t key = cfg->action == MT_BEHAV_BLOCK_CLIENT || client_actor ?
			       client_key(r) : r->id_hash;

		o->expires_ns = now + (uint64_t)cfg->block_s * NS;
		be = mt_lru_get(b->blocks, key, true, NULL);
		if (be->until < o->expires_ns)
			be->until = o->expires_ns;
	}
	inet_ntop(r->family == 6 ? AF_INET6 : AF_INET, r->client_ip, ip, sizeof(ip));
	json_esc(tmpl, sizeof(tmpl), c->res ? c->res->tmpl : r->tmpl);
	json_esc(host, sizeof(host), r->host);
	off = (size_t)snprintf(o->evidence, sizeof(o->evidence),
		"{\"detector\":\"%s\",\"identity\":\"%016" PRIx64 "\",\"identity_kind\":\"%s\","
		"\"client\":\"%s\",\"host\":\"%s\",\"method\":\"%s\",\"template\":\"%s\","
		"\"window_s\":%u,\"threshold\":%u",
		mt_behav_det_name(d), r->id_hash, kind_names[r->id_kind < 6 ? r->id_kind : 0], ip, host,
		r->method, tmpl, cfg->window_s, cfg->threshold);
	if (fmt && off < sizeof(o->evidence) - 2) {
		o->evidence[off++] = ',';
		va_start(ap, fmt);
		off += (size_t)vsnprintf(o->evidence + off, sizeof(o->evidence) - off, fmt, ap);
		va_end(ap);
	}
	if (off >= sizeof(o->evidence) - 1) /* truncated: keep it valid JSON */
		snprintf(o->evidence, sizeof(o->evidence),
			 "{\"detector\":\"%s\",\"identity\":\"%016" PRIx64 "\",\"truncated\":true}",
			 mt_behav_det_name(d), r->id_hash);
	else
		snprintf(o->evidence + off, sizeof(o->evidence) - off, "}");
}

/* ---- detector groups ---- */

static void
det_objects(struct emit_ctx *c, struct tm_e *tm)
{
	struct mt_behav *b = c->b;
	const struct mt_behav_rec *r = c->r;
	const struct tm_res *res = c->res;
	const struct mt_behav_det_cfg *ce = &b->p.det[MT_DET_BOLA_ENUMERATION];
	const struct mt_behav_det_cfg *cm = &b->p.det[MT_DET_BOLA_MANY_OBJECTS];
	struct at_e *a;
	double est;

	if (!res->has_obj)
		return;
	a = mt_lru_get(b->t[MT_TAB_ACTOR_TMPL], mt_mix64(r->id_hash ^ mt_mix64(res->id)), true, NULL);
	if (window(&a->win_obj, r->ts_ns, cm->window_s)) {
		if (a->reqs && tm) { /* fold the closed window into the template's usual */
			double v = a->est;

			tm->usual_objs = tm->n_obj_windows ? 0.9 * tm->usual_objs + 0.1 * v : v;
			tm->n_obj_windows++;
		}
		memset(a->hll, 0, sizeof(a->hll));
		a->reqs = 0;
		a->seq_run = 0;
		a->has_last = 0;
	}
	a->reqs++;
	if (a->reqs == 1)
		a->est = 0;
	if (mt_hll_add(a->hll, HLL_P_MED, res->obj_hash))
		a->est = mt_hll_estimate(a->hll, HLL_P_MED);
	est = a->est;
	if ((r->flags & MT_REC_OBJ_NUMERIC) && res->obj_hash == r->obj_hash) {
		if (a->has_last && r->obj_num != a->last_num) {
			uint64_t d = r->obj_num > a->last_num ? r->obj_num - a->last_num :
								a->last_num - r->obj_num;

			a->seq_run = d <= (uint64_t)(ce->ratio > 0 ? ce->ratio : 1) ? a->seq_run + 1 : 0;
		}
		a->last_num = r->obj_num;
		a->has_last = 1;
		a->samples[a->ns++ % 4] = r->obj_num;
		if (a->seq_run >= ce->threshold && est >= ce->min_count)
			emit(c, MT_DET_BOLA_ENUMERATION, NULL, r->id_hash, false,
			     "\"sequential_run\":%u,\"distinct_objects\":%.0f,"
			     "\"samples\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]",
			     a->seq_run, est, a->samples[0], a->samples[1], a->samples[2], a->samples[3]);
	}
	{
		double usual = tm && tm->n_obj_windows ? tm->usual_objs : 0;
		double floor = cm->threshold, need = usual * cm->ratio;

		if (need < floor)
			need = floor;
		if (est >= need && a->reqs >= cm->min_count)
			emit(c, MT_DET_BOLA_MANY_OBJECTS,
			     r->id_kind != MT_ID_CLIENT ? &mt_behav_rule_many_objects_auth : NULL,
			     r->id_hash, false,
			     "\"distinct_objects\":%.0f,\"requests\":%u,\"template_usual\":%.1f",
			     est, a->reqs, usual);
	}
	/* pagination walk rides on the same actor/template entry */
}

static void
det_pages(struct emit_ctx *c, const struct tm_res *res)
{
	struct mt_behav *b = c->b;
	const struct mt_behav_rec *r = c->r;
	const struct mt_behav_det_cfg *cp = &b->p.det[MT_DET_PAGINATION_WALK];
	struct at_e *a;

	if (!(r->flags & MT_REC_HAS_PAGE))
		return;
	a = mt_lru_get(b->t[MT_TAB_ACTOR_TMPL], mt_mix64(r->id_hash ^ mt_mix64(res->id) ^ 0x9a6e),
		       true, NULL);
	if (window(&a->win_page, r->ts_ns, cp->window_s))
		a->page_run = 0;
	if (r->page == a->last_page + 1)
		a->page_run++;
	else if (r->page != a->last_page)
		a->page_run = r->page <= 1 ? 1 : 0;
	a->last_page = r->page;
	if (a->page_run >= cp->threshold)
		emit(c, MT_DET_PAGINATION_WALK, NULL, r->id_hash ^ res->id, false,
		     "\"pages_in_sequence\":%u,\"last_page\":%u,\"limit\":%u", a->page_run, r->page, r->limit);
}

/* Readers of other identities' objects, per collection, before the
 * collection counts as shared (catalogue items, an admin's products). */
#define SHARED_READERS 5

/*
 * Record that @p reader read an object of @p coll it does not own, and
 * tell whether the collection is shared: objects that many identities
 * read without owning them are public by design, not a BOLA target. The
 * entry lives in the owner table under a key no object key takes; its
 * 64-bit "owner" field is a bitmap of reader hashes (linear counting).
 */
static bool
shared_collection(struct mt_behav *b, uint64_t coll, uint64_t reader)
{
	struct own_e *s = mt_lru_get(b->t[MT_TAB_OWNER], mt_mix64(coll ^ 0x5a4ed0c011ec7104ULL),
				     true, NULL);

	s->owner |= 1ULL << (mt_mix64(reader) & 63);
	return __builtin_popcountll(s->owner) >= SHARED_READERS;
}

static void
det_identity(struct emit_ctx *c, const struct tm_res *res)
{
	struct mt_behav *b = c->b;
	const struct mt_behav_rec *r = c->r;
	const struct mt_behav_det_cfg *ce = &b->p.det[MT_DET_BOLA_ERROR_RATIO];
	const struct mt_behav_det_cfg *cs = &b->p.det[MT_DET_SCAN_404_SPREAD];
	const struct mt_behav_det_cfg *cx = &b->p.det[MT_DET_EXCESSIVE_DATA];
	struct ident_e *e = mt_lru_get(b->t[MT_TAB_IDENTITY], r->id_hash, true, NULL);
	bool err = r->status == 403 || r->status == 404;

	e->kind = r->id_kind;
	if (window(&e->win_err, r->ts_ns, ce->window_s)) {
		e->req = 0;
		e->err = 0;
	}
	e->req++;
	e->err += err;
	if (e->err >= ce->threshold && e->req >= ce->min_count &&
	    (double)e->err >= ce->ratio * (double)e->req)
		emit(c, MT_DET_BOLA_ERROR_RATIO, NULL, r->id_hash, false,
		     "\"errors\":%u,\"requests\":%u,\"share\":%.2f", e->err, e->req,
		     (double)e->err / (double)e->req);

	if (window(&e->win_404, r->ts_ns, cs->window_s)) {
		e->n404 = 0;
		memset(e->hll404, 0, sizeof(e->hll404));
	}
	if (r->status == 404) {
		double d;

		e->n404++;
		mt_hll_add(e->hll404, HLL_P_SMALL, r->tmpl_id);
		d = mt_hll_estimate(e->hll404, HLL_P_SMALL);
		if (d >= cs->threshold && e->n404 >= cs->min_count)
			emit(c, MT_DET_SCAN_404_SPREAD, NULL, r->id_hash, false,
			     "\"not_found\":%u,\"distinct_templates\":%.0f", e->n404, d);
	}

	if (window(&e->win_data, r->ts_ns, cx->window_s)) {
		if (e->bytes || e->records)
			usual_update(&b->usual_bytes, &b->usual_records, &b->n_data_windows, e->bytes,
				     e->records);
		e->bytes = 0;
		e->records = 0;
	}
	e->bytes += r->resp_bytes;
	e->records += r->resp_records;
	{
		double nb = (double)cx->threshold * 1024, nr = cx->min_count;

		if (b->n_data_windows && b->usual_bytes * cx->ratio > nb)
			nb = b->usual_bytes * cx->ratio;
		if (b->n_data_windows && b->usual_records * cx->ratio > nr)
			nr = b->usual_records * cx->ratio;
		if ((double)e->bytes >= nb || (nr > 0 && (double)e->records >= nr))
			emit(c, MT_DET_EXCESSIVE_DATA, NULL, r->id_hash, false,
			     "\"bytes\":%" PRIu64 ",\"records\":%" PRIu64 ",\"usual_bytes\":%.0f,"
			     "\"usual_records\":%.0f", e->bytes, e->records, b->usual_bytes,
			     b->usual_records);
	}

	/* object ownership: learn from successful writes, check reads */
	if (r->id_kind != MT_ID_CLIENT && r->status >= 200 && r->status < 300) {
		const struct mt_behav_det_cfg *cf = &b->p.det[MT_DET_BOLA_FOREIGN_OBJECT];
		struct mt_lru *ot = b->t[MT_TAB_OWNER];

		if (r->flags & MT_REC_WRITE) {
			for (unsigned i = 0; i < r->n_resp_ids && i < MT_BEHAV_RESP_IDS; i++) {
				bool created;
				struct own_e *o = mt_lru_get(ot, mt_mix64(res->create_coll ^ r->resp_ids[i]),
							     true, &created);

				if (created)
					o->owner = r->id_hash;
			}
		}
		if (res->has_obj) {
			uint64_t k = mt_mix64(res->coll ^ res->obj_hash);
			struct own_e *o = mt_lru_get(ot, k, false, NULL);

			if (o == NULL && (r->flags & MT_REC_WRITE) && strcmp(r->method, "DELETE") != 0) {
				o = mt_lru_get(ot, k, true, NULL);
				o->owner = r->id_hash;
			} else if (o && o->owner != r->id_hash && !shared_collection(b, res->coll, r->id_hash)) {
				unsigned i;

				if (window(&e->win_foreign, r->ts_ns, cf->window_s)) {
					e->foreign_n = 0;
					memset(e->foreign_recent, 0, sizeof(e->foreign_recent));
				}
				for (i = 0; i < 8 && e->foreign_recent[i] != k; i++)
					;
				if (i == 8) {
					e->foreign_recent[e->foreign_n % 8] = k;
					e->foreign_n++;
				}
				if (e->foreign_n >= cf->threshold)
					emit(c, MT_DET_BOLA_FOREIGN_OBJECT, NULL, r->id_hash, false,
					     "\"foreign_objects\":%u,\"owner\":\"%016" PRIx64 "\"",
					     e->foreign_n, o->owner);
			}
		}
	}
}

/* A series, not one response: single leaky responses are what the
 * per-response PII and secret detectors report. */
#define EXFIL_MIN_RESPONSES 3

/*
 * Sensitive values in one response, counted as the per-response detectors
 * count them: cards only when they look like cards (grouped, under a
 * card-like key, or most of the long digit tokens), so that order ids that
 * happen to pass Luhn are not personal data; one per secret kind.
 */
static uint32_t
sensitive_values(const struct mt_behav_params *p, const struct mt_behav_rec *r)
{
	const struct mt_behav_det_cfg *cc = &p->det[MT_DET_PII_CARD];
	uint32_t n = (uint32_t)r->pii[MT_PII_SSN] + r->pii[MT_PII_IBAN] + r->pii[MT_PII_EMAIL] +
		     r->pii[MT_PII_PHONE] + (uint32_t)__builtin_popcount(r->secrets);

	if (r->pii[MT_PII_CARD] && r->pii[MT_PII_CARD] >= cc->threshold &&
	    ((r->flags & MT_REC_CARD_CONTEXT) ||
	     (r->pii[MT_PII_CARD] >= cc->min_count && r->pii[MT_PII_CARD] >= cc->ratio * r->card_tokens)))
		n += r->pii[MT_PII_CARD];
	return n;
}

/*
 * sensitive_exfiltration: per identity and window, the bytes and records
 * of successful responses that carried sensitive data. Records are the
 * JSON objects in arrays, or the sensitive values when there are more (a
 * CSV or text export has no JSON records). Fires on at least
 * EXFIL_MIN_RESPONSES such responses adding up to max(threshold KiB,
 * ratio x usual bytes) or max(min_count, ratio x usual records); usual =
 * EWMA over closed windows that received sensitive data and did not fire.
 * Login responses (a session token for the caller) are not counted.
 */
static void
det_exfil(struct emit_ctx *c)
{
	struct mt_behav *b = c->b;
	const struct mt_behav_rec *r = c->r;
	const struct mt_behav_det_cfg *cx = &b->p.det[MT_DET_SENSITIVE_EXFIL];
	struct ident_e *e;
	uint32_t vals, recs;
	double nb, nr;

	if (!cx->enabled || r->status < 200 || r->status >= 300 || (r->flags & MT_REC_LOGIN))
		return;
	vals = sensitive_values(&b->p, r);
	if (vals == 0)
		return;
	e = mt_lru_get(b->t[MT_TAB_IDENTITY], r->id_hash, true, NULL);
	if (window(&e->win_exfil, r->ts_ns, cx->window_s)) {
		if (e->ex_resp && !e->ex_fired)
			usual_update(&b->usual_ex_bytes, &b->usual_ex_records, &b->n_ex_windows,
				     e->ex_bytes, e->ex_records);
		e->ex_bytes = 0;
		e->ex_records = 0;
		e->ex_resp = 0;
		e->ex_secrets = 0;
		e->ex_fired = 0;
		memset(e->ex_pii, 0, sizeof(e->ex_pii));
	}
	recs = r->resp_records > vals ? r->resp_records : vals;
	e->ex_bytes += r->resp_bytes;
	e->ex_records += recs;
	e->ex_resp++;
	e->ex_secrets |= r->secrets;
	for (unsigned i = 0; i < MT_PII__COUNT; i++)
		e->ex_pii[i] += r->pii[i];
	if (e->ex_resp < EXFIL_MIN_RESPONSES)
		return;
	/* 0 turns a criterion off */
	nb = cx->threshold ? (double)cx->threshold * 1024 : -1;
	nr = cx->min_count ? (double)cx->min_count : -1;
	if (nb > 0 && b->n_ex_windows && b->usual_ex_bytes * cx->ratio > nb)
		nb = b->usual_ex_bytes * cx->ratio;
	if (nr > 0 && b->n_ex_windows && b->usual_ex_records * cx->ratio > nr)
		nr = b->usual_ex_records * cx->ratio;
	if ((nb > 0 && (double)e->ex_bytes >= nb) || (nr > 0 && (double)e->ex_records >= nr)) {
		e->ex_fired = 1;
		emit(c, MT_DET_SENSITIVE_EXFIL, NULL, r->id_hash, false,
		     "\"bytes\":%" PRIu64 ",\"records\":%u,\"responses\":%u,"
		     "\"pii\":[%u,%u,%u,%u,%u],\"secret_kinds\":%u,\"usual_bytes\":%.0f,"
		     "\"usual_records\":%.0f", e->ex_bytes, e->ex_records, e->ex_resp,
		     e->ex_pii[0], e->ex_pii[1], e->ex_pii[2], e->ex_pii[3], e->ex_pii[4],
		     e->ex_secrets, b->usual_ex_bytes, b->usual_ex_records);
	}
}

static bool
in_ring(const uint64_t *v, unsigned n, uint64_t x)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static void
det_login(struct emit_ctx *c)
{
	struct mt_behav *b = c->b;
	const struct mt_behav_rec *r = c->r;
	const struct mt_behav_params *p = &b->p;
	bool fail = r->flags & MT_REC_LOGIN_FAIL;
	uint64_t ck = client_key(r);
	struct cl_e *cl;

	if (!(r->flags & MT_REC_LOGIN))
		return;
	cl = mt_lru_get(b->t[MT_TAB_CLIENT], ck, true, NULL);
	if (window(&cl->win, r->ts_ns, p->det[MT_DET_BRUTE_FORCE_CLIENT].window_s)) {
		cl->fails = 0;
		cl->attempts = 0;
		memset(cl->users, 0, sizeof(cl->users));
	}
	cl->attempts++;
	if (fail) {
		cl->fails++;
		if (r->flags & MT_REC_HAS_USER)
			mt_hll_add(cl->users, HLL_P_SMALL, r->user_hash);
		if (cl->fails >= p->det[MT_DET_BRUTE_FORCE_CLIENT].threshold)
			emit(c, MT_DET_BRUTE_FORCE_CLIENT, NULL, ck, true,
			     "\"failures\":%u,\"attempts\":%u", cl->fails, cl->attempts);
		{
			const struct mt_behav_det_cfg *cs = &p->det[MT_DET_PASSWORD_SPRAYING];
			double users = mt_hll_estimate(cl->users, HLL_P_SMALL);

			if (users >= cs->threshold && (double)cl->fails <= cs->ratio * users)
				emit(c, MT_DET_PASSWORD_SPRAYING, NULL, ck, true,
				     "\"usernames\":%.0f,\"failures\":%u,\"per_user\":%.2f", users,
				     cl->fails, (double)cl->fails / users);
		}
	}

	if (r->flags & MT_REC_HAS_USER) {
		struct us_e *u = mt_lru_get(b->t[MT_TAB_USER], r->user_hash, true, NULL);
		const struct mt_behav_det_cfg *cu = &p->det[MT_DET_BRUTE_FORCE_USER];
		const struct mt_behav_det_cfg *ca = &p->det[MT_DET_LOGIN_AFTER_FAILURES];
		bool known = in_ring(u->ok_clients, u->n_ok < 4 ? u->n_ok : 4, ck);
		/* The failure run that login_after_failures needs is per username
		 * and client network: the guesses and the winning try come from
		 * one attacker (or its /24). A run from elsewhere followed by a
		 * success from a client with no failures is the real user logging
		 * in during someone else's attack, not a takeover. */
		uint64_t rk = mt_mix64(r->user_hash ^ net_key(r) ^ 0x7275e2a11ULL);
		struct us_e *run = mt_lru_get(b->t[MT_TAB_USER], rk, fail && !known, NULL);

		if (window(&u->win, r->ts_ns, cu->window_s))
			u->fails = 0;
		if (run && run->last_fail && r->ts_ns - run->last_fail > (uint64_t)ca->window_s * NS)
			run->fails_run = 0;
		if (fail) {
			u->fails++;
			if (run && !known) { /* failures from the user's known clients are typos */
				run->fails_run++;
				run->last_fail = r->ts_ns;
			}
			if (u->fails >= cu->threshold)
				emit(c, MT_DET_BRUTE_FORCE_USER, NULL, r->user_hash, false,
				     "\"failures\":%u,\"username\":\"%016" PRIx64 "\"", u->fails, r->user_hash);
		} else {
			if (!known && run && run->fails_run >= ca->threshold)
				emit(c, MT_DET_LOGIN_AFTER_FAILURES, NULL, r->user_hash, false,
				     "\"failures_before\":%u,\"username\":\"%016" PRIx64 "\",\"new_client\":true",
				     run->fails_run, r->user_hash);
			if (!known)
				u->ok_clients[u->n_ok++ % 4] = ck;
			if (run)
				run->fails_run = 0;
		}
	}

	/*
	 * Credential stuffing: clients that failed and did not succeed since
	 * (in the global window). A user with a typo succeeds seconds later
	 * and leaves the set; bots replaying leaked pairs mostly never do.
	 * The count must also stand well above its usual level per window, so
	 * that the steady trickle of users who give up on a busy API does not
	 * fire (a success-rate gate would not do: the clean logins of a busy
	 * API dilute any attack that is smaller than its user base).
	 */
	{
		const struct mt_behav_det_cfg *cs = &p->det[MT_DET_CREDENTIAL_STUFFING];
		bool closed = b->lg_win != 0;

		if (window(&b->lg_win, r->ts_ns, cs->window_s)) {
			if (closed && !b->lg_fired) { /* attack windows do not teach it */
				b->lg_usual = b->lg_nwin ? 0.8 * b->lg_usual + 0.2 * b->lg_fo_clients :
							   (double)b->lg_fo_clients;
				b->lg_nwin++;
			}
			b->lg_fo_clients = 0;
			b->lg_fo_fails = 0;
			b->lg_fired = 0;
			memset(b->lg_users, 0, sizeof(b->lg_users));
		}
		if (cl->lg_win != b->lg_win) {
			if (!fail)
				return;
			cl->lg_win = b->lg_win; /* joins the failing-only set */
			cl->lg_fails = 0;
			cl->lg_ok = 0;
			b->lg_fo_clients++;
		}
		if (cl->lg_ok)
			return;
		if (!fail) { /* it got in after all: a typo, not a bot */
			cl->lg_ok = 1;
			b->lg_fo_clients--;
			b->lg_fo_fails -= cl->lg_fails;
			return;
		}
		cl->lg_fails++;
		b->lg_fo_fails++;
		if (r->flags & MT_REC_HAS_USER)
			mt_hll_add(b->lg_users, HLL_P_BIG, r->user_hash);
		if (b->lg_fo_fails >= cs->threshold && b->lg_fo_clients >= cs->min_count &&
		    (double)b->lg_fo_clients >= cs->ratio * b->lg_usual) {
			double nu = mt_hll_estimate(b->lg_users, HLL_P_BIG);

			if (nu >= cs->min_count) {
				b->lg_fired = 1;
				emit(c, MT_DET_CREDENTIAL_STUFFING, NULL, 0, false,
				     "\"failing_clients\":%u,\"failures\":%u,\"usernames\":%.0f,"
				     "\"usual_failing_clients\":%.1f", b->lg_fo_clients, b->lg_fo_fails,
				     nu, b->lg_usual);
			}
		}
	}
}

static void
det_creds(struct emit_ctx *c)
{
	struct mt_behav *b = c->b;
	const struct mt_behav_rec *r = c->r;
	enum mt_behav_det d;
	const struct mt_behav_det_cfg *cfg;
	struct cr_e *e;
	double nets;

	if (r->cred_hash == 0 || r->cred_kind == MT_ID_BASIC || r->cred_kind == MT_ID_CLIENT)
		return;
	d = r->cred_kind == MT_ID_COOKIE ? MT_DET_COOKIE_REUSE : MT_DET_TOKEN_REUSE;
	cfg = &b->p.det[d];
	e = mt_lru_get(b->t[MT_TAB_CRED], r->cred_hash, true, NULL);
	if (window(&e->win, r->ts_ns, cfg->window_s)) {
		memset(e->nets, 0, sizeof(e->nets));
		e->est = 0;
	}
	e->kind = r->cred_kind;
	if (mt_hll_add(e->nets, HLL_P_SMALL, net_key(r)))
		e->est = mt_hll_estimate(e->nets, HLL_P_SMALL);
	nets = e->est;
	if (nets >= cfg->threshold)
		emit(c, d, NULL, r->cred_hash, false, "\"networks\":%.0f,\"credential\":\"%016" PRIx64 "\"",
		     nets, r->cred_hash);
}

static void
det_request_facts(struct emit_ctx *c)
{
	const struct mt_behav_rec *r = c->r;
	static const struct { uint8_t bit; enum mt_behav_det d; } jw[] = {
		{ MT_JWT_ALG_NONE, MT_DET_JWT_ALG_NONE }, { MT_JWT_EMPTY_SIG, MT_DET_JWT_EMPTY_SIGNATURE },
		{ MT_JWT_EXPIRED, MT_DET_JWT_EXPIRED }, { MT_JWT_HDR_INJECT, MT_DET_JWT_HEADER_INJECTION },
		{ MT_JWT_SIG_BAD, MT_DET_JWT_BAD_SIGNATURE },
	};

	/* already reported inline by the worker; here they get evidence and
	 * the analytics-side action (blocking the identity) */
	for (unsigned i = 0; i < sizeof(jw) / sizeof(jw[0]); i++)
		if (r->jwt & jw[i].bit)
			emit(c, jw[i].d, NULL, r->cred_hash, false, "\"jwt\":%u", r->jwt);
	if (r->flags & MT_REC_APIKEY_URL)
		emit(c, MT_DET_APIKEY_IN_URL, NULL, r->cred_hash ^ c->res->id, false, NULL);
}

static bool
det_data(struct emit_ctx *c)
{
	struct mt_behav *b = c->b;
	const struct mt_behav_rec *r = c->r;
	const struct mt_behav_det_cfg *d = b->p.det;
	uint64_t act = mt_mix64(r->id_hash ^ c->res->id);
	bool sensitive = false;
	const uint16_t *pii = r->pii;
	static const struct { uint8_t bit; enum mt_behav_det d; } sec[] = {
		{ MT_SECRET_PRIVKEY, MT_DET_SECRET_PRIVATE_KEY }, { MT_SECRET_CLOUD, MT_DET_SECRET_CLOUD_KEY },
		{ MT_SECRET_TOKEN, MT_DET_SECRET_TOKEN }, { MT_SECRET_JWT, MT_DET_SECRET_TOKEN },
		{ MT_SECRET_ENTROPY, MT_DET_SECRET_HIGH_ENTROPY },
	};

	if (pii[MT_PII_CARD] >= d[MT_DET_PII_CARD].threshold && pii[MT_PII_CARD] &&
	    ((r->flags & MT_REC_CARD_CONTEXT) ||
	     (pii[MT_PII_CARD] >= d[MT_DET_PII_CARD].min_count &&
	      pii[MT_PII_CARD] >= d[MT_DET_PII_CARD].ratio * r->card_tokens))) {
		sensitive = true;
		emit(c, MT_DET_PII_CARD, NULL, act, false, "\"cards\":%u,\"card_like_tokens\":%u",
		     pii[MT_PII_CARD], r->card_tokens);
	}
	if (pii[MT_PII_SSN] && pii[MT_PII_SSN] >= d[MT_DET_PII_SSN].threshold) {
		sensitive = true;
		emit(c, MT_DET_PII_SSN, NULL, act, false, "\"ssn\":%u", pii[MT_PII_SSN]);
	}
	if (pii[MT_PII_IBAN] && pii[MT_PII_IBAN] >= d[MT_DET_PII_IBAN].threshold) {
		sensitive = true;
		emit(c, MT_DET_PII_IBAN, NULL, act, false, "\"iban\":%u", pii[MT_PII_IBAN]);
	}
	if (pii[MT_PII_EMAIL] && pii[MT_PII_EMAIL] >= d[MT_DET_PII_EMAIL_BULK].threshold) {
		sensitive = true;
		emit(c, MT_DET_PII_EMAIL_BULK, NULL, act, false, "\"emails\":%u", pii[MT_PII_EMAIL]);
	}
	if (pii[MT_PII_PHONE] && pii[MT_PII_PHONE] >= d[MT_DET_PII_PHONE_BULK].threshold) {
		sensitive = true;
		emit(c, MT_DET_PII_PHONE_BULK, NULL, act, false, "\"phones\":%u", pii[MT_PII_PHONE]);
	}
	if (pii[MT_PII_EMAIL] + pii[MT_PII_PHONE] >= 5)
		sensitive = true;
	for (unsigned i = 0; i < sizeof(sec) / sizeof(sec[0]); i++)
		if (r->secrets & sec[i].bit) {
			sensitive = true;
			emit(c, sec[i].d, NULL, act, false, "\"secret_kinds\":%u", r->secrets);
		}
	return sensitive;
}

static void
det_limit(struct emit_ctx *c, struct tm_e *tm)
{
	const struct mt_behav_rec *r = c->r;
	const struct mt_behav_det_cfg *cl = &c->b->p.det[MT_DET_LIMIT_ABUSE];
	bool abuse;

	if (!(r->flags & MT_REC_HAS_LIMIT) || tm == NULL)
		return;
	abuse = r->limit >= cl->threshold &&
		(tm->n_limits < cl->min_count || (double)r->limit >= cl->ratio * tm->usual_limit);
	if (abuse) {
		emit(c, MT_DET_LIMIT_ABUSE, NULL, mt_mix64(r->id_hash ^ c->res->id), false,
		     "\"limit\":%u,\"usual_limit\":%.1f,\"samples\":%u", r->limit, tm->usual_limit,
		     tm->n_limits);
		return; /* attacks do not teach the baseline */
	}
	tm->usual_limit = tm->n_limits ? 0.95 * tm->usual_limit + 0.05 * r->limit : r->limit;
	tm->n_limits++;
}

static void
det_mass_assignment(struct emit_ctx *c, struct tm_e *tm)
{
	struct mt_behav *b = c->b;
	const struct mt_behav_rec *r = c->r;
	const struct mt_behav_det_cfg *cm = &b->p.det[MT_DET_MASS_ASSIGNMENT];
	const struct oa_op *op = c->res->op >= 0 ? &b->ops[c->res->op] : NULL;

	if (tm == NULL || !(r->flags & MT_REC_WRITE) || strcmp(r->method, "DELETE") == 0)
		return;
	for (unsigned i = 0; i < b->p.privilege_fields.n && i < MT_BEHAV_LIST_MAX; i++) {
		bool unexpected;

		if (!(r->priv_fields & (1u << i)))
			continue;
		if (op && op->has_body)
			unexpected = !(op->allowed_priv & (1u << i));
		else
			unexpected = tm->writes >= cm->threshold &&
				     (double)tm->priv_count[i] <= cm->ratio * (double)tm->writes;
		if (unexpected) {
			char f[2 * MT_BEHAV_STR_MAX];

			json_esc(f, sizeof(f), b->p.privilege_fields.v[i]);
			emit(c, MT_DET_MASS_ASSIGNMENT, NULL, mt_mix64(r->id_hash ^ c->res->id), false,
			     "\"field\":\"%s\",\"writes_seen\":%u,\"with_field\":%u,\"source\":\"%s\"",
			     f, tm->writes, tm->priv_count[i], op && op->has_body ? "openapi" : "learned");
		}
	}
	tm->writes++;
	for (unsigned i = 0; i < MT_BEHAV_LIST_MAX; i++)
		if (r->priv_fields & (1u << i))
			tm->priv_count[i]++;
}

/*
 * sensitive_unauthenticated, one record at a time: an endpoint that hands
 * a caller without credentials the contact data (e-mail, phone) of
 * min_count distinct objects serves personal records to anyone, even if
 * each response holds one person only. Distinct objects, so that a public
 * page repeating one support address stays silent.
 */
static void
det_unauth_records(struct emit_ctx *c, struct tm_e *tm)
{
	const struct mt_behav_rec *r = c->r;
	const struct mt_behav_det_cfg *cu = &c->b->p.det[MT_DET_SENSITIVE_UNAUTH];
	uint32_t n, i;

	if (tm == NULL || r->id_kind != MT_ID_CLIENT || (r->flags & MT_REC_LOGIN) ||
	    !c->res->has_obj || r->status < 200 || r->status >= 300 ||
	    r->pii[MT_PII_EMAIL] + r->pii[MT_PII_PHONE] == 0 || cu->min_count == 0)
		return;
	n = tm->n_unauth_objs < TM_UNAUTH_OBJS ? tm->n_unauth_objs : TM_UNAUTH_OBJS;
	for (i = 0; i < n && tm->unauth_objs[i] != c->res->obj_hash; i++)
		;
	if (i < n)
		return;
	tm->unauth_objs[tm->n_unauth_objs++ % TM_UNAUTH_OBJS] = c->res->obj_hash;
	if (tm->n_unauth_objs >= cu->min_count)
		emit(c, MT_DET_SENSITIVE_UNAUTH, NULL, c->res->id, false,
		     "\"pii\":[%u,%u,%u,%u,%u],\"objects_with_contact_data\":%u", r->pii[0],
		     r->pii[1], r->pii[2], r->pii[3], r->pii[4], tm->n_unauth_objs);
}

unsigned
mt_behav_process(struct mt_behav *b, const struct mt_behav_rec *r, struct mt_behav_detection *out,
		 unsigned max)
{
	struct tm_res res;
	struct emit_ctx c = { b, r, &res, out, max, 0 };
	struct tm_e *tm;

	b->st.records++;
	mt_an_resolve(b, r, &res);
	tm = mt_an_inventory(b, r, &res);
	det_request_facts(&c);
	det_identity(&c, &res);
	det_exfil(&c);
	det_objects(&c, tm);
	det_pages(&c, &res);
	det_login(&c);
	det_creds(&c);
	det_limit(&c, tm);
	det_mass_assignment(&c, tm);
	if (det_data(&c) && r->id_kind == MT_ID_CLIENT && !(r->flags & MT_REC_LOGIN))
		emit(&c, MT_DET_SENSITIVE_UNAUTH, NULL, res.id, false,
		     "\"pii\":[%u,%u,%u,%u,%u],\"secret_kinds\":%u", r->pii[0], r->pii[1], r->pii[2],
		     r->pii[3], r->pii[4], r->secrets);
	else
		det_unauth_records(&c, tm);
	return c.n;
}

struct tick_ctx {
	struct mt_lru *t;
	uint64_t now;
	unsigned active;
};

static void
tick_one(void *arg, uint64_t key, void *ev)
{
	struct tick_ctx *c = arg;
	struct blk_e *e = ev;

	if (e->until <= c->now)
		mt_lru_del(c->t, key); /* safe: foreach saved the next node */
	else
		c->active++;
}

unsigned
mt_behav_tick(struct mt_behav *b, uint64_t now_ns)
{
	struct tick_ctx c = { b->blocks, now_ns, 0 };

	mt_lru_foreach(b->blocks, tick_one, &c);
	return c.active;
}

int
mt_behav_blocked(const struct mt_behav *b, uint64_t id_hash, uint8_t family,
		 const uint8_t *client_ip, uint64_t now_ns)
{
	const struct blk_e *e = id_hash ? mt_lru_peek(b->blocks, id_hash) : NULL;

	if (e && e->until > now_ns)
		return 1;
	if (client_ip) {
		struct mt_behav_rec r;

		r.family = family;
		memcpy(r.client_ip, client_ip, 16);
		e = mt_lru_peek(b->blocks, client_key(&r));
		if (e && e->until > now_ns)
			return 1;
	}
	return 0;
}
