/**
 * The extension following a multi-node PyTorch run live: the dashboard's RunFeed (what the extension polls for a
 * run written by another process, src/extension/dashboard/runFeed.ts) over a real job of two torchrun launchers on
 * this machine (`--nnodes 2 --node_rank 0/1 --nproc_per_node 1`, c10d rendezvous on 127.0.0.1, gloo over the
 * loopback, /usr/bin/python3 with torch; the launch of python/tests/test_multinode.py). Every logged step reaches
 * the dashboard once, in order, while the run is running, and the run ends `completed` — or `crashed` when a node
 * is SIGKILLed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { readEvents, readRun } from '../../src/core/runs';
import type { StepEvent } from '../../src/core/runs/eventSchema';
import { RunFeed } from '../../src/extension/dashboard/runFeed';
import type { ToDashboard } from '../../src/webview/dashboard/protocol';
import { torchSkip, TORCH_PYTHON } from '../helpers/torch';

const REPO = path.resolve(__dirname, '../..');
const PYTHON_DIR = path.join(REPO, 'python');
const CONFIG = path.join(REPO, 'examples', 'shop', 'shop.rlens.json');
const SMALL = ['training.batchSize=32', 'training.logEvery=1', 'model.vocabBuckets=4096', 'evaluation.every=0'].flatMap((s) => ['--set', s]);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The two launchers of one job, each in its own process group (a node: its agent and its worker). */
async function twoNodes(out: string, steps: number): Promise<ChildProcess[]> {
  const port = await freePort();
  const job = `follow-${process.pid}-${port}`;
  const env = { ...process.env, PYTHONPATH: PYTHON_DIR, OMP_NUM_THREADS: '1', GLOO_SOCKET_IFNAME: 'lo' };
  return [0, 1].map((rank) =>
    spawn(
      TORCH_PYTHON,
      [
        '-m',
        'retrieval_lens.launch',
        ...['--nnodes', '2', '--node_rank', String(rank), '--nproc_per_node', '1', '--rdzv_backend', 'c10d'],
        ...['--rdzv_endpoint', `127.0.0.1:${port}`, '--rdzv_conf', 'read_timeout=20', '--rdzv_id', job],
        ...['-m', 'retrieval_lens.train', CONFIG, '--out', out, '--steps', String(steps), ...SMALL],
      ],
      { env, cwd: PYTHON_DIR, detached: true, stdio: 'ignore' },
    ),
  );
}

const stepsOf = (msgs: ToDashboard[]) => msgs.flatMap((m) => (m.type === 'steps' ? m.steps.map((s) => s.step) : []));
const written = (runDir: string) =>
  readEvents(path.join(runDir, 'events.jsonl'))
    .events.filter((e): e is StepEvent => e.type === 'step')
    .map((e) => e.step);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Follows the job's one run folder with a RunFeed until `until(feed, stepsSeenWhileRunning)` or the run ends;
 * returns the feed, the run folder and every step the feed delivered.
 */
async function follow(out: string, deadlineMs: number, until: (seenRunning: number) => boolean = () => false) {
  const deadline = Date.now() + deadlineMs;
  let feed: RunFeed | null = null;
  let runDir = '';
  const received: number[] = [];
  let seenRunning = 0;
  while (Date.now() < deadline) {
    await sleep(100);
    if (!feed) {
      const dirs = fs.existsSync(out) ? fs.readdirSync(out).filter((d) => fs.existsSync(path.join(out, d, 'meta.json'))) : [];
      if (dirs.length === 0) continue;
      assert.equal(dirs.length, 1, 'the run is written once (global rank 0)');
      runDir = path.join(out, dirs[0]);
      feed = new RunFeed(runDir);
      received.push(...stepsOf(feed.resetMessages()));
      continue;
    }
    const polled = stepsOf(feed.pollMessages());
    received.push(...polled);
    const status = feed.currentHeader?.status;
    if (status === 'running') seenRunning += polled.length;
    if (status !== 'running' || until(seenRunning)) break;
  }
  assert.ok(feed, `no run folder in ${out}`);
  return { feed, runDir, received, seenRunning };
}

function killNode(p: ChildProcess): void {
  try {
    process.kill(-p.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

test('a two-node c10d run is followed live to completed: every step once, in order', { skip: torchSkip }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-multinode-follow-'));
  const nodes = await twoNodes(out, 8);
  try {
    const { feed, runDir, received, seenRunning } = await follow(out, 600_000);
    assert.ok(seenRunning >= 1, 'steps arrived while the run was running');
    assert.equal(feed.currentHeader?.status, 'completed');
    received.push(...stepsOf(feed.pollMessages()));
    assert.deepEqual(received, written(runDir));
    assert.deepEqual(received, [1, 2, 3, 4, 5, 6, 7, 8]);
  } finally {
    nodes.forEach(killNode);
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('a two-node c10d run whose other node is SIGKILLed is followed to crashed, its steps kept', { skip: torchSkip }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-multinode-follow-'));
  const nodes = await twoNodes(out, 100_000);
  try {
    const live = await follow(out, 600_000, (seen) => seen >= 3);
    assert.equal(live.feed.currentHeader?.status, 'running');
    // The node that does not write the run: global rank 0's pid is in meta.json; its process group is its node.
    const writerPid = readRun(live.runDir).meta!.pid!;
    const writerPgid = Number(fs.readFileSync(`/proc/${writerPid}/stat`, 'utf8').split(') ')[1].split(' ')[2]);
    const other = nodes.find((p) => p.pid !== writerPgid)!;
    assert.ok(nodes.some((p) => p.pid === writerPgid) && other, 'the writer runs in one of the two nodes');
    killNode(other);
    // The writer loses its peer and ends without a final status: the feed reads crashed (waited on the state).
    const ended = await follow(out, 300_000);
    assert.equal(ended.feed.currentHeader?.status, 'crashed');
    const steps = written(live.runDir);
    assert.ok(steps.length >= 3);
    assert.deepEqual(
      steps,
      Array.from({ length: steps.length }, (_, i) => i + 1),
    );
  } finally {
    nodes.forEach(killNode);
    fs.rmSync(out, { recursive: true, force: true });
  }
});
