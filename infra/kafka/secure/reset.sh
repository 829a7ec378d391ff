#!/usr/bin/env bash
# Stop the secure broker and delete its data, certificates and password.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
"$DIR/stop.sh"
rm -rf "$INSTANCE"
echo "secure kafka data removed"
