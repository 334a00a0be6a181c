#!/usr/bin/env bash
# The README's test command (`npm test`): installs what it needs, starts the local Kafka and schema
# registry once for the whole run, runs unit and integration tests, then the reliability suite, and
# stops what it started, even on failure. When the stack cannot start, this fails: tests never skip quietly.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export TZ=UTC

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` (not `npm ci`): npm 11 rejects lock files that lack other platforms' optional
  # binaries (npm/cli#4828, #8320); install still follows the lock for every recorded package.
  echo "[test] npm install" >&2
  npm install --no-audit --no-fund
fi

# External clients the tests drive: Debian's kcat (interoperability) and chromium (status page).
# Tests that need them fail when they are missing, so install them here rather than skip.
missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[test] installing ${missing[*]} (apt)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { echo "[test] could not install ${missing[*]}; install them and rerun" >&2; exit 1; }
fi

before="$(bash infra/local-stack.sh status || true)"
stop_kafka=0; stop_registry=0
echo "$before" | grep -q '^kafka.*: up' || stop_kafka=1
echo "$before" | grep -q '^schema-registry.*: up' || stop_registry=1
cleanup() {
  local rc=$?
  [ "$stop_registry" = 1 ] && bash infra/local-stack.sh stop-registry || true
  [ "$stop_kafka" = 1 ] && bash infra/local-stack.sh stop-kafka || true
  exit $rc
}
trap cleanup EXIT
bash infra/local-stack.sh start
eval "$(bash infra/local-stack.sh env | sed 's/^/export /')"

# Each pass also writes vitest's JSON report; infra/test-recap.ts prints both passes' failures at
# the very end, because CI keeps only the tail of the output.
REPORTS=".local/test-reports"
rm -rf "$REPORTS"; mkdir -p "$REPORTS"
first="first pass"; [ "${DW_RELIABILITY:-}" = 1 ] && first="reliability pass"
recap=(npx tsx infra/test-recap.ts "$first" "$REPORTS/first-pass.json")
rc=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$REPORTS/first-pass.json" "$@" || rc=$?
# The reliability suite (test/reliability, issue 13: crashes, outages, rebalances, poison, soak) is a
# second pass on its own, in its bounded CI form: its scenarios run whole pipelines of child
# processes and measure recovery, so they must not share the two cores with the rest of the suite.
# `npm run test:reliability` runs only this pass (DW_RELIABILITY=1); arguments select tests and
# run only what they name.
if [ "$#" -eq 0 ] && [ "${DW_RELIABILITY:-}" != 1 ]; then
  echo "[test] reliability suite (CI form; docs/reliability.md)" >&2
  DW_RELIABILITY=1 npx vitest run --reporter=default --reporter=json \
    --outputFile.json="$REPORTS/reliability.json" || rc=$?
  recap+=("reliability pass" "$REPORTS/reliability.json")
fi
"${recap[@]}" || echo "[test] could not print the recap (see the reports in $REPORTS)" >&2
exit $rc
