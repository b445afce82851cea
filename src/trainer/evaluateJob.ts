import { initBackend } from '../core/backend';
import { evaluateRun, loadRunConfig } from '../core/eval/evaluateRun';
import type { EvalPhase } from '../core/eval/phases';
import type { EvaluateMessage, FromTrainer } from './protocol';
import { sendFailure } from './jobFailure';
import { LatestWinsThrottle } from './throttle';

/**
 * Runs an evaluation job in the trainer process: progress (≤ 10/s), log lines, then `evaluated` and
 * `done` (status completed, or failed with the message). A stop request before the search is honoured
 * as "stopped" between phases.
 */
export async function evaluate(msg: EvaluateMessage, send: (m: FromTrainer) => Promise<void>, shouldStop: () => boolean): Promise<void> {
  const progress = new LatestWinsThrottle<{ phase: EvalPhase; done: number; total: number }>(100, (p) => void send({ type: 'progress', ...p }));
  let lastPhase: EvalPhase | null = null;
  try {
    const backend = await initBackend(loadRunConfig(msg.runDir).config.backend);
    await send({ type: 'log', level: 'info', message: `evaluating ${msg.runDir} on backend ${backend.name}` });
    const result = await evaluateRun({
      runDir: msg.runDir,
      checkpoint: msg.checkpoint,
      testPath: msg.data,
      embeddings: msg.embeddings,
      log: (message) => void send({ type: 'log', level: 'info', message }),
      onProgress: (phase, done, total) => {
        if (shouldStop()) throw new EvaluationStopped(phase);
        if (phase !== lastPhase) progress.flush();
        lastPhase = phase;
        progress.push({ phase, done, total });
      },
    });
    progress.flush();
    await send({ type: 'evaluated', runDir: msg.runDir, entry: result.entry, failuresFile: result.failuresFile });
    await send({ type: 'done', status: 'completed', runDir: msg.runDir, step: result.entry.step });
  } catch (e) {
    progress.flush();
    if (e instanceof EvaluationStopped) {
      await send({ type: 'done', status: 'stopped', runDir: msg.runDir, step: 0 });
      return;
    }
    await sendFailure(send, (e as Error).message, msg.runDir);
  }
}

class EvaluationStopped extends Error {
  constructor(phase: EvalPhase) {
    super(`evaluation stopped during ${phase}`);
  }
}
