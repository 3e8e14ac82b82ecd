/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Content-Encoding gzip / x-gzip / deflate, inflated as a body streams in
 * (mt_inflate.c). Private to the matchers: the signature engine's body
 * matcher (mt_body.c) and the behaviour scanners (mt_behav_rec.c) share
 * it, so both decode a body the same way, with the same cap.
 *
 * No heap: zlib allocates from a caller-provided arena of
 * MT_INFLATE_ARENA bytes and writes into a caller-provided output buffer
 * of MT_INFLATE_CHUNK bytes that the sink consumes within the call.
 */
#ifndef MT_INFLATE_H
#define MT_INFLATE_H

#include <stdint.h>
#include <stdbool.h>

#include <zlib.h>

#include "mt_txn.h"

/* First body bytes kept to retry as raw deflate or to pass through. */
#define MT_INFLATE_HEAD 64u
/* zlib's memory per body: inflate state (~7 KiB) + 32 KiB window. */
#define MT_INFLATE_ARENA (48u * 1024u)
/* Inflate output per step, handed to the sink before the next step. */
#define MT_INFLATE_CHUNK (16u * 1024u)
/* Most decompressed bytes per body (decompression bombs). */
#define MT_INFLATE_CAP (1024u * 1024u)

/* Counters, plain, owned by the caller (one set per worker). */
struct mt_inflate_ctr {
	uint64_t errors;          /* corrupt bodies: the rest passed through raw */
	uint64_t raw_deflate;     /* "deflate" that was raw (no zlib header) */
	uint64_t cap_hits;        /* bodies cut at MT_INFLATE_CAP */
	uint64_t trailing_bytes;  /* bytes after the end of the compressed stream */
};

enum mt_inflate_state { MT_INF_RUN, MT_INF_DONE, MT_INF_CAPPED, MT_INF_PASS };

struct mt_inflate {
	z_stream zs;
	uint8_t *arena;        /* MT_INFLATE_ARENA bytes, zlib's zalloc takes from it */
	uint8_t *out;          /* MT_INFLATE_CHUNK bytes, consumed by the sink per step */
	struct mt_inflate_ctr *ctr;
	uint32_t arena_used;
	uint8_t state;         /* enum mt_inflate_state */
	bool raw_tried;
	uint32_t head_len;
	uint64_t in_total, out_total;
	uint8_t head[MT_INFLATE_HEAD];
};

/* Receives decoded bytes; returns 0 or a negative errno (stops the feed). */
typedef int (*mt_body_sink_fn)(void *ctx, const uint8_t *p, uint32_t n);

/*
 * What the Content-Encoding of @p m asks for: 1 gzip / x-gzip / deflate
 * (we inflate it), 0 none or identity, -1 something we cannot decode
 * (br, compress, stacked codings).
 */
int mt_inflate_coding(const struct mt_http_msg *m);

/* Initialise over @p arena and @p out (no heap); counters go to @p ctr.
 * 0 or -ENOMEM. */
int mt_inflate_init(struct mt_inflate *z, uint8_t *arena, uint8_t *out,
		    struct mt_inflate_ctr *ctr);

/* Inflate @p len bytes into @p sink, up to MT_INFLATE_CAP decoded bytes.
 * Corrupt input switches to passing the raw bytes through (libhtp does the
 * same, so a body that merely claims to be compressed is still inspected).
 * 0 or the sink's error. */
int mt_inflate_feed(struct mt_inflate *z, const uint8_t *p, uint32_t len,
		    mt_body_sink_fn sink, void *ctx);

#endif /* MT_INFLATE_H */
