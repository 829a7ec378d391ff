#!/usr/bin/env bash
# Start Jaeger v2 (all-in-one, in-memory) on 127.0.0.1 and wait until its query API answers.
# Installs (builds) the binary first when it is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
start=$(date +%s%N)

is_ours() { [[ -f "$PIDFILE" ]] && tr '\0' ' ' 2>/dev/null <"/proc/$(cat "$PIDFILE")/cmdline" | grep -qF "$JAEGER_BIN --config $CONFIG"; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_ready() {
  node "$DIR/wait-ready.mjs" "http://127.0.0.1:$JAEGER_HEALTH_PORT/status" \
    "http://127.0.0.1:$JAEGER_QUERY_HTTP_PORT/api/services" --pid "$(cat "$PIDFILE")" && return
  echo "--- last lines of $LOG ---" >&2
  tail -n 40 "$LOG" >&2 || true
  return 1
}
report() {
  echo "JAEGER_URL=http://127.0.0.1:$JAEGER_QUERY_HTTP_PORT"
  echo "JAEGER_OTLP_HTTP_URL=http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT"
  echo "JAEGER_OTLP_GRPC_URL=http://127.0.0.1:$JAEGER_OTLP_GRPC_PORT"
}

if is_ours; then
  echo "jaeger already running (pid $(cat "$PIDFILE"))"
  wait_ready || exit 1
  report
  exit 0
fi
rm -f "$PIDFILE"

for p in "${ALL_PORTS[@]}"; do
  if port_busy "$p"; then
    echo "start.sh: port $p on 127.0.0.1 is already in use by another process (set JAEGER_PORT or JAEGER_*_PORT)" >&2
    exit 1
  fi
done

"$DIR/install.sh"
mkdir -p "$INSTANCE"
nohup "$JAEGER_BIN" --config "$CONFIG" >"$LOG" 2>&1 </dev/null &
echo $! >"$PIDFILE"
echo "jaeger starting (pid $!, log $LOG)"
if ! wait_ready; then
  "$DIR/stop.sh" >&2
  exit 1
fi
ms=$((($(date +%s%N) - start) / 1000000))
printf 'jaeger started in %d.%ds\n' $((ms / 1000)) $((ms % 1000 / 100))
report
