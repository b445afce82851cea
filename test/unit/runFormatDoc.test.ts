/**
 * docs/run-format.md against the schemas it documents (src/core/runs/eventSchema.ts,
 * src/core/metrics/types.ts): every JSON example of meta.json and of the events validates, every field
 * a table lists exists in the schema, and every schema field is listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TObject, TSchema } from '@sinclair/typebox';
import { EVENT_SCHEMAS, RunMetaSchema, eventProblem, type RunEventType } from '../../src/core/runs/eventSchema';
import { parseEventLine } from '../../src/core/runs/eventLine';
import { schemaProblem } from '../../src/core/schemaCheck';
import { DistributionSummarySchema, StepDiagnosticsSchema } from '../../src/core/metrics/types';
import { NonFiniteError } from '../../src/core/training/nonFinite';

const DOC = fs.readFileSync(path.resolve(__dirname, '../..', 'docs', 'run-format.md'), 'utf8');

/** The text of the section starting with `heading` (a line prefix) up to the next heading of the same or a higher level. */
function section(heading: string): string {
  const lines = DOC.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(start >= 0, `doc has a section "${heading}"`);
  const level = /^#+/.exec(heading)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && /^#+/.exec(l)![0].length <= level);
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

/** Fenced code blocks of a language in `text`. */
function blocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** Field names in the first column of the markdown tables of `text` (a cell may list several: "`metric`, `value`"). */
function tableFields(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^\| `/.test(l))
    .flatMap((l) => [...l.split('|')[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
}

const propsOf = (s: TSchema): string[] => Object.keys((s as TObject).properties);
const EVENT_BASE = ['v', 'type', 'time'];

const EVENT_SECTIONS: Record<RunEventType, string> = {
  start: '### 4.1 `start`',
  step: '### 4.2 `step`',
  log: '### 4.3 `log`',
  eval: '### 4.4 `eval`',
  checkpoint: '### 4.5 `checkpoint`',
  end: '### 4.6 `end`',
  scalars: '### 4.7 `scalars`',
};

test('every event example of §4 is read as an event of its section and matches its schema', () => {
  for (const [type, heading] of Object.entries(EVENT_SECTIONS) as [RunEventType, string][]) {
    const text = section(heading);
    const lines = blocks(text, 'jsonl').flatMap((b) => b.split('\n').filter((l) => l.trim() !== ''));
    const pretty = blocks(text, 'json').map((b) => JSON.stringify(JSON.parse(b)));
    assert.ok(lines.length > 0, `§${heading} has a jsonl example`);
    for (const line of [...lines, ...pretty]) {
      const parsed = parseEventLine(line);
      assert.equal(parsed.kind, 'event', `${heading}: ${line.slice(0, 70)}… → ${JSON.stringify(parsed)}`);
      assert.equal(JSON.parse(line).type, type);
      assert.equal(eventProblem(type, JSON.parse(line)), null);
    }
  }
});

test('the meta.json example of §3 matches the schema of meta.json as written', () => {
  const examples = blocks(section('## 3. `meta.json`'), 'json');
  assert.equal(examples.length, 1);
  const meta = JSON.parse(examples[0]);
  assert.equal(schemaProblem(RunMetaSchema, meta), null);
  // It shows a run that failed on a NaN loss: the error reads as the trainer writes it.
  assert.equal(meta.error.message, new NonFiniteError(meta.error.step, meta.error.quantity, NaN, meta.checkpoints.last.step).message);
  const end = JSON.parse(blocks(section(EVENT_SECTIONS.end), 'jsonl')[0]);
  assert.deepEqual(end.error, meta.error, 'the end event example carries the same error as meta.json');
});

test('the field tables of §3 and §4 list exactly the fields of the schemas', () => {
  assert.deepEqual(tableFields(section('## 3. `meta.json`')).sort(), propsOf(RunMetaSchema).sort());
  const common = section('## 4. `events.jsonl`').split('### 4.1')[0];
  assert.deepEqual(tableFields(common).sort(), [...EVENT_BASE].sort());
  for (const [type, heading] of Object.entries(EVENT_SECTIONS) as [RunEventType, string][]) {
    const listed = tableFields(section(heading).split('\n**`diagnostics`**')[0]);
    assert.deepEqual(
      listed.sort(),
      propsOf(EVENT_SCHEMAS[type])
        .filter((f) => !EVENT_BASE.includes(f))
        .sort(),
      heading,
    );
  }
});

test('the diagnostics description of §4.2 names exactly the fields of StepDiagnostics', () => {
  const text = section(EVENT_SECTIONS.step).split('\n**`diagnostics`**')[1].split('A full step event')[0];
  const d = StepDiagnosticsSchema.properties;
  // "- `dist`: …", "  - `delta`: …" bullets; the recall fields are listed inline as { "at1", … }.
  const bullets = [...text.matchAll(/^\s*- `(\w+)`/gm)].map((m) => m[1]);
  const expected = [...propsOf(StepDiagnosticsSchema).filter((k) => k !== 'recall'), 'recall', ...propsOf(d.dist), ...propsOf(d.collapse)];
  assert.deepEqual(bullets.sort(), expected.sort());
  const recall = /`recall`: `\{ ([^}]*) \}`/.exec(text);
  assert.ok(recall, 'recall fields listed');
  assert.deepEqual([...recall[1].matchAll(/"(\w+)"/g)].map((m) => m[1]).sort(), propsOf(d.recall).sort());
  const summary = /Each summary is `\{ ([^}]*) \}`/.exec(text);
  assert.ok(summary, 'summary fields listed');
  assert.deepEqual(summary[1].split(', ').sort(), propsOf(DistributionSummarySchema).sort());
});
