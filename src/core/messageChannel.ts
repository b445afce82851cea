/**
 * One direction of a message channel (extension ↔ webview, parent ↔ trainer process): a record of TypeBox
 * schemas keyed by the message's `type`, their generated checks (scripts/generateSchemaChecks.ts: the
 * webviews' CSP forbids eval) and, optionally, the rules a schema cannot say (array lengths that must
 * agree, a histogram's lo < hi). `defineChannel` gives the one parser every such channel uses: a message is
 * accepted whole or refused with one located reason (`steps.steps[3].step: expected integer`).
 *
 * Pure TypeScript with no Node or DOM import: the extension, the trainer and the webview bundles share it.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { isPlainObject } from './jsonGuards';
import { schemaProblem } from './schemaCheck';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The union of a channel's messages. */
export type MessageOf<S extends Record<string, TSchema>> = { [K in keyof S]: Static<S[K]> }[keyof S];

/**
 * The parser of the messages `schemas` describe: `x` must be an object whose `type` names one of them and
 * that passes its check (`checks[type]`, the generated check of `schemas[type]`), then `rules` (given the
 * message, typed); the reason of a refusal names the message type and the path of the bad field.
 */
export function defineChannel<S extends Record<string, TSchema>>(
  schemas: S,
  checks: { readonly [K in keyof S]: (value: unknown) => boolean },
  rules?: (message: MessageOf<S>) => string | null,
): (x: unknown) => ParseResult<MessageOf<S>> {
  return (x) => {
    if (!isPlainObject(x)) return { ok: false, reason: 'message is not an object' };
    const type = x.type;
    if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(schemas, type)) {
      return { ok: false, reason: `unknown message type ${JSON.stringify(type)}` };
    }
    const problem = schemaProblem(schemas[type], x, type, checks[type]) ?? rules?.(x as MessageOf<S>) ?? null;
    return problem === null ? { ok: true, value: x as MessageOf<S> } : { ok: false, reason: problem };
  };
}
