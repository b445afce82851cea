import type { ConfigProblem } from '../core/config/configError';
import type { FromTrainer } from './protocol';

/**
 * Ends a job that failed, as every job of the trainer process does: `error` (the message, and a config's located
 * problems when there are), then `done` failed with the same message.
 */
export async function sendFailure(send: (m: FromTrainer) => Promise<void>, message: string, runDir: string | null, problems?: ConfigProblem[]): Promise<void> {
  await send({ type: 'error', message, ...(problems ? { problems } : {}) });
  await send({ type: 'done', status: 'failed', runDir, step: 0, error: { message } });
}
