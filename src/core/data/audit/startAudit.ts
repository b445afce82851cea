import type { LoadedConfig } from '../../config/types';
import { auditTrainingData } from './auditData';
import { auditSummary } from './auditText';

/**
 * The run-log line of data.audit (on when training starts): the audit's summary and what it cost, or why it
 * could not run (training goes on; its own reads report data errors). The full report: `retrieval-lens audit`.
 */
export async function startAudit(loaded: LoadedConfig): Promise<string> {
  try {
    const r = await auditTrainingData(loaded);
    return `data.audit: ${auditSummary(r)} (${(r.ms / 1000).toFixed(1)} s; full report: retrieval-lens audit ${loaded.path})`;
  } catch (err) {
    return `data.audit: could not audit: ${(err as Error).message}`;
  }
}
