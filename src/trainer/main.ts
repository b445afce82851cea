/**
 * The background trainer process. Started with child_process.fork by the extension or the CLI; speaks
 * only the messages of ./protocol. One job per process ('start', 'evaluate', 'exportEmbeddings' or 'audit');
 * 'stop' (or SIGINT/SIGTERM) finishes the current step, writes the last checkpoint and ends the run as
 * "stopped" (an evaluation stops between phases, an audit between records).
 */
import { ConfigError } from '../core/config/configError';
import { loadConfig } from '../core/config/loadConfig';
import type { StepEvent } from '../core/runs/eventSchema';
import { exampleCountKind } from '../core/data/exampleCount';
import { parseToTrainer, type FromTrainer, type StartMessage } from './protocol';
import { audit } from './auditJob';
import { sendFailure } from './jobFailure';
import { LatestWinsThrottle } from './throttle';

/** At most 10 step messages per second reach the parent. */
const STEP_MESSAGE_INTERVAL_MS = 100;

function send(msg: FromTrainer): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

/** Aborted by a stop message, SIGINT/SIGTERM or a lost parent: jobs take its signal (the audit) or poll it. */
const stopController = new AbortController();
function requestStop(): void {
  stopController.abort(new Error('stopped'));
}
const stopRequested = (): boolean => stopController.signal.aborted;
let started = false;
/** Set by a start message with outliveParent: a closed IPC channel does not stop the run. */
let outliveParent = false;

async function train(msg: StartMessage): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(msg.configPath, msg.overrides);
  } catch (e) {
    await sendFailure(send, (e as Error).message, null, e instanceof ConfigError ? e.problems : undefined);
    return;
  }
  const steps = new LatestWinsThrottle<StepEvent>(STEP_MESSAGE_INTERVAL_MS, (event) => void send({ type: 'step', event }));
  try {
    // tfjs is loaded here, by the jobs that need it, not before `ready`: an audit job never loads it.
    const { initBackend } = await import('../core/backend');
    const { runTraining } = await import('../core/training/trainLoop');
    const backend = await initBackend(loaded.config.backend);
    const result = await runTraining({
      loaded,
      backend,
      steps: msg.steps,
      runsRoot: msg.runsRoot,
      hooks: {
        onRunCreated: (i) =>
          void send({
            type: 'started',
            runDir: i.runDir,
            totalSteps: i.totalSteps,
            backend: i.backend,
            examples: i.dataReport.examples,
            badLines: i.dataReport.badCount,
            count: exampleCountKind(i.dataReport),
            ...(i.dataReport.dataLines !== undefined ? { dataLines: i.dataReport.dataLines } : {}),
            ...(i.hardNegatives ? { hardNegatives: i.hardNegatives } : {}),
          }),
        onDataCounted: (c) => void send({ type: 'dataCounted', ...c }),
        onStep: (e) => steps.push(e),
        onEval: (step, metrics, live) => void send({ type: 'eval', step, metrics, ...live }),
        onLog: (level, message) => void send({ type: 'log', level, message }),
        shouldStop: stopRequested,
      },
    });
    steps.flush();
    await send({ type: 'done', status: result.status, runDir: result.runDir, step: result.step, error: result.error });
  } catch (e) {
    // Before a run folder existed: data or backend problems.
    steps.flush();
    await sendFailure(send, (e as Error).message, null);
  }
}

process.on('message', (raw: unknown) => {
  const parsed = parseToTrainer(raw);
  if (!parsed.ok) {
    void send({ type: 'log', level: 'warn', message: `trainer ignored a message: ${parsed.reason}` });
    return;
  }
  const msg = parsed.value;
  if (msg.type === 'stop') {
    requestStop();
    return;
  }
  if (started) {
    void send({ type: 'log', level: 'warn', message: 'trainer ignored a second start: one run per process' });
    return;
  }
  started = true;
  outliveParent = msg.type === 'start' && msg.outliveParent === true;
  const job =
    msg.type === 'start'
      ? train(msg)
      : msg.type === 'evaluate'
        ? import('./evaluateJob').then((m) => m.evaluate(msg, send, stopRequested))
        : msg.type === 'audit'
          ? audit(msg, send, stopController.signal)
          : import('./embeddingsJob').then((m) => m.exportEmbeddings(msg, send));
  void job.finally(() => {
    if (process.connected) process.disconnect();
  });
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, requestStop);
process.on('disconnect', () => {
  if (!outliveParent) requestStop();
});
// Once the parent is gone its pipes are closed: writing to them must not kill a run that outlives it.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

void send({ type: 'ready', pid: process.pid });
