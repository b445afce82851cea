/**
 * Parent side of the trainer protocol: forks the trainer process, validates what it sends and hands
 * typed messages to a listener. Used by the CLI and the extension.
 *
 * Process handling as vscode-jupyter launches kernels: the job is sent only after the child's `ready`
 * message, which must come within a start timeout; a child that exits without reporting the end of its
 * job (or never gets ready) becomes a typed `TrainerProcessError` (launch/trainingProcess.ts) carrying
 * its exit code or signal and the last lines it wrote to stderr. A training is started through
 * launch/launchTraining.ts, which picks this trainer or torchrun by the config.
 */
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  parseFromTrainer,
  type AuditMessage,
  type DoneMessage,
  type EvaluateMessage,
  type ExportEmbeddingsMessage,
  type FromTrainer,
  type StartMessage,
  type ToTrainer,
} from './protocol';
import { LineTail, TrainerProcessError } from './launch/trainingProcess';

/** The trainer entry: the webpack bundle beside this file, else the TypeScript source run through tsx. */
export function trainerEntry(): { file: string; execArgv: string[] } {
  const bundled = path.join(__dirname, 'trainer.js');
  if (fs.existsSync(bundled)) return { file: bundled, execArgv: [] };
  return { file: path.join(__dirname, 'main.ts'), execArgv: ['--import', 'tsx'] };
}

/** How long a trainer may take from fork to its `ready` message (loading tfjs on a busy machine takes seconds). */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

export interface TrainerHandle {
  readonly child: ChildProcess;
  /** Ask for a graceful stop (checkpoint, status "stopped"). */
  stop(): void;
  /** SIGKILL, no checkpoint: the run is later read as crashed. */
  kill(): void;
  /**
   * Resolves with the 'done' message, or null when the process ended without one (crash, kill, no
   * start); `failure` then says why.
   */
  readonly done: Promise<DoneMessage | null>;
  /** Set before `done` resolves null: why the process ended without a 'done' message. */
  readonly failure: TrainerProcessError | null;
}

export interface TrainerOptions {
  onInvalid?: (reason: string) => void;
  /** Output of the trainer process, chunk by chunk, with the stream it came on. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  env?: NodeJS.ProcessEnv;
  /** Time allowed from fork to `ready` (default DEFAULT_START_TIMEOUT_MS). */
  startTimeoutMs?: number;
  /** Another entry script (tests of the process handling); default `trainerEntry()`. */
  entry?: { file: string; execArgv: string[] };
  /** Start the trainer in its own process group (with `outliveParent`, it survives its parent). */
  detached?: boolean;
}

/** Forks a trainer and, once it is ready, sends it `start`. `onMessage` gets every valid message; invalid ones go to `onInvalid`. */
export function startTrainer(start: Omit<StartMessage, 'type'>, onMessage: (m: FromTrainer) => void, opts: TrainerOptions = {}): TrainerHandle {
  return forkJob({ type: 'start', ...start }, onMessage, opts);
}

/**
 * Forks a trainer process that evaluates a run's checkpoint: `progress` messages, then `evaluated`
 * (metrics entry + failures file), then `done`. stop() cancels between phases.
 */
export function startEvaluation(job: Omit<EvaluateMessage, 'type'>, onMessage: (m: FromTrainer) => void, opts: TrainerOptions = {}): TrainerHandle {
  return forkJob({ type: 'evaluate', ...job }, onMessage, opts);
}

/** Encode a sample of a run's checkpoint, export it for the projector and optionally project it to 2-D, in a trainer process. */
export function startEmbeddingExport(
  job: Omit<ExportEmbeddingsMessage, 'type'>,
  onMessage: (m: FromTrainer) => void,
  opts: TrainerOptions = {},
): TrainerHandle {
  return forkJob({ type: 'exportEmbeddings', ...job }, onMessage, opts);
}

/**
 * Audits a config's data in a trainer process (off the caller's thread): `auditProgress` now and then,
 * `audited` (the report), then `done`. stop() cancels between records (`done` stopped, no `audited`).
 */
export function startDataAudit(job: Omit<AuditMessage, 'type'>, onMessage: (m: FromTrainer) => void, opts: TrainerOptions = {}): TrainerHandle {
  return forkJob({ type: 'audit', ...job }, onMessage, opts);
}

function forkJob(job: ToTrainer, onMessage: (m: FromTrainer) => void, opts: TrainerOptions): TrainerHandle {
  const entry = opts.entry ?? trainerEntry();
  const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const child = fork(entry.file, [], {
    execArgv: entry.execArgv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: opts.env ?? process.env,
    detached: opts.detached ?? false,
  });
  const stderrTail = new LineTail();
  child.stdout?.on('data', (d: Buffer) => opts.onOutput?.(d.toString(), 'stdout'));
  child.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    stderrTail.push(text);
    opts.onOutput?.(text, 'stderr');
  });

  let ready = false;
  let stopWanted = false;
  let doneMsg: DoneMessage | null = null;
  let failure: TrainerProcessError | null = null;
  let spawnError: Error | null = null;
  const startTimer = setTimeout(() => {
    if (ready || child.exitCode !== null || child.signalCode !== null) return;
    failure = new TrainerProcessError('start-timeout', null, null, stderrTail.get(), `${startTimeoutMs / 1000} s`);
    child.kill('SIGKILL');
  }, startTimeoutMs);

  child.on('error', (err) => {
    // fork() reports spawn failures here; the process may never exist.
    spawnError = err;
  });
  child.on('message', (raw: unknown) => {
    const parsed = parseFromTrainer(raw);
    if (!parsed.ok) return opts.onInvalid?.(parsed.reason);
    const m = parsed.value;
    if (m.type === 'ready' && !ready) {
      ready = true;
      clearTimeout(startTimer);
      if (child.connected) child.send(job);
      if (stopWanted && child.connected) child.send({ type: 'stop' });
    }
    if (m.type === 'done') doneMsg = m;
    onMessage(m);
  });

  const done = new Promise<DoneMessage | null>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(startTimer);
      if (!doneMsg && !failure) {
        const tail = stderrTail.get();
        failure = spawnError
          ? new TrainerProcessError('spawn-failed', code, signal, tail, spawnError.message)
          : new TrainerProcessError(ready ? 'exited' : 'exited-before-ready', code, signal, tail);
      }
      resolve(doneMsg);
    });
  });

  return {
    child,
    done,
    get failure() {
      return failure;
    },
    stop: () => {
      if (!ready) stopWanted = true;
      else if (child.connected) child.send({ type: 'stop' });
    },
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
