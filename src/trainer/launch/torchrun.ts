/**
 * The PyTorch trainer (config `trainer.kind: "torchrun"`) as a TrainingProcess: its command line
 * (torchrunArgs.ts) runs in its own process group (processGroup.ts) with the config's folder as working
 * directory; its output goes to files (torchrunOutput.ts) where the `run: <folder>` line it prints names
 * the run folder, which is then followed (runFolderRelay.ts) for the same typed messages as the built-in
 * trainer's IPC (src/trainer/protocol.ts: ready, started, step, eval, log, done).
 *
 * Process handling as src/trainer/client.ts (kernel-launcher style): the `run:` line must come within a
 * start timeout; a process that ends without a final status in meta.json becomes a TrainerProcessError
 * with its exit code or signal and the last lines of its stderr. Stop is SIGINT to the whole process
 * group (torchrun's agent and every rank: the step finishes, the last checkpoint is written, status
 * "stopped"), then SIGKILL after a grace period. The final status is read from meta.json, never from
 * torchrun's exit code (the launcher exits 130 after a SIGINT even when every rank stopped cleanly).
 */
import * as path from 'path';
import { ConfigError, formatProblems } from '../../core/config/configError';
import { DataError } from '../../core/data/errors';
import type { DoneMessage, FromTrainer } from '../protocol';
import { pythonConfigProblems } from '../pythonConfigProblems';
import { ProcessGroup } from './processGroup';
import { RunFolderRelay } from './runFolderRelay';
import { pythonPackageRoot, pythonProblem, resolvePython, torchrunArgs, torchrunSpawnOptions, type TorchrunJob } from './torchrunArgs';
import { TorchrunOutput } from './torchrunOutput';
import { prepareTorchrun } from './torchrunPrep';
import { TrainerProcessError, type TrainingProcess } from './trainingProcess';

/** Time from spawn to the `run:` line (importing torch and starting N ranks on a busy machine takes a while). */
export const TORCHRUN_START_TIMEOUT_MS = 120_000;
/** Time from Stop (SIGINT) to SIGKILL of the process group: the step, the last checkpoint and the final meta.json. */
export const TORCHRUN_STOP_GRACE_MS = 120_000;
/** How often the output files and the run folder are read. */
const POLL_MS = 250;

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
  /** SIGINT to the process group when this process exits (default false: the run outlives its launcher). */
  stopWithParent?: boolean;
}

/** How a torchrun job ended: its `done` (from the run folder, or a refused config), else why not. */
function endOf(
  job: TorchrunJob,
  python: string,
  output: TorchrunOutput,
  relay: RunFolderRelay | null,
  exit: { code: number | null; signal: NodeJS.Signals | null; spawnError?: Error },
): { error?: Extract<FromTrainer, { type: 'error' }>; done: DoneMessage } | { failure: TrainerProcessError } {
  const tail = output.stderrTail();
  if (exit.spawnError) {
    const missing = (exit.spawnError as NodeJS.ErrnoException).code === 'ENOENT';
    const detail = missing ? `${python} not found: apt-get install python3-torch or set trainer.python` : exit.spawnError.message;
    return { failure: new TrainerProcessError('spawn-failed', null, null, tail, detail) };
  }
  if (!relay && output.trainerErrors.length > 0) {
    // The trainer refused its config or data (exit code 2, nothing written): a failed start with the
    // config's located problems, as the built-in trainer reports them, not a process failure.
    const configPath = path.resolve(job.configPath);
    const { problems, other } = pythonConfigProblems(configPath, output.trainerErrors);
    const message = [...(problems.length > 0 ? [formatProblems(configPath, problems)] : []), ...other].join('\n');
    return {
      error: { type: 'error', message, ...(problems.length > 0 ? { problems } : {}) },
      done: { type: 'done', status: 'failed', runDir: null, step: 0, error: { message } },
    };
  }
  if (!relay) {
    const noTorch = pythonProblem(python, tail);
    return {
      failure: noTorch
        ? new TrainerProcessError('spawn-failed', exit.code, exit.signal, tail, noTorch)
        : new TrainerProcessError('exited-before-ready', exit.code, exit.signal, tail),
    };
  }
  const done = relay.doneMessage();
  return done ? { done } : { failure: new TrainerProcessError('exited', exit.code, exit.signal, tail) };
}

/**
 * Start the PyTorch trainer for `job` and follow its run folder. `onMessage` receives the same
 * messages as from the built-in trainer: `ready` (the `run:` line came), `started` (meta.json read:
 * examples and badLines are 0, the PyTorch trainer logs its data counts as log events), every
 * `step`, `eval` and `log` event of events.jsonl in file order, and `done` from the final meta.json.
 */
export function startTorchrunTrainer(job: TorchrunJob, onMessage: (m: FromTrainer) => void, opts: TorchrunOptions = {}): TrainingProcess {
  const env = opts.env ?? process.env;
  const output = new TorchrunOutput();
  const group = new ProcessGroup(opts.stopGraceMs ?? TORCHRUN_STOP_GRACE_MS, opts.stopWithParent ?? false);
  let python = job.trainer.python ?? 'python3';
  let relay: RunFolderRelay | null = null;
  let failure: TrainerProcessError | null = null;
  let finished = false;
  let pollTimer: NodeJS.Timeout | undefined;

  /** Read what the process wrote and what the run folder holds now. */
  const poll = () => {
    if (output.read(opts.onOutput) && output.runLine !== null) {
      relay = new RunFolderRelay(path.resolve(path.dirname(job.configPath), output.runLine), onMessage, opts.totalStepsHint);
      group.ready();
      onMessage({ type: 'ready', pid: group.pid ?? 0 });
    }
    relay?.poll();
  };

  const done = new Promise<DoneMessage | null>((resolve) => {
    let prepared: string[] = [];
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (finished) return;
      finished = true;
      group.dispose();
      clearInterval(pollTimer);
      poll();
      // A start timeout (no run line) already said why the process ended.
      const end = failure && !relay && !spawnError ? { failure } : endOf(job, python, output, relay, { code, signal, spawnError });
      if ('failure' in end) failure = end.failure;
      else {
        if (end.error) onMessage(end.error);
        onMessage(end.done);
      }
      output.remove();
      resolve('done' in end ? end.done : null);
    };

    /** The launcher's preparation found a config problem (data.hardNegatives): a failed start with the located problem, nothing written. */
    const refuse = (e: ConfigError) => {
      finished = true;
      group.dispose();
      output.remove();
      const message = e.message;
      onMessage({ type: 'error', message, problems: e.problems });
      const done: DoneMessage = { type: 'done', status: 'failed', runDir: null, step: 0, error: { message } };
      onMessage(done);
      resolve(done);
    };

    void (async () => {
      try {
        python = await resolvePython(job.trainer.python, env);
        if (group.killed) return finish(null, 'SIGKILL');
        try {
          // The held-out sample with its BM25 reference, and mined hard negatives (torchrunPrep.ts).
          prepared = await prepareTorchrun(job.configPath, job.overrides, output.dir);
        } catch (e) {
          // A config problem found there (data.hardNegatives on too small a corpus) is located at its key. Data the
          // launcher cannot read is left to the trainer, which reads the same files and says where, after its own
          // config checks (a key it does not support is named first).
          if (e instanceof ConfigError) return refuse(e);
          if (!(e instanceof DataError)) throw e;
        }
        if (group.killed) return finish(null, 'SIGKILL');
        const fds = output.openForChild();
        const child = group.spawn(
          {
            command: python,
            args: [...torchrunArgs(job, opts.pythonRoot ?? pythonPackageRoot()), ...prepared],
            ...torchrunSpawnOptions(job, env, opts.pythonRoot ?? pythonPackageRoot()),
            stdout: fds.stdout,
            stderr: fds.stderr,
          },
          finish,
        );
        fds.close();
        if (child.pid) output.recordPid(child.pid);
        const startTimeoutMs = opts.startTimeoutMs ?? TORCHRUN_START_TIMEOUT_MS;
        group.expectReadyWithin(startTimeoutMs, () => {
          failure = new TrainerProcessError('start-timeout', null, null, output.stderrTail(), `${startTimeoutMs / 1000} s (no "run: <folder>" line on stdout)`);
        });
        pollTimer = setInterval(poll, POLL_MS);
      } catch (e) {
        finish(null, null, e as Error);
      }
    })();
  });

  return {
    kind: 'torchrun',
    get pid() {
      return group.pid;
    },
    processGroup: true,
    done,
    get failure() {
      return failure;
    },
    stop: () => {
      poll();
      group.stop(relay ? 'SIGINT' : 'SIGTERM');
    },
    kill: () => group.kill(),
    describeStarted: (m) => `torch.distributed.run, ${job.trainer.nprocPerNode} process(es) · backend ${m.backend} · ${m.totalSteps} steps`,
  };
}
