/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Conformance of the packaged llhttp (8.1) against llhttp's own markdown
 * test corpus (copied verbatim into ../shared/corpora/llhttp-tests).
 *
 * Every case is read from the corpus at run time, its input decoded the
 * way llhttp's test/md-test.ts does it, and fed to llhttp through the public
 * API with callbacks that print the trace format of llhttp's test fixture
 * (test/fixtures/extra.c + llparse-test-fixture): "off=N message begin",
 * "off=N len=L span[x]=\"...\"", "off=N error code=C reason=\"...\"", ...
 * The trace is compared with the case's ```log block, first for the whole
 * input in one llhttp_execute() call, then for every chunk size (what
 * upstream calls "scan") and every two-piece split point, after merging
 * contiguous spans as upstream's result.ts does.
 *
 * Cases 8.1 cannot pass (behaviour added later) are listed with a reason in
 * llhttp_corpus_unsupported.txt; a listed case that passes fails the test
 * too, so the list stays honest. Runs without EAL, hugepages or network and
 * under ASan/UBSan. LLHTTP_CORPUS_VERBOSE=1 in the environment prints the
 * expected and actual traces of every failing case, listed ones included.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <llhttp.h>

#include "tu_eal.h"

#define LC_CORPUS_DIR TEST_SHARED "/corpora/llhttp-tests/test"
#define LC_UNSUPPORTED_FILE TEST_SRCDIR "/tests/unit/llhttp_corpus_unsupported.txt"

/* ------------------------------------------------------------------ */
/* Growable byte string. Test code: out of memory aborts.              */

struct lc_str {
	char *p;
	size_t len;
	size_t cap;
};

static void
lc_str_add(struct lc_str *s, const void *data, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 256;

		while (cap < s->len + n + 1)
			cap *= 2;
		s->p = realloc(s->p, cap);
		if (s->p == NULL)
			abort();
		s->cap = cap;
	}
	if (n > 0)
		memcpy(s->p + s->len, data, n);
	s->len += n;
	s->p[s->len] = '\0';
}

static void
lc_str_addc(struct lc_str *s, char c)
{
	lc_str_add(s, &c, 1);
}

__attribute__((format(printf, 2, 3))) static void
lc_str_printf(struct lc_str *s, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if ((size_t)n < sizeof(small)) {
		lc_str_add(s, small, (size_t)n);
		return;
	}
	{
		char *big = malloc((size_t)n + 1);

		if (big == NULL)
			abort();
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		lc_str_add(s, big, (size_t)n);
		free(big);
	}
}

static void
lc_str_reset(struct lc_str *s)
{
	s->len = 0;
	if (s->p != NULL)
		s->p[0] = '\0';
}

static void
lc_str_free(struct lc_str *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ */
/* Corpus cases.                                                       */

enum lc_kind { LC_HTTP, LC_URL };

struct lc_type;

struct lc_case {
	char *file;        /**< path relative to the corpus test/ directory */
	char *name;        /**< heading, " #n" appended to repeated headings */
	int line;          /**< line of the input block, for messages */
	enum lc_kind kind;
	char type[64];     /**< meta "type" ("request", "response-lenient-...") */
	const struct lc_type *ty; /**< parser set-up for type */
	char pause[64];    /**< meta "pause" callback name, "" if none */
	int no_scan;       /**< meta "noScan": chunked traces legitimately differ */
	int skip_body;     /**< meta "skipBody": on_headers_complete returns 1 */
	char *harness_err; /**< why this harness cannot run the case, or NULL */
	struct lc_str input;    /**< decoded bytes fed to llhttp */
	struct lc_str url;      /**< LC_URL: the decoded URL alone */
	struct lc_str expected; /**< expected trace, '\n' after each line */
	/* results */
	int listed;
	int passed;
	struct lc_str why; /**< first mismatch, for the report */
};

static struct {
	struct lc_case *v;
	size_t n;
	size_t cap;
	int load_errors;
} lc_cases;

/* ------------------------------------------------------------------ */
/* Input decoding (test/md-test.ts): each step is a separate global     */
/* pass over the whole string, in upstream's order.                    */

/* Append a UTF-16 code unit as UTF-8: upstream builds a JS string with
 * String.fromCharCode() and hands it to the fixture through argv, which
 * node encodes as UTF-8 ("\xff" reaches the parser as C3 BF). */
static void
lc_put_code_unit(struct lc_str *o, unsigned long cu)
{
	cu &= 0xffff; /* fromCharCode applies ToUint16 */
	if (cu >= 0xd800 && cu <= 0xdfff)
		cu = 0xfffd; /* lone surrogate: node's UTF-8 encoder substitutes */
	if (cu < 0x80) {
		lc_str_addc(o, (char)cu);
	} else if (cu < 0x800) {
		lc_str_addc(o, (char)(0xc0 | (cu >> 6)));
		lc_str_addc(o, (char)(0x80 | (cu & 0x3f)));
	} else {
		lc_str_addc(o, (char)(0xe0 | (cu >> 12)));
		lc_str_addc(o, (char)(0x80 | ((cu >> 6) & 0x3f)));
		lc_str_addc(o, (char)(0x80 | (cu & 0x3f)));
	}
}

static int
lc_is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Replace backslash + @esc by @byte everywhere (one pass). */
static void
lc_pass_simple(struct lc_str *s, char esc, char byte)
{
	struct lc_str o = { 0 };
	size_t i;

	for (i = 0; i < s->len; i++) {
		if (s->p[i] == '\\' && i + 1 < s->len && s->p[i + 1] == esc) {
			lc_str_addc(&o, byte);
			i++;
		} else {
			lc_str_addc(&o, s->p[i]);
		}
	}
	lc_str_free(s);
	*s = o;
}

/* \xHH... (greedy hex, as /\\x([0-9a-fA-F]+)/g) and \OOO (1-3 octal). */
static void
lc_pass_numeric(struct lc_str *s, int hex)
{
	struct lc_str o = { 0 };
	size_t i;

	for (i = 0; i < s->len; i++) {
		size_t j = i + 1;
		unsigned long v = 0;

		if (s->p[i] != '\\' || j >= s->len) {
			lc_str_addc(&o, s->p[i]);
			continue;
		}
		if (hex) {
			if (s->p[j] != 'x' || j + 1 >= s->len || !lc_is_hex(s->p[j + 1])) {
				lc_str_addc(&o, s->p[i]);
				continue;
			}
			for (j++; j < s->len && lc_is_hex(s->p[j]); j++) {
				char c = s->p[j];
				unsigned d = c <= '9' ? (unsigned)(c - '0') :
					     (unsigned)((c | 0x20) - 'a' + 10);

				v = ((v << 4) | d) & 0xffff;
			}
		} else {
			size_t k;

			for (k = 0; k < 3 && j < s->len && s->p[j] >= '0' && s->p[j] <= '7'; k++, j++)
				v = v * 8 + (unsigned long)(s->p[j] - '0');
			if (k == 0) {
				lc_str_addc(&o, s->p[i]);
				continue;
			}
		}
		lc_put_code_unit(&o, v);
		i = j - 1;
	}
	lc_str_free(s);
	*s = o;
}

/* @raw is the block content with '\n' after every line. Returns an error
 * string when the input uses a feature this harness cannot reproduce. */
static const char *
lc_decode_input(const char *raw, size_t len, struct lc_str *out)
{
	struct lc_str s = { 0 };
	size_t i;

	/* 1. remove one trailing newline */
	if (len > 0 && raw[len - 1] == '\n')
		len--;
	/* 2. remove backslash-escaped newlines, 3. normalise newlines to CRLF */
	for (i = 0; i < len; i++) {
		char c = raw[i];

		if (c == '\\' && i + 1 < len && (raw[i + 1] == '\r' || raw[i + 1] == '\n')) {
			i++;
			if (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n')
				i++;
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < len && raw[i + 1] == '\n')
				i++;
			lc_str_add(&s, "\r\n", 2);
			continue;
		}
		lc_str_addc(&s, c);
	}
	/* 4. escaped CR, LF, tab, form feed; 5. hex; 6. octal */
	lc_pass_simple(&s, 'r', '\r');
	lc_pass_simple(&s, 'n', '\n');
	lc_pass_simple(&s, 't', '\t');
	lc_pass_simple(&s, 'f', '\f');
	lc_pass_numeric(&s, 1);
	lc_pass_numeric(&s, 0);
	*out = s;
	if (out->p == NULL)
		lc_str_add(out, "", 0);
	/* 7. ${js-expr} is evaluated by node; no case of this corpus uses it */
	if (memmem(out->p, out->len, "${", 2) != NULL)
		return "input uses ${js-expr}, which needs a JavaScript evaluator";
	if (memchr(out->p, '\0', out->len) != NULL)
		return "input contains NUL, which upstream cannot pass through argv";
	return NULL;
}

/* Lines of a ```log block, '\t'/'\f' escapes replaced as upstream does.
 * Lines 8.1 cannot produce by construction are dropped here:
 *  - "span[protocol]" and "protocol complete": llhttp 9 added the
 *    on_protocol/on_protocol_complete callbacks for the "HTTP"/"RTSP"/"ICE"
 *    token of the start line; 8.1 parses that token without reporting it.
 *    The lines carry no state of their own (their offsets do not shift any
 *    other line), so the rest of the trace is still compared verbatim.
 * Expected lines upstream writes as /regex/ are not used by this corpus. */
static void
lc_decode_log(const char *raw, size_t len, struct lc_str *out, char **harness_err)
{
	size_t i = 0;

	lc_str_add(out, "", 0);
	while (i < len) {
		const char *nl = memchr(raw + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - raw - i) : len - i;
		struct lc_str line = { 0 };

		lc_str_add(&line, raw + i, n);
		lc_pass_simple(&line, 't', '\t');
		lc_pass_simple(&line, 'f', '\f');
		i += n + 1;
		if (line.p == NULL)
			lc_str_add(&line, "", 0);
		if (line.len > 0 && line.p[0] == '/' && *harness_err == NULL)
			*harness_err = strdup("expected log uses a /regex/ line");
		if (strstr(line.p, " span[protocol]=") == NULL &&
		    strstr(line.p, " protocol complete") == NULL) {
			lc_str_add(out, line.p, line.len);
			lc_str_addc(out, '\n');
		}
		lc_str_free(&line);
	}
}

/* ------------------------------------------------------------------ */
/* Markdown extraction (what mdgator gives md-test.ts).                 */

static struct lc_case *
lc_case_new(void)
{
	if (lc_cases.n == lc_cases.cap) {
		lc_cases.cap = lc_cases.cap ? lc_cases.cap * 2 : 256;
		lc_cases.v = realloc(lc_cases.v, lc_cases.cap * sizeof(*lc_cases.v));
		if (lc_cases.v == NULL)
			abort();
	}
	memset(&lc_cases.v[lc_cases.n], 0, sizeof(*lc_cases.v));
	return &lc_cases.v[lc_cases.n++];
}

/* Value of "key": "string" or "key": true in the meta JSON object. */
static int
lc_meta_get(const char *meta, const char *key, char *val, size_t vlen)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(meta, pat);
	if (p == NULL)
		return 0;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != ':')
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"' && n + 1 < vlen; p++)
			val[n++] = *p;
	} else {
		for (; (*p >= 'a' && *p <= 'z') && n + 1 < vlen; p++)
			val[n++] = *p;
	}
	val[n] = '\0';
	return 1;
}

static void
lc_load_error(const char *file, int line, const char *msg)
{
	fprintf(stderr, "llhttp corpus: %s:%d: %s\n", file, line, msg);
	lc_cases.load_errors++;
}

/* State of one markdown file while its lines are read. */
struct lc_md {
	const char *file;
	char heading[512];     /**< current "#..." heading */
	char meta[512];        /**< last "<!-- meta=" seen, for the next block */
	char lang[32];         /**< language of the open code block */
	struct lc_str block;   /**< its content, '\n' after each line */
	int block_line;
	int have_input;        /**< an http/url block waits for its log block */
	struct lc_str input;   /**< that block's raw content */
	char input_lang[32];
	char input_meta[512];
	int input_line;
	char **names;          /**< headings of the cases emitted so far */
	size_t nnames;
};

/* A ```log block closed: the case is the pending input + this log. */
static void
lc_emit_case(struct lc_md *m)
{
	struct lc_case *c = lc_case_new();
	char val[16];
	const char *err;
	size_t k, dup = 1;

	for (k = 0; k < m->nnames; k++)
		dup += strcmp(m->names[k], m->heading) == 0;
	m->names = realloc(m->names, (m->nnames + 1) * sizeof(*m->names));
	if (m->names == NULL || (m->names[m->nnames++] = strdup(m->heading)) == NULL)
		abort();
	c->file = strdup(m->file);
	c->name = malloc(strlen(m->heading) + 24);
	if (c->file == NULL || c->name == NULL)
		abort();
	if (dup > 1)
		sprintf(c->name, "%s #%zu", m->heading, dup); /* sized above */
	else
		strcpy(c->name, m->heading);
	c->line = m->input_line;
	c->kind = strcmp(m->input_lang, "url") == 0 ? LC_URL : LC_HTTP;
	if (c->kind == LC_URL)
		snprintf(c->type, sizeof(c->type), "url");
	else if (!lc_meta_get(m->input_meta, "type", c->type, sizeof(c->type)))
		lc_load_error(m->file, m->input_line, "missing meta type");
	lc_meta_get(m->input_meta, "pause", c->pause, sizeof(c->pause));
	c->no_scan = lc_meta_get(m->input_meta, "noScan", val, sizeof(val)) &&
		     strcmp(val, "true") == 0;
	c->skip_body = lc_meta_get(m->input_meta, "skipBody", val, sizeof(val)) &&
		       strcmp(val, "true") == 0;
	err = lc_decode_input(m->input.p, m->input.len, c->kind == LC_URL ? &c->url : &c->input);
	if (err != NULL)
		c->harness_err = strdup(err);
	if (c->kind == LC_URL) {
		/* 8.1 has no URL-only parser: see lc_check_url() */
		lc_str_add(&c->input, "GET ", 4);
		lc_str_add(&c->input, c->url.p, c->url.len);
		lc_str_add(&c->input, " HTTP/1.1\r\n\r\n", 13);
	}
	lc_decode_log(m->block.p, m->block.len, &c->expected, &c->harness_err);
}

/* A code block closed: remember an input block, or emit the case. */
static void
lc_close_block(struct lc_md *m)
{
	if (strcmp(m->lang, "http") == 0 || strcmp(m->lang, "url") == 0) {
		if (m->have_input)
			lc_load_error(m->file, m->block_line, "second input block in one case");
		lc_str_reset(&m->input);
		lc_str_add(&m->input, m->block.p, m->block.len);
		snprintf(m->input_lang, sizeof(m->input_lang), "%s", m->lang);
		snprintf(m->input_meta, sizeof(m->input_meta), "%s", m->meta);
		m->input_line = m->block_line;
		m->have_input = 1;
		m->meta[0] = '\0';
	} else if (strcmp(m->lang, "log") == 0) {
		if (!m->have_input) {
			lc_load_error(m->file, m->block_line, "log block without input");
			return;
		}
		m->have_input = 0;
		lc_emit_case(m);
	}
	/* other languages (none in this corpus) are not part of a case */
}

/* Line-oriented extraction of what mdgator gives md-test.ts: a heading
 * names the case, "<!-- meta=... -->" applies to the next code block, an
 * ```http or ```url block is the input and the following ```log block the
 * expected trace. */
static void
lc_parse_md(const char *rel, const char *text, size_t len)
{
	struct lc_md m = { .file = rel };
	int in_fence = 0, lineno = 0;
	size_t i = 0;

	lc_str_add(&m.block, "", 0);
	lc_str_add(&m.input, "", 0);
	while (i < len) {
		const char *l = text + i;
		const char *nl = memchr(l, '\n', len - i);
		size_t n = nl ? (size_t)(nl - l) : len - i;
		int fence = n >= 3 && memcmp(l, "```", 3) == 0;

		i += n + (nl ? 1 : 0);
		lineno++;
		if (in_fence && fence && strspn(l + 3, " \t") >= n - 3) {
			in_fence = 0;
			lc_close_block(&m);
		} else if (in_fence) {
			lc_str_add(&m.block, l, n);
			lc_str_addc(&m.block, '\n');
		} else if (fence) {
			snprintf(m.lang, sizeof(m.lang), "%.*s", (int)strcspn(l + 3, " \t\r\n"),
				 l + 3);
			in_fence = 1;
			m.block_line = lineno + 1;
			lc_str_reset(&m.block);
		} else if (n > 0 && l[0] == '#') {
			size_t k = strspn(l, "#");

			k += strspn(l + k, " ");
			snprintf(m.heading, sizeof(m.heading), "%.*s", (int)(n - k), l + k);
			m.have_input = 0;
			m.meta[0] = '\0';
		} else if (n > 10 && memcmp(l, "<!-- meta=", 10) == 0) {
			snprintf(m.meta, sizeof(m.meta), "%.*s", (int)(n - 10), l + 10);
		}
	}
	if (in_fence)
		lc_load_error(rel, m.block_line, "unterminated code block");
	while (m.nnames > 0)
		free(m.names[--m.nnames]);
	free(m.names);
	lc_str_free(&m.block);
	lc_str_free(&m.input);
}

static int
lc_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect "*.md" below @dir (relative @rel), sorted for stable output. */
static void
lc_collect(const char *dir, const char *rel, char ***files, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		lc_load_error(dir, 0, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char path[1024], sub[512];
		size_t l = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		if (e->d_type == DT_DIR) {
			lc_collect(path, sub, files, n);
		} else if (l > 3 && strcmp(e->d_name + l - 3, ".md") == 0) {
			*files = realloc(*files, (*n + 1) * sizeof(**files));
			if (*files == NULL || ((*files)[(*n)++] = strdup(sub)) == NULL)
				abort();
		}
	}
	closedir(d);
}

/* ------------------------------------------------------------------ */
/* Running llhttp with the fixture's trace format.                     */

/*
 * Notification callbacks (llhttp_cb) receive no position, but the fixture
 * prints the offset of each one. Every notification callback therefore
 * queues its line and returns HPE_PAUSED: llhttp_execute() then returns with
 * llhttp_get_error_pos() at exactly the byte where the callback ran, the line
 * is printed at that offset, and parsing resumes there with llhttp_resume()
 * -- the same resume loop the fixture runs for the "pause" meta option. All
 * 8.1 notification callbacks accept HPE_PAUSED (see the "case 21" branches in
 * llhttp.c), and none runs while a span is open, so pausing does not split
 * or lose span bytes; the every-split-point runs below would show it if it
 * did. on_headers_complete with "skipBody" must return 1 instead, so its
 * lines stay queued until the on_message_complete that follows it without
 * consuming input, and are printed at that same offset.
 */
enum lc_ev {
	LC_EV_MESSAGE_BEGIN,
	LC_EV_URL_COMPLETE,
	LC_EV_STATUS_COMPLETE,
	LC_EV_METHOD_COMPLETE,
	LC_EV_VERSION_COMPLETE,
	LC_EV_HEADER_FIELD_COMPLETE,
	LC_EV_HEADER_VALUE_COMPLETE,
	LC_EV_HEADERS_COMPLETE,
	LC_EV_MESSAGE_COMPLETE,
	LC_EV_CHUNK_HEADER,
	LC_EV_CHUNK_COMPLETE,
	LC_EV_CHUNK_EXTENSION_NAME_COMPLETE,
	LC_EV_CHUNK_EXTENSION_VALUE_COMPLETE,
	LC_EV_RESET,
	LC_EV_NONE = -1,
	LC_EV_UNKNOWN = -2,
};

/* meta "pause" names as upstream's extra.c uses them (its
 * LLHTTP__TEST_PAUSE_ON_* macros); "on_protocol_complete" has no 8.1
 * callback and stays LC_EV_UNKNOWN. */
static const struct {
	const char *name;
	enum lc_ev ev;
} lc_pause_names[] = {
	{ "on_message_begin", LC_EV_MESSAGE_BEGIN },
	{ "on_url_complete", LC_EV_URL_COMPLETE },
	{ "on_status_complete", LC_EV_STATUS_COMPLETE },
	{ "on_method_complete", LC_EV_METHOD_COMPLETE },
	{ "on_version_complete", LC_EV_VERSION_COMPLETE },
	{ "on_header_field_complete", LC_EV_HEADER_FIELD_COMPLETE },
	{ "on_header_value_complete", LC_EV_HEADER_VALUE_COMPLETE },
	{ "on_headers_complete", LC_EV_HEADERS_COMPLETE },
	{ "on_message_complete", LC_EV_MESSAGE_COMPLETE },
	{ "on_chunk_header", LC_EV_CHUNK_HEADER },
	{ "on_chunk_complete", LC_EV_CHUNK_COMPLETE },
	{ "on_chunk_extension_name", LC_EV_CHUNK_EXTENSION_NAME_COMPLETE },
	{ "on_chunk_extension_value", LC_EV_CHUNK_EXTENSION_VALUE_COMPLETE },
	{ "on_reset", LC_EV_RESET },
};

struct lc_run {
	struct lc_str *out;     /**< trace being written */
	struct lc_str pending;  /**< queued notification lines, '\n'-separated */
	enum lc_ev pause_ev;    /**< event the case's "pause" meta names */
	int pause_hit;          /**< a queued line is that event */
	int skip_body;
	const char *chunk_base; /**< start of the bytes given to llhttp_execute */
	size_t chunk_off;       /**< offset of chunk_base in the whole input */
};

static size_t
lc_off(const struct lc_run *r, const char *p)
{
	return (size_t)(p - r->chunk_base) + r->chunk_off;
}

/* Span lines exactly as llparse__print_span(): CR and LF are printed as
 * separate "len=1 span[x]=cr|lf" lines so the log stays line-oriented. */
static int
lc_span(llhttp_t *p, const char *name, const char *at, size_t len)
{
	struct lc_run *r = p->data;
	const char *end = at + len;

	for (;;) {
		const char *cr = memchr(at, '\r', (size_t)(end - at));
		const char *lf = memchr(at, '\n', (size_t)(end - at));
		size_t n;

		if (cr != NULL && lf != NULL) {
			if (cr < lf)
				lf = NULL;
			else
				cr = NULL;
		}
		n = lf ? (size_t)(lf - at) : cr ? (size_t)(cr - at) : (size_t)(end - at);
		if (n != 0 || (lf == NULL && cr == NULL)) {
			lc_str_printf(r->out, "off=%zu len=%zu span[%s]=\"", lc_off(r, at), n, name);
			lc_str_add(r->out, at, n);
			lc_str_add(r->out, "\"\n", 2);
			at += n;
		}
		if (lf != NULL || cr != NULL) {
			lc_str_printf(r->out, "off=%zu len=1 span[%s]=%s\n", lc_off(r, at), name,
				      lf ? "lf" : "cr");
			at++;
		}
		if (at == end)
			break;
	}
	return 0;
}

__attribute__((format(printf, 3, 4))) static int
lc_note(llhttp_t *p, enum lc_ev ev, const char *fmt, ...)
{
	struct lc_run *r = p->data;
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	lc_str_printf(&r->pending, "%s\n", buf);
	if (ev == r->pause_ev)
		r->pause_hit = 1;
	return HPE_PAUSED;
}

#define LC_SPAN_CB(name)                                                     \
	static int lc_on_##name(llhttp_t *p, const char *at, size_t len)     \
	{                                                                    \
		return lc_span(p, #name, at, len);                           \
	}
LC_SPAN_CB(url)
LC_SPAN_CB(status)
LC_SPAN_CB(method)
LC_SPAN_CB(version)
LC_SPAN_CB(header_field)
LC_SPAN_CB(header_value)
LC_SPAN_CB(body)
LC_SPAN_CB(chunk_extension_name)
LC_SPAN_CB(chunk_extension_value)

#define LC_NOTE_CB(cb, ev, text)                                             \
	static int lc_##cb(llhttp_t *p)                                      \
	{                                                                    \
		return lc_note(p, ev, "%s", text);                           \
	}
LC_NOTE_CB(on_message_begin, LC_EV_MESSAGE_BEGIN, "message begin")
LC_NOTE_CB(on_url_complete, LC_EV_URL_COMPLETE, "url complete")
LC_NOTE_CB(on_status_complete, LC_EV_STATUS_COMPLETE, "status complete")
LC_NOTE_CB(on_method_complete, LC_EV_METHOD_COMPLETE, "method complete")
LC_NOTE_CB(on_version_complete, LC_EV_VERSION_COMPLETE, "version complete")
LC_NOTE_CB(on_header_field_complete, LC_EV_HEADER_FIELD_COMPLETE, "header_field complete")
LC_NOTE_CB(on_header_value_complete, LC_EV_HEADER_VALUE_COMPLETE, "header_value complete")
LC_NOTE_CB(on_message_complete, LC_EV_MESSAGE_COMPLETE, "message complete")
LC_NOTE_CB(on_chunk_complete, LC_EV_CHUNK_COMPLETE, "chunk complete")
LC_NOTE_CB(on_chunk_extension_name_complete, LC_EV_CHUNK_EXTENSION_NAME_COMPLETE,
	   "chunk_extension_name complete")
LC_NOTE_CB(on_chunk_extension_value_complete, LC_EV_CHUNK_EXTENSION_VALUE_COMPLETE,
	   "chunk_extension_value complete")
LC_NOTE_CB(on_reset, LC_EV_RESET, "reset")

static int
lc_on_chunk_header(llhttp_t *p)
{
	/* the fixture prints the chunk length through an int cast */
	return lc_note(p, LC_EV_CHUNK_HEADER, "chunk header len=%d", (int)p->content_length);
}

static int
lc_on_headers_complete(llhttp_t *p)
{
	struct lc_run *r = p->data;
	char line[160];

	if (llhttp_get_type(p) == HTTP_REQUEST)
		snprintf(line, sizeof(line),
			 "headers complete method=%d v=%d/%d flags=%x content_length=%" PRIu64,
			 llhttp_get_method(p), llhttp_get_http_major(p), llhttp_get_http_minor(p),
			 (unsigned)p->flags, p->content_length);
	else
		snprintf(line, sizeof(line),
			 "headers complete status=%d v=%d/%d flags=%x content_length=%" PRIu64,
			 llhttp_get_status_code(p), llhttp_get_http_major(p),
			 llhttp_get_http_minor(p), (unsigned)p->flags, p->content_length);
	if (r->skip_body) {
		lc_str_printf(&r->pending, "%s\nskip body\n", line);
		return 1; /* no body; lines printed at the next pause */
	}
	return lc_note(p, LC_EV_HEADERS_COMPLETE, "%s", line);
}

static llhttp_settings_t lc_settings;

static void
lc_settings_init(void)
{
	llhttp_settings_init(&lc_settings);
	lc_settings.on_message_begin = lc_on_message_begin;
	lc_settings.on_url = lc_on_url;
	lc_settings.on_status = lc_on_status;
	lc_settings.on_method = lc_on_method;
	lc_settings.on_version = lc_on_version;
	lc_settings.on_header_field = lc_on_header_field;
	lc_settings.on_header_value = lc_on_header_value;
	lc_settings.on_chunk_extension_name = lc_on_chunk_extension_name;
	lc_settings.on_chunk_extension_value = lc_on_chunk_extension_value;
	lc_settings.on_headers_complete = lc_on_headers_complete;
	lc_settings.on_body = lc_on_body;
	lc_settings.on_message_complete = lc_on_message_complete;
	lc_settings.on_url_complete = lc_on_url_complete;
	lc_settings.on_status_complete = lc_on_status_complete;
	lc_settings.on_method_complete = lc_on_method_complete;
	lc_settings.on_version_complete = lc_on_version_complete;
	lc_settings.on_header_field_complete = lc_on_header_field_complete;
	lc_settings.on_header_value_complete = lc_on_header_value_complete;
	lc_settings.on_chunk_extension_name_complete = lc_on_chunk_extension_name_complete;
	lc_settings.on_chunk_extension_value_complete = lc_on_chunk_extension_value_complete;
	lc_settings.on_chunk_header = lc_on_chunk_header;
	lc_settings.on_chunk_complete = lc_on_chunk_complete;
	lc_settings.on_reset = lc_on_reset;
}

/*
 * Meta types (upstream's allowedTypes) and how upstream's
 * llhttp__test_init_* set the parser up for them. Types whose lenient flag
 * was added after 8.1 run without it (lenient = 0): the unsupported list
 * must then say whether the case fails. "lenient-all" gets every flag 8.1
 * has. LENIENT_VERSION exists and is honoured by 8.1's llhttp.c but has no
 * setter; it is set on the field, as upstream's harness sets all of them.
 */
#define LC_LENIENT_ALL_8_1                                                     \
	(LENIENT_HEADERS | LENIENT_CHUNKED_LENGTH | LENIENT_KEEP_ALIVE |       \
	 LENIENT_TRANSFER_ENCODING | LENIENT_VERSION)

static const struct lc_type {
	const char *name;
	llhttp_type_t type;
	unsigned lenient; /**< llhttp_lenient_flags_t bits 8.1 has */
	int finish;       /**< print "finish=" at the end (*-finish types) */
} lc_types[] = {
	{ "request", HTTP_REQUEST, 0, 0 },
	{ "response", HTTP_RESPONSE, 0, 0 },
	{ "request-finish", HTTP_REQUEST, 0, 1 },
	{ "response-finish", HTTP_RESPONSE, 0, 1 },
	{ "request-lenient-all", HTTP_REQUEST, LC_LENIENT_ALL_8_1, 0 },
	{ "response-lenient-all", HTTP_RESPONSE, LC_LENIENT_ALL_8_1, 0 },
	{ "request-lenient-headers", HTTP_REQUEST, LENIENT_HEADERS, 0 },
	{ "response-lenient-headers", HTTP_RESPONSE, LENIENT_HEADERS, 0 },
	{ "request-lenient-keep-alive", HTTP_REQUEST, LENIENT_KEEP_ALIVE, 0 },
	{ "response-lenient-keep-alive", HTTP_RESPONSE, LENIENT_KEEP_ALIVE, 0 },
	{ "request-lenient-chunked-length", HTTP_REQUEST, LENIENT_CHUNKED_LENGTH, 0 },
	{ "request-lenient-transfer-encoding", HTTP_REQUEST, LENIENT_TRANSFER_ENCODING, 0 },
	{ "request-lenient-version", HTTP_REQUEST, LENIENT_VERSION, 0 },
	{ "response-lenient-version", HTTP_RESPONSE, LENIENT_VERSION, 0 },
	/* lenient flags added after 8.1 */
	{ "request-lenient-data-after-close", HTTP_REQUEST, 0, 0 },
	{ "response-lenient-data-after-close", HTTP_RESPONSE, 0, 0 },
	{ "request-lenient-optional-lf-after-cr", HTTP_REQUEST, 0, 0 },
	{ "response-lenient-optional-lf-after-cr", HTTP_RESPONSE, 0, 0 },
	{ "request-lenient-optional-cr-before-lf", HTTP_REQUEST, 0, 0 },
	{ "response-lenient-optional-cr-before-lf", HTTP_RESPONSE, 0, 0 },
	{ "request-lenient-optional-crlf-after-chunk", HTTP_REQUEST, 0, 0 },
	{ "response-lenient-optional-crlf-after-chunk", HTTP_RESPONSE, 0, 0 },
	{ "request-lenient-spaces-after-chunk-size", HTTP_REQUEST, 0, 0 },
	{ "response-lenient-spaces-after-chunk-size", HTTP_RESPONSE, 0, 0 },
	{ "request-lenient-header-value-relaxed", HTTP_REQUEST, 0, 0 },
	/* url.md: the URL inside a request line, see lc_check_url() */
	{ "url", HTTP_REQUEST, 0, 0 },
};

static const struct lc_type *
lc_type_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(lc_types) / sizeof(lc_types[0]); i++)
		if (strcmp(lc_types[i].name, name) == 0)
			return &lc_types[i];
	return NULL;
}

static void
lc_init_parser(llhttp_t *p, const struct lc_type *t)
{
	llhttp_init(p, t->type, &lc_settings);
	if (t->lenient & LENIENT_HEADERS)
		llhttp_set_lenient_headers(p, 1);
	if (t->lenient & LENIENT_CHUNKED_LENGTH)
		llhttp_set_lenient_chunked_length(p, 1);
	if (t->lenient & LENIENT_KEEP_ALIVE)
		llhttp_set_lenient_keep_alive(p, 1);
	if (t->lenient & LENIENT_TRANSFER_ENCODING)
		llhttp_set_lenient_transfer_encoding(p, 1);
	if (t->lenient & LENIENT_VERSION)
		p->lenient_flags |= LENIENT_VERSION;
}

static void
lc_flush_pending(struct lc_run *r, size_t off)
{
	size_t i = 0;

	while (i < r->pending.len) {
		const char *nl = memchr(r->pending.p + i, '\n', r->pending.len - i);
		size_t n = (size_t)(nl - r->pending.p) - i;

		lc_str_printf(r->out, "off=%zu %.*s\n", off, (int)n, r->pending.p + i);
		i += n + 1;
	}
	lc_str_reset(&r->pending);
	if (r->pause_hit)
		lc_str_printf(r->out, "off=%zu pause\n", off);
	r->pause_hit = 0;
}

/* Input copied right before a PROT_NONE page, so that any read past the
 * end of what llhttp_execute() was given faults (picohttpparser's trick). */
struct lc_guard {
	char *map;
	size_t size; /**< readable bytes before the guard page */
};

static int
lc_guard_init(struct lc_guard *g, size_t need)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	g->size = (need + pg - 1) / pg * pg + pg;
	g->map = mmap(NULL, g->size + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (g->map == MAP_FAILED)
		return -errno;
	if (mprotect(g->map + g->size, pg, PROT_NONE) != 0)
		return -errno;
	return 0;
}

static void
lc_guard_fini(struct lc_guard *g)
{
	munmap(g->map, g->size + (size_t)sysconf(_SC_PAGESIZE));
}

static struct lc_guard lc_guard;

/*
 * Feed @c to a fresh parser in chunks ending at @cuts[0..ncuts-1] (the last
 * cut is the input length) and write the trace to @out, like one "scan" of
 * llparse-test-fixture: stop at the first error, print "finish=" at the end
 * for *-finish types. Each chunk is copied flush against the guard page.
 */
static void
lc_execute(const struct lc_case *c, const size_t *cuts, size_t ncuts, struct lc_str *out)
{
	struct lc_run r = { .out = out, .pause_ev = LC_EV_NONE, .skip_body = c->skip_body };
	llhttp_t parser;
	size_t k, from = 0;
	unsigned i;

	if (c->pause[0] != '\0') {
		r.pause_ev = LC_EV_UNKNOWN;
		for (i = 0; i < sizeof(lc_pause_names) / sizeof(lc_pause_names[0]); i++)
			if (strcmp(c->pause, lc_pause_names[i].name) == 0)
				r.pause_ev = lc_pause_names[i].ev;
	}
	lc_str_reset(out);
	lc_str_add(out, "", 0);
	lc_init_parser(&parser, c->ty);
	parser.data = &r;
	for (k = 0; k < ncuts; k++) {
		size_t n = cuts[k] - from;
		char *buf = lc_guard.map + lc_guard.size - n;
		const char *p = buf;
		llhttp_errno_t err;

		if (n == 0)
			continue;
		memcpy(buf, c->input.p + from, n);
		r.chunk_base = buf;
		r.chunk_off = from;
		for (;;) {
			err = llhttp_execute(&parser, p, (size_t)(buf + n - p));
			if (err != HPE_PAUSED)
				break;
			p = llhttp_get_error_pos(&parser);
			lc_flush_pending(&r, lc_off(&r, p));
			llhttp_resume(&parser);
		}
		if (err != HPE_OK) {
			const char *ep = llhttp_get_error_pos(&parser);

			if (r.pending.len > 0)
				lc_flush_pending(&r, lc_off(&r, ep));
			lc_str_printf(out, "off=%zu error code=%d reason=\"%s\"\n", lc_off(&r, ep),
				      (int)err, llhttp_get_error_reason(&parser));
			lc_str_free(&r.pending);
			return;
		}
		if (r.pending.len > 0)
			lc_flush_pending(&r, cuts[k]);
		from = cuts[k];
	}
	if (c->ty->finish)
		lc_str_printf(out, "off=NULL finish=%d\n", parser.finish);
	lc_str_free(&r.pending);
}

/* ------------------------------------------------------------------ */
/* Span merging (llparse-test-fixture result.ts normalizeSpans()).      */

struct lc_item {
	int span;
	size_t off, len;
	char name[48];
	struct lc_str text; /**< raw line, or the span value */
};

static int
lc_parse_span(const char *l, size_t n, struct lc_item *it)
{
	unsigned long long off, len;
	int pos = 0;
	const char *nb, *ne;

	if (sscanf(l, "off=%llu len=%llu span[%n", &off, &len, &pos) != 2 || pos == 0)
		return 0;
	nb = l + pos;
	ne = memchr(nb, ']', n - (size_t)pos);
	if (ne == NULL || ne == nb || (size_t)(ne - nb) >= sizeof(it->name) ||
	    ne + 3 > l + n || ne[1] != '=' || ne[2] != '"' || l[n - 1] != '"' ||
	    ne + 3 > l + n - 1)
		return 0;
	it->span = 1;
	it->off = (size_t)off;
	it->len = (size_t)len;
	memcpy(it->name, nb, (size_t)(ne - nb));
	it->name[ne - nb] = '\0';
	lc_str_add(&it->text, ne + 3, (size_t)(l + n - 1 - (ne + 3)));
	return 1;
}

/* Merge a span line into the last span of the same name when it continues
 * it, moving the merged span to the end -- byte for byte what upstream does
 * before comparing, so that chunked runs compare equal to the one-shot log. */
static void
lc_normalize(const struct lc_str *in, struct lc_str *out)
{
	struct lc_item *items = NULL, **res = NULL;
	size_t nitems = 0, nres = 0, i = 0, k;

	while (i < in->len) {
		const char *l = in->p + i;
		const char *nl = memchr(l, '\n', in->len - i);
		size_t n = nl ? (size_t)(nl - l) : in->len - i;

		i += n + 1;
		if (n == 0)
			continue;
		items = realloc(items, (nitems + 1) * sizeof(*items));
		if (items == NULL)
			abort();
		memset(&items[nitems], 0, sizeof(*items));
		if (!lc_parse_span(l, n, &items[nitems])) {
			lc_str_free(&items[nitems].text);
			lc_str_add(&items[nitems].text, l, n);
		}
		nitems++;
	}
	res = calloc(nitems + 1, sizeof(*res));
	if (res == NULL)
		abort();
	for (i = 0; i < nitems; i++) {
		struct lc_item *it = &items[i], *last = NULL;

		if (it->span) {
			for (k = nres; k > 0; k--)
				if (res[k - 1]->span && strcmp(res[k - 1]->name, it->name) == 0) {
					last = res[k - 1];
					break;
				}
			/* upstream keeps the newest unmerged span per name in a map;
			 * only that span ever moves, so it is also the last span of
			 * that name in res */
			if (last != NULL && last->off + last->len == it->off) {
				last->len += it->len;
				lc_str_add(&last->text, it->text.p, it->text.len);
				memmove(&res[k - 1], &res[k], (nres - k) * sizeof(*res));
				res[nres - 1] = last;
				continue;
			}
		}
		res[nres++] = it;
	}
	lc_str_reset(out);
	lc_str_add(out, "", 0);
	for (k = 0; k < nres; k++) {
		if (res[k]->span) {
			lc_str_printf(out, "off=%zu len=%zu span[%s]=\"", res[k]->off, res[k]->len,
				      res[k]->name);
			lc_str_add(out, res[k]->text.p, res[k]->text.len);
			lc_str_add(out, "\"\n", 2);
		} else {
			lc_str_add(out, res[k]->text.p, res[k]->text.len);
			lc_str_addc(out, '\n');
		}
	}
	for (i = 0; i < nitems; i++)
		lc_str_free(&items[i].text);
	free(items);
	free(res);
}

/* ------------------------------------------------------------------ */
/* Checks.                                                              */

static struct lc_str lc_raw, lc_norm, lc_ref; /* scratch traces */
static int lc_verbose;

/* Record the first difference between two traces in c->why. */
static int
lc_diff(struct lc_case *c, const char *what, const struct lc_str *want, const struct lc_str *got)
{
	size_t i = 0, j = 0;
	int line = 1;

	if (want->len == got->len && memcmp(want->p, got->p, want->len) == 0)
		return 0;
	while (i < want->len && j < got->len) {
		const char *a = want->p + i, *b = got->p + j;
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");

		if (na != nb || memcmp(a, b, na) != 0)
			break;
		i += na + 1;
		j += nb + 1;
		line++;
	}
	if (c->why.len == 0) {
		lc_str_printf(&c->why, "%s, line %d: expected \"%.*s\" got \"%.*s\"", what, line,
			      (int)strcspn(want->p + (i < want->len ? i : want->len), "\n"),
			      want->p + (i < want->len ? i : want->len),
			      (int)strcspn(got->p + (j < got->len ? j : got->len), "\n"),
			      got->p + (j < got->len ? j : got->len));
		if (lc_verbose)
			lc_str_printf(&c->why, "\n--- expected\n%s--- got\n%s", want->p, got->p);
	}
	return -1;
}

/* What must not depend on where the input is split even when upstream
 * marks a case noScan (an error inside an open span flushes a partial span
 * only when the span crossed a chunk end): message boundaries, header
 * counts, pauses and the final error code. */
static void
lc_summary(const struct lc_str *trace, struct lc_str *out)
{
	static const char *const keys[] = {
		" message begin\n", " message complete\n", " headers complete ",
		" header_field complete\n", " header_value complete\n", " pause\n", " reset\n",
	};
	const char *e;
	unsigned i;

	lc_str_reset(out);
	lc_str_add(out, "", 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *p = trace->p;
		int n = 0;

		while ((p = strstr(p, keys[i])) != NULL) {
			n++;
			p++;
		}
		lc_str_printf(out, "count(%.*s)=%d\n", (int)strcspn(keys[i] + 1, "\n "), keys[i] + 1,
			      n);
	}
	e = strstr(trace->p, " error code=");
	lc_str_printf(out, "error=%d\n", e ? atoi(e + 12) : 0);
}

/*
 * url.md cases exercise llhttp's URL-only parser, which upstream builds
 * from the llparse sources and 8.1 does not ship. The URL is parsed instead
 * as the target of "GET <url> HTTP/1.1": the url span must be the whole URL
 * (the url.schema/host/path/query/fragment sub-spans have no public 8.1
 * callback; they are checked against the decoded input instead, which
 * validates the decoder), or, for failing URLs, llhttp must stop with the
 * same error code and reason 4 bytes later (after "GET ").
 */
static int
lc_check_url(struct lc_case *c, const struct lc_str *got)
{
	const struct lc_str *x = &c->expected;
	size_t i = 0;
	long err_off = -1;
	int err_code = 0;
	char reason[128] = "";
	struct lc_str want = { 0 };
	int rc = 0;

	while (i < x->len) {
		const char *l = x->p + i;
		size_t n = strcspn(l, "\n");
		struct lc_item it = { 0 };

		if (lc_parse_span(l, n, &it)) {
			if (strncmp(it.name, "url.", 4) != 0 || it.off + it.len > c->url.len ||
			    memcmp(c->url.p + it.off, it.text.p, it.len) != 0) {
				lc_str_printf(&c->why, "expected span at off=%zu does not match the decoded URL",
					      it.off);
				rc = -1;
			}
		} else if (sscanf(l, "off=%ld error code=%d reason=\"%127[^\"]\"", &err_off, &err_code,
				  reason) != 3) {
			lc_str_printf(&c->why, "unexpected url log line \"%.*s\"", (int)n, l);
			rc = -1;
		}
		lc_str_free(&it.text);
		i += n + 1;
	}
	if (rc != 0)
		return rc;
	if (err_code != 0) {
		const char *last;

		lc_str_printf(&want, "off=%ld error code=%d reason=\"%s\"\n", err_off + 4, err_code,
			      reason);
		last = got->len >= want.len ? got->p + got->len - want.len : got->p;
		if (strcmp(last, want.p) != 0) {
			lc_str_printf(&c->why, "expected error line \"%.*s\", got trace:\n%s",
				      (int)want.len - 1, want.p, got->p);
			rc = -1;
		}
	} else {
		lc_str_printf(&want, "off=4 len=%zu span[url]=\"", c->url.len);
		lc_str_add(&want, c->url.p, c->url.len);
		lc_str_add(&want, "\"\n", 2);
		if (strstr(got->p, want.p) == NULL || strstr(got->p, " url complete\n") == NULL ||
		    strstr(got->p, " message complete\n") == NULL ||
		    strstr(got->p, " error code=") != NULL) {
			lc_str_printf(&c->why, "expected \"%.*s\" and a complete message, got trace:\n%s",
				      (int)want.len - 1, want.p, got->p);
			rc = -1;
		}
	}
	lc_str_free(&want);
	return rc;
}

/* Run one case: the whole input at once, then every chunk size 1..len-1
 * (upstream's scans) and every two-piece split. Sets c->passed. */
static void
lc_check_case(struct lc_case *c)
{
	size_t len = c->input.len, s, k, *cuts;
	int ok = 1;

	lc_str_reset(&c->why);
	if (c->harness_err != NULL) {
		lc_str_printf(&c->why, "%s", c->harness_err);
		c->passed = 0;
		return;
	}
	cuts = calloc(len + 1, sizeof(*cuts));
	if (cuts == NULL)
		abort();
	cuts[0] = len;
	lc_execute(c, cuts, 1, &lc_raw);
	lc_normalize(&lc_raw, &lc_norm);
	if (c->kind == LC_URL)
		ok = lc_check_url(c, &lc_norm) == 0;
	else
		ok = lc_diff(c, "whole input", &c->expected, &lc_norm) == 0;
	/* reference for chunked runs: upstream's log, or (url cases) the
	 * one-shot trace, or (noScan) the one-shot summary */
	if (c->no_scan)
		lc_summary(&lc_norm, &lc_ref);
	else if (c->kind == LC_URL) {
		lc_str_reset(&lc_ref);
		lc_str_add(&lc_ref, lc_norm.p, lc_norm.len);
	} else {
		lc_str_reset(&lc_ref);
		lc_str_add(&lc_ref, c->expected.p, c->expected.len);
	}
	for (s = 1; ok && s < 2 * len; s++) {
		char what[64];
		size_t ncuts = 0;

		if (s < len) { /* scan: chunks of s bytes */
			for (k = s; k < len; k += s)
				cuts[ncuts++] = k;
			snprintf(what, sizeof(what), "chunks of %zu bytes", s);
		} else if (s > len) { /* split in two at s - len */
			cuts[ncuts++] = s - len;
			snprintf(what, sizeof(what), "split at byte %zu", s - len);
		} else {
			continue;
		}
		cuts[ncuts++] = len;
		lc_execute(c, cuts, ncuts, &lc_raw);
		lc_normalize(&lc_raw, &lc_norm);
		if (c->no_scan) {
			struct lc_str sum = { 0 };

			lc_summary(&lc_norm, &sum);
			ok = lc_diff(c, what, &lc_ref, &sum) == 0;
			lc_str_free(&sum);
		} else {
			ok = lc_diff(c, what, &lc_ref, &lc_norm) == 0;
		}
	}
	free(cuts);
	c->passed = ok;
}

/* ------------------------------------------------------------------ */
/* Unsupported list: "file | heading | reason" per line, '#' comments.  */

static int lc_list_errors;

static void
lc_load_unsupported(void)
{
	size_t len = 0, i = 0;
	char *text = tu_read_file(LC_UNSUPPORTED_FILE, &len);
	int lineno = 0;

	if (text == NULL) {
		fprintf(stderr, "llhttp corpus: cannot read %s\n", LC_UNSUPPORTED_FILE);
		lc_list_errors++;
		return;
	}
	while (i < len) {
		char *l = text + i, *a, *b;
		size_t n = strcspn(l, "\n"), k;
		int found = 0;

		i += n + 1;
		l[n] = '\0';
		lineno++;
		if (n == 0 || l[0] == '#')
			continue;
		a = strstr(l, " | ");
		b = a ? strstr(a + 3, " | ") : NULL;
		if (b == NULL || b[3] == '\0') {
			fprintf(stderr, "llhttp corpus: %s:%d: want \"file | heading | reason\"\n",
				LC_UNSUPPORTED_FILE, lineno);
			lc_list_errors++;
			continue;
		}
		*a = '\0';
		*b = '\0';
		for (k = 0; k < lc_cases.n; k++) {
			struct lc_case *c = &lc_cases.v[k];

			if (strcmp(c->file, l) == 0 && strcmp(c->name, a + 3) == 0) {
				if (c->listed) {
					fprintf(stderr, "llhttp corpus: %s:%d: listed twice\n",
						LC_UNSUPPORTED_FILE, lineno);
					lc_list_errors++;
				}
				c->listed = 1;
				found = 1;
			}
		}
		if (!found) {
			fprintf(stderr, "llhttp corpus: %s:%d: no case \"%s\" in %s\n",
				LC_UNSUPPORTED_FILE, lineno, a + 3, l);
			lc_list_errors++;
		}
	}
	free(text);
}

/* ------------------------------------------------------------------ */
/* CUnit.                                                               */

static int
lc_suite_init(void)
{
	char **files = NULL;
	size_t nfiles = 0, i;

	lc_verbose = getenv("LLHTTP_CORPUS_VERBOSE") != NULL;
	lc_settings_init();
	lc_collect(LC_CORPUS_DIR, "", &files, &nfiles);
	qsort(files, nfiles, sizeof(*files), lc_cmp_str);
	for (i = 0; i < nfiles; i++) {
		char path[1024];
		size_t len = 0, before = lc_cases.n;
		char *text;

		snprintf(path, sizeof(path), "%s/%s", LC_CORPUS_DIR, files[i]);
		text = tu_read_file(path, &len);
		if (text == NULL) {
			lc_load_error(path, 0, "cannot read");
		} else {
			lc_parse_md(files[i], text, len);
			if (lc_cases.n == before)
				lc_load_error(files[i], 0, "no test case found");
		}
		free(text);
		free(files[i]);
	}
	free(files);
	for (i = 0; i < lc_cases.n; i++) {
		struct lc_case *c = &lc_cases.v[i];

		c->ty = lc_type_find(c->type);
		if (c->ty == NULL)
			lc_load_error(c->file, c->line, "unknown meta type");
		if (c->skip_body && c->pause[0] != '\0')
			lc_load_error(c->file, c->line, "skipBody with pause is not supported");
	}
	{
		size_t need = 0;

		for (i = 0; i < lc_cases.n; i++)
			if (lc_cases.v[i].input.len > need)
				need = lc_cases.v[i].input.len;
		if (lc_guard_init(&lc_guard, need) != 0)
			return -1;
	}
	lc_load_unsupported();
	return 0;
}

static int
lc_suite_fini(void)
{
	size_t i;

	for (i = 0; i < lc_cases.n; i++) {
		struct lc_case *c = &lc_cases.v[i];

		free(c->file);
		free(c->name);
		free(c->harness_err);
		lc_str_free(&c->input);
		lc_str_free(&c->url);
		lc_str_free(&c->expected);
		lc_str_free(&c->why);
	}
	free(lc_cases.v);
	memset(&lc_cases, 0, sizeof(lc_cases));
	lc_str_free(&lc_raw);
	lc_str_free(&lc_norm);
	lc_str_free(&lc_ref);
	if (lc_guard.map != NULL)
		lc_guard_fini(&lc_guard);
	return 0;
}

static void
test_corpus_extracted(void)
{
	size_t i, nurl = 0, nreq = 0, nres = 0;

	CU_ASSERT_EQUAL(lc_cases.load_errors, 0);
	for (i = 0; i < lc_cases.n; i++) {
		const struct lc_case *c = &lc_cases.v[i];

		nurl += c->kind == LC_URL;
		nreq += c->kind == LC_HTTP && strncmp(c->type, "request", 7) == 0;
		nres += c->kind == LC_HTTP && strncmp(c->type, "response", 8) == 0;
		CU_ASSERT(c->input.len > 0);
		CU_ASSERT(c->expected.len > 0);
	}
	printf("\n  llhttp corpus: %zu cases (%zu request, %zu response, %zu url)\n", lc_cases.n,
	       nreq, nres, nurl);
	/* the vendored corpus has 250+ cases; far fewer means the extraction
	 * broke, not that the corpus shrank */
	CU_ASSERT(nreq >= 100);
	CU_ASSERT(nres >= 50);
	CU_ASSERT(nurl >= 10);
	CU_ASSERT_EQUAL(nreq + nres + nurl, lc_cases.n);
}

static void
test_unsupported_list_valid(void)
{
	CU_ASSERT_EQUAL(lc_list_errors, 0);
}

static size_t lc_n_pass, lc_n_unsup, lc_n_bad, lc_n_stale;

static void
lc_run_group(const char *prefix)
{
	size_t i;

	for (i = 0; i < lc_cases.n; i++) {
		struct lc_case *c = &lc_cases.v[i];

		if (strncmp(c->file, prefix, strlen(prefix)) != 0)
			continue;
		lc_check_case(c);
		if (c->passed && !c->listed) {
			lc_n_pass++;
		} else if (!c->passed && c->listed) {
			lc_n_unsup++;
			if (lc_verbose)
				fprintf(stderr, "  unsupported %s:%d \"%s\": %s\n", c->file, c->line,
					c->name, c->why.p);
		} else if (!c->passed) {
			lc_n_bad++;
			fprintf(stderr, "  FAIL %s:%d \"%s\" [%s]: %s\n", c->file, c->line, c->name,
				c->type, c->why.p);
			CU_FAIL("corpus case failed and is not in llhttp_corpus_unsupported.txt");
		} else {
			lc_n_stale++;
			fprintf(stderr, "  PASSES BUT LISTED %s:%d \"%s\"\n", c->file, c->line, c->name);
			CU_FAIL("case listed in llhttp_corpus_unsupported.txt passes");
		}
	}
}

static void
test_request_cases(void)
{
	lc_run_group("request/");
}

static void
test_response_cases(void)
{
	lc_run_group("response/");
}

static void
test_url_cases(void)
{
	lc_run_group("url.md");
}

static void
test_summary(void)
{
	printf("\n  llhttp %d.%d.%d corpus: %zu cases: %zu supported passed, %zu unsupported "
	       "(listed), %zu unexpected failures, %zu listed but passing\n",
	       LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH, lc_cases.n,
	       lc_n_pass, lc_n_unsup, lc_n_bad, lc_n_stale);
	CU_ASSERT_EQUAL(lc_n_pass + lc_n_unsup + lc_n_bad + lc_n_stale, lc_cases.n);
	CU_ASSERT(lc_n_pass > 0);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("llhttp_corpus", lc_suite_init, lc_suite_fini);
	if (s == NULL ||
	    CU_add_test(s, "corpus extracted", test_corpus_extracted) == NULL ||
	    CU_add_test(s, "unsupported list valid", test_unsupported_list_valid) == NULL ||
	    CU_add_test(s, "request cases", test_request_cases) == NULL ||
	    CU_add_test(s, "response cases", test_response_cases) == NULL ||
	    CU_add_test(s, "url cases", test_url_cases) == NULL ||
	    CU_add_test(s, "summary", test_summary) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	return tu_run_all();
}
