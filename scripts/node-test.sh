#!/usr/bin/env bash
# Runs test files with node:test one at a time: TAP on stdout (its closing "# pass N / # fail N" lines), then
# each file's wall time, slowest first (scripts/testDurations.mjs). Used by every npm test script.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx --test --test-concurrency=1 \
  --test-reporter=tap --test-reporter-destination=stdout \
  --test-reporter=./scripts/testDurations.mjs --test-reporter-destination=stdout "$@"
