/**
 * Labels of runs shown side by side (the Runs tree, pickers): never two alike, and readable when the tree
 * cuts long labels. The group's common prefix (the experiment or sweep name) is dropped, a long label keeps
 * its start and its end (where a sweep run's value and seed are), and labels still alike get the start time,
 * then the folder name.
 */

/** Longest label before the middle is cut. */
export const MAX_LABEL_LENGTH = 40;

export interface LabelSource {
  /** The user's display name (user.json), when set: used as it is. */
  userName?: string;
  /** The experiment name of the run (meta.json). */
  name: string;
  /** Folder name, e.g. "20261206-170533-shop-adaptive-softmax". */
  id: string;
  /** ISO start time, or null. */
  startedAt: string | null;
}

/** `text` cut in the middle to `max` characters ("debian-adap…mperature-0.05-s42"). */
export function middleEllipsis(text: string, max = MAX_LABEL_LENGTH): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) * 0.4);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

/** "12-06 17:05:33" (local time) of an ISO time, or "" when unknown. */
function shortTime(iso: string | null): string {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * One label per run, in order, pairwise distinct. `prefix` (the group's experiment or sweep name) is
 * dropped from names that start with `${prefix}-` and are longer.
 */
export function distinctRunLabels(runs: readonly LabelSource[], prefix?: string): string[] {
  const base = runs.map((r) => {
    if (r.userName) return r.userName;
    const strip = prefix && r.name.startsWith(`${prefix}-`) && r.name.length > prefix.length + 1;
    return middleEllipsis(strip ? r.name.slice(prefix.length + 1) : r.name);
  });
  const step = (labels: string[], suffix: (i: number) => string): string[] => {
    const count = new Map<string, number>();
    for (const l of labels) count.set(l, (count.get(l) ?? 0) + 1);
    return labels.map((l, i) => ((count.get(l) ?? 0) > 1 && suffix(i) !== '' ? `${l} · ${suffix(i)}` : l));
  };
  const timed = step(base, (i) => shortTime(runs[i].startedAt));
  return step(timed, (i) => runs[i].id);
}

/**
 * The longest dash-ended prefix ("debian-adaptive-softmax") that ≥ 2 different names all share with more
 * after it, or undefined (also when every name is the same: nothing would tell them apart after the cut).
 */
export function commonNamePrefix(names: readonly string[]): string | undefined {
  if (new Set(names).size < 2) return undefined;
  let prefix = names[0];
  for (const n of names)
    while (prefix !== '' && !(n.startsWith(`${prefix}-`) && n.length > prefix.length + 1)) prefix = prefix.slice(0, Math.max(0, prefix.lastIndexOf('-')));
  return prefix === '' ? undefined : prefix;
}
