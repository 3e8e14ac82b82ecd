#!/bin/bash
# Run every fuzz target for SECONDS on its seed corpus and its regression
# inputs. Exit non-zero if any target crashed, leaked, hit UB or timed out.
# Usage: tests/fuzz/run_smoke.sh BUILD_DIR SECONDS
# The build dir must be configured with -Dfuzz=true (docs/ROBUSTNESS.md).
set -u
BUILD=${1:?usage: run_smoke.sh BUILD_DIR SECONDS}
SECS=${2:?usage: run_smoke.sh BUILD_DIR SECONDS}
HERE=$(cd "$(dirname "$0")" && pwd)
TARGETS="fuzz_packets fuzz_http_stream fuzz_rules fuzz_config fuzz_openapi fuzz_rest fuzz_relit"
OUT=$(mktemp -d /tmp/ag_fuzz_smoke.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
pass=0; fail=0
for t in $TARGETS; do
    exe="$BUILD/tests/fuzz/$t"
    if [ ! -x "$exe" ]; then
        echo "FAIL $t: $exe not built (configure with -Dfuzz=true)"
        fail=$((fail + 1)); continue
    fi
    # Known crashers first: each must now pass.
    reg="$HERE/regressions/$t"
    if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
        if ! "$exe" -runs=0 $(ls -d "$reg"/*) >"$OUT/$t.reg.log" 2>&1; then
            echo "FAIL $t: a regression input fails again"; tail -30 "$OUT/$t.reg.log"
            fail=$((fail + 1)); continue
        fi
    fi
    # Work on a copy so the corpus in the tree is not grown by the run.
    ART="$BUILD/fuzz-artifacts/$t"; mkdir -p "$OUT/$t.corpus" "$ART"
    cp -r "$HERE/corpus/$t/." "$OUT/$t.corpus/" 2>/dev/null
    dict=""
    [ -f "$HERE/$t.dict" ] && dict="-dict=$HERE/$t.dict"
    # The entropic scheduler spends most of the time of the packet target
    # (tens of thousands of features) on its own bookkeeping.
    [ "$t" = fuzz_packets ] && dict="$dict -entropic=0"
    if "$exe" $dict -max_total_time="$SECS" -timeout=25 -rss_limit_mb=4096 \
            -max_len=16384 -print_final_stats=1 -artifact_prefix="$ART/" \
            "$OUT/$t.corpus" >"$OUT/$t.log" 2>&1; then
        stats=$(grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$OUT/$t.log" |
                sed 's/stat:://' | tr '\n' ' ')
        cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$OUT/$t.log" | tail -1)
        echo "ok   $t: $stats $cov"
        pass=$((pass + 1))
    else
        echo "FAIL $t:"; grep -E 'ERROR|FUZZ FINDING|SUMMARY|runtime error' "$OUT/$t.log" | head -10
        ls -d "$ART"/* 2>/dev/null | sed "s/^/  artifact: /"
        fail=$((fail + 1))
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
