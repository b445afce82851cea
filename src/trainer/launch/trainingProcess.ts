/**
 * What every training process is to the code that starts it (src/trainer/launch/launchTraining.ts): a
 * `TrainingProcess` whose `done` resolves with the trainer's last message, or null with a typed
 * `TrainerProcessError` in `failure` (as vscode-jupyter's kernel launcher types its exit errors): why it
 * ended without reporting the end of its job, its exit code or signal, and the last lines of its stderr.
 */
import type { TrainerKind } from '../../core/config/types';
import type { DoneMessage, FromTrainer } from '../protocol';

/** Why a trainer process ended without reporting the end of its job. */
export type TrainerFailureKind = 'start-timeout' | 'exited-before-ready' | 'exited' | 'spawn-failed';

/** Lines of stderr kept for an error message. */
export const STDERR_TAIL_LINES = 20;

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

/** A training in a background process, whatever the trainer (built-in, or torchrun): what the CLI, the extension and sweeps hold. */
export interface TrainingProcess {
  /** Which trainer runs it (the config's `trainer.kind`). */
  readonly kind: TrainerKind;
  /** Pid of the process (the process group's leader when `processGroup`); undefined before it is spawned. */
  readonly pid: number | undefined;
  /** Whether Stop/kill address a process group (torchrun and its ranks) rather than one process. */
  readonly processGroup: boolean;
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
  /** One line on a started run: the trainer, its backend, its data counts when it reports them, its steps. */
  describeStarted(m: Extract<FromTrainer, { type: 'started' }>): string;
}

/** Splits a stream into complete lines and keeps the last `max` non-blank ones (plus the partial one after them). */
export class LineTail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max: number = STDERR_TAIL_LINES) {}
  /** Adds a chunk; returns its complete lines (with what was pending), without line ends. */
  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    const complete = parts.map((l) => l.replace(/\r$/, ''));
    for (const line of complete) if (line.trim() !== '') this.lines.push(line.trimEnd());
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
    return complete;
  }
  /** The last `max` lines, the partial one included. */
  get(): string[] {
    return [...this.lines, ...(this.partial.trim() !== '' ? [this.partial.trimEnd()] : [])].slice(-this.max);
  }
}
