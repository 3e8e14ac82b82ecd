/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/*
 * The parser works in two steps: libyaml's document API turns the text
 * into a node tree (with a line for every node), then a walk over that tree
 * looks every key path up in cfg_keys[] below and calls the key's setter.
 * Setters write into a scratch copy; the caller's struct is only replaced
 * when the whole file produced no error, so a bad reload never leaves a
 * half-applied configuration behind.
 */

/* Stop collecting after this many: a binary fed in by mistake would
 * otherwise produce one error per byte. */
#define CFG_MAX_ERRORS 100
/* Refuse absurd files before reading them into memory. */
#define CFG_MAX_FILE (16u << 20)
#define CFG_PATH_LEN 256
#define CFG_ALLOWED_LEN 512

enum cfg_type {
	CFG_BOOL,
	CFG_UINT,
	CFG_ENUM,
	CFG_STRING,
	CFG_COMPLEX,   /* lists and maps: the setter does everything */
};

enum cfg_unit {
	CFG_UNIT_NONE,
	CFG_UNIT_BYTES,     /* accepts B, KiB, MiB, GiB */
	CFG_UNIT_SECONDS,   /* accepts s, m, h, d */
};

#define CFG_F_POW2     0x1u   /* uint: must be a power of two (rte_ring) */
#define CFG_F_NONEMPTY 0x2u   /* string: "" is not a valid value */
#define CFG_F_RUNTIME  0x4u   /* a reload applies it without a restart */

struct cfg_enum_name {
	const char *name;
	uint8_t value;
};

struct cfg_parse;
struct cfg_key;

typedef void (*cfg_setter)(struct cfg_parse *ps, const struct cfg_key *k,
			   const yaml_node_t *val);
typedef int (*cfg_checker)(const char *value, char *why, size_t why_len);

/** One configuration key. */
struct cfg_key {
	const char *path;                    /* dotted, e.g. "dataplane.flows.max" */
	enum cfg_type type;
	size_t offset;                       /* of the field in struct ctl_config */
	size_t size;                         /* of that field */
	uint64_t min, max;                   /* CFG_UINT, in base units */
	enum cfg_unit unit;
	unsigned int flags;
	const struct cfg_enum_name *names;   /* CFG_ENUM, NULL-terminated */
	cfg_checker check;                   /* CFG_STRING: extra validation */
	const char *def;                     /* default as written in YAML; NULL: set in code */
	cfg_setter set;
	const char *allowed;                 /* CFG_COMPLEX: text for type errors */
};

/** State of one parse. */
struct cfg_parse {
	const char *origin;
	struct ctl_config *c;        /* scratch copy being filled */
	yaml_document_t *doc;
	FILE *errs;                  /* memstream, NULL when the caller wants no text */
	unsigned int n_errors;
};

/* ------------------------------------------------------------------------ */
/* errors */

static size_t
cfg_line(const yaml_node_t *n)
{
	return n != NULL ? n->start_mark.line + 1 : 0;
}

static void __attribute__((format(printf, 5, 6)))
cfg_err(struct cfg_parse *ps, const yaml_node_t *n, const char *key,
	const char *allowed, const char *fmt, ...)
{
	va_list ap;

	ps->n_errors++;
	if (ps->errs == NULL || ps->n_errors > CFG_MAX_ERRORS + 1)
		return;
	if (ps->n_errors == CFG_MAX_ERRORS + 1) {
		fprintf(ps->errs, "%s: too many errors, stopped reporting\n", ps->origin);
		return;
	}
	fprintf(ps->errs, "%s:%zu: %s: ", ps->origin, cfg_line(n), key);
	va_start(ap, fmt);
	vfprintf(ps->errs, fmt, ap);
	va_end(ap);
	if (allowed != NULL && allowed[0] != '\0')
		fprintf(ps->errs, " (allowed: %s)", allowed);
	fputc('\n', ps->errs);
}

/*
 * snprintf() into a key-path buffer. Paths built from user keys may be cut
 * at CFG_PATH_LEN; that only shortens an error message, so it is accepted
 * (and going through vsnprintf keeps -Wformat-truncation quiet about it).
 */
static void __attribute__((format(printf, 3, 4)))
cfg_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* node helpers */

static const yaml_node_t *
cfg_node(struct cfg_parse *ps, int index)
{
	return yaml_document_get_node(ps->doc, index);
}

static const char *
cfg_str(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool
cfg_is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML 1.1 null: an absent value, "~" or "null", unquoted. */
static bool
cfg_is_null(const yaml_node_t *n)
{
	const char *s;

	if (!cfg_is_plain(n))
		return false;
	s = cfg_str(n);
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* What a node is, for "expected X, got Y" messages. */
static const char *
cfg_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_SCALAR_NODE:
		if (cfg_is_null(n) || n->data.scalar.length == 0)
			return "an empty value";
		return cfg_is_plain(n) ? "a plain scalar" : "a quoted string";
	default:
		return "nothing";
	}
}

/* A scalar holding a NUL (YAML "\0" escape) cannot be a C string. */
static bool
cfg_has_nul(const yaml_node_t *n)
{
	return strlen(cfg_str(n)) != n->data.scalar.length;
}

/* Copy into a fixed field, zero-filling the rest so whole configurations
 * compare equal with memcmp() however often a field was rewritten. */
static void
cfg_set_field(char *dst, size_t cap, const char *src)
{
	size_t len = strlen(src);

	memset(dst, 0, cap);
	memcpy(dst, src, len < cap ? len : cap - 1);
}

/*
 * Look for an earlier key in the same mapping with the same text. libyaml's
 * document loader keeps duplicates, and YAML says they are an error.
 */
static const yaml_node_t *
cfg_duplicate(struct cfg_parse *ps, const yaml_node_t *map, const yaml_node_pair_t *pair)
{
	const yaml_node_t *key = cfg_node(ps, pair->key);

	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
		const yaml_node_t *other = cfg_node(ps, p->key);

		if (other->type == YAML_SCALAR_NODE &&
		    strcmp(cfg_str(other), cfg_str(key)) == 0)
			return other;
	}
	return NULL;
}

/*
 * Common checks on one mapping key of section @where ("" = the top level).
 * Returns the key text, or NULL after reporting it as not a scalar or as
 * a duplicate.
 */
static const char *
cfg_pair_key(struct cfg_parse *ps, const yaml_node_t *map, const yaml_node_pair_t *pair,
	     const char *where)
{
	const yaml_node_t *key = cfg_node(ps, pair->key);
	const yaml_node_t *first;

	if (key->type != YAML_SCALAR_NODE) {
		cfg_err(ps, key, where[0] ? where : "(top)", NULL,
			"mapping keys must be strings, got %s",
			cfg_kind(key));
		return NULL;
	}
	first = cfg_duplicate(ps, map, pair);
	if (first != NULL) {
		char path[CFG_PATH_LEN];

		cfg_fmt(path, sizeof(path), "%s%s%s", where, where[0] ? "." : "", cfg_str(key));
		cfg_err(ps, key, path, NULL, "duplicate key (first at line %zu)", cfg_line(first));
		return NULL;
	}
	return cfg_str(key);
}

/* ------------------------------------------------------------------------ */
/* scalar values */

static bool
cfg_is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* Render a value in the key's unit, as the user would write it. */
static void
cfg_fmt_value(const struct cfg_key *k, uint64_t v, char *buf, size_t len)
{
	static const struct { uint64_t mul; const char *sfx; } bytes[] = {
		{ 1ull << 30, "GiB" }, { 1ull << 20, "MiB" }, { 1ull << 10, "KiB" },
	}, secs[] = {
		{ 86400, "d" }, { 3600, "h" }, { 60, "m" },
	};
	const typeof(bytes[0]) *tab = k->unit == CFG_UNIT_BYTES ? bytes : secs;

	if (k->unit != CFG_UNIT_NONE && v != 0) {
		for (unsigned int i = 0; i < 3; i++) {
			if (v % tab[i].mul == 0) {
				snprintf(buf, len, "%llu%s", (unsigned long long)(v / tab[i].mul),
					 tab[i].sfx);
				return;
			}
		}
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)v,
		 k->unit == CFG_UNIT_SECONDS ? "s" : "");
}

/* The "allowed" text for a scalar key. */
static void
cfg_allowed(const struct cfg_key *k, char *buf, size_t len)
{
	char lo[32], hi[32];
	size_t off = 0;

	buf[0] = '\0';
	switch (k->type) {
	case CFG_BOOL:
		snprintf(buf, len, "true, false");
		break;
	case CFG_UINT:
		cfg_fmt_value(k, k->min, lo, sizeof(lo));
		cfg_fmt_value(k, k->max, hi, sizeof(hi));
		snprintf(buf, len, "%s..%s%s", lo, hi,
			 k->flags & CFG_F_POW2 ? ", a power of two" : "");
		break;
	case CFG_ENUM:
		for (const struct cfg_enum_name *e = k->names; e->name != NULL && off < len; e++)
			off += snprintf(buf + off, len - off, "%s%s", e == k->names ? "" : ", ", e->name);
		break;
	case CFG_STRING:
		snprintf(buf, len, "%sat most %zu bytes",
			 k->flags & CFG_F_NONEMPTY ? "non-empty, " : "", k->size - 1);
		break;
	case CFG_COMPLEX:
		snprintf(buf, len, "%s", k->allowed != NULL ? k->allowed : "");
		break;
	}
}

/*
 * Strict unsigned parse: decimal digits, then an optional unit suffix for
 * byte sizes and durations, nothing else (no sign, space, hex or fraction).
 * Returns 0, or -1 with @why filled.
 */
static int
cfg_parse_uint(const struct cfg_key *k, const char *s, uint64_t *out, char *why, size_t why_len)
{
	static const struct { const char *sfx; uint64_t mul; } bytes[] = {
		{ "", 1 }, { "B", 1 }, { "KiB", 1ull << 10 }, { "MiB", 1ull << 20 },
		{ "GiB", 1ull << 30 }, { NULL, 0 },
	}, secs[] = {
		{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 }, { NULL, 0 },
	}, none[] = {
		{ "", 1 }, { NULL, 0 },
	};
	const typeof(bytes[0]) *tab = k->unit == CFG_UNIT_BYTES ? bytes :
				      k->unit == CFG_UNIT_SECONDS ? secs : none;
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0])) {
		snprintf(why, why_len, "expected %s, got \"%s\"",
			 k->unit == CFG_UNIT_BYTES ? "a byte size" :
			 k->unit == CFG_UNIT_SECONDS ? "a duration" : "an unsigned integer", s);
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE) {
		snprintf(why, why_len, "value \"%s\" out of range", s);
		return -1;
	}
	for (; tab->sfx != NULL; tab++) {
		if (strcmp(end, tab->sfx) != 0)
			continue;
		if (v > UINT64_MAX / tab->mul) {
			snprintf(why, why_len, "value \"%s\" out of range", s);
			return -1;
		}
		*out = v * tab->mul;
		return 0;
	}
	if (k->unit == CFG_UNIT_BYTES)
		snprintf(why, why_len, "bad size suffix \"%s\" in \"%s\" (use B, KiB, MiB or GiB)", end, s);
	else if (k->unit == CFG_UNIT_SECONDS)
		snprintf(why, why_len, "bad duration suffix \"%s\" in \"%s\" (use s, m, h or d)", end, s);
	else
		snprintf(why, why_len, "expected an unsigned integer, got \"%s\"", s);
	return -1;
}

/*
 * Parse and store one scalar value for a CFG_BOOL/UINT/ENUM/STRING key.
 * @plain: the YAML scalar was unquoted (booleans and numbers must be).
 * Shared by the file parser and by ctl_config_defaults(), so the defaults
 * written in the key table go through exactly the checks a user's do.
 */
static int
cfg_apply_scalar(const struct cfg_key *k, const char *s, bool plain,
		 struct ctl_config *c, char *why, size_t why_len)
{
	unsigned char *field = (unsigned char *)c + k->offset;
	uint64_t v;

	switch (k->type) {
	case CFG_BOOL:
		if (plain && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") ||
			      !strcmp(s, "yes") || !strcmp(s, "on"))) {
			*(bool *)field = true;
			return 0;
		}
		if (plain && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE") ||
			      !strcmp(s, "no") || !strcmp(s, "off"))) {
			*(bool *)field = false;
			return 0;
		}
		if (!plain)
			snprintf(why, why_len, "expected a boolean, got a quoted string");
		else
			snprintf(why, why_len, "expected a boolean, got \"%s\"", s);
		return -1;
	case CFG_UINT:
		if (!plain) {
			snprintf(why, why_len, "expected %s, got a quoted string",
				 k->unit == CFG_UNIT_NONE ? "an unsigned integer" : "an unquoted value");
			return -1;
		}
		if (cfg_parse_uint(k, s, &v, why, why_len) != 0)
			return -1;
		if (v < k->min || v > k->max) {
			snprintf(why, why_len, "value %s out of range", s);
			return -1;
		}
		if ((k->flags & CFG_F_POW2) && !cfg_is_pow2(v)) {
			snprintf(why, why_len, "value %s is not a power of two", s);
			return -1;
		}
		switch (k->size) {
		case 1: *(uint8_t *)field = (uint8_t)v; break;
		case 2: *(uint16_t *)field = (uint16_t)v; break;
		case 4: *(uint32_t *)field = (uint32_t)v; break;
		default: *(uint64_t *)field = v; break;
		}
		return 0;
	case CFG_ENUM:
		for (const struct cfg_enum_name *e = k->names; e->name != NULL; e++) {
			if (strcmp(e->name, s) == 0) {
				*(uint8_t *)field = e->value;
				return 0;
			}
		}
		snprintf(why, why_len, "unknown value \"%s\"", s);
		return -1;
	case CFG_STRING:
		if (strlen(s) >= k->size) {
			snprintf(why, why_len, "too long (%zu bytes)", strlen(s));
			return -1;
		}
		if ((k->flags & CFG_F_NONEMPTY) && s[0] == '\0') {
			snprintf(why, why_len, "must not be empty");
			return -1;
		}
		if (k->check != NULL && k->check(s, why, why_len) != 0)
			return -1;
		cfg_set_field((char *)field, k->size, s);
		return 0;
	case CFG_COMPLEX:
		break;
	}
	snprintf(why, why_len, "not a scalar key");
	return -1;
}

/* Setter for every scalar key. */
static void
cfg_set_scalar(struct cfg_parse *ps, const struct cfg_key *k, const yaml_node_t *val)
{
	char why[CFG_ALLOWED_LEN], allowed[CFG_ALLOWED_LEN];
	const char *s;

	cfg_allowed(k, allowed, sizeof(allowed));
	if (val->type != YAML_SCALAR_NODE) {
		cfg_err(ps, val, k->path, allowed, "expected a scalar, got %s", cfg_kind(val));
		return;
	}
	if (cfg_has_nul(val)) {
		cfg_err(ps, val, k->path, allowed, "value contains a NUL byte");
		return;
	}
	s = cfg_str(val);
	/* An empty value is only meaningful for strings (it means ""). */
	if (cfg_is_null(val)) {
		if (k->type != CFG_STRING) {
			cfg_err(ps, val, k->path, allowed, "missing value");
			return;
		}
		s = "";
	}
	if (cfg_apply_scalar(k, s, cfg_is_plain(val), ps->c, why, sizeof(why)) != 0)
		cfg_err(ps, val, k->path, allowed, "%s", why);
}

/* rest.listen: "IPv4:PORT" or "[IPv6]:PORT", literals only (no DNS at start-up). */
static int
cfg_check_listen(const char *s, char *why, size_t why_len)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];
	const char *colon, *port;
	unsigned long long p;
	size_t hlen;
	char *end;
	int af;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':') {
			snprintf(why, why_len, "\"%s\" is not [IPv6]:PORT", s);
			return -1;
		}
		hlen = (size_t)(close - s - 1);
		memcpy(host, s + 1, hlen < sizeof(host) ? hlen : 0);
		port = close + 2;
		af = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			snprintf(why, why_len, "\"%s\" has no :PORT", s);
			return -1;
		}
		hlen = (size_t)(colon - s);
		memcpy(host, s, hlen < sizeof(host) ? hlen : 0);
		port = colon + 1;
		af = AF_INET;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(why, why_len, "\"%s\" has no valid address", s);
		return -1;
	}
	host[hlen] = '\0';
	if (inet_pton(af, host, addr) != 1) {
		snprintf(why, why_len, "\"%s\" is not an IPv%c literal%s", host,
			 af == AF_INET ? '4' : '6',
			 af == AF_INET && strchr(host, ':') ? " (write IPv6 as [ADDR]:PORT)" : "");
		return -1;
	}
	if (!isdigit((unsigned char)port[0])) {
		snprintf(why, why_len, "bad port \"%s\"", port);
		return -1;
	}
	errno = 0;
	p = strtoull(port, &end, 10);
	if (errno != 0 || *end != '\0' || p < 1 || p > 65535) {
		snprintf(why, why_len, "bad port \"%s\"", port);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* lists and maps */

/* rules.files: a sequence of paths. */
static void
cfg_set_rule_files(struct cfg_parse *ps, const struct cfg_key *k, const yaml_node_t *val)
{
	struct ctl_config *c = ps->c;
	char path[CFG_PATH_LEN], allowed[64];
	unsigned int i = 0;

	memset(c->rule_files, 0, sizeof(c->rule_files));
	c->n_rule_files = 0;
	if (cfg_is_null(val))
		return;
	if (val->type != YAML_SEQUENCE_NODE) {
		cfg_err(ps, val, k->path, k->allowed, "expected a sequence, got %s", cfg_kind(val));
		return;
	}
	snprintf(allowed, sizeof(allowed), "at most %d files", CTL_MAX_RULE_FILES);
	for (yaml_node_item_t *it = val->data.sequence.items.start;
	     it < val->data.sequence.items.top; it++, i++) {
		const yaml_node_t *n = cfg_node(ps, *it);

		cfg_fmt(path, sizeof(path), "%s[%u]", k->path, i);
		if (c->n_rule_files == CTL_MAX_RULE_FILES) {
			cfg_err(ps, n, path, allowed, "too many rule files");
			return;
		}
		if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0 || cfg_has_nul(n)) {
			cfg_err(ps, n, path, "a non-empty path", "expected a file path, got %s",
				cfg_kind(n));
			continue;
		}
		if (n->data.scalar.length >= CTL_PATH_MAX) {
			cfg_err(ps, n, path, NULL, "path too long (%zu bytes, at most %d)",
				n->data.scalar.length, CTL_PATH_MAX - 1);
			continue;
		}
		cfg_set_field(c->rule_files[c->n_rule_files++], CTL_PATH_MAX, cfg_str(n));
	}
}

static bool
cfg_var_name_ok(const char *s)
{
	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* rules.vars: a map NAME -> value, on top of the default variables. */
static void
cfg_set_vars(struct cfg_parse *ps, const struct cfg_key *k, const yaml_node_t *val)
{
	struct ctl_config *c = ps->c;
	char path[CFG_PATH_LEN];

	if (cfg_is_null(val))
		return;
	if (val->type != YAML_MAPPING_NODE) {
		cfg_err(ps, val, k->path, k->allowed, "expected a mapping, got %s", cfg_kind(val));
		return;
	}
	for (yaml_node_pair_t *pair = val->data.mapping.pairs.start;
	     pair < val->data.mapping.pairs.top; pair++) {
		const yaml_node_t *v = cfg_node(ps, pair->value);
		const char *name = cfg_pair_key(ps, val, pair, k->path);
		struct ctl_var *var = NULL;

		if (name == NULL)
			continue;
		cfg_fmt(path, sizeof(path), "%s.%s", k->path, name);
		if (!cfg_var_name_ok(name) || strlen(name) >= sizeof(var->name)) {
			cfg_err(ps, cfg_node(ps, pair->key), path,
				"letters, digits and _, not starting with a digit, at most 63 bytes",
				"bad variable name");
			continue;
		}
		if (v->type != YAML_SCALAR_NODE || v->data.scalar.length == 0 || cfg_has_nul(v)) {
			cfg_err(ps, v, path, "a non-empty string",
				"expected a string, got %s", cfg_kind(v));
			continue;
		}
		if (v->data.scalar.length >= sizeof(var->value)) {
			cfg_err(ps, v, path, "at most 511 bytes", "value too long (%zu bytes)",
				v->data.scalar.length);
			continue;
		}
		for (size_t i = 0; i < c->n_vars; i++)
			if (strcmp(c->vars[i].name, name) == 0)
				var = &c->vars[i];
		if (var == NULL) {
			if (c->n_vars == CTL_MAX_VARS) {
				char allowed[48];

				snprintf(allowed, sizeof(allowed), "at most %d variables", CTL_MAX_VARS);
				cfg_err(ps, cfg_node(ps, pair->key), path, allowed, "too many variables");
				continue;
			}
			var = &c->vars[c->n_vars++];
			cfg_set_field(var->name, sizeof(var->name), name);
		}
		cfg_set_field(var->value, sizeof(var->value), cfg_str(v));
	}
}

/* dataplane.http.ports: a sequence of TCP ports. */
static void
cfg_set_http_ports(struct cfg_parse *ps, const struct cfg_key *k, const yaml_node_t *val)
{
	/* One slot stays 0 so the list is always terminated. */
	const size_t cap = sizeof(ps->c->dp.http_ports) / sizeof(ps->c->dp.http_ports[0]) - 1;
	uint16_t *ports = ps->c->dp.http_ports;
	const struct cfg_key pk = { .path = k->path, .type = CFG_UINT, .min = 1, .max = 65535 };
	char path[CFG_PATH_LEN], why[CFG_ALLOWED_LEN], allowed[64];
	size_t n = 0;
	unsigned int i = 0;

	memset(ps->c->dp.http_ports, 0, sizeof(ps->c->dp.http_ports));
	if (cfg_is_null(val))
		return;
	if (val->type != YAML_SEQUENCE_NODE) {
		cfg_err(ps, val, k->path, k->allowed, "expected a sequence, got %s", cfg_kind(val));
		return;
	}
	for (yaml_node_item_t *it = val->data.sequence.items.start;
	     it < val->data.sequence.items.top; it++, i++) {
		const yaml_node_t *item = cfg_node(ps, *it);
		uint64_t port;

		cfg_fmt(path, sizeof(path), "%s[%u]", k->path, i);
		if (n == cap) {
			snprintf(allowed, sizeof(allowed), "at most %zu ports", cap);
			cfg_err(ps, item, path, allowed, "too many HTTP ports");
			return;
		}
		if (!cfg_is_plain(item) || cfg_is_null(item)) {
			cfg_err(ps, item, path, "1..65535", "expected a port number, got %s",
				cfg_kind(item));
			continue;
		}
		if (cfg_parse_uint(&pk, cfg_str(item), &port, why, sizeof(why)) != 0) {
			cfg_err(ps, item, path, "1..65535", "%s", why);
			continue;
		}
		if (port < 1 || port > 65535) {
			cfg_err(ps, item, path, "1..65535", "port %s out of range", cfg_str(item));
			continue;
		}
		for (size_t j = 0; j < n; j++)
			if (ports[j] == port)
				cfg_err(ps, item, path, NULL, "duplicate port %llu",
					(unsigned long long)port);
		ports[n++] = (uint16_t)port;
	}
}

/* Per-port parse state kept until the peers can be resolved. */
struct cfg_port_src {
	const yaml_node_t *item;
	const yaml_node_t *peer;     /* NULL: no peer (a sink) */
};

/* One item of dataplane.ports. Returns 0 if it produced a port. */
static int
cfg_port_item(struct cfg_parse *ps, const yaml_node_t *item, const char *ipath,
	      struct dp_port_params *port, struct cfg_port_src *src)
{
	static const char keys[] = "name, peer";
	const yaml_node_t *name = NULL;
	char path[CFG_PATH_LEN];
	int bad = 0;

	src->item = item;
	src->peer = NULL;
	if (item->type != YAML_MAPPING_NODE) {
		cfg_err(ps, item, ipath, keys, "expected a mapping, got %s", cfg_kind(item));
		return -1;
	}
	for (yaml_node_pair_t *pair = item->data.mapping.pairs.start;
	     pair < item->data.mapping.pairs.top; pair++) {
		const yaml_node_t *v = cfg_node(ps, pair->value);
		const char *key = cfg_pair_key(ps, item, pair, ipath);

		if (key == NULL) {
			bad = -1;
			continue;
		}
		cfg_fmt(path, sizeof(path), "%s.%s", ipath, key);
		if (strcmp(key, "name") == 0 || strcmp(key, "peer") == 0) {
			bool is_peer = key[0] == 'p';

			if (is_peer && cfg_is_null(v))
				continue;
			if (v->type != YAML_SCALAR_NODE || cfg_is_null(v) || cfg_has_nul(v) ||
			    v->data.scalar.length == 0 ||
			    v->data.scalar.length >= DP_PORT_NAME_MAX) {
				cfg_err(ps, v, path, "a device name of 1..63 bytes",
					"expected a port name, got %s", cfg_kind(v));
				bad = -1;
			} else if (is_peer) {
				src->peer = v;
			} else {
				name = v;
			}
		} else {
			cfg_err(ps, cfg_node(ps, pair->key), path, keys, "unknown key");
			bad = -1;
		}
	}
	if (name == NULL) {
		if (bad == 0)
			cfg_err(ps, item, ipath, keys, "missing key \"name\"");
		return -1;
	}
	cfg_set_field(port->name, sizeof(port->name), cfg_str(name));
	port->peer = -1;
	return bad;
}

/* Comma-separated list of the port names, for "allowed" texts. */
static void
cfg_port_names(const struct dp_params *dp, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < dp->n_ports && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "", dp->ports[i].name);
}

/* dataplane.ports: a sequence of {name, peer}; peers must pair up. */
static void
cfg_set_ports(struct cfg_parse *ps, const struct cfg_key *k, const yaml_node_t *val)
{
	struct dp_params *dp = &ps->c->dp;
	struct cfg_port_src src[DP_MAX_PORTS];
	char ipath[CFG_PATH_LEN], allowed[CFG_ALLOWED_LEN];
	unsigned int i = 0, errors_before = ps->n_errors;

	memset(dp->ports, 0, sizeof(dp->ports));
	for (unsigned int p = 0; p < DP_MAX_PORTS; p++)
		dp->ports[p].peer = -1;
	dp->n_ports = 0;
	if (cfg_is_null(val))
		return;
	if (val->type != YAML_SEQUENCE_NODE) {
		cfg_err(ps, val, k->path, k->allowed, "expected a sequence, got %s", cfg_kind(val));
		return;
	}
	for (yaml_node_item_t *it = val->data.sequence.items.start;
	     it < val->data.sequence.items.top; it++, i++) {
		const yaml_node_t *item = cfg_node(ps, *it);

		cfg_fmt(ipath, sizeof(ipath), "%s[%u]", k->path, i);
		if (dp->n_ports == DP_MAX_PORTS) {
			snprintf(allowed, sizeof(allowed), "at most %d ports", DP_MAX_PORTS);
			cfg_err(ps, item, ipath, allowed, "too many ports (%zu listed)",
				(size_t)(val->data.sequence.items.top - val->data.sequence.items.start));
			return;
		}
		if (cfg_port_item(ps, item, ipath, &dp->ports[dp->n_ports], &src[dp->n_ports]) != 0)
			continue;
		for (unsigned int j = 0; j < dp->n_ports; j++) {
			if (strcmp(dp->ports[j].name, dp->ports[dp->n_ports].name) == 0) {
				snprintf(ipath + strlen(ipath), sizeof(ipath) - strlen(ipath), ".name");
				cfg_err(ps, item, ipath, NULL, "duplicate port \"%s\" (first at line %zu)",
					dp->ports[j].name, cfg_line(src[j].item));
			}
		}
		dp->n_ports++;
	}
	/* A malformed item shifts the indices; resolving peers then would only
	 * add confusing follow-up errors. */
	if (ps->n_errors != errors_before)
		return;

	cfg_port_names(dp, allowed, sizeof(allowed));
	for (i = 0; i < dp->n_ports; i++) {
		if (src[i].peer == NULL)
			continue;
		for (unsigned int j = 0; j < dp->n_ports; j++)
			if (strcmp(dp->ports[j].name, cfg_str(src[i].peer)) == 0)
				dp->ports[i].peer = (int)j;
		if (dp->ports[i].peer < 0) {
			cfg_fmt(ipath, sizeof(ipath), "%s[%u].peer", k->path, i);
			cfg_err(ps, src[i].peer, ipath, allowed, "unknown port \"%s\"",
				cfg_str(src[i].peer));
		}
	}
	/* Inline pairs forward both ways: A -> B needs B -> A. A port that is
	 * its own peer (reflect) is trivially symmetric. */
	for (i = 0; i < dp->n_ports; i++) {
		int j = dp->ports[i].peer;

		if (j < 0 || dp->ports[j].peer == (int)i)
			continue;
		cfg_fmt(ipath, sizeof(ipath), "%s[%u].peer", k->path, i);
		if (dp->ports[j].peer < 0)
			cfg_err(ps, src[i].peer, ipath, "peers that name each other",
				"port \"%s\" has peer \"%s\", but \"%s\" has no peer",
				dp->ports[i].name, dp->ports[j].name, dp->ports[j].name);
		else
			cfg_err(ps, src[i].peer, ipath, "peers that name each other",
				"port \"%s\" has peer \"%s\", but the peer of \"%s\" is \"%s\"",
				dp->ports[i].name, dp->ports[j].name, dp->ports[j].name,
				dp->ports[dp->ports[j].peer].name);
	}
}

/* ------------------------------------------------------------------------ */
/* the key table */

static const struct cfg_enum_name cfg_dist_names[] = {
	{ "auto", DP_DIST_AUTO }, { "rss", DP_DIST_RSS }, { "software", DP_DIST_SOFTWARE },
	{ NULL, 0 },
};
static const struct cfg_enum_name cfg_csum_names[] = {
	{ "auto", DP_CSUM_AUTO }, { "all", DP_CSUM_ALL }, { "none", DP_CSUM_NONE },
	{ NULL, 0 },
};
static const struct cfg_enum_name cfg_policy_names[] = {
	{ "pass", DP_FAIL_OPEN }, { "drop", DP_FAIL_CLOSED }, { NULL, 0 },
};

#define CFG_FIELD(f) .offset = offsetof(struct ctl_config, f), \
		     .size = sizeof(((struct ctl_config *)0)->f)
#define CFG_K_BOOL_F(p, f, fl, d) \
	{ .path = p, .type = CFG_BOOL, CFG_FIELD(f), .flags = fl, .def = d, .set = cfg_set_scalar }
#define CFG_K_BOOL(p, f, d) CFG_K_BOOL_F(p, f, 0, d)
#define CFG_K_UINT(p, f, lo, hi, u, fl, d) \
	{ .path = p, .type = CFG_UINT, CFG_FIELD(f), .min = lo, .max = hi, .unit = u, \
	  .flags = fl, .def = d, .set = cfg_set_scalar }
#define CFG_K_ENUM_F(p, f, n, fl, d) \
	{ .path = p, .type = CFG_ENUM, CFG_FIELD(f), .names = n, .flags = fl, .def = d, \
	  .set = cfg_set_scalar }
#define CFG_K_ENUM(p, f, n, d) CFG_K_ENUM_F(p, f, n, 0, d)
#define CFG_K_STR(p, f, fl, chk, d) \
	{ .path = p, .type = CFG_STRING, CFG_FIELD(f), .flags = fl, .check = chk, .def = d, \
	  .set = cfg_set_scalar }
#define CFG_K_LIST_F(p, setter, fl, what) \
	{ .path = p, .type = CFG_COMPLEX, .set = setter, .flags = fl, .allowed = what }
#define CFG_K_LIST(p, setter, what) CFG_K_LIST_F(p, setter, 0, what)

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define DAY 86400ull

/*
 * Every key, its bounds and its documented default. The data-plane
 * defaults repeat dp_params_defaults(); test_config checks they agree.
 * Bounds: lower ones keep the data plane functional, upper ones keep a
 * typo (an extra zero or two) from asking for more memory than exists.
 */
static const struct cfg_key cfg_keys[] = {
	CFG_K_UINT("dataplane.workers", dp.n_workers, 1, DP_MAX_WORKERS, CFG_UNIT_NONE, 0, "1"),
	CFG_K_ENUM("dataplane.distribution", dp.distribution, cfg_dist_names, "auto"),
	CFG_K_ENUM_F("dataplane.checksum", dp.checksum, cfg_csum_names, CFG_F_RUNTIME, "auto"),
	CFG_K_ENUM_F("dataplane.exception-policy", dp.fail_policy, cfg_policy_names, CFG_F_RUNTIME, "pass"),
	CFG_K_UINT("dataplane.mbufs", dp.mbufs, 1023, 16777215, CFG_UNIT_NONE, 0, "16383"),
	CFG_K_UINT("dataplane.burst", dp.burst, 1, 512, CFG_UNIT_NONE, 0, "32"),
	CFG_K_UINT("dataplane.rx-descriptors", dp.rx_desc, 64, 32768, CFG_UNIT_NONE, 0, "1024"),
	CFG_K_UINT("dataplane.tx-descriptors", dp.tx_desc, 64, 32768, CFG_UNIT_NONE, 0, "1024"),
	CFG_K_UINT("dataplane.ring-size", dp.ring_size, 64, 1048576, CFG_UNIT_NONE, CFG_F_POW2,
		   "4096"),
	CFG_K_LIST("dataplane.ports", cfg_set_ports,
		   "a sequence of {name: DEVICE, peer: DEVICE}"),
	CFG_K_UINT("dataplane.flows.max", dp.flow_max, 1024, 16777216, CFG_UNIT_NONE, 0, "65536"),
	CFG_K_UINT("dataplane.flows.timeout-new", dp.flow_timeout_new, 1, DAY,
		   CFG_UNIT_SECONDS, CFG_F_RUNTIME, "30s"),
	CFG_K_UINT("dataplane.flows.timeout-established", dp.flow_timeout_est, 1, 7 * DAY,
		   CFG_UNIT_SECONDS, CFG_F_RUNTIME, "5m"),
	CFG_K_UINT("dataplane.flows.timeout-closed", dp.flow_timeout_closed, 1, DAY,
		   CFG_UNIT_SECONDS, CFG_F_RUNTIME, "10s"),
	CFG_K_UINT("dataplane.flows.timeout-udp", dp.flow_timeout_udp, 1, DAY,
		   CFG_UNIT_SECONDS, CFG_F_RUNTIME, "60s"),
	CFG_K_UINT("dataplane.reassembly.flow-cap", dp.reasm_flow_cap, 4 * KIB, GIB,
		   CFG_UNIT_BYTES, CFG_F_RUNTIME, "256KiB"),
	CFG_K_UINT("dataplane.reassembly.pool-buffers", dp.reasm_pool_bufs, 64, 16777216,
		   CFG_UNIT_NONE, 0, "8192"),
	CFG_K_BOOL_F("dataplane.reassembly.midstream", dp.midstream, CFG_F_RUNTIME, "true"),
	CFG_K_UINT("dataplane.reassembly.ttl-limit", dp.reasm_ttl_limit, 0, 255, CFG_UNIT_NONE,
		   CFG_F_RUNTIME, "5"),
	CFG_K_LIST_F("dataplane.http.ports", cfg_set_http_ports, CFG_F_RUNTIME, "a sequence of ports 1..65535"),
	CFG_K_UINT("dataplane.http.sessions", dp.http_sessions, 64, 16777216, CFG_UNIT_NONE, 0,
		   "16384"),
	CFG_K_UINT("dataplane.http.spill-size", dp.http_spill_size, KIB, MIB, CFG_UNIT_BYTES, 0,
		   "16KiB"),
	CFG_K_UINT("dataplane.http.spill-buffers", dp.http_spill_bufs, 16, 16777216,
		   CFG_UNIT_NONE, 0, "1024"),
	CFG_K_ENUM_F("dataplane.http.on-parse-error", dp.http_error_policy, cfg_policy_names, CFG_F_RUNTIME,
		   "pass"),
	CFG_K_UINT("dataplane.alerts.ring", dp.alert_ring, 64, 1048576, CFG_UNIT_NONE, CFG_F_POW2,
		   "8192"),
	CFG_K_BOOL_F("dataplane.reject.send-rst", dp.reject_send_rst, CFG_F_RUNTIME, "true"),

	CFG_K_LIST_F("rules.files", cfg_set_rule_files, CFG_F_RUNTIME, "a sequence of rule file paths"),
	CFG_K_LIST_F("rules.vars", cfg_set_vars, CFG_F_RUNTIME, "a mapping of NAME: value"),
	CFG_K_STR("rules.classification-file", classification_file, CFG_F_RUNTIME, NULL, ""),
	CFG_K_STR("rules.cache-dir", rule_cache_dir, CFG_F_RUNTIME, NULL, ""),

	CFG_K_STR("outputs.log-dir", log_dir, CFG_F_NONEMPTY, NULL, "."),
	CFG_K_BOOL("outputs.eve.enabled", eve_enabled, "true"),
	CFG_K_STR("outputs.eve.filename", eve_file, CFG_F_NONEMPTY, NULL, "eve.json"),
	CFG_K_BOOL("outputs.stats.enabled", stats_enabled, "true"),
	CFG_K_STR("outputs.stats.filename", stats_file, CFG_F_NONEMPTY, NULL, "stats.json"),
	CFG_K_BOOL_F("outputs.console", console_alerts, CFG_F_RUNTIME, "true"),
	CFG_K_UINT("outputs.alert-ring", alert_ring, 16, 1048576, CFG_UNIT_NONE, 0, "4096"),
	CFG_K_STR("outputs.api-rules", api_rules_file, CFG_F_NONEMPTY, NULL, "api.rules"),

	CFG_K_BOOL("rest.enabled", rest_enabled, "true"),
	CFG_K_STR("rest.listen", rest_listen, CFG_F_NONEMPTY, cfg_check_listen,
		  "127.0.0.1:8088"),
	CFG_K_STR("rest.tokens-file", rest_tokens_file, 0, NULL, ""),
	CFG_K_STR("rest.tls-cert", rest_tls_cert, 0, NULL, ""),
	CFG_K_STR("rest.tls-key", rest_tls_key, 0, NULL, ""),
	CFG_K_STR("rest.audit-log", rest_audit_log, CFG_F_NONEMPTY, NULL, "audit.json"),
	CFG_K_UINT("rest.max-body", rest_max_body, KIB, 64 * MIB, CFG_UNIT_BYTES, CFG_F_RUNTIME, "1MiB"),
	CFG_K_UINT("rest.max-connections", rest_max_connections, 4, 65536, CFG_UNIT_NONE, 0, "64"),
	CFG_K_UINT("rest.max-streams", rest_max_streams, 1, 1024, CFG_UNIT_NONE, 0, "8"),
	CFG_K_UINT("rest.sse-heartbeat", rest_sse_heartbeat, 1, 3600, CFG_UNIT_SECONDS, 0, "15s"),
};

#define CFG_N_KEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

/* Variables the bundled rules use; present even with no file at all. */
static const struct { const char *name, *value; } cfg_default_vars[] = {
	{ "HOME_NET", "any" },
	{ "EXTERNAL_NET", "any" },
	{ "HTTP_SERVERS", "$HOME_NET" },
	{ "HTTP_PORTS", "[80,443,8000,8080,8443]" },
	{ "SQL_SERVERS", "$HOME_NET" },
	{ "DNS_SERVERS", "$HOME_NET" },
};

static const struct cfg_key *
cfg_find(const char *path)
{
	for (size_t i = 0; i < CFG_N_KEYS; i++)
		if (strcmp(cfg_keys[i].path, path) == 0)
			return &cfg_keys[i];
	return NULL;
}

/*
 * If key @k lies under section @prefix ("" = the root), copy the name of
 * the child of @prefix that leads to it into @child.
 */
static bool
cfg_child(const struct cfg_key *k, const char *prefix, char *child, size_t len)
{
	size_t plen = strlen(prefix);
	const char *start, *dot;

	if (plen > 0 && (strncmp(k->path, prefix, plen) != 0 || k->path[plen] != '.'))
		return false;
	start = k->path + (plen > 0 ? plen + 1 : 0);
	dot = strchr(start, '.');
	snprintf(child, len, "%.*s", (int)(dot ? (size_t)(dot - start) : strlen(start)), start);
	return true;
}

/* Whether @path names a section (a mapping that holds keys). */
static bool
cfg_is_section(const char *path)
{
	char child[CFG_PATH_LEN];

	for (size_t i = 0; i < CFG_N_KEYS; i++)
		if (strcmp(cfg_keys[i].path, path) != 0 &&
		    cfg_child(&cfg_keys[i], path, child, sizeof(child)))
			return true;
	return false;
}

/* The keys a section accepts, comma-separated, each named once. */
static void
cfg_section_keys(const char *prefix, char *buf, size_t len)
{
	char child[CFG_PATH_LEN], earlier[CFG_PATH_LEN];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < CFG_N_KEYS && off < len; i++) {
		bool seen = false;

		if (!cfg_child(&cfg_keys[i], prefix, child, sizeof(child)))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = cfg_child(&cfg_keys[j], prefix, earlier, sizeof(earlier)) &&
			       strcmp(child, earlier) == 0;
		if (!seen)
			off += snprintf(buf + off, len - off, "%s%s", off ? ", " : "", child);
	}
}

/* ------------------------------------------------------------------------ */
/* the walk */

static void
cfg_walk(struct cfg_parse *ps, const yaml_node_t *map, const char *prefix)
{
	char path[CFG_PATH_LEN], allowed[CFG_ALLOWED_LEN];

	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const yaml_node_t *val = cfg_node(ps, pair->value);
		const char *name = cfg_pair_key(ps, map, pair, prefix);
		const struct cfg_key *k;

		if (name == NULL)
			continue;
		cfg_fmt(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", name);
		k = cfg_find(path);
		if (k != NULL) {
			k->set(ps, k, val);
		} else if (cfg_is_section(path)) {
			if (val->type == YAML_MAPPING_NODE) {
				cfg_walk(ps, val, path);
			} else if (!cfg_is_null(val)) {
				cfg_section_keys(path, allowed, sizeof(allowed));
				cfg_err(ps, val, path, allowed,
					"expected a mapping (section), got %s", cfg_kind(val));
			}
		} else {
			cfg_section_keys(prefix, allowed, sizeof(allowed));
			cfg_err(ps, cfg_node(ps, pair->key), path, allowed, "unknown key");
		}
	}
}

static void
cfg_yaml_error(struct cfg_parse *ps, const yaml_parser_t *parser)
{
	char ctx[160] = "";

	if (parser->context != NULL)
		snprintf(ctx, sizeof(ctx), " (%s that started at line %zu)", parser->context,
			 parser->context_mark.line + 1);
	ps->n_errors++;
	if (ps->errs != NULL)
		fprintf(ps->errs, "%s:%zu: yaml: %s%s\n", ps->origin,
			parser->problem_mark.line + 1,
			parser->problem != NULL ? parser->problem : "syntax error", ctx);
}

/* Parse @yaml into @ps->c. Errors are counted in @ps. */
static int
cfg_parse_text(struct cfg_parse *ps, const char *yaml, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	const yaml_node_t *root;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &doc)) {
		cfg_yaml_error(ps, &parser);
		yaml_parser_delete(&parser);
		return 0;
	}
	ps->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || cfg_is_null(root)) {
		/* Empty file: the defaults. */
	} else if (root->type != YAML_MAPPING_NODE) {
		char allowed[CFG_ALLOWED_LEN];

		cfg_section_keys("", allowed, sizeof(allowed));
		cfg_err(ps, root, "(top)", allowed, "expected a mapping of sections, got %s",
			cfg_kind(root));
	} else {
		cfg_walk(ps, root, "");
	}

	/* A second document would be silently ignored: refuse it. */
	if (root != NULL) {
		if (!yaml_parser_load(&parser, &extra)) {
			cfg_yaml_error(ps, &parser);
		} else {
			const yaml_node_t *r2 = yaml_document_get_root_node(&extra);

			if (r2 != NULL)
				cfg_err(ps, r2, "(top)", "one document", "more than one YAML document");
			yaml_document_delete(&extra);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	ps->doc = NULL;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* public API */

void
ctl_config_defaults(struct ctl_config *c)
{
	char why[CFG_ALLOWED_LEN];

	memset(c, 0, sizeof(*c));
	dp_params_defaults(&c->dp);
	/* The table's defaults are what the documentation shows; applying
	 * them through the same checks keeps them honest. */
	for (size_t i = 0; i < CFG_N_KEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		if (k->type != CFG_COMPLEX && k->def != NULL &&
		    cfg_apply_scalar(k, k->def, true, c, why, sizeof(why)) != 0)
			fprintf(stderr, "ctl_config: bad built-in default for %s: %s\n", k->path, why);
	}
	c->n_rule_files = 0;   /* the built-in rule pack */
	for (size_t i = 0; i < sizeof(cfg_default_vars) / sizeof(cfg_default_vars[0]); i++) {
		cfg_set_field(c->vars[i].name, sizeof(c->vars[i].name), cfg_default_vars[i].name);
		cfg_set_field(c->vars[i].value, sizeof(c->vars[i].value), cfg_default_vars[i].value);
		c->n_vars++;
	}
}

int
ctl_config_load_string(const char *yaml, size_t len, const char *origin,
		       struct ctl_config *c, char **err)
{
	struct cfg_parse ps = { .origin = origin != NULL ? origin : "<string>" };
	char *text = NULL;
	size_t text_len = 0;
	int ret;

	if (err != NULL)
		*err = NULL;
	ps.c = malloc(sizeof(*ps.c));
	if (ps.c == NULL)
		return -ENOMEM;
	if (err != NULL) {
		ps.errs = open_memstream(&text, &text_len);
		if (ps.errs == NULL) {
			free(ps.c);
			return -ENOMEM;
		}
	}
	ctl_config_defaults(ps.c);
	ret = cfg_parse_text(&ps, yaml, len);
	if (ret == 0 && ps.n_errors > 0)
		ret = -EINVAL;
	if (ret == 0)
		memcpy(c, ps.c, sizeof(*c));
	free(ps.c);

	if (ps.errs != NULL) {
		/* fclose() of a memstream fails only when it ran out of memory;
		 * the text is then missing or cut, which the checks below cover. */
		(void)fclose(ps.errs);
		if (ret == 0) {
			free(text);
		} else {
			if (text == NULL || text[0] == '\0') {
				free(text);
				text = strdup(ret == -ENOMEM ? "out of memory" : "invalid configuration");
			} else if (text[strlen(text) - 1] == '\n') {
				text[strlen(text) - 1] = '\0';
			}
			*err = text;
		}
	}
	return ret;
}

int
ctl_config_load(const char *path, struct ctl_config *c, char **err)
{
	FILE *f;
	char *buf = NULL;
	long size;
	size_t got;
	int ret;

	if (err != NULL)
		*err = NULL;
	f = fopen(path, "rb");
	if (f == NULL)
		goto io_error;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto io_error;
	if ((unsigned long)size > CFG_MAX_FILE) {
		fclose(f);
		if (err != NULL && asprintf(err, "%s: file too large (%ld bytes, at most %u)",
					    path, size, CFG_MAX_FILE) < 0)
			*err = NULL;
		return -EFBIG;
	}
	buf = malloc((size_t)size + 1);
	if (buf == NULL) {
		errno = ENOMEM;
		goto io_error;
	}
	errno = 0;
	got = fread(buf, 1, (size_t)size, f);
	if (got != (size_t)size || ferror(f)) {
		if (errno == 0)
			errno = EIO;
		goto io_error;
	}
	fclose(f);
	buf[got] = '\0';
	ret = ctl_config_load_string(buf, got, path, c, err);
	free(buf);
	return ret;

io_error:
	ret = errno != 0 ? -errno : -EIO;
	if (f != NULL)
		fclose(f);
	free(buf);
	if (err != NULL && asprintf(err, "%s: %s", path, strerror(-ret)) < 0)
		*err = NULL;
	return ret;
}

/* ------------------------------------------------------------------------ */
/* reload: what changed, and what applies without a restart */

/* Whether key @p k holds the same value in @p a and @p b. */
static bool
cfg_key_equal(const struct cfg_key *k, const struct ctl_config *a, const struct ctl_config *b)
{
	size_t i;

	switch (k->type) {
	case CFG_STRING:
		return strcmp((const char *)a + k->offset, (const char *)b + k->offset) == 0;
	case CFG_BOOL:
	case CFG_UINT:
	case CFG_ENUM:
		return memcmp((const char *)a + k->offset, (const char *)b + k->offset,
			      k->size) == 0;
	case CFG_COMPLEX:
		break;
	}
	if (strcmp(k->path, "dataplane.ports") == 0) {
		if (a->dp.n_ports != b->dp.n_ports)
			return false;
		for (i = 0; i < a->dp.n_ports; i++)
			if (strcmp(a->dp.ports[i].name, b->dp.ports[i].name) != 0 ||
			    a->dp.ports[i].peer != b->dp.ports[i].peer)
				return false;
		return true;
	}
	if (strcmp(k->path, "dataplane.http.ports") == 0)
		return memcmp(a->dp.http_ports, b->dp.http_ports, sizeof(a->dp.http_ports)) == 0;
	if (strcmp(k->path, "rules.files") == 0) {
		if (a->n_rule_files != b->n_rule_files)
			return false;
		for (i = 0; i < a->n_rule_files; i++)
			if (strcmp(a->rule_files[i], b->rule_files[i]) != 0)
				return false;
		return true;
	}
	if (strcmp(k->path, "rules.vars") == 0) {
		if (a->n_vars != b->n_vars)
			return false;
		for (i = 0; i < a->n_vars; i++)
			if (strcmp(a->vars[i].name, b->vars[i].name) != 0 ||
			    strcmp(a->vars[i].value, b->vars[i].value) != 0)
				return false;
		return true;
	}
	return true;
}

/* Copy key @p k's value from @p from into @p to. */
static void
cfg_key_copy(const struct cfg_key *k, struct ctl_config *to, const struct ctl_config *from)
{
	if (k->type != CFG_COMPLEX) {
		memcpy((char *)to + k->offset, (const char *)from + k->offset, k->size);
	} else if (strcmp(k->path, "dataplane.http.ports") == 0) {
		memcpy(to->dp.http_ports, from->dp.http_ports, sizeof(to->dp.http_ports));
	} else if (strcmp(k->path, "rules.files") == 0) {
		memcpy(to->rule_files, from->rule_files, sizeof(to->rule_files));
		to->n_rule_files = from->n_rule_files;
	} else if (strcmp(k->path, "rules.vars") == 0) {
		memcpy(to->vars, from->vars, sizeof(to->vars));
		to->n_vars = from->n_vars;
	}
}

size_t
ctl_config_diff(const struct ctl_config *running, const struct ctl_config *next,
		struct ctl_config_change *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < CFG_N_KEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		if (cfg_key_equal(k, running, next))
			continue;
		if (n < max) {
			out[n].path = k->path;
			out[n].runtime = (k->flags & CFG_F_RUNTIME) != 0;
		}
		n++;
	}
	return n;
}

void
ctl_config_merge_runtime(struct ctl_config *running, const struct ctl_config *next)
{
	for (size_t i = 0; i < CFG_N_KEYS; i++)
		if (cfg_keys[i].flags & CFG_F_RUNTIME)
			cfg_key_copy(&cfg_keys[i], running, next);
}
