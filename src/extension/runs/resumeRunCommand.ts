/**
 * "Resume Run" (the Runs view's context menu on a stopped, crashed or failed PyTorch run, or the palette with
 * a quick pick of such runs): asks, then starts the PyTorch trainer on the run's own config.json from its
 * checkpoints/last (src/trainer/launch/resumeJob.ts, the same plan as `retrieval-lens train --resume`) as the
 * window's live training, filed under the config the run recorded; the dashboard follows the new run.
 * A run that cannot be resumed (still running, the built-in trainer's) gets the planner's located message.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { ConfigError } from '../../core/config/configError';
import { planResume, isResumable, ResumeRefusedError, type ResumePlan } from '../../trainer/launch/resumeJob';
import { pickRun, runDirOf } from '../commands';
import type { Services } from '../services';
import { requireTrust } from '../shared/workspaceTrust';

/** The plan for `dir`, or null after saying why it cannot be resumed. */
function planOrSay(dir: string): ResumePlan | null {
  try {
    return planResume(dir);
  } catch (e) {
    if (!(e instanceof ResumeRefusedError || e instanceof ConfigError)) throw e;
    void vscode.window.showErrorMessage(`Retrieval Lens: cannot resume ${path.basename(dir)}: ${e.message}`);
    return null;
  }
}

/** Resolves once the live training of `dir` has ended (its trainer process exited), or after `ms`. */
function trainerExit(s: Services, dir: string, ms = 30_000): Thenable<void> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `Retrieval Lens: waiting for the trainer of ${path.basename(dir)} to exit` },
    () =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          sub.dispose();
          resolve();
        };
        const timer = setTimeout(done, ms);
        const sub = s.training.onDidEnd(done);
        if (!s.training.isLiveRun(dir)) done();
      }),
  );
}

export async function resumeRun(s: Services, arg?: unknown): Promise<void> {
  if (!requireTrust('Training')) return;
  await s.registry.ensureScanned();
  const resumable = (dir: string) => {
    const r = s.registry.find(dir);
    return !!r && isResumable(r);
  };
  const dir = runDirOf(arg) ?? (await pickRun(s, 'Resume which run? (stopped, crashed or failed PyTorch runs)', resumable));
  if (!dir) return;
  // Just stopped from the dashboard: the run reads "stopped" while its trainer (torchrun's agent and ranks) is
  // still exiting. Wait for that exit (bounded) instead of refusing with "is training".
  if (s.training.isLiveRun(dir) && s.registry.find(dir)?.status !== 'running') await trainerExit(s, dir);
  const live = s.training.current;
  if (live) {
    void vscode.window.showWarningMessage(
      `Retrieval Lens: ${path.basename(live.configPath)} is training (one run at a time); stop it before resuming another.`,
    );
    return;
  }
  const plan = planOrSay(dir);
  if (!plan) return;
  const from = plan.checkpointStep === null ? 'its last checkpoint' : `its checkpoint of step ${plan.checkpointStep}`;
  const to = plan.job.steps !== undefined ? ` to step ${plan.job.steps}` : '';
  const choice = await vscode.window.showInformationMessage(
    `Retrieval Lens: resume ${path.basename(dir)} (${s.registry.find(dir)?.status ?? 'ended'} at step ${plan.step}) from ${from}${to}? A new run folder continues it; this one is kept.`,
    'Resume',
  );
  if (choice !== 'Resume') return;
  if (!s.training.start(plan.recordedConfig, { resume: plan })) {
    void vscode.window.showWarningMessage('Retrieval Lens: a training is already running (one run at a time).');
    return;
  }
  await s.dashboardView.reveal();
}
