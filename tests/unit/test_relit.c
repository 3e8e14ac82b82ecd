/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_relit: required literals of a regex (matchers/mt_relit.c).
 *
 * Two kinds of checks:
 *  - the factors of hand-picked expressions, as sets (what the analysis
 *    should find, and where it must give up);
 *  - necessity, the property the engine relies on: for every expression
 *    and every example string that Hyperscan says it matches, each factor
 *    has a member in the string. The same holds over every pcre of the
 *    starter rule pack against strings built from its own factors.
 * No EAL; runs under ASan/UBSan.
 */
#include "tu_eal.h"
#include "mt_relit.h"
#include "mt_engine_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <hs.h>

/* "a|b|c" of the factor's strings, sorted, for comparison */
static void
factor_str(const struct mt_relit *f, char *out, size_t cap)
{
	char *v[MT_RELIT_MAXSET];
	size_t o = 0;

	for (uint16_t k = 0; k < f->n; k++) {
		v[k] = calloc(1, (size_t)f->len[k] + 1);
		memcpy(v[k], f->s[k], f->len[k]);
	}
	for (uint16_t a = 1; a < f->n; a++)
		for (uint16_t b = a; b > 0 && strcmp(v[b], v[b - 1]) < 0; b--) {
			char *t = v[b];
			v[b] = v[b - 1];
			v[b - 1] = t;
		}
	out[0] = '\0';
	for (uint16_t k = 0; k < f->n; k++) {
		o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", k ? "|" : "", v[k]);
		free(v[k]);
	}
}

/* A compiled expression, to probe many strings */
struct probe {
	hs_database_t *db;
	hs_scratch_t *scr;
};

static int
probe_open(struct probe *pr, const char *re, unsigned flags)
{
	hs_compile_error_t *ce = NULL;

	pr->db = NULL;
	pr->scr = NULL;
	if (hs_compile(re, flags | HS_FLAG_ALLOWEMPTY, HS_MODE_BLOCK, NULL, &pr->db, &ce) !=
	    HS_SUCCESS) {
		hs_free_compile_error(ce);
		return -1;
	}
	if (hs_alloc_scratch(pr->db, &pr->scr) != HS_SUCCESS) {
		hs_free_database(pr->db);
		return -1;
	}
	return 0;
}

static void
probe_close(struct probe *pr)
{
	hs_free_scratch(pr->scr);
	hs_free_database(pr->db);
}

static int
probe_matches(const struct probe *pr, const char *s, size_t len)
{
	int found = 0;

	hs_scan(pr->db, s, (unsigned)len, 0, pr->scr, mt_hs_found_cb, &found);
	return found;
}

/* Every factor @p f (n of them) has a member in @p s, when the expression
 * matches @p s: 1 yes, 0 no match, 2 a factor is missing. */
static int
probe_check(const struct probe *pr, const char *re, const struct mt_relit *f, int n,
	    const char *s, size_t len)
{
	if (!probe_matches(pr, s, len))
		return 0;
	for (int k = 0; k < n; k++) {
		if (!mt_relit_in(&f[k], s, len)) {
			char buf[4096];

			factor_str(&f[k], buf, sizeof(buf));
			printf("\n  NOT NECESSARY: /%s/ on \"%.*s\": factor {%s}\n", re, (int)len, s,
			       buf);
			return 2;
		}
	}
	return 1;
}

/* As probe_check, compiling @p re for the one string; -1 on error. */
static int
check_necessity_f(const char *re, unsigned hs_flags, unsigned cmax, const char *s, size_t len)
{
	struct mt_relit f[2];
	struct probe pr;
	int n = mt_relit_factors(re, (hs_flags & HS_FLAG_CASELESS) != 0, cmax, f, 2), rc;

	if (n < 0 || probe_open(&pr, re, hs_flags) < 0)
		return -1;
	rc = probe_check(&pr, re, f, n, s, len);
	probe_close(&pr);
	return rc;
}

static int
check_necessity(const char *re, bool caseless, unsigned cmax, const char *s, size_t len)
{
	return check_necessity_f(re, caseless ? HS_FLAG_CASELESS : 0, cmax, s, len);
}

struct relit_case {
	const char *re;
	bool caseless;
	const char *want[2]; /* sorted members of each factor, best first; NULL: none */
	const char *examples[4];
};

/* with the body stream's class limit (MT_RELIT_CLASS_BODY) */
static const struct relit_case cases[] = {
	{"abc", false, {"abc"}, {"xxabcxx"}},
	{"colou?r", false, {"color|colour"}, {"my colour", "color"}},
	{"api[_-]?key", true, {"api-key|api_key|apikey"}, {"?API_KEY=1", "apikey"}},
	{"(?:\\.|%2e){2}(?:\\/|\\\\|%2f|%5c)", true,
	 {"%2e%2e%2f|%2e%2e%5c|%2e%2e/|%2e%2e\\|%2e.%2f|%2e.%5c|%2e./|%2e.\\|.%2e%2f|.%2e%5c|"
	  ".%2e/|.%2e\\|..%2f|..%5c|../|..\\"}, {"/a/../b", "/%2E%2e%5Cwin", "..\\x"}},
	{"\\d+", false, {NULL}, {"123"}},
	{"[a-z]+@[a-z]+\\.com", false, {".com"}, {"bob@example.com"}},
	{"(?i)SELECT\\s+\\*", false, {"select"}, {"SeLeCt *"}},
	{"foo|\\d+", false, {NULL}, {"foo", "42"}},
	{"foo|barbaz", false, {"barbaz|foo"}, {"xfoo", "barbaz"}},
	/* Hyperscan has no lookarounds or backreferences: no examples */
	{"a(?=bc)bcd", false, {"bcd"}, {NULL}},
	{"(abc)\\1", false, {NULL}, {NULL}},
	{"(abc", false, {NULL}, {NULL}},
	{"gh[posu]_[A-Za-z0-9]{36}", false, {"gho_|ghp_|ghs_|ghu_"},
	 {"ghp_abcdefghijabcdefghijabcdefghij123456"}},
	/* a class of more than four characters is not crossed out */
	{"gh[pousr]_[A-Za-z0-9]{36}", false, {NULL}, {"ghp_abcdefghijabcdefghijabcdefghij123456"}},
	{"ey[A-Za-z0-9_-]*(?:Imp3ayI6|Jqd2siOn)[A-Za-z0-9_-]*\\.", false,
	 {"Imp3ayI6|Jqd2siOn"}, {"eyJhbImp3ayI6xx.", "eyJqd2siOnx."}},
	/* one branch requires no three-byte literal: the alternation none */
	{"\\x27\\s*(?:or|and)\\s+\\x27?\\d|union\\s+select", true, {NULL},
	 {"x' or 1", "UNION  SELECT"}},
	{"[?&](?:limit|size)=\\d{5,}", false, {"&limit=|&size=|?limit=|?size="},
	 {"/x?limit=99999", "/x?a=1&size=123456"}},
	{"Connection: [^\\r\\n]*\\b(?:Cookie|X-Api-Key)\\b", true,
	 {"connection: ", "cookie|x-api-key"}, {"connection: keep-alive, cookie"}},
	{"(?:ba|z|da)?sh\\s+-i", false, {NULL}, {"bash -i", "sh  -i"}},
	{"(?:[;|`]|\\$\\()\\s*id", false, {NULL}, {";id", "$( id"}},
	{"\\/(?:\\.env(?:\\.[a-z]+)?|\\.git\\/(?:config|HEAD))(?:$|\\?)", true,
	 {"/.env|/.git/config|/.git/head"}, {"/.env", "/x/.git/HEAD?x", "/.env.local"}},
	{"x{3}y", false, {"xxxy"}, {"xxxxy"}},
	{"(?:ab){2,}c", false, {"abab"}, {"abababc"}},
	{"\\Qa.b\\E", false, {NULL}, {"a.b"}},
	{"[^a]bcd", false, {"bcd"}, {"xbcd"}},
	{"\\x{41}BCD", false, {"ABCD"}, {"ABCD"}},
	{"<script|javascript:", true, {"<script|javascript:"}, {"<SCRIPT>", "javascript:a"}},
	/* x+ (x exact) begins and ends with x: its neighbours are crossed */
	{"ab[cd]+ef", false, {"abc|abd", "cef|def"}, {"abcdcef", "abdef"}},
	{"\\bn(?:c|cat)(?: |\\+)+-e", false, {" -e|+-e", "nc |nc+|ncat |ncat+"},
	 {"nc -e", "ncat + -e"}},
	/* x{2,} begins with x{2} */
	{"ab(?:c|d){2,}e", false, {"abcc|abcd|abdc|abdd"}, {"abcdde"}},
	/* every branch begins with a known string: so does the alternation */
	{"\\bor(?: |\\+|/\\*.*?\\*/)+1", true, {"or |or+|or/*"}, {"x or 1", "OR/*a*/1"}},
};

/* with the header-side class limit (MT_RELIT_CLASS_HEAD): \s and classes
 * of up to eight characters are crossed out */
static const struct relit_case head_cases[] = {
	{"gh[pousr]_[A-Za-z0-9]{36}", false, {"gho_|ghp_|ghr_|ghs_|ghu_"},
	 {"ghp_abcdefghijabcdefghijabcdefghij123456"}},
	{"(?i)SELECT\\s+\\*", false, {"select\t|select\n|select\v|select\f|select\r|select "}, {"SeLeCt *"}},
	{"union[\\s+]+select", true, {"\tselect|\nselect|\vselect|\fselect|\rselect| select|+select",
				       "union\t|union\n|union\v|union\f|union\r|union |union+"},
	 {"UNION SELECT", "union+\t+select"}},
	/* \d (ten characters) stays too large */
	{"ab\\d", false, {NULL}, {"ab1"}},
};

static void
run_cases(const struct relit_case *cases, size_t n_cases, unsigned cmax)
{
	for (size_t c = 0; c < n_cases; c++) {
		struct mt_relit f[2];
		int n = mt_relit_factors(cases[c].re, cases[c].caseless, cmax, f, 2);
		int want = 0;

		while (want < 2 && cases[c].want[want] != NULL)
			want++;
		CU_ASSERT(n >= want && (want > 0 || n == 0));
		if (n < want || (want == 0 && n != 0)) {
			printf("\n  /%s/: %d factors, want %d\n", cases[c].re, n, want);
			continue;
		}
		for (int k = 0; k < want; k++) {
			char buf[4096];

			factor_str(&f[k], buf, sizeof(buf));
			CU_ASSERT_STRING_EQUAL(buf, cases[c].want[k]);
			if (strcmp(buf, cases[c].want[k]) != 0)
				printf("\n  /%s/ factor %d: {%s}, want {%s}\n", cases[c].re, k, buf,
				       cases[c].want[k]);
		}
		for (int e = 0; e < 4 && cases[c].examples[e] != NULL; e++) {
			int r = check_necessity(cases[c].re, cases[c].caseless, cmax,
						cases[c].examples[e], strlen(cases[c].examples[e]));
			CU_ASSERT_EQUAL(r, 1); /* the example matches, every factor is in it */
			if (r != 1)
				printf("\n  /%s/ on \"%s\": %d\n", cases[c].re, cases[c].examples[e], r);
		}
	}
}

static void
test_cases(void)
{
	run_cases(cases, sizeof(cases) / sizeof(cases[0]), MT_RELIT_CLASS_BODY);
	run_cases(head_cases, sizeof(head_cases) / sizeof(head_cases[0]), MT_RELIT_CLASS_HEAD);
}

/* mt_relit_in, which the necessity checks rely on, against hand-picked
 * strings: a member anywhere, at either end, folded only when caseless. */
static void
test_membership(void)
{
	struct mt_relit f = {.caseless = true, .n = 2, .len = {3, 2}};

	memcpy(f.s[0], "abc", 3);
	memcpy(f.s[1], "xy", 2);
	CU_ASSERT(mt_relit_in(&f, "--XY--", 6));
	CU_ASSERT(mt_relit_in(&f, "ABC", 3));
	CU_ASSERT(mt_relit_in(&f, "..aBc", 5));
	CU_ASSERT(!mt_relit_in(&f, "ab c x y", 8));
	CU_ASSERT(!mt_relit_in(&f, "ab", 2));
	CU_ASSERT(!mt_relit_in(&f, "", 0));
	f.caseless = false;
	CU_ASSERT(!mt_relit_in(&f, "ABC XY", 6));
	CU_ASSERT(mt_relit_in(&f, "ABCxy", 5));
	/* the needle's case folds too when caseless */
	CU_ASSERT(mt_relit_bytes_in((const uint8_t *)"Host", 4, true, "x-host: 1", 9));
	CU_ASSERT(!mt_relit_bytes_in((const uint8_t *)"Host", 4, false, "x-host: 1", 9));
}

/* Malformed and hostile input: never a crash, never a factor. */
static void
test_garbage(void)
{
	static const char *const bad[] = {
		"", "(", ")", "[", "[a", "*a", "a**", "(?", "(?x)a b c", "(?P=n)",
		"\\", "a\\", "[z-a]", "(?<=ab", "((((((((((((((((((((((((((((((((((((((((((((((((("
		"((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))))))))))"
		")))))))))))))))))))))))))))))))))))",
	};
	struct mt_relit f[2];

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int n = mt_relit_factors(bad[k], false, MT_RELIT_CLASS_HEAD, f, 2);

		CU_ASSERT_EQUAL(n, 0);
		if (n != 0)
			printf("\n  /%s/: %d factors\n", bad[k], n);
	}
	/* PCRE reads a '{' that starts no quantifier as the character */
	CU_ASSERT_EQUAL(mt_relit_factors("ab{", false, MT_RELIT_CLASS_BODY, f, 2), 1);
	/* every prefix of a long real expression */
	{
		const char *re = "/(?:\\.env(?:\\.[a-z]+)?|\\.git\\/(?:config|HEAD|index)|[?&](?:a|"
				 "b)=\\d{2,5}|\\x27\\s*or\\s+1=1|\\Qq\\E|(?i:ABC)|[\\x00-\\x1f]{2})";
		char buf[256];

		for (size_t l = 0; l <= strlen(re); l++) {
			memcpy(buf, re, l);
			buf[l] = '\0';
			CU_ASSERT(mt_relit_factors(buf, false, MT_RELIT_CLASS_HEAD, f, 2) >= 0);
		}
	}
}

/* Every pcre of the starter rule pack (as the rule parser hands it to
 * Hyperscan): whatever factors it has are necessary on strings made to
 * match it. The probes hold one member of one factor each, between other
 * members of the expression's factors; those that Hyperscan says match are
 * checked. */
static void
test_rule_pack(void)
{
	const char *files[64];
	char *paths[64];
	size_t nf = 0;
	char dirp[512];
	DIR *dir;
	struct dirent *de;
	struct mt_errors er = {0};
	struct mt_engine *e;
	int checked = 0, exprs = 0, with = 0;

	snprintf(dirp, sizeof(dirp), "%s/configs/rules", TEST_SRCDIR);
	dir = opendir(dirp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	while ((de = readdir(dir)) != NULL && nf < 64) {
		size_t l = strlen(de->d_name);

		if (l < 7 || strcmp(de->d_name + l - 6, ".rules") != 0)
			continue;
		paths[nf] = malloc(strlen(dirp) + l + 2);
		sprintf(paths[nf], "%s/%s", dirp, de->d_name);
		files[nf] = paths[nf];
		nf++;
	}
	closedir(dir);
	e = mt_engine_build_files(NULL, files, nf, &er);
	mt_errors_clear(&er);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	for (size_t r = 0; r < e->n_rules; r++)
		for (uint16_t g = 0; g < e->rules[r]->n_groups; g++)
			for (uint16_t i = 0; i < e->rules[r]->groups[g].n; i++) {
				const struct mt_item *it = &e->rules[r]->groups[g].items[i];
				bool ci = (it->hs_flags & HS_FLAG_CASELESS) != 0;
				struct mt_relit f[2];
				int n;

				if (it->type != MT_IT_PCRE)
					continue;
				struct probe pr;

				n = mt_relit_factors(it->re, ci, MT_RELIT_CLASS_HEAD, f, 2);
				CU_ASSERT(n >= 0);
				exprs++;
				with += n > 0;
				if (n <= 0)
					continue;
				CU_ASSERT_FATAL(probe_open(&pr, it->re, it->hs_flags) == 0);
				for (int k = 0; k < n; k++)
					for (uint16_t j = 0; j < f[k].n; j++) {
						char s[512];
						int len, rc;

						/* the member alone, and inside the other factor */
						len = snprintf(s, sizeof(s), "/%.*s/", f[k].len[j],
							       (const char *)f[k].s[j]);
						rc = probe_check(&pr, it->re, f, n, s, (size_t)len);
						CU_ASSERT(rc == 0 || rc == 1);
						checked += rc == 1;
						if (n == 2) {
							const struct mt_relit *o = &f[1 - k];
							uint16_t m = (uint16_t)(j % o->n);

							len = snprintf(s, sizeof(s), "%.*s %.*s x=1",
								       o->len[m], (const char *)o->s[m],
								       f[k].len[j], (const char *)f[k].s[j]);
							rc = probe_check(&pr, it->re, f, n, s,
									 (size_t)len);
							CU_ASSERT(rc == 0 || rc == 1);
							checked += rc == 1;
						}
					}
				probe_close(&pr);
			}
	printf(" (%d pcres, %d with factors, %d matching probes) ", exprs, with, checked);
	CU_ASSERT(exprs > 50);
	CU_ASSERT(with > exprs / 2);
	mt_engine_destroy(e);
	for (size_t k = 0; k < nf; k++)
		free(paths[k]);
}

/* Which expressions confine every match to one line (after a leading
 * CRLF): only those may be confirmed on the lines holding their factor. */
static void
test_line_local(void)
{
	static const struct {
		const char *re;
		bool dotall, want;
	} cases[] = {
		{"(?:^|\\r\\n)Connection: [^\\r\\n]*\\bfoo\\b", false, true},
		{"(?:\\r\\n|^)X-A: [^\\n]+", false, true},
		{"\\r\\nX-A: z", false, true},
		{"^abc", false, true},
		{"foo.bar", false, true},
		{"foo.bar", true, false},
		{"(?i)abc[a-z]{2,}", false, true},
		{"(?i:abc)|x\\x41y", false, true},
		{"\\N+abc", false, true},
		{"[]a]bc", false, true},
		{"[^]\\n]abc", false, true},
		{"[^\\x00-\\x1f]abc", false, true},
		{"[\\x20-\\x7e]+abc", false, true},
		{"\\$\\{jndi:", false, true},
		{"foo\\s+bar", false, false},     /* \s holds LF */
		{"foo[\\s]bar", false, false},
		{"foo[^\\r]bar", false, false},   /* a negated class without LF */
		{"foo[^\\d]bar", false, false},
		{"foo\\Dbar", false, false},
		{"foo\\Wbar", false, false},
		{"[\\x00-\\x7f]abc", false, false},
		{"[\\t-\\r]abc", false, false},
		{"abc\\x0a", false, false},
		{"abc\\x0A", false, false},
		{"abc\\n", false, false},
		{"abc\\r\\n", false, false},
		{"abc\\012", false, false},
		{"(?:^|\\r\\n)a\\r\\nb", false, false},
		{"^\\r\\nabc", false, false},
		{"abc$", false, false},
		{"a^bc", false, false},
		{"\\Aabc", false, false},
		{"abc\\Z", false, false},
		{"(?=abc)abc", false, false},
		{"(?<=x)abc", false, false},
		{"(\\w+)=\\1", false, false},
		{"(?s)a.b", false, false},
		{"(?m)^abc", false, false},
		{"(?x)a b c", false, false},
		{"\\Qa.b\\E", false, false},
		{"[[:alpha:]]abc", false, false},
		{"\\Rabc", false, false},
		{"\\vabc", false, false},
		{"\\Habc", false, false},
		{"\\x{0a}abc", false, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = mt_relit_line_local(cases[i].re, cases[i].dotall);

		if (got != cases[i].want)
			printf("\n  /%s/%s: %s\n", cases[i].re, cases[i].dotall ? "s" : "",
			       got ? "line-local" : "not line-local");
		CU_ASSERT_EQUAL(got, cases[i].want);
	}
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("relit", NULL, NULL);
	CU_add_test(s, "factors of hand-picked expressions", test_cases);
	CU_add_test(s, "membership of a factor in a string", test_membership);
	CU_add_test(s, "malformed expressions", test_garbage);
	CU_add_test(s, "line-local expressions", test_line_local);
	CU_add_test(s, "rule pack pcres: necessity", test_rule_pack);
	return tu_run_all();
}
