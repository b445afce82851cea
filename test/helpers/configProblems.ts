import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/config/configError';
import { parseConfigText } from '../../src/core/config/loadConfig';
import { shownByJsonService } from '../../src/extension/configEditor/jsonServiceOverlap';

/** The config problems Retrieval Lens puts in Problems for a document (what ConfigDiagnostics publishes). */
export function configProblemsOf(text: string, file: string): { line: number; column: number; message: string }[] {
  try {
    parseConfigText(text, file);
    return [];
  } catch (e) {
    return (e as ConfigError).problems.filter((p) => !shownByJsonService(p)).map((p) => ({ line: p.line, column: p.column, message: p.message }));
  }
}

/** The ConfigError a config text raises (parseConfigText); fails the test when it raises none or another error. */
export function configErrorOf(text: string, file = 'exp.rlens.json'): ConfigError {
  try {
    parseConfigText(text, file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('no error');
}
