import { startAudit } from '../data/audit/startAudit';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../backend';
import type { ExperimentConfig, LoadedConfig } from '../config/types';
import { DataError } from '../data/errors';
import { evaluateParams } from '../eval/evaluate';
import { towerEncoder } from '../eval/encoders';
import { appendMetricsEntry, eventMetrics } from '../eval/evalOutputs';
import { resolveConfigPath } from '../config/loadConfig';
import { formatProblems } from '../config/configError';
import { withReadErrors } from '../data/load';
import { detectFormat, resolveBeirFiles, resolveDataPath } from '../data/dataPath';
import type { Example, LoadReport } from '../data/types';
import { describeExampleCount } from '../data/exampleCount';
import { CollapseMonitor } from '../metrics/collapseMonitor';
import { computeStepDiagnostics } from '../metrics/stepDiagnostics';
import { sampleStep } from '../metrics/stepSamples';
import { saveCheckpoint } from '../model/checkpoint';
import { initTwoTower } from '../model/params';
import {
  CHECKPOINTS_DIR,
  EVENT_SCHEMA_VERSION,
  RunWriter,
  writeDirAtomically,
  type LogLevel,
  type RunError,
  type StepEvent,
  type FinalRunStatus,
} from '../runs';
import { Batcher, type Batch } from './batcher';
import { BM25_PARAMS } from '../lexical';
import { featurizeExamples } from './featurizedData';
import { shareIdenticalFiles } from '../runs/sharedFiles';
import { describeMined } from './hardNegatives';
import { minedNegatives, openTrainingData } from './trainingData';
import { hyperRange } from './hyperRange';
import { assertFinite, NoNegativesError, NonFiniteError } from './nonFinite';
import { TwoTowerTrainer } from './trainStep';
import { LearnedBoundWatch, withLearnedBound } from '../metrics/learnedBoundWatch';
import { VERSION } from '../version';
import { HeldOutSchedule, prepareHeldOut, qualityVerdict, type HeldOutInfo, type HeldOutSample, type QualityVerdict } from '../quality';
import { estimateEvalMs } from '../quality/evalCost';

export interface TrainHooks {
  /** Every logged step event, as written to events.jsonl. */
  onStep?(e: StepEvent): void;
  /** A live held-out evaluation finished (its metrics, sample and quality verdict, as in the eval event). */
  onEval?(step: number, metrics: Record<string, number>, live: { heldOut: HeldOutInfo; quality: QualityVerdict }): void;
  onLog?(level: LogLevel, message: string): void;
  /** The run folder exists (called once, before the first step). */
  onRunCreated?(info: {
    runDir: string;
    totalSteps: number;
    backend: string;
    dataReport: LoadReport;
    /** data.hardNegatives: negatives mined, for how many queries, in how long (ms; recorded time on a cache hit). */
    hardNegatives?: { mined: number; queries: number; ms: number; fromCache: boolean };
  }): void;
  /** Streamed data whose start count was not exact: the first epoch has been read, with these exact counts. */
  onDataCounted?(counts: { examples: number; linesRead: number; badLines: number }): void;
  /** Polled between steps; true finishes the current step, writes the last checkpoint and stops. */
  shouldStop?(): boolean;
}

export interface TrainOptions {
  loaded: LoadedConfig;
  backend: BackendInfo;
  /** Folder for run folders; default: the config's output.runsDir resolved against the config folder. */
  runsRoot?: string;
  /** Overrides training.steps / epochs. */
  steps?: number;
  hooks?: TrainHooks;
}

export interface TrainResult {
  runDir: string;
  status: FinalRunStatus;
  step: number;
  error?: RunError;
}

/** Total steps: `steps` override, else ⌈epochs × n / B⌉ when epochs is set, else training.steps. */
function plannedSteps(opts: TrainOptions, examples: number): number {
  const t = opts.loaded.config.training;
  if (opts.steps !== undefined) return opts.steps;
  if (t.epochs !== null) return Math.max(1, Math.ceil((t.epochs * examples) / t.batchSize));
  return t.steps;
}

/** The config as run: data and output paths made absolute, so the run folder is self-contained. */
function resolvedConfig(loaded: LoadedConfig): ExperimentConfig {
  const c = loaded.config;
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolveConfigPath(loaded, p));
  return {
    ...c,
    data: {
      ...c.data,
      train: typeof c.data.train === 'string' ? abs(c.data.train)! : c.data.train.map((p) => abs(p)!),
      ...(c.data.test ? { test: abs(c.data.test) } : {}),
      ...(c.data.corpus ? { corpus: abs(c.data.corpus) } : {}),
    },
    output: { runsDir: abs(c.output.runsDir)! },
  };
}

/**
 * The held-out sample of live evaluation, or null with the reason it is off: evaluation.every 0, or "auto"
 * without data.test. A number N > 0 without data.test is an error (the user asked for it).
 */
async function liveHeldOut(loaded: LoadedConfig): Promise<{ sample: HeldOutSample | null; off: string }> {
  const cfg = loaded.config;
  const every = cfg.evaluation.every;
  if (every === 0) return { sample: null, off: 'evaluation.every is 0' };
  if (!cfg.data.test) {
    if (every === 'auto') return { sample: null, off: 'no test data (data.test is not set)' };
    throw new DataError(`evaluation.every is ${every} but data.test is not set in ${loaded.path}`, loaded.path);
  }
  return { sample: await prepareHeldOut(loaded), off: '' };
}

/**
 * Checks that data.test and data.corpus (when set) exist and are of a usable kind, before any run
 * folder is created or step taken: a typo there would otherwise only show at evaluation time.
 */
async function requireOtherDataPaths(loaded: LoadedConfig): Promise<void> {
  const d = loaded.config.data;
  if (d.test !== undefined) {
    const test = resolveDataPath(d.test, loaded.baseDir);
    if ((await detectFormat(test, d.format, 'data.test')) === 'beir') await resolveBeirFiles(test, d.testSplit, 'data.test');
  }
  if (d.corpus !== undefined) await detectFormat(resolveDataPath(d.corpus, loaded.baseDir), 'auto', 'data.corpus');
}

/** Whether a batch gives any pair at least one negative (in-batch or explicit). */
function hasNegative(negMask: Float32Array): boolean {
  for (let k = 0; k < negMask.length; k++) if (negMask[k] !== 0) return true;
  return false;
}

/** Smoothing of the in-batch recall@10 that decides the "best" checkpoint (without periodic evaluation). */
const BEST_EMA = 0.8;

const fmt3 = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(3));

/**
 * Trains a two-tower model from a config into a new run folder: loads and featurises the data, runs the
 * steps, logs a step event with full diagnostics every `logEvery` steps, writes `last` (every
 * `checkpointEvery` steps and at the end) and `best` (highest smoothed in-batch recall@10 at a
 * checkpoint) checkpoints atomically, stops on request or on a NaN / Inf, and always ends the run with
 * a final status. Data and config errors are thrown before any run folder is created.
 */
export async function runTraining(opts: TrainOptions): Promise<TrainResult> {
  const { config: cfg } = opts.loaded;
  const hooks = opts.hooks ?? {};
  const log = (level: LogLevel, message: string) => hooks.onLog?.(level, message);
  const t = cfg.training;

  const data = await openTrainingData(opts.loaded);
  await requireOtherDataPaths(opts.loaded);
  const mined = await minedNegatives(opts.loaded, data).catch(async (e: unknown) => {
    await data.source.close();
    throw e;
  });
  const minedFor = mined ? (ex: Example) => mined.byQuery.get(ex.queryId) ?? [] : undefined;
  const batcher = new Batcher(
    data.source,
    t.batchSize,
    t.maxNegativesPerExample,
    (examples) => featurizeExamples(examples, cfg.model, minedFor),
    cfg.data.maskDuplicateNegatives,
  );
  // The first batch is drawn before the run exists: data that fits the shuffle buffer is read whole
  // here, so its bad lines and size problems fail the load without a run folder, as before streaming.
  let firstBatch: Batch | null = await withReadErrors(data.report.path, 'data.train', () => batcher.next()).catch(async (e: unknown) => {
    await data.source.close();
    throw e;
  });
  const report = data.report;
  const total = plannedSteps(opts, data.source.examples);

  const live = await liveHeldOut(opts.loaded);
  const periodic = live.sample;

  const runsRoot = opts.runsRoot ?? resolveConfigPath(opts.loaded, cfg.output.runsDir);
  const writer = await RunWriter.create(runsRoot, cfg.name, resolvedConfig(opts.loaded), {
    configPath: opts.loaded.path,
    backend: opts.backend.name,
    totalSteps: total,
    versions: { node: process.versions.node, tfjs: opts.backend.tfjsVersion, retrievalLens: VERSION },
  });
  /** Logs to the run and the parent; once events.jsonl cannot be written (disk full), to the parent only. */
  let eventsBroken = false;
  const logBoth = (level: LogLevel, message: string) => {
    if (!eventsBroken) {
      try {
        writer.appendEvent({ type: 'log', level, message });
      } catch {
        eventsBroken = true;
      }
    }
    log(level, message);
  };
  hooks.onRunCreated?.({
    runDir: writer.dir,
    totalSteps: total,
    backend: opts.backend.name,
    dataReport: report,
    ...(mined ? { hardNegatives: { mined: mined.mined, queries: mined.queries, ms: mined.ms, fromCache: mined.fromCache } } : {}),
  });
  data.onEpochRead = (c) => {
    if (c.epoch !== 0 || !report.estimated) return;
    // A shape no file's first line decided (a bad first line) is named once the epoch decided it.
    const shape = !report.shape && data.report.shape ? ` (${data.report.shape.name}, ${data.report.shape.how})` : '';
    logBoth('info', `epoch 1 read: ${c.examples} training examples${shape} from ${c.linesRead} lines, ${c.badCount} bad lines`);
    for (const bad of c.badLines.slice(0, 10)) logBoth('warn', `${bad.file}:${bad.line}: ${bad.reason}`);
    hooks.onDataCounted?.({ examples: c.examples, linesRead: c.linesRead, badLines: c.badCount });
  };

  const params = initTwoTower(cfg.model, t.seed);
  const trainer = new TwoTowerTrainer(params, cfg.loss, t.learningRate);
  const boundWatch = new LearnedBoundWatch();
  let boundWarned: string | null = null;
  logBoth('info', `host embedding work on ${trainer.threads} thread${trainer.threads === 1 ? '' : 's'}`);
  const monitor = new CollapseMonitor(cfg.diagnostics?.collapse ?? {}, { totalSteps: total });
  const hyper = hyperRange(cfg.loss);
  let step = 0;
  let bestScore = -Infinity;
  const bestMetric = periodic ? 'eval recall@10 (held-out queries)' : 'inBatchRecall@10 (EMA)';
  const bestRule = periodic ? ('held-out' as const) : ('in-batch' as const);
  const schedule = periodic
    ? new HeldOutSchedule(cfg.evaluation.every, cfg.evaluation.heldOutBudget, total, periodic.prepMs, await estimateEvalMs(params, cfg.model, periodic.data))
    : null;
  /** Held-out recall@10 of each live evaluation, and the latest quality verdict. */
  const heldOutRecalls: number[] = [];
  let quality: QualityVerdict | null = null;
  let smoothedRecall: number | null = null;
  let bestWrittenScore = -Infinity;
  const tensorsAtStart = tf.memory().numTensors;

  const checkpoint = async (kind: 'last' | 'best') => {
    const rel = `${CHECKPOINTS_DIR}/${kind}`;
    const extra = {
      ...(kind === 'best' ? { metric: bestMetric, value: bestScore, rule: bestRule } : {}),
      // The learned α / δ₀ / τ₀ at this step (docs/run-format.md §7); this trainer does not resume, so no θ or Adam state.
      ...(trainer.learned.active ? { learned: trainer.learned.values() } : {}),
    };
    await writeDirAtomically(path.join(writer.dir, rel), async (dir) => {
      await saveCheckpoint(dir, params, { step, model: cfg.model, extra: { backend: opts.backend.name, ...extra } });
      // best at the step of last (checkpointBoth writes last first): identical weights share their bytes.
      if (kind === 'best' && lastCheckpointStep === step) shareIdenticalFiles(dir, path.join(writer.dir, CHECKPOINTS_DIR, 'last'));
    });
    if (kind === 'best') writer.recordCheckpoint('best', { step, path: rel, metric: bestMetric, value: bestScore, rule: bestRule });
    else {
      writer.recordCheckpoint('last', { step, path: rel });
      lastCheckpointStep = step;
    }
  };
  const checkpointBoth = async () => {
    await checkpoint('last');
    // Under the held-out rule `best` is written when an evaluation finds a new best (the weights it measured).
    if (!periodic && bestScore > bestWrittenScore) {
      bestWrittenScore = bestScore;
      await checkpoint('best');
    }
  };

  let status: FinalRunStatus = 'completed';
  let error: RunError | undefined;
  let lastCheckpointStep: number | null = null;
  let negativesSeen = false;
  /** The step being run (for the error of a failure); 0 before the first. */
  let current = 0;
  const firstEpoch = batcher.epoch;
  try {
    for (const w of opts.loaded.warnings ?? []) logBoth('warn', formatProblems(opts.loaded.path, [w]));
    if (data.indexNote) logBoth('info', `data.train: ${data.indexNote}`);
    if (mined?.notice) logBoth('warn', `hard negatives: ${mined.notice}`);
    if (mined && cfg.data.hardNegatives) logBoth('info', describeMined(mined, cfg.data.hardNegatives));
    for (const r of data.indexRejected ?? []) logBoth('warn', `data.train: line index cache not used, rebuilt: ${r}`);
    logBoth('info', `backend ${opts.backend.name}${opts.backend.skipped.length ? ` (skipped: ${opts.backend.skipped.join('; ')})` : ''}`);
    const files = report.files !== undefined && report.files > 1 ? `, ${report.files} files` : '';
    const shape = report.shape ? `: ${report.shape.name}, ${report.shape.how}` : '';
    const counts = report.estimated
      ? `${describeExampleCount(report)} from ${report.path} (${report.format}${shape}${files}, streamed, shuffle buffer ${cfg.data.shuffleBuffer})`
      : `${report.examples} training examples from ${report.path} (${report.format}${shape}${files}), ${report.badCount} bad lines${report.pairsLost ? ` (${report.pairsLost} relevant pairs lost)` : ''}`;
    const planned = report.estimated && opts.steps === undefined && t.epochs !== null ? ` (training.epochs planned on the ${report.dataLines} data lines)` : '';
    logBoth('info', `${counts}; ${total} steps of ${t.batchSize}${planned}`);
    for (const bad of report.badLines.slice(0, 10)) logBoth('warn', `${bad.file}:${bad.line}: ${bad.reason}`);
    if (cfg.data.audit) logBoth('info', await startAudit(opts.loaded));
    if (data.positiveTextNote) logBoth('info', data.positiveTextNote);
    if (periodic && schedule) {
      logBoth(
        'info',
        `held-out: ${periodic.info.description}, exact search; BM25 on the same sample recall@10 ${fmt3(periodic.bm25['recall@10'])} (the reference, computed once); prepared in ${(periodic.prepMs / 1000).toFixed(1)} s${periodic.cache ? ` (${periodic.cache})` : ''}; ${schedule.describe()}`,
      );
      for (const note of periodic.data.notes) logBoth('info', `held-out: ${note}`);
      logBoth('info', 'best checkpoint rule "held-out": the highest held-out exact recall@10 of live evaluation (data.test is set)');
    } else
      logBoth('info', `best checkpoint rule "in-batch": the highest smoothed in-batch recall@10 (EMA ${BEST_EMA}); no live held-out evaluation: ${live.off}`);
    const loopStart = performance.now();
    /** Wall time of held-out evaluation inside the loop (evaluations and the best checkpoints they write). */
    let heldOutLoopMs = 0;
    while (step < total) {
      if (hooks.shouldStop?.()) {
        status = 'stopped';
        break;
      }
      const s = step + 1;
      current = s;
      const logged = s % t.logEvery === 0 || s === 1 || s === total;
      const batch = firstBatch ?? (await batcher.next());
      firstBatch = null;
      if (batch.epoch !== firstEpoch && !negativesSeen) throw new NoNegativesError(s - 1, true);
      if (hasNegative(batch.negMask)) negativesSeen = true;
      else if (s === 1) {
        logBoth(
          'warn',
          `step 1 has no negative: every in-batch item has the positive's id and there are no explicit negatives, so the loss is 0 and nothing is learned. Check that items have distinct ids (item_id / positive.id) and that the data holds more than one item.`,
        );
      }
      const t0 = performance.now();
      const r = trainer.step(batch, logged);
      assertFinite(s, { loss: r.loss, loss_q: r.lossQ, loss_sym: r.lossSym, gradient_norm: r.gradNorm }, lastCheckpointStep);
      const stepMs = performance.now() - t0;
      step = s;
      if (logged && r.host) {
        const diagnostics = computeStepDiagnostics(
          {
            B: batch.B,
            N: batch.N,
            D: params.dims.out,
            sQV: r.host.sQV,
            sVV: r.host.sVV,
            negMask: batch.negMask,
            hyper: r.host.hyper,
            hyperKind: hyper.kind,
            hyperRange: hyper.range,
            itemEmb: r.host.itemEmb,
          },
          { effectiveRank: s === 1 || s % t.effectiveRankEvery === 0 || s === total },
        );
        const bound = r.learned ? boundWatch.update(r.learned, s) : null;
        if (bound !== null && boundWarned === null) logBoth('warn', `step ${s}: ${bound}`);
        boundWarned = bound;
        const verdict = withLearnedBound(monitor.update(diagnostics, s), bound);
        const sampled = cfg.diagnostics.stepSamples !== false ? sampleStep({ step: s, ...batch, sQV: r.host.sQV, sVV: r.host.sVV, hyper: r.host.hyper }) : null;
        const event: StepEvent = {
          v: EVENT_SCHEMA_VERSION,
          time: new Date().toISOString(),
          type: 'step',
          step: s,
          epoch: batch.epoch,
          loss: r.loss,
          lossQ: r.lossQ,
          lossSym: r.lossSym,
          lr: trainer.adam.learningRate,
          gradNorm: r.gradNorm,
          stepMs,
          examplesPerSec: (batch.B * 1000) / stepMs,
          diagnostics,
          verdict,
          ...(r.learned ? { learned: r.learned } : {}),
          ...(sampled ? { samples: sampled.samples, suspectedFalseNegatives: sampled.suspected } : {}),
        };
        writer.appendEvent(event);
        hooks.onStep?.(event);
        smoothedRecall = smoothedRecall === null ? diagnostics.recall.at10 : BEST_EMA * smoothedRecall + (1 - BEST_EMA) * diagnostics.recall.at10;
        if (!periodic) bestScore = Math.max(bestScore, smoothedRecall);
        const leaked = tf.memory().numTensors - tensorsAtStart;
        if (leaked > 0) logBoth('warn', `tensor count grew by ${leaked} since the start (step ${s})`);
      }
      writer.heartbeat(step);
      if (periodic && schedule?.due(step, performance.now() - loopStart - heldOutLoopMs)) {
        const e0 = performance.now();
        const { entry } = await evaluateParams({
          encoder: towerEncoder(params, cfg.model),
          evaluation: cfg.evaluation,
          data: periodic.data,
          step,
          checkpoint: 'in-memory',
          subset: true,
          onProgress: () => writer.heartbeat(step),
        });
        entry.bm25 = periodic.bm25;
        entry.lexical = { model: 'BM25', params: { ...BM25_PARAMS }, tokenizer: 'words (as the towers)', reused: true, buildMs: 0, searchMs: 0 };
        entry.heldOut = periodic.info;
        appendMetricsEntry(writer.dir, entry, (m) => logBoth('warn', m));
        const metrics = eventMetrics(entry);
        const recall = entry.exact!['recall@10']; // a subset evaluation always searches exactly
        heldOutRecalls.push(recall);
        const verdict = qualityVerdict({ heldOut: heldOutRecalls, bm25: periodic.bm25['recall@10'] ?? null, inBatch: smoothedRecall });
        if (verdict.state !== quality?.state) logBoth('info', `step ${step}: quality verdict ${verdict.state}: ${verdict.reason}`);
        quality = verdict;
        writer.appendEvent({ type: 'eval', step, metrics, heldOut: periodic.info, quality: verdict });
        hooks.onEval?.(step, metrics, { heldOut: periodic.info, quality: verdict });
        if (recall > bestScore) {
          bestScore = recall;
          bestWrittenScore = recall;
          await checkpoint('best');
        }
        const evalMs = performance.now() - e0;
        schedule.spent(step, evalMs);
        heldOutLoopMs += evalMs;
      }
      if (step % t.checkpointEvery === 0 && step < total) await checkpointBoth();
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (step > 0 && !negativesSeen) throw new NoNegativesError(step, false);
    if (step > 0) await checkpointBoth();
    if (schedule) {
      const trainedMs = performance.now() - loopStart - heldOutLoopMs;
      const share = schedule.spentTotalMs / Math.max(1, trainedMs);
      logBoth(
        share > cfg.evaluation.heldOutBudget ? 'warn' : 'info',
        `held-out: ${heldOutRecalls.length} evaluation${heldOutRecalls.length === 1 ? '' : 's'} took ${(schedule.spentTotalMs / 1000).toFixed(1)} s with the preparation, ${(100 * share).toFixed(1)}% of ${(trainedMs / 1000).toFixed(1)} s of training` +
          (share > cfg.evaluation.heldOutBudget && cfg.evaluation.every === 'auto'
            ? ` (over the budget of ${100 * cfg.evaluation.heldOutBudget}%: ${schedule.forcedLast ? 'no evaluation fitted in it before the last step, which was evaluated anyway' : 'an evaluation took longer than the one before'})`
            : ''),
      );
    }
  } catch (e) {
    status = 'failed';
    if (e instanceof NonFiniteError) {
      error = { message: e.message, step: e.step, quantity: e.quantity };
    } else {
      error = { message: (e as Error).message, step: current || step + 1 };
    }
    logBoth('error', error.message);
  }
  trainer.dispose();
  await data.source.close();
  if (status === 'stopped') logBoth('info', `stopped by request after step ${step}`);
  const unwritten = writer.finish(status, error);
  if (unwritten.length > 0) {
    // The run folder could not be completed (disk full): say so, and what the reader will find.
    const note = `the run folder could not be fully updated: ${unwritten.join('; ')}`;
    log('error', note);
    if (status !== 'failed') {
      status = 'failed';
      error = { message: note, step };
    }
  }
  return { runDir: writer.dir, status, step, error };
}
