#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Attack campaigns end to end (docs/CAMPAIGNS.md).

Three multi-stage captures are composed from apiguard-gen scenario
captures with tools/campaign_compose.py (addresses, ports and times
rewritten, TCP checksums recomputed, the generator's tokens untouched) and
run through `apiguard -r X.pcap -l DIR -q`; eve.json (alerts and
"campaign" events) and campaigns.json (written at exit) are checked.

 1. one client: 404 scan -> password guessing and a successful login ->
    enumeration of other users' objects with a token -> bulk export ->
    pulling the customer list (e-mail addresses) page by page. One
    campaign, stages reached in lifecycle order, ending at exfiltration
    (sensitive_exfiltration, T1020); with a response policy (block at
    collection after credential-access) the actor's address and
    identities are blocked and its later traffic dropped, so neither the
    export nor the exfiltration is served.
 2. the same actor changing address twice: the username it guessed links
    the login from a new network, the token it keeps links the next
    network. Still one campaign.
 3. the stages of 1 with the default rule set, plus a second, unrelated
    attacker (password guessing + pagination walk from another network,
    interleaved in time) and the benign users of every part: two campaigns, nothing
    linked across them, no benign user in any campaign, and the exfiltration
    detector fires on the attacker only.

Then scenario 1 once more, live: apiguard on a net_pcap vdev reading the
composed capture once (net_pcap gives no end of file: the test counts the
capture's records and waits until the port received them all), REST on a
loopback port. GET /api/v1/campaigns with stage, tactic and time filters,
/campaigns/{id} (timeline in time order), /campaigns/{id}/layer (ATT&CK
Navigator 4.5 fields), 404 for an unknown id, 400 JSON errors for bad
filters, the campaign counters in /stats and /metrics (promtool check
metrics), and the dashboard in headless Chromium: the campaign panel shows
the live campaign and its timeline, no console error; the screenshot is
kept in the output directory (--outdir: meson passes the test's build
directory; else $MESON_BUILD_ROOT, else a kept temporary directory).

Scenarios 1 and 2 run with an empty rule file so that the stages are
those of the behaviour detectors alone (the scanner signatures of the 404
scan carry discovery/collection techniques of their own); scenario 3 runs
the default rules.
"""
import argparse
import calendar
import http.client
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import campaign_compose  # noqa: E402

ORDER = ["reconnaissance", "resource-development", "initial-access", "execution",
         "persistence", "privilege-escalation", "defense-evasion", "credential-access",
         "discovery", "lateral-movement", "collection", "command-and-control",
         "exfiltration", "impact"]
ATTACKER = "203.0.113.66"
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def gen(args, tmp, scenario):
    pcap = os.path.join(tmp, scenario + ".pcap")
    if not os.path.exists(pcap):
        subprocess.run([args.gen, "--scenario", scenario, "--seed", "1", "-o", pcap,
                        "--manifest", pcap + ".json"], check=True, stdout=subprocess.DEVNULL)
    return pcap


def run(args, tmp, name, spec, rules=None, settings=None):
    pcap = os.path.join(tmp, name + ".pcap")
    campaign_compose.compose(spec, pcap)
    out = os.path.join(tmp, "out-" + name)
    os.makedirs(out, exist_ok=True)
    if settings is not None:
        with open(os.path.join(out, "campaign-settings.json"), "w") as f:
            json.dump(settings, f)
    cmd = [args.apiguard, "-r", pcap, "-l", out, "-q"]
    if rules is not None:
        cmd += ["-S", rules]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(p.returncode == 0, f"{name}: apiguard exit 0 ({p.stderr.strip()[-300:]})")
    eve = [json.loads(l) for l in open(os.path.join(out, "eve.json"))]
    alerts = [e for e in eve if e["event_type"] == "alert"]
    events = [e for e in eve if e["event_type"] == "campaign"]
    with open(os.path.join(out, "campaigns.json")) as f:
        camps = json.load(f)
    with open(os.path.join(out, "stats.json")) as f:
        stats = json.load(f)
    return alerts, events, camps, stats


def client_of(a):
    ev = a.get("apiguard") or {}
    if "client" in ev:
        return ev["client"]
    return a["dest_ip"] if a.get("direction") == "to_client" else a["src_ip"]


def check_refs(name, camp, alerts):
    """Every alert reference of a campaign is an alert in eve.json."""
    have = {(a["flow_id"], a["alert"]["signature_id"], a["tx_id"]) for a in alerts}
    refs = [(r["flow_id"], r["signature_id"], r["tx_id"]) for r in camp["alerts"]]
    check(refs and all(r in have for r in refs),
          f"{name}: campaign {camp['id']}: its {len(refs)} alert references are in eve.json")


def check_lifecycle(name, events, camp, final=("collection", "exfiltration")):
    """Stage only moves forward; recon, credential access, collection (and
    exfiltration when it is the final stage) were first reached in
    lifecycle order; the events announce new tactics."""
    stages = [ORDER.index(e["campaign"]["stage"]) for e in events]
    check(stages == sorted(stages), f"{name}: stage never goes back ({[ORDER[s] for s in stages]})")
    check(camp["stage"] in final, f"{name}: final stage {'/'.join(final)} (got {camp['stage']})")
    tac = camp["tactics"]
    need = ["reconnaissance", "credential-access", "initial-access", "collection"]
    seq = ["reconnaissance", "credential-access", "collection"]
    if camp["stage"] == "exfiltration":
        need.append("exfiltration")
        seq.append("exfiltration")
        check(events and events[-1]["campaign"]["stage"] == "exfiltration",
              f"{name}: the last campaign event announces exfiltration")
    check(all(t in tac for t in need), f"{name}: tactics {tac} include {need}")
    if all(t in tac for t in need):
        pos = [tac.index(t) for t in seq]
        check(pos == sorted(pos), f"{name}: {' -> '.join(seq)} in time order")
    counts = [len(e["campaign"]["tactics"]) for e in events]
    check(counts == sorted(set(counts)) and counts[0] >= 2,
          f"{name}: one event per tactic increase, from two tactics ({counts})")
    for e in events:
        c = e["campaign"]
        check(all(k in c for k in ("id", "actor", "stage", "tactics", "techniques", "owasp_api",
                                   "first_seen", "last_seen", "alerts")),
              f"{name}: campaign event at {e['timestamp']} has every field")
        break


EXFIL = 2300054


def s1_parts(args, tmp):
    """Scenario 1: scan, guessing and login, enumeration, bulk export, then
    the customer list pulled page by page (60 e-mail addresses a page)."""
    # Each part's client ports moved apart: the parts reuse the world's
    # addresses, and a live run (wall clock, the capture read in a burst)
    # would otherwise see one part's flows continue another's.
    return [{"pcap": gen(args, tmp, "scan-404"), "shift": 0},
            {"pcap": gen(args, tmp, "login-after-failures"), "shift": 100, "port_offset": 100},
            {"pcap": gen(args, tmp, "bola-enum"), "shift": 200, "port_offset": 200},
            {"pcap": gen(args, tmp, "excessive-data"), "shift": 300, "port_offset": 300},
            {"pcap": gen(args, tmp, "pii-email-bulk"), "shift": 400, "port_offset": 400}]


def scenario1(args, tmp, empty):
    parts = s1_parts(args, tmp)
    alerts, events, camps, stats = run(args, tmp, "s1", {"parts": parts}, rules=empty)
    sids = {a["alert"]["signature_id"] for a in alerts}
    check({2300004, 2300010, 2300014, 2300001, 2300051, EXFIL} <= sids,
          f"s1: scan, guessing, login, enumeration, export and exfiltration detected "
          f"({sorted(sids)})")
    ex = [a for a in alerts if a["alert"]["signature_id"] == EXFIL]
    check(ex and all(client_of(a) == ATTACKER for a in ex),
          f"s1: sensitive_exfiltration only on the attacker ({[client_of(a) for a in ex]})")
    if ex:
        md = ex[0]["alert"]["metadata"]
        ev = ex[0]["apiguard"]
        check("T1020" in md.get("mitre_technique_id", []) and
              "TA0010" in md.get("mitre_tactic_id", []),
              f"s1: exfiltration alert tagged T1020 / TA0010 ({md.get('mitre_technique_id')})")
        check(ev.get("detector") == "sensitive_exfiltration" and ev.get("records", 0) >= 250
              and ev.get("responses", 0) >= 3 and ev.get("pii", [0] * 5)[3] >= 250,
              f"s1: exfiltration evidence counts records, responses, e-mails ({ev})")
    check(len(camps["campaigns"]) == 1, f"s1: one campaign ({len(camps['campaigns'])})")
    check(len({e["campaign"]["id"] for e in events}) == 1 and events,
          "s1: every campaign event is about that campaign")
    camp = camps["campaigns"][0]
    check(camp["actor"]["clients"] == [ATTACKER], f"s1: actor is {ATTACKER}")
    check(camp["alert_count"] == len(alerts), f"s1: all {len(alerts)} alerts in the campaign")
    check_lifecycle("s1", events, camp, final=("exfiltration",))
    check_refs("s1", camp, alerts)
    check(camp["objects"] > 0 and camp["bytes"] > 0,
          f"s1: objects ({camp['objects']}) and bytes ({camp['bytes']}) read counted")
    check(any("/api/v1/users/" in ep for ep in camp["endpoints"]), "s1: endpoints touched listed")
    check(any(i["kind"] == "jwt" for i in camp["actor"]["identities"]),
          "s1: the token identity is one of the actor's keys")
    check(camp["actor"]["blocked"] == [] and
          stats["total"].get("blocked_requests", 0) + stats["total"].get("blocked_flows", 0) == 0,
          "s1: default policy blocks nothing")

    # The same with a response policy.
    pol = {"policy": [{"stage": "collection", "after": "credential-access", "action": "block",
                       "block_seconds": 3600}]}
    alerts, events, camps, stats = run(args, tmp, "s1-policy", {"parts": parts}, rules=empty,
                                       settings=pol)
    camp = camps["campaigns"][0] if camps["campaigns"] else {"actor": {"blocked": []}}
    blocked = camp["actor"]["blocked"]
    check(f"client:{ATTACKER}" in blocked and any(b.startswith("identity:") for b in blocked),
          f"s1-policy: address and identity blocked at collection ({blocked})")
    t = stats["total"]
    nblk = t.get("blocked_requests", 0) + t.get("blocked_flows", 0) + t.get("blocked_identities", 0)
    check(nblk > 0, f"s1-policy: the actor's later traffic is blocked ({nblk})")
    check(2300051 not in {a["alert"]["signature_id"] for a in alerts},
          "s1-policy: the export after the block is not served (no excessive_data alert)")
    check(EXFIL not in {a["alert"]["signature_id"] for a in alerts},
          "s1-policy: nor the customer list (no sensitive_exfiltration alert)")


def scenario2(args, tmp, empty):
    x2, x3 = "198.51.100.20", "192.0.2.30"
    parts = [{"pcap": gen(args, tmp, "scan-404"), "shift": 0},
             {"pcap": gen(args, tmp, "login-after-failures"), "shift": 100},
             # The same user's password tried again, from a new network
             # (after the detectors' suppression period).
             {"pcap": gen(args, tmp, "login-after-failures"), "shift": 800,
              "map": [{"from": ATTACKER, "to": x2}]},
             {"pcap": gen(args, tmp, "bola-enum"), "shift": 900,
              "map": [{"from": ATTACKER, "to": x2}]},
             # The same token, from a third network.
             {"pcap": gen(args, tmp, "bola-enum"), "shift": 1600,
              "map": [{"from": ATTACKER, "to": x3}]},
             {"pcap": gen(args, tmp, "excessive-data"), "shift": 1700,
              "map": [{"from": ATTACKER, "to": x3}]}]
    alerts, events, camps, stats = run(args, tmp, "s2", {"parts": parts}, rules=empty)
    by_client = {}
    for a in alerts:
        by_client.setdefault(client_of(a), set()).add(a["alert"]["signature_id"])
    check(set(by_client) == {ATTACKER, x2, x3}, f"s2: alerts from three networks ({by_client})")
    check(len(camps["campaigns"]) == 1, f"s2: still one campaign ({len(camps['campaigns'])})")
    camp = camps["campaigns"][0]
    check(sorted(camp["actor"]["clients"]) == sorted([ATTACKER, x2, x3]),
          f"s2: its clients are all three addresses ({camp['actor']['clients']})")
    check(camp["alert_count"] == len(alerts), f"s2: all {len(alerts)} alerts in the campaign")
    check(camp["merged"] >= 1, "s2: the username link merged the second network's actor")
    check(len(camp["actor"]["usernames"]) >= 1, "s2: the guessed username is an actor key")
    check_lifecycle("s2", events, camp)
    check_refs("s2", camp, alerts)


def scenario3(args, tmp):
    other = "100.64.7.7"
    parts = s1_parts(args, tmp) + [
             # Another attacker, interleaved in time, own network and tokens.
             {"pcap": gen(args, tmp, "brute-client"), "shift": 120, "only": [ATTACKER],
              "port_offset": 1000, "map": [{"from": ATTACKER, "to": other}]},
             # Its pagination walk with 40 more benign users (moved to their
             # own range so their sessions do not collide with the others').
             {"pcap": gen(args, tmp, "pagination-walk"), "shift": 210, "port_offset": 2000,
              "map": [{"from": ATTACKER, "to": other},
                      {"from": "198.18.0.0/16", "to": "198.20.0.0/16"}]}]
    alerts, events, camps, stats = run(args, tmp, "s3", {"parts": parts})
    check(stats["total"].get("http_parse_errors", 0) == 0, "s3: composed capture parses cleanly")
    cs = camps["campaigns"]
    mine = [c for c in cs if ATTACKER in c["actor"]["clients"]]
    theirs = [c for c in cs if other in c["actor"]["clients"]]
    check(len(mine) == 1 and len(theirs) == 1 and mine[0]["id"] != theirs[0]["id"],
          f"s3: the two attackers are two campaigns ({[c['actor']['clients'] for c in cs]})")
    benign = [ipaddress.ip_network("198.18.0.0/16"), ipaddress.ip_network("198.20.0.0/16")]
    leaked = [cl for c in cs for cl in c["actor"]["clients"]
              if any(ipaddress.ip_address(cl) in n for n in benign)]
    check(not leaked, f"s3: no benign user in any campaign ({leaked})")
    if mine and theirs:
        m, t = mine[0], theirs[0]
        check(m["actor"]["clients"] == [ATTACKER] and t["actor"]["clients"] == [other],
              "s3: no address shared between the campaigns")
        ids_m = {i["hash"] for i in m["actor"]["identities"]}
        ids_t = {i["hash"] for i in t["actor"]["identities"]}
        check(not (ids_m & ids_t), "s3: no identity shared between the campaigns")
        check(m["stage"] == "exfiltration",
              f"s3: main campaign reaches exfiltration ({m['stage']})")
        check("exfiltration" not in t["tactics"],
              f"s3: the other attacker's campaign does not ({t['tactics']})")
        check("credential-access" in t["tactics"] and "collection" in t["tactics"],
              f"s3: the other attacker's campaign has its own stages ({t['tactics']})")
        flows_m = {(r["flow_id"], r["signature_id"]) for r in m["alerts"]}
        flows_t = {(r["flow_id"], r["signature_id"]) for r in t["alerts"]}
        check(not (flows_m & flows_t), "s3: no alert in both campaigns")
        other_alerts = [a for a in alerts if client_of(a) == other]
        check(t["alert_count"] == len(other_alerts),
              f"s3: every alert of the other attacker in its campaign "
              f"({t['alert_count']}/{len(other_alerts)})")
    ex = [client_of(a) for a in alerts if a["alert"]["signature_id"] == EXFIL]
    check(ex and set(ex) == {ATTACKER},
          f"s3: sensitive_exfiltration fires on the attacker only, no benign user ({ex})")
    ids = [e["campaign"]["id"] for e in events]
    check(set(ids) <= {c["id"] for c in cs}, "s3: campaign events name known campaigns")


REST_PORT = 19000 + os.getpid() % 1000


def rest(method, path, timeout=10):
    """(status, JSON body or None, raw body, content type) from the live REST."""
    c = http.client.HTTPConnection("127.0.0.1", REST_PORT, timeout=timeout)
    c.request(method, path)
    r = c.getresponse()
    raw = r.read()
    c.close()
    ctype = r.getheader("Content-Type", "")
    try:
        j = json.loads(raw) if ctype.startswith("application/json") else None
    except ValueError:
        j = None
    return r.status, j, raw, ctype


def epoch(ts):
    """'2024-05-01T10:00:40.123456+0000' -> seconds since the epoch (UTC)."""
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))


def wait_for(what, fn, secs):
    t0 = time.time()
    while time.time() - t0 < secs:
        try:
            v = fn()
            if v:
                return v
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.25)
    check(False, f"live: {what} within {secs} s")
    return None


def live(args, tmp, empty, outdir):
    """Scenario 1 on a live appliance, read once from a net_pcap vdev."""
    pcap = os.path.join(tmp, "s1.pcap")
    if not os.path.exists(pcap):
        campaign_compose.compose({"parts": s1_parts(args, tmp)}, pcap)
    records = len(campaign_compose.read_pcap(pcap))
    d = os.path.join(tmp, "live")
    os.makedirs(d, exist_ok=True)
    # Generator JWTs are long expired by the wall clock: keep jwt_expired
    # from turning every benign user into an alerting actor.
    with open(os.path.join(d, "detectors.json"), "w") as f:
        f.write('{"detectors": {"jwt_expired": {"enabled": false}}}\n')
    cfg = os.path.join(d, "apiguard.yaml")
    with open(cfg, "w") as f:
        f.write("dataplane:\n  mbufs: 65535\n  flows:\n    max: 8192\n  ports:\n"
                "    - {name: net_pcap0, peer: net_null0}\n    - {name: net_null0, peer: net_pcap0}\n"
                "outputs:\n  console: false\n  alert-ring: 2048\n"
                f"rest:\n  listen: \"127.0.0.1:{REST_PORT}\"\n")
    cmd = [args.apiguard, "--no-huge", "-m", "1024", "--no-pci", "--file-prefix",
           f"camp_{os.getpid()}", "--lcores", "0@0,1@%d" % (1 if os.cpu_count() > 1 else 0),
           f"--vdev=net_pcap0,rx_pcap={pcap}", "--vdev=net_null0,no-rx=1",
           "--log-level=*:error", "--", "-c", cfg, "-l", d, "-S", empty]
    out = open(os.path.join(d, "apiguard.out"), "w")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        live_checks(args, d, records, outdir)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                rc = p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = -1
        else:
            rc = p.returncode
        out.close()
        # the EAL runtime directory outlives the process
        shutil.rmtree(f"/var/run/dpdk/camp_{os.getpid()}", ignore_errors=True)
    check(rc == 0, f"live: clean exit ({rc}; {open(os.path.join(d, 'apiguard.out')).read()[-300:]})")
    with open(os.path.join(d, "eve.json")) as f:
        eve = [json.loads(l) for l in f if l.strip()]
    n_ev = sum(1 for e in eve if e["event_type"] == "campaign")
    check(n_ev == LIVE.get("events", -1),
          f"live: campaign events in eve.json ({n_ev}) == the events counter "
          f"({LIVE.get('events')})")


LIVE = {}


def live_checks(args, d, records, outdir):
    ready = wait_for("REST ready", lambda: rest("GET", "/readyz")[0] == 200, 60)
    if not ready:
        return

    def rx():
        s = rest("GET", "/api/v1/stats")[1]
        return next(x["rx_packets"] for x in s["ports"] if x["name"] == "net_pcap0")
    got = wait_for(f"the capture's {records} records received", lambda: rx() >= records, 120)
    check(got and rx() == records, f"live: port rx == capture records ({records})")

    def exfil_campaign():
        j = rest("GET", "/api/v1/campaigns")[1]
        cs = [c for c in j["campaigns"] if c["stage"] == "exfiltration"]
        return (j, cs[0]) if cs else None
    r = wait_for("a campaign at exfiltration", exfil_campaign, 60)
    if not r:
        return
    lst, camp = r
    # The analytics stage may still be draining: wait until two readings a
    # second apart agree.
    prev = [None]

    def settled():
        cur = rest("GET", "/api/v1/campaigns")[1]["stats"]
        same = cur == prev[0]
        prev[0] = cur
        time.sleep(1)
        return same
    wait_for("campaign counts settled", settled, 30)
    lst = rest("GET", "/api/v1/campaigns")[1]
    camp = next(c for c in lst["campaigns"] if c["stage"] == "exfiltration")
    cid = camp["id"]
    check(len(lst["campaigns"]) == 1 and camp["actor"]["clients"] == [ATTACKER],
          f"live: one campaign, actor {ATTACKER} "
          f"({[c['actor']['clients'] for c in lst['campaigns']]})")
    check(all(k in lst for k in ("campaigns", "stats")), "live: list carries campaigns and stats")

    def ids(q):
        st, j, _, _ = rest("GET", "/api/v1/campaigns?" + urllib.parse.urlencode(q))
        return st, [c["id"] for c in (j or {}).get("campaigns", [])]
    first, last = epoch(camp["first_seen"]), epoch(camp["last_seen"])
    for q, want in [({"stage": "exfiltration"}, [cid]), ({"stage": "TA0010"}, [cid]),
                    ({"stage": "collection"}, [cid]), ({"stage": "impact"}, []),
                    ({"tactic": "exfiltration"}, [cid]), ({"tactic": "TA0043"}, [cid]),
                    ({"tactic": "resource-development"}, []),
                    ({"since": first - 10}, [cid]), ({"since": last + 10}, []),
                    ({"until": last + 10}, [cid]), ({"until": first - 10}, []),
                    ({"open": "1", "stage": "credential-access", "limit": 5}, [cid])]:
        st, got = ids(q)
        check(st == 200 and got == want, f"live: GET /campaigns?{urllib.parse.urlencode(q)} -> "
                                         f"{want} (got {st} {got})")
    for q in ({"stage": "nosuch"}, {"tactic": "TA9999"}, {"since": "yesterday"},
              {"until": "-5"}, {"limit": "0"}):
        st, j, _, ctype = rest("GET", "/api/v1/campaigns?" + urllib.parse.urlencode(q))
        check(st == 400 and ctype.startswith("application/json") and
              j.get("error", {}).get("code") and j["error"].get("message"),
              f"live: bad filter {q} -> 400 JSON error ({st} {j})")

    st, one, _, _ = rest("GET", f"/api/v1/campaigns/{cid}")
    check(st == 200 and one["id"] == cid and one["stage"] == "exfiltration",
          f"live: GET /campaigns/{cid}")
    tl = one.get("alerts", []) if one else []
    times = [a["timestamp"] for a in tl]
    check(tl and times == sorted(times) and len(tl) == one["alert_count"],
          f"live: timeline of {len(tl)} alerts in time order")
    firsts = [t for a in tl for t in a.get("new_tactics", [])]
    # (Alerts of one wall-clock instant tie; the campaign then lists
    # tactics in lifecycle order, the timeline in arrival order.)
    check(sorted(firsts) == sorted(one["tactics"]) and len(firsts) == len(set(firsts)),
          f"live: the timeline's new tactics {firsts} are the campaign's tactics, each once")
    pos = [firsts.index(t) for t in ("reconnaissance", "credential-access", "collection",
                                     "exfiltration") if t in firsts]
    check(len(pos) == 4 and pos == sorted(pos),
          "live: recon -> credential access -> collection -> exfiltration in order")
    check(any(a["signature_id"] == EXFIL and "exfiltration" in a.get("new_tactics", [])
              for a in tl), "live: the sensitive_exfiltration alert opens the exfiltration stage")

    st, lay, _, _ = rest("GET", f"/api/v1/campaigns/{cid}/layer")
    ok = st == 200 and lay is not None
    check(ok and lay.get("versions", {}).get("layer") == "4.5" and
          lay["versions"].get("attack") and lay["versions"].get("navigator") and
          lay.get("domain") == "enterprise-attack" and isinstance(lay.get("techniques"), list) and
          all("techniqueID" in t and "score" in t and "tactic" in t for t in lay["techniques"]) and
          isinstance(lay.get("gradient"), dict) and lay.get("name") == f"apiguard campaign {cid}",
          f"live: Navigator layer fields (versions {lay.get('versions') if lay else None})")
    ltech = {t["techniqueID"] for t in (lay or {}).get("techniques", [])}
    check({"T1020", "T1595.002", "T1110", "T1119"} <= ltech,
          f"live: layer techniques include T1020 ({sorted(ltech)})")
    check(any(t["techniqueID"] == "T1020" and t.get("tactic") == "exfiltration"
              for t in (lay or {}).get("techniques", [])), "live: T1020 under exfiltration")
    for path in (f"/api/v1/campaigns/{cid + 1000}", f"/api/v1/campaigns/{cid + 1000}/layer"):
        st, j, _, ctype = rest("GET", path)
        check(st == 404 and ctype.startswith("application/json") and
              j.get("error", {}).get("code") == "not_found", f"live: {path} -> 404 JSON ({st})")
    st, j, _, _ = rest("GET", "/api/v1/campaigns/abc")
    check(st == 400 and j and "error" in j, f"live: /campaigns/abc -> 400 ({st})")

    st, s, _, _ = rest("GET", "/api/v1/stats")
    cs = (s or {}).get("campaigns", {})
    LIVE["events"] = cs.get("events")
    check(st == 200 and cs.get("created") == 1 and cs.get("campaigns") == 1 and
          cs.get("open") == 1 and cs.get("merges") == 0, f"live: /stats campaigns ({cs})")
    check(cs.get("by_stage", {}).get("exfiltration") == 1 and
          sum(cs.get("by_stage", {}).values()) == 1 and len(cs.get("by_stage", {})) == 14,
          "live: /stats campaigns.by_stage: one at exfiltration, every stage listed")
    check(cs.get("stage_reached", {}).get("exfiltration") == 1 and
          cs.get("alerts_linked") == cs.get("alerts") == one["alert_count"] and
          cs.get("events", 0) >= 4 and cs.get("blocks") == 0,
          "live: /stats counts stage advances, linked alerts, events, no policy block")
    st, _, raw, ctype = rest("GET", "/metrics")
    text = raw.decode()
    check(st == 200 and ctype.startswith("text/plain"), "live: /metrics")
    for want in ('apiguard_campaigns_by_stage{stage="exfiltration"} 1',
                 "apiguard_campaigns_created_total 1", "apiguard_campaigns_open 1",
                 'apiguard_campaign_stage_reached_total{stage="exfiltration"} 1',
                 f"apiguard_campaign_events_total {cs.get('events')}",
                 f"apiguard_campaign_alerts_linked_total {cs.get('alerts_linked')}",
                 "# TYPE apiguard_campaign_policy_blocks_total counter",
                 "# TYPE apiguard_campaigns_open gauge",
                 '# HELP apiguard_rule_hits_total', 'apiguard_rule_hits_total{sid="2300054"} 1'):
        check(want in text, f"live: /metrics has {want}")
    if shutil.which("promtool"):
        pt = subprocess.run(["promtool", "check", "metrics"], input=raw, capture_output=True)
        check(pt.returncode == 0, "live: promtool check metrics clean: %s"
              % (pt.stdout + pt.stderr).decode()[:300])
    else:
        print("note: promtool not installed")
    dashboard(cid, outdir)


def dashboard(cid, outdir):
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chrome:
        print("note: chromium not installed; dashboard not rendered")
        return
    prof = tempfile.mkdtemp(prefix="ag_chrome_camp_")
    shot = os.path.join(outdir, "campaigns-dashboard.png")
    url = f"http://127.0.0.1:{REST_PORT}/"
    base = [chrome, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--user-data-dir=" + prof, "--virtual-time-budget=6000",
            "--window-size=1400,2200"]
    r = subprocess.run(base + ["--enable-logging=stderr", "--v=0", "--dump-dom", url],
                       capture_output=True, timeout=120)
    dom, log = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    console_errors = [x for x in log.splitlines() if "Uncaught" in x or
                      ("CONSOLE" in x and ("ERROR" in x or "error" in x))]
    check(r.returncode == 0 and 'data-campaigns="1"' in dom, "dashboard: campaign panel loaded")
    m = re.search(r'<table id="campaigns">.*?</table>', dom, re.S)
    table = m.group(0) if m else ""
    check(f"<td>{cid}</td>" in table and "<b>exfiltration</b>" in table and ATTACKER in table and
          "reconnaissance → " in table and "→ exfiltration" in table,
          "dashboard: the live campaign in the table (id, stage, actor, tactics in order)")
    m = re.search(r'<div id="campaign-timeline".*?</div>', dom, re.S)
    tl = m.group(0) if m else ""
    check(f"campaign {cid}: exfiltration" in tl and f"/api/v1/campaigns/{cid}/layer" in tl and
          "<b>2300054</b>" in tl and "+ exfiltration" in tl,
          "dashboard: its timeline with the exfiltration step and the layer link")
    check(not console_errors, f"dashboard: no console errors {console_errors[:3]}")
    subprocess.run(base + ["--screenshot=" + shot, url], capture_output=True, timeout=120)
    check(os.path.exists(shot) and os.path.getsize(shot) > 10000, f"dashboard: screenshot {shot}")
    shutil.rmtree(prof, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apiguard", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--outdir", help="where the dashboard screenshot is kept "
                    "(default $MESON_BUILD_ROOT, else a kept temporary directory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ag-campaigns-") as tmp:
        empty = os.path.join(tmp, "empty.rules")
        open(empty, "w").close()
        scenario1(args, tmp, empty)
        scenario2(args, tmp, empty)
        scenario3(args, tmp)
        outdir = (args.outdir or os.environ.get("MESON_BUILD_ROOT") or
                  tempfile.mkdtemp(prefix="ag-campaigns-out-"))
        os.makedirs(outdir, exist_ok=True)
        live(args, tmp, empty, outdir)
    print(f"\n{len(FAILS)} failure(s)")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
