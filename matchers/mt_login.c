/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming key/value tokenizer for JSON and form-urlencoded bodies, and
 * what the behaviour module takes from the pairs:
 *  - request bodies of login endpoints: the username (keyed hash only);
 *  - write requests: privilege fields (role, isAdmin, ...) for
 *    mass_assignment, at any depth;
 *  - response bodies: "id"/"uuid"/"_id" values near the top (object
 *    ownership), objects inside arrays (record count), high-entropy values
 *    under secret-looking keys.
 *
 * The tokenizer tolerates invalid JSON (it never rejects, it only stops
 * learning): bodies are attacker-controlled.
 */
#include "mt_behav_int.h"

#include <string.h>

static inline uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool
top_is_object(const struct mt_behav_msg *m)
{
	return m->depth > 0 && m->depth <= 64 && !((m->stack >> (m->depth - 1)) & 1);
}

static void
key_end(struct mt_behav_worker *w, struct mt_behav_msg *m, struct mt_behav_rec *r)
{
	if (m->want & MT_BM_WANT_PRIV) {
		int i = mt_strlist_find(&w->p.privilege_fields, m->key, m->key_len);

		if (i >= 0)
			r->priv_fields |= 1u << i;
	}
}

static bool
is_id_key(const char *k, size_t n)
{
	return (n == 2 && memcmp(k, "id", 2) == 0) || (n == 3 && memcmp(k, "_id", 3) == 0) ||
	       (n == 4 && memcmp(k, "uuid", 4) == 0);
}

static void
value_end(struct mt_behav_worker *w, struct mt_behav_msg *m, struct mt_behav_rec *r, bool str)
{
	if ((m->want & MT_BM_WANT_USER) && !(r->flags & MT_REC_HAS_USER) && m->val_len &&
	    mt_strlist_find(&w->p.username_fields, m->key, m->key_len) >= 0) {
		char lv[MT_BEHAV_KV_VAL];

		for (unsigned i = 0; i < m->val_len; i++)
			lv[i] = (char)lower((uint8_t)m->val[i]);
		r->user_hash = mt_behav_keyed_hash2('u', lv, m->val_len);
		r->flags |= MT_REC_HAS_USER;
	}
	if ((m->want & MT_BM_WANT_IDS) && m->mode == 1 && m->depth <= 3 && m->val_len &&
	    !m->val_trunc && is_id_key(m->key, m->key_len) && r->n_resp_ids < MT_BEHAV_RESP_IDS) {
		uint64_t h = mt_behav_fast_hash(m->val, m->val_len);
		unsigned i;

		for (i = 0; i < r->n_resp_ids && r->resp_ids[i] != h; i++)
			;
		if (i == r->n_resp_ids)
			r->resp_ids[r->n_resp_ids++] = h;
	}
	if ((m->want & MT_BM_WANT_PII) && str && m->val_total >= 16 &&
	    memchr(m->val, ' ', m->val_len) == NULL && mt_secret_key_name(m->key, m->key_len) &&
	    mt_entropy(m->val, m->val_len) >= 3.5)
		r->secrets |= MT_SECRET_ENTROPY;
	m->val_len = 0;
	m->val_total = 0;
	m->val_trunc = 0;
}

static void
val_put(struct mt_behav_msg *m, uint8_t c)
{
	if (m->val_len < MT_BEHAV_KV_VAL)
		m->val[m->val_len++] = (char)c;
	else
		m->val_trunc = 1;
	m->val_total++;
}

static void
key_put(struct mt_behav_msg *m, uint8_t c)
{
	if (m->key_len < MT_BEHAV_KV_KEY)
		m->key[m->key_len++] = (char)lower(c);
}

static void
json_byte(struct mt_behav_worker *w, struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t c)
{
	switch (m->kv_state) {
	case 1: /* in a string */
		if (c == '\\') {
			m->kv_state = 2;
		} else if (c == '"') {
			m->kv_state = 0;
			if (m->val_str == 2) {
				key_end(w, m, r);
			} else {
				value_end(w, m, r, true);
			}
		} else if (m->val_str == 2) {
			key_put(m, c);
		} else {
			val_put(m, c);
		}
		return;
	case 2: /* escaped character: kept raw */
		m->kv_state = 1;
		if (m->val_str == 2)
			key_put(m, c);
		else
			val_put(m, c);
		return;
	case 3: /* number or literal */
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '-' ||
		    c == '+' || c == 'E') {
			val_put(m, c);
			return;
		}
		m->kv_state = 0;
		value_end(w, m, r, false);
		break;
	default:
		break;
	}
	switch (c) {
	case '{':
	case '[':
		if (c == '{' && m->depth > 0 && m->depth <= 64 && ((m->stack >> (m->depth - 1)) & 1))
			r->resp_records += (m->want & MT_BM_WANT_PII) ? 1 : 0;
		if (m->depth < 64) {
			if (c == '[')
				m->stack |= 1ULL << m->depth;
			else
				m->stack &= ~(1ULL << m->depth);
		}
		if (m->depth < 255)
			m->depth++;
		m->expect_key = c == '{';
		if (c == '{')
			m->key_len = 0;
		break;
	case '}':
	case ']':
		if (m->depth)
			m->depth--;
		m->expect_key = 0;
		break;
	case ':':
		m->expect_key = 0;
		break;
	case ',':
		m->expect_key = top_is_object(m);
		break;
	case '"':
		m->kv_state = 1;
		if (m->expect_key && top_is_object(m)) {
			m->val_str = 2;
			m->key_len = 0;
		} else {
			m->val_str = 1;
			m->val_len = 0;
			m->val_total = 0;
		}
		break;
	default:
		if ((c >= '0' && c <= '9') || c == '-' || c == 't' || c == 'f' || c == 'n') {
			m->kv_state = 3;
			m->val_str = 0;
			m->val_len = 0;
			m->val_total = 0;
			val_put(m, c);
		}
		break;
	}
}

static int
hexv(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* form: kv_state 0 = key, 1 = value; hexdig = %XX progress, val_str = 1st nibble */
static void
form_byte(struct mt_behav_worker *w, struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t c)
{
	if (c == '&') {
		if (m->kv_state == 1)
			value_end(w, m, r, true);
		else if (m->key_len)
			key_end(w, m, r);
		m->kv_state = 0;
		m->key_len = 0;
		m->hexdig = 0;
		return;
	}
	if (c == '=' && m->kv_state == 0) {
		key_end(w, m, r);
		m->kv_state = 1;
		m->val_len = 0;
		m->val_total = 0;
		m->hexdig = 0;
		return;
	}
	if (m->hexdig) {
		int v = hexv(c);

		if (v < 0) {
			m->hexdig = 0;
		} else if (m->hexdig == 1) {
			m->val_str = (uint8_t)v;
			m->hexdig = 2;
			return;
		} else {
			c = (uint8_t)(m->val_str << 4 | v);
			m->hexdig = 0;
			goto put;
		}
	}
	if (c == '%') {
		m->hexdig = 1;
		return;
	}
	if (c == '+')
		c = ' ';
put:
	if (m->kv_state == 0)
		key_put(m, c);
	else
		val_put(m, c);
}

void
mt_kv_byte(struct mt_behav_worker *w, struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t c)
{
	if (m->mode == 1)
		json_byte(w, m, r, c);
	else if (m->mode == 2)
		form_byte(w, m, r, c);
}

void
mt_kv_flush(struct mt_behav_worker *w, struct mt_behav_msg *m, struct mt_behav_rec *r)
{
	if (m->mode == 1 && m->kv_state == 3) {
		m->kv_state = 0;
		value_end(w, m, r, false);
	} else if (m->mode == 2) {
		if (m->kv_state == 1)
			value_end(w, m, r, true);
		else if (m->key_len)
			key_end(w, m, r);
		m->kv_state = 0;
	}
}

/*
 * Bulk tokenizer: inside a JSON string only '"' and '\\' change state, so
 * the bytes between them are appended (key: lower-cased, both: capped)
 * in one go; everything else goes through json_byte()/form_byte().
 */
void
mt_kv_scan(struct mt_behav_worker *w, struct mt_behav_msg *m, struct mt_behav_rec *r,
	   const uint8_t *p, size_t n)
{
	size_t i = 0;

	if (m->mode == 2) {
		for (; i < n; i++)
			form_byte(w, m, r, p[i]);
		return;
	}
	if (m->mode != 1)
		return;
	while (i < n) {
		if (m->kv_state == 1) {
			size_t j = i, k;

			while (j < n && p[j] != '"' && p[j] != '\\')
				j++;
			k = j - i;
			if (m->val_str == 2) {
				size_t room = MT_BEHAV_KV_KEY - m->key_len;

				for (size_t x = 0; x < k && x < room; x++)
					m->key[m->key_len++] = (char)lower(p[i + x]);
			} else if (k) {
				size_t room = MT_BEHAV_KV_VAL - m->val_len, take = k < room ? k : room;

				memcpy(m->val + m->val_len, p + i, take);
				m->val_len = (uint8_t)(m->val_len + take);
				if (k > take)
					m->val_trunc = 1;
				m->val_total += (uint32_t)k;
			}
			i = j;
			if (i == n)
				break;
		}
		json_byte(w, m, r, p[i++]);
	}
}
