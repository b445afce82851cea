/**
 * Two really trained and evaluated tiny runs over the bundled shop data (wasm backend, ~40 steps each) that
 * differ in their loss config: adaptive softmax (the default) and fixed margin δ = 0.3. Used by the
 * comparison tests (CLI and the webview); each caller gets its own temp folder.
 */
import * as fs from 'fs';
import { initBackend } from '../../src/core/backend';
import { parseConfigText } from '../../src/core/config';
import { evaluateRun } from '../../src/core/eval/evaluateRun';
import { runTraining } from '../../src/core/training/trainLoop';
import { SHOP_CORPUS, SHOP_TEST, smallExperiment } from './smallExperiment';

export interface TrainedPair {
  /** Temp folders (remove when done). */
  tempDirs: string[];
  /** [adaptive softmax run, fixed margin run]. */
  runDirs: [string, string];
}

export async function trainComparedRuns(steps = 40): Promise<TrainedPair> {
  const backend = await initBackend('wasm');
  const data = { test: SHOP_TEST, corpus: SHOP_CORPUS };
  // The default live held-out evaluation ("auto") runs too: the comparison draws it apart from the full evaluation.
  const evaluation = { index: { type: 'Flat' }, lexicalBaseline: true };
  const a = smallExperiment({ data, evaluation, training: { steps } });
  const b = smallExperiment({ data, evaluation, training: { steps }, loss: { type: 'margin', adaptive: false, margin: 0.3 } });
  const runDirs: string[] = [];
  for (const e of [a, b]) {
    const loaded = parseConfigText(fs.readFileSync(e.config, 'utf8'), e.config);
    const { runDir } = await runTraining({ loaded, backend, runsRoot: e.runs });
    await evaluateRun({ runDir });
    runDirs.push(runDir);
  }
  return { tempDirs: [a.dir, b.dir], runDirs: runDirs as [string, string] };
}
