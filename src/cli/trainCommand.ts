import * as cliProgress from 'cli-progress';
import { ConfigError } from '../core/config/configError';
import { loadConfig } from '../core/config/loadConfig';
import type { StepEvent } from '../core/runs/eventSchema';
import { readRun } from '../core/runs/readRun';
import { statusLabel } from '../core/runs/status';
import type { FromTrainer } from '../trainer/protocol';
import type { ExperimentConfig } from '../core/config/types';
import { say, terminalSafe, terminalSafeLines, warn } from './terminalText';
import { launchTraining, type TrainingJob } from '../trainer/launch/launchTraining';
import { planResume, ResumeRefusedError } from '../trainer/launch/resumeJob';
import type { TrainingProcess } from '../trainer/launch/trainingProcess';
import { qualityRemedies, type QualityRemedyId } from '../core/quality';

export interface TrainArgs {
  /** The config; with `resume` optional (default: the run's config.json). */
  config?: string;
  /** A run folder to continue from its last checkpoint (resumeJob.ts). */
  resume?: string;
  steps?: number;
  out?: string;
  set: string[];
}

const BAR_FORMAT = 'step {value}/{total} |{bar}| loss {loss} | δ p50 {delta} | τ p50 {tau} | R@10 {r10} | R {ratio} | {verdict} | held-out {heldOut}';

/** How often the bar checks the run's heartbeat (meta.json). */
const STALL_CHECK_MS = 5000;

const fmt = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));

/** Progress-bar fields from a step event. */
export function progressFields(e: StepEvent): Record<string, string> {
  const d = e.diagnostics.dist;
  return {
    loss: fmt(e.loss, 4),
    // '–' (as for any missing value of the bar) when the loss has no δ / τ or the step summarised none (count 0 or null).
    delta: d.delta && (d.delta.count ?? 0) > 0 ? fmt(d.delta.p50) : '–',
    tau: d.tau && (d.tau.count ?? 0) > 0 ? fmt(d.tau.p50, 4) : '–',
    verdict: terminalSafe(e.verdict.state),
    ratio: fmt(e.diagnostics.collapse.ratio, 2),
    r10: fmt(e.diagnostics.recall.at10, 2),
  };
}

/** The progress bar's held-out field: "R@10 0.41 (BM25 0.52)". */
export function heldOutField(metrics: Record<string, number>): string {
  const bm25 = metrics['bm25/recall@10'];
  return `R@10 ${fmt(metrics['recall@10'], 2)}${bm25 === undefined ? '' : ` (BM25 ${fmt(bm25, 2)})`}`;
}

/** The quality verdict's remedies as the config edits to make: "data.hardNegatives = {…} (why); training.batchSize = 512 (why)". */
function remediesLine(ids: readonly QualityRemedyId[], config: ExperimentConfig): string {
  const remedies = qualityRemedies(ids, config);
  if (remedies.length === 0) return '';
  return `${remedies.map((r) => r.settings.map(([p, v]) => `${p.join('.')} = ${JSON.stringify(v)}`).join(', ') + ` (${r.why})`).join('; ')}`;
}

/**
 * `retrieval-lens train <config>`: validates the config here (located errors, exit 2), then runs the
 * background trainer process with a progress bar. Ctrl-C asks for a graceful stop (checkpoint kept);
 * a second Ctrl-C kills the trainer. Exit code 0 for completed/stopped, 1 for failed.
 */
export async function trainCommand(args: TrainArgs): Promise<number> {
  let config: ExperimentConfig;
  let job: TrainingJob;
  try {
    if (args.resume) {
      const plan = planResume(args.resume, { config: args.config, overrides: args.set, steps: args.steps, out: args.out });
      ({ config, job } = plan);
      const from = plan.checkpointStep === null ? 'no checkpoint' : `its checkpoint of step ${plan.checkpointStep}`;
      say(
        `resuming ${plan.job.resume} (last step ${plan.step}) from ${from} with ${plan.job.configPath}${plan.job.steps !== undefined ? `, to step ${plan.job.steps}` : ''}`,
      );
    } else {
      if (!args.config) {
        warn('train needs a config file (or --resume RUN)');
        return 2;
      }
      config = loadConfig(args.config, args.set).config;
      job = { configPath: args.config, overrides: args.set, steps: args.steps, runsRoot: args.out };
    }
  } catch (e) {
    if (e instanceof ConfigError || e instanceof ResumeRefusedError) {
      warn(e.message);
      return 2;
    }
    throw e;
  }
  const bar = new cliProgress.SingleBar(
    {
      // While the run is stalled the ETA (frozen at its last value) gives way to the stall.
      format: (options, params, payload) =>
        cliProgress.Format.Formatter({ ...options, format: BAR_FORMAT + (payload.stall ? ' | {stall}' : ' | ETA {eta_formatted}') }, params, payload),
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 50,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let barStarted = false;
  let runDir: string | null = null;
  let lastVerdict = '';
  let lastQuality = '';
  /** Error messages already printed: the trainer reports a failure as a log/error message and again in 'done'. */
  const shownErrors = new Set<string>();
  /** The trainer refused the config with located problems (the PyTorch trainer's own config checks): exit code 2. */
  let configRefused = false;
  // Clear the bar's line first on a terminal; the bar redraws on its next update.
  const print = (line: string) => process.stdout.write((barStarted && process.stdout.isTTY ? '\r\x1b[K' : '') + terminalSafeLines(line) + '\n');
  const onMessage = (m: FromTrainer) => {
    switch (m.type) {
      case 'started':
        say(`run ${m.runDir}\n${handle.describeStarted(m)}`);
        bar.start(m.totalSteps, 0, { loss: '–', delta: '–', tau: '–', verdict: '–', r10: '–', ratio: '–', heldOut: '–', stall: '' });
        barStarted = true;
        runDir = m.runDir;
        break;
      case 'step':
        bar.update(m.event.step, progressFields(m.event));
        if (m.event.verdict.state !== lastVerdict) {
          print(`step ${m.event.step}: collapse verdict ${m.event.verdict.state} (R ${fmt(m.event.diagnostics.collapse.ratio, 2)}): ${m.event.verdict.reason}`);
          lastVerdict = m.event.verdict.state;
        }
        break;
      case 'eval':
        bar.update({ heldOut: heldOutField(m.metrics) });
        // The verdict itself is in the run log (printed as [info]); its remedies as the config edits to make.
        if (m.quality && m.quality.state !== lastQuality) {
          const remedies = remediesLine(m.quality.remedies, config);
          if (remedies) print(`  quality remedies: ${remedies}`);
          lastQuality = m.quality.state;
        }
        break;
      case 'log':
        if (m.level === 'error') shownErrors.add(m.message);
        if (m.level !== 'debug') print(`[${m.level}] ${m.message}`);
        break;
      case 'error':
        shownErrors.add(m.message);
        if (m.problems && m.problems.length > 0) configRefused = true;
        print(`error: ${m.message}`);
        break;
      case 'done':
        if (barStarted) {
          bar.update(m.step);
          bar.stop();
          barStarted = false;
        }
        break;
      case 'ready':
        break;
    }
  };
  // The config's trainer.kind picks the trainer (kind torchrun: the PyTorch trainer under
  // torch.distributed.run, followed through its run folder, the same messages; Ctrl-C is forwarded as
  // SIGINT to its process group).
  const handle: TrainingProcess = launchTraining(config, job, {
    onMessage,
    onInvalid: (reason) => print(`[warn] invalid message from trainer: ${reason}`),
    onOutput: (s) => process.stderr.write(terminalSafeLines(s)),
  });
  // A trainer that stops writing its heartbeat (SIGSTOP, a hang) is shown as stalled in the bar and said
  // once, with the wording every reader uses (statusLabel); said again when it comes back.
  let stalled = false;
  const watch = setInterval(() => {
    if (!runDir || !barStarted) return;
    const s = readRun(runDir, { scanBytes: 64 * 1024 });
    const label = statusLabel(s);
    if (s.status === 'running' && s.heartbeatStale) {
      if (!stalled) print(`run ${label}: the trainer (pid ${s.meta?.pid ?? '?'}) writes no heartbeat`);
      stalled = true;
      bar.update({ stall: label });
    } else if (stalled) {
      stalled = false;
      print(`run ${label} again`);
      bar.update({ stall: '' });
    }
  }, STALL_CHECK_MS);
  watch.unref();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      print('stopping after this step (Ctrl-C again to kill)…');
      handle.stop();
    } else handle.kill();
  };
  process.on('SIGINT', onSigint);
  const done = await handle.done;
  clearInterval(watch);
  process.off('SIGINT', onSigint);
  if (barStarted) bar.stop();
  if (!done) {
    if (!runDir && interrupts > 0) {
      // Ctrl-C before the trainer created its run folder: nothing was started, nothing to keep.
      warn('stopped before the run started: no run folder was created');
      return 130;
    }
    warn(`error: ${handle.failure?.message ?? 'the trainer process ended without reporting the end of the run'}`);
    warn(runDir ? `every step logged so far is kept in the run folder ${runDir}` : 'no run folder was created');
    return 1;
  }
  if (done.runDir) say(`${done.status} at step ${done.step}: ${done.runDir}`);
  if (done.error && !shownErrors.has(done.error.message)) warn(`error: ${done.error.message}`);
  return configRefused ? 2 : done.status === 'failed' ? 1 : 0;
}
