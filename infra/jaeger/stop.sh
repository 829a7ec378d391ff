#!/usr/bin/env bash
# Stop the Jaeger started by start.sh on this JAEGER_PORT (SIGTERM, then SIGKILL after 10 s).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
pid="$(cat "$PIDFILE" 2>/dev/null || true)"

alive() { [[ -n "$pid" ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$JAEGER_BIN --config $CONFIG"; }
wait_gone() {
  for _ in $(seq 1 $(($1 * 4))); do
    alive || return 0
    sleep 0.25
  done
  ! alive
}

if ! alive; then
  echo "jaeger not running"
  rm -f "$PIDFILE"
  exit 0
fi

kill -TERM "$pid"
if ! wait_gone 10; then
  echo "jaeger (pid $pid) did not stop within 10s; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone 5
fi
rm -f "$PIDFILE"
echo "jaeger stopped (pid $pid)"
