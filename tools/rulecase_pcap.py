#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turn rule test cases (tests/rules/cases/*.cases) into a pcap of complete
TCP sessions, one session per case, plus a JSON manifest that says which
client address/port carries which case.

usage: rulecase_pcap.py -o OUT.pcap [-m MANIFEST.json] [--variant V]
                        [--seed N] CASEFILE...

Variants (how each exchange is put on the wire):
  whole    each message in one segment (MSS-split above 1460 bytes)
  small    every message cut into random 1..7-byte segments
  ooo      random 8..64-byte segments sent in shuffled order per message
  chunked  request and response bodies re-framed as Transfer-Encoding:
           chunked (random chunk sizes), 16..90-byte segments
  gzip     response bodies gzip-compressed (Content-Encoding: gzip)
  ipv6     as whole, over IPv6
Cases marked "@raw" are sent byte for byte in every variant (only the
segmentation changes): their framing is what they test.

Case file format (one case per "pos"/"neg" line, stdlib only, no YAML):

  # comment
  pos 2200001 GET /api/v1/items?q=1'+UNION+SELECT+1--    one-line case
  neg 2200001 GET /api/v1/items?q=union+station           benign twin
  pos 2200050                                            block form:
  > GET /api/v1/me                                       request line
  > Authorization: Bearer eyJhbGciOiJub25lIn0.e30.       request header
  >| {"json": "body line"}                               request body line
  < HTTP/1.1 500 Internal Server Error                   response line
  < Content-Type: text/plain                             response header
  <| Traceback (most recent call last):                  response body line
  @raw        no default headers, no Content-Length, no re-framing
  @noresp     the server never answers (client closes after the request)

"pos" lists the sids that must fire on the case's flow; "neg" names the
rule it is a benign twin of, and nothing in the pack may fire on it.
Defaults (not for @raw): request line gets " HTTP/1.1"; Host, User-Agent
and Accept headers are added when absent; a body gets a Content-Length;
without "<" lines the response is a small JSON 200. Body lines are joined
with "\\n". "\\x{0d0a}" anywhere stands for those bytes.

Independent of apiguard's code on purpose: the test must not share a bug
with what it checks.
"""

import argparse
import gzip
import json
import random
import re
import struct
import sys

DEFAULT_UA = ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 "
              "Firefox/125.0")
SERVER_IP4 = bytes([10, 0, 0, 80])
SERVER_IP6 = bytes.fromhex("fd000000000000000000000000000080")
SERVER_PORT = 80
VARIANTS = ("whole", "small", "ooo", "chunked", "gzip", "ipv6")

_ESC = re.compile(r"\\x\{([0-9a-fA-F]+)\}")


def unescape(s):
    """Text of a case line -> bytes, with \\x{hh...} expanded."""
    out, pos = bytearray(), 0
    for m in _ESC.finditer(s):
        out += s[pos:m.start()].encode("utf-8")
        h = m.group(1)
        if len(h) % 2:
            raise ValueError("odd number of hex digits in \\x{%s}" % h)
        out += bytes.fromhex(h)
        pos = m.end()
    out += s[pos:].encode("utf-8")
    return bytes(out)


# ---------------------------------------------------------------- cases

class Case:
    def __init__(self, path, line, kind, sids):
        self.path, self.line, self.kind, self.sids = path, line, kind, sids
        self.req_line = None
        self.req_headers = []     # bytes lines without CRLF
        self.req_body = None      # list of bytes lines, or None
        self.resp_line = None
        self.resp_headers = []
        self.resp_body = None
        self.raw = False
        self.noresp = False

    def where(self):
        return "%s:%d" % (self.path, self.line)


def parse_cases(path):
    cases = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for n, ln in enumerate(f, 1):
            ln = ln.rstrip("\r\n")
            if not ln.strip() or ln.lstrip().startswith("#"):
                continue
            m = re.match(r"^(pos|neg)\s+([0-9,]+)(?:\s+(\S+)\s+(.*))?$", ln)
            if m:
                cur = Case(path, n, m.group(1), [int(x) for x in m.group(2).split(",") if x])
                if m.group(3):
                    cur.req_line = unescape(m.group(3) + " " + m.group(4).strip())
                cases.append(cur)
                continue
            if cur is None:
                raise ValueError("%s:%d: line before the first case" % (path, n))
            if ln.startswith("@"):
                for opt in ln[1:].split():
                    if opt == "raw":
                        cur.raw = True
                    elif opt == "noresp":
                        cur.noresp = True
                    else:
                        raise ValueError("%s:%d: unknown option %s" % (path, n, opt))
            elif ln.startswith(">|") or ln.startswith("<|"):
                text = unescape(ln[3:] if ln[2:3] == " " else ln[2:])
                attr = "req_body" if ln[0] == ">" else "resp_body"
                if getattr(cur, attr) is None:
                    setattr(cur, attr, [])
                getattr(cur, attr).append(text)
            elif ln.startswith(">") or ln.startswith("<"):
                text = unescape(ln[2:] if ln[1:2] == " " else ln[1:])
                if ln[0] == ">":
                    if cur.req_line is None:
                        cur.req_line = text
                    else:
                        cur.req_headers.append(text)
                else:
                    if cur.resp_line is None:
                        cur.resp_line = text
                    else:
                        cur.resp_headers.append(text)
            else:
                raise ValueError("%s:%d: cannot parse %r" % (path, n, ln))
    for c in cases:
        if c.req_line is None:
            raise ValueError("%s: case without a request line" % c.where())
    return cases


def _has(headers, name):
    name = name.lower() + b":"
    return any(h.lower().replace(b" ", b"").startswith(name) for h in headers)


def _chunk(body, rng):
    out = bytearray()
    pos = 0
    while pos < len(body):
        n = min(len(body) - pos, rng.randint(1, 23))
        out += b"%x\r\n" % n + body[pos:pos + n] + b"\r\n"
        pos += n
    out += b"0\r\n\r\n"
    return bytes(out)


def build_request(c, variant, rng):
    line = c.req_line
    if not c.raw and len(line.split(b" ")) == 2:
        line += b" HTTP/1.1"
    hdrs = list(c.req_headers)
    body = b"\n".join(c.req_body) if c.req_body is not None else None
    if not c.raw:
        if not _has(hdrs, b"Host"):
            hdrs.insert(0, b"Host: api.example.com")
        if not _has(hdrs, b"User-Agent"):
            hdrs.append(b"User-Agent: " + DEFAULT_UA.encode())
        if not _has(hdrs, b"Accept"):
            hdrs.append(b"Accept: application/json")
        if body is not None and not _has(hdrs, b"Content-Length") \
                and not _has(hdrs, b"Transfer-Encoding"):
            if variant == "chunked":
                hdrs.append(b"Transfer-Encoding: chunked")
                body = _chunk(body, rng)
            else:
                hdrs.append(b"Content-Length: %d" % len(body))
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in hdrs) + b"\r\n" + (body or b"")


def build_response(c, variant, rng):
    if c.noresp:
        return None
    if c.resp_line is None:
        line = b"HTTP/1.1 200 OK"
        hdrs = [b"Content-Type: application/json"]
        body = b'{"status":"ok","items":[]}'
    else:
        line, hdrs = c.resp_line, list(c.resp_headers)
        body = b"\n".join(c.resp_body) if c.resp_body is not None else None
    if c.raw:
        return line + b"\r\n" + b"".join(h + b"\r\n" for h in hdrs) + b"\r\n" + (body or b"")
    code = int(line.split(b" ")[1])
    hdrs.insert(0, b"Date: Wed, 01 May 2024 10:00:00 GMT")
    bodyless = code in (204, 304) or 100 <= code < 200 or c.req_line.startswith(b"HEAD ")
    if bodyless:
        body = None
    elif not _has(hdrs, b"Content-Length") and not _has(hdrs, b"Transfer-Encoding"):
        body = body or b""
        if variant == "gzip" and body:
            body = gzip.compress(body, mtime=0)
            hdrs.append(b"Content-Encoding: gzip")
        if variant == "chunked" and body:
            hdrs.append(b"Transfer-Encoding: chunked")
            body = _chunk(body, rng)
        else:
            hdrs.append(b"Content-Length: %d" % len(body))
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in hdrs) + b"\r\n" + (body or b"")


# ---------------------------------------------------------------- packets

def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def frame(v6, src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, 65535, 0, 0) + payload
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(tcp), 6)
        ck = _csum(pseudo + tcp)
        tcp = tcp[:16] + struct.pack("!H", ck) + tcp[18:]
        ip = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + dst
        et = 0x86DD
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(tcp))
        ck = _csum(pseudo + tcp)
        tcp = tcp[:16] + struct.pack("!H", ck) + tcp[18:]
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                          src, dst)
        ip = hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:]
        et = 0x0800
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02" + struct.pack("!H", et) + ip + tcp


def cut(data, variant, rng):
    """Split a message into (offset, bytes) segments, in sending order."""
    if variant == "small":
        lo, hi = 1, 7
    elif variant == "ooo":
        lo, hi = 8, 64
    elif variant == "chunked":
        lo, hi = 16, 90
    else:
        lo = hi = 1460
    segs, pos = [], 0
    while pos < len(data):
        n = min(len(data) - pos, rng.randint(lo, hi))
        segs.append((pos, data[pos:pos + n]))
        pos += n
    if variant == "ooo" and len(segs) > 1:
        first = segs[0]
        rest = segs[1:]
        rng.shuffle(rest)
        # The head's first bytes arrive last, so nothing can be parsed
        # before every other segment has been held out of order.
        segs = rest + [first]
    return segs


def session(idx, c, variant, rng):
    """Frames of one complete TCP session for case number idx."""
    v6 = variant == "ipv6"
    if v6:
        cip = SERVER_IP6[:12] + bytes([0x0a, 0x64, (idx >> 8) & 255, idx & 255])
        sip = SERVER_IP6
    else:
        cip = bytes([10, 100 + (idx >> 16), (idx >> 8) & 255, idx & 255])
        sip = SERVER_IP4
    cport = 20000 + (idx * 7) % 40000
    req = build_request(c, variant, rng)
    resp = build_response(c, variant, rng)
    cs, ss = rng.randrange(1 << 32), rng.randrange(1 << 32)
    out = []

    def c2s(seq, ack, fl, pl=b""):
        out.append(frame(v6, cip, sip, cport, SERVER_PORT, seq, ack, fl, pl))

    def s2c(seq, ack, fl, pl=b""):
        out.append(frame(v6, sip, cip, SERVER_PORT, cport, seq, ack, fl, pl))

    c2s(cs, 0, SYN)
    s2c(ss, cs + 1, SYN | ACK)
    c2s(cs + 1, ss + 1, ACK)
    cn, sn = cs + 1, ss + 1
    for off, pl in cut(req, variant, rng):
        c2s(cn + off, sn, PSH | ACK, pl)
    cn += len(req)
    s2c(sn, cn, ACK)
    if resp is not None:
        for off, pl in cut(resp, variant, rng):
            s2c(sn + off, cn, PSH | ACK, pl)
        sn += len(resp)
        c2s(cn, sn, ACK)
    c2s(cn, sn, FIN | ACK)
    s2c(sn, cn + 1, FIN | ACK)
    c2s(cn + 1, sn + 1, ACK)
    meta = {"client_ip": _ip_text(cip, v6), "client_port": cport,
            "server_ip": _ip_text(sip, v6), "server_port": SERVER_PORT}
    return out, meta


def _ip_text(b, v6):
    import ipaddress
    return str(ipaddress.IPv6Address(b) if v6 else ipaddress.IPv4Address(b))


def write_pcap(path, frames, ts0_us=1714557600000000, step_us=50):
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    ts = ts0_us
    for fr in frames:
        out.append(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(fr), len(fr)))
        out.append(fr)
        ts += step_us
    with open(path, "wb") as f:
        f.write(b"".join(out))


def build(cases, variant, seed, interleave=16):
    """All sessions; groups of `interleave` flows are sent round-robin so
    that many flows are open at once."""
    rng = random.Random("%s/%d" % (variant, seed))
    frames, manifest = [], []
    for g in range(0, len(cases), interleave):
        lists = []
        for i in range(g, min(g + interleave, len(cases))):
            c = cases[i]
            fr, meta = session(i, c, variant, rng)
            meta.update({"index": i, "where": c.where(), "kind": c.kind, "sids": c.sids})
            manifest.append(meta)
            lists.append(fr)
        pos = [0] * len(lists)
        left = sum(len(x) for x in lists)
        while left:
            for j, fl in enumerate(lists):
                if pos[j] < len(fl):
                    frames.append(fl[pos[j]])
                    pos[j] += 1
                    left -= 1
    return frames, manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("-m", "--manifest")
    ap.add_argument("--variant", choices=VARIANTS, default="whole")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    cases = []
    try:
        for p in a.files:
            cases += parse_cases(p)
    except (OSError, ValueError) as e:
        print("rulecase_pcap: %s" % e, file=sys.stderr)
        return 2
    frames, manifest = build(cases, a.variant, a.seed)
    write_pcap(a.output, frames)
    if a.manifest:
        with open(a.manifest, "w") as f:
            json.dump({"variant": a.variant, "packets": len(frames), "cases": manifest}, f,
                      indent=0)
    print("%d cases, %d packets -> %s" % (len(cases), len(frames), a.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
