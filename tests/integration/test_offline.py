#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Offline integration test of apiguard: runs `apiguard -r` over captures
from apiguard-gen (fixed seeds) and checks the forwarded packets, the
counters in stats.json and the alerts in eve.json against the generator's
manifest and an independent Python dissection of the same capture.

usage: test_offline.py --apiguard PATH --gen PATH [--source DIR] [--keep]
Prints one line per check and "N passed, N failed"; exits 1 on failure.
"""

import argparse
import collections
import glob
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import offline_pcap as op  # noqa: E402

PASS = 0
FAIL = 0
SPAWNED_PIDS = []       # every apiguard run, for the runtime-dir check


def check(name, ok, detail=""):
    global PASS, FAIL
    if ok:
        PASS += 1
        print("PASS: %s%s" % (name, (" (%s)" % detail) if detail else ""))
    else:
        FAIL += 1
        print("FAIL: %s%s" % (name, (": %s" % detail) if detail else ""))
    sys.stdout.flush()
    return ok


def eq(name, expected, actual):
    return check(name, expected == actual,
                 str(actual) if expected == actual
                 else "expected %r, got %r" % (expected, actual))


# ---------------------------------------------------------------- runners

class Env:
    def __init__(self, args, tmp):
        self.ag = args.apiguard
        self.gen = args.gen
        self.src = args.source
        self.tmp = tmp
        self.seq = 0

    def path(self, name):
        return os.path.join(self.tmp, name)

    def generate(self, name, opts, seed=11):
        pcap, man = self.path(name + ".pcap"), self.path(name + ".json")
        cmd = [self.gen, "-o", pcap, "--seed", str(seed), "--manifest", man] + opts
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        if r.returncode != 0:
            raise RuntimeError("generator failed: %s\n%s" % (" ".join(cmd),
                                                             r.stdout.decode()))
        with open(man) as f:
            return pcap, json.load(f)

    def start(self, pcap, out=None, rules=None, k=None, workers=None):
        """Start one offline run; returns a handle for finish()."""
        self.seq += 1
        logdir = self.path("log%d" % self.seq)
        os.makedirs(logdir)
        cmd = [self.ag, "-r", pcap, "-l", logdir, "-q"]
        if out:
            cmd += ["-w", out]
        if rules:
            cmd += ["-S", rules]
        if k:
            cmd += ["-k", k]
        if workers:
            cmd += ["--workers", str(workers)]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        SPAWNED_PIDS.append(p.pid)
        return (p, cmd, logdir)

    @staticmethod
    def finish(h):
        p, cmd, logdir = h
        try:
            outp, _ = p.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            p.kill()
            outp, _ = p.communicate()
        res = {"rc": p.returncode, "cmd": " ".join(cmd), "out": outp.decode(errors="replace"),
               "pid": p.pid, "stats": None, "alerts": []}
        try:
            with open(os.path.join(logdir, "stats.json")) as f:
                res["stats"] = json.load(f)
        except (OSError, ValueError):
            pass
        try:
            with open(os.path.join(logdir, "eve.json")) as f:
                for ln in f:
                    if ln.strip():
                        ev = json.loads(ln)
                        if ev.get("event_type") == "alert":
                            res["alerts"].append(ev)
        except OSError:
            pass
        return res

    def run(self, pcap, **kw):
        r = self.finish(self.start(pcap, **kw))
        ok = r["rc"] == 0 and r["stats"] is not None
        check("run: %s" % r["cmd"].replace(self.tmp + "/", ""), ok,
              "rc=%s" % r["rc"] if ok else
              "rc=%s, stats.json %s\n%s" % (r["rc"], "ok" if r["stats"] else "missing",
                                            r["out"][-2000:]))
        return r if ok else None


def total(r, key):
    return r["stats"]["total"].get(key)


# ---------------------------------------------------------------- rule data

def load_tag_tables(src):
    tech, owasp = {}, set()
    with open(os.path.join(src, "matchers/attack/enterprise-techniques-v18.1.tsv")) as f:
        for ln in f:
            if ln.startswith("#") or ln.startswith("technique_id"):
                continue
            c = ln.rstrip("\n").split("\t")
            if len(c) >= 5:
                tech[c[0]] = c[4]
    with open(os.path.join(src, "matchers/attack/owasp-api-top10-2023.tsv")) as f:
        for ln in f:
            if ln.startswith("#") or ln.startswith("category_id"):
                continue
            c = ln.split("\t")
            if c[0].strip():
                owasp.add(c[0].strip())
    return tech, owasp


def load_sid_kinds(src):
    """sid -> attack_kind from the default rule pack's metadata."""
    kinds = {}
    for path in sorted(glob.glob(os.path.join(src, "configs/rules/*.rules"))):
        with open(path) as f:
            text = f.read().replace("\\\n", " ")
        for ln in text.splitlines():
            m = re.search(r"\bsid\s*:\s*(\d+)", ln)
            k = re.search(r"attack_kind\s+(\w+)", ln)
            if m and k:
                kinds[int(m.group(1))] = k.group(1)
    return kinds


ALERT_ONLY_RULES = r"""# test_offline: alert-only rules (nothing may be dropped)
alert http any any -> any any (msg:"offline test - users route"; flow:established,to_server; http.uri; content:"/api/v1/users"; metadata: mitre_technique_id T1190, owasp_api API1:2023; sid:9100001; rev:1;)
alert http any any -> any any (msg:"offline test - JSON response"; flow:established,to_client; http.header; content:"application/json"; nocase; metadata: mitre_technique_id T1190, owasp_api API8:2023; sid:9100002; rev:1;)
"""


# ---------------------------------------------------------------- check 1+2

def compare_forwarded(name, inp, outp, exact_order, per_flow):
    cin, cout = collections.Counter(inp), collections.Counter(outp)
    if cin == cout:
        check(name + ": forwarded multiset == input", True, "%d frames" % len(outp))
    else:
        missing = sum((cin - cout).values())
        extra = sum((cout - cin).values())
        check(name + ": forwarded multiset == input", False,
              "in %d, out %d, %d missing, %d extra" % (len(inp), len(outp), missing, extra))
    if exact_order:
        first = next((i for i, (a, b) in enumerate(zip(inp, outp)) if a != b), None)
        check(name + ": exact order", inp == outp,
              "" if inp == outp else "first difference at frame %s" % first)
    if per_flow:
        def by_flow(frames):
            d = collections.defaultdict(list)
            for fr in frames:
                p = op.dissect(fr)
                d[op.flow_key(p) if p else None].append(fr)
            return d
        a, b = by_flow(inp), by_flow(outp)
        bad = [k for k in a if k is not None and a[k] != b.get(k)]
        check(name + ": per-flow order preserved", not bad,
              "%d flows" % len(a) if not bad else "%d of %d flows reordered, e.g. %s"
              % (len(bad), len(a), bad[0]))


def check_counts(name, r, man):
    for key, mkey in (("http_requests", "requests"), ("http_responses", "responses"),
                      ("http_interim", "interim_responses"),
                      ("http_txn_done", "transactions")):
        eq("%s: %s == manifest %s" % (name, key, mkey), man[mkey], total(r, key))
    eq(name + ": http_parse_errors", 0, total(r, "http_parse_errors"))
    eq(name + ": tcp_gaps", 0, total(r, "tcp_gaps"))


def transparency(env, rules):
    variants = [
        ("default", [], {}),
        ("split-small", ["--split", "small"], {}),
        ("ooo-0.3", ["--ooo-share", "0.3"], {}),
        ("ipv6-vlan", ["--ipv6-share", "0.5", "--vlan-share", "0.3"], {}),
        ("bad-csum", ["--bad-csum-share", "0.05"], {"k": "all"}),
        ("workers-2", [], {"workers": 2}),
    ]
    for name, gopts, rkw in variants:
        pcap, man = env.generate("t_" + name, ["--flows", "200"] + gopts, seed=21)
        inp = op.read_pcap(pcap)
        eq("%s: capture has manifest packet count" % name, man["packets"], len(inp))
        out = env.path("t_%s.out.pcap" % name)
        r = env.run(pcap, out=out, rules=rules, **rkw)
        if r is None:
            continue
        outp = op.read_pcap(out) if os.path.exists(out) else []
        one = rkw.get("workers", 1) == 1
        compare_forwarded("[1] " + name, inp, outp, exact_order=one, per_flow=not one)
        eq("[1] %s: rx_packets" % name, man["packets"], total(r, "rx_packets"))
        eq("[1] %s: tx_packets" % name, man["packets"], total(r, "tx_packets"))
        eq("[1] %s: drop_verdict + drop_flow" % name, 0,
           total(r, "drop_verdict") + total(r, "drop_flow"))
        check("[1] %s: alert-only rules fired" % name, len(r["alerts"]) > 0,
              "%d alerts" % len(r["alerts"]))
        if name == "bad-csum":
            check("[1] bad-csum: manifest has bad checksums",
                  man["bad_checksum_packets"] > 0, str(man["bad_checksum_packets"]))
            eq("[2] bad-csum -k all: csum_bad == manifest bad_checksum_packets",
               man["bad_checksum_packets"], total(r, "csum_bad"))
            # Not inspected: the stream has holes where the bad segments
            # were, so fewer transactions complete than were sent.
            check("[2] bad-csum -k all: bad segments not inspected",
                  total(r, "http_txn_done") < man["transactions"],
                  "txn_done %s < %s" % (total(r, "http_txn_done"), man["transactions"]))
            r = env.run(pcap, rules=rules, k="none")
            if r is None:
                continue
            eq("[2] bad-csum -k none: csum_bad", 0, total(r, "csum_bad"))
            check_counts("[2] bad-csum -k none", r, man)
            continue
        check_counts("[2] " + name, r, man)
        if name == "ipv6-vlan":
            ds = [op.dissect(fr) for fr in inp]
            eq("[2] ipv6-vlan: ipv6 packets", sum(1 for p in ds if p and p.family == 6),
               total(r, "ipv6"))
            eq("[2] ipv6-vlan: ipv4 packets", sum(1 for p in ds if p and p.family == 4),
               total(r, "ipv4"))
            eq("[2] ipv6-vlan: vlan-tagged packets", sum(1 for p in ds if p and p.vlans),
               total(r, "vlan"))
        if name == "workers-2":
            w = r["stats"].get("workers") or []
            busy = [x for x in w if (x.get("rx_packets") or 0) > 0]
            check("[2] workers-2: both workers received packets", len(busy) == 2,
                  json.dumps([x.get("rx_packets") for x in w]))


# ---------------------------------------------------------------- check 3

def alert_tags_valid(name, alerts, tech, owasp):
    bad = []
    for a in alerts:
        md = a.get("alert", {}).get("metadata", {})
        t, o = md.get("mitre_technique_id") or [], md.get("owasp_api") or []
        why = None
        if not t or not o:
            why = "missing tags"
        elif any(tech.get(x) != "active" for x in t):
            why = "technique not active/unknown: %s" % [x for x in t if tech.get(x) != "active"]
        elif any(x not in owasp for x in o):
            why = "unknown OWASP id: %s" % [x for x in o if x not in owasp]
        if why:
            bad.append("sid %s: %s" % (a.get("alert", {}).get("signature_id"), why))
    check(name + ": every alert has valid ATT&CK and OWASP tags", not bad,
          "%d alerts" % len(alerts) if not bad else "; ".join(sorted(set(bad))[:5]))


# What identifies a header-borne attack in its request head (the
# generator's attacks; the URI identifies the others).
HEAD_MARKERS = {"log4shell": b"${jndi:", "scanner": b"sqlmap",
                "jwt_none": b"Bearer eyJhbGciOiJub25lI"}


def alert_key(a):
    return (op.canon_ip(a.get("src_ip", "0.0.0.0")), a.get("src_port"),
            (a.get("http") or {}).get("url"))


def expected_alerts(env, name, gopts, rkw, tech, owasp, sid_kinds):
    pcap, man = env.generate("a_" + name, gopts, seed=31)
    frames = op.read_pcap(pcap)
    flows = op.flows_of(frames, server_port=80)
    by_client = {(op.canon_ip(f.client[0]), f.client[1]): f
                 for f in flows.values() if f.client}
    r = env.run(pcap, **rkw)
    if r is None:
        return
    eq("[3] %s: rx_packets" % name, man["packets"], total(r, "rx_packets"))
    eq("[3] %s: alerts in eve.json == stats alerts" % name, total(r, "alerts"),
       len(r["alerts"]))
    eq("[3] %s: alerts_lost" % name, 0, total(r, "alerts_lost"))
    alert_tags_valid("[3] " + name, r["alerts"], tech, owasp)

    got = collections.defaultdict(list)
    for a in r["alerts"]:
        got[alert_key(a)].append(a)

    attack_keys = set()
    missing, wrong_kind, exempt = [], [], 0
    used = set()
    for ar in man["attack_requests"]:
        key = (op.canon_ip(ar["client_ip"]), ar["client_port"], ar["uri"])
        attack_keys.add(key)
        f = by_client.get(key[:2])
        # A request behind a Log4Shell drop in the same flow never reaches
        # the appliance's parser (the flow is dropped): not expected.
        if f is not None:
            reqs = f.requests()
            drop_at = next((q["head_end"] for q in reqs if b"${jndi:" in q["head"]), None)
            # Header-borne attacks ride on ordinary URIs, so the same
            # method and URI may occur more than once in a flow: pick the
            # first unused request that also carries the attack's marker.
            marker = HEAD_MARKERS.get(ar["kind"], b"")
            mine = next((q for q in reqs if q["uri"] == ar["uri"]
                         and q["method"] == ar["method"] and marker in q["head"]
                         and (key[:2], q["start"]) not in used), None)
            if mine is not None:
                used.add((key[:2], mine["start"]))
            if mine is None:
                missing.append("%s %s: request not found in capture" % (ar["kind"], key))
                continue
            if drop_at is not None and mine["start"] >= drop_at:
                exempt += 1
                continue
        als = got.get(key, [])
        if not als:
            missing.append("%s %s:%s %s" % (ar["kind"], key[0], key[1], key[2]))
            continue
        kinds = {sid_kinds.get(a["alert"].get("signature_id")) for a in als}
        if ar["kind"] not in kinds:
            wrong_kind.append("%s got sids %s" % (ar["kind"], sorted(
                a["alert"].get("signature_id") for a in als)))
    n = len(man["attack_requests"])
    check("[3] %s: manifest has attacks" % name, n > 0 and man["attack_total"] == n,
          "%d attack requests" % n)
    check("[3] %s: every attack request alerted on its flow and URL" % name, not missing,
          "%d attacks, %d behind a drop" % (n - exempt, exempt) if not missing else
          "%d of %d missed, e.g. %s" % (len(missing), n - exempt, missing[:3]))
    check("[3] %s: each attack alerted by a rule of its kind" % name, not wrong_kind,
          "" if not wrong_kind else "%d wrong, e.g. %s" % (len(wrong_kind), wrong_kind[:3]))
    fps = [k for k in got if k not in attack_keys]
    check("[3] %s: no alert on a non-attack request" % name, not fps,
          "" if not fps else "%d false positives, e.g. %s sid %s" % (
              len(fps), fps[0], got[fps[0]][0]["alert"].get("signature_id")))


def benign(env, tech, owasp):
    pcap, man = env.generate("benign", ["--flows", "700", "--attack-share", "0"], seed=41)
    check("[3] benign: a few thousand requests", man["requests"] >= 2000,
          "%d requests" % man["requests"])
    r = env.run(pcap)
    if r is None:
        return
    check("[3] benign: zero alerts (false positives)", len(r["alerts"]) == 0 and
          total(r, "alerts") == 0, "eve %d, stats %s; first: %s" % (
              len(r["alerts"]), total(r, "alerts"),
              json.dumps(r["alerts"][0])[:400] if r["alerts"] else "-"))
    eq("[3] benign: http_txn_done == manifest transactions", man["transactions"],
       total(r, "http_txn_done"))


# ---------------------------------------------------------------- check 4

def drop_rule(env):
    pcap, man = env.generate("drop", ["--flows", "300", "--attacks", "log4shell",
                                      "--attack-share", "0.1"], seed=51)
    frames = op.read_pcap(pcap)
    flows = op.flows_of(frames, server_port=80)
    by_client = {(op.canon_ip(f.client[0]), f.client[1]): f
                 for f in flows.values() if f.client}
    l4s_clients = {(op.canon_ip(a["client_ip"]), a["client_port"])
                   for a in man["attack_requests"] if a["kind"] == "log4shell"}
    check("[4] drop: manifest has log4shell flows", len(l4s_clients) > 0,
          "%d flows, %d requests" % (len(l4s_clients), man["attacks"].get("log4shell", 0)))
    dropped = set()
    n_later = 0
    first_uri = {}
    problems = []
    for c in l4s_clients:
        f = by_client.get(c)
        if f is None:
            problems.append("flow %s not in capture" % (c,))
            continue
        q = next((q for q in f.requests() if b"${jndi:" in q["head"]), None)
        if q is None:
            problems.append("flow %s: no ${jndi: request" % (c,))
            continue
        first_uri[c] = q["uri"]
        at = f.completing_index(q["head_end"])
        later = [i for i in f.pkts if i >= at]
        dropped.update(later)
        n_later += len(later) - 1
    check("[4] drop: log4shell requests located in the capture", not problems,
          "; ".join(problems[:3]))
    out = env.path("drop.out.pcap")
    r = env.run(pcap, out=out)
    if r is None:
        return
    outp = op.read_pcap(out) if os.path.exists(out) else []
    expect = [fr for i, fr in enumerate(frames) if i not in dropped]
    if outp == expect:
        check("[4] drop: output == input minus each log4shell flow from the "
              "completing packet on", True, "%d of %d frames" % (len(outp), len(frames)))
    else:
        first = next((i for i, (a, b) in enumerate(zip(expect, outp)) if a != b),
                     min(len(expect), len(outp)))
        p = op.dissect(expect[first]) if first < len(expect) else None
        check("[4] drop: output == input minus each log4shell flow from the "
              "completing packet on", False,
              "expected %d frames, got %d; first difference at output frame %d "
              "(expected frame of flow %s)" % (len(expect), len(outp), first,
                                               op.flow_key(p) if p else None))
    eq("[4] drop: drop_verdict == log4shell flows", len(l4s_clients), total(r, "drop_verdict"))
    eq("[4] drop: drop_flow == later packets of those flows", n_later, total(r, "drop_flow"))
    eq("[4] drop: tx_packets", len(expect), total(r, "tx_packets"))
    notblocked = [a for a in r["alerts"] if a["alert"].get("action") != "blocked"]
    check("[4] drop: every alert has action blocked", r["alerts"] and not notblocked,
          "%d alerts" % len(r["alerts"]) if not notblocked else
          "%d not blocked, e.g. %s" % (len(notblocked), json.dumps(notblocked[0])[:300]))
    blocked = {(op.canon_ip(a["src_ip"]), a["src_port"]): a for a in r["alerts"]
               if a["alert"].get("action") == "blocked"}
    nohit = [c for c in l4s_clients if c not in blocked
             or (blocked[c].get("http") or {}).get("url") != first_uri.get(c)]
    check("[4] drop: a blocked alert on each log4shell flow's request", not nohit,
          "" if not nohit else "%d flows without, e.g. %s" % (len(nohit), nohit[:2]))


# ---------------------------------------------------------------- check 4b

REJECT_RULES = r"""# test_offline: reject the Log4Shell request, alert on nothing else
reject http any any -> any any (msg:"offline test - reject jndi"; flow:established,to_server; http.header; content:"${jndi:"; metadata: mitre_technique_id T1190, owasp_api API8:2023; sid:9100010; rev:1;)
"""


def reject_rule(env):
    """reject: the completing packet is dropped, and two TCP RSTs go out,
    one to each end, with sequence numbers each end will accept."""
    pcap, man = env.generate("reject", ["--flows", "200", "--attacks", "log4shell",
                                        "--attack-share", "0.1"], seed=53)
    rules = env.path("reject.rules")
    with open(rules, "w") as f:
        f.write(REJECT_RULES)
    frames = op.read_pcap(pcap)
    flows = op.flows_of(frames, server_port=80)
    by_client = {(op.canon_ip(f.client[0]), f.client[1]): f
                 for f in flows.values() if f.client}
    clients = {(op.canon_ip(a["client_ip"]), a["client_port"])
               for a in man["attack_requests"] if a["kind"] == "log4shell"}
    completing = {}
    for c in clients:
        f = by_client.get(c)
        q = next((q for q in f.requests() if b"${jndi:" in q["head"]), None) if f else None
        if q is not None:
            completing[c] = op.dissect(frames[f.completing_index(q["head_end"])])
    check("[4b] reject: log4shell requests located", len(completing) == len(clients) > 0,
          "%d of %d" % (len(completing), len(clients)))
    out = env.path("reject.out.pcap")
    r = env.run(pcap, out=out, rules=rules)
    if r is None:
        return
    rsts = [op.dissect(fr) for fr in op.read_pcap(out)]
    rsts = [p for p in rsts if p is not None and p.flags & op.TCP_RST]
    orig_rsts = sum(1 for fr in frames
                    if (lambda p: p is not None and p.flags & op.TCP_RST)(op.dissect(fr)))
    bad = []
    for c, pk in completing.items():
        to_server = [p for p in rsts if (op.canon_ip(p.src), p.sport) == c
                     and p.seq == pk.seq]
        to_client = [p for p in rsts if (op.canon_ip(p.dst), p.dport) == c
                     and p.sport == pk.dport]
        if len(to_server) != 1 or len(to_client) != 1:
            bad.append("%s: %d to server, %d to client" % (c, len(to_server), len(to_client)))
    check("[4b] reject: one RST to each end of every rejected flow", not bad,
          "%d RSTs" % len(rsts) if not bad else "; ".join(bad[:3]))
    eq("[4b] reject: RSTs in the output", 2 * len(completing) + orig_rsts, len(rsts))
    eq("[4b] reject: rejects counted", len(completing), total(r, "rejects"))
    eq("[4b] reject: rst_sent counted", 2 * len(completing), total(r, "rst_sent"))
    tshark = shutil.which("tshark")
    if tshark:
        res = subprocess.run([tshark, "-r", out, "-o", "tcp.check_checksum:TRUE",
                              "-o", "ip.check_checksum:TRUE", "-Y",
                              "tcp.flags.reset == 1 && (tcp.checksum.status == 2 || "
                              "ip.checksum.status == 2)"],
                             capture_output=True, text=True)
        check("[4b] reject: RST checksums valid (tshark)", res.returncode == 0 and
              res.stdout.strip() == "", res.stdout[:300] + res.stderr[:300])


# ---------------------------------------------------------------- check 4c

def engine_events(env, tech, owasp):
    """HTTP framing that llhttp refuses (smuggling, malformed headers) is
    reported as an engine event on its flow; a clean request is not."""
    cases = os.path.join(env.src, "tests/rules/engine/events.cases")
    pcap, mani = env.path("events.pcap"), env.path("events.json")
    res = subprocess.run(["/usr/bin/python3", os.path.join(env.src,
                          "tools/rulecase_pcap.py"), "-o", pcap, "-m", mani, cases],
                         capture_output=True, text=True)
    if not check("[4c] events: capture built", res.returncode == 0, res.stderr[-300:]):
        return
    with open(mani) as f:
        man = json.load(f)
    r = env.run(pcap)
    if r is None:
        return
    alert_tags_valid("[4c] events", r["alerts"], tech, owasp)
    by_port = collections.defaultdict(set)
    for a in r["alerts"]:
        by_port[a["src_port"]].add(a["alert"]["signature_id"])
    bad = []
    for c in man["cases"]:
        got = by_port.get(c["client_port"], set())
        if c["kind"] == "pos" and not set(c["sids"]) <= got:
            bad.append("%s: want %s, got %s" % (c.get("where"), c["sids"], sorted(got)))
        if c["kind"] == "neg" and got:
            bad.append("%s: clean request raised %s" % (c.get("where"), sorted(got)))
    check("[4c] events: each refused framing reported on its flow, none on the clean one",
          not bad, "; ".join(bad[:3]) if bad else "%d cases" % len(man["cases"]))


# ---------------------------------------------------------------- check 5

def ip_csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(et):
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!H", et)


def ipv4(proto, l4, ihl=5, totlen=None, ver=4):
    tl = 20 + len(l4) if totlen is None else totlen
    h = bytearray(struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, 0, tl, 0x1234, 0, 64,
                              proto, 0, bytes([203, 0, 113, 7]), bytes([203, 0, 113, 8])))
    h[10:12] = struct.pack("!H", ip_csum(bytes(h)))
    return bytes(h) + l4


def tcp(doff=5, payload=b"", sport=40000, dport=80):
    return struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, doff << 4, 0x18,
                       1024, 0, 0) + payload


def udp(payload, length=None):
    ln = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", 53000, 53, ln, 0) + payload   # csum 0: none (IPv4)


def crafted_frames(rng):
    mal = [
        ("runt 10 bytes", eth(0x0800)[:10]),
        ("IPv4 header truncated", eth(0x0800) + ipv4(6, tcp())[:10]),
        ("IPv4 IHL 4", eth(0x0800) + ipv4(6, tcp(), ihl=4)),
        ("IPv4 IHL 15 beyond frame", eth(0x0800) + ipv4(6, b"\0" * 8, ihl=15)),
        ("IPv4 version 5", eth(0x0800) + ipv4(6, tcp(), ver=5)),
        ("IPv4 total length beyond frame", eth(0x0800) + ipv4(6, tcp(), totlen=400)),
        ("TCP header truncated", eth(0x0800) + ipv4(6, tcp()[:10])),
        ("TCP data offset beyond frame", eth(0x0800) + ipv4(6, tcp(doff=15, payload=b"GET /"))),
        ("TCP data offset 3", eth(0x0800) + ipv4(6, tcp(doff=3, payload=b"xxxx"))),
        ("IPv6 header truncated", eth(0x86DD) + b"\x60" + b"\0" * 20),
        ("UDP length beyond packet", eth(0x0800) + ipv4(17, udp(b"abcd", length=200))),
    ]
    non_ip = [("ARP", eth(0x0806) + bytes.fromhex(
        "0001080006040001020000000001cb007107000000000000cb007108"))]
    for i in range(6):
        while True:
            b = bytes(rng.getrandbits(8) for _ in range(rng.randint(14, 200)))
            if struct.unpack_from("!H", b, 12)[0] not in (0x0800, 0x86DD, 0x8100, 0x88A8):
                break
        non_ip.append(("random bytes %d" % i, b))
    udps = [("UDP %d" % i, eth(0x0800) + ipv4(17, udp(b"\x12\x34" + bytes(10 + i))))
            for i in range(3)]
    return mal, non_ip, udps


def robustness(env, rules):
    pcap, man = env.generate("robust", ["--flows", "60", "--attack-share", "0"], seed=61)
    frames = op.read_pcap(pcap)
    rng = random.Random(61)
    mal, non_ip, udps = crafted_frames(rng)
    extra = [fr for _, fr in mal + non_ip + udps]
    mixed = list(frames)
    for fr in extra:
        mixed.insert(rng.randint(0, len(mixed)), fr)
    mpcap = env.path("robust.mixed.pcap")
    op.write_pcap(mpcap, mixed)
    out = env.path("robust.out.pcap")
    r = env.run(mpcap, out=out, rules=rules)
    if r is None:
        return
    outp = op.read_pcap(out) if os.path.exists(out) else []
    compare_forwarded("[5] robustness", mixed, outp, exact_order=True, per_flow=False)
    eq("[5] robustness: rx_packets", len(mixed), total(r, "rx_packets"))
    eq("[5] robustness: malformed (%s)" % ", ".join(n for n, _ in mal), len(mal),
       total(r, "malformed"))
    eq("[5] robustness: non_ip", len(non_ip), total(r, "non_ip"))
    eq("[5] robustness: udp", len(udps), total(r, "udp"))
    eq("[5] robustness: generated traffic still parsed (txn_done)", man["transactions"],
       total(r, "http_txn_done"))
    eq("[5] robustness: http_parse_errors", 0, total(r, "http_parse_errors"))


# ---------------------------------------------------------------- check 6

def runtime_dirs(pid):
    return glob.glob("/var/run/dpdk/apiguard_r_%d_*" % pid)


def concurrency(env, rules):
    pcap, man = env.generate("conc", ["--flows", "300"], seed=71)
    # Three at once on a 2-core machine (1 + 2 + 2 workers): each must still
    # see and inspect every packet, as an offline run reads a file and has
    # no reason to shed load.
    hs = [env.start(pcap, rules=rules), env.start(pcap, rules=rules, workers=2),
          env.start(pcap, rules=rules, workers=2)]
    rs = [env.finish(h) for h in hs]
    for i, r in enumerate(rs):
        ok = r["rc"] == 0 and r["stats"] is not None
        check("[6] concurrent run %d exits 0 with stats" % i, ok,
              "pid %d" % r["pid"] if ok else "rc=%s: %s\n%s" % (r["rc"], r["cmd"],
                                                                r["out"][-1500:]))
        if ok:
            eq("[6] concurrent run %d: rx_packets" % i, man["packets"], total(r, "rx_packets"))
            eq("[6] concurrent run %d: http_txn_done" % i, man["transactions"],
               total(r, "http_txn_done"))
            io = r["stats"].get("io") or {}
            if io:
                eq("[6] concurrent run %d: io_ring_full + io_bypassed" % i, 0,
                   (io.get("io_ring_full") or 0) + (io.get("io_bypassed") or 0))
    left = [d for r in rs for d in runtime_dirs(r["pid"])]
    check("[6] concurrent runs left no /var/run/dpdk/apiguard_r_* directory", not left,
          " ".join(left))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apiguard", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--source", default=os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    args.apiguard, args.gen = os.path.abspath(args.apiguard), os.path.abspath(args.gen)
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="test_offline.")
    env = Env(args, tmp)
    try:
        rules = env.path("alert-only.rules")
        with open(rules, "w") as f:
            f.write(ALERT_ONLY_RULES)
        tech, owasp = load_tag_tables(args.source)
        sid_kinds = load_sid_kinds(args.source)
        check("tag tables and rule kinds loaded", len(tech) > 500 and len(owasp) == 10
              and len(sid_kinds) > 10, "%d techniques, %d OWASP, %d sids with kind"
              % (len(tech), len(owasp), len(sid_kinds)))

        transparency(env, rules)
        base = ["--flows", "300", "--attack-share", "0.2"]
        for name, g, kw in (("default", [], {}),
                            ("split-small", ["--split", "small"], {}),
                            ("ooo-0.5", ["--ooo-share", "0.5"], {}),
                            ("workers-2", [], {"workers": 2})):
            expected_alerts(env, name, base + g, kw, tech, owasp, sid_kinds)
        benign(env, tech, owasp)
        drop_rule(env)
        reject_rule(env)
        engine_events(env, tech, owasp)
        robustness(env, rules)
        concurrency(env, rules)

        left = [d for pid in SPAWNED_PIDS for d in runtime_dirs(pid)]
        check("no run left a /var/run/dpdk/apiguard_r_* directory", not left,
              "%d runs" % len(SPAWNED_PIDS) if not left else " ".join(left))
    except Exception as e:  # a crash of the test itself is a failure too
        import traceback
        traceback.print_exc()
        check("test script completed", False, repr(e))
    finally:
        if args.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("runtime %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (PASS, FAIL))
    return 1 if FAIL else 0


if __name__ == "__main__":
    sys.exit(main())
