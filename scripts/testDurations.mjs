// A node:test reporter that prints, after every test has run, each test file's wall time (slowest first), their
// sum and the run's wall time, so a contributor sees where the suite's minutes go. It is added beside the default
// TAP reporter (scripts/node-test.sh), so the closing "# pass N / # fail N" lines stay as they are.
import path from 'node:path';

//
// A file's time is what node:test measures for the file's own process (its file-level `test:complete` event:
// start-up, imports, hooks and tests), so it holds whether files run one at a time or several at once
// (--test-concurrency): with several at once the sum of the files' times exceeds the run's wall time.
export default async function* durations(source) {
  const t0 = Date.now();
  const files = new Map();
  for await (const event of source) {
    if (event.type !== 'test:complete' && event.type !== 'test:fail') continue;
    const file = event.data?.file;
    if (!file) continue;
    const entry = files.get(file) ?? { ms: 0, failed: false };
    files.set(file, entry);
    if (event.type === 'test:fail' || event.data.details?.passed === false) entry.failed = true;
    // The file's own event: named by its path, at the top level.
    if (event.type === 'test:complete' && event.data.nesting === 0 && event.data.name === file) entry.ms = event.data.details?.duration_ms ?? 0;
  }
  if (files.size === 0) return;
  const rows = [...files].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, r]) => s + r.ms, 0);
  yield '\n# test file durations (slowest first)\n';
  for (const [file, r] of rows) {
    yield `#   ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${path.relative(process.cwd(), file)}${r.failed ? '  (failed)' : ''}\n`;
  }
  yield `#   ${(total / 1000).toFixed(1).padStart(7)} s  total over ${rows.length} files (${((Date.now() - t0) / 1000).toFixed(1)} s wall)\n`;
}
