#!/usr/bin/env bash
# shellcheck disable=SC2086  # JVM option strings are split on purpose
# Start a single-node KRaft broker with PLAINTEXT, SASL_SSL and MTLS listeners on 127.0.0.1 for the
# secure-transport tests: makes a test CA and certificates (certs.sh), a random password for the user
# "tracehouse" (SCRAM users created when the storage is formatted), then waits until a client can use it.
# Prints the listeners, the CA and the password file as KEY=value lines.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
start=$(date +%s%N)

is_ours() { [[ -f "$PIDFILE" ]] && tr '\0' ' ' 2>/dev/null <"/proc/$(cat "$PIDFILE")/cmdline" | grep -qF "kafka.Kafka $PROPS"; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
report() {
  echo "KAFKA_PLAINTEXT_BROKERS=127.0.0.1:$PORT"
  echo "KAFKA_SASL_SSL_BROKERS=127.0.0.1:$SASL_SSL_PORT"
  echo "KAFKA_MTLS_BROKERS=127.0.0.1:$MTLS_PORT"
  echo "KAFKA_CERTS_DIR=$CERTS"
  echo "KAFKA_SASL_USERNAME=tracehouse"
  echo "KAFKA_SASL_PASSWORD_FILE=$SECRETS/password"
}
wait_ready() {
  node "$KAFKA_DIR/wait-ready.mjs" "127.0.0.1:$PORT" --pid "$(cat "$PIDFILE")" && return
  echo "--- last lines of $LOG ---" >&2
  tail -n 40 "$LOG" >&2 || true
  return 1
}

if is_ours; then
  echo "secure kafka already running (pid $(cat "$PIDFILE"))"
  wait_ready || exit 1
  report
  exit 0
fi
rm -f "$PIDFILE"
for p in "$PORT" "$CONTROLLER_PORT" "$SASL_SSL_PORT" "$MTLS_PORT"; do
  if port_busy "$p"; then
    echo "secure/start.sh: port $p on 127.0.0.1 is already in use (set KAFKA_SECURE_PORT)" >&2
    exit 1
  fi
done

"$KAFKA_DIR/install.sh"
bash "$DIR/certs.sh" "$CERTS"
mkdir -p "$DATA" "$SECRETS"
chmod 700 "$SECRETS"
if [[ ! -s "$SECRETS/password" ]]; then
  (umask 077 && openssl rand -hex 24 >"$SECRETS/password")
fi
password="$(cat "$SECRETS/password")"
(umask 077 && sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
  -e "s|@SASL_SSL_PORT@|$SASL_SSL_PORT|g" -e "s|@MTLS_PORT@|$MTLS_PORT|g" -e "s|@DATA_DIR@|$DATA|g" \
  -e "s|@CERTS@|$CERTS|g" -e "s|@USER@|tracehouse|g" -e "s|@PASSWORD@|$password|g" \
  "$DIR/server.properties" >"$PROPS")

CP="$RUN/libs/*"
LOG4J="-Dlog4j.configuration=file:$KAFKA_DIR/log4j.properties"
QUICK_JVM="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true"

if [[ ! -f "$DATA/meta.properties" ]]; then
  java -Xmx256m $QUICK_JVM "$LOG4J" -cp "$CP" kafka.tools.StorageTool format -g \
    -t "$(java -Xmx128m $QUICK_JVM "$LOG4J" -cp "$CP" kafka.tools.StorageTool random-uuid)" -c "$PROPS" \
    --add-scram "SCRAM-SHA-256=[name=tracehouse,password=$password]" \
    --add-scram "SCRAM-SHA-512=[name=tracehouse,password=$password]" >/dev/null
fi

nohup java ${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m} ${KAFKA_JVM_OPTS:-$QUICK_JVM} "$LOG4J" \
  -cp "$CP" kafka.Kafka "$PROPS" >"$LOG" 2>&1 </dev/null &
echo $! >"$PIDFILE"
echo "secure kafka starting (pid $!, log $LOG)"
if ! wait_ready; then
  "$DIR/stop.sh" >&2
  exit 1
fi
ms=$((($(date +%s%N) - start) / 1000000))
printf 'secure kafka started in %d.%ds\n' $((ms / 1000)) $((ms % 1000 / 100))
report
