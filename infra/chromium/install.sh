#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (driven by playwright-core), when missing.
# Needs root (apt-get); prints the executable's path.
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "$CHROMIUM"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is missing at $CHROMIUM and installing it needs root: apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
echo "$CHROMIUM"
