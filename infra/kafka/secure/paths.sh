# Sourced by the secure broker's scripts: where its instance lives. One instance per port base, next to
# the plain brokers' instances in infra/kafka/.local.
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_DIR="$(dirname "$DIR")"
RUN="$KAFKA_DIR/.local"
PORT="${KAFKA_SECURE_PORT:-$((${KAFKA_PORT:-19092} + 50))}"
CONTROLLER_PORT=$((PORT + 1))
SASL_SSL_PORT=$((PORT + 2))
MTLS_PORT=$((PORT + 3))
INSTANCE="$RUN/secure-$PORT"
DATA="$INSTANCE/data"
CERTS="$INSTANCE/certs"
SECRETS="$INSTANCE/secrets"
PIDFILE="$INSTANCE/kafka.pid"
LOG="$INSTANCE/kafka.log"
PROPS="$INSTANCE/server.properties"
