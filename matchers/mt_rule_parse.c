/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser for one Suricata rule (the HTTP subset). Everything the engine
 * cannot honour exactly is an error naming the keyword and the reason:
 * silently ignoring a keyword would change what a rule detects.
 */
#include "mt_engine_int.h"
#include "mt_relit.h"
#include "mt_typical.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_attack.h"

#define MT_MAX_ITEMS 32
#define MT_MAX_GROUPS 12
#define MT_MAX_PAT 4096
#define MT_MAX_META 64
#define MT_KIND_PAYLOAD (-1)

struct tgroup {
	int kind;
	uint16_t n;
	struct mt_item items[MT_MAX_ITEMS];
};

struct pctx {
	struct mt_pool *pool;
	const struct mt_engine_params *p;
	const struct mt_classes *cls;
	const char *file;
	uint32_t line;
	struct mt_errors *errs;
	int nerr;
	struct mt_rule *r;
	struct tgroup g[MT_MAX_GROUPS];
	int n_groups;
	int sticky;            /* current sticky buffer kind, or -2 for none */
	int sticky_items;      /* items added since the sticky buffer was set */
	const char *sticky_kw;
	int last_g, last_i;    /* last content */
	int last_any_g;        /* group of the last item of any type */
	bool have_fp;
	bool have_sid, have_prio;
	const char *classtype;
	const char *tech[MT_MAX_META], *tac[MT_MAX_META], *owasp[MT_MAX_META];
	int n_tech, n_tac, n_owasp;
	struct mt_meta meta[MT_MAX_META];
	int n_meta;
	const char *refs[MT_MAX_META];
	int n_refs;
};

static void
perr(struct pctx *c, const char *kw, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
perr(struct pctx *c, const char *kw, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	mt_err_add(c->errs, c->file, c->line, kw, "%s", reason);
	c->nerr++;
}

/* ---------- small strict parsers ---------- */

char *
mt_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Unquote "..." handling \" \; \\ escapes. Returns pool string or NULL. */
static char *
unquote(struct pctx *c, const char *kw, const char *v)
{
	size_t n = strlen(v), i, o = 0;
	char *out;

	if (n < 2 || v[0] != '"' || v[n - 1] != '"') {
		perr(c, kw, "value must be a quoted string");
		return NULL;
	}
	out = mt_pool_alloc(c->pool, n);
	if (out == NULL)
		return NULL;
	for (i = 1; i + 1 < n; i++) {
		if (v[i] == '\\' && i + 2 < n) {
			char e = v[i + 1];
			if (e == '"' || e == ';' || e == '\\' || e == ':') {
				out[o++] = e;
				i++;
				continue;
			}
			perr(c, kw, "invalid escape '\\%c' (only \\\" \\; \\\\ \\: are allowed)", e);
			return NULL;
		}
		if (v[i] == '"') {
			perr(c, kw, "unescaped '\"' inside the string");
			return NULL;
		}
		out[o++] = v[i];
	}
	out[o] = '\0';
	return out;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Decode a content string: "abc|41 42|" with \" \; \\ escapes. */
static int
decode_content(struct pctx *c, const char *kw, const char *v, uint8_t *out, uint32_t *olen,
	       bool *neg)
{
	size_t n, i;
	uint32_t o = 0;
	bool hex = false;
	int hi = -1;

	*neg = false;
	while (isspace((unsigned char)*v))
		v++;
	if (*v == '!') {
		*neg = true;
		v++;
		while (isspace((unsigned char)*v))
			v++;
	}
	n = strlen(v);
	if (n < 2 || v[0] != '"' || v[n - 1] != '"') {
		perr(c, kw, "pattern must be a quoted string");
		return -EINVAL;
	}
	for (i = 1; i + 1 < n; i++) {
		char ch = v[i];
		if (o >= MT_MAX_PAT) {
			perr(c, kw, "pattern longer than %u bytes", MT_MAX_PAT);
			return -EINVAL;
		}
		if (hex) {
			if (ch == '|') {
				if (hi >= 0) {
					perr(c, kw, "odd number of hex digits");
					return -EINVAL;
				}
				hex = false;
			} else if (isspace((unsigned char)ch)) {
				if (hi >= 0) {
					perr(c, kw, "hex byte split by a space");
					return -EINVAL;
				}
			} else if (hexval(ch) >= 0) {
				if (hi < 0) {
					hi = hexval(ch);
				} else {
					out[o++] = (uint8_t)(hi << 4 | hexval(ch));
					hi = -1;
				}
			} else {
				perr(c, kw, "invalid hex character '%c'", ch);
				return -EINVAL;
			}
			continue;
		}
		if (ch == '|') {
			hex = true;
			continue;
		}
		if (ch == '\\') {
			char e = i + 2 < n ? v[i + 1] : '\0';
			if (e == '"' || e == ';' || e == '\\' || e == ':') {
				out[o++] = (uint8_t)e;
				i++;
				continue;
			}
			perr(c, kw, "invalid escape in pattern (only \\\" \\; \\\\ \\: are allowed)");
			return -EINVAL;
		}
		if (ch == '"') {
			perr(c, kw, "unescaped '\"' inside the pattern");
			return -EINVAL;
		}
		out[o++] = (uint8_t)ch;
	}
	if (hex) {
		perr(c, kw, "unterminated hex section (missing '|')");
		return -EINVAL;
	}
	if (o == 0) {
		perr(c, kw, "empty pattern");
		return -EINVAL;
	}
	*olen = o;
	return 0;
}

/* ---------- buffers ---------- */

struct kwbuf {
	const char *kw;
	int kind;
};

static const struct kwbuf sticky_kws[] = {
	{"http.method", MT_B_METHOD}, {"http.uri", MT_B_URI}, {"http.uri.raw", MT_B_URI_RAW},
	{"http.host", MT_B_HOST}, {"http.host.raw", MT_B_HOST_RAW},
	{"http.header", MT_B_HEADER}, {"http.header.raw", MT_B_HEADER_RAW},
	{"http.header_names", MT_B_HEADER_NAMES}, {"http.user_agent", MT_B_UA},
	{"http.cookie", MT_B_COOKIE}, {"http.content_type", MT_B_CONTENT_TYPE},
	{"http.content_len", MT_B_CONTENT_LEN}, {"http.request_line", MT_B_REQUEST_LINE},
	{"http_request_line", MT_B_REQUEST_LINE}, {"http.stat_code", MT_B_STAT_CODE},
	{"http.stat_msg", MT_B_STAT_MSG}, {"http.response_line", MT_B_RESPONSE_LINE},
	{"http_response_line", MT_B_RESPONSE_LINE}, {"http.server", MT_B_SERVER},
	{"http.location", MT_B_LOCATION}, {"http.protocol", MT_B_PROTOCOL},
	{"http.start", MT_B_START},
	{"http.referer", MT_B_REFERER}, {"http.accept", MT_B_ACCEPT},
	{"http_accept", MT_B_ACCEPT}, {"http.accept_enc", MT_B_ACCEPT_ENC},
	{"http_accept_enc", MT_B_ACCEPT_ENC}, {"http.accept_lang", MT_B_ACCEPT_LANG},
	{"http_accept_lang", MT_B_ACCEPT_LANG}, {"http.connection", MT_B_CONNECTION},
	{"http_connection", MT_B_CONNECTION},
	{"http.request_body", MT_B_REQ_BODY}, {"http.response_body", MT_B_RESP_BODY},
	{"file_data", MT_B_FILE_DATA}, {"file.data", MT_B_FILE_DATA},
};

static const struct kwbuf modifier_kws[] = {
	{"http_method", MT_B_METHOD}, {"http_uri", MT_B_URI}, {"http_raw_uri", MT_B_URI_RAW},
	{"http_header", MT_B_HEADER}, {"http_raw_header", MT_B_HEADER_RAW},
	{"http_cookie", MT_B_COOKIE}, {"http_user_agent", MT_B_UA}, {"http_host", MT_B_HOST},
	{"http_raw_host", MT_B_HOST_RAW}, {"http_stat_code", MT_B_STAT_CODE},
	{"http_stat_msg", MT_B_STAT_MSG}, {"http_client_body", MT_B_REQ_BODY},
	{"http_server_body", MT_B_RESP_BODY}, {"http_referer", MT_B_REFERER},
};

/* body buffers that the engine cannot provide */
static const char *const body_kws[] = {
	"http.response_body.raw",
};

static int
lookup_kw(const struct kwbuf *t, size_t n, const char *kw)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].kw, kw) == 0)
			return t[i].kind;
	return -1;
}

static int
group_of(struct pctx *c, const char *kw, int kind)
{
	for (int i = 0; i < c->n_groups; i++)
		if (c->g[i].kind == kind)
			return i;
	if (c->n_groups == MT_MAX_GROUPS) {
		perr(c, kw, "too many buffers in one rule (max %d)", MT_MAX_GROUPS);
		return -1;
	}
	c->g[c->n_groups].kind = kind;
	c->g[c->n_groups].n = 0;
	return c->n_groups++;
}

static struct mt_item *
add_item(struct pctx *c, const char *kw, int gi)
{
	struct tgroup *g = &c->g[gi];
	struct mt_item *it;

	if (g->n == MT_MAX_ITEMS) {
		perr(c, kw, "too many keywords on one buffer (max %d)", MT_MAX_ITEMS);
		return NULL;
	}
	it = &g->items[g->n++];
	memset(it, 0, sizeof(*it));
	c->last_any_g = gi;
	if (c->sticky != -2)
		c->sticky_items++;
	return it;
}

/* The group that keyword-only matches (isdataat, bsize) attach to. */
static int
current_group(struct pctx *c, const char *kw)
{
	if (c->sticky != -2)
		return group_of(c, kw, c->sticky);
	if (c->last_any_g >= 0)
		return c->last_any_g;
	perr(c, kw, "needs a preceding sticky buffer or content");
	return -1;
}

static struct mt_item *
last_content(struct pctx *c, const char *kw)
{
	if (c->last_g < 0) {
		perr(c, kw, "needs a preceding content");
		return NULL;
	}
	return &c->g[c->last_g].items[c->last_i];
}

/* ---------- option handlers ---------- */

static void
kw_content(struct pctx *c, const char *kw, char *v)
{
	uint8_t tmp[MT_MAX_PAT];
	uint32_t len;
	bool neg;
	int gi;
	struct mt_item *it;
	uint8_t *pat;

	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	if (decode_content(c, kw, v, tmp, &len, &neg) < 0)
		return;
	gi = group_of(c, kw, c->sticky != -2 ? c->sticky : MT_KIND_PAYLOAD);
	if (gi < 0 || (it = add_item(c, kw, gi)) == NULL)
		return;
	pat = mt_pool_alloc(c->pool, len);
	if (pat == NULL)
		return;
	memcpy(pat, tmp, len);
	it->type = MT_IT_CONTENT;
	it->pat = pat;
	it->len = len;
	if (neg)
		it->flags |= MT_F_NEGATED;
	c->last_g = gi;
	c->last_i = c->g[gi].n - 1;
}

static void
move_last(struct pctx *c, const char *kw, int kind)
{
	struct tgroup *from;
	struct mt_item it;
	struct mt_item *dst;
	int gi;

	if (c->last_g < 0) {
		perr(c, kw, "needs a preceding content");
		return;
	}
	from = &c->g[c->last_g];
	if (from->kind != MT_KIND_PAYLOAD) {
		perr(c, kw, "content is already in buffer %s",
		     from->kind >= 0 ? mt_buf_name((unsigned)from->kind) : "?");
		return;
	}
	if (c->last_i != from->n - 1) {
		perr(c, kw, "must follow its content directly");
		return;
	}
	it = from->items[--from->n];
	gi = group_of(c, kw, kind);
	if (gi < 0 || (dst = add_item(c, kw, gi)) == NULL)
		return;
	*dst = it;
	c->last_g = gi;
	c->last_i = c->g[gi].n - 1;
}

static void
kw_nocase(struct pctx *c, const char *kw, char *v)
{
	struct mt_item *it = last_content(c, kw);

	(void)v;
	if (it == NULL)
		return;
	if (it->flags & MT_F_NOCASE)
		perr(c, kw, "given twice for one content");
	it->flags |= MT_F_NOCASE;
}

static int
num_arg(struct pctx *c, const char *kw, const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	if (v == NULL) {
		perr(c, kw, "needs a number");
		return -EINVAL;
	}
	if (parse_i64(v, lo, hi, out) < 0) {
		if (v[0] != '\0' && (isalpha((unsigned char)v[0]) || v[0] == '_'))
			perr(c, kw, "'%s': variables need byte_extract, which is not supported", v);
		else
			perr(c, kw, "'%s' is not a number in %lld..%lld", v, (long long)lo,
			     (long long)hi);
		return -EINVAL;
	}
	return 0;
}

static void
kw_position(struct pctx *c, const char *kw, char *v)
{
	struct mt_item *it = last_content(c, kw);
	int64_t n;
	uint16_t f;
	bool rel;

	if (it == NULL)
		return;
	rel = kw[0] == 'd' && kw[1] == 'i'; /* distance */
	rel = rel || kw[0] == 'w';           /* within */
	if (num_arg(c, kw, v, strcmp(kw, "distance") == 0 ? -65535 : 0, 65535, &n) < 0)
		return;
	f = strcmp(kw, "offset") == 0 ? MT_F_OFFSET : strcmp(kw, "depth") == 0 ? MT_F_DEPTH
		: strcmp(kw, "distance") == 0 ? MT_F_DISTANCE : MT_F_WITHIN;
	if (it->flags & f) {
		perr(c, kw, "given twice for one content");
		return;
	}
	if (it->flags & MT_F_STARTSWITH) {
		perr(c, kw, "cannot be combined with startswith");
		return;
	}
	if (rel && (it->flags & (MT_F_OFFSET | MT_F_DEPTH))) {
		perr(c, kw, "cannot mix relative (distance/within) and absolute (offset/depth) "
		     "positions on one content");
		return;
	}
	if (!rel && (it->flags & (MT_F_DISTANCE | MT_F_WITHIN))) {
		perr(c, kw, "cannot mix absolute (offset/depth) and relative (distance/within) "
		     "positions on one content");
		return;
	}
	if (f == MT_F_DEPTH && (n == 0 || n < it->len)) {
		perr(c, kw, "depth %lld is smaller than the content length %u", (long long)n,
		     it->len);
		return;
	}
	if (f == MT_F_WITHIN && (n == 0 || n < it->len)) {
		perr(c, kw, "within %lld is smaller than the content length %u", (long long)n,
		     it->len);
		return;
	}
	it->flags |= f;
	if (f == MT_F_OFFSET)
		it->offset = (int32_t)n;
	else if (f == MT_F_DEPTH)
		it->depth = (int32_t)n;
	else if (f == MT_F_DISTANCE)
		it->distance = (int32_t)n;
	else
		it->within = (int32_t)n;
}

static void
kw_startsends(struct pctx *c, const char *kw, char *v)
{
	struct mt_item *it = last_content(c, kw);

	if (it == NULL)
		return;
	if (v != NULL) {
		perr(c, kw, "takes no value");
		return;
	}
	if (kw[0] == 's') {
		if (it->flags & (MT_F_OFFSET | MT_F_DEPTH | MT_F_DISTANCE | MT_F_WITHIN)) {
			perr(c, kw, "cannot be combined with offset/depth/distance/within");
			return;
		}
		it->flags |= MT_F_STARTSWITH;
	} else {
		it->flags |= MT_F_ENDSWITH;
	}
}

static void
kw_fast_pattern(struct pctx *c, const char *kw, char *v)
{
	struct mt_item *it = last_content(c, kw);

	if (it == NULL)
		return;
	if (c->have_fp) {
		perr(c, kw, "only one fast_pattern per rule");
		return;
	}
	if (it->flags & MT_F_NEGATED) {
		perr(c, kw, "a negated content cannot be the fast pattern");
		return;
	}
	c->have_fp = true;
	it->flags |= MT_F_FAST_PATTERN;
	if (v == NULL)
		return;
	if (strcmp(v, "only") == 0) {
		it->flags |= MT_F_FP_ONLY;
		return;
	}
	{
		char *comma = strchr(v, ',');
		int64_t off, len;
		if (comma == NULL) {
			perr(c, kw, "value must be 'only' or 'offset,length'");
			return;
		}
		*comma = '\0';
		if (parse_i64(mt_trim(v), 0, 65535, &off) < 0 ||
		    parse_i64(mt_trim(comma + 1), 1, 65535, &len) < 0 ||
		    off + len > it->len) {
			perr(c, kw, "offset,length must lie within the content (length %u)", it->len);
			return;
		}
		it->flags |= MT_F_FP_CHOP;
		it->fp_off = (uint16_t)off;
		it->fp_len = (uint16_t)len;
	}
}

static void
kw_isdataat(struct pctx *c, const char *kw, char *v)
{
	char *comma, *num;
	bool neg = false, rel = false;
	int64_t n;
	int gi;
	struct mt_item *it;

	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	comma = strchr(v, ',');
	if (comma != NULL) {
		*comma = '\0';
		if (strcmp(mt_trim(comma + 1), "relative") != 0) {
			perr(c, kw, "only the 'relative' option is supported (rawbytes has no "
			     "meaning for HTTP buffers)");
			return;
		}
		rel = true;
	}
	num = mt_trim(v);
	if (*num == '!') {
		neg = true;
		num = mt_trim(num + 1);
	}
	if (num_arg(c, kw, num, 0, 65535, &n) < 0)
		return;
	gi = current_group(c, kw);
	if (gi < 0 || (it = add_item(c, kw, gi)) == NULL)
		return;
	it->type = MT_IT_ISDATAAT;
	it->num = (uint32_t)n;
	it->flags = (uint16_t)((neg ? MT_F_NEGATED : 0) | (rel ? MT_F_RELATIVE : 0));
}

/* "N", "<N", ">N" or "N<>M" (exclusive), as bsize and urilen take them. */
static int
size_op(struct pctx *c, const char *kw, char *s, uint8_t *op, int64_t *a, int64_t *b)
{
	char *v;

	*b = 0;
	if ((v = strstr(s, "<>")) != NULL) {
		*v = '\0';
		if (parse_i64(mt_trim(s), 0, UINT32_MAX, a) < 0 ||
		    parse_i64(mt_trim(v + 2), 0, UINT32_MAX, b) < 0 || *a >= *b) {
			perr(c, kw, "range must be 'min<>max' with min < max");
			return -1;
		}
		*op = MT_BS_RANGE;
	} else if (*s == '<' || *s == '>') {
		*op = *s == '<' ? MT_BS_LT : MT_BS_GT;
		if (parse_i64(mt_trim(s + 1), 0, UINT32_MAX, a) < 0) {
			perr(c, kw, "'%s' is not a size", s);
			return -1;
		}
	} else {
		*op = MT_BS_EQ;
		if (parse_i64(s, 0, UINT32_MAX, a) < 0) {
			perr(c, kw, "'%s' is not a size", s);
			return -1;
		}
	}
	return 0;
}

/* A size check (bsize, urilen) from value @p s on group @p gi, or on the
 * current group when @p gi is -1. */
static struct mt_item *
size_item(struct pctx *c, const char *kw, char *s, int gi)
{
	int64_t a, b;
	struct mt_item *it;
	uint8_t op;

	if (size_op(c, kw, s, &op, &a, &b) < 0)
		return NULL;
	if (gi == -1)
		gi = current_group(c, kw);
	if (gi < 0 || (it = add_item(c, kw, gi)) == NULL)
		return NULL;
	it->type = MT_IT_BSIZE;
	it->bs_op = op;
	it->num = (uint32_t)a;
	it->num2 = (uint32_t)b;
	return it;
}

/* urilen: the length of the normalised URI (",raw": the raw one), a size
 * check on that buffer that leaves the rule's current buffer as it was. */
static void
kw_urilen(struct pctx *c, const char *kw, char *v)
{
	char *s, *comma;
	int last_any = c->last_any_g, sticky_items = c->sticky_items;
	bool raw = false;

	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	s = mt_trim(v);
	if ((comma = strchr(s, ',')) != NULL) {
		char *o = mt_trim(comma + 1);

		*comma = '\0';
		s = mt_trim(s);
		if (strcmp(o, "raw") == 0)
			raw = true;
		else if (strcmp(o, "norm") != 0) {
			perr(c, kw, "option '%s' is neither 'norm' nor 'raw'", o);
			return;
		}
	}
	if (size_item(c, kw, s, group_of(c, kw, raw ? MT_B_URI_RAW : MT_B_URI)) != NULL) {
		c->last_any_g = last_any;
		c->sticky_items = sticky_items;
	}
}

#define MT_FB_PER_RULE 8

/* flowbits: noalert, or OP,NAME with OP set, unset, toggle, isset,
 * isnotset; isset takes NAME|NAME|... (any of them). */
static void
kw_flowbits(struct pctx *c, const char *kw, char *v)
{
	static const char *const ops[] = {"set", "unset", "toggle", "isset", "isnotset"};
	struct mt_rule *r = c->r;
	struct mt_fb *fb;
	char *s, *comma, *name, *save = NULL;
	int op = -1;

	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	s = mt_trim(v);
	if (strcmp(s, "noalert") == 0) {
		r->noalert = 1;
		return;
	}
	if ((comma = strchr(s, ',')) == NULL) {
		perr(c, kw, "'%s': expected noalert or set|unset|toggle|isset|isnotset,name", s);
		return;
	}
	*comma = '\0';
	for (int i = 0; i < 5; i++)
		if (strcmp(mt_trim(s), ops[i]) == 0)
			op = i;
	if (op < 0) {
		perr(c, kw, "'%s' is not supported (set, unset, toggle, isset, isnotset, noalert)",
		     mt_trim(s));
		return;
	}
	if (r->fb == NULL)
		r->fb = mt_pool_alloc(c->pool, sizeof(*r->fb) * MT_FB_PER_RULE);
	if (r->fb == NULL)
		return;
	if (r->n_fb == MT_FB_PER_RULE) {
		perr(c, kw, "more than %d flowbits keywords in one rule", MT_FB_PER_RULE);
		return;
	}
	fb = &r->fb[r->n_fb];
	memset(fb, 0, sizeof(*fb));
	fb->op = (uint8_t)op;
	s = mt_trim(comma + 1);
	if (strchr(s, '&') != NULL || (op != MT_FB_ISSET && strchr(s, '|') != NULL)) {
		perr(c, kw, "'%s': only isset takes several names (a|b, any of them)", s);
		return;
	}
	for (name = strtok_r(s, "|", &save); name != NULL; name = strtok_r(NULL, "|", &save)) {
		name = mt_trim(name);
		for (const char *q = name; *q; q++)
			if (!isalnum((unsigned char)*q) && *q != '_' && *q != '.' && *q != '-') {
				perr(c, kw, "'%s' is not a flowbit name", name);
				return;
			}
		if (*name == '\0' || fb->n == MT_FB_NAMES) {
			perr(c, kw, "expected one to %d names", MT_FB_NAMES);
			return;
		}
		fb->names[fb->n++] = mt_pool_strndup(c->pool, name, strlen(name));
	}
	if (fb->n == 0) {
		perr(c, kw, "missing name");
		return;
	}
	if (op <= MT_FB_TOGGLE)
		r->fb_sets = 1;
	r->n_fb++;
}

static void
kw_bsize(struct pctx *c, const char *kw, char *v)
{
	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	size_item(c, kw, mt_trim(v), -1);
}

/* Is string @p a of factor @p f redundant: does it hold another string of
 * the set (which then occurs wherever it does)? */
static bool
holds_other(const struct mt_relit *f, uint16_t a)
{
	for (uint16_t b = 0; b < f->n; b++)
		if (b != a && f->len[b] <= f->len[a] &&
		    (f->len[b] < f->len[a] || b < a) &&
		    mt_relit_bytes_in(f->s[b], f->len[b], f->caseless, f->s[a], f->len[a]))
			return true;
	return false;
}

/* The lines a pcre's matches can lie on (struct mt_item win_*): for an
 * expression whose every match is on one line (mt_relit_line_local), the
 * first factor of at most MT_WIN_STRINGS LF-free strings (redundant ones
 * dropped). Leaves win_n 0 when there is none. */
static void
pcre_window(struct pctx *c, struct mt_item *it)
{
	struct mt_relit *f;
	int nf;

	if ((it->hs_flags & (HS_FLAG_UTF8 | HS_FLAG_UCP)) ||
	    !mt_relit_line_local(it->re, (it->hs_flags & HS_FLAG_DOTALL) != 0))
		return;
	f = malloc(sizeof(*f) * 4);
	if (f == NULL)
		return;
	nf = mt_relit_factors(it->re, (it->hs_flags & HS_FLAG_CASELESS) != 0,
			      MT_RELIT_CLASS_HEAD, f, 4);
	for (int k = 0; k < nf && it->win_n == 0; k++) {
		const uint8_t *keep[MT_WIN_STRINGS];
		uint8_t klen[MT_WIN_STRINGS];
		unsigned n = 0;
		bool ok = true;

		for (uint16_t a = 0; a < f[k].n && ok; a++) {
			if (holds_other(&f[k], a))
				continue;
			if (n == MT_WIN_STRINGS || f[k].len[a] < 2 ||
			    memchr(f[k].s[a], '\n', f[k].len[a]) != NULL) {
				ok = false;
				break;
			}
			keep[n] = f[k].s[a];
			klen[n++] = f[k].len[a];
		}
		if (ok && n > 0) {
			uint8_t *lens = mt_pool_alloc(c->pool, n);
			const uint8_t **ss = mt_pool_alloc(c->pool, sizeof(*ss) * n);

			if (lens == NULL || ss == NULL)
				break;
			for (unsigned a = 0; a < n; a++) {
				uint8_t *cp = mt_pool_alloc(c->pool, klen[a]);

				if (cp == NULL)
					goto out;
				memcpy(cp, keep[a], klen[a]);
				ss[a] = cp;
				lens[a] = klen[a];
			}
			it->win_s = ss;
			it->win_len = lens;
			it->win_ci = f[k].caseless;
			it->win_n = (uint8_t)n;
		}
	}
out:
	free(f);
}

static void
kw_pcre(struct pctx *c, const char *kw, char *v)
{
	const char *s;
	char *body, *re, *last;
	bool neg = false, rel = false;
	int kind = -2, gi;
	unsigned fl = 0;
	bool anchored = false, extended = false;
	struct mt_item *it;
	size_t n;

	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	s = mt_trim(v);
	if (*s == '!') {
		neg = true;
		s = mt_trim((char *)s + 1);
	}
	n = strlen(s);
	if (n < 4 || s[0] != '"' || s[n - 1] != '"' || s[1] != '/') {
		perr(c, kw, "value must be \"/regex/flags\"");
		return;
	}
	body = mt_pool_strndup(c->pool, s + 2, n - 3);
	if (body == NULL)
		return;
	last = strrchr(body, '/');
	if (last == NULL) {
		perr(c, kw, "missing closing '/'");
		return;
	}
	*last = '\0';
	for (const char *f = last + 1; *f; f++) {
		int k = -2;
		switch (*f) {
		case 'i': fl |= HS_FLAG_CASELESS; break;
		case 'm': fl |= HS_FLAG_MULTILINE; break;
		case 's': fl |= HS_FLAG_DOTALL; break;
		case 'x': extended = true; break;
		case 'A': anchored = true; break;
		case 'G': /* ungreedy changes match extents only; no relative use follows */
		case 'O': /* match-limit override: Hyperscan has no backtracking limit */
			break;
		case 'R': rel = true; break;
		case 'U': k = MT_B_URI; break;
		case 'I': k = MT_B_URI_RAW; break;
		case 'H': k = MT_B_HEADER; break;
		case 'D': k = MT_B_HEADER_RAW; break;
		case 'M': k = MT_B_METHOD; break;
		case 'C': k = MT_B_COOKIE; break;
		case 'S': k = MT_B_STAT_CODE; break;
		case 'Y': k = MT_B_STAT_MSG; break;
		case 'V': k = MT_B_UA; break;
		case 'W': k = MT_B_HOST; break;
		case 'Z': k = MT_B_HOST_RAW; break;
		case 'P': k = MT_B_REQ_BODY; break;
		case 'Q': k = MT_B_RESP_BODY; break;
		case 'E':
			perr(c, kw, "flag 'E' (dollar end-only) is not supported by Hyperscan");
			return;
		case 'B':
			perr(c, kw, "flag 'B' (rawbytes) has no meaning for HTTP buffers");
			return;
		default:
			perr(c, kw, "unknown or unsupported flag '%c'", *f);
			return;
		}
		if (k != -2) {
			if (kind != -2 && kind != k) {
				perr(c, kw, "more than one buffer flag");
				return;
			}
			kind = k;
		}
	}
	if (kind != -2 && c->sticky != -2) {
		perr(c, kw, "buffer flag conflicts with sticky buffer %s", c->sticky_kw);
		return;
	}
	if (kind == -2) {
		if (c->sticky != -2)
			kind = c->sticky;
		else if (rel && c->last_any_g >= 0)
			kind = c->g[c->last_any_g].kind;
		else {
			perr(c, kw, "not in an HTTP buffer (use a sticky buffer or a buffer flag; "
			     "raw stream inspection is not supported)");
			return;
		}
	}
	n = strlen(body) + 16;
	re = mt_pool_alloc(c->pool, n);
	if (re == NULL)
		return;
	snprintf(re, n, "%s%s%s%s", extended ? "(?x)" : "", anchored ? "\\A(?:" : "", body,
		 anchored ? ")" : "");
	gi = group_of(c, kw, kind);
	if (gi < 0 || (it = add_item(c, kw, gi)) == NULL)
		return;
	it->type = MT_IT_PCRE;
	it->re = re;
	it->hs_flags = fl;
	it->flags = (uint16_t)((neg ? MT_F_NEGATED : 0) | (rel ? MT_F_RELATIVE : 0));
	pcre_window(c, it);
}

static void
kw_msg(struct pctx *c, const char *kw, char *v)
{
	char *s;

	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	if ((s = unquote(c, kw, v)) != NULL)
		c->r->info.msg = s;
}

static void
kw_u32(struct pctx *c, const char *kw, char *v)
{
	int64_t n;

	if (num_arg(c, kw, v, strcmp(kw, "rev") == 0 ? 0 : 1, UINT32_MAX, &n) < 0)
		return;
	if (strcmp(kw, "sid") == 0) {
		c->r->info.sid = (uint32_t)n;
		c->have_sid = true;
	} else if (strcmp(kw, "gid") == 0) {
		c->r->info.gid = (uint32_t)n;
	} else {
		c->r->info.rev = (uint32_t)n;
	}
}

static void
kw_priority(struct pctx *c, const char *kw, char *v)
{
	int64_t n;

	if (num_arg(c, kw, v, 1, 255, &n) < 0)
		return;
	c->r->info.priority = (uint16_t)n;
	c->have_prio = true;
}

static void
kw_classtype(struct pctx *c, const char *kw, char *v)
{
	const struct mt_class *cl;

	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	cl = mt_classes_find(c->cls, v);
	if (cl == NULL) {
		perr(c, kw, "unknown classtype '%s'", v);
		return;
	}
	c->classtype = cl->name;
	c->r->info.classtype = cl->name;
	c->r->info.category = cl->desc;
	if (!c->have_prio)
		c->r->info.priority = cl->prio;
}

static void
kw_reference(struct pctx *c, const char *kw, char *v)
{
	if (v == NULL || strchr(v, ',') == NULL) {
		perr(c, kw, "value must be 'type,id'");
		return;
	}
	if (c->n_refs == MT_MAX_META) {
		perr(c, kw, "too many references");
		return;
	}
	c->refs[c->n_refs++] = mt_pool_strndup(c->pool, v, strlen(v));
}

static bool
owasp_syntax_ok(const char *v)
{
	/* APIn:2023 with n in 1..10 */
	if (strncmp(v, "API", 3) != 0)
		return false;
	v += 3;
	if (v[0] == '1' && v[1] == '0')
		v += 2;
	else if (v[0] >= '1' && v[0] <= '9')
		v += 1;
	else
		return false;
	return strcmp(v, ":2023") == 0;
}

static void
kw_metadata(struct pctx *c, const char *kw, char *v)
{
	char *save = NULL, *tok;

	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	for (tok = strtok_r(v, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *key = mt_trim(tok), *val = key;
		const char *pv;

		while (*val && !isspace((unsigned char)*val))
			val++;
		if (*val)
			*val++ = '\0';
		val = mt_trim(val);
		if (*key == '\0' || *val == '\0') {
			perr(c, kw, "entry '%s' must be 'key value'", key);
			continue;
		}
		if (c->n_meta == MT_MAX_META) {
			perr(c, kw, "too many metadata entries (max %d)", MT_MAX_META);
			return;
		}
		pv = mt_pool_strndup(c->pool, val, strlen(val));
		c->meta[c->n_meta].key = mt_pool_strndup(c->pool, key, strlen(key));
		c->meta[c->n_meta++].value = pv;
		if (strcmp(key, "mitre_technique_id") == 0) {
			const struct mt_attack_technique *t = mt_attack_technique_find(val);
			if (t == NULL)
				perr(c, kw, "mitre_technique_id %s is not an ATT&CK v18.1 technique", val);
			else if (t->status == MT_ATTACK_DEPRECATED)
				perr(c, kw, "mitre_technique_id %s (%s) is deprecated in ATT&CK v18.1",
				     val, t->name);
			else if (t->status == MT_ATTACK_REVOKED)
				perr(c, kw, "mitre_technique_id %s (%s) is revoked in ATT&CK v18.1",
				     val, t->name);
			else
				c->tech[c->n_tech++] = pv;
		} else if (strcmp(key, "mitre_tactic_id") == 0) {
			if (strncmp(val, "TA", 2) != 0 || mt_attack_tactic_find(val) == NULL)
				perr(c, kw, "mitre_tactic_id %s is not an ATT&CK v18.1 tactic id", val);
			else
				c->tac[c->n_tac++] = pv;
		} else if (strcmp(key, "owasp_api") == 0) {
			if (!owasp_syntax_ok(val) || mt_owasp_find(val) == NULL)
				perr(c, kw, "owasp_api %s is not an OWASP API Top 10 2023 id "
				     "(API1:2023 .. API10:2023)", val);
			else
				c->owasp[c->n_owasp++] = pv;
		}
	}
}

static void
kw_flow(struct pctx *c, const char *kw, char *v)
{
	char *save = NULL, *tok;
	uint8_t f = 0;

	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	for (tok = strtok_r(v, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		tok = mt_trim(tok);
		if (strcmp(tok, "established") == 0)
			f |= MT_FLOW_ESTABLISHED;
		else if (strcmp(tok, "to_server") == 0 || strcmp(tok, "from_client") == 0)
			f |= MT_FLOW_TO_SERVER;
		else if (strcmp(tok, "to_client") == 0 || strcmp(tok, "from_server") == 0)
			f |= MT_FLOW_TO_CLIENT;
		else if (strcmp(tok, "not_established") == 0 || strcmp(tok, "stateless") == 0)
			perr(c, kw, "'%s': the engine only sees HTTP transactions of established "
			     "connections", tok);
		else if (strstr(tok, "stream") != NULL || strstr(tok, "frag") != NULL)
			perr(c, kw, "'%s': stream/fragment selection has no meaning for HTTP "
			     "transactions", tok);
		else
			perr(c, kw, "unknown flow option '%s'", tok);
	}
	if ((f & MT_FLOW_TO_SERVER) && (f & MT_FLOW_TO_CLIENT))
		perr(c, kw, "to_server and to_client are mutually exclusive");
	c->r->flow |= f;
}

static void
kw_threshold(struct pctx *c, const char *kw, char *v)
{
	bool df = strcmp(kw, "detection_filter") == 0;
	struct mt_threshold t = {.type = df ? MT_THR_DETECTION_FILTER : MT_THR_NONE,
				 .track = 0xff};
	bool have_count = false, have_secs = false;
	char *save = NULL, *tok;

	if (v == NULL) {
		perr(c, kw, "needs a value");
		return;
	}
	for (tok = strtok_r(v, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *key = mt_trim(tok), *val = key;
		int64_t n;

		while (*val && !isspace((unsigned char)*val))
			val++;
		if (*val)
			*val++ = '\0';
		val = mt_trim(val);
		if (strcmp(key, "type") == 0 && !df) {
			t.type = strcmp(val, "limit") == 0 ? MT_THR_LIMIT
				: strcmp(val, "threshold") == 0 ? MT_THR_THRESHOLD
				: strcmp(val, "both") == 0 ? MT_THR_BOTH : MT_THR_NONE;
			if (t.type == MT_THR_NONE) {
				perr(c, kw, "type '%s' must be limit, threshold or both", val);
				return;
			}
		} else if (strcmp(key, "track") == 0) {
			t.track = strcmp(val, "by_src") == 0 ? MT_TRACK_BY_SRC
				: strcmp(val, "by_dst") == 0 ? MT_TRACK_BY_DST
				: strcmp(val, "by_rule") == 0 ? MT_TRACK_BY_RULE
				: strcmp(val, "by_both") == 0 ? MT_TRACK_BY_BOTH : 0xff;
			if (t.track == 0xff) {
				perr(c, kw, "track '%s' must be by_src, by_dst, by_rule or by_both", val);
				return;
			}
		} else if (strcmp(key, "count") == 0 || strcmp(key, "seconds") == 0) {
			if (parse_i64(val, 1, UINT32_MAX, &n) < 0) {
				perr(c, kw, "%s '%s' must be a number in 1..%u", key, val, UINT32_MAX);
				return;
			}
			if (key[0] == 'c') {
				t.count = (uint32_t)n;
				have_count = true;
			} else {
				t.seconds = (uint32_t)n;
				have_secs = true;
			}
		} else {
			perr(c, kw, "unknown option '%s'", key);
			return;
		}
	}
	if (t.type == MT_THR_NONE || t.track == 0xff || !have_count || !have_secs) {
		perr(c, kw, "%s needs %strack, count and seconds", kw, df ? "" : "type, ");
		return;
	}
	if (df)
		c->r->detection_filter = t;
	else
		c->r->threshold = t;
}

static void
kw_sticky(struct pctx *c, const char *kw, int kind, char *v)
{
	if (v != NULL) {
		perr(c, kw, "takes no value");
		return;
	}
	if (c->sticky != -2 && c->sticky_items == 0)
		perr(c, c->sticky_kw, "sticky buffer is followed by no match keyword");
	c->sticky = kind;
	c->sticky_kw = kw;
	c->sticky_items = 0;
}

struct opt {
	const char *kw;
	void (*fn)(struct pctx *c, const char *kw, char *v);
};

static const struct opt opts[] = {
	{"msg", kw_msg}, {"sid", kw_u32}, {"rev", kw_u32}, {"gid", kw_u32},
	{"classtype", kw_classtype}, {"priority", kw_priority}, {"reference", kw_reference},
	{"metadata", kw_metadata}, {"flow", kw_flow}, {"content", kw_content},
	{"uricontent", kw_content}, {"nocase", kw_nocase}, {"depth", kw_position},
	{"offset", kw_position}, {"distance", kw_position}, {"within", kw_position},
	{"startswith", kw_startsends}, {"endswith", kw_startsends},
	{"fast_pattern", kw_fast_pattern}, {"isdataat", kw_isdataat}, {"bsize", kw_bsize},
	{"urilen", kw_urilen}, {"flowbits", kw_flowbits},
	{"pcre", kw_pcre}, {"threshold", kw_threshold}, {"detection_filter", kw_threshold},
};

static void
do_option(struct pctx *c, char *name, char *val)
{
	int kind;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (strcmp(opts[i].kw, name) == 0) {
			opts[i].fn(c, opts[i].kw, val);
			if (strcmp(name, "uricontent") == 0 && c->last_g >= 0 &&
			    c->g[c->last_g].kind == MT_KIND_PAYLOAD)
				move_last(c, name, MT_B_URI);
			return;
		}
	}
	if ((kind = lookup_kw(sticky_kws, sizeof(sticky_kws) / sizeof(sticky_kws[0]), name)) >= 0) {
		kw_sticky(c, name, kind, val);
		return;
	}
	if ((kind = lookup_kw(modifier_kws, sizeof(modifier_kws) / sizeof(modifier_kws[0]),
			      name)) >= 0) {
		if (val != NULL)
			perr(c, name, "takes no value");
		else if (c->sticky != -2)
			perr(c, name, "content modifier cannot be used after sticky buffer %s",
			     c->sticky_kw);
		else
			move_last(c, name, kind);
		return;
	}
	for (size_t i = 0; i < sizeof(body_kws) / sizeof(body_kws[0]); i++) {
		if (strcmp(body_kws[i], name) == 0) {
			perr(c, name, "the raw (still encoded) body is not kept; use "
			     "http.response_body, which is de-chunked and decompressed");
			return;
		}
	}
	perr(c, name, "unknown or unsupported keyword");
}

/* ---------- header ---------- */

/* Next whitespace-separated token; brackets may contain spaces. */
static char *
next_tok(char **sp)
{
	char *s = *sp, *start;
	int depth = 0;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return NULL;
	start = s;
	while (*s && (depth > 0 || !isspace((unsigned char)*s))) {
		if (*s == '[')
			depth++;
		else if (*s == ']')
			depth--;
		s++;
	}
	if (*s)
		*s++ = '\0';
	*sp = s;
	return start;
}

static int
parse_header(struct pctx *c, char *h)
{
	char *tok[7];
	char why[200];
	struct mt_rule *r = c->r;
	int i;

	for (i = 0; i < 7; i++) {
		tok[i] = next_tok(&h);
		if (tok[i] == NULL) {
			perr(c, "header", "rule header needs 'action proto src sport dir dst dport'");
			return -EINVAL;
		}
	}
	if (next_tok(&h) != NULL) {
		perr(c, "header", "extra text in the rule header before '('");
		return -EINVAL;
	}
	if (strcmp(tok[0], "alert") == 0)
		r->info.action = MT_ACT_ALERT;
	else if (strcmp(tok[0], "drop") == 0)
		r->info.action = MT_ACT_DROP;
	else if (strcmp(tok[0], "pass") == 0)
		r->info.action = MT_ACT_PASS;
	else if (strncmp(tok[0], "reject", 6) == 0 &&
		 (tok[0][6] == '\0' || strcmp(tok[0] + 6, "src") == 0 ||
		  strcmp(tok[0] + 6, "dst") == 0 || strcmp(tok[0] + 6, "both") == 0))
		r->info.action = MT_ACT_REJECT;
	else
		perr(c, "action", "unknown action '%s' (alert, drop, reject, pass)", tok[0]);
	if (strcmp(tok[1], "http") != 0 && strcmp(tok[1], "http1") != 0 &&
	    strcmp(tok[1], "tcp") != 0)
		perr(c, "protocol", "protocol '%s' is not supported (http, http1, tcp)", tok[1]);
	if (mt_addr_parse(c->pool, c->p, tok[2], &r->src, why, sizeof(why)) < 0)
		perr(c, "source address", "%s", why);
	if (mt_port_parse(c->pool, c->p, tok[3], &r->sp, why, sizeof(why)) < 0)
		perr(c, "source port", "%s", why);
	if (strcmp(tok[4], "->") == 0)
		r->bidir = 0;
	else if (strcmp(tok[4], "<>") == 0)
		r->bidir = 1;
	else
		perr(c, "direction", "direction '%s' must be -> or <>", tok[4]);
	if (mt_addr_parse(c->pool, c->p, tok[5], &r->dst, why, sizeof(why)) < 0)
		perr(c, "destination address", "%s", why);
	if (mt_port_parse(c->pool, c->p, tok[6], &r->dp, why, sizeof(why)) < 0)
		perr(c, "destination port", "%s", why);
	return 0;
}

/* Split "(a; b:c; ...)" into options, honouring quotes and escapes. */
static void
parse_options(struct pctx *c, char *s)
{
	while (*s) {
		char *start, *name, *val = NULL, *colon;
		bool inq = false;

		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		start = s;
		while (*s && (inq || *s != ';')) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				inq = !inq;
			s++;
		}
		if (*s != ';') {
			perr(c, "options", "option '%.40s' is not terminated by ';'", mt_trim(start));
			return;
		}
		*s++ = '\0';
		colon = strchr(start, ':');
		if (colon != NULL) {
			*colon = '\0';
			val = mt_trim(colon + 1);
		}
		name = mt_trim(start);
		if (*name == '\0') {
			perr(c, "options", "empty option");
			continue;
		}
		do_option(c, name, val);
	}
}

/* ---------- finishing ---------- */

static const char **
pool_strv(struct pctx *c, const char *const *v, int n)
{
	const char **o;

	if (n == 0)
		return NULL;
	o = mt_pool_alloc(c->pool, sizeof(*o) * (size_t)n);
	if (o != NULL)
		memcpy(o, v, sizeof(*o) * (size_t)n);
	return o;
}

/* The response-side copy of rule @p r (struct mt_rule twin): the same
 * keywords over the response's buffers, its source address the server's. */
static struct mt_rule *
rule_twin(struct pctx *c, const struct mt_rule *r)
{
	struct mt_rule *t = mt_pool_alloc(c->pool, sizeof(*t));
	struct mt_group *g = mt_pool_alloc(c->pool, sizeof(*g) * r->n_groups);

	if (t == NULL || g == NULL)
		return NULL;
	*t = *r;
	t->twin = (struct mt_rule *)r; /* a twin's twin is the rule it copies */
	t->is_twin = 1;
	t->eval_side = 1;
	t->src_is_server = 1;
	t->groups = g;
	for (uint16_t i = 0; i < r->n_groups; i++) {
		g[i] = r->groups[i];
		g[i].buf = MT_BUFID(MT_BUFID_KIND(r->groups[i].buf), 1);
		g[i].items = mt_pool_alloc(c->pool, sizeof(struct mt_item) * g[i].n);
		if (g[i].items == NULL)
			return NULL;
		memcpy(g[i].items, r->groups[i].items, sizeof(struct mt_item) * g[i].n);
	}
	if (t->body_dir >= 0)
		t->body_dir = 1;
	return t;
}

static void
finish(struct pctx *c)
{
	struct mt_rule *r = c->r;
	bool req_only = false, resp_only = false;
	const char *req_kw = NULL, *resp_kw = NULL;
	int side;
	int best_g = -1, best_i = -1;
	uint32_t best_len = 0;

	if (c->sticky != -2 && c->sticky_items == 0)
		perr(c, c->sticky_kw, "sticky buffer is followed by no match keyword");
	if (!c->have_sid)
		perr(c, "sid", "missing sid");
	for (int gi = 0; gi < c->n_groups; gi++) {
		struct tgroup *g = &c->g[gi];
		bool after_pcre = false;

		if (g->kind == MT_KIND_PAYLOAD) {
			if (g->n > 0)
				perr(c, "content", "content is not in an HTTP buffer (add a sticky "
				     "buffer such as http.uri; raw stream inspection is not supported)");
			continue;
		}
		if (mt_buf_sides((unsigned)g->kind) == MT_SIDE_REQ) {
			req_only = true;
			req_kw = mt_buf_name((unsigned)g->kind);
		} else if (mt_buf_sides((unsigned)g->kind) == MT_SIDE_RESP) {
			resp_only = true;
			resp_kw = mt_buf_name((unsigned)g->kind);
		}
		for (int i = 0; i < g->n; i++) {
			struct mt_item *it = &g->items[i];

			if (after_pcre && mt_item_relative(it)) {
				perr(c, it->type == MT_IT_CONTENT ? "content" : it->type == MT_IT_PCRE
				     ? "pcre" : "isdataat", "a position relative to a preceding pcre "
				     "match cannot be reproduced exactly with Hyperscan");
			}
			if (it->type == MT_IT_PCRE && !(it->flags & MT_F_NEGATED))
				after_pcre = true;
			if (it->type == MT_IT_CONTENT && !(it->flags & MT_F_NEGATED))
				after_pcre = false;
			if (it->type == MT_IT_CONTENT && (it->flags & MT_F_FP_ONLY) &&
			    (it->flags & (MT_F_OFFSET | MT_F_DEPTH | MT_F_DISTANCE | MT_F_WITHIN |
					  MT_F_STARTSWITH | MT_F_ENDSWITH)))
				perr(c, "fast_pattern", "fast_pattern:only cannot be combined with "
				     "positional modifiers");
			if (it->type == MT_IT_CONTENT && g->kind == MT_B_HOST &&
			    !(it->flags & MT_F_NOCASE)) {
				for (uint32_t k = 0; k < it->len; k++) {
					if (isupper(it->pat[k])) {
						perr(c, "content", "http.host is lowercase: this content "
						     "has upper-case characters and no nocase");
						break;
					}
				}
			}
			if (it->type == MT_IT_CONTENT && !(it->flags & MT_F_NEGATED)) {
				uint32_t l = (it->flags & MT_F_FP_CHOP) ? it->fp_len : it->len;
				/* the longest content, preferring one that ordinary
				 * traffic lacks ("eyJhbGciOiJub25lI" rather than
				 * "Authorization: Bearer "): it selects the rule rarely */
				unsigned sides = mt_buf_sides((unsigned)g->kind);
				uint8_t bid = MT_BUFID(g->kind, sides == MT_SIDE_RESP ||
						       (sides != MT_SIDE_REQ &&
							(r->flow & MT_FLOW_TO_CLIENT)) ? 1 : 0);
				uint32_t sc = (l < (1u << 24) ? l : (1u << 24) - 1) |
					      (mt_typical_has(it->pat, it->len,
							      (it->flags & MT_F_NOCASE) != 0, bid)
						       ? 0 : 1u << 24);

				if (it->flags & MT_F_FAST_PATTERN) {
					best_g = gi;
					best_i = i;
					best_len = UINT32_MAX;
				} else if (best_len != UINT32_MAX && sc > best_len) {
					best_g = gi;
					best_i = i;
					best_len = sc;
				}
			}
		}
		/* a later relative item means alternative matches must be tried */
		for (int i = g->n - 2; i >= 0; i--) {
			if (mt_item_relative(&g->items[i + 1]) ||
			    (g->items[i + 1].flags & MT_F_LATER_REL))
				g->items[i].flags |= MT_F_LATER_REL;
		}
	}
	if ((r->flow & MT_FLOW_TO_SERVER) && resp_only)
		perr(c, "flow", "to_server conflicts with response buffer %s", resp_kw);
	side = ((r->flow & MT_FLOW_TO_CLIENT) || resp_only) ? 1 : 0;
	/* A rule decided on the response sees the request through what was
	 * kept of it: the request line, Host and User-Agent. */
	for (int gi = 0; gi < c->n_groups && side == 1; gi++) {
		int k = c->g[gi].kind;

		if (k == MT_B_REFERER || k == MT_B_ACCEPT || k == MT_B_ACCEPT_ENC ||
		    k == MT_B_ACCEPT_LANG || k == MT_B_CONNECTION)
			perr(c, mt_buf_name((unsigned)k), "cannot be combined with flow:to_client "
			     "or response buffers: of the request, only its line, Host and "
			     "User-Agent are kept until the response");
	}
	(void)req_kw;
	r->eval_side = (uint8_t)side;
	r->src_is_server = (uint8_t)side;
	/* buffers that exist on both sides follow the rule's direction */
	r->n_groups = 0;
	r->groups = mt_pool_alloc(c->pool, sizeof(struct mt_group) * (size_t)(c->n_groups + 1));
	r->fp_group = r->fp_item = -1;
	r->body_dir = -1;
	if (r->groups == NULL)
		return;
	for (int gi = 0; gi < c->n_groups; gi++) {
		struct tgroup *g = &c->g[gi];
		struct mt_group *og;
		unsigned sides;

		if (g->kind == MT_KIND_PAYLOAD || g->n == 0)
			continue;
		sides = mt_buf_sides((unsigned)g->kind);
		og = &r->groups[r->n_groups];
		og->buf = MT_BUFID(g->kind, sides == MT_SIDE_REQ ? 0 : sides == MT_SIDE_RESP ? 1
				   : (r->flow & MT_FLOW_TO_CLIENT) || (resp_only &&
								      !(r->flow & MT_FLOW_TO_SERVER)) ? 1 : 0);
		og->n = g->n;
		og->items = mt_pool_alloc(c->pool, sizeof(struct mt_item) * g->n);
		if (og->items == NULL)
			return;
		memcpy(og->items, g->items, sizeof(struct mt_item) * g->n);
		if (gi == best_g) {
			r->fp_group = (int16_t)r->n_groups;
			r->fp_item = (int16_t)best_i;
		}
		if (mt_buf_kind_is_body((unsigned)g->kind)) {
			int8_t d = (int8_t)MT_BUFID_SIDE(og->buf);
			if (r->body_dir >= 0 && r->body_dir != d)
				perr(c, mt_buf_name((unsigned)g->kind), "a rule inspects one body only "
				     "(request or response, not both)");
			else if (d == 0 && side == 1)
				perr(c, mt_buf_name((unsigned)g->kind), "the request body cannot be "
				     "combined with flow:to_client or response buffers (it is gone "
				     "when the response arrives)");
			r->body_dir = d;
		}
		r->n_groups++;
	}
	if (c->classtype == NULL) {
		r->info.classtype = "";
		r->info.category = "";
		if (!c->have_prio)
			r->info.priority = 3;
	}
	r->info.severity = (uint8_t)(r->info.priority > 4 ? 4 : r->info.priority);
	r->info.techniques = pool_strv(c, c->tech, c->n_tech);
	r->info.n_techniques = (uint8_t)c->n_tech;
	r->info.tactics = pool_strv(c, c->tac, c->n_tac);
	r->info.n_tactics = (uint8_t)c->n_tac;
	r->info.owasp = pool_strv(c, c->owasp, c->n_owasp);
	r->info.n_owasp = (uint8_t)c->n_owasp;
	r->n_meta = (uint16_t)c->n_meta;
	r->meta = mt_pool_alloc(c->pool, sizeof(struct mt_meta) * (size_t)(c->n_meta + 1));
	if (r->meta != NULL)
		memcpy(r->meta, c->meta, sizeof(struct mt_meta) * (size_t)c->n_meta);
	r->n_refs = (uint16_t)c->n_refs;
	r->refs = pool_strv(c, c->refs, c->n_refs);
	if ((r->n_fb > 0 || r->noalert) && r->body_dir >= 0)
		perr(c, "flowbits", "not supported on a rule that inspects a body");
	if (!(r->flow & (MT_FLOW_TO_SERVER | MT_FLOW_TO_CLIENT)) && !req_only && !resp_only &&
	    r->n_groups > 0 && c->nerr == 0) {
		r->twin = rule_twin(c, r);
		if (r->twin == NULL)
			perr(c, "rule", "out of memory");
	}
}

struct mt_rule *
mt_rule_parse(struct mt_pool *pool, const struct mt_engine_params *p,
	      const struct mt_classes *cls, const char *text, const char *file,
	      uint32_t line, struct mt_errors *errs)
{
	struct pctx *c;
	struct mt_rule *r;
	char *buf, *open, *close;

	c = calloc(1, sizeof(*c));
	buf = strdup(text);
	r = mt_pool_alloc(pool, sizeof(*r));
	if (c == NULL || buf == NULL || r == NULL) {
		free(c);
		free(buf);
		mt_err_add(errs, file, line, "", "out of memory");
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->info.gid = 1;
	r->info.msg = "";
	r->info.text = mt_pool_strndup(pool, text, strlen(text));
	r->info.file = file;
	r->info.line = line;
	*c = (struct pctx){.pool = pool, .p = p, .cls = cls, .file = file, .line = line,
			   .errs = errs, .r = r, .sticky = -2, .last_g = -1, .last_i = -1,
			   .last_any_g = -1};
	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (open == NULL || close == NULL || close < open) {
		perr(c, "rule", "missing '(' options ')'");
	} else if (*mt_trim(close + 1) != '\0') {
		perr(c, "rule", "text after the closing ')'");
	} else {
		*open = '\0';
		*close = '\0';
		parse_header(c, buf);
		parse_options(c, open + 1);
		finish(c);
	}
	free(buf);
	if (c->nerr > 0) {
		free(c);
		return NULL;
	}
	free(c);
	return r;
}
