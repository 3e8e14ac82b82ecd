#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# apiguard benchmark: throughput of the offline pipeline, the llhttp +
# bare-Hyperscan reference (tools/bench_baseline.c) and callgrind instruction
# counts. Results: $BENCH_DIR/results.md (tables, pasted into
# docs/BENCHMARKS.md) and $BENCH_DIR/results.json. Takes ~3-5 minutes.
#
# usage: tools/bench.sh [BUILD_DIR]
#   BUILD_DIR  release build (default build-release). Configured with
#              -Dbuildtype=release -Dtests=false if missing, built with ninja.
# environment:
#   BENCH_DIR      work directory for captures and logs (default /tmp/apiguard-bench)
#   BENCH_PACKETS  packets in the large capture (default 1000000)
#   BENCH_SMALL    packets in the callgrind capture (default 50000)
#   BENCH_RUNS     timed runs per variant (default 3)
#   BENCH_CG_BUILD callgrind build dir (default build-cg; see below)
#   BENCH_NO_CG=1  skip callgrind
#
# Valgrind 3.19 cannot decode AVX-512, and the release build uses
# -march=native for the files that do not include DPDK headers (matchers/,
# llhttp). The callgrind figures therefore come from a second build,
# configured with c_args "-march=x86-64-v3 -g" (AVX2, symbols with file
# names). Instruction counts differ from the release binary's by the
# vector width only in llhttp and matchers; dataplane/ is built with DPDK's
# -march=corei7 in both.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${1:-build-release}
CG_BUILD=${BENCH_CG_BUILD:-build-cg}
DIR=${BENCH_DIR:-/tmp/apiguard-bench}
PACKETS=${BENCH_PACKETS:-1000000}
SMALL=${BENCH_SMALL:-50000}
RUNS=${BENCH_RUNS:-3}
PY=/usr/bin/python3
RULES=("$ROOT"/configs/rules/*.rules)

say() { printf '\n== %s\n' "$*" >&2; }

if [ ! -f "$BUILD/build.ninja" ]; then
	say "configuring $BUILD"
	meson setup "$BUILD" -Dbuildtype=release -Dtests=false >/dev/null
fi
say "building $BUILD"
ninja -C "$BUILD" >/dev/null
for t in control/apiguard tools/apiguard-gen tools/bench-baseline; do
	[ -x "$BUILD/$t" ] || { echo "bench.sh: $BUILD/$t missing" >&2; exit 1; }
done
APIGUARD=$BUILD/control/apiguard
GEN=$BUILD/tools/apiguard-gen
BASELINE=$BUILD/tools/bench-baseline

CG=0
if [ "${BENCH_NO_CG:-0}" != 1 ]; then
	if ! command -v valgrind >/dev/null; then
		echo "bench.sh: valgrind not found (apt-get install -y valgrind); skipping callgrind" >&2
	else
		CG=1
		if [ ! -f "$CG_BUILD/build.ninja" ]; then
			say "configuring $CG_BUILD (callgrind build: -march=x86-64-v3 -g)"
			meson setup "$CG_BUILD" -Dbuildtype=release -Dtests=false \
				-Dc_args="-march=x86-64-v3 -g" >/dev/null
		fi
		say "building $CG_BUILD"
		ninja -C "$CG_BUILD" >/dev/null
	fi
fi

mkdir -p "$DIR"
rm -rf "$DIR"/run-* "$DIR"/cg-*
: >"$DIR/empty.rules"
# Same pipeline up to TCP reassembly, but no port is parsed as HTTP.
printf 'dataplane:\n  http:\n    ports: [1]\n' >"$DIR/nohttp.yaml"

say "machine"
{
	echo "nproc=$(nproc)"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "mem_kib=$(awk '/MemTotal/{print $2}' /proc/meminfo)"
	echo "kernel=$(uname -r)"
	echo "gcc=$(gcc -dumpfullversion 2>/dev/null || echo ?)"
	echo "valgrind=$(valgrind --version 2>/dev/null || echo none)"
	echo "flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512bw|sse4_2)$' | tr '\n' ' ')"
} | tee "$DIR/machine.txt" >&2

say "generating captures"
"$GEN" -o "$DIR/big.pcap" --packets "$PACKETS" --seed 42 --attack-share 0.02 \
	--manifest "$DIR/big.json" >&2
if [ "$CG" = 1 ]; then
	"$GEN" -o "$DIR/small.pcap" --packets "$SMALL" --seed 42 --attack-share 0.02 \
		--manifest "$DIR/small.json" >&2
fi

# run NAME ARGS...: one offline run of the large capture; keeps the summary
# and stats.json in $DIR/run-NAME.
run() {
	local name=$1
	shift
	local d="$DIR/run-$name"
	mkdir -p "$d"
	"$APIGUARD" -r "$DIR/big.pcap" -q -l "$d" "$@" >"$d/summary.txt" 2>"$d/stderr.txt"
	grep '^time:' "$d/summary.txt" >&2
}

say "apiguard, 1 worker, direct mode, full rule pack ($RUNS runs)"
for i in $(seq 1 "$RUNS"); do run "full-$i"; done
say "apiguard, 1 worker, empty rule file ($RUNS runs)"
for i in $(seq 1 "$RUNS"); do run "empty-$i" -S "$DIR/empty.rules"; done
say "apiguard, 1 worker, no HTTP port: I/O + L2-L4 + TCP only ($RUNS runs)"
for i in $(seq 1 "$RUNS"); do run "nohttp-$i" -c "$DIR/nohttp.yaml"; done
say "apiguard, --workers 2 (software distribution, 1 run)"
run "w2-1" --workers 2

say "bench-baseline (llhttp alone, bare Hyperscan literal scan, both)"
"$BASELINE" -n 5 "${RULES[@]/#/-S}" "$DIR/big.pcap" | tee "$DIR/baseline.txt" >&2

if [ "$CG" = 1 ]; then
	say "callgrind: apiguard on $SMALL packets"
	mkdir -p "$DIR/cg-log"
	# --fair-sched: without it the worker's empty polls after the end of
	# the capture starve the main thread and add a variable count.
	valgrind --tool=callgrind --fair-sched=yes --separate-threads=yes \
		--callgrind-out-file="$DIR/cg-apiguard.out" \
		"$CG_BUILD/control/apiguard" -r "$DIR/small.pcap" -q -l "$DIR/cg-log" \
		>"$DIR/cg-apiguard.txt" 2>&1
	say "callgrind: bench-baseline on $SMALL packets"
	valgrind --tool=callgrind --callgrind-out-file="$DIR/cg-baseline.out" \
		"$CG_BUILD/tools/bench-baseline" -n 1 "${RULES[@]/#/-S}" "$DIR/small.pcap" \
		>"$DIR/cg-baseline.txt" 2>&1
	for f in "$DIR"/cg-apiguard.out-*; do
		callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$f" >"$f.incl" 2>/dev/null
		callgrind_annotate --auto=no --threshold=100 "$f" >"$f.self" 2>/dev/null
	done
	callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$DIR/cg-baseline.out" \
		>"$DIR/cg-baseline.out.incl" 2>/dev/null
fi

say "results"
"$PY" - "$DIR" "$RUNS" "$CG" <<'EOF'
import glob, json, os, re, statistics, sys

d, runs, cg = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
out = {}
machine = dict(l.rstrip("\n").split("=", 1) for l in open(f"{d}/machine.txt"))
big = json.load(open(f"{d}/big.json"))
out["machine"] = machine
out["capture"] = {k: big[k] for k in ("packets", "bytes", "flows", "requests",
                                      "responses", "transactions", "request_bytes",
                                      "response_bytes")}
txns = big["transactions"]
md = []
P = md.append
P(f"Machine: {machine['nproc']} vCPU, {machine['cpu']}, "
  f"{int(machine['mem_kib']) // 1024 // 1024 + 1} GiB RAM (MemTotal {machine['mem_kib']} kB), "
  f"kernel {machine['kernel']}, gcc {machine['gcc']}, {machine['valgrind']}; "
  f"CPU flags: {machine['flags'].strip()}")
P("")
P(f"Large capture: {big['packets']} packets, {big['bytes']} frame bytes "
  f"({big['bytes'] / big['packets']:.0f} B/packet), {big['flows']} flows, "
  f"{big['transactions']} transactions (request bytes {big['request_bytes']}, "
  f"response bytes {big['response_bytes']}).")
P("")

def run_figs(name):
    s = json.load(open(f"{d}/run-{name}/stats.json"))
    m = re.search(r"time: ([\d.]+) s", open(f"{d}/run-{name}/summary.txt").read())
    secs = float(m.group(1))
    t = s["total"]
    return {"secs": secs, "rx_packets": t["rx_packets"], "rx_bytes": t["rx_bytes"],
            "http_txn_done": t["http_txn_done"], "alerts": t["alerts"],
            "workers": len(s.get("workers", [])) or 1}

P("| variant | runs | time (s): median (all runs) | packets/s | Gbit/s (frames) | transactions/s | ns/packet | ns/transaction | best run: packets/s | txns parsed | alerts |")
P("|---|---|---|---|---|---|---|---|---|---|---|")
variants = [("full", "full rule pack, 1 worker"), ("empty", "empty rule file (-S empty.rules)"),
            ("nohttp", "no HTTP port (I/O + L2-L4 + TCP)"), ("w2", "--workers 2 (software distribution)")]
out["apiguard"] = {}
for key, label in variants:
    rs = [run_figs(os.path.basename(p)[4:]) for p in sorted(glob.glob(f"{d}/run-{key}-*"))]
    if not rs:
        continue
    secs = statistics.median(r["secs"] for r in rs)
    r0 = rs[0]
    fig = {"runs": len(rs), "secs_all": [r["secs"] for r in rs], "secs": secs,
           "pps": r0["rx_packets"] / secs, "gbps": r0["rx_bytes"] * 8 / secs / 1e9,
           "tps": txns / secs, "ns_per_packet": secs * 1e9 / r0["rx_packets"],
           "ns_per_txn": secs * 1e9 / txns, "http_txn_done": r0["http_txn_done"],
           "alerts": r0["alerts"], "workers": r0["workers"],
           "best_pps": r0["rx_packets"] / min(r["secs"] for r in rs)}
    out["apiguard"][key] = fig
    all_secs = ", ".join("%.3f" % r["secs"] for r in rs)
    P(f"| {label} | {len(rs)} | {secs:.3f} ({all_secs}) | "
      f"{fig['pps']:,.0f} | {fig['gbps']:.2f} | {fig['tps']:,.0f} | {fig['ns_per_packet']:.0f} | "
      f"{fig['ns_per_txn']:.0f} | {fig['best_pps']:,.0f} | {fig['http_txn_done']} | {fig['alerts']} |")
P("")
P("transactions/s and ns/transaction use the capture's transaction count from the manifest "
  f"({txns}); apiguard parses fewer because flows dropped by the Log4Shell rule are no longer inspected.")
P("")

base = {}
for l in open(f"{d}/baseline.txt"):
    if l.startswith("pass "):
        f = l.split()
        kv = dict(x.split("=") for x in f[2:])
        base[f[1]] = {k: float(v) for k, v in kv.items()}
    elif ":" in l:
        k, rest = l.split(":", 1)
        base["_" + k] = dict(x.split("=") for x in rest.split())
out["baseline"] = base
P(f"Baseline over the same capture ({base['_capture']['tcp_payload_bytes']} TCP payload bytes in "
  f"{base['_capture']['segments']} segments; {base['_http']['requests']} requests, "
  f"{base['_http']['responses']} responses incl. {base['_http']['interim']} interim, "
  f"{base['_http']['parse_errors']} parse errors; literal database: {base['_rules']['literals']} "
  f"literals, {base['_rules']['caseless']} caseless):")
P("")
P("| pass | time (s, median of 5) | GB/s (payload) | ns/transaction | ns/packet |")
P("|---|---|---|---|---|")
for k in ("llhttp", "hs", "both"):
    b = base[k]
    P(f"| {k} | {b['median_s']:.4f} | {b['GBps']:.2f} | {b['ns_per_txn']:.0f} | {b['ns_per_packet']:.0f} |")
P("")
full, both = out["apiguard"]["full"], base["both"]
ratio_t = full["ns_per_txn"] / both["ns_per_txn"]
out["ratio_time"] = ratio_t
P(f"Time ratio apiguard (full, 1 worker) / (llhttp + bare Hyperscan): "
  f"{full['ns_per_txn']:.0f} / {both['ns_per_txn']:.0f} ns per transaction = **{ratio_t:.2f}x** "
  "(packet I/O included).")
P("")

if cg:
    small = json.load(open(f"{d}/small.json"))
    spk, stx = small["packets"], small["transactions"]
    line = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s+\[(.*)\]\s*$")
    line_noobj = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S.*)$")

    def parse(path):
        rows = []
        for l in open(path):
            m = line.match(l)
            if m:
                fn, obj = m.group(2), m.group(3)
            else:
                m = line_noobj.match(l)
                if not m or "PROGRAM TOTALS" in l:
                    continue
                fn, obj = m.group(2), ""
            cost = int(m.group(1).replace(",", ""))
            file, _, func = fn.partition(":")
            rows.append((cost, file, func, obj))
        return rows

    def total(path):
        for l in open(path):
            if "PROGRAM TOTALS" in l:
                return int(l.split()[0].replace(",", ""))
        return 0

    worker = None
    for p in sorted(glob.glob(f"{d}/cg-apiguard.out-*.incl")):
        if any(r[2] == "dp_worker_main" for r in parse(p)):
            worker = p
    incl = {}
    for c, f, fn, o in parse(worker):
        incl[fn] = max(incl.get(fn, 0), c)  # a function split over inlined files
    wtot = total(worker)
    pcap_rx = max((c for c, f, fn, o in parse(worker) if "librte_net_pcap" in o), default=0)
    selfrows = parse(worker[:-5] + ".self")
    groups = {}
    def group(f, fn, o):
        if "llhttp" in f or fn.startswith("llhttp"):
            return "llhttp"
        if "libhs" in o:
            return "Hyperscan (libhs)"
        if "matchers/" in f:
            return "matchers/ (mt_*, confirmation, buffers)"
        if "dataplane/" in f or fn.startswith("dp_"):
            return "dataplane/ (dp_*)"
        if "control/" in f or fn.startswith("ctl_"):
            return "control/"
        if "librte_net_pcap" in o or "libpcap" in o:
            return "net_pcap PMD + libpcap"
        if "libc" in o and re.match(r"(_IO_|__underflow|__fread|fread|ferror|read|__read)", fn):
            return "libc stdio (libpcap file reads)"
        if "libc" in o and re.match(r"__(mem|str|strn)", fn):
            return "libc mem*/str*"
        if "librte_" in o:
            return "DPDK libs (mempool, mbuf, hash, ring)"
        return "other"
    for c, f, fn, o in selfrows:
        g = group(f, fn, o)
        groups[g] = groups.get(g, 0) + c
    bl = {r[2]: r[0] for r in parse(f"{d}/cg-baseline.out.incl")}
    cgb = {k: bl.get(f"bb_pass_{k}", 0) for k in ("llhttp", "hs", "both")}
    out["callgrind"] = {"packets": spk, "transactions": stx, "worker_total": wtot,
                        "eth_pcap_rx": pcap_rx, "inclusive": {}, "self_groups": groups,
                        "baseline": cgb}
    P(f"### Callgrind ({spk} packets, {stx} transactions; worker thread only)")
    P("")
    P("| function (inclusive) | instructions | per packet | per transaction | share of worker |")
    P("|---|---|---|---|---|")
    keys = [("worker thread total (dp_worker_main)", wtot), ("eth_pcap_rx (net_pcap PMD: libpcap read + copy into mbuf)", pcap_rx)]
    for fn in ("dp_worker_burst", "dp_worker_packet", "dp_pkt_verify_csum", "dp_tcp_segment",
               "dp_http_data", "llhttp_execute", "dp_http_on_headers_complete",
               "mt_match_request", "mt_match_response", "mt_buf_get", "mt_confirm_rule",
               "mt_search", "avx2_hs_scan"):
        keys.append((fn, incl.get(fn, 0)))
    for name, c in keys:
        out["callgrind"]["inclusive"][name] = c
        P(f"| {name} | {c:,} | {c / spk:,.0f} | {c / stx:,.0f} | {100 * c / wtot:.1f}% |")
    P("")
    P("| subsystem (self cost) | instructions | per packet | per transaction | share |")
    P("|---|---|---|---|---|")
    for g, c in sorted(groups.items(), key=lambda x: -x[1]):
        P(f"| {g} | {c:,} | {c / spk:,.0f} | {c / stx:,.0f} | {100 * c / wtot:.1f}% |")
    P("")
    P("| baseline pass (inclusive) | instructions | per packet | per transaction |")
    P("|---|---|---|---|")
    for k in ("llhttp", "hs", "both"):
        P(f"| bb_pass_{k} | {cgb[k]:,} | {cgb[k] / spk:,.0f} | {cgb[k] / stx:,.0f} |")
    P("")
    if cgb["both"]:
        r_all = wtot / cgb["both"]
        r_noio = (wtot - pcap_rx) / cgb["both"]
        mt = incl.get("mt_match_request", 0) + incl.get("mt_match_response", 0)
        r_sig = mt / cgb["hs"] if cgb["hs"] else 0
        out["callgrind"]["ratio_all"] = r_all
        out["callgrind"]["ratio_no_io"] = r_noio
        out["callgrind"]["ratio_signature_vs_bare_hs"] = r_sig
        P(f"Instruction ratio apiguard worker / (llhttp + bare Hyperscan): **{r_all:.2f}x** "
          f"with packet I/O, **{r_noio:.2f}x** without eth_pcap_rx; signature engine "
          f"(mt_match_request + mt_match_response) / bare Hyperscan literal scan: **{r_sig:.2f}x**.")
        P("")

open(f"{d}/results.md", "w").write("\n".join(md) + "\n")
json.dump(out, open(f"{d}/results.json", "w"), indent=2)
print("\n".join(md))
EOF
say "done: $DIR/results.md, $DIR/results.json"
