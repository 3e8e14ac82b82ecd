/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP stream reassembly. See dp_tcp.h for the contract and docs/TCP.md for
 * the policies (first wins, caps, gaps, RST acceptance) and why.
 *
 * Invariants kept between calls, per direction s:
 *  - s->ooo is sorted by seq, its pieces do not overlap, and every piece
 *    starts strictly after s->next_seq (a piece reaching next_seq is
 *    delivered at once), so the stream never stalls on data it holds;
 *  - s->ooo_bytes / s->ooo_segs are the sum of piece lengths / the number
 *    of pieces;
 *  - when a FIN is known, no buffered byte lies at or after fin_seq.
 * All sequence comparisons go through seq_diff() so they survive wrap-around.
 */
#include "dp_tcp.h"

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_mempool.h>

/** One pooled buffer: a piece of out-of-order payload. */
struct dp_tcp_seg {
	struct dp_tcp_seg *next;
	uint32_t seq;
	uint32_t len;               /* 1..DP_TCP_SEG_DATA */
	uint8_t data[DP_TCP_SEG_DATA];
};

/*
 * Segments more than this far from next_seq (either way) cannot belong to
 * the stream: real windows are at most 1 GiB (scale 14). Ignoring them also
 * keeps every signed 32-bit difference we take far from overflow.
 */
#define DP_TCP_MAX_DISTANCE (1 << 30)

/* Outcome of one segment, counted once per segment at the end. */
struct seg_note {
	bool overlap;   /* some bytes were already delivered or buffered */
	bool diff;      /* ... and the buffered ones differed */
	bool buffered;  /* some bytes went to the out-of-order list */
};

enum ooo_stop { OOO_DONE = 0, OOO_FLOW_CAP, OOO_POOL_EMPTY };

static inline int32_t
seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline uint32_t
min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/*
 * Pieces a direction may hold. The byte cap alone would let a peer pin one
 * 2 KiB buffer per 1-byte segment; allow four times the pieces that full
 * buffers would need (adjacent pieces are coalesced, so real losses stay far
 * below), and never more than ooo_segs can count.
 */
static uint32_t
seg_limit(const struct dp_tcp_ctx *ctx)
{
	uint64_t n = (uint64_t)ctx->flow_cap_bytes / DP_TCP_SEG_DATA * 4 + 16;

	return n > UINT16_MAX ? UINT16_MAX : (uint32_t)n;
}

struct rte_mempool *
dp_tcp_pool_create(const char *name, uint32_t n_bufs, int socket)
{
	/*
	 * Single producer / single consumer: only the owning worker takes and
	 * returns buffers. No per-lcore cache: the ring is uncontended, and
	 * rte_mempool_avail_count() then reflects exactly what flows hold.
	 */
	if (name == NULL || n_bufs == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	return rte_mempool_create(name, n_bufs, sizeof(struct dp_tcp_seg), 0, 0,
				  NULL, NULL, NULL, NULL, socket,
				  RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
}

void
dp_tcp_conn_init(struct dp_tcp_conn *c)
{
	memset(c, 0, sizeof(*c));
}

/* ---- callbacks ---- */

static void
emit_data(struct dp_tcp_ctx *ctx, int dir, const uint8_t *p, uint32_t len, void *arg)
{
	if (ctx->ops.data != NULL)
		ctx->ops.data(arg, dir, p, len);
}

static void
emit_gap(struct dp_tcp_ctx *ctx, struct dp_tcp_stream *s, int dir, uint32_t len, void *arg)
{
	if (len == 0)
		return;
	ctx->cnt.gaps++;
	ctx->cnt.gap_bytes += len;
	s->next_seq += len;
	if (ctx->ops.gap != NULL)
		ctx->ops.gap(arg, dir, len);
}

static void
emit_eof(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c, int dir, void *arg)
{
	struct dp_tcp_stream *s = &c->s[dir];

	if (s->fin_delivered)
		return;
	s->fin_delivered = 1;
	if (ctx->ops.eof != NULL)
		ctx->ops.eof(arg, dir);
	if (c->s[dir ^ 1].fin_delivered)
		c->state = DP_TCP_CLOSED;
	else if (c->state < DP_TCP_CLOSING)
		c->state = DP_TCP_CLOSING;
}

/* ---- out-of-order list ---- */

static void
free_list(struct dp_tcp_ctx *ctx, struct dp_tcp_stream *s)
{
	struct dp_tcp_seg *n = s->ooo, *next;

	while (n != NULL) {
		next = n->next;
		rte_mempool_put(ctx->seg_pool, n);
		n = next;
	}
	s->ooo = NULL;
	s->ooo_bytes = 0;
	s->ooo_segs = 0;
}

/* Sequence number just after the last buffered byte (next_seq if none). */
static uint32_t
ooo_end(const struct dp_tcp_stream *s)
{
	const struct dp_tcp_seg *n;
	uint32_t end = s->next_seq;

	for (n = s->ooo; n != NULL; n = n->next)
		end = n->seq + n->len;
	return end;
}

/*
 * Deliver the buffered pieces that start at next_seq. The callback sees the
 * pool buffer, which goes back to the pool as soon as it returns.
 */
static void
deliver_head(struct dp_tcp_ctx *ctx, struct dp_tcp_stream *s, int dir, void *arg)
{
	struct dp_tcp_seg *n = s->ooo;

	s->ooo = n->next;
	s->ooo_bytes -= n->len;
	s->ooo_segs--;
	s->next_seq += n->len;
	ctx->cnt.bytes_reassembled += n->len;
	emit_data(ctx, dir, n->data, n->len, arg);
	rte_mempool_put(ctx->seg_pool, n);
}

static void
drain(struct dp_tcp_ctx *ctx, struct dp_tcp_stream *s, int dir, void *arg)
{
	while (s->ooo != NULL && s->ooo->seq == s->next_seq)
		deliver_head(ctx, s, dir, arg);
}

/*
 * Give up the first hole, or only its part before @p upto: report the
 * missing bytes, then deliver the buffered run that follows.
 */
static void
give_up_first_hole(struct dp_tcp_ctx *ctx, struct dp_tcp_stream *s, int dir,
		   uint32_t upto, void *arg)
{
	uint32_t to = upto;

	if (s->ooo != NULL && seq_diff(s->ooo->seq, upto) < 0)
		to = s->ooo->seq;
	if (seq_diff(to, s->next_seq) > 0)
		emit_gap(ctx, s, dir, to - s->next_seq, arg);
	drain(ctx, s, dir, arg);
}

/* Give up every hole before @p upto (and deliver what they blocked). */
static void
give_up_until(struct dp_tcp_ctx *ctx, struct dp_tcp_stream *s, int dir,
	      uint32_t upto, void *arg)
{
	while (seq_diff(upto, s->next_seq) > 0)
		give_up_first_hole(ctx, s, dir, upto, arg);
	drain(ctx, s, dir, arg);
}

/*
 * Copy the bytes of [seq, seq+len) that are not buffered yet into the list
 * (seq is after next_seq). Bytes already buffered win and are only
 * compared. Returns how many input bytes were handled; *stop says why it
 * stopped early.
 */
static uint32_t
ooo_insert(struct dp_tcp_ctx *ctx, struct dp_tcp_stream *s, uint32_t seq,
	   const uint8_t *p, uint32_t len, struct seg_note *note, enum ooo_stop *stop)
{
	struct dp_tcp_seg **link = &s->ooo, *prev = NULL, *n, *fresh;
	uint32_t done = 0, cur, off, k, m;

	*stop = OOO_DONE;
	while (done < len) {
		cur = seq + done;
		n = *link;
		if (n != NULL && seq_diff(n->seq + n->len, cur) <= 0) {
			prev = n;                   /* wholly before cur */
			link = &n->next;
			continue;
		}
		if (n != NULL && seq_diff(n->seq, cur) <= 0) {
			/* cur falls inside a buffered piece: first copy wins */
			off = cur - n->seq;
			k = min_u32(n->len - off, len - done);
			note->overlap = true;
			if (memcmp(n->data + off, p + done, k) != 0)
				note->diff = true;
			done += k;
			prev = n;
			link = &n->next;
			continue;
		}
		/* cur is in a hole that ends at n (or after the last piece) */
		k = len - done;
		if (n != NULL)
			k = min_u32(k, (uint32_t)seq_diff(n->seq, cur));
		if (prev != NULL && prev->seq + prev->len == cur &&
		    prev->len < DP_TCP_SEG_DATA) {
			/* extend the adjacent piece: no new buffer for small segments */
			m = min_u32(k, DP_TCP_SEG_DATA - prev->len);
			if ((uint64_t)s->ooo_bytes + m > ctx->flow_cap_bytes) {
				*stop = OOO_FLOW_CAP;
				break;
			}
			memcpy(prev->data + prev->len, p + done, m);
			prev->len += m;
		} else {
			m = min_u32(k, DP_TCP_SEG_DATA);
			if ((uint64_t)s->ooo_bytes + m > ctx->flow_cap_bytes ||
			    s->ooo_segs >= seg_limit(ctx)) {
				*stop = OOO_FLOW_CAP;
				break;
			}
			if (rte_mempool_get(ctx->seg_pool, (void **)&fresh) != 0) {
				*stop = OOO_POOL_EMPTY;
				break;
			}
			fresh->seq = cur;
			fresh->len = m;
			fresh->next = n;
			memcpy(fresh->data, p + done, m);
			*link = fresh;
			link = &fresh->next;
			prev = fresh;
			s->ooo_segs++;
		}
		s->ooo_bytes += m;
		done += m;
		note->buffered = true;
	}
	return done;
}

/* ---- in-order path ---- */

/*
 * [p, p+len) starts at next_seq. Deliver it zero-copy, except where a
 * buffered piece already covers the bytes: that first copy is delivered
 * instead (and compared), then the run that follows.
 */
static void
deliver_in_order(struct dp_tcp_ctx *ctx, struct dp_tcp_stream *s, int dir,
		 const uint8_t *p, uint32_t len, struct seg_note *note, void *arg)
{
	struct dp_tcp_seg *n;
	uint32_t k;

	while (len > 0) {
		n = s->ooo;
		if (n != NULL && n->seq == s->next_seq) {
			k = min_u32(n->len, len);
			note->overlap = true;
			if (memcmp(n->data, p, k) != 0)
				note->diff = true;
			p += k;
			len -= k;
			/*
			 * Only this piece: the next may overlap the rest of p.
			 * If the piece reaches past p, len is now 0 and we stop.
			 */
			deliver_head(ctx, s, dir, arg);
			continue;
		}
		k = len;
		if (n != NULL)
			k = min_u32(k, (uint32_t)seq_diff(n->seq, s->next_seq));
		s->next_seq += k;
		ctx->cnt.bytes_in_order += k;
		emit_data(ctx, dir, p, k, arg);
		p += k;
		len -= k;
	}
	drain(ctx, s, dir, arg);
}

/* If every byte before the FIN went out, consume the FIN and report eof. */
static void
check_fin(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c, int dir, void *arg)
{
	struct dp_tcp_stream *s = &c->s[dir];

	if (s->fin_seen && !s->fin_delivered && s->next_seq == s->fin_seq) {
		s->next_seq = s->fin_seq + 1;
		emit_eof(ctx, c, dir, arg);
	}
}

/* Payload of a started direction; seq is where the payload begins. */
static void
stream_data(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c, int dir, uint32_t seq,
	    const uint8_t *p, uint32_t len, void *arg)
{
	struct dp_tcp_stream *s = &c->s[dir];
	struct seg_note note = { false, false, false };
	enum ooo_stop stop;
	int32_t rel, room;
	uint32_t n;

	rel = seq_diff(seq, s->next_seq);
	if (len > DP_TCP_MAX_DISTANCE || rel > DP_TCP_MAX_DISTANCE ||
	    rel < -DP_TCP_MAX_DISTANCE) {
		ctx->cnt.bad_seq++;
		return;
	}
	if (rel < 0 && (uint32_t)-rel >= len) {
		ctx->cnt.retransmissions++;
		return;
	}
	if (s->fin_seen) {
		/* The receiver drops data past its FIN; so do we. */
		room = seq_diff(s->fin_seq, seq);
		if (room <= 0) {
			ctx->cnt.bad_seq++;
			return;
		}
		len = min_u32(len, (uint32_t)room);
	}

	while (len > 0) {
		rel = seq_diff(seq, s->next_seq);
		if (rel < 0) {
			/* already delivered: cannot be compared, the bytes are gone */
			note.overlap = true;
			n = (uint32_t)-rel;
			if (n >= len)
				break;
			seq += n;
			p += n;
			len -= n;
		}
		if (seq == s->next_seq) {
			deliver_in_order(ctx, s, dir, p, len, &note, arg);
			break;
		}
		n = ooo_insert(ctx, s, seq, p, len, &note, &stop);
		seq += n;
		p += n;
		len -= n;
		if (stop == OOO_DONE)
			break;
		if (stop == OOO_POOL_EMPTY) {
			/*
			 * Not this flow's fault: leave the hole open. The bytes
			 * come again if the worker drops the packet, or the hole
			 * is given up on an ACK past it or on flush.
			 */
			ctx->cnt.pool_exhausted++;
			break;
		}
		/* This flow holds too much behind one hole: give that hole up. */
		ctx->cnt.flow_cap_hits++;
		give_up_first_hole(ctx, s, dir, seq, arg);
	}

	if (note.overlap)
		ctx->cnt.overlaps++;
	if (note.diff)
		ctx->cnt.overlap_diff++;
	if (note.buffered)
		ctx->cnt.ooo_segments++;
}

/*
 * The peer acknowledged @p ack in direction @p dir: it has every byte before
 * it, so any we still miss were lost to us, not to it. Give them up.
 */
static void
ack_advance(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c, int dir, uint32_t ack, void *arg)
{
	struct dp_tcp_stream *s = &c->s[dir];
	int32_t rel;

	if (!s->started || s->fin_delivered)
		return;
	rel = seq_diff(ack, s->next_seq);
	if (rel <= 0 || rel > DP_TCP_MAX_DISTANCE)
		return;
	/* The FIN's own sequence number is not payload. */
	if (s->fin_seen && seq_diff(ack, s->fin_seq) > 0)
		ack = s->fin_seq;
	give_up_until(ctx, s, dir, ack, arg);
	check_fin(ctx, c, dir, arg);
}

/*
 * Accept a RST only where the receiver's stack would (RFC 5961 as done by
 * Linux: at rcv_nxt, at the end of the highest out-of-order data it holds,
 * or right at the FIN). An RST the receiver ignores must not end inspection,
 * or it would blind us while the connection lives on.
 */
static bool
rst_acceptable(const struct dp_tcp_stream *s, uint32_t seq)
{
	if (!s->started)
		return true;
	if (seq == s->next_seq || seq == ooo_end(s))
		return true;
	return s->fin_seen && seq == s->fin_seq;
}

static void
handle_rst(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c, int dir, uint8_t flags,
	   uint32_t seq, uint32_t ack, void *arg)
{
	int d;

	if (!rst_acceptable(&c->s[dir], seq)) {
		ctx->cnt.bad_seq++;
		return;
	}
	if (flags & DP_TCP_ACK)
		ack_advance(ctx, c, dir ^ 1, ack, arg);
	/*
	 * Everything deliverable has been delivered already (pieces are
	 * drained as soon as they connect); bytes past a hole die with the
	 * connection in the receiver too, so they are dropped, not reported.
	 */
	for (d = 0; d < 2; d++) {
		free_list(ctx, &c->s[d]);
		emit_eof(ctx, c, d, arg);
	}
	c->state = DP_TCP_CLOSED;
}

/* Record a FIN at @p fin_seq unless it contradicts what we already hold. */
static bool
note_fin(struct dp_tcp_ctx *ctx, struct dp_tcp_stream *s, uint32_t fin_seq)
{
	if (s->fin_seen) {
		if (fin_seq == s->fin_seq)
			return true;
		ctx->cnt.bad_seq++;         /* a second, different end: first wins */
		return false;
	}
	if (seq_diff(fin_seq, s->next_seq) < 0 || seq_diff(fin_seq, ooo_end(s)) < 0) {
		ctx->cnt.bad_seq++;         /* would cut bytes already delivered or held */
		return false;
	}
	s->fin_seen = 1;
	s->fin_seq = fin_seq;
	return true;
}

/*
 * The TTL check (docs/TCP.md "Insertion: low TTL"). The baseline starts at
 * the first packet seen in the direction (the SYN, or any packet of a flow
 * picked up mid-stream) and only ever rises. A segment more than
 * ctx->ttl_limit below it may expire between us and the receiver: it is
 * still reassembled (first copy wins, as in Linux) and the caller raises
 * its TTL, so the receiver gets exactly what we inspected and a later
 * "real" copy is a retransmission it discards. Nothing is dropped: a SYN
 * proxy that answers with its own TTL, or a route that lengthens, costs no
 * packet. What marks an insertion attempt is data of one direction coming
 * with TTLs far apart (the junk copy and the real one): flagged once.
 * The baseline is kept with the check off, so a reload that turns it on
 * covers existing flows.
 */
static unsigned int
ttl_check(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c, int dir, uint8_t ttl, uint32_t len)
{
	struct dp_tcp_stream *s = &c->s[dir];
	unsigned int v = 0;
	uint8_t bit = (uint8_t)(1u << dir);

	if (ctx->ttl_limit != 0 && s->ttl_base > ttl &&
	    (uint32_t)(s->ttl_base - ttl) > ctx->ttl_limit) {
		ctx->cnt.ttl_raised++;
		v |= DP_TCP_RAISE_TTL;
	}
	if (ttl > s->ttl_base)
		s->ttl_base = ttl;
	if (len == 0)
		return v;
	if (!(c->data_ttl_seen & bit)) {
		c->data_ttl_seen |= bit;
		c->data_ttl_lo[dir] = c->data_ttl_hi[dir] = ttl;
	} else if (ttl < c->data_ttl_lo[dir]) {
		c->data_ttl_lo[dir] = ttl;
	} else if (ttl > c->data_ttl_hi[dir]) {
		c->data_ttl_hi[dir] = ttl;
	}
	if (ctx->ttl_limit != 0 && !c->ttl_flagged &&
	    (uint32_t)(c->data_ttl_hi[dir] - c->data_ttl_lo[dir]) > ctx->ttl_limit) {
		c->ttl_flagged = 1;
		ctx->cnt.ttl_evasion++;
		v |= DP_TCP_TTL_EVASION;
	}
	return v;
}

unsigned int
dp_tcp_segment(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c, int dir,
	       uint8_t flags, uint32_t seq, uint32_t ack, uint8_t ttl,
	       const uint8_t *p, uint32_t len, void *arg)
{
	struct dp_tcp_stream *s;
	uint32_t data_seq = seq;
	unsigned int v;

	if (dir != 0 && dir != 1)
		return DP_TCP_PASS;
	if (p == NULL)
		len = 0;
	if (len > 0)
		ctx->cnt.segments++;
	if (c->state == DP_TCP_CLOSED)
		return DP_TCP_PASS;
	s = &c->s[dir];
	v = ttl_check(ctx, c, dir, ttl, len);

	if (flags & DP_TCP_RST) {
		handle_rst(ctx, c, dir, flags, seq, ack, arg);
		return v;
	}

	if (flags & DP_TCP_SYN) {
		if (!s->started) {
			s->isn = seq;
			s->next_seq = seq + 1;
			s->started = 1;
		} else if (!s->midstream && seq != s->isn) {
			ctx->cnt.bad_seq++;         /* another ISN: not this connection */
			return v;
		}
		if (flags & DP_TCP_ACK) {
			if (c->state < DP_TCP_SYN_RECV)
				c->state = DP_TCP_SYN_RECV;
		} else if (c->state == DP_TCP_NONE) {
			c->state = DP_TCP_SYN_SENT;
		}
		data_seq = seq + 1;                 /* TFO data follows the SYN */
	} else if (!s->started) {
		if (len == 0 && !(flags & DP_TCP_FIN))
			goto ack_only;              /* a bare ACK may be a keep-alive at snd_nxt-1 */
		if (!ctx->midstream) {
			if (len > 0)
				ctx->cnt.bad_seq++;
			goto ack_only;
		}
		s->isn = seq;
		s->next_seq = seq;
		s->started = 1;
		s->midstream = 1;
		ctx->cnt.midstream_pickups++;
		if (c->state < DP_TCP_ESTABLISHED)
			c->state = DP_TCP_ESTABLISHED;
	} else if ((flags & DP_TCP_ACK) && c->state == DP_TCP_SYN_RECV) {
		c->state = DP_TCP_ESTABLISHED;
	}

	/* The ACK tells what the peer received before it sent this segment. */
	if (flags & DP_TCP_ACK)
		ack_advance(ctx, c, dir ^ 1, ack, arg);

	if ((flags & DP_TCP_FIN) && !s->fin_delivered) {
		if (seq_diff(data_seq + len, s->next_seq) > DP_TCP_MAX_DISTANCE) {
			ctx->cnt.bad_seq++;
			return v;
		}
		if (note_fin(ctx, s, data_seq + len) && c->state < DP_TCP_CLOSING)
			c->state = DP_TCP_CLOSING;
	}
	if (len > 0)
		stream_data(ctx, c, dir, data_seq, p, len, arg);
	check_fin(ctx, c, dir, arg);
	return v;

ack_only:
	if (flags & DP_TCP_ACK)
		ack_advance(ctx, c, dir ^ 1, ack, arg);
	return v;
}

void
dp_tcp_flush(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c, void *arg)
{
	struct dp_tcp_stream *s;
	int d;

	for (d = 0; d < 2; d++) {
		s = &c->s[d];
		if (!s->started || s->fin_delivered)
			continue;
		give_up_until(ctx, s, d, ooo_end(s), arg);
		/* A known FIN also says how many bytes are missing before it. */
		if (s->fin_seen)
			give_up_until(ctx, s, d, s->fin_seq, arg);
		check_fin(ctx, c, d, arg);
	}
	for (d = 0; d < 2; d++)
		emit_eof(ctx, c, d, arg);
	c->state = DP_TCP_CLOSED;
}

void
dp_tcp_conn_release(struct dp_tcp_ctx *ctx, struct dp_tcp_conn *c)
{
	free_list(ctx, &c->s[0]);
	free_list(ctx, &c->s[1]);
}
