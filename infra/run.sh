#!/usr/bin/env bash
# The README's main command (`npm start`): installs what it needs, starts the local Kafka and schema
# registry (reusing them if already running), then the launcher, which serves the embedded ClickHouse
# and runs every processor, service and the simulator. Arguments are passed to the launcher
# (e.g. `npm start -- api ingest` starts only those components).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export TZ=UTC
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: see infra/test.sh.
  npm install --no-audit --no-fund
fi
bash infra/local-stack.sh start
eval "$(bash infra/local-stack.sh env | sed 's/^/export /')"
exec node --import tsx services/launcher/main.ts "$@"
