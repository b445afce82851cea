import * as cliProgress from 'cli-progress';
import * as fs from 'fs';
import * as path from 'path';
import { RRF_K } from '../core/eval/hybrid';
import { formatNprobeCurve } from '../core/eval/nprobeCurve';
import type { EvalEntry } from '../core/eval/types';
import { CONFIG_FILE, EVENTS_FILE, META_FILE } from '../core/runs/meta';
import { startEvaluation } from '../trainer/client';
import type { FromTrainer } from '../trainer/protocol';
import { say, terminalSafeLines, warn } from './terminalText';

export interface EvalArgs {
  target: string;
  data?: string;
  checkpoint?: 'last' | 'best';
  /** A folder of precomputed embeddings to evaluate instead of a checkpoint. */
  embeddings?: string;
}

/** A run folder that cannot be evaluated: reported without the usage text (the arguments were right). */
export class EvalTargetError extends Error {}

/** A run folder, or a checkpoint folder inside one (`<run>/checkpoints/<last|best>`). */
export function resolveEvalTarget(target: string, checkpoint?: 'last' | 'best'): { runDir: string; checkpoint?: 'last' | 'best' } {
  const abs = path.resolve(target);
  if (fs.existsSync(path.join(abs, 'model.json'))) {
    const kind = path.basename(abs);
    if ((kind !== 'last' && kind !== 'best') || path.basename(path.dirname(abs)) !== 'checkpoints') {
      throw new Error(`${abs} is a checkpoint outside a run folder; evaluate its run folder instead`);
    }
    return { runDir: path.dirname(path.dirname(abs)), checkpoint: kind };
  }
  if (!fs.existsSync(path.join(abs, CONFIG_FILE))) {
    // A run folder (meta.json or events.jsonl) that lost its config: name the missing file, not the usage.
    if ([META_FILE, EVENTS_FILE].some((f) => fs.existsSync(path.join(abs, f))))
      throw new EvalTargetError(`${path.join(abs, CONFIG_FILE)}: not found; the run folder ${abs} cannot be evaluated without the config it was trained with`);
    throw new Error(`${abs} is neither a run folder nor a checkpoint folder`);
  }
  return { runDir: abs, checkpoint };
}

const pct = (x: number) => (100 * x).toFixed(1);

/**
 * The metrics table printed after an evaluation: one column per search, each headed by its name
 * ("exact", "IVF-PQ, nprobe 16", "BM25", "hybrid RRF k=60"), plus the ANN gap (exact − IVF-PQ), in percent.
 */
export function formatEvalSummary(e: EvalEntry): string {
  const keys = Object.keys(e.exact ?? e.ann ?? {});
  const lines = [
    `step ${e.step} · ${e.queries.count} queries (${e.queries.withoutRelevant} without relevant items) · ${e.corpus.count} items · index ${String(e.index.spec.type)}`,
  ];
  for (const n of e.index.notes) lines.push(`  note: ${n}`);
  if (e.exactSkipped) lines.push(`  exact search skipped: ${e.exactSkipped}; ANN gap n/a`);
  const cols: { head: string; value: (k: string) => number | string | undefined }[] = [];
  if (e.exact) cols.push({ head: e.failures.search ?? 'exact', value: (k) => e.exact?.[k] });
  if (e.ann) {
    const annHead = (e.exact ? e.annFailures?.search : e.failures.search) ?? 'ANN';
    cols.push({ head: annHead, value: (k) => e.ann?.[k] }, { head: 'ANN gap', value: (k) => (e.exact ? e.annGap?.[k] : 'n/a') });
  }
  if (e.bm25) cols.push({ head: 'BM25', value: (k) => e.bm25?.[k] });
  if (e.hybrid) cols.push({ head: `hybrid RRF k=${e.fusion?.k ?? RRF_K}`, value: (k) => e.hybrid?.[k] });
  const widths = cols.map((c) => Math.max(6, c.head.length));
  lines.push(`${'metric'.padEnd(10)}${cols.map((c, i) => `  ${c.head.padStart(widths[i])}`).join('')}`);
  for (const k of keys) {
    lines.push(
      `${k.padEnd(10)}${cols
        .map((c, i) => {
          const v = c.value(k);
          return `  ${(v === undefined ? '–' : typeof v === 'string' ? v : pct(v).trim()).padStart(widths[i])}`;
        })
        .join('')}`,
    );
  }
  for (const f of [e.failures, e.annFailures]) {
    if (!f) continue;
    const labels = Object.entries(f.byLabel)
      .filter(([, n]) => n > 0)
      .map(([l, n]) => `${l} ${n}`)
      .join(', ');
    const coverage = Object.entries(f.byCoverage ?? {})
      .filter(([, n]) => n > 0)
      .map(([g, n]) => `${g} ${n}`)
      .join(', ');
    lines.push(
      `failing queries of the ${f.search ?? 'configured'} search (no relevant item in the top ${f.k}): ${f.count}${labels ? ` — ${labels}` : ''}${f.file ? ` (eval/${f.file})` : ''}`,
    );
    if (coverage) lines.push(`  lexical-miss by the decisive term's coverage in training: ${coverage}`);
    if (f.fixedByHybrid !== undefined)
      lines.push(`  fixed by hybrid (the RRF ranking has a relevant item in the top ${f.k}): ${f.fixedByHybrid} of ${f.count}`);
  }
  if (e.nprobeCurve) lines.push(...formatNprobeCurve(e.nprobeCurve));
  lines.push(
    `encode ${(e.encodeMs / 1000).toFixed(1)} s · index build ${(e.index.buildMs / 1000).toFixed(1)} s · search ${(e.index.searchMs / 1000).toFixed(2)} s`,
  );
  if (e.lexical)
    lines.push(
      `BM25 (k1 ${e.lexical.params.k1}, b ${e.lexical.params.b}, ${e.lexical.tokenizer}): index ${e.lexical.reused ? 'reused' : `built in ${(e.lexical.buildMs / 1000).toFixed(1)} s`} · search ${(e.lexical.searchMs / 1000).toFixed(2)} s${(e.lexical.searchThreads ?? 1) > 1 ? ` on ${e.lexical.searchThreads} threads` : ''}`,
    );
  return lines.join('\n');
}

/**
 * `retrieval-lens eval <run|checkpoint> [--data FILE] [--checkpoint last|best | --embeddings DIR]` in the background
 * trainer process; with --embeddings, the precomputed query and item embeddings of DIR instead of a checkpoint.
 */
export async function evalCommand(args: EvalArgs): Promise<number> {
  const job = resolveEvalTarget(args.target, args.checkpoint);
  const bar = new cliProgress.SingleBar(
    { format: '{phase} |{bar}| {value}/{total}', noTTYOutput: true, notTTYSchedule: 5000, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let phase = '';
  let entry: EvalEntry | null = null;
  let failuresFile = '';
  const stopBar = () => phase && (bar.stop(), (phase = ''));
  const onMessage = (m: FromTrainer) => {
    if (m.type === 'progress') {
      if (m.phase !== phase) {
        stopBar();
        phase = m.phase;
        bar.start(m.total, m.done, { phase: m.phase.padEnd(14) });
      } else bar.update(m.done);
    } else if (m.type === 'log') {
      stopBar();
      say(`[${m.level}] ${m.message}`);
    } else if (m.type === 'error') {
      stopBar();
      warn(`error: ${m.message}`);
    } else if (m.type === 'evaluated') {
      entry = m.entry;
      failuresFile = m.failuresFile;
    }
  };
  const handle = startEvaluation(
    { runDir: job.runDir, checkpoint: job.checkpoint, data: args.data, ...(args.embeddings ? { embeddings: path.resolve(args.embeddings) } : {}) },
    onMessage,
    { onOutput: (s) => process.stderr.write(terminalSafeLines(s)) },
  );
  const onSigint = () => handle.stop();
  process.on('SIGINT', onSigint);
  const done = await handle.done;
  process.off('SIGINT', onSigint);
  stopBar();
  if (entry) {
    say(formatEvalSummary(entry));
    const e = entry as EvalEntry;
    say(`metrics: ${path.join(job.runDir, 'eval', 'metrics.json')}\nfailures (exact): ${failuresFile}`);
    if (e.annFailures?.file) say(`failures (${e.annFailures.search}): ${path.join(job.runDir, 'eval', e.annFailures.file)}`);
  }
  if (!done) {
    warn(`error: ${handle.failure?.message ?? 'the evaluation process ended without reporting the end of its job'}`);
    return 1;
  }
  return done.status === 'completed' ? 0 : 1;
}
