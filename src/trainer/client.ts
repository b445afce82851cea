/**
 * Parent side of the trainer protocol: forks the trainer process, validates what it sends and hands
 * typed messages to a listener. Used by the CLI and the extension.
 *
 * Process handling as vscode-jupyter launches kernels: the job is sent only after the child's `ready`
 * message, which must come within a start timeout; a child that exits without reporting the end of its
 * job (or never gets ready) becomes a typed `TrainerProcessError` carrying its exit code or signal and
 * the last lines it wrote to stderr.
 */
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  parseFromTrainer,
  type DoneMessage,
  type EvaluateMessage,
  type ExportEmbeddingsMessage,
  type FromTrainer,
  type StartMessage,
  type ToTrainer,
} from './protocol';

/** The trainer entry: the webpack bundle beside this file, else the TypeScript source run through tsx. */
export function trainerEntry(): { file: string; execArgv: string[] } {
  const bundled = path.join(__dirname, 'trainer.js');
  if (fs.existsSync(bundled)) return { file: bundled, execArgv: [] };
  return { file: path.join(__dirname, 'main.ts'), execArgv: ['--import', 'tsx'] };
}

/** How long a trainer may take from fork to its `ready` message (loading tfjs on a busy machine takes seconds). */
export const DEFAULT_START_TIMEOUT_MS = 60_000;
/** Lines of stderr kept for an error message. */
const STDERR_TAIL_LINES = 20;

/** Why a trainer process ended without reporting the end of its job. */
export type TrainerFailureKind = 'start-timeout' | 'exited-before-ready' | 'exited' | 'spawn-failed';

/** A trainer process that did not get ready, or exited without its `done` message. */
export class TrainerProcessError extends Error {
  override readonly name = 'TrainerProcessError';
  constructor(
    readonly kind: TrainerFailureKind,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    /** The last lines the process wrote to stderr (at most 20). */
    readonly stderrTail: string[],
    detail?: string,
  ) {
    super(TrainerProcessError.describe(kind, exitCode, signal, stderrTail, detail));
  }

  private static describe(kind: TrainerFailureKind, code: number | null, signal: NodeJS.Signals | null, tail: string[], detail?: string): string {
    const how = signal ? `was killed by ${signal}` : code !== null ? `exited with code ${code}` : 'exited';
    const head = {
      'start-timeout': `the trainer process did not get ready within ${detail ?? 'its start timeout'} and was killed`,
      'exited-before-ready': `the trainer process ${how} before it was ready`,
      exited: `the trainer process ${how} without reporting the end of its job`,
      'spawn-failed': `the trainer process could not be started: ${detail ?? 'unknown error'}`,
    }[kind];
    // The first line (what a notification shows) ends with the last stderr line; the whole tail follows.
    return tail.length > 0
      ? `${head}: ${tail[tail.length - 1]}\nthe last lines of its stderr:\n  ${tail.join('\n  ')}`
      : `${head} (it wrote nothing to stderr)`;
  }
}

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

/** A training in a background process, whatever the trainer (built-in, or torchrun): what the CLI and the extension hold. */
export interface TrainingProcess {
  /** Pid of the process (the process group's leader when `processGroup`); undefined before it is spawned. */
  readonly pid: number | undefined;
  /** Whether Stop/kill address a process group (torchrun and its ranks) rather than one process. */
  readonly processGroup: boolean;
  /** Ask for a graceful stop (checkpoint, status "stopped"). */
  stop(): void;
  /** SIGKILL, no checkpoint: the run is later read as crashed. */
  kill(): void;
  readonly done: Promise<DoneMessage | null>;
  readonly failure: TrainerProcessError | null;
}

/** The built-in trainer's handle as a TrainingProcess. */
export function trainingProcessOf(h: TrainerHandle): TrainingProcess {
  return {
    get pid() {
      return h.child.pid;
    },
    processGroup: false,
    stop: () => h.stop(),
    kill: () => h.kill(),
    done: h.done,
    get failure() {
      return h.failure;
    },
  };
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

/** Keeps the last `max` complete lines of a stream (and the partial one after them). */
class LineTail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') this.lines.push(line.trimEnd());
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
  }
  get(): string[] {
    return [...this.lines, ...(this.partial.trim() !== '' ? [this.partial.trimEnd()] : [])].slice(-this.max);
  }
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
  const stderrTail = new LineTail(STDERR_TAIL_LINES);
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
