#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Write captures that push apiguard's caps: floods of SYNs, new flows and
half-open connections, huge heads, endless chunked bodies, slow-drip
requests and out-of-order floods, with established "victim" flows mixed in
whose attacks must still be seen.

    flood.py OUT.pcap --mode MODE [--count N] [--victims N] [--seed S]
             [--size N] [--server-port P]

MODE:
  syn        N SYNs from distinct clients, never answered
  newflows   N complete short connections (handshake, GET, 200, FIN)
  halfopen   N handshakes that stop after SYN+ACK
  open       N established connections that each send one request and stay
             open (no FIN): they fill the flow table's established class
  headers    N requests with --size headers each (default 500), and N with
             one header value of --size KiB (as "bigheader")
  bigheader  N requests with one header value of --size KiB (default 64)
  chunked    N connections each sending a chunked body of --size KiB
             (default 256) in 1 KiB chunks that never ends
  slowdrip   N requests sent one byte per packet, one second apart
  ooo        N connections that each start a request head, leave a
             one-byte hole in it and then send
             --size KiB (default 64) after it, which never gets filled
  malformed  N connections: a good request, then one with an invalid
             Content-Length (a parse error), then more packets
  sessions   N connections opened first, then each sends a request, then
             all close: N concurrent HTTP sessions
Victims: --victims established connections are opened before the flood,
send a benign request every so often during it (so they stay in use), and
an attack request (UNION SELECT in the URI, sid 2200001) in the middle
and at the end. --late N brand-new connections after the flood each send
the attack too (10.2.0.0/16, ports 50000 + i). Victims' client ports are 40000 + i; the flood uses clients
from 10.128.0.0/9, victims 10.1.0.0/16.

Prints a JSON summary (packets, flows, victims, attacks) on stdout.
Stdlib only.
"""

import argparse
import json
import random
import struct
import sys

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SMAC, DMAC = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"
ATTACK = (b"GET /api/v1/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users-- "
          b"HTTP/1.1\r\nHost: api.example\r\nUser-Agent: victim\r\n\r\n")
BENIGN = b"GET /api/v1/items/%d HTTP/1.1\r\nHost: api.example\r\nUser-Agent: victim\r\n\r\n"
RESP = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, 65535, 0, 0) + payload
    ph = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64,
                               6, 0, src, dst))
    struct.pack_into("!H", ip, 10, csum(bytes(ip)))
    return DMAC + SMAC + b"\x08\x00" + bytes(ip) + tcp


class Writer:
    """Frames with a capture clock (ns)."""

    def __init__(self):
        self.recs, self.now = [], 1714557600 * 10**9

    def add(self, fr, dt_ns=10000):
        self.now += dt_ns
        self.recs.append((self.now, fr))

    def save(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
            for ts, fr in self.recs:
                f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(fr), len(fr)))
                f.write(fr)


class Conn:
    def __init__(self, w, cip, cport, sip, sport, rng):
        self.w, self.c, self.s, self.cp, self.sp = w, cip, sip, cport, sport
        self.cseq, self.sseq = rng.getrandbits(32), rng.getrandbits(32)

    def pkt(self, to_server, flags, payload=b"", seq=None, dt=10000):
        if to_server:
            fr = frame(self.c, self.s, self.cp, self.sp,
                       self.cseq if seq is None else seq, self.sseq, flags, payload)
        else:
            fr = frame(self.s, self.c, self.sp, self.cp,
                       self.sseq if seq is None else seq, self.cseq, flags, payload)
        self.w.add(fr, dt)

    def syn(self):
        self.pkt(True, SYN)
        self.cseq += 1

    def synack(self):
        self.pkt(False, SYN | ACK)
        self.sseq += 1

    def ack(self):
        self.pkt(True, ACK)

    def handshake(self):
        self.syn()
        self.synack()
        self.ack()

    def send(self, to_server, data, mss=1460, dt=10000):
        for i in range(0, len(data), mss):
            piece = data[i:i + mss]
            self.pkt(to_server, ACK | PSH, piece, dt=dt)
            if to_server:
                self.cseq += len(piece)
            else:
                self.sseq += len(piece)
        # the peer acknowledges
        self.pkt(not to_server, ACK)

    def close(self):
        self.pkt(True, FIN | ACK)
        self.cseq += 1
        self.pkt(False, FIN | ACK)
        self.sseq += 1
        self.pkt(True, ACK)


def ip_of(base, i):
    return bytes([base[0], base[1] + (i >> 16 & 0x7F), i >> 8 & 0xFF, i & 0xFF or 1])


SERVER = bytes([10, 0, 0, 80])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mode", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--victims", type=int, default=0)
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--late", type=int, default=0,
                    help="new connections after the flood, each with one attack")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--server-port", type=int, default=80)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    w = Writer()
    sp = a.server_port
    victims = [Conn(w, bytes([10, 1, i >> 8, i & 0xFF or 1]), 40000 + i, SERVER, sp, rng)
               for i in range(a.victims)]
    attacks = 0

    def victim_turn(k, attack=False):
        nonlocal attacks
        for v in victims:
            v.send(True, ATTACK if attack else BENIGN % k)
            v.send(False, RESP)
            attacks += attack

    for v in victims:
        v.handshake()
    victim_turn(0)
    every = max(1, a.count // 8)
    flows = 0

    def flood_conn(i):
        return Conn(w, ip_of((10, 128), i), 1024 + (i * 7919) % 60000, SERVER, sp, rng)

    m = a.mode
    held = []
    for i in range(a.count):
        if victims and i and i % every == 0:
            victim_turn(i, attack=(i // every == 4))
        c = flood_conn(i)
        flows += 1
        if m == "syn":
            c.syn()
        elif m == "halfopen":
            c.syn()
            c.synack()
        elif m == "newflows":
            c.handshake()
            c.send(True, BENIGN % i)
            c.send(False, RESP)
            c.close()
        elif m == "open":
            c.handshake()
            c.send(True, BENIGN % i)
            c.send(False, RESP)
        elif m in ("headers", "bigheader"):
            c.handshake()
            if m == "headers":
                n = a.size or 500
                hdrs = b"".join(b"X-H%d: v%d\r\n" % (j, j) for j in range(n))
            else:
                hdrs = b"X-Big: " + b"A" * ((a.size or 64) * 1024) + b"\r\n"
            c.send(True, b"GET /api/v1/h HTTP/1.1\r\nHost: api.example\r\n" + hdrs + b"\r\n")
            c.send(False, RESP)
            c.close()
        elif m == "chunked":
            c.handshake()
            c.send(True, b"POST /api/v1/upload HTTP/1.1\r\nHost: api.example\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            for _ in range(a.size or 256):
                c.send(True, b"400\r\n" + b"x" * 1024 + b"\r\n")
        elif m == "slowdrip":
            c.handshake()
            for b in BENIGN % i:
                c.send(True, bytes([b]), dt=10**9)
            c.send(False, RESP)
            c.close()
        elif m == "ooo":
            c.handshake()
            # The head starts in order, then a one-byte hole inside it.
            c.send(True, b"POST /api/v1/upload HTTP/1.1\r\nHost: api.example\r\n")
            body = b"P" * ((a.size or 64) * 1024)
            base = c.cseq
            for off in range(0, len(body), 1460):
                c.pkt(True, ACK | PSH, body[off:off + 1460], seq=base + 1 + off)
        elif m == "malformed":
            c.handshake()
            c.send(True, BENIGN % i)
            c.send(False, RESP)
            c.send(True, b"GET /api/v1/x HTTP/1.1\r\nHost: api.example\r\nContent-Length: 1x\r\n\r\n")
            c.send(True, BENIGN % (i + 1))
            c.send(False, RESP)
            c.close()
        elif m == "sessions":
            c.handshake()
            held.append(c)
        else:
            ap.error("unknown mode " + m)
    if m == "sessions":
        for i, c in enumerate(held):
            c.send(True, BENIGN % i)
        for c in held:
            c.send(False, RESP)
            c.close()
    victim_turn(a.count, attack=True)
    for v in victims:
        v.close()
    for i in range(a.late):
        c = Conn(w, bytes([10, 2, i >> 8, i & 0xFF or 1]), 50000 + i, SERVER, sp, rng)
        c.handshake()
        c.send(True, ATTACK)
        c.send(False, RESP)
        c.close()
        attacks += 1
    w.save(a.out)
    json.dump({"packets": len(w.recs), "flows": flows + len(victims) + a.late,
               "flood_flows": flows, "victims": len(victims), "attacks": attacks,
               "victim_ports": [v.cp for v in victims],
               "seconds": (w.recs[-1][0] - w.recs[0][0]) / 1e9 if w.recs else 0},
              sys.stdout)
    print()


if __name__ == "__main__":
    main()
