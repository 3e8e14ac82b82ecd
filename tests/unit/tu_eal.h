/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Test helpers: EAL start-up without hugepages or PCI under a unique
 * file prefix that is removed again at exit, and the CUnit main boilerplate.
 */
#ifndef TU_EAL_H
#define TU_EAL_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/Basic.h>

/**
 * Start EAL (--no-huge -m 256 --no-pci, one lcore, unique --file-prefix).
 * Registers an atexit() hook that calls rte_eal_cleanup() and removes
 * /var/run/dpdk/<prefix>. @return 0 or -1.
 */
int tu_eal_init(const char *test_name);

/**
 * Run every registered CUnit suite verbosely and return the process exit
 * status: non-zero when any test failed (CUnit alone would return 0).
 */
int tu_run_all(void);

/** Read a whole file into a malloc'd NUL-terminated buffer; NULL on error. */
char *tu_read_file(const char *path, size_t *len);

/** Compress @p in with zlib (windowBits: 15+16 gzip, 15 zlib, -15 raw
 * deflate); a malloc'd buffer of *@p olen bytes (CUnit-fatal on failure). */
uint8_t *tu_deflate(const void *in, size_t len, int wbits, size_t *olen);

/** Write @p v big-endian (network order) at @p p. */
static inline void
tu_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
tu_put32(uint8_t *p, uint32_t v)
{
	tu_put16(p, (uint16_t)(v >> 16));
	tu_put16(p + 2, (uint16_t)v);
}

#endif
