/**
 * The training data of a config, opened for reading epoch by epoch: a BEIR folder loaded whole, files
 * (one, a glob or shards, plain or gzip) indexed and streamed; and the hard negatives mined for it
 * (data.hardNegatives, hardNegatives.ts). Training reads it; evaluation reads it once for term coverage.
 */
import type { DataConfig, LoadedConfig } from '../config/types';
import { configErrorAt } from '../config/loadConfig';
import { DataError } from '../data/errors';
import { loadCorpus, loadExamples, withReadErrors } from '../data/load';
import { InMemoryExamples, StreamedExamples, type EpochCounts, type ExampleSource } from '../data/exampleStream';
import { dataPathList, describeDataPath, isGlob, resolveDataFiles } from '../data/trainFiles';
import { detectFormat, resolveBeirFiles, resolveDataPath } from '../data/dataPath';
import type { LoadReport } from '../data/types';
import { withCorpusPositives } from '../data/audit/corpusPositives';
import { hardNegativesFor, type MinedNegatives } from './hardNegatives';

/** The training data as a source of epochs, and its report so far. */
export interface TrainingData {
  source: ExampleSource;
  report: LoadReport;
  /** Streamed files: how their line indexes were obtained ("line index cached" / "line index built in 2.1 s"). */
  indexNote: string | null;
  /** Index caches found but not used (corrupt or forged), each with why: warned about, then rebuilt. */
  indexRejected?: string[];
  /** Set by the training loop: where the counts of each epoch read go (logging). */
  onEpochRead: ((c: EpochCounts) => void) | null;
  /** The files read (every training file; a BEIR folder's corpus, queries and qrels), and the BEIR folder. */
  files: string[];
  beirFolder: string | null;
  /** data.positiveText "corpus": what the positives are trained on (logged at the start). */
  positiveTextNote?: string;
}

/**
 * Opens data.train: a BEIR folder is loaded (its qrels pairs need the corpus and queries in memory);
 * files — one, a glob or a list of shards, plain or gzip — are indexed and streamed.
 */
export async function openTrainingData(loaded: LoadedConfig): Promise<TrainingData> {
  const data = await openTrainingLines(loaded);
  const { source, note } = await withCorpusPositives(loaded, data.source);
  data.source = source;
  if (note !== null) data.positiveTextNote = note;
  return data;
}

/** data.train as its lines give it (openTrainingData adds data.positiveText). */
async function openTrainingLines(loaded: LoadedConfig): Promise<TrainingData> {
  const d: DataConfig = loaded.config.data;
  const t = loaded.config.training;
  const entries = dataPathList(d.train);
  const single = entries.length === 1 && !isGlob(entries[0], loaded.baseDir) ? resolveDataPath(entries[0], loaded.baseDir) : null;
  if (single !== null && (d.format === 'beir' || (await detectFormat(single, d.format, 'data.train')) === 'beir')) {
    const { examples, report } = await loadExamples({
      path: single,
      format: d.format,
      ...(d.fields ? { fields: d.fields } : {}),
      split: d.trainSplit,
      maxBadLineShare: d.maxBadLineShare,
      baseDir: loaded.baseDir,
      label: 'data.train',
    });
    const beir = await resolveBeirFiles(single, d.trainSplit, 'data.train');
    return {
      source: new InMemoryExamples(examples, t.seed),
      report,
      indexNote: null,
      onEpochRead: null,
      files: [beir.corpus, beir.queries, beir.qrels],
      beirFolder: single,
    };
  }
  if (d.format === 'beir') throw new DataError(`data.format "beir" needs one BEIR folder as data.train, not a list or glob`, loaded.path);
  const files = await resolveDataFiles(d.train, { baseDir: loaded.baseDir, format: d.format, label: 'data.train' });
  const describe = describeDataPath(d.train, loaded.baseDir);
  const data: TrainingData = {
    source: null as unknown as ExampleSource,
    report: { path: describe, format: files[0].format, examples: 0, badCount: 0, badLines: [], linesRead: 0, files: files.length, estimated: true },
    indexNote: null,
    onEpochRead: null,
    files: files.map((f) => f.file),
    beirFolder: null,
  };
  let opened: StreamedExamples | null = null;
  const stream = await withReadErrors(describe, 'data.train', () =>
    StreamedExamples.open(files, {
      seed: t.seed,
      shuffleBuffer: d.shuffleBuffer,
      maxBadLineShare: d.maxBadLineShare,
      describe,
      ...(d.fields ? { fields: d.fields } : {}),
      label: 'data.train',
      onEpochRead: (c) => {
        if (c.epoch === 0) {
          const shape = opened?.shape; // the stream itself: data.source may wrap it (data.positiveText)
          data.report = {
            ...data.report,
            examples: c.examples,
            badCount: c.badCount,
            badLines: c.badLines,
            linesRead: c.linesRead,
            estimated: false,
            ...(shape ? { shape } : {}),
          };
        }
        data.onEpochRead?.(c);
      },
    }),
  );
  data.source = stream;
  opened = stream;
  const built = stream.indexes.filter((i) => !i.built.fromCache);
  const ms = built.reduce((sum, i) => sum + i.built.ms, 0);
  data.indexNote =
    built.length === 0
      ? 'line index cached'
      : `line index built for ${built.length} of ${stream.indexes.length} file${stream.indexes.length === 1 ? '' : 's'} in ${(ms / 1000).toFixed(1)} s`;
  data.indexRejected = built.flatMap((i) => i.built.rejected);
  data.report.examples = stream.examples;
  data.report.dataLines = stream.dataLines;
  data.report.onePairPerLine = stream.onePairPerLine;
  const shape = stream.shape;
  if (shape) data.report.shape = shape;
  return data;
}

/**
 * data.hardNegatives: the mined negatives of the training queries (cached; see hardNegatives.ts). The
 * corpus mined from is data.corpus, else a BEIR training folder's corpus.jsonl, else the training positives;
 * one too small to give a query perQuery negatives after skipTop is an error at data.hardNegatives.
 */
export async function minedNegatives(loaded: LoadedConfig, data: TrainingData): Promise<MinedNegatives | null> {
  const d = loaded.config.data;
  const params = d.hardNegatives;
  if (!params) return null;
  const corpusPath = d.corpus !== undefined ? resolveDataPath(d.corpus, loaded.baseDir) : data.beirFolder;
  const corpusFile = d.corpus !== undefined ? corpusPath : data.beirFolder ? data.files[0] : null;
  const need = params.perQuery + params.skipTop + 1;
  const mined = await hardNegativesFor({
    params,
    examples: () => data.source.epoch(0),
    corpus: corpusPath
      ? async () => {
          const { items } = await loadCorpus({ path: corpusPath, label: d.corpus !== undefined ? 'data.corpus' : 'data.train', baseDir: loaded.baseDir });
          return { items, source: corpusFile! };
        }
      : null,
    files: [...new Set([...data.files, ...(corpusFile ? [corpusFile] : [])])],
    cacheBeside: data.files[0],
  });
  if (mined.corpusItems < need) {
    throw configErrorAt(
      loaded,
      ['data', 'hardNegatives'],
      `the corpus to mine from (${mined.corpusSource}) has ${mined.corpusItems} items; perQuery ${params.perQuery} + skipTop ${params.skipTop} needs at least ${need}` +
        (corpusFile ? '' : ': set data.corpus to the items to retrieve from'),
    );
  }
  return mined;
}
