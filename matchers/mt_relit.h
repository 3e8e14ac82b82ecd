/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Required literals of a regular expression ("factors"): sets of strings
 * such that every match of the expression contains at least one string of
 * each set. The engine turns them into literal gates of the multi-pattern
 * databases (mt_hs.c), so that a rule whose fast pattern is common but whose
 * pcre is rare is not confirmed on every transaction.
 *
 * The analysis is conservative: any construct it does not understand
 * (backreferences, lookarounds, large classes, unbounded optional parts)
 * contributes no requirement, and an expression it cannot parse yields no
 * factor at all. A factor is therefore always a necessary condition, never
 * a guess. Build time only; allocates.
 */
#ifndef MT_RELIT_H
#define MT_RELIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_RELIT_MAXLEN 48   /* bytes per literal */
#define MT_RELIT_MAXSET 128  /* literals per factor */
#define MT_RELIT_MINLEN 3    /* shortest literal of a factor */

/* Largest character class (or \s) crossed into exact sets: small classes
 * multiply the literals of a factor. Literal gates of the short header-side
 * buffers take larger ones than the body stream, where more short literals
 * were measured to cost more than they spare (docs/BENCHMARKS.md). */
#define MT_RELIT_CLASS_HEAD 8
#define MT_RELIT_CLASS_BODY 4

/** One factor: a match contains at least one of these strings. */
struct mt_relit {
	bool caseless;         /* compare without ASCII case (strings are lower case) */
	uint16_t n;
	uint8_t len[MT_RELIT_MAXSET];
	uint8_t s[MT_RELIT_MAXSET][MT_RELIT_MAXLEN];
};

/**
 * Extract up to @p max factors of @p re worth a gate, best first: factors
 * whose every string is at least MT_RELIT_MINLEN bytes long.
 *
 * @param re       expression in Hyperscan/PCRE syntax (no delimiters)
 * @param caseless the expression is compiled with HS_FLAG_CASELESS
 * @param class_max largest character class crossed into exact sets
 * @param out      array of at least @p max factors
 * @return number of factors written (0 when none is selective enough or
 *         the expression is not understood), or -ENOMEM
 */
int mt_relit_factors(const char *re, bool caseless, unsigned class_max, struct mt_relit *out,
		     int max);

/**
 * Up to @p max factors of @p re, best first, whose strings are at least
 * @p minlen bytes (one at least), however short: for an expression that
 * has no factor worth a gate and would otherwise sit in a literal database
 * as a prefilter regex, which costs every scan of that database more than
 * a few short literals and the confirmations they cause
 * (docs/BENCHMARKS.md).
 *
 * @return number of factors written, or -ENOMEM
 */
int mt_relit_fallback(const char *re, bool caseless, unsigned class_max, unsigned minlen,
		      struct mt_relit *out, int max);

/** Does [hay, hay+hl) contain the @p nl bytes at @p n (ASCII case folded
 * when @p caseless)? */
bool mt_relit_bytes_in(const uint8_t *n, uint32_t nl, bool caseless, const void *hay, size_t hl);

/** Does [hay, hay+hl) contain one of the strings of factor @p f? */
bool mt_relit_in(const struct mt_relit *f, const void *hay, size_t hl);

/**
 * Is every match of @p re on one line? True when, after an optional
 * leading (?:^|\r\n), \r\n, \n or ^, the expression can consume no LF
 * byte and holds no anchor, lookaround, backreference or inline flag other
 * than case: a match then lies within the LF-free run around any byte of
 * it, plus the CRLF before. Conservative: false for what it does not know.
 *
 * @param dotall the expression is compiled with HS_FLAG_DOTALL
 */
bool mt_relit_line_local(const char *re, bool dotall);

#endif
