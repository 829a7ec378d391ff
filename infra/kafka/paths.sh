# Sourced by the scripts: where one broker instance lives. Each port gets its own
# instance folder, so brokers on different ports can run side by side.
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN="$DIR/.local"
PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
INSTANCE="$RUN/broker-$PORT"
DATA="$INSTANCE/data"
PIDFILE="$INSTANCE/kafka.pid"
LOG="$INSTANCE/kafka.log"
PROPS="$INSTANCE/server.properties"
