/**
 * The extension under test, as users get it: the .vsix from scripts/package-vsix.sh (built by the
 * test unless RLENS_E2E_VSIX names one, as `npm run test:e2e` does after building it once).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO } from './codeServer';
import { ARTIFACTS } from './workbench';

export function ensureVsix(): string {
  const given = process.env.RLENS_E2E_VSIX;
  if (given) {
    const abs = path.resolve(REPO, given);
    if (!fs.existsSync(abs)) throw new Error(`RLENS_E2E_VSIX=${given} does not exist`);
    return abs;
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const out = path.join(ARTIFACTS, 'retrieval-lens.vsix');
  execFileSync('bash', [path.join(REPO, 'scripts/package-vsix.sh'), '--out', out], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
  return out;
}
