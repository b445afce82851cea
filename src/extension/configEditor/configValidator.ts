/**
 * The core config validator (parseConfigText), loaded on first use: compiling the experiment JSON
 * schema with ajv costs ~150 ms, which activation should not pay when no config is open.
 */
import type * as LoadConfig from '../../core/config/loadConfig';

let loaded: typeof LoadConfig | undefined;

/** parseConfigText of src/core/config (throws ConfigError with located problems). */
export function parseConfigText(...args: Parameters<typeof LoadConfig.parseConfigText>): ReturnType<typeof LoadConfig.parseConfigText> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('../../core/config/loadConfig') as typeof LoadConfig;
  return loaded.parseConfigText(...args);
}
