# Sourced by the scripts: where the Jaeger binary and one running instance live.
# Each OTLP gRPC port gets its own instance folder, so several Jaegers can run side by side.
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAEGER_VERSION="v1.76.0" # module version of github.com/jaegertracing/jaeger that is Jaeger v2
JAEGER_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tracehouse/jaeger-$JAEGER_VERSION"
JAEGER_BIN="$JAEGER_CACHE/jaeger"
# JAEGER_PORT is the query HTTP port (UI and /api); the other ports follow it unless set.
PORT="${JAEGER_PORT:-16686}"
export JAEGER_QUERY_HTTP_PORT="$PORT"
export JAEGER_OTLP_GRPC_PORT="${JAEGER_OTLP_GRPC_PORT:-$((PORT + 1))}"
export JAEGER_OTLP_HTTP_PORT="${JAEGER_OTLP_HTTP_PORT:-$((PORT + 2))}"
export JAEGER_QUERY_GRPC_PORT="${JAEGER_QUERY_GRPC_PORT:-$((PORT + 3))}"
export JAEGER_HEALTH_PORT="${JAEGER_HEALTH_PORT:-$((PORT + 4))}"
export JAEGER_METRICS_PORT="${JAEGER_METRICS_PORT:-$((PORT + 5))}"
export JAEGER_MAX_TRACES="${JAEGER_MAX_TRACES:-100000}"
ALL_PORTS=("$JAEGER_QUERY_HTTP_PORT" "$JAEGER_OTLP_GRPC_PORT" "$JAEGER_OTLP_HTTP_PORT" "$JAEGER_QUERY_GRPC_PORT" "$JAEGER_HEALTH_PORT" "$JAEGER_METRICS_PORT")
INSTANCE="$DIR/.local/jaeger-$PORT"
PIDFILE="$INSTANCE/jaeger.pid"
LOG="$INSTANCE/jaeger.log"
CONFIG="$DIR/config.yaml"
