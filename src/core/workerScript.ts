import * as fs from 'fs';
import * as path from 'path';

/**
 * The script of a worker thread whose entry is `sourceFile` (a .ts file of src/core): `dist/<name>.js` beside the
 * bundle that runs this code (each worker entry is a webpack entry of its own, and webpack keeps `__dirname`), else
 * — running from the TypeScript sources, as tests and benchmarks do under tsx — a two-line bootstrap that loads the
 * .ts file through tsx's CommonJS hook (Node 20 does not apply the parent's `--import tsx` to worker threads).
 * Pass it to `new Worker(script, { eval })`.
 */
export function workerScript(sourceFile: string): { script: string; eval: boolean } {
  const bundled = path.join(__dirname, path.basename(sourceFile).replace(/\.ts$/, '.js'));
  if (fs.existsSync(bundled)) return { script: bundled, eval: false };
  const tsx = require.resolve('tsx/cjs/api');
  return { script: `require(${JSON.stringify(tsx)}).register();\nrequire(${JSON.stringify(sourceFile)});`, eval: true };
}
