#!/usr/bin/env bash
# apiguard quick start. Two commands, on a fresh Debian 12 machine, as root
# (or with sudo available):
#   ./run.sh demo   install what is missing, build, run the appliance on
#                   built-in demo traffic (alerts with ATT&CK and OWASP tags)
#   ./run.sh test   install what is missing, build, run every test
set -euo pipefail
cd "$(dirname "$0")"

PKGS=(build-essential pkg-config meson ninja-build libdpdk-dev dpdk dpdk-dev
      libhyperscan-dev libmicrohttpd-dev libcunit1-dev node-llhttp
      libjansson-dev libyaml-dev zlib1g-dev libpcap-dev libssl-dev
      python3 python3-scapy tshark tcpreplay curl iproute2 ethtool iputils-ping
      openssl chromium prometheus valgrind clang libclang-rt-14-dev)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

install_deps() {
	local missing=()
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		echo ">>> installing: ${missing[*]}"
		$SUDO apt-get update -q
		# tshark asks whether non-root users may capture: answer no.
		echo "wireshark-common wireshark-common/install-setuid boolean false" |
			$SUDO debconf-set-selections
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
	fi
}

build() {
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@"
	fi
	ninja -C "$dir"
}

case "${1:-}" in
demo)
	install_deps
	build build
	out=$(mktemp -d /tmp/apiguard-demo.XXXXXX)
	# 1. Signatures: one attack of each kind in ordinary API traffic.
	./build/tools/apiguard-gen --scenario demo -o "$out/demo.pcap" --manifest "$out/demo.json"
	echo ">>> apiguard -r $out/demo.pcap -w $out/forwarded.pcap -l $out/signatures"
	$SUDO ./build/control/apiguard -r "$out/demo.pcap" -w "$out/forwarded.pcap" -l "$out/signatures"
	# 2. Behaviour: BOLA enumeration, brute force, token reuse, forged JWTs,
	#    leaked card numbers and cloud keys, scraping, mass assignment.
	./build/tools/apiguard-gen --scenario behaviour-demo -o "$out/behaviour.pcap" \
		--manifest "$out/behaviour.json"
	echo ">>> apiguard -r $out/behaviour.pcap -l $out/behaviour"
	$SUDO ./build/control/apiguard -r "$out/behaviour.pcap" -l "$out/behaviour"
	echo ">>> alerts (EVE JSON): $out/signatures/eve.json $out/behaviour/eve.json"
	echo ">>> counters: $out/signatures/stats.json $out/behaviour/stats.json"
	;;
test)
	install_deps
	build build
	rc=0
	meson test -C build --print-errorlogs --num-processes 2 || rc=1
	# The unit suites again under AddressSanitizer and UBSan, then the soak
	# run alone (LeakSanitizer at exit; it needs both cores to itself).
	build build-asan -Db_sanitize=address,undefined -Db_lundef=false
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --num-processes 2 --suite unit || rc=1
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --suite soak --logbase soaklog || rc=1
	# The libFuzzer targets (clang, ASan+UBSan): regression inputs, then a
	# short run of each on its seed corpus.
	CC=clang build build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dwerror=false -Dc_args=-fsanitize=fuzzer-no-link
	tests/fuzz/run_smoke.sh build-fuzz "${FUZZ_SECONDS:-10}" | tee build-fuzz/smoke.log || rc=1
	# One closing line over all runs.
	/usr/bin/python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
		build-asan/meson-logs/soaklog.json build-fuzz/smoke.log <<'PY'
import json, re, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    if path.endswith("smoke.log"):
        m = re.search(r"(\d+) passed, (\d+) failed", open(path).read())
        if m:
            passed += int(m.group(1))
            failed += int(m.group(2))
        else:
            failed += 1
        continue
    for line in open(path):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
	exit $rc
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
