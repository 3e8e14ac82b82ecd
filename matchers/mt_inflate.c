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
 * is still inspected. The signature engine (mt_body.c) and the behaviour
 * scanners (mt_behav_rec.c) both decode through here.
 */
#include "mt_inflate.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

int
mt_inflate_coding(const struct mt_http_msg *m)
{
	const struct mt_slice *v = mt_msg_known(m, MT_HDR_CONTENT_ENCODING);
	const char *p;
	uint32_t n;

	if (v == NULL)
		return 0;
	p = (const char *)v->p;
	n = v->len;
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || (n == 8 && strncasecmp(p, "identity", 8) == 0))
		return 0;
	if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
	    (n == 6 && strncasecmp(p, "x-gzip", 6) == 0) ||
	    (n == 7 && strncasecmp(p, "deflate", 7) == 0))
		return 1;
	return -1; /* br, compress, stacked codings: inspected as they are */
}

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
mt_inflate_init(struct mt_inflate *z, uint8_t *arena, uint8_t *out, struct mt_inflate_ctr *ctr)
{
	memset(z, 0, sizeof(*z));
	z->arena = arena;
	z->out = out;
	z->ctr = ctr;
	z->zs.zalloc = z_alloc;
	z->zs.zfree = z_free;
	z->zs.opaque = z;
	if (inflateInit2(&z->zs, 15 + 32) != Z_OK)
		return -ENOMEM;
	return 0;
}

/* Every byte of the body so far is at hand: the first @p prev in the head,
 * the rest the current chunk. True while the earlier chunks fit the head,
 * whatever the current chunk's size (a 1-byte first segment is common). */
static bool
whole(uint64_t prev)
{
	return prev <= MT_INFLATE_HEAD;
}

/* Give up decoding: from now on the raw bytes are the body. If nothing was
 * decoded yet and every byte so far is at hand, the whole body is passed,
 * so that plain text sent as "gzip" is inspected from its first byte.
 * @p pend: the current chunk, when the head is being replayed. */
static int
fail(struct mt_inflate *z, uint64_t prev, const uint8_t *p, uint32_t len, const uint8_t *pend,
     uint32_t pend_len, mt_body_sink_fn sink, void *ctx)
{
	int rc = 0;

	z->ctr->errors++;
	z->state = MT_INF_PASS;
	if (z->out_total == 0 && whole(prev)) {
		if (prev > 0)
			rc = sink(ctx, z->head, (uint32_t)prev);
		return rc < 0 ? rc : sink(ctx, p, len);
	}
	if (z->zs.avail_in > 0)
		rc = sink(ctx, z->zs.next_in, z->zs.avail_in);
	if (rc == 0 && pend != NULL)
		rc = sink(ctx, pend, pend_len);
	return rc;
}

int
mt_inflate_feed(struct mt_inflate *z, const uint8_t *p, uint32_t len, mt_body_sink_fn sink,
		void *ctx)
{
	const uint8_t *pend = NULL;  /* chunk to inflate after the head replay */
	uint32_t pend_len = 0;
	uint64_t prev;

	switch (z->state) {
	case MT_INF_PASS:
		return sink(ctx, p, len);
	case MT_INF_DONE:
		/* after the end of the compressed stream: not part of the body */
		z->ctr->trailing_bytes += len;
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
	prev = z->in_total;
	z->in_total += len;
	z->zs.next_in = (Bytef *)(uintptr_t)p;
	z->zs.avail_in = len;
	for (;;) {
		uint32_t produced, room;
		int rc;

		if (z->zs.avail_in == 0 && pend != NULL) {
			z->zs.next_in = (Bytef *)(uintptr_t)pend;
			z->zs.avail_in = pend_len;
			pend = NULL;
		}
		z->zs.next_out = z->out;
		z->zs.avail_out = MT_INFLATE_CHUNK;
		rc = inflate(&z->zs, Z_NO_FLUSH);
		produced = MT_INFLATE_CHUNK - z->zs.avail_out;
		if (produced > 0) {
			bool capped = false;
			int src;

			room = (uint32_t)(MT_INFLATE_CAP - z->out_total);
			if (produced >= room) {
				capped = produced > room ||
					 (rc != Z_STREAM_END && (z->zs.avail_in > 0 || pend != NULL ||
								 z->zs.avail_out == 0));
				produced = room;
			}
			z->out_total += produced;
			src = produced ? sink(ctx, z->out, produced) : 0;
			if (src < 0)
				return src;
			if (capped) {
				z->ctr->cap_hits++;
				z->state = MT_INF_CAPPED;
				return 0;
			}
		}
		if (rc == Z_STREAM_END) {
			z->state = MT_INF_DONE;
			z->ctr->trailing_bytes += z->zs.avail_in + (pend != NULL ? pend_len : 0);
			return 0;
		}
		if (rc == Z_OK) {
			if (z->zs.avail_in == 0 && z->zs.avail_out != 0 && pend == NULL)
				return 0;
			continue;
		}
		if (rc == Z_BUF_ERROR) {
			if (z->zs.avail_in == 0 && pend != NULL)
				continue;
			return 0; /* needs more input */
		}
		/* Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR, Z_STREAM_ERROR */
		if (!z->raw_tried && z->out_total == 0 && whole(prev) && rc == Z_DATA_ERROR) {
			/* not zlib nor gzip: retry the body so far as raw deflate */
			z->raw_tried = true;
			if (inflateReset2(&z->zs, -15) != Z_OK)
				return fail(z, prev, p, len, NULL, 0, sink, ctx);
			z->ctr->raw_deflate++;
			if (prev > 0) {
				z->zs.next_in = z->head;
				z->zs.avail_in = (uInt)prev;
				pend = p;
				pend_len = len;
			} else {
				z->zs.next_in = (Bytef *)(uintptr_t)p;
				z->zs.avail_in = len;
			}
			continue;
		}
		return fail(z, prev, p, len, pend, pend_len, sink, ctx);
	}
}
