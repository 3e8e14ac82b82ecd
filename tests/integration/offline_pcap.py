# SPDX-License-Identifier: Apache-2.0
"""Small pure-Python helpers for test_offline.py: a pcap reader and writer,
a frame dissector for the generator's traffic, per-flow TCP reassembly of
the client side and an HTTP/1.1 request splitter.

Independent of apiguard's own parsers on purpose: the integration test
must not share a bug with the code it checks.
"""

import ipaddress
import struct

# ---------------------------------------------------------------- pcap I/O

_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",   # microseconds
    b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">",   # nanoseconds
}


def read_pcap(path):
    """Return the list of frames (bytes) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24 or data[:4] not in _MAGICS:
        raise ValueError("%s: not a classic pcap file" % path)
    e = _MAGICS[data[:4]]
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError("%s: link type %d, expected Ethernet" % (path, linktype))
    frames = []
    off = 24
    rec = struct.Struct(e + "IIII")
    while off + 16 <= len(data):
        _, _, incl, _ = rec.unpack_from(data, off)
        off += 16
        if off + incl > len(data):
            raise ValueError("%s: truncated record at %d" % (path, off))
        frames.append(data[off:off + incl])
        off += incl
    return frames


def write_pcap(path, frames, ts0_us=1714557600000000, step_us=100):
    """Write frames as a microsecond pcap, timestamps step_us apart."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    ts = ts0_us
    for fr in frames:
        out.append(struct.pack("<IIII", ts // 1000000, ts % 1000000,
                               len(fr), len(fr)))
        out.append(bytes(fr))
        ts += step_us
    with open(path, "wb") as f:
        f.write(b"".join(out))


# ---------------------------------------------------------------- dissector

class Pkt:
    __slots__ = ("family", "vlans", "src", "dst", "sport", "dport", "seq",
                 "flags", "payload")


TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10


def dissect(fr):
    """Dissect an Ethernet/[802.1Q...]/IPv4|IPv6/TCP frame; None otherwise.
    Addresses come back as canonical text (ipaddress)."""
    if len(fr) < 14:
        return None
    off = 12
    et = struct.unpack_from("!H", fr, off)[0]
    off += 2
    vlans = 0
    while et in (0x8100, 0x88A8) and off + 4 <= len(fr):
        et = struct.unpack_from("!H", fr, off + 2)[0]
        off += 4
        vlans += 1
    p = Pkt()
    p.vlans = vlans
    if et == 0x0800:
        if off + 20 > len(fr) or fr[off] >> 4 != 4:
            return None
        ihl = (fr[off] & 15) * 4
        tot = struct.unpack_from("!H", fr, off + 2)[0]
        if fr[off + 9] != 6 or ihl < 20 or off + tot > len(fr):
            return None
        p.family = 4
        p.src = str(ipaddress.IPv4Address(fr[off + 12:off + 16]))
        p.dst = str(ipaddress.IPv4Address(fr[off + 16:off + 20]))
        l4, end = off + ihl, off + tot
    elif et == 0x86DD:
        if off + 40 > len(fr) or fr[off + 6] != 6:
            return None
        plen = struct.unpack_from("!H", fr, off + 4)[0]
        p.family = 6
        p.src = str(ipaddress.IPv6Address(fr[off + 8:off + 24]))
        p.dst = str(ipaddress.IPv6Address(fr[off + 24:off + 40]))
        l4, end = off + 40, off + 40 + plen
        if end > len(fr):
            return None
    else:
        return None
    if l4 + 20 > end:
        return None
    p.sport, p.dport, p.seq = struct.unpack_from("!HHI", fr, l4)
    doff = (fr[l4 + 12] >> 4) * 4
    p.flags = fr[l4 + 13]
    if doff < 20 or l4 + doff > end:
        return None
    p.payload = bytes(fr[l4 + doff:end])
    return p


def flow_key(p):
    """Direction-independent key of a TCP connection."""
    a, b = (p.src, p.sport), (p.dst, p.dport)
    return (a, b) if a <= b else (b, a)


# ---------------------------------------------------------------- flows

class Flow:
    """One TCP connection of a capture: the indices of its frames in
    capture order, and its client-to-server byte stream."""

    def __init__(self, key):
        self.key = key
        self.pkts = []          # capture indices, both directions
        self.client = None      # (ip, port) of the SYN sender
        self.server = None
        self.isn = None         # client ISN
        self.segs = []          # (capture index, stream offset, payload)
        self._stream = None
        self._requests = None

    def stream(self):
        """Client byte stream, reassembled by sequence number."""
        if self._stream is None:
            buf = bytearray()
            for _, o, pl in sorted(self.segs, key=lambda s: s[1]):
                if o > len(buf):
                    break       # a hole: keep the contiguous prefix only
                buf[o:o + len(pl)] = pl
            self._stream = bytes(buf)
        return self._stream

    def requests(self):
        """Requests of the client stream: dicts with start, head_end (offset
        just past the blank line), method, uri, head (bytes)."""
        if self._requests is None:
            self._requests = split_requests(self.stream())
        return self._requests

    def completing_index(self, stream_end):
        """Capture index of the client packet after which the contiguous
        client stream first reaches stream_end bytes."""
        have = {}
        edge = 0
        for idx, o, pl in self.segs:
            if o + len(pl) <= edge:
                continue
            have[o] = max(have.get(o, 0), len(pl))
            progressed = True
            while progressed:
                progressed = False
                for so, sl in list(have.items()):
                    if so <= edge < so + sl:
                        edge = so + sl
                        progressed = True
                    if so + sl <= edge:
                        del have[so]
            if edge >= stream_end:
                return idx
        return None


def flows_of(frames, server_port=None):
    """Group the TCP frames of a capture into Flow objects (dict by key,
    insertion order = first packet order)."""
    flows = {}
    for i, fr in enumerate(frames):
        p = dissect(fr)
        if p is None:
            continue
        k = flow_key(p)
        f = flows.get(k)
        if f is None:
            f = flows[k] = Flow(k)
        f.pkts.append(i)
        if f.client is None:
            if p.flags & TCP_SYN and not p.flags & TCP_ACK:
                f.client, f.server = (p.src, p.sport), (p.dst, p.dport)
                f.isn = p.seq
            elif server_port is not None and p.dport == server_port:
                f.client, f.server = (p.src, p.sport), (p.dst, p.dport)
                f.isn = (p.seq - 1) & 0xFFFFFFFF
        if (p.payload and f.client is not None
                and (p.src, p.sport) == f.client):
            o = (p.seq - f.isn - 1) & 0xFFFFFFFF
            f.segs.append((i, o, p.payload))
    return flows


# ---------------------------------------------------------------- HTTP

def split_requests(s):
    """Split an HTTP/1.1 client stream into requests (Content-Length bodies;
    the generator sends no chunked requests). Stops at anything it cannot
    parse, so a truncated stream yields the complete requests only."""
    out = []
    pos = 0
    while pos < len(s):
        end = s.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        head = s[pos:end + 4]
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            break
        cl = 0
        for ln in lines[1:]:
            name, _, val = ln.partition(b":")
            if name.strip().lower() == b"content-length":
                cl = int(val.strip())
        out.append({"start": pos, "head_end": end + 4,
                    "method": parts[0].decode("latin-1"),
                    "uri": parts[1].decode("latin-1"), "head": head})
        pos = end + 4 + cl
    return out


def canon_ip(s):
    return str(ipaddress.ip_address(s))
