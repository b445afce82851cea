/**
 * Runs a command — the end-to-end test files under `node --test` (scripts/node-test.sh) — with ONE code-server
 * started for all of them, instead of one per file:
 *
 *   RLENS_E2E_VSIX=… node --import tsx test/e2e/support/sharedCodeServer.ts -- node --test … test/e2e/*.test.ts
 *
 * The server (default settings, no workspace) reaches the files through RLENS_E2E_SERVER (useCodeServer in
 * codeServer.ts). The files stay independent: each opens its own temp workspace folder in its own Chromium
 * profile, so each gets its own window, extension host and browser-side state; a file that needs other user
 * settings (workspace trust) still starts its own server. The server is stopped (its whole process group) when
 * the command ends, and the command's exit code is this script's.
 */
import { spawn } from 'child_process';
import { SHARED_SERVER_ENV, startCodeServer } from './codeServer';
import { ensureVsix } from './extensionPackage';

async function main(): Promise<number> {
  const dash = process.argv.indexOf('--');
  const command = dash === -1 ? [] : process.argv.slice(dash + 1);
  if (command.length === 0) {
    console.error('usage: node --import tsx test/e2e/support/sharedCodeServer.ts -- <command> [args…]');
    return 2;
  }
  const t0 = Date.now();
  const server = await startCodeServer({ vsix: ensureVsix() });
  console.log(`# shared code-server for the end-to-end files at ${server.url} (started in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const child = spawn(command[0], command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, [SHARED_SERVER_ENV]: JSON.stringify({ url: server.url, root: server.root }) },
  });
  const stopOn = (signal: NodeJS.Signals) => process.once(signal, () => child.kill(signal));
  stopOn('SIGINT');
  stopOn('SIGTERM');
  const code = await new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  if (code !== 0) console.log(`# shared code-server output (the command exited ${code}):\n${server.output().slice(-20_000)}`);
  await server.stop();
  return code;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
