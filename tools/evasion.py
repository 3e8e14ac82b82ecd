#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Rewrite the TCP flows of a capture the ways IDS evasion does.

    evasion.py IN.pcap OUT.pcap --mode MODE[,MODE...] [--seed N]
               [--flows PORT,PORT...] [--variant V] [--dirs client|both]

TCP/IP modes (Ptacek & Newsham 1998; Novak & Sturges 2007):
  tiny              every payload byte in its own segment
  ooo               each segment cut in 2..6 pieces sent in a shuffled order
  overlap-conflict  out-of-order overlap: the tail of a segment is sent twice
                    (junk and real, in the order of --variant: junk-first,
                    real-first, alternate = default) before its head fills
                    the hole, so the copies sit in the reassembly queue
  retrans-diff      a retransmission with different data after the real
                    segment (--variant real-first, default) or before it
                    (junk-first: a real stack keeps the junk)
  ipfrag            IPv4 fragments of the TCP segments (--frag-size, 24)
  ttl               a junk copy of each segment with a low TTL (--ttl, 1; or
                    --ttl-below N: N below the segment's own TTL) sent first:
                    it dies before the server, a sensor that does not model
                    hop distance keeps it
  badcsum           a junk copy of each segment with a bad TCP checksum sent
                    first: the server drops it
HTTP modes (HTTP-Evader style; they rewrite the client byte stream and
re-number sequence and acknowledgement numbers to match):
  chunked-ext       request bodies re-framed chunked: odd sizes, hex in
                    mixed case with leading zeros, chunk extensions, trailers
  gzip-chunked      request bodies gzip-compressed inside chunked framing
  cl-te             Content-Length together with Transfer-Encoding (requests
                    with a body), or a duplicate Content-Length (without)
  obs-fold          header values folded (obsolete line folding) at spaces
  bare-lf           LF instead of CRLF in request heads
  case-pct          header names in mixed case, URI characters that need no
                    encoding percent-encoded (mixed-case hex); --double also
                    double-encodes some, --method-case mixes the method case
Several modes may be combined with commas (at most one HTTP mode, which
runs first), e.g. obs-fold,tiny.

Only client-to-server data is rewritten unless --dirs both. Every rebuilt
packet gets correct IP and TCP checksums (except the badcsum junk), and
sequence and acknowledgement numbers stay consistent, so a real stack would
accept the result. Stdlib only.
"""

import argparse
import gzip
import random
import struct
import sys

TCP_MODES = ("tiny", "ooo", "overlap-conflict", "retrans-diff", "ipfrag",
             "ttl", "badcsum")
HTTP_MODES = ("chunked-ext", "gzip-chunked", "cl-te", "obs-fold", "bare-lf",
              "case-pct")
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
MSS = 1460

# ---------------------------------------------------------------- pcap


def read_pcap(path):
    """(header, ns, [(ts_ns, frame)])."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    table = {b"\xd4\xc3\xb2\xa1": ("<", 1000), b"\xa1\xb2\xc3\xd4": (">", 1000),
             b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1)}
    if magic not in table:
        raise SystemExit("%s: not a classic pcap file" % path)
    e, mult = table[magic]
    snap, link = struct.unpack(e + "II", data[16:24])
    if link != 1:
        raise SystemExit("%s: link type %d, Ethernet expected" % (path, link))
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from(e + "IIII", data, off)
        off += 16
        out.append((sec * 1000000000 + frac * mult, data[off:off + incl]))
        off += incl
    return out


def write_pcap(path, recs):
    """Nanosecond pcap: derived packets are 1 ns apart."""
    parts = [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1)]
    last = 0
    for ts, fr in recs:
        ts = max(ts, last + 1)
        last = ts
        parts.append(struct.pack("<IIII", ts // 1000000000, ts % 1000000000,
                                 len(fr), len(fr)))
        parts.append(fr)
    with open(path, "wb") as f:
        f.write(b"".join(parts))


# ---------------------------------------------------------------- packets


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Pkt:
    """A TCP/IP packet split into the fields we rewrite; build() makes the
    frame again with fresh lengths and checksums."""

    __slots__ = ("l2", "fam", "iph", "tcpopt", "sport", "dport", "seq", "ack",
                 "flags", "win", "urg", "payload", "ttl", "bad_csum", "frag",
                 "ts", "raw", "src", "dst")

    def copy(self, **kw):
        p = Pkt()
        for s in Pkt.__slots__:
            setattr(p, s, getattr(self, s))
        p.raw = None
        p.bad_csum = False
        p.frag = 0
        for k, v in kw.items():
            setattr(p, k, v)
        return p

    def tcp_bytes(self):
        hl = 20 + len(self.tcpopt)
        h = struct.pack("!HHIIBBHHH", self.sport, self.dport, self.seq & 0xFFFFFFFF,
                        self.ack & 0xFFFFFFFF, (hl // 4) << 4, self.flags,
                        self.win, 0, self.urg) + self.tcpopt
        seg = h + self.payload
        if self.fam == 4:
            ph = self.src + self.dst + struct.pack("!BBH", 0, 6, len(seg))
        else:
            ph = self.src + self.dst + struct.pack("!IxxxB", len(seg), 6)
        c = csum(ph + seg)
        if self.bad_csum:
            c ^= 0x5A5A
        return seg[:16] + struct.pack("!H", c) + seg[18:]

    def ip_bytes(self, l4, frag_off=0, more=False, ident=None):
        if self.fam == 4:
            h = bytearray(self.iph)
            struct.pack_into("!H", h, 2, len(h) + len(l4))
            if ident is not None:
                struct.pack_into("!H", h, 4, ident)
            fl = struct.unpack_from("!H", h, 6)[0] & 0x4000
            if more or frag_off:
                fl = 0
            struct.pack_into("!H", h, 6, fl | (0x2000 if more else 0) | (frag_off // 8))
            h[8] = self.ttl
            h[10:12] = b"\0\0"
            struct.pack_into("!H", h, 10, csum(bytes(h)))
            return bytes(h) + l4
        h = bytearray(self.iph)
        struct.pack_into("!H", h, 4, len(l4))
        h[7] = self.ttl
        return bytes(h) + l4

    def build(self):
        """List of frames (several with IPv4 fragmentation)."""
        if self.raw is not None:
            return [self.raw]
        seg = self.tcp_bytes()
        if not self.frag or self.fam != 4:
            return [self.l2 + self.ip_bytes(seg)]
        out, ident = [], (self.seq ^ (self.seq >> 16) ^ self.sport) & 0xFFFF
        for off in range(0, len(seg), self.frag):
            part = seg[off:off + self.frag]
            out.append(self.l2 + self.ip_bytes(part, off, off + self.frag < len(seg), ident))
        return out


def parse(ts, fr):
    """Pkt for an Ethernet [VLAN] IPv4/IPv6 TCP frame, else None."""
    off, et = 14, struct.unpack_from("!H", fr, 12)[0] if len(fr) >= 14 else 0
    while et in (0x8100, 0x88A8) and off + 4 <= len(fr):
        et = struct.unpack_from("!H", fr, off + 2)[0]
        off += 4
    p = Pkt()
    p.l2, p.ts, p.raw, p.bad_csum, p.frag = fr[:off], ts, fr, False, 0
    if et == 0x0800 and off + 20 <= len(fr) and fr[off] >> 4 == 4:
        ihl = (fr[off] & 15) * 4
        tot = struct.unpack_from("!H", fr, off + 2)[0]
        if fr[off + 9] != 6 or ihl < 20 or tot < ihl or off + tot > len(fr):
            return None
        if struct.unpack_from("!H", fr, off + 6)[0] & 0x3FFF:
            return None                       # already a fragment
        p.fam, p.iph, p.ttl = 4, fr[off:off + ihl], fr[off + 8]
        p.src, p.dst = fr[off + 12:off + 16], fr[off + 16:off + 20]
        l4, end = off + ihl, off + tot
    elif et == 0x86DD and off + 40 <= len(fr) and fr[off + 6] == 6:
        plen = struct.unpack_from("!H", fr, off + 4)[0]
        p.fam, p.iph, p.ttl = 6, fr[off:off + 40], fr[off + 7]
        p.src, p.dst = fr[off + 8:off + 24], fr[off + 24:off + 40]
        l4, end = off + 40, off + 40 + plen
        if end > len(fr):
            return None
    else:
        return None
    if l4 + 20 > end:
        return None
    (p.sport, p.dport, p.seq, p.ack, doff, p.flags, p.win, _,
     p.urg) = struct.unpack_from("!HHIIBBHHH", fr, l4)
    doff = (doff >> 4) * 4
    if doff < 20 or l4 + doff > end:
        return None
    p.tcpopt = fr[l4 + 20:l4 + doff]
    p.payload = fr[l4 + doff:end]
    return p


# ---------------------------------------------------------------- flows


class Flow:
    def __init__(self):
        self.pkts = []           # Pkt, capture order
        self.client = None       # (src ip, sport)
        self.isn = {}            # dir -> ISN (0 = client, 1 = server)

    def dir(self, p):
        return 0 if (p.src, p.sport) == self.client else 1


def group(recs):
    """Items in capture order: ('raw', ts, frame) or ('flow', Flow) at the
    position of the flow's first packet; each Pkt keeps its own ts."""
    items, flows = [], {}
    for ts, fr in recs:
        p = parse(ts, fr)
        if p is None:
            items.append(("raw", ts, fr))
            continue
        a, b = (p.src, p.sport), (p.dst, p.dport)
        k = (a, b) if a <= b else (b, a)
        f = flows.get(k)
        if f is None or (p.flags & SYN and not p.flags & ACK and f.pkts
                         and f.isn.get(0) not in (None, p.seq)):
            f = flows[k] = Flow()
            items.append(("flow", f))
        if f.client is None:
            if p.flags & SYN and not p.flags & ACK:
                f.client = a
            elif p.flags & SYN:
                f.client = b
            else:
                f.client = a if p.dport <= p.sport else b
        d = f.dir(p)
        if p.flags & SYN and d not in f.isn:
            f.isn[d] = p.seq
        f.pkts.append(p)
    return items


def junk_of(data):
    """Same length and structure, different bytes: letters and digits
    replaced, so attack strings disappear but the HTTP framing survives."""
    out = bytearray(data)
    for i, c in enumerate(out):
        if 0x61 <= c <= 0x7A:
            out[i] = 0x71                      # q
        elif 0x41 <= c <= 0x5A:
            out[i] = 0x51                      # Q
        elif 0x30 <= c <= 0x39:
            out[i] = 0x37                      # 7
        elif c in b"'\"<>${}();|`&=%.":
            out[i] = 0x5F                      # _
    return bytes(out)


# ---------------------------------------------------------------- TCP modes


def cuts(n, k, rng):
    """k pieces of [0, n) as (off, len), in order."""
    k = max(1, min(k, n))
    pts = sorted(rng.sample(range(1, n), k - 1)) if k > 1 else []
    pts = [0] + pts + [n]
    return [(pts[i], pts[i + 1] - pts[i]) for i in range(len(pts) - 1)]


def seg(p, off, length, payload=None, **kw):
    data = p.payload[off:off + length] if payload is None else payload
    flags = p.flags
    if off + length < len(p.payload):
        flags &= ~FIN                          # FIN only on the last piece
    return p.copy(seq=(p.seq + off) & 0xFFFFFFFF, payload=data, flags=flags, **kw)


def tcp_mode(mode, p, n, args, rng):
    """Replacement packets for one data packet p (n: its index in the
    flow's rewritten data segments, for alternation)."""
    L = len(p.payload)
    if mode == "tiny":
        return [seg(p, i, 1) for i in range(L)]
    if mode == "ooo":
        if L < 2:
            return [p]
        pieces = cuts(L, rng.randint(2, 6), rng)
        order = pieces[:]
        while order == pieces:
            rng.shuffle(order)
        return [seg(p, o, ln) for o, ln in order]
    if mode == "overlap-conflict":
        if L < 2:
            return [p]
        m = rng.randint(1, L - 1)
        tail = p.payload[m:]
        junk = seg(p, m, L - m, junk_of(tail))
        real = seg(p, m, L - m)
        v = args.variant or "alternate"
        junk_first = v == "junk-first" or (v == "alternate" and n % 2 == 0)
        two = [junk, real] if junk_first else [real, junk]
        return two + [seg(p, 0, m)]
    if mode == "retrans-diff":
        junk = p.copy(payload=junk_of(p.payload))
        return [junk, p] if args.variant == "junk-first" else [p, junk]
    if mode == "ipfrag":
        return [p.copy(frag=args.frag_size)]
    if mode == "ttl":
        ttl = args.ttl if args.ttl_below is None else max(p.ttl - args.ttl_below, 0)
        return [p.copy(payload=junk_of(p.payload), ttl=ttl), p]
    if mode == "badcsum":
        return [p.copy(payload=junk_of(p.payload), bad_csum=True), p]
    raise ValueError(mode)


# ---------------------------------------------------------------- HTTP modes


def parse_requests(s):
    """[(start, end, head_lines, body, chunked)] and the offset where
    parsing stopped. head_lines excludes the final empty line."""
    out, pos = [], 0
    while pos < len(s):
        he = s.find(b"\r\n\r\n", pos)
        if he < 0:
            break
        lines = s[pos:he].split(b"\r\n")
        cl, te = 0, False
        for ln in lines[1:]:
            name, _, val = ln.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                cl = int(val.strip() or b"0")
            elif name == b"transfer-encoding" and b"chunked" in val.lower():
                te = True
        b = he + 4
        if te:
            body = bytearray()
            while True:
                le = s.find(b"\r\n", b)
                if le < 0:
                    return out, pos
                size = int(s[b:le].split(b";")[0].strip(), 16)
                b = le + 2
                if size == 0:
                    te_end = s.find(b"\r\n\r\n", b - 2)
                    if te_end < 0:
                        return out, pos
                    b = te_end + 4
                    break
                body += s[b:b + size]
                b += size + 2
            body = bytes(body)
        else:
            if b + cl > len(s):
                break
            body = s[b:b + cl]
            b += cl
        out.append((pos, b, lines, body, te))
        pos = b
    return out, pos


def mixcase(b, rng):
    return bytes(c ^ 0x20 if (0x61 <= (c | 0x20) <= 0x7A and rng.random() < 0.5) else c
                 for c in b)


def chunk_frame(body, rng, ext=True):
    out, i, sizes = bytearray(), 0, [1, 3, 5, 7, 11, 13, 17, 31, 61, 127]
    while i < len(body):
        n = min(rng.choice(sizes), len(body) - i)
        hx = ("%x" % n).encode()
        hx = b"0" * rng.randint(0, 3) + mixcase(hx, rng)
        e = b""
        if ext:
            e = rng.choice([b";a=b", b';ext="x y"', b";foo", b" ;bar=1", b""])
        out += hx + e + b"\r\n" + body[i:i + n] + b"\r\n"
        i += n
    out += b"0" + (b";last=1" if ext else b"") + b"\r\n"
    if ext:
        out += b"X-Trailer-Check: 1\r\n"
    out += b"\r\n"
    return bytes(out)


def without(lines, *names):
    return [ln for ln in lines
            if ln.partition(b":")[0].strip().lower() not in names]


UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def pct_uri(uri, rng, double):
    out, i = bytearray(), 0
    while i < len(uri):
        c = uri[i]
        if c == 0x25:                           # an existing escape stays as is
            out += uri[i:i + 3]
            i += 3
            continue
        i += 1
        if c in UNRESERVED and rng.random() < 0.5:
            enc = mixcase(b"%%%02x" % c, rng)
            if double and rng.random() < 0.3:
                enc = b"%25" + enc[1:]
            out += enc
        else:
            out += bytes([c])
    return bytes(out)


def rewrite_request(mode, lines, body, chunked, idx, args, rng):
    """New bytes of one request."""
    reqline, hdrs = lines[0], lines[1:]
    has_body = chunked or len(body) > 0
    eol = b"\r\n"
    if mode in ("chunked-ext", "gzip-chunked") and has_body:
        hdrs = without(hdrs, b"content-length", b"transfer-encoding")
        if mode == "gzip-chunked":
            hdrs = without(hdrs, b"content-encoding")
            body = gzip.compress(body, mtime=0)
            hdrs.append(b"Content-Encoding: gzip")
        hdrs.append(b"Transfer-Encoding: chunked")
        framed = chunk_frame(body, rng, ext=(mode == "chunked-ext"))
        return eol.join([reqline] + hdrs) + eol + eol + framed
    if mode == "cl-te":
        if has_body:
            hdrs = without(hdrs, b"content-length", b"transfer-encoding")
            framed = chunk_frame(body, rng, ext=False)
            hdrs += [b"Content-Length: %d" % len(framed), b"Transfer-Encoding: chunked"]
            return eol.join([reqline] + hdrs) + eol + eol + framed
        hdrs = without(hdrs, b"content-length") + [b"Content-Length: 0", b"Content-Length: 0"]
        return eol.join([reqline] + hdrs) + eol + eol
    framed = body
    if chunked:
        framed = chunk_frame(body, rng, ext=False)
    if mode == "obs-fold":
        new = []
        for h in hdrs:
            name, sep, val = h.partition(b":")
            if name.strip().lower() in (b"content-length", b"transfer-encoding") or not sep:
                new.append(h)
                continue
            v = val.lstrip(b" \t")
            sp = [i for i, c in enumerate(v) if c == 0x20]
            if sp and rng.random() < 0.7:
                i = rng.choice(sp)
                new.append(name + b": " + v[:i] + b"\r\n " + v[i + 1:])
            else:
                new.append(name + b":\r\n " + v)
        hdrs = new
    elif mode == "bare-lf":
        eol = b"\n"
    elif mode == "case-pct":
        hdrs = [mixcase(h.partition(b":")[0], rng) + b":" + h.partition(b":")[2]
                for h in hdrs]
        parts = reqline.split(b" ")
        if len(parts) == 3:
            if args.method_case:
                parts[0] = mixcase(parts[0], rng)
            parts[1] = pct_uri(parts[1], rng, args.double)
            reqline = b" ".join(parts)
    return eol.join([reqline] + hdrs) + eol + eol + framed


def http_flow(f, modes, args, rng):
    """Rewrite the client stream of flow f; False if it cannot be (not in
    order, no handshake seen)."""
    if 0 not in f.isn:
        return False
    base = (f.isn[0] + 1) & 0xFFFFFFFF
    stream, cpk = bytearray(), []
    for p in f.pkts:
        if f.dir(p) == 0 and p.payload:
            rel = (p.seq - base) & 0xFFFFFFFF
            if rel != len(stream):
                return False                    # reordered or retransmitted input
            cpk.append(p)
            stream += p.payload
    if not cpk:
        return False
    stream = bytes(stream)
    reqs, stop = parse_requests(stream)
    if not reqs:
        return False
    new = bytearray()
    starts = []                                 # (orig start, new start)
    for i, (a, b, lines, body, ch) in enumerate(reqs):
        starts.append((a, len(new)))
        new += rewrite_request(modes[0], lines, body, ch, i, args, rng)
    parsed_end, new_parsed_end = stop, len(new)
    new += stream[stop:]
    total = len(stream)

    def m(x):
        """New offset of original client offset x (a packet boundary)."""
        if x >= parsed_end:
            return new_parsed_end + min(x, total) - parsed_end + max(0, x - total)
        for a, na in starts:
            if a >= x:
                return na
        return new_parsed_end

    out = []
    for p in f.pkts:
        if f.dir(p) == 0:
            rel = (p.seq - base) & 0xFFFFFFFF
            if p.flags & SYN:
                out.append(p)
                continue
            if rel > total + 1:
                out.append(p)
                continue
            na = m(rel)
            nb = m(rel + len(p.payload)) if p.payload else na
            data = bytes(new[na:nb])
            if p.payload and not data and not p.flags & (FIN | RST):
                continue                        # its bytes moved to an earlier packet
            for i in range(0, max(len(data), 1), MSS):
                piece = data[i:i + MSS]
                last = i + MSS >= len(data)
                fl = p.flags if last else p.flags & ~(FIN | PSH)
                out.append(p.copy(seq=(base + na + i) & 0xFFFFFFFF, payload=piece, flags=fl))
        else:
            if p.flags & ACK and not p.flags & SYN:
                rel = (p.ack - base) & 0xFFFFFFFF
                if rel <= total:
                    p = p.copy(ack=(base + m(rel)) & 0xFFFFFFFF)
                elif rel == total + 1:
                    p = p.copy(ack=(base + len(new) + 1) & 0xFFFFFFFF)
            out.append(p)
    f.pkts = out
    return True


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--mode", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--flows", default="", help="client ports to rewrite (default all)")
    ap.add_argument("--variant", default=None,
                    choices=["junk-first", "real-first", "alternate"])
    ap.add_argument("--dirs", default="client", choices=["client", "both"])
    ap.add_argument("--frag-size", type=int, default=24)
    ap.add_argument("--ttl", type=int, default=1)
    ap.add_argument("--ttl-below", type=int, default=None,
                    help="ttl mode: junk TTL this far below the segment's own (instead of --ttl)")
    ap.add_argument("--double", action="store_true")
    ap.add_argument("--method-case", action="store_true")
    args = ap.parse_args()
    modes = [m for m in args.mode.split(",") if m]
    for m in modes:
        if m not in TCP_MODES + HTTP_MODES:
            ap.error("unknown mode %s (allowed: %s)" % (m, ", ".join(TCP_MODES + HTTP_MODES)))
    if args.frag_size < 8 or args.frag_size % 8:
        ap.error("--frag-size must be a positive multiple of 8")
    if sum(m in HTTP_MODES for m in modes) > 1:
        ap.error("at most one HTTP mode at a time")
    ports = {int(x) for x in args.flows.split(",") if x}
    rng = random.Random(args.seed)
    items = group(read_pcap(args.inp))
    n_flows = n_http = n_segs = 0
    for it in items:
        if it[0] != "flow":
            continue
        f = it[1]
        if f.client is None or (ports and f.client[1] not in ports):
            continue
        n_flows += 1
        hm = [m for m in modes if m in HTTP_MODES]
        if hm and http_flow(f, hm, args, rng):
            n_http += 1
        for mode in (m for m in modes if m in TCP_MODES):
            out, n = [], 0
            for p in f.pkts:
                d = f.dir(p)
                if p.payload and (d == 0 or args.dirs == "both"):
                    out.extend(tcp_mode(mode, p, n, args, rng))
                    n += 1
                    n_segs += 1
                else:
                    out.append(p)
            f.pkts = out
    recs = []
    for it in items:
        if it[0] == "raw":
            recs.append((it[1], it[2]))
            continue
        for p in it[1].pkts:
            for fr in p.build():
                recs.append((p.ts, fr))
    recs.sort(key=lambda r: r[0])              # stable: derived order kept
    write_pcap(args.out, recs)
    print("evasion: %s: %d flows rewritten (%d HTTP streams, %d segments), %d frames"
          % (args.mode, n_flows, n_http, n_segs, len(recs)), file=sys.stderr)


if __name__ == "__main__":
    main()
