#!/usr/bin/env bash
# Integration test of the traffic generator: the capture must be what the
# manifest says, as seen by an independent dissector (tshark).
#
# usage: tests/integration/test_gen.sh PATH/TO/apiguard-gen
# Builds nothing; prints "N passed, N failed" and exits non-zero on failure.
set -u

GEN=${1:?usage: $0 PATH/TO/apiguard-gen}
command -v tshark >/dev/null || { echo "tshark not found"; echo "0 passed, 1 failed"; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found"; echo "0 passed, 1 failed"; exit 1; }

TMP=$(mktemp -d /tmp/test_gen.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0

ok()   { PASS=$((PASS + 1)); echo "PASS: $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }
check() { # check NAME EXPECTED ACTUAL
	if [ "$2" == "$3" ]; then ok "$1 ($3)"; else bad "$1: expected '$2', got '$3'"; fi
}
mf() { # mf FILE KEY -> manifest value
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}
TS() { tshark "$@" 2>/dev/null; }

# Verifies one capture against its manifest. Extra tshark args (e.g.
# out-of-order reassembly) come after the first three.
verify() {
	local name=$1 pcap=$2 man=$3; shift 3
	local opts=("$@")

	# Frames and bytes, from tshark's io,stat.
	local io frames bytes
	io=$(TS -r "$pcap" -q -z io,stat,0 | grep '<>' | tr -d '|' )
	frames=$(echo "$io" | awk '{print $(NF-1)}')
	bytes=$(echo "$io" | awk '{print $NF}')
	check "$name: packets" "$(mf "$man" packets)" "$frames"
	check "$name: bytes" "$(mf "$man" bytes)" "$bytes"

	# Checksums, validated by tshark. Counted in their own pass: with
	# validation on, tshark does not reassemble bad-checksum segments.
	local badc
	badc=$(TS -r "$pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
		-Y 'tcp.checksum.status == 0 || ip.checksum.status == 0' | wc -l)
	check "$name: bad checksums (tshark-validated)" "$(mf "$man" bad_checksum_packets)" "$badc"
	local good
	good=$(TS -r "$pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
		-Y 'tcp.checksum.status == 1 && (ip.checksum.status == 1 || ipv6)' | wc -l)
	check "$name: good checksums" "$(( $(mf "$man" packets) - badc ))" "$good"

	# One pass: per-frame facts for python.
	TS -r "$pcap" "${opts[@]}" -T fields -E separator=/t -E occurrence=a -E "aggregator=$(printf '\x1f')" \
		-e frame.time_delta -e ip.src -e ipv6.src -e tcp.srcport -e tcp.flags.syn \
		-e tcp.flags.ack -e tcp.flags.fin -e vlan.id \
		-e http.request.method -e http.request.uri \
		-e http.request.line -e http.response.code -e tcp.analysis.out_of_order \
		> "$TMP/$name.fields.tsv"
	local unexpected
	unexpected=$(TS -r "$pcap" "${opts[@]}" -Y '(tcp.analysis.flags && !tcp.analysis.out_of_order && !tcp.analysis.lost_segment && !tcp.analysis.duplicate_ack) || (_ws.expert.severity >= warning && !tcp.analysis.flags)' | wc -l)
	check "$name: no unexpected tshark warnings" 0 "$unexpected"

	python3 - "$man" "$TMP/$name.fields.tsv" "$name" > "$TMP/$name.py.out" <<'EOF'
import json, sys
from collections import Counter
man = json.load(open(sys.argv[1]))
name = sys.argv[3]
SEP = '\x1f'
res = []
def check(what, exp, got):
    res.append(("PASS" if exp == got else "FAIL") + f": {name}: {what}" +
               (f" ({got})" if exp == got else f": expected {exp!r}, got {got!r}"))

syn = fin = vlan_syn = v6_syn = backwards = ooo = 0
methods = Counter(); codes = Counter(); kinds = Counter()
seen = Counter()
def split(v): return v.split(SEP) if v else []
for line in open(sys.argv[2]):
    f = line.rstrip('\n').split('\t')
    (delta, ip4, ip6, sport, fsyn, fack, ffin, vlan,
     meth, uri, hlines, code, oo) = f + [''] * (13 - len(f))
    if delta and float(delta) < 0: backwards += 1
    if fsyn in ('1', 'True') and fack in ('0', 'False'):
        syn += 1
        if vlan: vlan_syn += 1
        if ip6: v6_syn += 1
    if ffin in ('1', 'True'): fin += 1
    if oo: ooo += 1
    src = ip6 or ip4
    ms, us = split(meth), split(uri)
    for m in ms: methods[m] += 1
    for c in split(code): codes[c] += 1
    for u in us:
        seen[(src, int(sport), u)] += 1
    hl = split(hlines)
    # Attack signatures, counted per request (pipelined frames hold several).
    for u in us:
        if 'UNION%20SELECT' in u: kinds['sqli'] += 1
        if 'etc%2Fpasswd' in u or '../etc/passwd' in u: kinds['traversal'] += 1
        if '%3Cscript%3E' in u: kinds['xss'] += 1
        if '169.254.169.254' in u: kinds['ssrf'] += 1
        if '%3Bcat%20' in u: kinds['cmdi'] += 1
        if u == '/actuator/env': kinds['admin'] += 1
        if 'api_key=sk_live_' in u: kinds['apikey_url'] += 1
    for h in hl:
        if h.startswith('X-Api-Version: ${jndi:'): kinds['log4shell'] += 1
        if h.startswith('User-Agent: sqlmap/'): kinds['scanner'] += 1
        if h.startswith('Authorization: Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.'): kinds['jwt_none'] += 1

check("timestamps non-decreasing", 0, backwards)
check("SYN per flow", man['flows'], syn)
check("two FINs per flow", 2 * man['flows'], fin)
check("IPv6 flows", man['ipv6_flows'], v6_syn)
check("VLAN flows", man['vlan_flows'], vlan_syn)
check("out-of-order segments", man['out_of_order_messages'], ooo)
check("http requests", man['requests'], sum(methods.values()))
check("http responses (final + 100)", man['responses'] + man['interim_responses'],
      sum(codes.values()))
check("100 Continue", man['interim_responses'], codes.get('100', 0))
check("HEAD requests", man['head_requests'], methods.get('HEAD', 0))
final = {k: v for k, v in codes.items() if k != '100'}
check("status codes", {k: v for k, v in man['status'].items()}, final)
if not man.get('behaviour'):
    check("attacks per kind", {k: v for k, v in man['attacks'].items() if v},
          dict(kinds))
else:
    # Behaviour scenarios: the malicious part is identified by the
    # manifest's list (matched against tshark's requests below), with
    # wire times in order and statuses as tshark saw them.
    bykind = Counter(a['kind'] for a in man['attack_requests'])
    check("attack kinds", {k: v for k, v in man['attacks'].items() if v}, dict(bykind))
    check("twin has no attack requests", True,
          not man['benign_twin'] or len(man['attack_requests']) == 0)
    check("attack has attack requests and sids", True,
          man['benign_twin'] or (len(man['attack_requests']) > 0 and len(man['expected_sids']) > 0))
    badt = sum(1 for a in man['attack_requests']
               if not (man['first_ts_us'] <= a['ts_us'] < a['resp_end_us'] <= man['last_ts_us']))
    check("attack request times within capture", 0, badt)
check("attack_requests listed", man['attack_total'], len(man['attack_requests']))
missing = 0
for a in man['attack_requests']:
    key = (a['client_ip'], a['client_port'], a['uri'])
    if seen[key] > 0:
        seen[key] -= 1
    else:
        missing += 1
check("attack_requests match captured requests", 0, missing)
print('\n'.join(res))
EOF
	while IFS= read -r l; do
		case "$l" in
		PASS:*) ok "${l#PASS: }" ;;
		FAIL:*) bad "${l#FAIL: }" ;;
		esac
	done < "$TMP/$name.py.out"
	[ -s "$TMP/$name.py.out" ] || bad "$name: python verification produced nothing"
}

# gen NAME ARGS... -> generates $TMP/NAME.pcap and .json, then verifies.
gen() {
	local name=$1; shift
	if "$GEN" -o "$TMP/$name.pcap" --manifest "$TMP/$name.json" "$@" 2>"$TMP/$name.err"; then
		ok "$name: generated ($*)"
	else
		bad "$name: generator failed: $(cat "$TMP/$name.err")"
		return 1
	fi
}

gen default && verify default "$TMP/default.pcap" "$TMP/default.json"
gen ipv6 --ipv6-share 1 --seed 2 && verify ipv6 "$TMP/ipv6.pcap" "$TMP/ipv6.json"
gen vlan --vlan-share 0.5 --ipv6-share 0.3 --seed 3 && verify vlan "$TMP/vlan.pcap" "$TMP/vlan.json"
gen small --split small --seed 4 && verify small "$TMP/small.pcap" "$TMP/small.json"
gen chunked --chunked-share 1 --pipeline-share 0.5 --seed 5 && verify chunked "$TMP/chunked.pcap" "$TMP/chunked.json"
gen ooo --ooo-share 0.3 --split small --seed 6 && \
	verify ooo "$TMP/ooo.pcap" "$TMP/ooo.json" -o tcp.reassemble_out_of_order:TRUE
gen badcsum --bad-csum-share 0.05 --seed 7 && verify badcsum "$TMP/badcsum.pcap" "$TMP/badcsum.json"
gen mss536 --mss 536 --server-port 8080 --expect-share 0.5 --seed 8 && \
	verify mss536 "$TMP/mss536.pcap" "$TMP/mss536.json" -d tcp.port==8080,http
gen mix --scenario mix --flows 300 --seed 9 && verify mix "$TMP/mix.pcap" "$TMP/mix.json"
gen demo --scenario demo && verify demo "$TMP/demo.pcap" "$TMP/demo.json"

# Behaviour scenarios (attack and benign twin each): generated with a
# fixed seed and verified like the others, two at a time (2 cores). Each
# job writes its PASS/FAIL lines to a file; the main shell counts them.
SCENARIOS=$("$GEN" -o "$TMP/x.pcap" --scenario list 2>/dev/null | tr ' ' '\n' | grep -v -x -e demo -e mix)
if [ "$(echo "$SCENARIOS" | wc -w)" -ge 63 ]; then
	ok "scenario list ($(echo "$SCENARIOS" | wc -w) behaviour scenarios)"
else
	bad "scenario list too short: $SCENARIOS"
fi
behav_job() { # behav_job NAME -> $TMP/NAME.res
	local n=$1
	(
		PASS=0; FAIL=0
		gen "$n" --scenario "$n" --seed 5 && verify "$n" "$TMP/$n.pcap" "$TMP/$n.json"
	) > "$TMP/$n.res" 2>&1
}
running=0
for n in $SCENARIOS; do
	behav_job "$n" &
	running=$((running + 1))
	if [ "$running" -ge 2 ]; then wait -n; running=$((running - 1)); fi
done
wait
for n in $SCENARIOS; do
	[ -s "$TMP/$n.res" ] || { bad "$n: no results"; continue; }
	while IFS= read -r l; do
		case "$l" in
		PASS:*) PASS=$((PASS + 1)); echo "$l" ;;
		FAIL:*) FAIL=$((FAIL + 1)); echo "$l" ;;
		esac
	done < "$TMP/$n.res"
	rm -f "$TMP/$n.pcap" "$TMP/$n.fields.tsv"
done

# Determinism of scenarios, and the twin stays benign in content: no
# Luhn-valid card number of a major network in pii-cards-benign responses
# but many in pii-cards (tshark reassembles and de-chunks the bodies).
"$GEN" -o "$TMP/s1.pcap" --scenario bola-enum --seed 3 2>/dev/null
"$GEN" -o "$TMP/s2.pcap" --scenario bola-enum --seed 3 2>/dev/null
if cmp -s "$TMP/s1.pcap" "$TMP/s2.pcap"; then ok "scenario: same seed gives identical capture"; else bad "scenario: same seed differs"; fi
cards() { # cards PCAP -> number of Luhn-valid major-IIN numbers in response bodies
	TS -r "$1" -Y 'http.response' -T fields -e http.file_data | python3 -c '
import re, sys
def luhn(d):
    s = 0
    for i, ch in enumerate(reversed(d)):
        v = int(ch)
        if i % 2: v = v * 2 - 9 if v > 4 else v * 2
        s += v
    return s % 10 == 0
iin = re.compile(r"^(4|5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720|3[47]|6011|65)")
n = 0
for ln in sys.stdin:
    try: txt = bytes.fromhex(ln.strip().replace(":", "")).decode("latin1")
    except ValueError: txt = ln
    for m in re.finditer(r"(?<![0-9])[0-9]{13,19}(?![0-9])", txt):
        d = m.group(0)
        if luhn(d) and iin.match(d) and len(d) in (15, 16): n += 1
print(n)'
}
for n in pii-cards pii-cards-benign; do
	"$GEN" -o "$TMP/$n.pcap" --manifest "$TMP/$n.json" --scenario "$n" --seed 5 2>/dev/null
done
c_atk=$(cards "$TMP/pii-cards.pcap"); c_ben=$(cards "$TMP/pii-cards-benign.pcap")
if [ "$c_atk" -ge 200 ]; then ok "pii-cards: $c_atk card numbers in responses"; else bad "pii-cards: only $c_atk card numbers"; fi
check "pii-cards-benign: no card numbers in responses" 0 "$c_ben"

# Demo: exactly one attack of each kind.
if [ -f "$TMP/demo.json" ]; then
	check "demo: one attack of each kind" "1 1 1 1 1 1 1 1 1 1" \
		"$(python3 -c 'import json,sys; print(*json.load(open(sys.argv[1]))["attacks"].values())' "$TMP/demo.json")"
fi

# Attack selection: only the listed kinds, and the share is honoured.
if gen only2 --attacks sqli,admin --attack-share 0.5 --flows 50 --seed 10; then
	check "only2: only selected kinds" "admin sqli" \
		"$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["attacks"]; print(*sorted(k for k,v in a.items() if v))' "$TMP/only2.json")"
	share=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(0.4 < m["attack_total"]/m["requests"] < 0.6)' "$TMP/only2.json")
	check "only2: attack share about 0.5" True "$share"
fi

# Determinism: same seed, same bytes; another seed, other bytes.
"$GEN" -o "$TMP/d1.pcap" --seed 42 --flows 50 2>/dev/null
"$GEN" -o "$TMP/d2.pcap" --seed 42 --flows 50 2>/dev/null
"$GEN" -o "$TMP/d3.pcap" --seed 43 --flows 50 2>/dev/null
if cmp -s "$TMP/d1.pcap" "$TMP/d2.pcap"; then ok "same seed gives identical capture"; else bad "same seed differs"; fi
if cmp -s "$TMP/d1.pcap" "$TMP/d3.pcap"; then bad "different seeds give identical capture"; else ok "different seeds differ"; fi

# --packets keeps starting sessions until the target is reached.
if gen target --packets 20000 --seed 11; then
	p=$(mf "$TMP/target.json" packets)
	if [ "$p" -ge 20000 ] && [ "$p" -lt 21000 ]; then ok "--packets 20000 wrote $p"; else bad "--packets 20000 wrote $p"; fi
	check "target: pcap frame count" "$p" "$(capinfos -M -c "$TMP/target.pcap" 2>/dev/null | awk '/Number of packets/ {print $NF}')"
fi

# Requests per flow range is honoured.
if gen rpf --requests-per-flow 3 --flows 40 --seed 12; then
	check "rpf: 3 requests per flow" 120 "$(mf "$TMP/rpf.json" requests)"
fi

# Bad arguments are rejected with a non-zero exit.
for args in "--attack-share 2" "--mss 10" "--attacks sqli,bogus" "--split tiny" \
	    "--requests-per-flow 5-2" "--flows abc" "--scenario nope"; do
	# shellcheck disable=SC2086
	if "$GEN" -o "$TMP/x.pcap" $args 2>/dev/null; then bad "accepted bad args: $args"; else ok "rejects $args"; fi
done
if "$GEN" --flows 1 2>/dev/null; then bad "accepted missing -o"; else ok "rejects missing -o"; fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
