/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming secret scanner of response bodies: private keys (PEM
 * armour), cloud keys (AWS AKIA/ASIA key ids, Google AIza keys, Azure
 * storage AccountKey=), provider tokens (GitHub ghp_/gho_/ghu_/ghs_/ghr_
 * and github_pat_, Slack xox?-, Stripe sk_live_/rk_live_, GitLab glpat-),
 * JWTs, and high-entropy values under secret-looking keys (the latter is
 * decided by the key/value tokenizer in mt_login.c).
 *
 * Words ([A-Za-z0-9_-+/=.]) are collected into a 96-byte carry-over
 * buffer, so a token split across chunks is seen whole.
 */
#include "mt_behav_int.h"

#include <math.h>
#include <string.h>

double
mt_entropy(const char *s, size_t n)
{
	unsigned cnt[256] = { 0 };
	double e = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		cnt[(uint8_t)s[i]]++;
	for (int i = 0; i < 256; i++)
		if (cnt[i]) {
			double p = (double)cnt[i] / (double)n;

			e -= p * log2(p);
		}
	return e;
}

/* Whether @p lit (a string literal) starts @p k[0..n). */
#define KEY_AT(k, n, lit) ((n) >= sizeof(lit) - 1 && memcmp((k), (lit), sizeof(lit) - 1) == 0)

bool
mt_secret_key_name(const char *k, size_t n)
{
	/* "secret", "passw", "pwd", "private_key", "privatekey", "api_key",
	 * "apikey", "access_key", "accesskey", "auth_token", "credential",
	 * "signing_key" anywhere in the key: one pass over the key, switching
	 * on the first letter (this runs for every key of every JSON body). */
	for (size_t i = 0; i + 3 <= n; i++) {
		const char *p = k + i;
		size_t m = n - i;

		switch (p[0]) {
		case 's':
			if (KEY_AT(p, m, "secret") || KEY_AT(p, m, "signing_key"))
				return true;
			break;
		case 'p':
			if (KEY_AT(p, m, "passw") || KEY_AT(p, m, "pwd") ||
			    KEY_AT(p, m, "private_key") || KEY_AT(p, m, "privatekey"))
				return true;
			break;
		case 'a':
			if (KEY_AT(p, m, "api_key") || KEY_AT(p, m, "apikey") ||
			    KEY_AT(p, m, "access_key") || KEY_AT(p, m, "accesskey") ||
			    KEY_AT(p, m, "auth_token"))
				return true;
			break;
		case 'c':
			if (KEY_AT(p, m, "credential"))
				return true;
			break;
		default:
			break;
		}
	}
	return false;
}

static inline bool
is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
is_word(uint8_t c)
{
	return is_alnum(c) || c == '_' || c == '-' || c == '+' || c == '/' || c == '=' || c == '.';
}

static bool
all_class(const char *s, size_t n, bool (*fn)(uint8_t))
{
	for (size_t i = 0; i < n; i++)
		if (!fn((uint8_t)s[i]))
			return false;
	return true;
}

static bool
upper_alnum(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static bool
alnum_c(uint8_t c) { return is_alnum(c); }
static bool
b64url_c(uint8_t c) { return is_alnum(c) || c == '-' || c == '_'; }

/* Classify a word (or the part after its first '='). @return MT_SECRET_* or 0. */
static uint8_t
classify(const char *w, size_t n, size_t total, bool login)
{
	if (n == 20 && total == 20 && (memcmp(w, "AKIA", 4) == 0 || memcmp(w, "ASIA", 4) == 0) &&
	    all_class(w + 4, 16, upper_alnum))
		return MT_SECRET_CLOUD;
	if (n == 39 && total == 39 && memcmp(w, "AIza", 4) == 0 && all_class(w + 4, 35, b64url_c))
		return MT_SECRET_CLOUD;
	if (n >= 51 && memcmp(w, "AccountKey=", 11) == 0)
		return MT_SECRET_CLOUD;
	if (n == 40 && total == 40 && w[0] == 'g' && w[1] == 'h' && w[3] == '_' &&
	    strchr("pousr", w[2]) && all_class(w + 4, 36, alnum_c))
		return MT_SECRET_TOKEN;
	if (total >= 40 && memcmp(w, "github_pat_", 11) == 0)
		return MT_SECRET_TOKEN;
	if (total >= 15 && memcmp(w, "xox", 3) == 0 && strchr("baprs", w[3]) && w[4] == '-')
		return MT_SECRET_TOKEN;
	if (total >= 24 && (memcmp(w, "sk_live_", 8) == 0 || memcmp(w, "rk_live_", 8) == 0))
		return MT_SECRET_TOKEN;
	if (total >= 26 && memcmp(w, "glpat-", 6) == 0)
		return MT_SECRET_TOKEN;
	(void)login;
	return 0;
}

static void
word_end(struct mt_behav_msg *m, struct mt_behav_rec *r, bool login)
{
	size_t n = m->w_len < MT_BEHAV_WORD ? m->w_len : MT_BEHAV_WORD;
	const char *eq;
	uint8_t s;

	if (m->w_len >= 16) {
		s = classify(m->w, n, m->w_len, login);
		if (s == 0 && (eq = memchr(m->w, '=', n)) != NULL && eq + 1 < m->w + n) {
			size_t off = (size_t)(eq + 1 - m->w);

			s = classify(eq + 1, n - off, m->w_len - off, login);
		}
		/* JWTs are expected in login/token responses, nowhere else */
		if (s == 0 && !login && m->w_dots == 2 && m->w_len >= 30 &&
		    memcmp(m->w, "eyJ", 3) == 0 && m->w_seg2 && (size_t)m->w_seg2 + 3 <= n &&
		    memcmp(m->w + m->w_seg2, "eyJ", 3) == 0)
			s = MT_SECRET_JWT;
		r->secrets |= s;
	}
	m->w_len = 0;
	m->w_dots = 0;
	m->w_seg2 = 0;
}

/* One step of a KMP matcher over a fixed pattern with failure table f. */
uint8_t
mt_kmp_step(const char *pat, const uint8_t *f, uint8_t len, uint8_t st, uint8_t c)
{
	if (st == len)
		st = f[len - 1];
	while (st > 0 && (uint8_t)pat[st] != c)
		st = f[st - 1];
	if ((uint8_t)pat[st] == c)
		st++;
	return st;
}

void
mt_kmp_table(const char *pat, uint8_t len, uint8_t *f)
{
	uint8_t k = 0;

	if (len == 0)
		return;
	f[0] = 0;
	for (uint8_t i = 1; i < len; i++) {
		while (k > 0 && pat[i] != pat[k])
			k = f[k - 1];
		if (pat[i] == pat[k])
			k++;
		f[i] = k;
	}
}

/* No proper prefix of "PRIVATE KEY-----" is also its suffix: the KMP
 * failure table is all zeros (test_pii checks it with mt_kmp_table). */
static const char pk_pat[] = "PRIVATE KEY-----";
const uint8_t mt_pk_fail[sizeof(pk_pat) - 1];

void
mt_secret_byte(struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t c, bool login)
{
	m->pk_state = mt_kmp_step(pk_pat, mt_pk_fail, sizeof(pk_pat) - 1, m->pk_state, c);
	if (m->pk_state == sizeof(pk_pat) - 1)
		r->secrets |= MT_SECRET_PRIVKEY;

	if (is_word(c)) {
		if (m->w_len < MT_BEHAV_WORD)
			m->w[m->w_len] = (char)c;
		if (c == '.') {
			m->w_dots++;
			if (m->w_dots == 1 && m->w_len + 1 < MT_BEHAV_WORD)
				m->w_seg2 = (uint8_t)(m->w_len + 1);
		}
		if (m->w_len < 0xffff)
			m->w_len++;
		return;
	}
	if (m->w_len)
		word_end(m, r, login);
}

void
mt_secret_flush(struct mt_behav_msg *m, struct mt_behav_rec *r, bool login)
{
	if (m->w_len)
		word_end(m, r, login);
}

static const uint8_t word_cls[256] = {
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
	['_'] = 1, ['-'] = 1, ['+'] = 1, ['/'] = 1, ['='] = 1, ['.'] = 1,
};

/*
 * Bulk secret scan. "PRIVATE KEY-----" has no self-overlap and its only
 * 'P' is the first byte, so from state 0 the KMP matcher is equivalent to
 * memchr('P') + compare, and its state at the end of the chunk is the
 * longest chunk suffix that is a pattern prefix. A complete word shorter
 * than 16 bytes cannot classify, so it is skipped without being copied.
 */
void
mt_secret_scan(struct mt_behav_msg *m, struct mt_behav_rec *r, const uint8_t *p, size_t n,
	       bool login)
{
	const size_t pl = sizeof(pk_pat) - 1;
	size_t i = 0;

	while (i < n && m->pk_state != 0) {
		m->pk_state = mt_kmp_step(pk_pat, mt_pk_fail, (uint8_t)pl, m->pk_state, p[i++]);
		if (m->pk_state == pl)
			r->secrets |= MT_SECRET_PRIVKEY;
	}
	while (i < n) {
		const uint8_t *q = memchr(p + i, 'P', n - i);
		size_t at;

		if (q == NULL)
			break;
		at = (size_t)(q - p);
		if (n - at >= pl) {
			if (memcmp(q, pk_pat, pl) == 0)
				r->secrets |= MT_SECRET_PRIVKEY;
		} else if (memcmp(q, pk_pat, n - at) == 0) {
			m->pk_state = (uint8_t)(n - at);
			break;
		}
		i = at + 1;
	}

	i = 0;
	while (i < n) {
		uint8_t c;

		if (m->w_len == 0) {
			size_t j;

			while (i < n && !word_cls[p[i]])
				i++;
			for (j = i; j < n && word_cls[p[j]]; j++)
				;
			if (j < n && j - i < 16) {
				i = j;
				continue;
			}
			if (i == n)
				break;
		}
		c = p[i++];
		if (word_cls[c]) {
			if (m->w_len < MT_BEHAV_WORD)
				m->w[m->w_len] = (char)c;
			if (c == '.') {
				m->w_dots++;
				if (m->w_dots == 1 && m->w_len + 1 < MT_BEHAV_WORD)
					m->w_seg2 = (uint8_t)(m->w_len + 1);
			}
			if (m->w_len < 0xffff)
				m->w_len++;
		} else if (m->w_len) {
			word_end(m, r, login);
		}
	}
}
