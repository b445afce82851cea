/**
 * Data audit cost (issue 25, part 3): time and peak RSS of `auditTrainingData` on 100k and 1M generated
 * pairs (bench/makeTrainData.ts, ≈ 500 bytes a pair, every pair distinct; test queries and corpus: the
 * bundled example's), each audited in a fresh child process so that its peak RSS is the audit's alone
 * (printed beside the RSS of the same child before the audit), and beside the time of reading the same pairs
 * through the same reader without auditing them. Then the same audit as a trainer job (src/trainer/client.ts
 * `startDataAudit`, as VS Code's "Audit Training Data" runs it, from dist/trainer.js when built): its time from
 * fork to the report and to `ready`, and a second job stopped at its first progress report on the training
 * lines: how long from the stop to its end. The data is written to a temporary folder and deleted afterwards.
 *   npm run bench:audit [-- --sizes 100000,1000000]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { makeTrainData } from './makeTrainData';

const SHOP = path.resolve(__dirname, '../examples/shop/data');

async function child(config: string): Promise<void> {
  const { loadConfig } = await import('../src/core/config/loadConfig');
  const { auditTrainingData } = await import('../src/core/data/audit/auditData');
  const { eachPairOfFile } = await import('../src/core/data/pairFile');
  const { recordParser } = await import('../src/core/data/formats');
  const { LineTally } = await import('../src/core/data/badLines');
  const loaded = loadConfig(config);
  // The reading alone (the same reader, nothing kept): what the audit adds is the rest.
  const t0 = Date.now();
  let read = 0;
  await eachPairOfFile(loaded.config.data.train as string, new LineTally(), recordParser('jsonl', undefined, false), () => (read += 1));
  const readMs = Date.now() - t0;
  const before = process.memoryUsage().rss;
  const r = await auditTrainingData(loaded);
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({ pairs: r.pairs, read, readMs, ms: r.ms, rssBefore: before, peakRss: peak, findings: r.findings.map((f) => `${f.kind} ${f.count}`) }),
  );
}

/** The audit as a trainer job: ms from fork to `ready` and to the end; and a job stopped at its first training progress: ms from the stop to its end. */
async function asJob(config: string): Promise<{ readyMs: number; ms: number; pairs: number; stopMs: number; stoppedAt: number }> {
  const { startDataAudit } = await import('../src/trainer/client');
  const bundled = path.resolve(__dirname, '../dist/trainer.js');
  const opts = existsSync(bundled) ? { entry: { file: bundled, execArgv: [] } } : {};
  const t0 = Date.now();
  let readyMs = 0;
  let pairs = -1;
  const full = startDataAudit(
    { configPath: config, overrides: [] },
    (m) => {
      if (m.type === 'ready') readyMs = Date.now() - t0;
      if (m.type === 'audited') pairs = m.report.pairs;
    },
    opts,
  );
  if ((await full.done)?.status !== 'completed') throw new Error(`the audit job failed: ${full.failure?.message ?? ''}`);
  const ms = Date.now() - t0;
  let stopAt = 0;
  let stoppedAt = -1;
  const stopped = startDataAudit(
    { configPath: config, overrides: [] },
    (m) => {
      if (m.type !== 'auditProgress' || m.part !== 'train' || m.linesRead === 0 || stopAt) return;
      stopAt = Date.now();
      stoppedAt = m.linesRead;
      stopped.stop();
    },
    opts,
  );
  const end = await stopped.done;
  if (end?.status !== 'stopped') throw new Error(`the stopped audit job ended as ${end?.status ?? stopped.failure?.message}`);
  return { readyMs, ms, pairs, stopMs: Date.now() - stopAt, stoppedAt };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { child: { type: 'string' }, sizes: { type: 'string', default: '100000,1000000' } } });
  if (values.child) return child(values.child);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rlens-audit-bench-'));
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  try {
    for (const n of values.sizes!.split(',').map(Number)) {
      const train = (await makeTrainData(n, path.join(dir, `train-${n}.jsonl`)))[0];
      const config = path.join(dir, `audit-${n}.rlens.json`);
      writeFileSync(config, JSON.stringify({ data: { train, test: path.join(SHOP, 'test.jsonl'), corpus: path.join(SHOP, 'corpus.jsonl') } }));
      const run = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', config], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (run.status !== 0) throw new Error(`audit of ${n} pairs failed: ${run.stderr}`);
      const r = JSON.parse(run.stdout.trim().split('\n').pop()!);
      console.log(
        `${n} pairs: audit ${(r.ms / 1000).toFixed(1)} s (${((r.ms * 1000) / n).toFixed(1)} µs a pair; reading the ${r.read} pairs alone ${(r.readMs / 1000).toFixed(1)} s); peak RSS ${mb(r.peakRss)} (${mb(r.rssBefore)} before the audit; ${((r.peakRss - r.rssBefore) / n) | 0} bytes a pair above it); findings: ${r.findings.join(', ') || 'none'}`,
      );
      const job = await asJob(config);
      console.log(
        `  as a trainer job: ${(job.ms / 1000).toFixed(1)} s for the ${job.pairs} pairs (the process ready after ${job.readyMs} ms); a job stopped after ${job.stoppedAt} training lines ended ${job.stopMs} ms after the stop`,
      );
      rmSync(train, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
