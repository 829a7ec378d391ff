#!/usr/bin/env bash
# Run a command with a real Kafka broker: KAFKA_BROKERS when set, else the repo's
# local broker on KAFKA_PORT (default 19092), started here if it is not running and
# stopped afterwards if it was. The command finds the local broker through KAFKA_PORT
# (not KAFKA_BROKERS), so tests that stop and restart it know it is theirs to control.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -gt 0 ]] || { echo "usage: with-kafka.sh <command> [args...]" >&2; exit 2; }

if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  export KAFKA_PORT="${KAFKA_PORT:-19092}"
  out="$(bash "$DIR/kafka/start.sh")" || { echo "$out" >&2; exit 1; }
  echo "$out" | grep -v '^KAFKA_BROKERS='
  if ! grep -q "already running" <<<"$out"; then
    trap 'bash "$DIR/kafka/stop.sh" >/dev/null' EXIT
  fi
fi
"$@"
