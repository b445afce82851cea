/**
 * Compare benchmark: `retrieval-lens compare` of two runs with many logged steps (default 2 × 200,000 real
 * step events of the dashboard fixture, about 490 MB of events.jsonl each), timed in a fresh process
 * whose peak RSS (getrusage maxRSS) is printed with the wall time. Target: peak RSS ≤ 300 MB (the
 * comparison streams events.jsonl: forEachEvent in src/core/runs/eventLog.ts).
 *   npm run bench:compare [-- --steps 200000 --keep]
 * The runs go to a temp folder, removed afterwards unless --keep.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { RunWriter } from '../src/core/runs/runWriter';
import { serializeEvent } from '../src/core/runs/eventLine';
import type { StepEvent } from '../src/core/runs/eventSchema';

const REPO = path.resolve(__dirname, '..');
const FIXTURE = path.join(REPO, 'test/fixtures/dashboard/softmax.json');

/** A real step event (the dashboard fixture's first): the template of every logged step. */
function templateStep(): StepEvent {
  const f = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { messages: { message: { steps?: StepEvent[] } }[] };
  for (const m of f.messages) if (m.message.steps?.length) return m.message.steps[0];
  throw new Error(`${FIXTURE}: no step event`);
}

/** A finished run with `steps` step events (the template, step numbers 1…steps), written in 8 MB blocks. */
async function writeRun(root: string, name: string, steps: number, lossScale: number): Promise<string> {
  const w = await RunWriter.create(root, name, { name, loss: { alpha: lossScale } }, { totalSteps: steps, backend: 'wasm' });
  const t = templateStep();
  const fd = fs.openSync(w.eventsFile, 'a');
  let block: string[] = [];
  let size = 0;
  for (let s = 1; s <= steps; s++) {
    const line = serializeEvent({ ...t, step: s, loss: (t.loss ?? 1) * lossScale * (1 + 1 / s) });
    block.push(line);
    size += line.length;
    if (size > 8 * 1024 * 1024 || s === steps) {
      fs.writeSync(fd, block.join(''));
      block = [];
      size = 0;
    }
  }
  fs.closeSync(fd);
  w.finish('completed');
  return w.dir;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { steps: { type: 'string', default: '200000' }, keep: { type: 'boolean', default: false } } });
  const steps = Number(values.steps);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-bench-compare-'));
  try {
    const t0 = Date.now();
    const a = await writeRun(root, 'a', steps, 1);
    const b = await writeRun(root, 'b', steps, 0.9);
    const mb = (f: string) => (fs.statSync(path.join(f, 'events.jsonl')).size / 1e6).toFixed(0);
    console.log(`2 runs × ${steps} logged steps (events.jsonl ${mb(a)} MB + ${mb(b)} MB) written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // The comparison in a fresh process: its peak RSS is the comparison's alone.
    const script = `
      const { compareRuns } = require(${JSON.stringify(path.join(REPO, 'src/core/experiments/compareRuns.ts'))});
      const t = process.hrtime.bigint();
      const c = compareRuns([${JSON.stringify(a)}, ${JSON.stringify(b)}]);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      console.log(JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS, steps: c.runs.map((r) => r.series.steps.length), last: c.runs.map((r) => r.final.step) }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`compare failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; maxRssKb: number; steps: number[]; last: number[] };
    const peakMb = out.maxRssKb / 1024;
    console.log(`compare: ${(out.ms / 1000).toFixed(1)} s, peak RSS ${peakMb.toFixed(0)} MB (target ≤ 300 MB: ${peakMb <= 300 ? 'met' : 'NOT met'})`);
    console.log(`series read: ${out.steps.join(' + ')} steps; last logged step ${out.last.join(', ')}`);
  } finally {
    if (!values.keep) fs.rmSync(root, { recursive: true, force: true });
    else console.log(`runs kept in ${root}`);
  }
}

void main();
