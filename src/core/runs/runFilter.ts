/**
 * The run filter of the Runs tree and `retrieval-lens runs --filter`: words separated by spaces, all of
 * which must match (AND). `tag:T` — the run has tag T; `status:S` — its status label starts with S
 * ("completed", "running", "failed", …); `config:C` — its config file name contains C; any other word —
 * the run's name, display name, folder name, note or tags contain it. Case-insensitive.
 */
import type { RunSummary } from './readRun';
import type { RunUser } from './runUser';
import { statusLabel } from './status';

/** What a filter looks at: the run, its user.json and the file name of its config (null when unknown). */
export interface FilterableRun {
  run: RunSummary;
  user: RunUser | null;
  config: string | null;
}

/** A predicate for `query`; an empty query matches every run. */
export function runFilter(query: string): (r: FilterableRun) => boolean {
  const words = query
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.length === 0) return () => true;
  return ({ run, user, config }) => {
    const tags = (user?.tags ?? []).map((t) => t.toLowerCase());
    const text = [run.name, run.id, user?.name ?? '', user?.note ?? '', ...tags].join('\n').toLowerCase();
    return words.every((w) => {
      const [key, value] = w.includes(':') ? [w.slice(0, w.indexOf(':')), w.slice(w.indexOf(':') + 1)] : ['', w];
      if (key === 'tag') return tags.includes(value);
      if (key === 'status') return statusLabel(run).toLowerCase().startsWith(value);
      if (key === 'config') return (config ?? '').toLowerCase().includes(value);
      return text.includes(w);
    });
  };
}
