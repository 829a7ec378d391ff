#!/usr/bin/env bash
# Stop the secure broker started by start.sh (SIGTERM, then SIGKILL after 20 s). Keeps its data and certificates;
# reset.sh deletes them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
pid="$(cat "$PIDFILE" 2>/dev/null || true)"
alive() { [[ -n "$pid" ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $PROPS"; }

if ! alive; then
  echo "secure kafka not running"
  rm -f "$PIDFILE"
  exit 0
fi
kill -TERM "$pid"
for _ in $(seq 1 80); do
  alive || break
  sleep 0.25
done
if alive; then
  echo "secure kafka (pid $pid) did not stop within 20s; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
fi
rm -f "$PIDFILE"
echo "secure kafka stopped (pid $pid)"
