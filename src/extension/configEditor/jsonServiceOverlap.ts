/**
 * Which config problems VS Code's own JSON language service already lists in Problems for a
 * `*.rlens.json` document, so Retrieval Lens does not list them a second time. The JSON service gets
 * schemas/experiment.editor.schema.json (no validation keywords: schema problems are ours alone, in
 * the CLI's words) but always reports JSON syntax errors and duplicate keys of a JSON(C) file.
 * No VS Code import: unit-tested.
 */
import type { ConfigProblem } from '../../core/config/configError';

/** Whether the JSON language service reports this problem itself (a JSON syntax error). */
export function shownByJsonService(p: ConfigProblem): boolean {
  return p.message.startsWith('JSON syntax error');
}
