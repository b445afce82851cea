/**
 * What to change in code when a collapsing run names no config file: a run written by `retrieval_lens.Lens` from
 * the user's own training loop (or by another writer of the run format). No config edit can be offered; the
 * alert says instead which arguments of the loss module (python/retrieval_lens/losses.py) or the optimizer to
 * change. The remedies are those of a config (collapseFix.ts), computed from the run's own config.json — its
 * `loss` section is the loss module's settings — so both kinds of run get the same advice. Pure, unit-tested.
 */
import { findNodeAtLocation } from 'jsonc-parser';
import { configTree } from '../configEditor/configAnchors';
import { collapseRemedies, type CollapseRemedy } from './collapseFix';

/** The loss modules' constructor argument of each `loss` setting a remedy writes. */
const LOSS_ARGUMENTS: Readonly<Record<string, string>> = {
  stopGradient: 'stop_gradient',
  symmetric: 'symmetric',
  symmetricWeight: 'symmetric_weight',
  alpha: 'alpha',
};

function pythonValue(v: unknown): string {
  return typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
}

/** One remedy said in code: the loss module's arguments, or the optimizer's learning rate. */
function remedyInCode(r: CollapseRemedy, runHasLearningRate: boolean): string {
  if (r.id === 'learning-rate') {
    const lr = r.settings[0][1];
    return runHasLearningRate ? `halve the optimizer's learning rate (lr=${pythonValue(lr)})` : "halve the optimizer's learning rate";
  }
  return `pass ${r.settings.map(([p, v]) => `${LOSS_ARGUMENTS[p[1]] ?? p.join('.')}=${pythonValue(v)}`).join(', ')} to the loss module`;
}

/**
 * The sentence of an alert about a run without a config file, from the run's config.json text; null when it is
 * unreadable or no remedy applies.
 */
export function codeRemedyText(runConfigText: string | null): string | null {
  if (runConfigText === null) return null;
  const remedies = collapseRemedies(runConfigText);
  if (remedies.length === 0) return null;
  const root = configTree(runConfigText);
  const hasLr = !!root && findNodeAtLocation(root, ['training', 'learningRate'])?.type === 'number';
  const head = 'No config file names this run: change it in your training code';
  if (remedies[0].id === 'enable-sg-symmetric') return `${head}: ${remedyInCode(remedies[0], hasLr)} (${remedies[0].why}).`;
  return `${head}, one of: ${remedies.map((r) => remedyInCode(r, hasLr)).join('; ')}.`;
}
