#!/usr/bin/env bash
# Install what is needed, build from scratch, and run every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
rm -rf "$BUILD_DIR"
BUILD_DIR=$BUILD_DIR scripts/build.sh
cd "$BUILD_DIR"
ctest --output-on-failure -j2 "$@"
