#!/usr/bin/env bash
# shellcheck disable=SC2086  # JVM option strings are split on purpose
# Start a single-node KRaft Kafka broker on 127.0.0.1 and wait until a client can create a topic.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
BROKERS="127.0.0.1:$PORT"
start=$(date +%s%N)

is_ours() { [[ -f "$PIDFILE" ]] && tr '\0' ' ' 2>/dev/null <"/proc/$(cat "$PIDFILE")/cmdline" | grep -qF "kafka.Kafka $PROPS"; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_ready() {
  node "$DIR/wait-ready.mjs" "$BROKERS" --pid "$(cat "$PIDFILE")" && return
  echo "--- last lines of $LOG ---" >&2
  tail -n 40 "$LOG" >&2 || true
  return 1
}

if is_ours; then
  echo "kafka already running (pid $(cat "$PIDFILE"))"
  wait_ready || exit 1
  echo "KAFKA_BROKERS=$BROKERS"
  exit 0
fi
rm -f "$PIDFILE"

for p in "$PORT" "$CONTROLLER_PORT"; do
  if port_busy "$p"; then
    echo "start.sh: port $p on 127.0.0.1 is already in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT)" >&2
    exit 1
  fi
done

"$DIR/install.sh"
mkdir -p "$DATA"
sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$DATA|g" \
  "$DIR/server.properties" >"$PROPS"

CP="$RUN/libs/*"
LOG4J="-Dlog4j.configuration=file:$DIR/log4j.properties"
QUICK_JVM="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true"

if [[ ! -f "$DATA/meta.properties" ]]; then
  [[ -f "$RUN/cluster.id" ]] || java -Xmx256m $QUICK_JVM "$LOG4J" -cp "$CP" kafka.tools.StorageTool random-uuid >"$RUN/cluster.id"
  java -Xmx256m $QUICK_JVM "$LOG4J" -cp "$CP" kafka.tools.StorageTool format -g \
    -t "$(cat "$RUN/cluster.id")" -c "$PROPS" >/dev/null
fi

nohup java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} ${KAFKA_JVM_OPTS:-$QUICK_JVM} "$LOG4J" \
  -cp "$CP" kafka.Kafka "$PROPS" >"$LOG" 2>&1 </dev/null &
echo $! >"$PIDFILE"
echo "kafka starting (pid $!, log $LOG)"
if ! wait_ready; then
  "$DIR/stop.sh" >&2
  exit 1
fi
ms=$((($(date +%s%N) - start) / 1000000))
printf 'kafka started in %d.%ds\n' $((ms / 1000)) $((ms % 1000 / 100))
echo "KAFKA_BROKERS=$BROKERS"
