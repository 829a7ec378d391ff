#!/usr/bin/env bash
# Stop the broker started by start.sh (SIGTERM, then SIGKILL after 20 s).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../stop-pid.sh"
stop_pid kafka "$PIDFILE" "kafka.Kafka $PROPS" 20
