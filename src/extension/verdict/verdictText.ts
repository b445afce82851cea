/**
 * The collapse verdict as a problem on the config's `loss` block: where (the `loss` property, or the
 * top of the file when absent), how severe, and its message. Pure, unit-tested without VS Code;
 * verdictProblems.ts puts it into the Problems panel.
 */
import { stateLabel } from '../../core/metrics/collapseMonitor';
import type { CollapseState } from '../../core/metrics/types';
import type { StepEvent } from '../../core/runs/eventSchema';
import { configTree, propertySpan, type TextSpan } from '../configEditor/configAnchors';
import { formatRatio } from '../shared/lensText';

export type VerdictSeverity = 'error' | 'warning' | 'information';

export interface VerdictProblem {
  span: TextSpan;
  severity: VerdictSeverity;
  message: string;
}

const SEVERITY: Record<CollapseState, VerdictSeverity> = {
  initialising: 'information',
  healthy: 'information',
  warning: 'warning',
  'never-separated': 'warning',
  collapsing: 'warning',
  collapsed: 'error',
};

/** "Collapse verdict of run <run> at step 40: collapsed (R 0.01) — <reason>" on the `loss` property. */
export function verdictProblem(configText: string, runName: string, e: StepEvent): VerdictProblem {
  const root = configTree(configText);
  const span = propertySpan(root, ['loss']) ?? { offset: 0, length: 1 };
  return {
    span,
    severity: SEVERITY[e.verdict.state],
    message: `Collapse verdict of run ${runName} at step ${e.step}: ${stateLabel(e.verdict.state)} (${formatRatio(e.diagnostics.collapse.ratio)}) — ${e.verdict.reason}`,
  };
}
