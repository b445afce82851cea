#!/usr/bin/env bash
# npm test: every check and every test (README "Tests"), using both cores of a small machine.
# 1. The checks at the same time — lint (ESLint, Ruff, Pyright), format, typecheck, build + the .vsix the
#    end-to-end tests install — each one's output printed when all are done; a failing check stops here.
# 2. The node test files of test/unit, test/integration and test/browser, RLENS_TEST_JOBS at a time.
# 3. The end-to-end files (one VS Code at a time, one shared code-server) with pytest (python/tests) running
#    beside them; pytest's output follows theirs.
# Then the wall time of each phase. The exit code is non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
phases=()
phase_done() {
  phases+=("$(printf '%5ds  %s' $(($(date +%s) - $1)) "$2")")
  echo "# npm test phase done: ${phases[-1]}"
}
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

s=$(date +%s)
names=(lint format typecheck build)
npm run -s lint >"$LOGS/lint" 2>&1 &
pids=($!)
npm run -s format:check >"$LOGS/format" 2>&1 &
pids+=($!)
npm run -s typecheck >"$LOGS/typecheck" 2>&1 &
pids+=($!)
(npm run -s build && bash scripts/package-vsix.sh --no-build --out test-artifacts/e2e/retrieval-lens.vsix >/dev/null) >"$LOGS/build" 2>&1 &
pids+=($!)
failed=()
for i in "${!names[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
done
for n in "${names[@]}"; do
  echo "== $n"
  cat "$LOGS/$n"
done
phase_done "$s" "checks: lint, format, typecheck, build + .vsix (at the same time)"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "npm test: failed: ${failed[*]}" >&2
  exit 1
fi

rc=0
s=$(date +%s)
bash scripts/node-test.sh test/unit/*.test.ts test/integration/*.test.ts test/browser/*.test.ts || rc=1
phase_done "$s" "node tests: unit, integration, browser (${RLENS_TEST_JOBS:-$(nproc)} files at a time)"

s=$(date +%s)
npm run -s test:python >"$LOGS/pytest" 2>&1 &
py=$!
RLENS_E2E_VSIX=test-artifacts/e2e/retrieval-lens.vsix bash scripts/node-test.sh test/e2e/*.test.ts || rc=1
wait "$py" || rc=1
echo "== pytest python/tests (ran beside the end-to-end tests)"
cat "$LOGS/pytest"
phase_done "$s" "end-to-end tests (one code-server) with pytest beside them"

echo
echo "# npm test phases (wall time)"
for p in "${phases[@]}"; do echo "#   $p"; done
echo "#   $(printf '%5ds' $(($(date +%s) - t0)))  total"
exit "$rc"
