#!/usr/bin/env bash
# `npm run test:faults`: the single-broker fault run, with the repo's local broker (started here
# when it is not running); `npm run test:faults -- --cluster`: the three-node cluster fault run,
# which starts its own nodes and needs no single broker.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for arg in "$@"; do
  if [[ "$arg" == "--cluster" ]]; then exec tsx "$HERE/cluster.ts" "$@"; fi
done
exec bash "$HERE/../../../infra/with-kafka.sh" tsx "$HERE/main.ts" "$@"
