/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content-Encoding gzip / x-gzip / deflate, inflated as the body streams
 * in. zlib allocates from the body slot's preallocated arena (zfree is a
 * no-op; the arena is reused whole for the next body), so nothing here
 * touches the heap. Auto-detection (windowBits 15+32) covers gzip and
 * zlib-wrapped deflate; a body that fails that check before producing any
 * output is retried as raw deflate, which many servers send for
 * "deflate". Decoded output is capped per body (MT_INFLATE_CAP) against
 * decompression bombs. Corrupt data: stop inflating and pass the raw bytes
 * through, as libhtp does, so a body that merely claims to be compressed
 * is still inspected.
 */
#include "mt_engine_int.h"

#include <errno.h>
#include <string.h>

static voidpf
z_alloc(voidpf opaque, uInt items, uInt size)
{
	struct mt_inflate *z = opaque;
	size_t n = ((size_t)items * size + 15u) & ~(size_t)15u;
	void *p;

	if (n > MT_INFLATE_ARENA - z->arena_used)
		return Z_NULL;
	p = z->arena + z->arena_used;
	z->arena_used += (uint32_t)n;
	return p;
}

static void
z_free(voidpf opaque, voidpf p)
{
	(void)opaque;
	(void)p; /* the arena is reset at the next mt_inflate_init */
}

int
mt_inflate_init(struct mt_inflate *z, uint8_t *arena)
{
	memset(z, 0, sizeof(*z));
	z->arena = arena;
	z->zs.zalloc = z_alloc;
	z->zs.zfree = z_free;
	z->zs.opaque = z;
	if (inflateInit2(&z->zs, 15 + 32) != Z_OK)
		return -ENOMEM;
	return 0;
}

/* Give up decoding: from now on the raw bytes are the body. If nothing was
 * decoded yet and every byte so far is at hand, the whole body is passed,
 * so that plain text sent as "gzip" is inspected from its first byte. */
static int
fail(struct mt_inflate *z, struct mt_scratch *s, const uint8_t *all, mt_body_sink_fn sink,
     void *ctx)
{
	s->ctr.inflate_errors++;
	z->state = MT_INF_PASS;
	if (z->out_total == 0 && all != NULL)
		return sink(ctx, all, (uint32_t)z->in_total);
	if (z->zs.avail_in > 0)
		return sink(ctx, z->zs.next_in, z->zs.avail_in);
	return 0;
}

int
mt_inflate_feed(struct mt_inflate *z, struct mt_scratch *s, const uint8_t *p, uint32_t len,
		mt_body_sink_fn sink, void *ctx)
{
	const uint8_t *all;

	switch (z->state) {
	case MT_INF_PASS:
		return sink(ctx, p, len);
	case MT_INF_DONE:
		/* after the end of the compressed stream: not part of the body */
		s->ctr.inflate_trailing_bytes += len;
		return 0;
	case MT_INF_CAPPED:
		return 0;
	default:
		break;
	}
	if (z->in_total < MT_INFLATE_HEAD) {
		uint32_t c = MT_INFLATE_HEAD - (uint32_t)z->in_total;

		c = c < len ? c : len;
		memcpy(z->head + z->head_len, p, c);
		z->head_len += c;
	}
	z->in_total += len;
	/* every byte of the body so far, if we still have them in one piece */
	all = z->in_total == len ? p : z->in_total <= MT_INFLATE_HEAD ? z->head : NULL;
	z->zs.next_in = (Bytef *)(uintptr_t)p;
	z->zs.avail_in = len;
	for (;;) {
		uint32_t produced, room;
		int rc;

		z->zs.next_out = s->zout;
		z->zs.avail_out = MT_INFLATE_CHUNK;
		rc = inflate(&z->zs, Z_NO_FLUSH);
		produced = MT_INFLATE_CHUNK - z->zs.avail_out;
		if (produced > 0) {
			bool capped = false;
			int src;

			room = (uint32_t)(MT_INFLATE_CAP - z->out_total);
			if (produced >= room) {
				capped = produced > room ||
					 (rc != Z_STREAM_END && (z->zs.avail_in > 0 ||
								 z->zs.avail_out == 0));
				produced = room;
			}
			z->out_total += produced;
			src = produced ? sink(ctx, s->zout, produced) : 0;
			if (src < 0)
				return src;
			if (capped) {
				s->ctr.inflate_cap_hits++;
				z->state = MT_INF_CAPPED;
				return 0;
			}
		}
		if (rc == Z_STREAM_END) {
			z->state = MT_INF_DONE;
			s->ctr.inflate_trailing_bytes += z->zs.avail_in;
			return 0;
		}
		if (rc == Z_OK) {
			if (z->zs.avail_in == 0 && z->zs.avail_out != 0)
				return 0;
			continue;
		}
		if (rc == Z_BUF_ERROR)
			return 0; /* needs more input */
		/* Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR, Z_STREAM_ERROR */
		if (!z->raw_tried && z->out_total == 0 && all != NULL && rc == Z_DATA_ERROR) {
			z->raw_tried = true;
			if (inflateReset2(&z->zs, -15) != Z_OK)
				return fail(z, s, all, sink, ctx);
			s->ctr.inflate_raw_deflate++;
			z->zs.next_in = (Bytef *)(uintptr_t)all;
			z->zs.avail_in = (uInt)z->in_total;
			continue;
		}
		return fail(z, s, all, sink, ctx);
	}
}
