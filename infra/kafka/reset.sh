#!/usr/bin/env bash
# Stop the broker and delete its data (keeps the downloaded jars).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
"$DIR/stop.sh"
rm -rf "$INSTANCE"
echo "kafka data removed"
