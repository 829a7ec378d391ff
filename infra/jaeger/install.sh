#!/usr/bin/env bash
# Build the Jaeger v2 binary (all-in-one) from the Go module proxy, once per machine.
# The binary is cached outside the clone, keyed by version, so every clone reuses it.
# Cold: several minutes (compiles the OpenTelemetry Collector); warm: instant.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$DIR/paths.sh"
start=$(date +%s%N)
elapsed() { local ms=$((($(date +%s%N) - start) / 1000000)); printf "%d.%ds" $((ms / 1000)) $((ms % 1000 / 100)); }

if [[ -x "$JAEGER_BIN" ]]; then
  echo "jaeger $JAEGER_VERSION up to date ($JAEGER_BIN, $(elapsed))"
  exit 0
fi
command -v go >/dev/null || { echo "install.sh: go not found (needs Go 1.24+ and the Go module proxy)" >&2; exit 1; }

mkdir -p "$JAEGER_CACHE"
# One build at a time per version, even when several clones install at once.
exec 9>"$JAEGER_CACHE/.lock"
flock 9
if [[ -x "$JAEGER_BIN" ]]; then
  echo "jaeger $JAEGER_VERSION built by another install ($(elapsed))"
  exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "jaeger $JAEGER_VERSION: resolving github.com/jaegertracing/jaeger through the Go module proxy..."
cd "$WORK"
go mod init tracehouse.local/jaeger-build >/dev/null 2>&1
if ! out="$(go get "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" 2>&1)"; then
  echo "$out" >&2
  echo "install.sh: go get failed" >&2
  exit 1
fi
echo "jaeger $JAEGER_VERSION: $(grep -c '^go: added' <<<"$out") modules resolved ($(elapsed)); compiling cmd/jaeger (8+ minutes on two cores)..."
# The build runs in the background and this shell says every minute that it is still going. No
# background sleeper: one would outlive the script holding the caller's stdout open (a pipe or a
# test waiting for it would wait up to a minute more). A failed kill in the trap must not fail the
# install: set -e holds there too, and its status would be the script's.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$WORK/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger &
build=$!
trap 'kill "$build" 2>/dev/null || true; rm -rf "$WORK"' EXIT
waited=0
while kill -0 "$build" 2>/dev/null; do
  sleep 1
  ((++waited % 60)) || echo "  ...still compiling ($(elapsed))"
done
wait "$build"
mv "$WORK/jaeger" "$JAEGER_BIN.tmp"
mv "$JAEGER_BIN.tmp" "$JAEGER_BIN"
echo "jaeger $JAEGER_VERSION installed ($JAEGER_BIN, $(elapsed))"
