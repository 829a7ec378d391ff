#!/usr/bin/env bash
# Stop the broker started by start.sh (SIGTERM, then SIGKILL after 20 s).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
pid="$(cat "$PIDFILE" 2>/dev/null || true)"

# A zombie has an empty cmdline, so this is false once the JVM has exited.
alive() { [[ -n "$pid" ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $PROPS"; }
wait_gone() {
  for _ in $(seq 1 $(($1 * 4))); do
    alive || return 0
    sleep 0.25
  done
  ! alive
}

if ! alive; then
  echo "kafka not running"
  rm -f "$PIDFILE"
  exit 0
fi

kill -TERM "$pid"
if ! wait_gone 20; then
  echo "kafka (pid $pid) did not stop within 20s; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone 5
fi
rm -f "$PIDFILE"
echo "kafka stopped (pid $pid)"
