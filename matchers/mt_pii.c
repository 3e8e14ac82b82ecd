/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PII validators and the streaming PII scanner of response bodies.
 *
 * The scanner is a set of byte-at-a-time state machines whose whole state
 * lives in struct mt_behav_msg, so a card number, SSN, IBAN, e-mail or
 * phone number split across TCP segments or HTTP chunks is found like an
 * unsplit one (the pending token is the carry-over). Candidates are
 * validated, not just matched: cards by length, IIN range and Luhn; SSNs
 * by area/group/serial; IBANs by country length and mod 97.
 */
#include "mt_behav_int.h"

#include <string.h>

/* ---- validators ---- */

static bool
luhn(const char *d, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(d[n - 1 - i] - '0');

		if (i & 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

static unsigned
prefix(const char *d, unsigned k)
{
	unsigned v = 0;

	for (unsigned i = 0; i < k; i++)
		v = v * 10 + (unsigned)(d[i] - '0');
	return v;
}

int
mt_pii_card_valid(const char *d, size_t n)
{
	unsigned p1, p2, p3, p4, p6;
	bool ok = false;

	if (n < 13 || n > 19)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (d[i] < '0' || d[i] > '9')
			return 0;
	p1 = prefix(d, 1);
	p2 = prefix(d, 2);
	p3 = prefix(d, 3);
	p4 = prefix(d, 4);
	p6 = prefix(d, 6);
	if (p1 == 4) /* Visa */
		ok = n == 13 || n == 16 || n == 19;
	else if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) /* Mastercard */
		ok = n == 16;
	else if (p2 == 34 || p2 == 37) /* American Express */
		ok = n == 15;
	else if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) ||
		 (p6 >= 622126 && p6 <= 622925)) /* Discover */
		ok = n >= 16;
	else if (p4 >= 3528 && p4 <= 3589) /* JCB */
		ok = n >= 16;
	else if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) /* Diners */
		ok = n >= 14;
	else if (p2 == 62) /* UnionPay */
		ok = n >= 16;
	return ok && luhn(d, n);
}

int
mt_pii_ssn_valid(const char *d)
{
	unsigned area, group, serial;

	for (int i = 0; i < 9; i++)
		if (d[i] < '0' || d[i] > '9')
			return 0;
	area = prefix(d, 3);
	group = prefix(d + 3, 2);
	serial = prefix(d + 5, 4);
	if (area == 0 || area == 666 || area >= 900)
		return 0;
	return group != 0 && serial != 0;
}

static const struct { char cc[3]; uint8_t len; } iban_len[] = {
	{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
	{"BG", 22}, {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28},
	{"CZ", 24}, {"DE", 22}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24},
	{"FI", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18},
	{"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23},
	{"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
	{"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24}, {"ME", 22},
	{"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24},
	{"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24},
	{"SC", 31}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28},
	{"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

int
mt_pii_iban_valid(const char *s, size_t n)
{
	unsigned rem = 0;
	size_t i;
	bool known = false;

	if (n < 15 || n > 34)
		return 0;
	for (i = 0; i < sizeof(iban_len) / sizeof(iban_len[0]); i++)
		if (s[0] == iban_len[i].cc[0] && s[1] == iban_len[i].cc[1]) {
			known = iban_len[i].len == n;
			break;
		}
	if (!known || s[2] < '0' || s[2] > '9' || s[3] < '0' || s[3] > '9')
		return 0;
	/* move the first four characters to the end, letters -> 10..35 */
	for (i = 0; i < n; i++) {
		char c = s[(i + 4) % n];

		if (c >= '0' && c <= '9')
			rem = (rem * 10 + (unsigned)(c - '0')) % 97;
		else if (c >= 'A' && c <= 'Z')
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
		else
			return 0;
	}
	return rem == 1;
}

/* ---- streaming scanner ---- */

static inline bool
is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static inline bool
is_alpha(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline bool
is_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }
static inline bool
is_dsep(uint8_t c) { return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'; }
static inline bool
is_local(uint8_t c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool
key_hints_card(const struct mt_behav_msg *m)
{
	static const char *const hints[] = { "card", "pan", "ccnum", "cc_num", "credit" };

	if (m->kv_state != 1 || m->expect_key) /* only inside a string value */
		return false;
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (memmem(m->key, m->key_len, hints[i], strlen(hints[i])) != NULL)
			return true;
	return false;
}

/* Brings the key/value tokenizer up to the current byte before the card
 * context is read (bulk scan only; NULL when the caller keeps it current). */
struct pii_sync {
	void (*fn)(void *arg, size_t pos);
	void *arg;
	size_t pos;
};

static void
digits_end(struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t next,
	   const struct pii_sync *s)
{
	unsigned n = m->d_n, g = m->d_groups;
	const uint8_t *gr = m->d_grp;

	m->d_n = 0;
	if (m->d_bad || is_alpha(next) || next == '_')
		return;
	if (n == 9 && g == 3 && gr[0] == 3 && gr[1] == 2 && gr[2] == 4 && m->d_sepch == '-') {
		if (mt_pii_ssn_valid(m->d))
			r->pii[MT_PII_SSN]++;
		return;
	}
	if (n >= 13 && n <= 19) {
		bool grouped = g >= 3 && gr[0] == 4 && (m->d_sepch == ' ' || m->d_sepch == '-');

		r->card_tokens++;
		if ((g == 1 || grouped) && mt_pii_card_valid(m->d, n)) {
			r->pii[MT_PII_CARD]++;
			if (!grouped && s != NULL && s->fn != NULL)
				s->fn(s->arg, s->pos);
			if (grouped || key_hints_card(m))
				r->flags |= MT_REC_CARD_CONTEXT;
			return;
		}
	}
	if (m->d_plus && n >= 8 && n <= 15 && (g >= 2 || n >= 10)) {
		r->pii[MT_PII_PHONE]++;
		return;
	}
	if ((n == 10 && g == 3 && gr[0] == 3 && gr[1] == 3 && gr[2] == 4) ||
	    (n == 11 && g == 4 && gr[0] == 1 && gr[1] == 3 && gr[2] == 3 && gr[3] == 4))
		r->pii[MT_PII_PHONE]++;
}

static void
digit_step(struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t c, const struct pii_sync *s)
{
	if (is_digit(c)) {
		if (m->d_n == 0) {
			m->d_bad = is_alpha(m->prev) || m->prev == '_' || is_digit(m->prev);
			m->d_plus = m->prev == '+';
			m->d_groups = 1;
			m->d_grp[0] = 0;
			m->d_sepch = 0;
		} else if (m->d_run) {
			if (m->d_groups < sizeof(m->d_grp))
				m->d_grp[m->d_groups++] = 0;
			else
				m->d_bad = 1;
		}
		m->d_run = 0;
		if (m->d_n < sizeof(m->d)) {
			m->d[m->d_n++] = (char)c;
			m->d_grp[m->d_groups - 1]++;
		} else {
			m->d_bad = 1;
		}
		return;
	}
	if (m->d_n == 0)
		return;
	if (is_dsep(c) && m->d_run < 2) {
		if (c != '(' && c != ')' && c != ' ')
			m->d_sepch = c;
		else if (c == ' ' && m->d_sepch == 0)
			m->d_sepch = c;
		m->d_run++;
		return;
	}
	digits_end(m, r, c, s);
	m->d_run = 0;
}

static void
email_step(struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t c)
{
	if (m->em_state == 1) {
		if (is_alpha(c) || is_digit(c) || c == '-') {
			if (m->em_label < 255)
				m->em_label++;
			m->em_alpha &= is_alpha(c);
			return;
		}
		if (c == '.' && m->em_label > 0) {
			m->em_dots++;
			m->em_label = 0;
			m->em_alpha = 1;
			return;
		}
		if (m->em_dots >= 1 && m->em_label >= 2 && m->em_alpha)
			r->pii[MT_PII_EMAIL]++;
		m->em_state = 0;
		m->em_local = 0;
	}
	if (c == '@') {
		if (m->em_local > 0) {
			m->em_state = 1;
			m->em_label = 0;
			m->em_dots = 0;
			m->em_alpha = 1;
		}
		m->em_local = 0;
		return;
	}
	if (is_local(c)) {
		if (m->em_local < 64)
			m->em_local++;
	} else {
		m->em_local = 0;
	}
}

static void
iban_end(struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t next)
{
	if (!(m->ib_bad & 1) && !is_alpha(next) && !is_digit(next) &&
	    mt_pii_iban_valid(m->ib, m->ib_n))
		r->pii[MT_PII_IBAN]++;
	m->ib_n = 0;
	m->ib_bad = 0;
}

static void
iban_step(struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t c)
{
	if (m->ib_n == 0) {
		if (is_upper(c) && !is_alpha(m->prev) && !is_digit(m->prev)) {
			m->ib[0] = (char)c;
			m->ib_n = 1;
			m->ib_bad = 0;
		}
		return;
	}
	if (c == ' ' && !(m->ib_bad & 2) && m->ib_n >= 4 && m->ib_n % 4 == 0) {
		m->ib_bad |= 2; /* one space between groups of four */
		return;
	}
	if (is_upper(c) || is_digit(c)) {
		bool want_alpha = m->ib_n < 2, want_digit = m->ib_n >= 2 && m->ib_n < 4;

		m->ib_bad &= (uint8_t)~2;
		if ((want_alpha && !is_upper(c)) || (want_digit && !is_digit(c)) ||
		    m->ib_n >= sizeof(m->ib)) {
			m->ib_bad |= 1;
			return;
		}
		m->ib[m->ib_n++] = (char)c;
		return;
	}
	if (m->ib_bad & 2) /* a space ended it: judge without the space */
		m->ib_bad &= (uint8_t)~2;
	iban_end(m, r, c);
}

void
mt_pii_byte(struct mt_behav_msg *m, struct mt_behav_rec *r, uint8_t c)
{
	digit_step(m, r, c, NULL);
	email_step(m, r, c);
	iban_step(m, r, c);
}

void
mt_pii_flush(struct mt_behav_msg *m, struct mt_behav_rec *r)
{
	if (m->d_n)
		digits_end(m, r, ' ', NULL);
	m->d_run = 0;
	email_step(m, r, ' ');
	if (m->ib_n)
		iban_end(m, r, ' ');
}

/*
 * Byte classes for the bulk scan. With no digit run, no e-mail domain and
 * no IBAN candidate open, a byte that is not a digit, '@' or upper-case
 * letter changes nothing but the e-mail local-part length, which is
 * recomputed from the tail of the skipped run.
 */
#define P_STOP  0x01u   /* digit, '@', A-Z: run the state machines */
#define P_LOCAL 0x02u   /* e-mail local-part character */

static const uint8_t pii_cls[256] = {
	['0' ... '9'] = P_STOP | P_LOCAL,
	['A' ... 'Z'] = P_STOP | P_LOCAL,
	['a' ... 'z'] = P_LOCAL,
	['@'] = P_STOP,
	['.'] = P_LOCAL, ['_'] = P_LOCAL, ['%'] = P_LOCAL, ['+'] = P_LOCAL, ['-'] = P_LOCAL,
};

void
mt_pii_scan(struct mt_behav_msg *m, struct mt_behav_rec *r, const uint8_t *p, size_t n,
	    void (*sync)(void *arg, size_t pos), void *arg)
{
	struct pii_sync s = { sync, arg, 0 };
	size_t i = 0;

	while (i < n) {
		if (m->d_n == 0 && m->em_state == 0 && m->ib_n == 0) {
			size_t j = i, run = 0;

			while (j < n && !(pii_cls[p[j]] & P_STOP))
				j++;
			if (j > i) {
				while (run < 64 && j - run > i && (pii_cls[p[j - 1 - run]] & P_LOCAL))
					run++;
				if (run < 64 && j - run == i) /* all local: extends the carried run */
					run = m->em_local + run < 64 ? m->em_local + run : 64;
				m->em_local = (uint8_t)run;
				m->prev = p[j - 1];
				i = j;
				if (i == n)
					break;
			}
		}
		s.pos = i;
		digit_step(m, r, p[i], &s);
		email_step(m, r, p[i]);
		iban_step(m, r, p[i]);
		m->prev = p[i];
		i++;
	}
}
