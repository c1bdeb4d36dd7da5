#!/usr/bin/env bash
# Build in Release (./build-bench, or $BUILD_DIR) and run every benchmark of tests/bench with
# its full defaults, then print the summary lines together. Figures are printed, not judged.
# Arguments go to bench_session (e.g. --sessions 100).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD_DIR" proxierd bench_cache bench_gpv bench_session bench_connreq bench_udp_cr

bench="$BUILD_DIR/tests/bench"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {
    echo "== $*"
    "$@" | tee -a "$log"
    echo
}

run "$bench/bench_cache"
run "$bench/bench_gpv"
run "$bench/bench_session" "$BUILD_DIR/proxier/proxierd" "$@"
run "$bench/bench_connreq" "$BUILD_DIR/proxier/proxierd"
run "$bench/bench_udp_cr" "$BUILD_DIR/proxier/proxierd"
# XMPP needs Prosody (scripts/deps.sh installs it); the script says so if it is missing.
export PX_SHARED_DIR=${PX_SHARED_DIR:-$(pwd)/../shared}
run python3 tests/bench/bench_xmpp_cr.py "$BUILD_DIR/proxier/proxierd"

echo "== summary ($(uname -m), $(nproc) CPUs, Release build in $BUILD_DIR)"
awk '/^-- synchronous/ { mode = $3 } /^cache_/ { print "bench_cache (" mode "): " $0 }' "$log"
grep '^summary: ' "$log" | sed 's/^summary: //'
