#!/usr/bin/env bash
# Stop the broker and delete its data (keeps the downloaded jars).
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$DIR/stop.sh"
rm -rf "$DIR/.local/data" "$DIR/.local/server.properties" "$DIR/.local/kafka.log"
echo "kafka data removed"
