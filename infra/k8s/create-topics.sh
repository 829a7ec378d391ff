#!/bin/sh
# Creates the tracehouse topics with the catalogue's recommended partitions and retention
# (packages/schemas, DEFAULT_TOPICS). Idempotent: existing topics are left as they are.
# Runs in the apache/kafka image (the Kubernetes Job and the compose "topics" service).
# Env: KAFKA_BOOTSTRAP (host:port), TOPIC_PREFIX (default "tracehouse."),
#      REPLICATION_FACTOR (default 3), MIN_INSYNC_REPLICAS (default 2); for a secured broker the
#      worker's KAFKA_SECURITY_PROTOCOL, KAFKA_CA_FILE, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and
#      KAFKA_SASL_PASSWORD_FILE, turned into a client config file readable by this process only.
set -eu

BOOTSTRAP="${KAFKA_BOOTSTRAP:?set KAFKA_BOOTSTRAP to host:port}"
PREFIX="${TOPIC_PREFIX:-tracehouse.}"
REPLICATION="${REPLICATION_FACTOR:-3}"
MIN_ISR="${MIN_INSYNC_REPLICAS:-2}"
KAFKA_TOPICS="${KAFKA_TOPICS_BIN:-/opt/kafka/bin/kafka-topics.sh}"

# Kafka's client properties for the worker's security settings; the password stays out of the arguments.
COMMAND_CONFIG=""
PROTOCOL="${KAFKA_SECURITY_PROTOCOL:-plaintext}"
if [ "$PROTOCOL" != "plaintext" ]; then
  COMMAND_CONFIG="$(mktemp)"
  trap 'rm -f "$COMMAND_CONFIG"' EXIT
  chmod 600 "$COMMAND_CONFIG"
  echo "security.protocol=$(echo "$PROTOCOL" | tr '[:lower:]' '[:upper:]')" >"$COMMAND_CONFIG"
  if [ -n "${KAFKA_CA_FILE:-}" ]; then
    printf 'ssl.truststore.type=PEM\nssl.truststore.location=%s\n' "$KAFKA_CA_FILE" >>"$COMMAND_CONFIG"
  fi
  if [ "${KAFKA_VERIFY_HOSTNAME:-true}" = "false" ]; then
    echo "ssl.endpoint.identification.algorithm=" >>"$COMMAND_CONFIG"
  fi
  case "$PROTOCOL" in sasl_*)
    MECHANISM="$(echo "${KAFKA_SASL_MECHANISM:?set KAFKA_SASL_MECHANISM}" | tr '[:lower:]' '[:upper:]')"
    PASSWORD="$(cat "${KAFKA_SASL_PASSWORD_FILE:?set KAFKA_SASL_PASSWORD_FILE}")"
    case "$MECHANISM" in
      PLAIN) MODULE=org.apache.kafka.common.security.plain.PlainLoginModule ;;
      *) MODULE=org.apache.kafka.common.security.scram.ScramLoginModule ;;
    esac
    printf 'sasl.mechanism=%s\nsasl.jaas.config=%s required username="%s" password="%s";\n' \
      "$MECHANISM" "$MODULE" "${KAFKA_SASL_USERNAME:?set KAFKA_SASL_USERNAME}" "$PASSWORD" >>"$COMMAND_CONFIG"
    ;;
  esac
fi

create() {
  # shellcheck disable=SC2086  # the --command-config pair is split on purpose
  "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" ${COMMAND_CONFIG:+--command-config "$COMMAND_CONFIG"} --create --if-not-exists \
    --topic "$PREFIX$1" --partitions "$2" --replication-factor "$REPLICATION" \
    --config cleanup.policy="${4:-delete}" --config retention.ms="$3" --config min.insync.replicas="$MIN_ISR"
}

# suffix        partitions  retention.ms  cleanup.policy
create executions   12  2592000000
create events       24  604800000
create metrics      12  2592000000
create correlations 12  2592000000
create errors        6  2592000000
create spans        24  604800000
create dlq           6  2592000000
create schemas       1  -1          compact

echo "tracehouse topics with prefix $PREFIX are in place"
