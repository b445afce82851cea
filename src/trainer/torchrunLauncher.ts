/**
 * Parent side of the PyTorch trainer (config `trainer.kind: "torchrun"`): starts
 *   <python> <root>/rlens_bootstrap.py retrieval_lens.launch --standalone --nnodes 1 \
 *     --nproc_per_node N <root>/rlens_bootstrap.py retrieval_lens.train <config> [--out DIR] [--steps N] [--set k=v …]
 * (retrieval_lens.launch is torch.distributed.run with the fix Debian's torch 1.13 needs under Python 3.11)
 * (<root> = the package's python/ folder; the bootstrap runs a module as `-m` would, with <root> first on sys.path
 * and never the working directory, which is the config's folder) in its own process group and
 * follows the run folder it prints (`run: <folder>` on stdout) through docs/run-format.md — meta.json
 * and events.jsonl, read with tailEvents — handing the same typed messages as the built-in trainer's
 * IPC (src/trainer/protocol.ts: ready, started, step, eval, log, done) to the CLI and the extension.
 *
 * Process handling as src/trainer/client.ts (kernel-launcher style): the `run:` line must come within a
 * start timeout; a process that ends without a final status in meta.json becomes a TrainerProcessError
 * with its exit code or signal and the last lines of its stderr. Stop is SIGINT to the whole process
 * group (torchrun's agent and every rank: the step finishes, the last checkpoint is written, status
 * "stopped"), then SIGKILL after a grace period. The final status is read from meta.json, never from
 * torchrun's exit code (the launcher exits 130 after a SIGINT even when every rank stopped cleanly).
 *
 * The child's stdout/stderr go to files (read by polling), not pipes: a detached run that outlives the
 * VS Code window that started it keeps writing to them without a broken pipe.
 */
import { execFile, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { TrainerConfig } from '../core/config/types';
import { tailEvents } from '../core/runs/eventLog';
import type { EndEvent } from '../core/runs/eventSchema';
import { EVENTS_FILE, readMeta } from '../core/runs/meta';
import { readRun } from '../core/runs/readRun';
import { isPidAlive } from '../core/runs/status';
import { formatProblems } from '../core/config/configError';
import { TrainerProcessError, type TrainingProcess } from './client';
import { pythonConfigProblems } from './pythonConfigProblems';
import type { DoneMessage, FromTrainer } from './protocol';
import { readBoundedTextSync } from '../core/io/safeRead';

export type { TrainingProcess };

/** Time from spawn to the `run:` line (importing torch and starting N ranks on a busy machine takes a while). */
export const TORCHRUN_START_TIMEOUT_MS = 120_000;
/** Time from Stop (SIGINT) to SIGKILL of the process group: the step, the last checkpoint and the final meta.json. */
export const TORCHRUN_STOP_GRACE_MS = 120_000;
/** How often the output files and the run folder are read. */
const POLL_MS = 250;
/** Lines of stderr kept for an error message. */
const STDERR_TAIL_LINES = 20;
/** Debian's interpreter (python3-torch installs torch for it). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** The folder holding the `retrieval_lens` package: `<package root>/python` from dist/ or src/trainer/. */
export function pythonPackageRoot(): string {
  const fromDist = path.resolve(__dirname, '..', 'python');
  return fs.existsSync(path.join(__dirname, 'trainer.js')) || fs.existsSync(fromDist) ? fromDist : path.resolve(__dirname, '..', '..', 'python');
}

/** Whether `python -c "import torch"` succeeds (false for a missing interpreter). */
export function importsTorch(python: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return new Promise((resolve) => {
    // In the package's folder: `-c` puts the working directory first on sys.path (a repository's `torch/` must not answer).
    execFile(python, ['-c', 'import torch'], { env, cwd: pythonPackageRoot(), timeout: 120_000 }, (err) => resolve(!err));
  });
}

/** The interpreter to run: `trainer.python` when set, else /usr/bin/python3 when it imports torch, else `python3`. */
export async function resolvePython(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (configured) return configured;
  return (await importsTorch(DEBIAN_PYTHON, env)) ? DEBIAN_PYTHON : 'python3';
}

/** The message for an interpreter without torch (the user's two ways out). */
export function noTorchMessage(python: string): string {
  return `${python} has no torch: apt-get install python3-torch or set trainer.python`;
}

/** Prefix of the temporary folders holding a launched job's stdout/stderr (and its pid, in `pid`). */
const LOG_DIR_PREFIX = 'rlens-torchrun-logs-';

/** Time a job's output folder is kept after its last write when its process is gone (its launcher may still read it). */
const LOG_DIR_KEEP_MS = 60_000;

/**
 * Removes the output folders of launched jobs whose process has ended: only the one of job `pid` when
 * given (as soon as that process is gone), else every one untouched for a minute. A job's folder is
 * removed by its launcher when the job ends; a window reload loses that launcher while the job keeps
 * running, so the re-attached watcher (src/extension/training/detachedRun.ts) and every new launch sweep what is
 * left. A folder without a pid file yet is left alone.
 */
export function removeEndedTorchrunLogs(pid?: number, tmp: string = os.tmpdir()): void {
  let names: string[];
  try {
    names = fs.readdirSync(tmp).filter((n) => n.startsWith(LOG_DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(tmp, name);
    try {
      const owner = Number(readBoundedTextSync(path.join(dir, 'pid'), 'pid'));
      if (!Number.isInteger(owner) || owner <= 0 || isPidAlive(owner)) continue;
      if (
        pid !== undefined ? owner !== pid : Date.now() - Math.max(...fs.readdirSync(dir).map((f) => fs.statSync(path.join(dir, f)).mtimeMs)) < LOG_DIR_KEEP_MS
      )
        continue;
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // No pid file yet, or removed meanwhile.
    }
  }
}

/** The bootstrap that runs a module with the bundled package first on sys.path and never the working directory. */
export const BOOTSTRAP = 'rlens_bootstrap.py';

/**
 * The launcher's command line (after the interpreter). Both torchrun and every rank start by the absolute
 * path of python/rlens_bootstrap.py, never with `python -m` (which puts the working directory, the
 * config's folder, first on sys.path: a repository's `retrieval_lens/` would shadow ours).
 */
export function torchrunArgs(job: TorchrunJob, pythonRoot: string = pythonPackageRoot()): string[] {
  const bootstrap = path.join(pythonRoot, BOOTSTRAP);
  return [
    bootstrap,
    // torch.distributed.run (torchrun) with Debian's torch 1.13 / Python 3.11 fix (python/retrieval_lens/launch.py).
    'retrieval_lens.launch',
    // One machine: launch.py's `rlens-local` rendezvous (FileStores in a private folder), no TCP store on any interface.
    '--standalone',
    '--nnodes',
    '1',
    '--nproc_per_node',
    String(job.trainer.nprocPerNode),
    bootstrap,
    job.trainer.module,
    path.resolve(job.configPath),
    ...(job.runsRoot ? ['--out', path.resolve(job.runsRoot)] : []),
    ...(job.steps !== undefined ? ['--steps', String(job.steps)] : []),
    ...job.overrides.flatMap((o) => ['--set', o]),
  ];
}

export interface TorchrunJob {
  configPath: string;
  overrides: string[];
  steps?: number;
  /** Folder for run folders (default: the config's output.runsDir). */
  runsRoot?: string;
  /** The config's `trainer` section. */
  trainer: TrainerConfig;
}

export interface TorchrunOptions {
  /** Output of torchrun and its ranks, chunk by chunk. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
  stopGraceMs?: number;
  /** Folder put first on PYTHONPATH (default pythonPackageRoot()): it must hold retrieval_lens (the launcher). */
  pythonRoot?: string;
  /** Planned steps when meta.json has none (totalSteps null). */
  totalStepsHint?: number;
}

/** Reads the new text of a growing file from an offset. */
class FileTail {
  private offset = 0;
  constructor(readonly file: string) {}
  read(): string {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return '';
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return '';
      const buf = Buffer.alloc(size - this.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      return buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Splits a stream into complete lines, keeping the last `max` (plus the partial one). */
class Lines {
  private partial = '';
  private tail: string[] = [];
  constructor(private readonly max: number) {}
  /** Complete lines of `chunk` (with what was pending). */
  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    const lines = parts.map((l) => l.replace(/\r$/, ''));
    for (const l of lines) if (l.trim() !== '') this.tail.push(l.trimEnd());
    if (this.tail.length > this.max) this.tail = this.tail.slice(-this.max);
    return lines;
  }
  last(): string[] {
    return [...this.tail, ...(this.partial.trim() !== '' ? [this.partial.trimEnd()] : [])].slice(-this.max);
  }
}

/** Why a Python process ended before its run line, when its stderr tells (no torch). */
function pythonProblem(python: string, stderr: string[]): string | null {
  return stderr.some((l) => /No module named '?torch(\.distributed(\.run)?)?'?(?![\w.])/.test(l)) ? noTorchMessage(python) : null;
}

/**
 * Start the PyTorch trainer for `job` and follow its run folder. `onMessage` receives the same
 * messages as from the built-in trainer: `ready` (the `run:` line came), `started` (meta.json read:
 * examples and badLines are 0, the PyTorch trainer logs its data counts as log events), every
 * `step`, `eval` and `log` event of events.jsonl in file order, and `done` from the final meta.json.
 */
export function startTorchrunTrainer(job: TorchrunJob, onMessage: (m: FromTrainer) => void, opts: TorchrunOptions = {}): TrainingProcess {
  const env = opts.env ?? process.env;
  const startTimeoutMs = opts.startTimeoutMs ?? TORCHRUN_START_TIMEOUT_MS;
  const stopGraceMs = opts.stopGraceMs ?? TORCHRUN_STOP_GRACE_MS;
  removeEndedTorchrunLogs();
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), LOG_DIR_PREFIX));
  const outTail = new FileTail(path.join(logDir, 'stdout.log'));
  const errTail = new FileTail(path.join(logDir, 'stderr.log'));
  const outLines = new Lines(STDERR_TAIL_LINES);
  const errLines = new Lines(STDERR_TAIL_LINES);
  /** The trainer's `error: …` lines (config or data problems before its run line), all of them. */
  const trainerErrors: string[] = [];

  let child: ChildProcess | undefined;
  let python = job.trainer.python ?? 'python3';
  let runDir: string | null = null;
  let started = false;
  let eventsOffset = 0;
  let lastStep = 0;
  let end: EndEvent | null = null;
  let failure: TrainerProcessError | null = null;
  let stopWanted = false;
  let killWanted = false;
  let finished = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let startTimer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;

  const signalGroup = (sig: NodeJS.Signals) => {
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // The group is gone already.
    }
  };

  /** Read what the process wrote and what the run folder holds now. */
  const poll = () => {
    const out = outTail.read();
    if (out) {
      opts.onOutput?.(out, 'stdout');
      for (const line of outLines.push(out)) {
        const m = /^run: (.+)$/.exec(line.trim());
        if (m && !runDir) {
          runDir = path.resolve(path.dirname(job.configPath), m[1].trim());
          clearTimeout(startTimer);
          onMessage({ type: 'ready', pid: child?.pid ?? 0 });
        }
      }
    }
    const err = errTail.read();
    if (err) {
      opts.onOutput?.(err, 'stderr');
      for (const line of errLines.push(err)) if (line.startsWith('error: ')) trainerErrors.push(line.slice('error: '.length));
    }
    if (!runDir) return;
    if (!started) {
      const meta = readMeta(runDir);
      if (!meta.ok) return;
      started = true;
      onMessage({
        type: 'started',
        runDir,
        totalSteps: meta.meta.totalSteps ?? opts.totalStepsHint ?? 0,
        backend: meta.meta.backend,
        examples: 0,
        badLines: 0,
      });
    }
    for (;;) {
      const r = tailEvents(path.join(runDir, EVENTS_FILE), eventsOffset);
      eventsOffset = r.nextOffset;
      for (const e of r.events) {
        if (e.type === 'step' && e.step > lastStep) {
          lastStep = e.step;
          onMessage({ type: 'step', event: e });
        } else if (e.type === 'log') onMessage({ type: 'log', level: e.level, message: e.message });
        else if (e.type === 'eval') {
          const metrics: Record<string, number> = {};
          for (const [k, v] of Object.entries(e.metrics)) if (typeof v === 'number' && Number.isFinite(v)) metrics[k] = v;
          onMessage({ type: 'eval', step: e.step, metrics, ...(e.heldOut ? { heldOut: e.heldOut } : {}), ...(e.quality ? { quality: e.quality } : {}) });
        } else if (e.type === 'end') end = e;
      }
      for (const bad of r.badLines) onMessage({ type: 'log', level: 'warn', message: `${EVENTS_FILE} at byte ${bad.offset}: ${bad.reason}` });
      if (!r.hasMore) break;
    }
  };

  const done = new Promise<DoneMessage | null>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(startTimer);
      clearTimeout(graceTimer);
      clearInterval(pollTimer);
      poll();
      const tail = errLines.last();
      let result: DoneMessage | null = null;
      if (spawnError) {
        const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
        failure = new TrainerProcessError(
          'spawn-failed',
          null,
          null,
          tail,
          missing ? `${python} not found: apt-get install python3-torch or set trainer.python` : spawnError.message,
        );
      } else if (!runDir && !failure && trainerErrors.length > 0) {
        // The trainer refused its config or data (exit code 2, nothing written): a failed start with the
        // config's located problems, as the built-in trainer reports them, not a process failure.
        const configPath = path.resolve(job.configPath);
        const { problems, other } = pythonConfigProblems(configPath, trainerErrors);
        const message = [...(problems.length > 0 ? [formatProblems(configPath, problems)] : []), ...other].join('\n');
        onMessage({ type: 'error', message, ...(problems.length > 0 ? { problems } : {}) });
        result = { type: 'done', status: 'failed', runDir: null, step: 0, error: { message } };
      } else if (!runDir) {
        if (!failure) {
          const noTorch = pythonProblem(python, tail);
          failure = noTorch
            ? new TrainerProcessError('spawn-failed', code, signal, tail, noTorch)
            : new TrainerProcessError('exited-before-ready', code, signal, tail);
        }
      } else {
        const s = readRun(runDir);
        if (s.status === 'completed' || s.status === 'stopped' || s.status === 'failed') {
          result = {
            type: 'done',
            status: s.status,
            runDir,
            step: s.step,
            ...(s.meta?.error ? { error: s.meta.error } : end?.error ? { error: end.error } : {}),
          };
        } else failure = new TrainerProcessError('exited', code, signal, tail);
      }
      if (result) onMessage(result);
      fs.rmSync(logDir, { recursive: true, force: true });
      resolve(result);
    };

    void (async () => {
      try {
        python = await resolvePython(job.trainer.python, env);
        if (killWanted) return finish(null, 'SIGKILL');
        const out = fs.openSync(path.join(logDir, 'stdout.log'), 'a');
        const errFd = fs.openSync(path.join(logDir, 'stderr.log'), 'a');
        const pythonRoot = opts.pythonRoot ?? pythonPackageRoot();
        child = spawn(python, torchrunArgs(job, pythonRoot), {
          cwd: path.dirname(path.resolve(job.configPath)),
          detached: true,
          stdio: ['ignore', out, errFd],
          env: { ...env, PYTHONPATH: [pythonRoot, env.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONUNBUFFERED: '1' },
        });
        fs.closeSync(out);
        fs.closeSync(errFd);
        if (child.pid) fs.writeFileSync(path.join(logDir, 'pid'), String(child.pid));
        child.on('error', (e) => finish(null, null, e));
        // A spawn failure (ENOENT) emits 'exit' before its 'error': let the error come first.
        child.on('exit', (code, signal) => setImmediate(() => finish(code, signal)));
        startTimer = setTimeout(() => {
          if (runDir || finished) return;
          failure = new TrainerProcessError('start-timeout', null, null, errLines.last(), `${startTimeoutMs / 1000} s (no "run: <folder>" line on stdout)`);
          signalGroup('SIGKILL');
        }, startTimeoutMs);
        pollTimer = setInterval(poll, POLL_MS);
        if (stopWanted) handle.stop();
      } catch (e) {
        finish(null, null, e as Error);
      }
    })();
  });

  const handle: TrainingProcess = {
    get pid() {
      return child?.pid;
    },
    processGroup: true,
    done,
    get failure() {
      return failure;
    },
    stop: () => {
      stopWanted = true;
      if (!child?.pid) return;
      signalGroup('SIGINT');
      clearTimeout(graceTimer);
      graceTimer = setTimeout(() => signalGroup('SIGKILL'), stopGraceMs);
    },
    kill: () => {
      killWanted = true;
      signalGroup('SIGKILL');
    },
  };
  return handle;
}
