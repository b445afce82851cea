/**
 * Sweeps and ablations in the window: "Retrieval Lens: Run Sweep…" (and the "Sweep…" lenses above
 * `margin`, `temperature`, `alpha`), "Retrieval Lens: Run Ablation". The sweep runs in this extension
 * host with the same scheduler as the CLI (src/core/experiments/scheduler.ts; background trainer
 * processes), under a progress notification with Cancel. Unfinished sweeps (a window reload ends their
 * trainers) are offered for resume on activation. A finished sweep opens `retrievalLens.showSweep`
 * (the sweep result view) when that command exists, else its summary in the "Retrieval Lens Sweeps"
 * output channel.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { ConfigError } from '../../core/config/configError';
import { loadConfig } from '../../core/config/loadConfig';
import { createSweep } from '../../core/experiments/newSweep';
import { SweepScheduler } from '../../core/experiments/scheduler';
import { ablationTable, ablationText, sweepSummaryText } from '../../core/experiments/summary';
import type { SweepFile } from '../../core/experiments/sweepFile';
import { DEFAULT_SWEEP_VALUES, formatValue, parseRange, parseValueList } from '../../core/experiments/sweepPlan';
import { ABLATION_MD } from '../../core/experiments/sweepStore';
import { unfinishedSweeps } from './unfinishedSweeps';
import { positiveInt, sweepSize } from './sweepSetup';
import { sweepRunDirsOf } from '../training/trainConflict';
import { codeVersion, trainerLauncher } from '../../trainer/sweepLauncher';

/** Parameters offered when a sweep is started without one (the lens names its own). */
export const SWEEPABLE_PARAMS: { param: string; label: string; defaults: string }[] = [
  { param: 'loss.margin', label: 'fixed margin δ', defaults: '0.05, 0.1, 0.2, 0.3, 0.5' },
  { param: 'loss.temperature', label: 'fixed temperature τ', defaults: '1/50, 1/30, 1/20, 1/10, 1/5' },
  { param: 'loss.alpha', label: 'α of the adaptive δ/τ', defaults: '0.1, 0.3, 0.5, 0.7, 0.9' },
  { param: 'loss.delta0', label: 'δ₀ of the adaptive margin', defaults: '0.005, 0.01, 0.02, 0.05' },
  { param: 'loss.tau0', label: 'τ₀ of the adaptive temperature', defaults: '1/50, 1/30, 1/20, 1/10' },
  { param: 'loss.symmetricWeight', label: 'symmetric weight w', defaults: '0, 0.05, 0.1, 0.5' },
  { param: 'training.batchSize', label: 'batch size', defaults: '64, 128, 256, 350' },
  { param: 'training.learningRate', label: 'learning rate', defaults: '0.0005, 0.001, 0.002, 0.005' },
];

/** The default values of a parameter as editable text. */
export function defaultValuesText(param: string): string {
  const known = SWEEPABLE_PARAMS.find((p) => p.param === param);
  if (known) return known.defaults;
  return (DEFAULT_SWEEP_VALUES[param] ?? []).map(formatValue).join(', ');
}

export class SweepController implements vscode.Disposable {
  private current: { scheduler: SweepScheduler; dir: string } | null = null;
  private output: vscode.OutputChannel | null = null;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  get running(): { dir: string; file: SweepFile } | null {
    return this.current ? { dir: this.current.dir, file: this.current.scheduler.state } : null;
  }

  /** The run folders of the running sweep (empty when none runs): the sweep's runs, not its config's own. */
  runDirs(): Set<string> {
    return this.current ? sweepRunDirsOf(this.current.dir, this.current.scheduler.state) : new Set();
  }

  /** Ask for the parameter (unless given) and its values, create the sweep and run it. */
  async startSweep(configPath: string, param?: string): Promise<void> {
    if (this.busy()) return;
    let chosen = param;
    if (!chosen) {
      const pick = await vscode.window.showQuickPick(
        SWEEPABLE_PARAMS.map((p) => ({ label: p.param, description: p.label, detail: p.defaults })),
        { placeHolder: 'Sweep which parameter?', ignoreFocusOut: true },
      );
      if (!pick) return;
      chosen = pick.label;
    }
    const defaults = defaultValuesText(chosen);
    const useDefaults = `Default values: ${defaults}`;
    const custom = 'Edit the values…';
    const range = 'A range a:b:n…';
    const how = await vscode.window.showQuickPick([useDefaults, custom, range], {
      placeHolder: `Sweep ${chosen} of ${path.basename(configPath)} over…`,
      ignoreFocusOut: true,
    });
    if (!how) return;
    let values: number[];
    try {
      if (how === useDefaults) values = parseValueList(defaults);
      else if (how === custom) {
        const text = await vscode.window.showInputBox({
          prompt: `Values of ${chosen}, separated by commas (fractions like 1/30 allowed)`,
          value: defaults,
          ignoreFocusOut: true,
          validateInput: (t) => {
            try {
              parseValueList(t);
              return null;
            } catch (e) {
              return (e as Error).message.replace(/^--values: /, '');
            }
          },
        });
        if (text === undefined) return;
        values = parseValueList(text);
      } else {
        const text = await vscode.window.showInputBox({
          prompt: `Range of ${chosen}: from a to b in n values (a:b:n)`,
          value: '0.05:0.5:5',
          ignoreFocusOut: true,
          validateInput: (t) => {
            try {
              parseRange(t);
              return null;
            } catch (e) {
              return (e as Error).message;
            }
          },
        });
        if (text === undefined) return;
        values = parseRange(text);
      }
    } catch (e) {
      void vscode.window.showErrorMessage(`Retrieval Lens: ${(e as Error).message}`);
      return;
    }
    const size = await this.askSize(configPath, chosen, values);
    if (!size) return;
    const created = this.create(() =>
      createSweep({
        configPath,
        sweep: { param: chosen, values },
        seedCount: size.seeds,
        ...(size.steps !== null ? { steps: size.steps } : {}),
        code: codeVersion(),
      }),
    );
    if (created) await this.run(created.dir);
  }

  /**
   * Ask the seeds per value and the steps of every run (the config's as defaults), then confirm the run count
   * × steps. Null when dismissed or cancelled (nothing is created). `steps` null: the config's (unchanged).
   */
  private async askSize(configPath: string, param: string, values: number[]): Promise<{ seeds: number; steps: number | null } | null> {
    let defaults: { seeds: number; steps: number };
    try {
      const c = loadConfig(configPath).config;
      defaults = { seeds: c.sweep.seeds, steps: c.training.steps };
    } catch (e) {
      this.notStarted(e);
      return null;
    }
    const ask = async (what: string, prompt: string, value: number): Promise<number | null> => {
      const text = await vscode.window.showInputBox({
        title: `Sweep ${param} of ${path.basename(configPath)}`,
        prompt,
        value: String(value),
        ignoreFocusOut: true,
        validateInput: (t) => {
          const r = positiveInt(t, what);
          return 'problem' in r ? r.problem : null;
        },
      });
      if (text === undefined) return null;
      const r = positiveInt(text, what);
      return 'value' in r ? r.value : null;
    };
    const seeds = await ask('seeds', `Seeds per value (the config's sweep.seeds: ${defaults.seeds}); "beats" needs 2 or more`, defaults.seeds);
    if (seeds === null) return null;
    let steps: number | null = null;
    if (param !== 'training.steps') {
      steps = await ask('steps', `Training steps of every run (the config's training.steps: ${defaults.steps})`, defaults.steps);
      if (steps === null) return null;
    }
    const size = sweepSize(param, values, seeds, steps ?? defaults.steps);
    const start = 'Start Sweep';
    const choice = await vscode.window.showInformationMessage(
      `Retrieval Lens: sweep ${param} of ${path.basename(configPath)}: ${size.text}. Start?`,
      { modal: true },
      start,
    );
    if (choice !== start) return null;
    return { seeds, steps: steps === defaults.steps ? null : steps };
  }

  /** Create and run the ablation of a config. */
  async startAblation(configPath: string): Promise<void> {
    if (this.busy()) return;
    let seeds = 1;
    try {
      seeds = loadConfig(configPath).config.sweep.seeds;
    } catch {
      // createSweep reports the config's problems
    }
    const ok = await vscode.window.showInformationMessage(
      `Retrieval Lens: the ablation of ${path.basename(configPath)} trains 8 runs per seed (${8 * seeds} runs: fixed / adaptive × margin / softmax, without and with stop-gradient and the symmetric term) with the config's data and steps.`,
      { modal: false },
      'Run Ablation',
    );
    if (ok !== 'Run Ablation') return;
    const created = this.create(() => createSweep({ configPath, code: codeVersion() }));
    if (created) await this.run(created.dir);
  }

  /** On activation: offer to resume the newest unfinished sweep (the others are listed by "Run Sweep…"'s resume). */
  async offerResume(configPaths: readonly string[]): Promise<void> {
    const open = unfinishedSweeps(configPaths, { includeCancelled: false });
    if (open.length === 0) return;
    const { dir, file } = open[0];
    const done = file.runs.filter((r) => r.status === 'completed').length;
    const more = open.length > 1 ? ` (${open.length - 1} more unfinished: "Retrieval Lens: Resume Sweep…")` : '';
    const choice = await vscode.window.showInformationMessage(
      `Retrieval Lens: the ${file.kind} ${path.basename(dir)} is unfinished (${done}/${file.runs.length} runs done)${more}. Resume it? Finished runs are kept.`,
      'Resume',
    );
    if (choice === 'Resume') await this.run(dir);
  }

  /** Pick an unfinished sweep and resume it. */
  async pickAndResume(configPaths: readonly string[]): Promise<void> {
    if (this.busy()) return;
    const open = unfinishedSweeps(configPaths, { includeCancelled: true });
    if (open.length === 0) {
      void vscode.window.showInformationMessage('Retrieval Lens: no unfinished sweep in this workspace.');
      return;
    }
    const pick = await vscode.window.showQuickPick(
      open.map(({ dir, file }) => ({
        label: path.basename(dir),
        description: `${file.runs.filter((r) => r.status === 'completed').length}/${file.runs.length} runs done`,
        dir,
      })),
      { placeHolder: 'Resume which sweep?' },
    );
    if (pick) await this.run(pick.dir);
  }

  /** Cancel the running sweep (running runs stop, queued ones stay queued). */
  cancel(): void {
    this.current?.scheduler.cancel();
  }

  private busy(): boolean {
    if (!this.current) return false;
    void vscode.window.showWarningMessage(`Retrieval Lens: a sweep is running (${path.basename(this.current.dir)}); one at a time.`);
    return true;
  }

  private create(make: () => { dir: string; file: SweepFile }): { dir: string; file: SweepFile } | null {
    try {
      return make();
    } catch (e) {
      this.notStarted(e);
      return null;
    }
  }

  /** Say why a sweep did not start (the config's located problem, first line; the whole in the log). */
  private notStarted(e: unknown): void {
    const msg = e instanceof ConfigError ? e.message : (e as Error).message;
    this.log.error(`sweep not started: ${msg}`);
    void vscode.window.showErrorMessage(`Retrieval Lens: sweep not started: ${msg.split('\n')[0]}`, 'Show Log').then((c) => c && this.log.show(true));
  }

  /** Run (or resume) the sweep in `dir` under a cancellable progress notification. */
  async run(dir: string): Promise<SweepFile | null> {
    let scheduler: SweepScheduler;
    try {
      scheduler = new SweepScheduler(dir, trainerLauncher({ onOutput: (s, stream) => stream === 'stderr' && this.log.debug(s.trimEnd()) }), {
        log: (line) => this.log.info(`sweep ${path.basename(dir)}: ${line}`),
      });
    } catch (e) {
      void vscode.window.showErrorMessage(`Retrieval Lens: ${(e as Error).message}`);
      return null;
    }
    this.current = { scheduler, dir };
    void vscode.commands.executeCommand('setContext', 'retrievalLens.sweeping', true);
    const total = scheduler.state.runs.length;
    try {
      const final = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Retrieval Lens: ${scheduler.state.kind} ${path.basename(dir)}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => scheduler.cancel());
          let reported = 0;
          const report = (f: SweepFile) => {
            const done = f.runs.filter((r) => r.status === 'completed' || r.status === 'failed').length;
            const running = f.runs.filter((r) => r.status === 'running').map((r) => r.id);
            progress.report({
              increment: (100 * (done - reported)) / total,
              message: `${done}/${total} runs done${running.length ? ` · running ${running.join(', ')}` : ''}${scheduler.isCancelled ? ' · cancelling…' : ''}`,
            });
            reported = done;
          };
          const unsubscribe = scheduler.subscribe(report);
          return scheduler.run().finally(unsubscribe);
        },
      );
      await this.showResult(dir, final, scheduler.isCancelled);
      return final;
    } catch (e) {
      this.log.error(`sweep ${dir}: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Retrieval Lens: sweep ${path.basename(dir)}: ${(e as Error).message}`);
      return null;
    } finally {
      this.current = null;
      void vscode.commands.executeCommand('setContext', 'retrievalLens.sweeping', false);
    }
  }

  private async showResult(dir: string, final: SweepFile, cancelled: boolean): Promise<void> {
    const text = final.kind === 'ablation' ? ablationText(ablationTable(final)) : sweepSummaryText(final);
    this.output ??= vscode.window.createOutputChannel('Retrieval Lens Sweeps');
    this.output.appendLine(`${final.kind} ${dir}${cancelled ? ' (cancelled: resume it with "Retrieval Lens: Resume Sweep…")' : ''}`);
    this.output.appendLine(text);
    this.output.appendLine('');
    const failed = final.runs.filter((r) => r.status === 'failed');
    if (failed.length > 0) this.log.warn(`sweep ${path.basename(dir)}: ${failed.length} runs failed: ${failed.map((r) => `${r.id}: ${r.error}`).join('; ')}`);
    if (cancelled) {
      void vscode.window.showInformationMessage(`Retrieval Lens: ${final.kind} ${path.basename(dir)} cancelled; finished runs are kept.`);
      return;
    }
    if (final.kind === 'ablation') {
      this.output.show(true);
      await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(path.join(dir, ABLATION_MD)));
    } else await vscode.commands.executeCommand('retrievalLens.showSweep', dir);
  }

  dispose(): void {
    // The window goes away (a reload): not the user's cancel, so the sweep is offered for resume next time.
    this.current?.scheduler.cancel('shutdown');
    this.output?.dispose();
  }
}
