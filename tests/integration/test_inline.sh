#!/usr/bin/env bash
# Live inline end-to-end test: a real client (curl) and a real server
# (python http.server) in two network namespaces, with apiguard in live mode
# bridging them transparently through two veth pairs (AF_PACKET vdevs).
#
#   [client ns agc-$$]          root ns (apiguard)            [server ns ags-$$]
#   agc0 198.18.0.1/24 <-veth-> agdA-$$ ==port0/1== agdB-$$ <-veth-> ags0 198.18.0.2/24
#
# Both hosts are in one /24, so the appliance must forward ARP and ICMP
# untouched (non-TCP traffic passes by design) as well as TCP/HTTP, where the
# verdicts apply. Only 198.18.0.0/15 addresses are used, inside namespaces
# that exist for the duration of the test and are removed on every exit path.
#
# usage: tests/integration/test_inline.sh PATH/TO/apiguard
# Needs root (namespaces, veth, AF_PACKET). Exits 77 (skipped) without it.
# Prints one line per check, then "N passed, N failed"; non-zero on failure.
# KEEP=1 keeps the work directory (logs, eve.json, stats.json) for debugging.
set -u

AG=${1:?usage: $0 PATH/TO/apiguard}
AG=$(readlink -f "$AG")
PY=/usr/bin/python3

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (network namespaces, veth, AF_PACKET)"
	exit 77
fi
for t in ip ethtool curl cmp "$PY"; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not found"; exit 77; }
done

ID=$$
CNS=agc-$ID                 # client namespace
SNS=ags-$ID                 # server namespace
# Root-namespace veth ends carry the pid so concurrent runs do not collide
# (IFNAMSIZ is 16: "agdA-" + at most 7 pid digits fits).
DA=agdA-$ID                 # peer of agc0 (client side), DPDK port 0
DB=agdB-$ID                 # peer of ags0 (server side), DPDK port 1
PREFIX=aginline_$ID
RUNDIR=/var/run/dpdk/$PREFIX
CLI=198.18.0.1
SRV=198.18.0.2
SPORT=8080
URL=http://$SRV:$SPORT
DROP_SID=9000001
ALERT_SID=9000002

TMP=$(mktemp -d /tmp/test_inline.XXXXXX)
LOG=$TMP/log
WWW=$TMP/www
mkdir -p "$LOG" "$WWW"
AG_PID=
SRV_PID=
T0=$(date +%s)

cleanup() {
	local rc=$?
	if [ -n "$AG_PID" ] && kill -0 "$AG_PID" 2>/dev/null; then
		kill -TERM "$AG_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$AG_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$AG_PID" 2>/dev/null
		wait "$AG_PID" 2>/dev/null
	fi
	if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill -TERM "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	# Anything still running inside this run's namespaces was started by it.
	local ns pid
	for ns in "$CNS" "$SNS"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	# Deleting a namespace deletes its veth ends, and with them their peers;
	# the explicit link deletes cover a namespace that was never populated.
	ip netns del "$CNS" 2>/dev/null
	ip netns del "$SNS" 2>/dev/null
	ip link del "$DA" 2>/dev/null
	ip link del "$DB" 2>/dev/null
	rm -rf "$RUNDIR"
	if [ "${KEEP:-0}" = 1 ]; then
		echo "work directory kept: $TMP"
	else
		rm -rf "$TMP"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PASS=0
FAIL=0
ok()  { PASS=$((PASS + 1)); echo "PASS: $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }
# finish: print the summary and exit with the verdict.
finish() {
	echo "elapsed: $(( $(date +%s) - T0 ))s"
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit $?
}
# fatal MSG: a set-up step failed; nothing after it can run.
fatal() {
	bad "$*"
	if [ -s "$TMP/apiguard.out" ]; then
		echo "---- apiguard output (tail) ----"
		tail -n 30 "$TMP/apiguard.out"
		echo "--------------------------------"
	fi
	finish
}
inc() { ip netns exec "$CNS" "$@"; }   # run in the client namespace
# ping1: one ICMP echo from the client to the server (2 s timeout). Falls
# back to a raw socket when iputils ping is not installed.
ping1() {
	if command -v ping >/dev/null; then
		inc ping -c1 -W2 $SRV >/dev/null 2>&1
		return
	fi
	inc "$PY" - "$SRV" <<'EOF'
import os, socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
ident = os.getpid() & 0xffff
hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"apiguard-inline!"
pkt = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
s.sendto(pkt, (sys.argv[1], 0))
end = time.time() + 2
while time.time() < end:
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        break
    ihl = (data[0] & 15) * 4
    t, _, _, i, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
    if addr[0] == sys.argv[1] and t == 0 and i == ident:
        sys.exit(0)
sys.exit(1)
EOF
}
ins() { ip netns exec "$SNS" "$@"; }   # run in the server namespace
# jq-free JSON access: jget FILE|- EXPR, EXPR is Python on the parsed value `j`.
jget() {
	"$PY" -c 'import json,sys
src = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1])
j = json.load(src)
try:
    v = eval(sys.argv[2])
except (KeyError, IndexError, TypeError):
    v = None
print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$1" "$2"
}
# eve_alert SID [ACTION]: prints the first eve.json alert line with that sid
# (and action), polling for up to 5 s since alerts are written asynchronously.
eve_alert() {
	local sid=$1 action=${2:-} line
	for _ in $(seq 50); do
		line=$("$PY" - "$LOG/eve.json" "$sid" "$action" <<'EOF'
import json, sys
path, sid, action = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    lines = open(path).read().splitlines()
except FileNotFoundError:
    sys.exit(0)
for l in lines:
    try:
        e = json.loads(l)
    except ValueError:
        continue
    a = e.get("alert") or {}
    if e.get("event_type") == "alert" and a.get("signature_id") == sid \
            and (not action or a.get("action") == action):
        print(l)
        break
EOF
)
		[ -n "$line" ] && { echo "$line"; return 0; }
		sleep 0.1
	done
	return 1
}

# ---- topology ---------------------------------------------------------------
ip netns add "$CNS" || fatal "ip netns add $CNS"
ip netns add "$SNS" || fatal "ip netns add $SNS"
# Only 198.18.0.0/15 inside the namespaces: no IPv6 link-local addresses,
# DAD or router solicitations. Set before the veths exist so they inherit it.
for ns in "$CNS" "$SNS"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || fatal "disable IPv6 in $ns"
done
ip link add "$DA" type veth peer name agc0 netns "$CNS" || fatal "veth $DA<->agc0"
ip link add "$DB" type veth peer name ags0 netns "$SNS" || fatal "veth $DB<->ags0"
inc ip addr add $CLI/24 dev agc0 || fatal "address on agc0"
ins ip addr add $SRV/24 dev ags0 || fatal "address on ags0"
# Without this, veth leaves TCP checksums to a "hardware" that never computes
# them; the forwarded segments then arrive with bad checksums and are dropped.
for dev in "$DA" "$DB"; do
	ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1 || fatal "ethtool -K $dev"
	ip link set "$dev" promisc on up || fatal "link up $dev"
	# No addresses on the bridge ends, and no IPv6 chatter (DAD, RS) either.
	sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" 2>/dev/null
done
inc ethtool -K agc0 tx off tso off gso off gro off >/dev/null 2>&1 || fatal "ethtool -K agc0"
ins ethtool -K ags0 tx off tso off gso off gro off >/dev/null 2>&1 || fatal "ethtool -K ags0"
inc ip link set lo up
ins ip link set lo up
inc ip link set agc0 up || fatal "link up agc0"
ins ip link set ags0 up || fatal "link up ags0"

# ---- server -------------------------------------------------------------------
echo "hello through apiguard" > "$WWW/hello.txt"
echo "alert me" > "$WWW/alertme.txt"
echo "this must never be served" > "$WWW/blocked"
head -c 204800 /dev/urandom > "$WWW/big.bin"
# Not through ins(): a function run in the background is a subshell, and $!
# would name it instead of the server (ip netns exec execs the command).
ip netns exec "$SNS" "$PY" -u -m http.server $SPORT --bind $SRV --directory "$WWW" \
	>"$TMP/server.out" 2>"$TMP/server.err" &
SRV_PID=$!

# ---- apiguard ---------------------------------------------------------------
REST_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# WORKERS=2 runs the software distribution stage (an I/O lcore and two
# workers: four lcores, oversubscribed on two cores on purpose).
WORKERS=${WORKERS:-1}
LCORES="0-1"
[ "$WORKERS" -gt 1 ] && LCORES="(0-$((WORKERS + 1)))@(0-1)"
cat > "$TMP/inline.yaml" <<EOF
dataplane:
  workers: $WORKERS
  ports:
    - name: net_af_packet0
      peer: net_af_packet1
    - name: net_af_packet1
      peer: net_af_packet0
rest:
  listen: "127.0.0.1:$REST_PORT"
outputs:
  console: false
EOF
cat > "$TMP/test.rules" <<EOF
drop http any any -> any any (msg:"test drop"; http.uri; content:"/blocked"; sid:$DROP_SID; rev:1; metadata: mitre_technique_id T1190, owasp_api API8:2023;)
alert http any any -> any any (msg:"test alert"; http.uri; content:"/alertme"; sid:$ALERT_SID; rev:1; metadata: mitre_technique_id T1595, owasp_api API9:2023;)
EOF
# AF_PACKET vdevs work without hugepages; -l 0-1 gives one main and one
# worker lcore on this 2-core machine.
# EAL memory: about 400 MB per worker with the default pools.
MEM=$((512 * WORKERS + 256))
"$AG" --no-huge -m "$MEM" --no-pci --file-prefix "$PREFIX" \
	--vdev "net_af_packet0,iface=$DA" --vdev "net_af_packet1,iface=$DB" --lcores "$LCORES" \
	-- -c "$TMP/inline.yaml" -S "$TMP/test.rules" -l "$LOG" \
	>"$TMP/apiguard.out" 2>&1 &
AG_PID=$!

REST=http://127.0.0.1:$REST_PORT
up=0
for _ in $(seq 300); do
	kill -0 "$AG_PID" 2>/dev/null || break
	if curl -sf --max-time 1 "$REST/healthz" >/dev/null 2>&1; then up=1; break; fi
	sleep 0.1
done
[ "$up" = 1 ] || fatal "apiguard did not answer /healthz within 30 s"
ok "apiguard up, /healthz answers (REST port $REST_PORT)"

# The server may still be binding; wait for its socket (inside its namespace).
for _ in $(seq 50); do
	ins "$PY" -c "import socket; socket.create_connection(('$SRV', $SPORT), 1)" 2>/dev/null && break
	sleep 0.1
done

# ---- 0. ping (ARP + ICMP forwarded untouched) -------------------------------
if ping1; then
	ok "ping client -> server through the bridge (ARP and ICMP forwarded)"
else
	# One retry: the first ARP may race the worker's first poll.
	if ping1; then
		ok "ping client -> server through the bridge (second try)"
	else
		bad "ping -c1 $SRV from $CNS fails"
	fi
fi

REQS=0     # HTTP requests the client sent (each one reaches apiguard's parser)

# ---- 1. small file and 200 KB download --------------------------------------
body=$(inc curl -sS --max-time 10 "$URL/hello.txt" 2>&1); REQS=$((REQS + 1))
if [ "$body" = "hello through apiguard" ]; then
	ok "GET /hello.txt through apiguard returns the file"
else
	bad "GET /hello.txt: got '$body'"
fi
inc curl -sS --max-time 20 -o "$TMP/big.got" "$URL/big.bin" 2>"$TMP/curl_big.err"; rc=$?
REQS=$((REQS + 1))
if [ $rc = 0 ] && cmp -s "$WWW/big.bin" "$TMP/big.got"; then
	ok "GET /big.bin (200 KB) matches byte for byte"
else
	bad "GET /big.bin: curl rc=$rc, $(stat -c %s "$TMP/big.got" 2>/dev/null || echo 0) bytes, $(cat "$TMP/curl_big.err")"
fi

# ---- 2. alert rule: request passes, alert logged with metadata ---------------
body=$(inc curl -sS --max-time 10 "$URL/alertme.txt" 2>&1); REQS=$((REQS + 1))
if [ "$body" = "alert me" ]; then
	ok "GET /alertme.txt (alert rule) is served"
else
	bad "GET /alertme.txt: got '$body'"
fi
if line=$(eve_alert $ALERT_SID); then
	meta=$(echo "$line" | jget - '[j["alert"]["action"], j["alert"]["metadata"]["mitre_technique_id"], j["alert"]["metadata"]["owasp_api"], j["http"]["url"]]')
	if [ "$meta" = '["allowed", ["T1595"], ["API9:2023"], "/alertme.txt"]' ]; then
		ok "eve.json alert sid $ALERT_SID: $meta"
	else
		bad "eve.json alert sid $ALERT_SID has unexpected fields: $meta"
	fi
else
	bad "no eve.json alert with sid $ALERT_SID after 5 s"
fi

# ---- 3. drop rule: no response, server never sees the request ---------------
t1=$(date +%s%N)
out=$(inc curl -sS --max-time 3 "$URL/blocked" 2>&1); rc=$?; REQS=$((REQS + 1))
t2=$(date +%s%N)
if [ $rc != 0 ] && ! echo "$out" | grep -q "never be served"; then
	ok "GET /blocked gets no response (curl rc=$rc after $(( (t2 - t1) / 1000000 )) ms)"
else
	bad "GET /blocked answered: rc=$rc, '$out'"
fi
sleep 0.5   # let any leaked request reach the server log
if grep -q "/blocked" "$TMP/server.err"; then
	bad "the server saw /blocked: $(grep /blocked "$TMP/server.err" | head -1)"
else
	ok "server access log has no /blocked request"
fi
if line=$(eve_alert $DROP_SID blocked); then
	meta=$(echo "$line" | jget - '[j["alert"]["action"], j["alert"]["metadata"]["mitre_technique_id"], j["alert"]["metadata"]["owasp_api"]]')
	if [ "$meta" = '["blocked", ["T1190"], ["API8:2023"]]' ]; then
		ok "eve.json alert sid $DROP_SID with action blocked: $meta"
	else
		bad "eve.json alert sid $DROP_SID has unexpected fields: $meta"
	fi
else
	bad "no eve.json alert with sid $DROP_SID and action blocked after 5 s"
fi

# ---- 4. new connections still work after the drop ----------------------------
good=0
for _ in 1 2 3; do
	body=$(inc curl -sS --max-time 10 "$URL/hello.txt" 2>&1); REQS=$((REQS + 1))
	[ "$body" = "hello through apiguard" ] && good=$((good + 1))
done
if [ $good = 3 ]; then
	ok "3 requests on new connections after the drop succeed"
else
	bad "only $good of 3 requests after the drop succeed (last: '$body')"
fi
if ping1; then
	ok "ping still works after the drop"
else
	bad "ping fails after the drop"
fi

# ---- 5. REST stats and errors ------------------------------------------------
if curl -sf --max-time 5 "$REST/api/v1/stats" -o "$TMP/stats_rest.json"; then
	res=$(jget "$TMP/stats_rest.json" '[j["total"]["http_requests"], j["total"]["drop_verdict"], len(j["ports"]), [p.get("name") for p in j["ports"]], [sorted(k for k in p if k != "name") for p in j["ports"]][0]]')
	reqs=$(jget "$TMP/stats_rest.json" 'j["total"]["http_requests"]')
	drops=$(jget "$TMP/stats_rest.json" 'j["total"]["drop_verdict"]')
	nports=$(jget "$TMP/stats_rest.json" 'len(j["ports"])')
	prx=$(jget "$TMP/stats_rest.json" 'all(p.get("rx_packets", 0) > 0 and p.get("tx_packets", 0) > 0 for p in j["ports"])')
	if [ "${reqs:-None}" != None ] && [ "$reqs" -ge "$REQS" ] 2>/dev/null; then
		ok "stats total.http_requests=$reqs >= $REQS requests sent"
	else
		bad "stats total.http_requests=$reqs, expected >= $REQS"
	fi
	if [ "${drops:-None}" != None ] && [ "$drops" -ge 1 ] 2>/dev/null; then
		ok "stats total.drop_verdict=$drops >= 1"
	else
		bad "stats total.drop_verdict=$drops, expected >= 1"
	fi
	if [ "$nports" = 2 ] && [ "$prx" = True ]; then
		ok "stats has 2 ports with rx/tx packet counters > 0"
	else
		bad "stats ports: $res (rx/tx > 0 on every port: $prx)"
	fi
else
	bad "GET /api/v1/stats failed"
	bad "stats total.drop_verdict not checked"
	bad "stats ports not checked"
fi
code=$(curl -s --max-time 5 -o "$TMP/notfound.json" -w '%{http_code}' "$REST/api/v1/nonexistent")
err=$(jget "$TMP/notfound.json" 'j.get("error")' 2>/dev/null)
if [ "$code" = 404 ] && [ -n "$err" ] && [ "$err" != None ]; then
	ok "unknown REST path: 404 with JSON error body ($(cat "$TMP/notfound.json"))"
else
	bad "unknown REST path: HTTP $code, body '$(cat "$TMP/notfound.json" 2>/dev/null)'"
fi

# ---- 6. SIGTERM: clean exit, stats.json written --------------------------------
kill -TERM "$AG_PID"
exited=0
for _ in $(seq 100); do
	kill -0 "$AG_PID" 2>/dev/null || { exited=1; break; }
	sleep 0.1
done
if [ $exited = 1 ]; then
	wait "$AG_PID"; rc=$?
	AG_PID=
	if [ $rc = 0 ]; then
		ok "SIGTERM: apiguard exits 0 within 10 s"
	else
		bad "SIGTERM: apiguard exit status $rc"
		tail -n 20 "$TMP/apiguard.out"
	fi
else
	bad "SIGTERM: apiguard still running after 10 s"
fi
if [ -s "$LOG/stats.json" ] && \
   [ "$(jget "$LOG/stats.json" 'j["total"]["drop_verdict"] >= 1 and j["total"]["http_requests"] >= '"$REQS")" = True ]; then
	ok "stats.json written at exit with the final counters"
else
	bad "stats.json missing or incomplete: $(head -c 300 "$LOG/stats.json" 2>/dev/null)"
fi
# Every packet received is accounted for: forwarded, or dropped for a reason.
acct=$(jget "$LOG/stats.json" '[j["total"][k] for k in ("rx_packets", "tx_packets", "tx_failed", "drop_verdict", "drop_flow", "drop_policy", "sink_packets")]' 2>/dev/null)
if [ -n "$acct" ] && "$PY" -c 'import json,sys; v=json.loads(sys.argv[1]); sys.exit(0 if v[0] == sum(v[1:]) and v[0] > 0 else 1)' "$acct" 2>/dev/null; then
	ok "stats.json: rx = tx + tx_failed + drops + sink ($acct)"
else
	bad "stats.json packet accounting [rx, tx, tx_failed, drop_verdict, drop_flow, drop_policy, sink]: $acct"
fi
# The runtime directory of a live DPDK process outlives it; the test owns it.
rm -rf "$RUNDIR"
if [ ! -e "$RUNDIR" ]; then
	ok "DPDK runtime directory $RUNDIR removed"
else
	bad "DPDK runtime directory $RUNDIR still exists"
fi

finish
