#!/usr/bin/env bash
# Stop the secure broker started by start.sh (SIGTERM, then SIGKILL after 20 s). Keeps its data and certificates;
# reset.sh deletes them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../../stop-pid.sh"
stop_pid "secure kafka" "$PIDFILE" "kafka.Kafka $PROPS" 20
