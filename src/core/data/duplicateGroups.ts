/**
 * The duplicate groups of training data (the "deduplicate by text" action of the suspected false negatives,
 * docs/diagnostics.md): items — positives and explicit negatives — whose normalised text is the same under several
 * ids, with the data lines of each id. Streamed over one pass of the examples; memory is one small entry per
 * distinct text (a 16-character hash key, the first id and line), plus the ids of the texts that repeat (their
 * lines: the first MAX_MEMBERS).
 */
import { createHash } from 'node:crypto';
import { normaliseText } from './normaliseText';
import type { Example, Item } from './types';

/** Members listed per group (the count goes on). */
export const MAX_MEMBERS = 10;

export interface DuplicateMember {
  id: string;
  file: string;
  line: number;
}

export interface DuplicateGroup {
  /** The text of the group's first member, cut to 120 characters. */
  text: string;
  /** Distinct ids with this text. */
  ids: number;
  /** The first MAX_MEMBERS ids, each at its first line. */
  members: DuplicateMember[];
}

interface Entry {
  text: string;
  ids: number;
  members: DuplicateMember[];
  seen: Set<string>;
}

export interface DuplicateReport {
  groups: DuplicateGroup[];
  /** Items read (positives and explicit negatives) and distinct normalised texts. */
  items: number;
  texts: number;
}

/** The groups of `examples` with two or more ids for one normalised text, the largest first (ties: first seen). */
export async function duplicateGroups(examples: AsyncIterable<Example> | Iterable<Example>): Promise<DuplicateReport> {
  const byText = new Map<string, Entry | DuplicateMember>();
  let items = 0;
  const add = (it: Item) => {
    items++;
    const key = createHash('sha256').update(normaliseText(it.text), 'utf8').digest('base64').slice(0, 16);
    const had = byText.get(key);
    const member = { id: it.id, file: it.source.file, line: it.source.line };
    if (had === undefined) byText.set(key, member);
    else if ('id' in had) {
      if (had.id !== it.id) byText.set(key, { text: it.text.slice(0, 120), ids: 2, members: [had, member], seen: new Set([had.id, it.id]) });
    } else if (!had.seen.has(it.id)) {
      had.seen.add(it.id);
      had.ids++;
      if (had.members.length < MAX_MEMBERS) had.members.push(member);
    }
  };
  for await (const e of examples) {
    add(e.positive);
    for (const n of e.negatives) add(n);
  }
  const groups: DuplicateGroup[] = [];
  for (const v of byText.values()) if (!('id' in v)) groups.push({ text: v.text, ids: v.ids, members: v.members });
  groups.sort((a, b) => b.ids - a.ids);
  return { groups, items, texts: byText.size };
}

/** The report as markdown: one section per group with its members' `file:line`. */
export function renderDuplicateGroups(r: DuplicateReport, source: string, maxGroups = 200): string {
  const out = [
    `# Duplicate groups: the same text under several ids`,
    '',
    `${source}: ${r.items} items read, ${r.texts} distinct normalised texts, **${r.groups.length} texts under two or more ids**.`,
    'In-batch, each such id is a negative of the others although it is the same item: deduplicate the data (keep one id per text), or set `data.maskDuplicateNegatives` to true.',
    '',
  ];
  for (const g of r.groups.slice(0, maxGroups)) {
    out.push(`## ${g.ids} ids: ${g.text.replace(/\s+/g, ' ').replace(/[\\`*_[\]<>#|]/g, (c) => `\\${c}`)}`, '');
    for (const m of g.members) out.push(`- \`${m.id.replace(/`/g, "'")}\` ${m.file}:${m.line}`);
    if (g.ids > g.members.length) out.push(`- … ${g.ids - g.members.length} more`);
    out.push('');
  }
  if (r.groups.length > maxGroups) out.push(`… ${r.groups.length - maxGroups} more groups.`);
  return out.join('\n');
}
