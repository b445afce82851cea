/**
 * A chart's data as CSV: one row per logged step with its step, wall time (ISO 8601) and the exact value of
 * each series (not the decimated display points); empty for a missing value.
 */
import type { GrowableFloat64 } from '../../shared/growableArray';

/** A CSV field, quoted when it holds a comma, quote or line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function seriesCsv(steps: GrowableFloat64, times: GrowableFloat64, columns: readonly { label: string; values: GrowableFloat64 }[]): string {
  const rows: string[] = [['step', 'time', ...columns.map((c) => c.label)].map(csvField).join(',')];
  for (let i = 0; i < steps.length; i++) {
    const t = times.get(i);
    const cells = [String(steps.get(i)), Number.isNaN(t) ? '' : new Date(t).toISOString()];
    for (const c of columns) {
      const v = c.values.get(i);
      cells.push(Number.isNaN(v) ? '' : String(v));
    }
    rows.push(cells.join(','));
  }
  return rows.join('\n') + '\n';
}
