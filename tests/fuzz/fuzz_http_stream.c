/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_http on one request stream and one response stream, cut into chunks
 * at points chosen by the input and interleaved in an order it chooses.
 * Each chunk lives in its own exactly sized heap buffer that is freed as
 * soon as dp_http_data() returns, as a packet would be: a slice kept
 * pointing into an earlier chunk is a heap-use-after-free under ASan.
 *
 * Input:
 *   byte 0     flags: bit0 inject a TCP gap after some chunks,
 *              bit1 end the request direction (FIN) before the response
 *   bytes 1-2  request stream length (big-endian, clipped)
 *   byte 3     chunking seed
 *   then the request stream, then the response stream.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mempool.h>

#include "dp_http.h"
#include "fz_common.h"

static struct dp_http_ctx ctx;
static struct mt_flow_tuple tuple = {
	.family = 4, .proto = 6, .client_port = 40000, .server_port = 80,
	.client_ip = { 10, 0, 0, 1 }, .server_ip = { 10, 0, 0, 2 }, .flow_id = 1,
};

struct fz_state {
	uint64_t requests, responses, done, errors;
	uint64_t body[2];
	bool in_txn_cb;
};

static void
fz_request(void *arg, struct mt_txn *t)
{
	struct fz_state *s = arg;

	s->requests++;
	if (t->req.status_code != 0 || t->resp.status_code != 0)
		fz_fail("request upcall with a status");
	fz_sink += fz_touch_txn(t);
}

static void
fz_response(void *arg, struct mt_txn *t)
{
	struct fz_state *s = arg;

	s->responses++;
	fz_sink += fz_touch_txn(t);
}

static void
fz_done(void *arg, struct mt_txn *t)
{
	struct fz_state *s = arg;

	(void)t;
	s->done++;
}

static void
fz_error(void *arg, int dir, int err)
{
	struct fz_state *s = arg;

	(void)err;
	if (dir != 0 && dir != 1)
		fz_fail("error upcall for direction %d", dir);
	s->errors++;
}

static void
fz_body(void *arg, struct mt_txn *t, int dir, const uint8_t *p, uint32_t len)
{
	struct fz_state *s = arg;
	uint32_t i, h = 0;

	(void)t;
	if (dir != 0 && dir != 1)
		fz_fail("body upcall for direction %d", dir);
	for (i = 0; i < len; i++)
		h += p[i];
	fz_sink += h;
	s->body[dir] += len;
}

static void
fz_msg_end(void *arg, struct mt_txn *t, int dir)
{
	(void)arg;
	(void)t;
	if (dir != 0 && dir != 1)
		fz_fail("msg_end upcall for direction %d", dir);
}

static const struct dp_http_ops fz_ops = {
	.request = fz_request, .response = fz_response, .txn_done = fz_done,
	.error = fz_error, .body = fz_body, .msg_end = fz_msg_end,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int rc;

	(void)argc;
	(void)argv;
	fz_eal_init("fuzz_http_stream");
	/* Small pools: 2 spill buffers of 1 KiB reach truncation quickly. */
	rc = dp_http_ctx_init(&ctx, "fzhttp", 2, 2, 1024, 0, &fz_ops);
	if (rc != 0)
		fz_fail("dp_http_ctx_init: %d", rc);
	return 0;
}

/* xorshift32: chunk sizes and interleaving from the seed byte. */
static uint32_t
fz_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
fz_feed(struct dp_http_sess *sess, int dir, const uint8_t *p, uint32_t len, uint64_t now,
	struct fz_state *st)
{
	uint8_t *chunk = malloc(len ? len : 1);

	memcpy(chunk, p, len);
	(void)dp_http_data(&ctx, sess, dir, chunk, len, now, st);
	free(chunk);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_state st = { 0 };
	struct dp_http_sess *sess;
	const uint8_t *s[2];
	size_t len[2], off[2] = { 0, 0 };
	uint32_t x, n_chunks = 0;
	uint64_t now = 1700000000000000000ull;
	uint8_t flags;
	bool req_ended = false;

	if (size < 4)
		return 0;
	flags = data[0];
	len[0] = (size_t)data[1] << 8 | data[2];
	x = 0x9e3779b9u ^ ((uint32_t)data[3] * 0x01000193u);
	if (x == 0)
		x = 1;
	data += 4;
	size -= 4;
	if (len[0] > size)
		len[0] = size;
	s[0] = data;
	s[1] = data + len[0];
	len[1] = size - len[0];

	sess = dp_http_sess_open(&ctx, &tuple);
	if (sess == NULL)
		fz_fail("session pool empty at the start of an input (leak)");
	while (off[0] < len[0] || off[1] < len[1]) {
		uint32_t r = fz_next(&x);
		/* Mostly requests first (as on the wire), but not always. */
		int dir = off[0] >= len[0] ? 1 : off[1] >= len[1] ? 0 : (r & 3) == 0;
		size_t left = len[dir] - off[dir];
		/* Chunk sizes: 1..16 often, up to 1460 sometimes. */
		size_t n = (r >> 8) & 1 ? 1 + ((r >> 9) & 15) : 1 + ((r >> 9) % 1460);

		if (n > left)
			n = left;
		if (dir == 1 && (flags & 2) && !req_ended && off[0] >= len[0]) {
			dp_http_eof(&ctx, sess, 0, now, &st);
			req_ended = true;
		}
		fz_feed(sess, dir, s[dir] + off[dir], (uint32_t)n, now, &st);
		off[dir] += n;
		now += 1000;
		if ((flags & 1) && (++n_chunks % 7) == 0)
			dp_http_gap(&ctx, sess, dir, 1 + (fz_next(&x) & 1023), &st);
	}
	if (!req_ended)
		dp_http_eof(&ctx, sess, 0, now, &st);
	dp_http_eof(&ctx, sess, 1, now, &st);
	dp_http_sess_close(&ctx, sess, &st);

	if (st.done > st.requests + st.responses + 1)
		fz_fail("%lu transactions done for %lu requests", (unsigned long)st.done,
			(unsigned long)st.requests);
	if (rte_mempool_avail_count(ctx.sess_pool) != ctx.sess_pool->size ||
	    rte_mempool_avail_count(ctx.spill_pool) != ctx.spill_pool->size)
		fz_fail("pools not full after the session closed");
	return 0;
}
