/**
 * The data audit as a trainer job (src/trainer/auditJob.ts, started by src/trainer/client.ts `startDataAudit`, as the
 * extension's "Audit Training Data" runs it): in a real trainer process it gives the same report as the in-process
 * audit (the CLI's), reports its lines read, locates a config or data error as the in-process audit does, and a stop
 * ends it between records, with no report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../../src/core/config/loadConfig';
import { auditTrainingData, type AuditReport } from '../../src/core/data/audit/auditData';
import { startDataAudit } from '../../src/trainer/client';
import { trainerMessages } from '../helpers/trainerMessages';

const PLANTED = path.join(__dirname, '../fixtures/audit/planted/audit.rlens.json');

/** Starts an audit job in a real trainer process and records its messages; `until` resolves when a predicate matches. */
function auditJob(configPath: string, overrides: string[] = []) {
  const { messages, onMessage, until } = trainerMessages();
  const handle = startDataAudit({ configPath, overrides }, onMessage, { onInvalid: (r) => assert.fail(`invalid trainer message: ${r}`) });
  return { handle, messages, until };
}

/** A report without its duration (the one field two audits of the same data differ in). */
const timeless = (r: AuditReport) => ({ ...r, ms: 0 });

test('the audit job reports the planted fixture as the in-process audit does, with its lines read', async () => {
  const job = auditJob(PLANTED);
  const done = await job.handle.done;
  assert.equal(done?.status, 'completed', JSON.stringify(job.messages));
  const audited = job.messages.filter((m) => m.type === 'audited');
  assert.equal(audited.length, 1);
  const inProcess = await auditTrainingData(loadConfig(PLANTED));
  assert.ok(inProcess.findings.length >= 9, 'the planted fixture has findings');
  assert.deepEqual(timeless(audited[0].report), timeless(inProcess));
  // The last progress of each part: every line of the part (the corpus and training lines, the test queries).
  const last = new Map(job.messages.flatMap((m) => (m.type === 'auditProgress' ? [[m.part, m.linesRead] as const] : [])));
  assert.equal(last.get('train'), inProcess.linesRead);
  assert.equal(
    last.get('corpus'),
    fs
      .readFileSync(path.join(path.dirname(PLANTED), 'corpus.jsonl'), 'utf8')
      .trimEnd()
      .split('\n').length,
  );
  assert.equal(last.get('test'), inProcess.testQueries);
  assert.deepEqual(
    job.messages.map((m) => m.type).filter((t) => t !== 'auditProgress' && t !== 'log'),
    ['ready', 'audited', 'done'],
  );
});

test('a config or data error arrives located, as the in-process audit throws it, and no report', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-audit-job-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'missing.rlens.json');
  fs.writeFileSync(config, JSON.stringify({ data: { train: 'nowhere.jsonl' } }));
  const expected = await auditTrainingData(loadConfig(config)).then(
    () => assert.fail('the in-process audit of missing data succeeded'),
    (e: Error) => e.message,
  );
  assert.match(expected, /nowhere\.jsonl/);
  const missing = auditJob(config);
  assert.equal((await missing.handle.done)?.status, 'failed');
  assert.deepEqual(
    missing.messages.filter((m) => m.type === 'error'),
    [{ type: 'error', message: expected }],
  );

  const badOverride = auditJob(PLANTED, ['model.maxQueryTokens=-3']);
  assert.equal((await badOverride.handle.done)?.status, 'failed');
  const error = badOverride.messages.find((m) => m.type === 'error');
  assert.ok(error?.type === 'error' && error.problems?.some((p) => p.path === 'model.maxQueryTokens'), JSON.stringify(error));
  assert.ok(!badOverride.messages.some((m) => m.type === 'audited'));
});

test('stop ends an audit of 300k pairs between records: done "stopped" soon after, no report, most lines unread', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-audit-job-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pairs = 300_000;
  const lines: string[] = [];
  for (let i = 0; i < pairs; i++)
    lines.push(
      JSON.stringify({ query: `query number ${i} about item ${i % 997}`, positive: `item ${i} text with words ${i % 13} and ${i % 31}`, positive_id: `p${i}` }),
    );
  fs.writeFileSync(path.join(dir, 'train.jsonl'), lines.join('\n') + '\n');
  const config = path.join(dir, 'big.rlens.json');
  fs.writeFileSync(config, JSON.stringify({ data: { train: 'train.jsonl' } }));

  const job = auditJob(config);
  await job.until((m) => m.type === 'auditProgress' && m.part === 'train' && m.linesRead > 0);
  const stoppedAt = Date.now();
  job.handle.stop();
  const done = await job.handle.done;
  const ms = Date.now() - stoppedAt;
  assert.equal(done?.status, 'stopped', JSON.stringify(job.messages.filter((m) => m.type !== 'auditProgress')));
  assert.ok(!job.messages.some((m) => m.type === 'audited'), 'a stopped audit sends no report');
  const read = Math.max(...job.messages.flatMap((m) => (m.type === 'auditProgress' && m.part === 'train' ? [m.linesRead] : [])));
  assert.ok(read < pairs / 2, `stopped after ${read} of ${pairs} lines`);
  // Generous for a loaded machine: the stop is checked on every line (the full audit of these pairs takes seconds).
  assert.ok(ms < 5000, `the job ended ${ms} ms after the stop`);
  console.log(`# stopped after ${read} of ${pairs} lines; ended ${ms} ms after the stop`);
});
