#!/usr/bin/env bash
# Install what is needed, build from scratch, and run every test through ctest; then build
# again with AddressSanitizer and UBSan and run the unit and integration tests once more
# against that daemon (memory errors and leaks fail them). PX_SKIP_SANITIZE=1 skips the
# second pass. Extra arguments go to both ctest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
rm -rf "$BUILD_DIR"
BUILD_DIR=$BUILD_DIR scripts/build.sh
(cd "$BUILD_DIR" && ctest --output-on-failure -j2 "$@")

if [ "${PX_SKIP_SANITIZE:-0}" != 1 ]; then
  SAN_DIR=${SAN_DIR:-$BUILD_DIR-sanitize}
  rm -rf "$SAN_DIR"
  BUILD_DIR=$SAN_DIR scripts/build.sh -DPROXIER_SANITIZE=ON
  # valgrind's memcheck and ASan do not mix; the benchmarks' figures mean nothing here.
  (cd "$SAN_DIR" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j2 -E 'bench/|memcheck' "$@")
fi
