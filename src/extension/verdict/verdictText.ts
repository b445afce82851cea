/**
 * The collapse verdict as a problem on the config's `loss` block: where (the `loss` property, or the
 * top of the file when absent), how severe, and its message. Pure, unit-tested without VS Code;
 * verdictProblems.ts puts it into the Problems panel.
 */
import { stateLabel } from '../../core/metrics/collapseMonitor';
import type { CollapseState } from '../../core/metrics/types';
import type { StepEvent } from '../../core/runs/eventSchema';
import type { QualityState, QualityVerdict } from '../../core/quality/qualityVerdict';
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

const QUALITY_SEVERITY: Record<QualityState, VerdictSeverity> = {
  measuring: 'information',
  learning: 'information',
  plateau: 'warning',
  saturated: 'warning',
  'below-lexical': 'warning',
};

/**
 * "Quality verdict of run <run> at step 300: saturated — <reason>" on the config's `evaluation` property (else
 * `training`, else the top): the live held-out evaluation's verdict, beside the collapse verdict on `loss`.
 */
export function qualityProblem(configText: string, runName: string, step: number, q: QualityVerdict): VerdictProblem {
  const root = configTree(configText);
  const span = propertySpan(root, ['evaluation']) ?? propertySpan(root, ['training']) ?? { offset: 0, length: 1 };
  return { span, severity: QUALITY_SEVERITY[q.state], message: `Quality verdict of run ${runName} at step ${step}: ${q.state} — ${q.reason}` };
}
