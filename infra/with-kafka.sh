#!/usr/bin/env bash
# Run a command with a real Kafka broker: KAFKA_BROKERS when set, else the repo's
# local broker, started here if it is not running and stopped afterwards if it was.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -gt 0 ]] || { echo "usage: with-kafka.sh <command> [args...]" >&2; exit 2; }

if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  out="$(bash "$DIR/kafka/start.sh")" || { echo "$out" >&2; exit 1; }
  echo "$out" | grep -v '^KAFKA_BROKERS='
  export KAFKA_BROKERS="$(echo "$out" | sed -n 's/^KAFKA_BROKERS=//p')"
  if ! grep -q "already running" <<<"$out"; then
    trap 'bash "$DIR/kafka/stop.sh" >/dev/null' EXIT
  fi
fi
"$@"
