#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Attack campaigns end to end (docs/CAMPAIGNS.md).

Three multi-stage captures are composed from apiguard-gen scenario
captures with tools/campaign_compose.py (addresses, ports and times
rewritten, TCP checksums recomputed, the generator's tokens untouched) and
run through `apiguard -r X.pcap -l DIR -q`; eve.json (alerts and
"campaign" events) and campaigns.json (written at exit) are checked.

 1. one client: 404 scan -> password guessing and a successful login ->
    enumeration of other users' objects with a token -> bulk export. One
    campaign, stages reached in lifecycle order, ending at collection; with
    a response policy (block at collection after credential-access) the
    actor's address and identities are blocked and its later traffic
    dropped.
 2. the same actor changing address twice: the username it guessed links
    the login from a new network, the token it keeps links the next
    network. Still one campaign.
 3. the stages of 1 with the default rule set, plus a second, unrelated
    attacker (password guessing + pagination walk from another network,
    interleaved in time) and the benign users of every part: two campaigns, nothing
    linked across them, no benign user in any campaign.

Scenarios 1 and 2 run with an empty rule file so that the stages are
those of the behaviour detectors alone (the scanner signatures of the 404
scan carry discovery/collection techniques of their own); scenario 3 runs
the default rules.
"""
import argparse
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

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


def check_lifecycle(name, events, camp):
    """Stage only moves forward; recon, credential access and collection
    were first reached in lifecycle order; the events announce new tactics."""
    stages = [ORDER.index(e["campaign"]["stage"]) for e in events]
    check(stages == sorted(stages), f"{name}: stage never goes back ({[ORDER[s] for s in stages]})")
    check(camp["stage"] in ("collection", "exfiltration"),
          f"{name}: final stage collection/exfiltration (got {camp['stage']})")
    tac = camp["tactics"]
    need = ["reconnaissance", "credential-access", "initial-access", "collection"]
    check(all(t in tac for t in need), f"{name}: tactics {tac} include {need}")
    if all(t in tac for t in need):
        pos = [tac.index(t) for t in ["reconnaissance", "credential-access", "collection"]]
        check(pos == sorted(pos), f"{name}: recon -> credential access -> collection in time order")
    counts = [len(e["campaign"]["tactics"]) for e in events]
    check(counts == sorted(set(counts)) and counts[0] >= 2,
          f"{name}: one event per tactic increase, from two tactics ({counts})")
    for e in events:
        c = e["campaign"]
        check(all(k in c for k in ("id", "actor", "stage", "tactics", "techniques", "owasp_api",
                                   "first_seen", "last_seen", "alerts")),
              f"{name}: campaign event at {e['timestamp']} has every field")
        break


def scenario1(args, tmp, empty):
    parts = [{"pcap": gen(args, tmp, "scan-404"), "shift": 0},
             {"pcap": gen(args, tmp, "login-after-failures"), "shift": 100},
             {"pcap": gen(args, tmp, "bola-enum"), "shift": 200},
             {"pcap": gen(args, tmp, "excessive-data"), "shift": 300}]
    alerts, events, camps, stats = run(args, tmp, "s1", {"parts": parts}, rules=empty)
    sids = {a["alert"]["signature_id"] for a in alerts}
    check({2300004, 2300010, 2300014, 2300001, 2300051} <= sids,
          f"s1: scan, guessing, login, enumeration and export detected ({sorted(sids)})")
    check(len(camps["campaigns"]) == 1, f"s1: one campaign ({len(camps['campaigns'])})")
    check(len({e["campaign"]["id"] for e in events}) == 1 and events,
          "s1: every campaign event is about that campaign")
    camp = camps["campaigns"][0]
    check(camp["actor"]["clients"] == [ATTACKER], f"s1: actor is {ATTACKER}")
    check(camp["alert_count"] == len(alerts), f"s1: all {len(alerts)} alerts in the campaign")
    check_lifecycle("s1", events, camp)
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
    parts = [{"pcap": gen(args, tmp, "scan-404"), "shift": 0},
             {"pcap": gen(args, tmp, "login-after-failures"), "shift": 100},
             {"pcap": gen(args, tmp, "bola-enum"), "shift": 200},
             {"pcap": gen(args, tmp, "excessive-data"), "shift": 300},
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
        check(m["stage"] == "collection", f"s3: main campaign reaches collection ({m['stage']})")
        check("credential-access" in t["tactics"] and "collection" in t["tactics"],
              f"s3: the other attacker's campaign has its own stages ({t['tactics']})")
        flows_m = {(r["flow_id"], r["signature_id"]) for r in m["alerts"]}
        flows_t = {(r["flow_id"], r["signature_id"]) for r in t["alerts"]}
        check(not (flows_m & flows_t), "s3: no alert in both campaigns")
        other_alerts = [a for a in alerts if client_of(a) == other]
        check(t["alert_count"] == len(other_alerts),
              f"s3: every alert of the other attacker in its campaign "
              f"({t['alert_count']}/{len(other_alerts)})")
    ids = [e["campaign"]["id"] for e in events]
    check(set(ids) <= {c["id"] for c in cs}, "s3: campaign events name known campaigns")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apiguard", required=True)
    ap.add_argument("--gen", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ag-campaigns-") as tmp:
        empty = os.path.join(tmp, "empty.rules")
        open(empty, "w").close()
        scenario1(args, tmp, empty)
        scenario2(args, tmp, empty)
        scenario3(args, tmp)
    print(f"\n{len(FAILS)} failure(s)")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
