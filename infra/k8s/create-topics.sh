#!/bin/sh
# Creates the tracehouse topics with the catalogue's recommended partitions and retention
# (packages/schemas, DEFAULT_TOPICS). Idempotent: existing topics are left as they are.
# Runs in the apache/kafka image (the Kubernetes Job and the compose "topics" service).
# Env: KAFKA_BOOTSTRAP (host:port), TOPIC_PREFIX (default "tracehouse."),
#      REPLICATION_FACTOR (default 3), MIN_INSYNC_REPLICAS (default 2).
set -eu

BOOTSTRAP="${KAFKA_BOOTSTRAP:?set KAFKA_BOOTSTRAP to host:port}"
PREFIX="${TOPIC_PREFIX:-tracehouse.}"
REPLICATION="${REPLICATION_FACTOR:-3}"
MIN_ISR="${MIN_INSYNC_REPLICAS:-2}"
KAFKA_TOPICS="${KAFKA_TOPICS_BIN:-/opt/kafka/bin/kafka-topics.sh}"

create() {
  "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
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
