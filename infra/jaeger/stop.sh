#!/usr/bin/env bash
# Stop the Jaeger started by start.sh on this JAEGER_PORT (SIGTERM, then SIGKILL after 10 s).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../stop-pid.sh"
stop_pid jaeger "$PIDFILE" "$JAEGER_BIN --config $CONFIG" 10
