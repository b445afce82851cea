/**
 * The workspace the end-to-end tests open: a temp copy of the bundled example (examples/shop data)
 * with a small, fast experiment config so a run starts in seconds and lasts long enough to watch.
 */
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO } from './codeServer';

export interface E2EWorkspace {
  dir: string;
  config: string;
  runs: string;
  dispose(): void;
}

/** The small config: tiny towers, batch 32, thousands of steps (stopped from the dashboard), wasm backend. */
export function smallShopConfig(name = 'e2e-shop'): string {
  return `{
  // End-to-end test experiment: the shop example's data with tiny towers, so steps take milliseconds.
  "name": "${name}",
  "data": {
    "train": "data/train.jsonl",
    "test": "data/test.jsonl",
    "corpus": "data/corpus.jsonl"
  },
  "model": { "vocabBuckets": 4096, "embeddingDim": 16, "hiddenDim": 32, "outputDim": 16 },
  "loss": {
    "type": "softmax",
    "adaptive": true,
    "stopGradient": true,
    "symmetric": true
  },
  "training": { "batchSize": 32, "learningRate": 0.01, "steps": 200000, "logEvery": 5, "checkpointEvery": 1000 },
  "backend": "wasm"
}
`;
}

/** A temp workspace with the shop data and `shop.rlens.json` (the small config), or no config at all. */
export function makeWorkspace(opts: { withConfig?: boolean; prefix?: string } = {}): E2EWorkspace {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), opts.prefix ?? 'rlens-e2e-ws-'));
  const { config } = workspaceAt(dir);
  if (opts.withConfig !== false) {
    fs.mkdirSync(path.join(dir, 'data'));
    for (const f of ['train.jsonl', 'test.jsonl', 'corpus.jsonl']) fs.copyFileSync(path.join(REPO, 'examples/shop/data', f), path.join(dir, 'data', f));
    fs.writeFileSync(config, smallShopConfig());
  } else {
    fs.writeFileSync(path.join(dir, 'NOTES.md'), '# an empty project\n');
  }
  return workspaceAt(dir);
}

/** Options of makeWorkspace. */
export type WorkspaceOptions = Parameters<typeof makeWorkspace>[0];

/** `dir` (a temp folder of the test's own) as a workspace: its config and runs paths, disposed like a made one. */
export function workspaceAt(dir: string): E2EWorkspace {
  return {
    dir,
    config: path.join(dir, 'shop.rlens.json'),
    runs: path.join(dir, 'runs'),
    dispose: () => {
      killTrainersOf(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A trainer started from the extension is detached so that it survives a window reload: stopping
 * code-server does not end it. Any trainer still running a run of this workspace (meta.json's pid, status
 * "running") is killed, so a test that failed midway leaves nothing behind.
 */
export function killTrainersOf(dir: string): void {
  const metas: string[] = [];
  const walk = (d: string, depth: number) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && depth < 4 && e.name !== 'data' && e.name !== 'checkpoints') walk(p, depth + 1);
      else if (e.isFile() && e.name === 'meta.json') metas.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir, 0);
  for (const file of metas) {
    try {
      const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as { status?: string; pid?: number | null };
      if (meta.status === 'running' && Number.isInteger(meta.pid)) process.kill(meta.pid!, 'SIGKILL');
    } catch {
      // gone already, or not a run's meta.json
    }
  }
}

/** SIGKILL to the process group of a detached child still running (a CLI or a training loop a test started). */
export function killProcessGroup(child: ChildProcess | undefined): void {
  if (!child?.pid || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone
  }
}
