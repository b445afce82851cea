/**
 * Evaluating a run's checkpoint with Faiss in a trainer process (startEvaluation), one at a time,
 * under a cancellable progress notification that names each phase (loading, encoding, building the
 * index, searching, triage). Publishes the finished evaluation for the Failing Queries tree.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { EvalEntry } from '../../core/eval/types';
import { startEvaluation, type TrainerHandle } from '../../trainer/client';
import type { EvalPhase, FromTrainer } from '../../trainer/protocol';
import { EVAL_PHASES } from '../../trainer/protocol';
import { evaluationSummary } from './evaluationSummary';
import { formatStat } from '../shared/lensText';

const PHASE_TITLES: Record<EvalPhase, string> = {
  load: 'Loading the checkpoint and data',
  'encode-corpus': 'Encoding the corpus',
  'encode-queries': 'Encoding the queries',
  'build-index': 'Building the Faiss index',
  search: 'Searching',
  bm25: 'BM25 baseline',
  triage: 'Triaging failing queries',
};

/** A finished evaluation. */
export interface Evaluated {
  runDir: string;
  entry: EvalEntry;
  failuresFile: string;
}

export class EvaluationController implements vscode.Disposable {
  private handle: TrainerHandle | undefined;
  private runDir: string | undefined;
  private readonly evaluated = new vscode.EventEmitter<Evaluated>();
  readonly onDidEvaluate = this.evaluated.event;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  get busy(): boolean {
    return !!this.handle;
  }

  /** Evaluate `runDir`; resolves with the result, or null when it failed or was cancelled. */
  evaluate(runDir: string): Thenable<Evaluated | null> {
    if (this.handle) {
      void vscode.window.showWarningMessage(`Retrieval Lens: an evaluation of ${path.basename(this.runDir ?? '')} is already running.`);
      return Promise.resolve(null);
    }
    const title = `Evaluating ${path.basename(runDir)}`;
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      (progress, token) =>
        new Promise<Evaluated | null>((resolve) => {
          let result: Evaluated | null = null;
          let failed: string | null = null;
          let reported = 0;
          this.runDir = runDir;
          this.log.info(`evaluating ${runDir}`);
          const handle = startEvaluation(
            { runDir },
            (m: FromTrainer) => {
              switch (m.type) {
                case 'progress': {
                  const phaseIndex = EVAL_PHASES.indexOf(m.phase);
                  const within = m.total > 0 ? Math.min(1, m.done / m.total) : 0;
                  const overall = ((phaseIndex + within) / EVAL_PHASES.length) * 100;
                  progress.report({
                    message: `${PHASE_TITLES[m.phase]}${m.total > 1 ? ` ${m.done}/${m.total}` : ''}…`,
                    increment: Math.max(0, overall - reported),
                  });
                  reported = Math.max(reported, overall);
                  break;
                }
                case 'log':
                  this.log[m.level === 'warn' ? 'warn' : m.level === 'error' ? 'error' : m.level === 'debug' ? 'debug' : 'info'](m.message);
                  break;
                case 'error':
                  failed = m.message;
                  this.log.error(m.message);
                  break;
                case 'evaluated':
                  result = { runDir: m.runDir, entry: m.entry, failuresFile: m.failuresFile };
                  this.log.info(
                    `evaluated ${m.runDir}: ${m.entry.exact ? 'exact' : (m.entry.failures.search ?? 'ANN')} ${Object.entries(m.entry.exact ?? m.entry.ann ?? {})
                      .map(([k, v]) => `${k} ${formatStat(v)}`)
                      .join(', ')}; ${evaluationSummary(m.entry)}`,
                  );
                  break;
                case 'done':
                  if (m.status === 'failed' && !failed) failed = m.error?.message ?? 'the evaluation failed';
                  break;
                default:
                  break;
              }
            },
            {
              onInvalid: (reason) => this.log.warn(`ignored an invalid evaluator message: ${reason}`),
              onOutput: (chunk, stream) => {
                for (const line of chunk.split('\n')) if (line.trim() !== '') this.log.info(`[evaluator ${stream}] ${line.trimEnd()}`);
              },
            },
          );
          this.handle = handle;
          const cancel = token.onCancellationRequested(() => {
            this.log.info('evaluation cancelled');
            handle.stop();
          });
          void handle.done.then((done) => {
            cancel.dispose();
            this.handle = undefined;
            this.runDir = undefined;
            if (result) {
              this.evaluated.fire(result);
            } else if (!token.isCancellationRequested) {
              const why = failed ?? (done ? `ended as ${done.status}` : (handle.failure?.message ?? 'the evaluator exited unexpectedly'));
              if (!done && handle.failure) this.log.error(handle.failure.message);
              void vscode.window
                .showErrorMessage(`Retrieval Lens: evaluation of ${path.basename(runDir)} failed: ${why.split('\n')[0]}`, 'Show Log')
                .then((c) => {
                  if (c) this.log.show(true);
                });
            }
            resolve(result);
          });
        }),
    );
  }

  dispose(): void {
    this.handle?.stop();
    this.evaluated.dispose();
  }
}
