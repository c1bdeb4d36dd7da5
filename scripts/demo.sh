#!/usr/bin/env bash
# The demo: install what is needed (scripts/deps.sh), build into ./build (or $BUILD_DIR), then
# run tests/acs/demo.py: proxierd against the test ACS on loopback, narrated. Arguments go to
# demo.py (--trace, --keep, --timeout N). Exit status: that of the demo (0 = every check ok).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
echo "demo: building into $BUILD_DIR (the first build takes a minute)"
if ! log=$(BUILD_DIR=$BUILD_DIR scripts/build.sh 2>&1); then
  printf '%s\n' "$log" | tail -40
  echo "demo: the build failed" >&2
  exit 1
fi
exec python3 tests/acs/demo.py --proxierd "$BUILD_DIR/proxier/proxierd" "$@"
