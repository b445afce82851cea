/**
 * The lens above `data.hardNegatives`: what the mining cache beside the training data says (how many
 * negatives for how many queries, from which corpus, how long mining took), or that they will be mined
 * when training starts (no cache yet, or one mined with other parameters). Reads only the cache's header
 * line (readMiningHeader). No VS Code import.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseConfigText } from '../configEditor/configValidator';
import { configTree, propertySpan, type TextSpan } from '../configEditor/configAnchors';
import { dataPathList, globDataFiles, isGlob } from '../../core/data/trainFiles';
import { readMiningHeader } from '../../core/training/hardNegatives';
import { formatCount } from '../shared/lensText';

/** The file the mining cache lives beside: the first training file, or a BEIR folder's corpus.jsonl (as trainingData.ts). */
function cacheBeside(train: string | string[], baseDir: string): string | null {
  const first = dataPathList(train)[0];
  if (first === undefined) return null;
  const abs = path.isAbsolute(first) ? first : path.resolve(baseDir, first);
  if (isGlob(first, baseDir)) return globDataFiles(abs)[0] ?? null;
  try {
    return fs.statSync(abs).isDirectory() ? path.join(abs, 'corpus.jsonl') : abs;
  } catch {
    return null;
  }
}

/** Where the lens goes and its title; null when the config sets no (valid) data.hardNegatives. Never throws. */
export function hardNegativesLens(configPath: string, text: string): { at: TextSpan; title: string; tooltip: string } | null {
  let cfg;
  try {
    cfg = parseConfigText(text, configPath).config;
  } catch {
    return null;
  }
  const params = cfg.data.hardNegatives;
  const at = propertySpan(configTree(text), ['data', 'hardNegatives']);
  if (!params || !at) return null;
  const beside = cacheBeside(cfg.data.train, path.dirname(configPath));
  const found = beside ? readMiningHeader(beside) : null;
  const p = found?.header.identity.params;
  if (!found || !p || p.source !== params.source || p.perQuery !== params.perQuery || p.skipTop !== params.skipTop) {
    return {
      at,
      title: `$(search) hard negatives: mined by BM25 when training starts${found ? ' (the cache holds other parameters)' : ''}`,
      tooltip: found ? found.cacheFile : `cached beside ${beside ?? 'the training data'} as .rlens-hardneg`,
    };
  }
  const h = found.header;
  return {
    at,
    title: `$(search) ${formatCount(h.mined)} hard negatives for ${formatCount(h.queries)} queries · mined in ${(h.ms / 1000).toFixed(1)} s from ${formatCount(h.corpusItems)} items`,
    tooltip: `${found.cacheFile}\nfrom ${h.corpusSource}; rebuilt when the data or the parameters change`,
  };
}
