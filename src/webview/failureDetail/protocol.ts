/**
 * The protocol between the extension and the Failing Query detail webview (media/failureDetail.js). Each
 * message is one TypeBox schema with its generated check (protocolChecks.generated.ts: the webview's CSP
 * forbids eval); both sides validate every message and ignore one that does not validate.
 *
 * Flow: the webview posts `ready` when loaded (also after a reload); the extension answers with `show`: the
 * detail of the selected failing query as markup it rendered with every text escaped
 * (src/extension/failures/failureDetail.ts), and the query's key. A new key starts at the top; the same key
 * again (its full item texts read) keeps the scroll position. A click on a data location (the query, a
 * positive, a retrieved corpus item) posts `openLine`: the extension opens that file at that line.
 *
 * This module must stay free of `vscode` and Node imports: it is bundled into the webview.
 */
import { Type } from '@sinclair/typebox';
import { defineChannel, type MessageOf, type ParseResult } from '../../core/messageChannel';
import { FROM_DETAIL_CHECKS, TO_DETAIL_CHECKS } from './protocolChecks.generated';

/** extension → webview */
export const TO_DETAIL_SCHEMAS = {
  /** Show a failing query's detail (`html`: escaped markup of failureDetail.ts). */
  show: Type.Object({ type: Type.Literal('show'), key: Type.String(), html: Type.String() }),
} as const;
export type ToDetail = MessageOf<typeof TO_DETAIL_SCHEMAS>;

/** webview → extension */
export const FROM_DETAIL_SCHEMAS = {
  ready: Type.Object({ type: Type.Literal('ready') }, { additionalProperties: false }),
  /** Open a data file at a 1-based line (the query, a positive or a retrieved item). */
  openLine: Type.Object({ type: Type.Literal('openLine'), file: Type.String(), line: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
} as const;
export type FromDetail = MessageOf<typeof FROM_DETAIL_SCHEMAS>;

/** Validates a message to the webview. */
export const parseToDetail: (x: unknown) => ParseResult<ToDetail> = defineChannel(TO_DETAIL_SCHEMAS, TO_DETAIL_CHECKS);

/** Validates a message from the webview. */
export const parseFromDetail: (x: unknown) => ParseResult<FromDetail> = defineChannel(FROM_DETAIL_SCHEMAS, FROM_DETAIL_CHECKS);
