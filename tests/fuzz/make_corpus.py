#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Build the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Packet seeds come from captures of the traffic generator:
    build/tools/apiguard-gen --scenario demo -o demo.pcap
    build/tools/apiguard-gen --scenario behaviour-demo -o bdemo.pcap
    tests/fuzz/make_corpus.py --pcap demo.pcap --pcap bdemo.pcap
Each TCP flow of a capture becomes one fuzz_packets input (the frames in
capture order, in the length-prefixed format fuzz_packets.c describes) and
one fuzz_http_stream input (the two reassembled byte streams). The other
corpora are made from the shipped rules and configuration and from small
documents written here. Inputs are named by content hash, as libFuzzer does.
"""
import argparse
import hashlib
import math
import os
import struct
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAX_INPUT = 16384   # run_smoke.sh passes -max_len=16384


def put(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def read_pcap(path):
    with open(path, "rb") as f:
        buf = f.read()
    magic = struct.unpack("<I", buf[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = "<"
    else:
        e = ">"
    nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
    off = 24
    while off + 16 <= len(buf):
        sec, frac, incl, _ = struct.unpack(e + "IIII", buf[off:off + 16])
        off += 16
        yield sec * 10**9 + (frac if nano else frac * 1000), buf[off:off + incl]
        off += incl


def flow_of(frame):
    """(key, src, l4 payload, seq) of an Ethernet/VLAN/IPv4/IPv6 TCP frame, or None."""
    off, et = 12, struct.unpack(">H", frame[12:14])[0]
    while et in (0x8100, 0x88a8):
        off += 4
        et = struct.unpack(">H", frame[off:off + 2])[0]
    off += 2
    if et == 0x0800:
        ihl = (frame[off] & 15) * 4
        if frame[off + 9] != 6:
            return None
        tot = struct.unpack(">H", frame[off + 2:off + 4])[0]
        src, dst = frame[off + 12:off + 16], frame[off + 16:off + 20]
        l4, end = off + ihl, off + tot
    elif et == 0x86dd:
        if frame[off + 6] != 6:
            return None
        plen = struct.unpack(">H", frame[off + 4:off + 6])[0]
        src, dst = frame[off + 8:off + 24], frame[off + 24:off + 40]
        l4, end = off + 40, off + 40 + plen
    else:
        return None
    sp, dp, seq = struct.unpack(">HHI", frame[l4:l4 + 8])
    doff = (frame[l4 + 12] >> 4) * 4
    a, b = (src, sp), (dst, dp)
    return (min(a, b), max(a, b)), a, frame[l4 + doff:end], seq


def packets_and_streams(pcaps, max_flows):
    flows = {}
    order = []
    for path in pcaps:
        for ts, frame in read_pcap(path):
            r = flow_of(frame)
            if r is None:
                continue
            key, src, payload, seq = r
            key = (path, key)
            if key not in flows:
                flows[key] = {"client": src, "frames": [], "data": [{}, {}]}
                order.append(key)
            fl = flows[key]
            d = 0 if src == fl["client"] else 1
            fl["frames"].append((ts, d, frame))
            if payload:
                fl["data"][d][seq] = payload
    n = 0
    for key in order:
        fl = flows[key]
        # fuzz_packets: mode 0, then (len, meta, frame) per frame
        out, last = bytearray([0]), None
        for ts, d, frame in fl["frames"]:
            step = 0 if last is None else min(127, int(math.sqrt(max(0, ts - last) / 1e6)))
            last = ts
            rec = struct.pack(">HB", len(frame), (step << 1) | d) + frame
            if len(out) + len(rec) > MAX_INPUT:
                break
            out += rec
        put("fuzz_packets", bytes(out))
        if n == 0:
            # verdict variants for fuzz_packets.rules: the first request
            # path rewritten in place (same length; checksums unchecked)
            i = out.find(b"GET /")
            if i < 0:
                i = out.find(b"POST /")
            i = out.find(b"/", i)
            for path in (b"/fzpass", b"/fzdrop", b"/fzrej/"):
                put("fuzz_packets", bytes(out[:i]) + path + bytes(out[i + len(path):]))
        # fuzz_http_stream: flags, request length, seed, request, response
        req = b"".join(v for _, v in sorted(fl["data"][0].items()))
        resp = b"".join(v for _, v in sorted(fl["data"][1].items()))
        if req:
            req = req[:8192]
            resp = resp[:MAX_INPUT - 4 - len(req)]
            put("fuzz_http_stream",
                bytes([0]) + struct.pack(">H", len(req)) + bytes([n & 255]) + req + resp)
        n += 1
        if n >= max_flows:
            break
    return n


def rules():
    d = os.path.join(ROOT, "configs", "rules")
    n = 0
    for name in sorted(os.listdir(d)):
        # logical rules: a line ending in '\\' continues on the next
        rules, cur = [], ""
        for l in open(os.path.join(d, name), encoding="utf-8"):
            if not cur and (not l.strip() or l.startswith("#")):
                continue
            cur += l
            if not l.rstrip("\n").endswith("\\"):
                rules.append(cur)
                cur = ""
        # every 8th rule of each file, as written: each file's keywords
        for r in rules[::8]:
            put("fuzz_rules", r.encode())
            n += 1
        put("fuzz_rules", "".join(rules[:3]).encode())
        # the pcres as written (fuzz_relit): every 4th of each file
        for r in rules[::4]:
            for m in re.finditer(r'pcre:"/(.*?)/[A-Za-z]*";', r):
                put("fuzz_relit", m.group(1).encode())
    return n


CONFIGS = [
    "dataplane:\n  workers: 2\n  ports:\n    - {name: net_tap0, peer: net_tap1}\n"
    "    - {name: net_tap1, peer: net_tap0}\n",
    "rules:\n  files: [a.rules, b.rules]\n  vars:\n    HOME_NET: \"[10.0.0.0/8]\"\n",
    "outputs:\n  eve:\n    enabled: true\n    file: eve.json\n",
    "rest:\n  enabled: true\n  listen: \"[::1]:8088\"\n  max-body: 65536\n",
    "dataplane: {flows: {max: 1024}}\n",
]

OPENAPI_JSON = """{"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
 "paths": {"/v1/users/{userId}": {"get": {"parameters": [{"name": "userId", "in": "path"}]},
   "put": {"requestBody": {"content": {"application/json": {"schema": {"type": "object",
     "properties": {"name": {"type": "string"}, "email": {"type": "string"}}}}}}}},
  "/v1/orders": {"post": {"requestBody": {"content": {"application/json": {"schema":
     {"$ref": "#/components/schemas/Order"}}}}}}},
 "components": {"schemas": {"Order": {"type": "object", "properties": {"item": {"type": "string"},
   "qty": {"type": "integer"}}}}}}
"""

OPENAPI_YAML = """openapi: 3.0.1
paths:
  /v1/users/{name}:
    get: {}
  /v1/accounts/{id}/transfers:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                amount: {type: number}
                to: {type: string}
"""

BEHAV_PARAMS = [
    "login:\n  paths: [\"/v2/auth\", \"/api/*/login\"]\n  failure_status: [401, 429]\n"
    "identity:\n  trusted_proxies: [\"10.0.0.0/8\", \"2001:db8::/32\"]\n"
    "detectors:\n  bola_enumeration: {threshold: 12, action: block_identity, block_seconds: 120}\n"
    "  pii_ssn:\n    enabled: false\n",
    "{\"jwt\": {\"leeway\": 30}, \"limits\": {\"identities\": 1024}}",
]

REST = [
    "GET\n/api/v1/alerts?since=0&limit=5&sid=1001&technique=T1190&owasp=API8%3A2023&src=10.0.0.1\n\n\n",
    "GET\n/api/v1/alerts/stream?since=3\n\n\n",
    "GET\n/api/v1/attack/layer?kind=observed\n\n\n",
    "GET\n/api/v1/rules/2000001\n\n\n",
    "DELETE\n/api/v1/rules/2000001\n\n\n",
    "PUT\n/api/v1/rules/42\napplication/json\n\n"
    "{\"rules\": \"alert http any any -> any any (msg:\\\"x\\\"; content:\\\"a\\\"; sid:42; rev:1;)\"}",
    "POST\n/api/v1/rules\ntext/plain; charset=utf-8\n\n"
    "alert http any any -> any any (msg:\"x\"; http.uri; content:\"/a\"; sid:9000001; rev:1;)\n",
    "POST\n/api/v1/rules\napplication/json\n\n{\"rules\": \"a\", \"rules\": \"b\"}",
    "GET\n/api/v1/rules\n\n\n",
    "HEAD\n/api/v1/rules/reload\n\n\n",
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pcap", action="append", default=[], help="generator capture")
    ap.add_argument("--max-flows", type=int, default=24)
    a = ap.parse_args()
    if a.pcap:
        print("packet/stream seeds from", packets_and_streams(a.pcap, a.max_flows), "flows")
    print("rule seeds:", rules())
    put("fuzz_config", open(os.path.join(ROOT, "configs", "apiguard.yaml"), "rb").read())
    for c in CONFIGS:
        put("fuzz_config", c.encode())
    put("fuzz_openapi", b"\0" + OPENAPI_JSON.encode())
    put("fuzz_openapi", b"\0" + OPENAPI_YAML.encode())
    for p in BEHAV_PARAMS:
        put("fuzz_openapi", b"\1" + p.encode())
    for r in REST:
        put("fuzz_rest", r.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
