#!/usr/bin/env bash
# Runs test files with node:test: TAP on stdout (its closing "# pass N / # fail N" lines), then each file's time,
# slowest first (scripts/testDurations.mjs). Used by every npm test script.
#   bash scripts/node-test.sh test/unit/*.test.ts test/e2e/training.test.ts …
# - Files outside test/e2e/ run RLENS_TEST_JOBS at a time (default: the number of CPUs). Each file is its own
#   process with its own temp folders and free ports, so files are independent of each other.
# - The end-to-end files (test/e2e/) run one at a time afterwards (each drives a whole VS Code), in one
#   code-server started for all of them (test/e2e/support/sharedCodeServer.ts).
# Every file runs even when an earlier one failed; the exit code is non-zero when any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${RLENS_TEST_JOBS:-$(nproc)}
plain=()
e2e=()
for f in "$@"; do
  case "$f" in
    test/e2e/* | ./test/e2e/*) e2e+=("$f") ;;
    *) plain+=("$f") ;;
  esac
done
NODE_TEST=(node --import tsx --test --test-reporter=tap --test-reporter-destination=stdout
  --test-reporter=./scripts/testDurations.mjs --test-reporter-destination=stdout)
rc=0
if [ "${#plain[@]}" -gt 0 ]; then
  "${NODE_TEST[@]}" --test-concurrency="$JOBS" "${plain[@]}" || rc=$?
fi
if [ "${#e2e[@]}" -gt 0 ]; then
  node --import tsx test/e2e/support/sharedCodeServer.ts -- "${NODE_TEST[@]}" --test-concurrency=1 "${e2e[@]}" || rc=$?
fi
exit "$rc"
