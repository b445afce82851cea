/**
 * What the launcher prepares for the PyTorch trainer before torchrun starts, with the same code as the
 * built-in trainer, so both trainers evaluate and mine alike (one implementation):
 *
 * - the held-out sample of live evaluation (src/core/quality/heldOutSample.ts: ≤ heldOutQueries seeded test
 *   queries, the corpus sampled to heldOutCorpus items with every positive kept) and BM25's metrics on it, as
 *   `heldout.json`: { format, info, bm25, prepMs, queriesSource, corpusSource, notes, queries: [[id, text]], qrels: {qid: [ids]}, corpus: [[id, text]] }.
 *   The trainer encodes and scores exactly these (torch matmul top-k) and reports them as the built-in one does.
 * - BM25-mined hard negatives (data.hardNegatives; src/core/training/hardNegatives.ts, same cache beside the
 *   data), as `hardneg.json`: { format, description, notice?, items: [[id, text]], negatives: {queryId: [row]} }.
 * - the data audit (data.audit; src/core/data/audit/startAudit.ts) as its run-log line, `audit.txt`: run here
 *   once for the job rather than by every rank, with the readers training uses (every data format), so both
 *   trainers log the same line and the audit has one implementation.
 *
 * The files go to the job's private temporary folder (torchrunOutput.ts: removed when the job ends, or swept once
 * its process is gone when the launcher was lost) and are named to the trainer with `--held-out FILE`,
 * `--hard-negatives FILE` and `--audit FILE` (every rank reads them before its first step). A config that does not load, and data that
 * cannot be read, are left to the trainer (it reports its own located problems); a config problem found here
 * (data.hardNegatives on too small a corpus) ends the start, located at its key (torchrun.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig } from '../../core/config/loadConfig';
import type { LoadedConfig } from '../../core/config/types';
import { prepareHeldOut } from '../../core/quality/heldOutSample';
import { describeMined, minedBody } from '../../core/training/hardNegatives';
import { startAudit } from '../../core/data/audit/startAudit';
import { minedNegatives, openTrainingData } from '../../core/training/trainingData';

export const HELD_OUT_FORMAT = 'rlens-heldout-1';
export const HARDNEG_FORMAT = 'rlens-hardneg-job-1';

/** Whether the trainer evaluates live (the rule of trainLoop.ts: every ≠ 0 and data.test set). */
function liveHeldOut(loaded: LoadedConfig): boolean {
  return loaded.config.evaluation.every !== 0 && loaded.config.data.test !== undefined;
}

/**
 * Prepares the held-out sample and the mined negatives of `configPath` with `overrides` into `dir` (see the
 * module comment); returns the trainer's arguments naming them.
 */
export async function prepareTorchrun(configPath: string, overrides: readonly string[], dir: string): Promise<string[]> {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(configPath, [...overrides]);
  } catch {
    return []; // the trainer refuses it with its own located problems
  }
  const args: string[] = [];
  if (loaded.config.data.hardNegatives !== undefined) {
    const data = await openTrainingData(loaded);
    try {
      const mined = await minedNegatives(loaded, data);
      if (mined) {
        const file = path.join(dir, 'hardneg.json');
        const doc = {
          format: HARDNEG_FORMAT,
          description: describeMined(mined, loaded.config.data.hardNegatives!),
          ...(mined.notice ? { notice: mined.notice } : {}),
          ...minedBody(mined),
        };
        fs.writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
        args.push('--hard-negatives', file);
      }
    } finally {
      await data.source.close();
    }
  }
  if (loaded.config.data.audit) {
    const file = path.join(dir, 'audit.txt');
    fs.writeFileSync(file, await startAudit(loaded), { mode: 0o600 });
    args.push('--audit', file);
  }
  if (liveHeldOut(loaded)) {
    const t0 = performance.now();
    const sample = await prepareHeldOut(loaded);
    const file = path.join(dir, 'heldout.json');
    const qrels: Record<string, string[]> = {};
    for (const q of sample.data.queries) qrels[q.id] = [...(sample.data.qrels.get(q.id) ?? [])];
    const corpus: [string, string][] = [];
    for await (const batch of sample.data.corpus.batches(4096)) for (const it of batch) corpus.push([it.id, it.text]);
    const doc = {
      format: HELD_OUT_FORMAT,
      info: sample.info,
      bm25: sample.bm25,
      cache: sample.cache,
      /** For the trainer's eval/metrics.json entries (EvalEntry queries.source, corpus.source, index.notes). */
      queriesSource: sample.data.queriesSource,
      corpusSource: sample.data.corpusSource,
      notes: sample.data.notes,
      queries: sample.data.queries.map((q) => [q.id, q.text]),
      qrels,
      corpus,
      /** Wall time of the preparation (sample, BM25, this file's contents), ms: the schedule counts it as held-out time. */
      prepMs: performance.now() - t0,
    };
    fs.writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
    args.push('--held-out', file);
  }
  return args;
}
