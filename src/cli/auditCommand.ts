import { ConfigError } from '../core/config/configError';
import { loadConfig } from '../core/config/loadConfig';
import { auditTrainingData } from '../core/data/audit/auditData';
import { auditReportLines } from '../core/data/audit/auditText';
import { DataError } from '../core/data/errors';
import { terminalSafe, terminalSafeLines, warn } from './terminalText';

export interface AuditArgs {
  config: string;
  json: boolean;
  set: string[];
  sharedPositiveMin?: number;
}

/**
 * `retrieval-lens audit <config> [--json] [--shared N]`: the data audit of the config's training data
 * (src/core/data/audit/), as text or JSON. Exit 0 when the data could be read (findings or not); 2 for a
 * config or data error (located).
 */
export async function auditCommand(args: AuditArgs): Promise<number> {
  try {
    const loaded = loadConfig(args.config, args.set);
    const report = await auditTrainingData(loaded, args.sharedPositiveMin !== undefined ? { sharedPositiveMin: args.sharedPositiveMin } : {});
    // Each report line escaped on its own: an id holding a line break cannot forge a line. JSON strings hold
    // no raw line break, so its lines are escaped the same way and stay valid JSON.
    if (args.json) console.log(terminalSafeLines(JSON.stringify(report, null, 2)));
    else console.log(auditReportLines(report).map(terminalSafe).join('\n'));
    return 0;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof DataError) {
      warn(`retrieval-lens: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
