import assert from 'node:assert/strict';
import { ConfigError, parseConfigText } from '../../src/core/config';

/** The ConfigError that parsing this config text throws (fails the test when it parses). */
export function configErrorOf(text: string): ConfigError {
  try {
    parseConfigText(text, 'exp.rlens.json');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e;
  }
  assert.fail('no error');
}
