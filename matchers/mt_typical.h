/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What ordinary API traffic puts in a buffer: one built-in sample per
 * buffer (a request line and query, a request head with the common
 * headers, cookies, user agents, a response head), to judge literals by
 * at build time:
 * - a fast pattern is chosen among a rule's contents preferring one that
 *   is absent from the sample, since it selects its rule rarely;
 * - a fast pattern absent from the sample needs no gates: its rule is
 *   confirmed rarely enough, and gate literals make every scan dearer;
 * - a fallback gate (short literals) that occurs in the sample would make
 *   its rule a candidate on nearly every transaction ("nc" is in
 *   "Accept-Encoding"), so the rule keeps its regex instead.
 * Only performance depends on it: every choice made with it is correct.
 */
#ifndef MT_TYPICAL_H
#define MT_TYPICAL_H

#include <stdbool.h>
#include <stdint.h>

/** The sample for buffer id @p buf (MT_BUFID), or NULL when there is none. */
const char *mt_typical_of(uint8_t buf);

/** Does [p, p+l) occur in the sample of @p buf? False without a sample. */
bool mt_typical_has(const uint8_t *p, uint32_t l, bool caseless, uint8_t buf);

#endif
