/**
 * The quality verdict's remedies as config edits: each names the settings it writes, computed from the values
 * the config has now, and is left out when it would change nothing (a remedy is never a no-op).
 *
 * - hard-negatives: data.hardNegatives = {"source": "bm25", "perQuery": 3, "skipTop": 3} (BM25-mined negatives
 *   from the training corpus, skipping the top 3 hits, which are often unlabelled positives); left out when
 *   data.hardNegatives is already set.
 * - larger-batch: training.batchSize × 2 (more and harder in-batch negatives), up to the schema's 65,536.
 * - more-steps: training.epochs × 2 when epochs is set, else training.steps × 2.
 */
import type { ExperimentConfig } from '../config/types';
import type { QualityRemedyId } from './qualityVerdict';

/** A remedy: its button label, a one-line why, and the settings it writes. */
export interface QualityRemedy {
  id: QualityRemedyId;
  label: string;
  why: string;
  settings: [path: string[], value: unknown][];
}

/** The config key of BM25-mined hard negatives (src/core/training/hardNegatives.ts: mined once before training). */
export const HARD_NEGATIVES_PATH = ['data', 'hardNegatives'];
export const HARD_NEGATIVES_SETTING = { source: 'bm25', perQuery: 3, skipTop: 3 } as const;
const MAX_BATCH = 65536;

/** The remedies of `ids` that change `cfg`, in the order given. */
export function qualityRemedies(ids: readonly QualityRemedyId[], cfg: ExperimentConfig): QualityRemedy[] {
  const out: QualityRemedy[] = [];
  for (const id of ids) {
    if (id === 'hard-negatives') {
      if (cfg.data.hardNegatives !== undefined) continue; // already mining

      out.push({
        id,
        label: 'Mine hard negatives with BM25',
        why: 'negatives that share words with the query teach what random in-batch ones no longer do',
        settings: [[HARD_NEGATIVES_PATH, { ...HARD_NEGATIVES_SETTING }]],
      });
    } else if (id === 'larger-batch') {
      const b = cfg.training.batchSize;
      if (b >= MAX_BATCH) continue;
      const next = Math.min(MAX_BATCH, b * 2);
      out.push({
        id,
        label: `Double the batch (${b} → ${next})`,
        why: 'more in-batch negatives per query, and more hard ones among them',
        settings: [[['training', 'batchSize'], next]],
      });
    } else {
      const key = cfg.training.epochs !== null ? 'epochs' : 'steps';
      const now = cfg.training[key]!;
      out.push({
        id,
        label: `Train twice as long (${now} → ${now * 2} ${key})`,
        why: 'more updates while held-out recall can still improve',
        settings: [[['training', key], now * 2]],
      });
    }
  }
  return out;
}
