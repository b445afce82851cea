/**
 * Validation against a TypeBox schema with one located, readable reason. Uses `Value` (an
 * interpreter), not `TypeCompiler`: the dashboard webview runs this code under a CSP without eval.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';

/**
 * Schema option read by `schemaProblem`: the message for a value that fails this schema, instead of
 * TypeBox's generic one (a union of literals would otherwise read "Expected union value").
 */
export interface ProblemText {
  errorMessage?: string;
}

/** `/steps/1/diagnostics/dist` under root `steps` → `steps.steps[1].diagnostics.dist`. */
export function locate(root: string, pointer: string): string {
  let out = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(key)) out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function describe(e: ValueError): string {
  if (e.message === 'Expected required property') return 'missing';
  const own = (e.schema as ProblemText).errorMessage;
  if (own) return own;
  return e.message.charAt(0).toLowerCase() + e.message.slice(1);
}

/** JSON kind of a value, as a schema `type`. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'number' ? 'number' : typeof v;
}

/** The one alternative of a union whose JSON kind is the value's, if exactly one is. */
function alternativeFor(union: TSchema, value: unknown): TSchema | undefined {
  const kind = kindOf(value);
  const same = ((union.anyOf ?? []) as TSchema[]).filter((s) => (s.type === 'integer' ? 'number' : s.type) === kind);
  return same.length === 1 ? same[0] : undefined;
}

/**
 * The error to report: TypeBox lists an object's missing properties before its wrong ones; a field that
 * is present but wrong says more (`step: expected integer` rather than `epoch: missing` for
 * `{"type":"step","step":"three"}`), so the first such error wins, looking at the first 64 errors.
 */
function firstError(schema: TSchema, value: unknown): ValueError | undefined {
  let first: ValueError | undefined;
  let n = 0;
  for (const e of Value.Errors(schema, value)) {
    if (e.type !== ValueErrorType.ObjectRequiredProperty && e.value !== undefined) return e;
    first ??= e;
    if (++n >= 64) break;
  }
  return first;
}

/**
 * The first problem of `value` against `schema`, located under `root` (e.g. `steps.steps[1].step: expected
 * integer`), or null when it conforms. Unknown object fields are allowed unless the schema says
 * otherwise. `check`, when given, is the schema's generated check (scripts/generateSchemaChecks.ts): the
 * fast path; `Value.Errors` then only runs to explain a failure.
 */
export function schemaProblem(schema: TSchema, value: unknown, root = '', check?: (value: unknown) => boolean): string | null {
  if (check ? check(value) : Value.Check(schema, value)) return null;
  const e = firstError(schema, value);
  if (!e) return `${root || 'value'} does not match its schema`;
  const at = locate(root, e.path);
  // A union (e.g. summary-or-null) fails as a whole; when the value's kind picks one alternative, say what is wrong inside it.
  const variant = e.type === ValueErrorType.Union && e.value !== undefined ? alternativeFor(e.schema, e.value) : undefined;
  if (variant) return schemaProblem(variant, e.value, at);
  return `${at || 'value'}: ${describe(e)}`;
}

/** Narrowing form of `schemaProblem`. */
export function conforms<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return Value.Check(schema, value);
}

/** Every problem of `value` against `schema`, one per location (first problem of each). */
export function schemaProblems(schema: TSchema, value: unknown, root = ''): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of Value.Errors(schema, value)) {
    if ([...seen].some((p) => e.path === p || e.path.startsWith(p + '/'))) continue;
    seen.add(e.path);
    out.push(`${locate(root, e.path) || 'value'}: ${describe(e)}`);
  }
  return out;
}
