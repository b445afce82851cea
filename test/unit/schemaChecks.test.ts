import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import Ajv from 'ajv';
import { RUN_EVENTS_SCHEMA_FILE, generatedFiles } from '../../scripts/generateSchemaChecks';
import { EVENT_SCHEMAS, StepEventSchema } from '../../src/core/runs/eventSchema';
import { EVENT_CHECKS } from '../../src/core/runs/eventChecks.generated';
import { TO_DASHBOARD_CHECKS } from '../../src/webview/dashboard/protocolChecks.generated';
import { TO_DASHBOARD_SCHEMAS } from '../../src/webview/dashboard/protocol';

const REPO = path.resolve(__dirname, '../..');
const DOC = fs.readFileSync(path.join(REPO, 'docs', 'run-format.md'), 'utf8');
const DOC_EVENTS = DOC.split('\n')
  .filter((l) => l.startsWith('{"v":'))
  .map((l) => JSON.parse(l) as { type: keyof typeof EVENT_SCHEMAS });

test('the generated checks and schemas/run-events.schema.json are up to date with the schemas (npm run -s gen:checks)', () => {
  const files = Object.entries(generatedFiles());
  assert.ok(files.some(([file]) => file === RUN_EVENTS_SCHEMA_FILE));
  for (const [file, make] of files) {
    assert.equal(fs.readFileSync(path.join(REPO, file), 'utf8'), make(), `${file} is stale: run npm run -s gen:checks`);
  }
});

test('schemas/run-events.schema.json, as another language reads it (JSON Schema draft-07), decides as the TypeBox schemas', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(REPO, RUN_EVENTS_SCHEMA_FILE), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  const line = ajv.compile(schema);
  let cases = 0;
  for (const e of DOC_EVENTS) {
    assert.equal(line(e), true, `doc ${e.type} event: ${ajv.errorsText(line.errors)}`);
    // Each top-level field removed or given a wrong type: the line check agrees with Value.Check.
    for (const key of Object.keys(e)) {
      for (const broken of [Object.fromEntries(Object.entries(e).filter(([k]) => k !== key)), { ...e, [key]: { wrong: true } }]) {
        cases++;
        assert.equal(line(broken), Value.Check(EVENT_SCHEMAS[e.type], broken), `${e.type} with ${key} broken`);
      }
    }
  }
  assert.ok(cases > 50, `${cases} cases`);
});

test('the generated checks decide as Value.Check does, on valid events and on each field broken', () => {
  const agree = (schema: TSchema, check: (v: unknown) => boolean, v: unknown, what: string): boolean => {
    const expected = Value.Check(schema, v);
    assert.equal(check(v), expected, `${what}: generated ${check(v)}, Value.Check ${expected}`);
    return expected;
  };
  assert.deepEqual([...new Set(DOC_EVENTS.map((e) => e.type))].sort(), Object.keys(EVENT_SCHEMAS).sort());
  let rejected = 0;
  let cases = 0;
  for (const e of DOC_EVENTS) {
    const [schema, check] = [EVENT_SCHEMAS[e.type], EVENT_CHECKS[e.type]];
    assert.equal(agree(schema, check, e, `doc ${e.type} event`), true);
    // Every leaf replaced by a string, by null, by NaN, and removed: both checks must agree on each.
    const walk = (node: unknown, set: (v: unknown) => void, del: () => void, at: string): void => {
      if (node !== null && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          walk(
            v,
            (x) => ((node as Record<string, unknown>)[k] = x),
            () => delete (node as Record<string, unknown>)[k],
            `${at}.${k}`,
          );
          (node as Record<string, unknown>)[k] = v;
        }
        return;
      }
      for (const bad of ['x', null, NaN, -1, 1.5, undefined]) {
        if (bad === undefined) del();
        else set(bad);
        cases++;
        if (!agree(schema, check, e, `${at} = ${String(bad)}`)) rejected++;
        set(node);
      }
    };
    walk(
      e,
      () => {},
      () => {},
      '',
    );
  }
  assert.ok(rejected > 100 && rejected < cases, `${rejected} of ${cases} mutations rejected`);
  // A dashboard message of many steps.
  const step = DOC_EVENTS.find((e) => e.type === 'step')!;
  const msg = { type: 'steps', steps: [step, { ...step, step: 1201 }, { ...step, lr: 'fast' }] };
  assert.equal(agree(TO_DASHBOARD_SCHEMAS.steps, TO_DASHBOARD_CHECKS.steps, msg, 'steps message'), false);
  msg.steps.pop();
  assert.equal(agree(TO_DASHBOARD_SCHEMAS.steps, TO_DASHBOARD_CHECKS.steps, msg, 'steps message'), true);
  assert.equal(Value.Check(StepEventSchema, step), true);
});
