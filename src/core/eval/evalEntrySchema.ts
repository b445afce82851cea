/**
 * The schema of one entry of eval/metrics.json (`EvalEntry`, types.ts; docs/run-format.md §8) as both writers
 * write it: `appendMetricsEntry` (evalOutputs.ts; full evaluations and the built-in trainer's live held-out
 * evaluations) and the PyTorch trainer's mirror `append_metrics_entry` (python/retrieval_lens/run_writer.py,
 * its live held-out evaluations). TypeBox, exported as JSON Schema in schemas/run-events.schema.json
 * (`definitions.evalEntry`, `npm run -s gen:checks`), which python/tests/test_run_format.py checks the Python
 * writer's entries against; test/unit/heldOutQuality.test.ts checks the built-in trainer's.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { HeldOutSchema } from '../runs/eventSchema';
import { TRIAGE_LABELS } from './types';

/** Metric name → value, e.g. "recall@10" → 0.41. */
const Metrics = () => Type.Record(Type.String(), Type.Number());
const MetricsOrNull = () => Type.Union([Metrics(), Type.Null()]);
const Summary = () =>
  Type.Object({
    k: Type.Integer({ minimum: 1 }),
    count: Type.Integer({ minimum: 0 }),
    byLabel: Type.Object(Object.fromEntries(TRIAGE_LABELS.map((l) => [l, Type.Optional(Type.Integer({ minimum: 0 }))]))),
    search: Type.Optional(Type.String()),
    file: Type.Optional(Type.String()),
    fixedByHybrid: Type.Optional(Type.Integer({ minimum: 0 })),
    byCoverage: Type.Optional(Type.Record(Type.String(), Type.Integer({ minimum: 0 }))),
  });

export const EvalEntrySchema: TSchema = Type.Object({
  step: Type.Integer({ minimum: 0 }),
  time: Type.String(),
  /** "checkpoints/best", …, or "in-memory" for a live evaluation during training. */
  checkpoint: Type.String(),
  queries: Type.Object({ source: Type.String(), count: Type.Integer({ minimum: 0 }), withoutRelevant: Type.Integer({ minimum: 0 }), subset: Type.Boolean() }),
  heldOut: Type.Optional(HeldOutSchema),
  corpus: Type.Object({ source: Type.String(), count: Type.Integer({ minimum: 0 }) }),
  index: Type.Object({ spec: Type.Record(Type.String(), Type.Unknown()), notes: Type.Array(Type.String()), buildMs: Type.Number(), searchMs: Type.Number() }),
  encodeMs: Type.Number(),
  exact: MetricsOrNull(),
  exactSkipped: Type.Optional(Type.String()),
  ann: MetricsOrNull(),
  annGap: MetricsOrNull(),
  bm25: Type.Optional(MetricsOrNull()),
  lexical: Type.Optional(
    Type.Union([
      Type.Object({
        model: Type.Literal('BM25'),
        params: Type.Object({ k1: Type.Number(), b: Type.Number() }),
        tokenizer: Type.String(),
        reused: Type.Boolean(),
        buildMs: Type.Number(),
        searchMs: Type.Number(),
        searchThreads: Type.Optional(Type.Integer({ minimum: 1 })),
      }),
      Type.Null(),
    ]),
  ),
  failures: Summary(),
  annFailures: Type.Optional(Type.Union([Summary(), Type.Null()])),
  hybrid: Type.Optional(MetricsOrNull()),
  fusion: Type.Optional(Type.Union([Type.Object({ method: Type.Literal('RRF'), k: Type.Number(), dense: Type.String() }), Type.Null()])),
  nprobeCurve: Type.Optional(Type.Union([Type.Object({}), Type.Null()])),
});
