#!/usr/bin/env bash
# Install the Debian 12 packages needed to build proxierd and run its tests.
# Idempotent; needs root (or sudo). Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libevent-dev libcurl4-openssl-dev libxml2-dev libsqlite3-dev libssl-dev zlib1g-dev
  libcmocka-dev libmicrohttpd-dev libstrophe-dev prosody
  libxml2-utils python3 sqlite3 curl procps openssl valgrind tzdata faketime
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
