#!/usr/bin/env bash
# Resolve the broker jars from pom.xml into .local/libs (skipped when already in sync).
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIBS="$DIR/.local/libs"
STAMP="$LIBS/.pom.sha"
start=$(date +%s%N)
elapsed() { local ms=$((($(date +%s%N) - start) / 1000000)); printf "%d.%ds" $((ms / 1000)) $((ms % 1000 / 100)); }

want="$(sha256sum "$DIR/pom.xml" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] && compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; then
  echo "kafka jars up to date ($(ls "$LIBS"/*.jar | wc -l) jars, $(elapsed))"
  exit 0
fi

command -v mvn >/dev/null || { echo "install.sh: mvn not found (needs Maven and Java 17+)" >&2; exit 1; }
rm -rf "$LIBS.tmp"
if ! out="$(mvn -q -B -f "$DIR/pom.xml" dependency:copy-dependencies -DoutputDirectory="$LIBS.tmp" -DincludeScope=runtime 2>&1)"; then
  echo "$out" >&2
  echo "install.sh: mvn failed" >&2
  exit 1
fi
rm -rf "$LIBS"
mv "$LIBS.tmp" "$LIBS"
echo "$want" > "$STAMP"
echo "kafka jars installed ($(ls "$LIBS"/*.jar | wc -l) jars, $(elapsed))"
