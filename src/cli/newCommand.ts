import * as fs from 'fs';
import * as path from 'path';
import { inspectData, newExperimentText, suggestedName, writeNewExperiment, type DataFinding } from '../core/config/newExperiment';
import { say, terminalSafe } from './terminalText';

export interface NewOptions {
  train: string;
  test?: string;
  corpus?: string;
  name?: string;
  /** Config file to write (default `<name>.rlens.json` in the current folder). */
  out?: string;
  steps?: number;
  force: boolean;
}

/**
 * `retrieval-lens new --train … [--test …] [--corpus …]`: detect the data (core/config/newExperiment.ts),
 * print what was found, and write a config that trains as it is. A BEIR training folder with a test split
 * is also the test data unless --test says otherwise. Refuses an existing file without --force (exit 2).
 */
export async function newCommand(o: NewOptions): Promise<number> {
  const train = await inspectData(path.resolve(o.train), 'train');
  let test: DataFinding | undefined;
  if (o.test) test = await inspectData(path.resolve(o.test), 'test');
  else if (train.format === 'beir' && train.splits?.includes('test')) test = await inspectData(train.path, 'test');
  const corpus = o.corpus ? await inspectData(path.resolve(o.corpus), 'corpus') : undefined;
  const name = o.name ?? suggestedName(train.path);
  const out = path.resolve(o.out ?? `${name}.rlens.json`);
  if (!out.endsWith('.rlens.json')) throw new Error(`--out must name a *.rlens.json file (the extension finds experiments by that suffix), got ${out}`);
  say(`train:  ${terminalSafe(train.path)}\n        ${terminalSafe(train.description)}`);
  if (test) say(`test:   ${terminalSafe(test.path)}\n        ${terminalSafe(test.description)}`);
  else say('test:   none (no evaluation until data.test is set)');
  if (corpus) say(`corpus: ${terminalSafe(corpus.path)}\n        ${terminalSafe(corpus.description)}`);
  if (fs.existsSync(out) && !o.force) {
    say(`retrieval-lens: ${terminalSafe(out)} exists already; choose another --name/--out, or --force to overwrite it`);
    return 2;
  }
  writeNewExperiment(out, newExperimentText({ name, configDir: path.dirname(out), train, test, corpus, steps: o.steps }), o.force);
  say(`wrote ${terminalSafe(out)}\ntrain it: retrieval-lens train ${terminalSafe(path.relative(process.cwd(), out) || out)}`);
  return 0;
}
