import { ConfigError } from '../core/config/configError';
import { loadConfig } from '../core/config/loadConfig';
import { auditTrainingData, type AuditProgress } from '../core/data/audit/auditData';
import type { AuditMessage, FromTrainer } from './protocol';
import { sendFailure } from './jobFailure';
import { LatestWinsThrottle } from './throttle';

/**
 * Runs a data audit job in the trainer process (the extension's "Audit Training Data", off the extension host):
 * `auditProgress` (≤ 10/s and each part's last, lines read), then `audited` (the report) and `done` completed; or `error` (located:
 * a ConfigError's problems, a DataError's file) and `done` failed. `stop` aborts the signal, which the audit
 * checks between records: it then ends with `done` stopped and no `audited`.
 */
export async function audit(msg: AuditMessage, send: (m: FromTrainer) => Promise<void>, stop: AbortSignal): Promise<void> {
  const progress = new LatestWinsThrottle<AuditProgress>(100, (p) => void send({ type: 'auditProgress', ...p }));
  let part: AuditProgress['part'] | null = null;
  const onProgress = (p: AuditProgress): void => {
    if (p.part !== part) progress.flush(); // each part's last count is sent
    part = p.part;
    progress.push(p);
  };
  try {
    const report = await auditTrainingData(loadConfig(msg.configPath, msg.overrides), { signal: stop, onProgress });
    progress.flush();
    await send({ type: 'audited', report });
    await send({ type: 'done', status: 'completed', runDir: null, step: 0 });
  } catch (e) {
    progress.flush();
    if (stop.aborted) {
      await send({ type: 'done', status: 'stopped', runDir: null, step: 0 });
      return;
    }
    await sendFailure(send, (e as Error).message, null, e instanceof ConfigError ? e.problems : undefined);
  }
}
