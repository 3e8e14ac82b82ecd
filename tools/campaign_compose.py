#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Compose multi-stage attack captures from apiguard-gen scenario captures.

Each part is one classic pcap (Ethernet, microsecond or nanosecond
timestamps) with options:

  shift     seconds added to every timestamp of the part
  map       address rewrites, decided once per TCP flow (so a session
            never changes address half-way): {"from": ADDR or CIDR,
            "to": ADDR or CIDR, "after": s, "before": s}; CIDR maps keep
            the host bits; after/before (seconds from the part's first
            packet) select flows by the time of their first packet
  only      keep only flows with one of these (original) addresses
  drop      drop flows with one of these (original) addresses
  port_offset  added to the client port of every flow (keeps tuples of
            copies of one capture apart)

IPv4 and TCP checksums are recomputed after rewriting; payloads (and so
the generator's tokens, cookies and usernames) are left as they are. The
parts are merged by timestamp (stable) into one capture.

  campaign_compose.py SPEC.json OUT.pcap
  SPEC = {"parts": [{"pcap": "scan-404.pcap", "shift": 0, "map": [...]}, ...]}

Standard library only; also importable (compose()).
"""
import ipaddress
import json
import struct
import sys

PCAP_US = 0xA1B2C3D4
PCAP_NS = 0xA1B23C4D


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic_le = struct.unpack("<I", data[:4])[0]
    if magic_le in (PCAP_US, PCAP_NS):
        e = "<"
    elif struct.unpack(">I", data[:4])[0] in (PCAP_US, PCAP_NS):
        e = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap")
    magic = struct.unpack(e + "I", data[:4])[0]
    scale = 1 if magic == PCAP_NS else 1000
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError(f"{path}: link type {linktype}, need Ethernet")
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        out.append((sec * 1_000_000_000 + frac * scale, bytearray(data[off:off + incl]), orig))
        off += incl
    return out


def write_pcap(path, records):
    with open(path, "wb") as f:
        # Microsecond timestamps: what every reader takes (the inputs are too).
        f.write(struct.pack("<IHHiIII", PCAP_US, 2, 4, 0, 0, 262144, 1))
        for ts, pkt, orig in records:
            f.write(struct.pack("<IIII", ts // 1_000_000_000, ts % 1_000_000_000 // 1000,
                                len(pkt), max(orig, len(pkt))))
            f.write(pkt)


def csum(data):
    if len(data) % 2:
        data = bytes(data) + b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l3_offset(pkt):
    """Offset of the IPv4 header, or None (not IPv4)."""
    off, et = 14, struct.unpack("!H", pkt[12:14])[0]
    while et in (0x8100, 0x88A8) and len(pkt) >= off + 4:
        et = struct.unpack("!H", pkt[off + 2:off + 4])[0]
        off += 4
    return off if et == 0x0800 and len(pkt) >= off + 20 else None


def tcp_tuple(pkt):
    o = l3_offset(pkt)
    if o is None or pkt[o + 9] != 6:
        return None
    ihl = (pkt[o] & 15) * 4
    src, dst = bytes(pkt[o + 12:o + 16]), bytes(pkt[o + 16:o + 20])
    sp, dp = struct.unpack("!HH", pkt[o + ihl:o + ihl + 4])
    return o, ihl, src, sp, dst, dp


class AddrMap:
    def __init__(self, spec):
        self.src = ipaddress.ip_network(spec["from"], strict=False)
        self.dst = ipaddress.ip_network(spec["to"], strict=False)
        if self.src.prefixlen != self.dst.prefixlen:
            raise ValueError(f"map {spec}: prefix lengths differ")
        self.after = spec.get("after")
        self.before = spec.get("before")

    def applies(self, addr, t):
        if ipaddress.ip_address(addr) not in self.src:
            return False
        if self.after is not None and t < self.after:
            return False
        if self.before is not None and t >= self.before:
            return False
        return True

    def rewrite(self, addr):
        a = int(ipaddress.ip_address(addr))
        host = a & int(self.src.hostmask)
        return ipaddress.ip_address(int(self.dst.network_address) | host).packed


def rewrite(pkt, o, ihl, new_src, new_dst, sport, dport):
    pkt[o + 12:o + 16] = new_src
    pkt[o + 16:o + 20] = new_dst
    pkt[o + 10:o + 12] = b"\0\0"
    pkt[o + 10:o + 12] = struct.pack("!H", csum(pkt[o:o + ihl]))
    tot = struct.unpack("!H", pkt[o + 2:o + 4])[0]
    t = o + ihl
    seg_len = min(tot - ihl, len(pkt) - t)
    pkt[t:t + 4] = struct.pack("!HH", sport, dport)
    frag = struct.unpack("!H", pkt[o + 6:o + 8])[0]
    if frag & 0x3FFF:       # fragments: leave the L4 checksum alone
        return
    pkt[t + 16:t + 18] = b"\0\0"
    pseudo = new_src + new_dst + struct.pack("!BBH", 0, 6, tot - ihl)
    pkt[t + 16:t + 18] = struct.pack("!H", csum(pseudo + bytes(pkt[t:t + seg_len])))


def load_part(spec, index):
    recs = read_pcap(spec["pcap"])
    if not recs:
        return []
    t0 = recs[0][0]
    shift = int(round(float(spec.get("shift", 0)) * 1e9))
    maps = [AddrMap(m) for m in spec.get("map", [])]
    only = {ipaddress.ip_address(a).packed for a in spec.get("only", [])}
    drop = {ipaddress.ip_address(a).packed for a in spec.get("drop", [])}
    port_off = int(spec.get("port_offset", 0))
    flows = {}      # canonical tuple -> (keep, client (addr, port), {addr: new})
    out = []
    for n, (ts, pkt, orig) in enumerate(recs):
        tt = tcp_tuple(pkt)
        if tt is None:
            out.append((ts + shift, index, n, pkt, orig))
            continue
        o, ihl, src, sp, dst, dp = tt
        key = tuple(sorted([(src, sp), (dst, dp)]))
        f = flows.get(key)
        if f is None:
            # The first packet of a flow comes from its client (the SYN).
            rel = (ts - t0) / 1e9
            keep = (not only or src in only or dst in only) and src not in drop and dst not in drop
            new = {}
            for a in (src, dst):
                for m in maps:
                    if m.applies(a, rel):
                        new[a] = m.rewrite(a)
                        break
            f = flows[key] = (keep, (src, sp), new)
        keep, client, new = f
        if not keep:
            continue
        nsp = (sp + port_off) & 0xFFFF if (src, sp) == client else sp
        ndp = (dp + port_off) & 0xFFFF if (dst, dp) == client else dp
        if new or port_off:
            pkt = bytearray(pkt)
            rewrite(pkt, o, ihl, new.get(src, src), new.get(dst, dst), nsp, ndp)
        out.append((ts + shift, index, n, pkt, orig))
    return out


def compose(spec, out_path):
    """Write the merged capture; return the number of packets."""
    allrecs = []
    for i, part in enumerate(spec["parts"]):
        allrecs.extend(load_part(part, i))
    allrecs.sort(key=lambda r: (r[0], r[1], r[2]))
    write_pcap(out_path, [(r[0], r[3], r[4]) for r in allrecs])
    return len(allrecs)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        spec = json.load(f)
    n = compose(spec, argv[2])
    print(f"{argv[2]}: {n} packets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
