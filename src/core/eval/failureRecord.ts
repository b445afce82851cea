/**
 * The schema of one failing query as readers get it from a failures file (eval/failures.jsonl,
 * eval/failures-ann.jsonl; format 1 or 2 decoded by failuresFile.ts): TypeBox, with a generated check
 * (`npm run -s gen:checks` → failureRecordChecks.generated.ts). Every reader of failures files checks each
 * record with `failureRecordProblem` (through parseFailures in evalOutputs.ts), so `compare`, the Failing
 * Queries view and the embedding map agree on which lines are bad. The TypeScript shape is FailureRecord
 * (types.ts); this schema is what a record must hold for them to use it.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { schemaProblem } from '../schemaCheck';
import { isFailureRecord } from './failureRecordChecks.generated';
import { TRIAGE_LABELS } from './types';

const oneOf = (values: readonly string[]) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { errorMessage: `must be one of ${values.join(', ')}` },
  );
/** A 1-based rank, or null (beyond the rank cutoff). */
const Rank = () => Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { errorMessage: 'must be an integer ≥ 1 or null' });
/** Where a record is: a data file and its 1-based line. */
const Source = () => Type.Object({ file: Type.String(), line: Type.Integer({ minimum: 1 }) }, { errorMessage: 'must be {file, line ≥ 1}' });
const NumberOrNull = () => Type.Union([Type.Number(), Type.Null()], { errorMessage: 'must be a number or null' });

export const FailureRecordSchema: TSchema = Type.Object({
  step: Type.Integer({ minimum: 0 }),
  search: Type.Optional(Type.String()),
  queryId: Type.String(),
  query: Type.String(),
  queryCut: Type.Optional(Type.Boolean()),
  source: Source(),
  rank: Rank(),
  rankCutoff: Type.Integer({ minimum: 1 }),
  positives: Type.Array(Type.Object({ itemId: Type.String(), text: Type.String(), rank: Rank(), score: NumberOrNull(), source: Source() })),
  topK: Type.Array(
    Type.Object({
      itemId: Type.String(),
      text: Type.String(),
      score: NumberOrNull(),
      simToPositive: NumberOrNull(),
      relevant: Type.Boolean(),
      source: Source(),
    }),
  ),
  label: oneOf(TRIAGE_LABELS),
  labelReason: Type.String(),
  evidence: Type.Optional(Type.Object({})),
  severity: NumberOrNull(),
});

/** Why a decoded failure record cannot be used (located, e.g. `source.line: expected integer to be greater or equal to 1`); null when it can. */
export function failureRecordProblem(x: unknown): string | null {
  return schemaProblem(FailureRecordSchema, x, '', isFailureRecord);
}
