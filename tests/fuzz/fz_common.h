/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Shared pieces of the libFuzzer targets: EAL start-up (once, without
 * hugepages or PCI, under a unique file prefix removed at exit), rule
 * pack loading, and a check that touches every byte of a transaction so
 * that a slice pointing at freed or foreign memory is caught by ASan.
 */
#ifndef FZ_COMMON_H
#define FZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "mt_engine.h"
#include "mt_txn.h"

/** Start EAL once for target @p name; abort() on failure. */
void fz_eal_init(const char *name);

/**
 * Build an engine from every *.rules file of the shipped pack
 * (FUZZ_SRCDIR/configs/rules) and @p extra (a rule file, or NULL);
 * abort() on failure.
 */
struct mt_engine *fz_rule_pack(const char *extra);

/**
 * Read every byte of every slice of @p t (method, URI, headers, reason)
 * and check the message invariants; abort() when one does not hold.
 * @return a checksum (keeps the reads from being optimised out).
 */
uint32_t fz_touch_txn(const struct mt_txn *t);

/** abort() with a message: a finding. */
void fz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/** A sink the compiler cannot see through. */
extern volatile uint32_t fz_sink;

#endif
