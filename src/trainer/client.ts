/**
 * Parent side of the trainer protocol: forks the trainer process, validates what it sends and hands
 * typed messages to a listener. Used by the CLI and the extension.
 */
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseFromTrainer, type EvaluateMessage, type ExportEmbeddingsMessage, type FromTrainer, type StartMessage, type ToTrainer } from './protocol';

/** The trainer entry: the webpack bundle beside this file, else the TypeScript source run through tsx. */
export function trainerEntry(): { file: string; execArgv: string[] } {
  const bundled = path.join(__dirname, 'trainer.js');
  if (fs.existsSync(bundled)) return { file: bundled, execArgv: [] };
  return { file: path.join(__dirname, 'main.ts'), execArgv: ['--import', 'tsx'] };
}

export interface TrainerHandle {
  readonly child: ChildProcess;
  /** Ask for a graceful stop (checkpoint, status "stopped"). */
  stop(): void;
  /** SIGKILL, no checkpoint: the run is later read as crashed. */
  kill(): void;
  /** Resolves with the 'done' message, or null when the process exited without one (crash, kill). */
  readonly done: Promise<Extract<FromTrainer, { type: 'done' }> | null>;
}

export interface TrainerOptions {
  onInvalid?: (reason: string) => void;
  stderr?: (chunk: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Forks a trainer and sends it `start`. `onMessage` gets every valid message; invalid ones go to `onInvalid`. */
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
export function startEmbeddingExport(job: Omit<ExportEmbeddingsMessage, 'type'>, onMessage: (m: FromTrainer) => void, opts: TrainerOptions = {}): TrainerHandle {
  return forkJob({ type: 'exportEmbeddings', ...job }, onMessage, opts);
}

function forkJob(job: ToTrainer, onMessage: (m: FromTrainer) => void, opts: TrainerOptions): TrainerHandle {
  const entry = trainerEntry();
  const child = fork(entry.file, [], { execArgv: entry.execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: opts.env ?? process.env });
  child.stdout?.on('data', (d: Buffer) => opts.stderr?.(d.toString()));
  child.stderr?.on('data', (d: Buffer) => opts.stderr?.(d.toString()));
  let doneMsg: Extract<FromTrainer, { type: 'done' }> | null = null;
  const done = new Promise<Extract<FromTrainer, { type: 'done' }> | null>((resolve) => {
    child.on('exit', () => resolve(doneMsg));
  });
  child.on('message', (raw: unknown) => {
    const parsed = parseFromTrainer(raw);
    if (!parsed.ok) return opts.onInvalid?.(parsed.reason);
    if (parsed.value.type === 'done') doneMsg = parsed.value;
    onMessage(parsed.value);
  });
  child.send(job);
  return {
    child,
    done,
    stop: () => {
      if (child.connected) child.send({ type: 'stop' });
    },
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
