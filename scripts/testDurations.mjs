// A node:test reporter that prints, after every test has run, each test file's wall time (slowest first) and
// the total, so a contributor sees where the suite's minutes go. It is added beside the default TAP reporter
// (package.json "test"), so the closing "# pass N / # fail N" lines stay as they are.
import path from 'node:path';

//
// Files run one at a time (--test-concurrency=1), so a file's time is measured from the last result of the file
// before it (the start of the run for the first) to its own last result. That includes the file's start-up
// (imports, before hooks), which per-test durations leave out, and it holds whether a file's events reach the
// reporter as they happen or all at its end.
export default async function* durations(source) {
  const files = new Map();
  let previousEnd = Date.now();
  let current = null;
  for await (const event of source) {
    // Only results count: other events (enqueue, dequeue) arrive for every file when the run starts.
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const file = event.data?.file;
    if (!file) continue;
    const now = Date.now();
    if (file !== current) {
      if (current) previousEnd = files.get(current).end;
      current = file;
      if (!files.has(file)) files.set(file, { ms: 0, start: previousEnd, end: now, failed: false });
    }
    const entry = files.get(file);
    entry.end = now;
    entry.ms = entry.end - entry.start;
    if (event.type === 'test:fail') entry.failed = true;
  }
  if (files.size === 0) return;
  const rows = [...files].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, r]) => s + r.ms, 0);
  yield '\n# test file durations (slowest first)\n';
  for (const [file, r] of rows) {
    yield `#   ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${path.relative(process.cwd(), file)}${r.failed ? '  (failed)' : ''}\n`;
  }
  yield `#   ${(total / 1000).toFixed(1).padStart(7)} s  total over ${rows.length} files\n`;
}
