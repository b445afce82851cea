/**
 * A real VS Code for the end-to-end tests: code-server 4.100.3 (VS Code 1.100.3) installed by
 * scripts/setup-code-server.sh, started in its own process group with private user-data, extensions and
 * HOME folders, the extension installed from its .vsix (installed once per .vsix and copied), and always
 * killed (the whole group: the extension hosts and any trainer they forked) at the end. `npm test` starts one
 * for all the test files that use the default settings (sharedCodeServer.ts; each file opens its own workspace
 * folder in its own browser, so each gets its own window and extension host); a file run on its own, or one
 * that needs other settings (workspace trust), starts its own.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import { freePort } from '../../../src/trainer/freePort';
import * as os from 'os';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '../../..');
/** Where scripts/setup-code-server.sh installs by default. */
export const CODE_SERVER = process.env.RLENS_CODE_SERVER ?? path.join(REPO, '.cache/code-server/node_modules/.bin/code-server');

/** User settings that keep welcome pages, trust prompts and update checks out of the way. */
export const E2E_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'editor.codeLens': true,
  'window.restoreWindows': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.commandCenter.enabled': false,
  // The web workbench defaults to auto-save after a delay; desktop VS Code (what users run) does not.
  'files.autoSave': 'off',
};

export interface CodeServer {
  url: string;
  /** Root of the server's private folders (user data, extensions, HOME). */
  root: string;
  /** Server output so far (for failure messages). */
  output(): string;
  /** Kill the whole process group and remove the private folders (nothing for the shared server: its runner does). */
  stop(): Promise<void>;
}

/** Environment variable through which sharedCodeServer.ts hands its server to the test files: JSON {url, root}. */
export const SHARED_SERVER_ENV = 'RLENS_E2E_SERVER';

/**
 * The code-server of a test file: the shared one when sharedCodeServer.ts started one and the file needs only
 * the default settings (E2E_SETTINGS, trust prompts off), else one of its own (startCodeServer).
 */
export async function useCodeServer(opts: { vsix: string; workspace: string; settings?: Record<string, unknown>; trust?: boolean }): Promise<CodeServer> {
  const shared = process.env[SHARED_SERVER_ENV];
  if (!shared || opts.settings !== undefined || opts.trust === false) return startCodeServer(opts);
  const { url, root } = JSON.parse(shared) as { url: string; root: string };
  return { url, root, output: () => '(the shared code-server: its output is printed by sharedCodeServer.ts)', stop: async () => undefined };
}

/**
 * The .vsix installed by code-server itself, once per .vsix (its path, size and mtime) into a folder beside it:
 * every test file used to run `--install-extension` again (≈ 5–10 s each). Each server gets its own copy.
 */
function installedOnce(vsix: string, env: NodeJS.ProcessEnv): string {
  const st = fs.statSync(vsix);
  const dir = `${path.resolve(vsix)}.installed-${st.size}-${Math.round(st.mtimeMs)}`;
  if (fs.existsSync(path.join(dir, 'extensions.json'))) return dir;
  const tmp = fs.mkdtempSync(`${dir}.tmp-`);
  const ud = path.join(tmp, '.ud');
  execFileSync(CODE_SERVER, ['--user-data-dir', ud, '--extensions-dir', tmp, '--install-extension', vsix], { env, stdio: 'pipe', timeout: 120_000 });
  fs.rmSync(ud, { recursive: true, force: true });
  // extensions.json names the folder it was installed into: written relative, made absolute per copy.
  const list = path.join(tmp, 'extensions.json');
  fs.writeFileSync(list, fs.readFileSync(list, 'utf8').split(tmp).join('@@EXTENSIONS_DIR@@'));
  fs.renameSync(tmp, dir);
  return dir;
}

/** A private copy of an installed-extensions folder, its extensions.json pointing at the copy. */
function copyInstalledExtension(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
  const list = path.join(to, 'extensions.json');
  fs.writeFileSync(list, fs.readFileSync(list, 'utf8').split('@@EXTENSIONS_DIR@@').join(to));
}

/** Install the .vsix and start code-server (on `workspace`, when given); resolves once /healthz answers. */
export async function startCodeServer(opts: { vsix: string; workspace?: string; settings?: Record<string, unknown>; trust?: boolean }): Promise<CodeServer> {
  if (!fs.existsSync(CODE_SERVER)) throw new Error(`code-server is not installed at ${CODE_SERVER}: run bash scripts/setup-code-server.sh`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-cs-'));
  const dirs = { ud: path.join(root, 'ud'), ext: path.join(root, 'ext'), home: path.join(root, 'home') };
  Object.values(dirs).forEach((d) => fs.mkdirSync(d, { recursive: true }));
  fs.mkdirSync(path.join(dirs.ud, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.ud, 'User', 'settings.json'), JSON.stringify({ ...E2E_SETTINGS, ...opts.settings }, null, 2));
  fs.writeFileSync(path.join(root, 'config.yaml'), 'auth: none\ncert: false\n');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dirs.home };
  delete env.VSCODE_IPC_HOOK_CLI;
  copyInstalledExtension(installedOnce(opts.vsix, env), dirs.ext);

  const port = await freePort();
  const args = [
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(opts.trust === false ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--user-data-dir',
    dirs.ud,
    '--extensions-dir',
    dirs.ext,
    '--config',
    path.join(root, 'config.yaml'),
    ...(opts.workspace ? [opts.workspace] : []),
  ];
  // detached: its own process group (setsid), so stop() can kill the server, extension host and trainer together.
  const child = spawn(CODE_SERVER, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      if (!killed) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await exited;
      }
    }
    // Anything of the group still alive (e.g. a forked trainer that ignored SIGTERM) goes too.
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is empty
      }
    }
    fs.rmSync(root, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, root, output: () => out, stop };
}

/**
 * The extension host and Retrieval Lens log files under the server's user data, except those in `except` (the
 * files that were there before a test opened its window: a shared server holds the logs of earlier windows too).
 */
export function extensionLogFiles(server: CodeServer, except: ReadonlySet<string> = new Set()): string[] {
  const logs: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/exthost\.log$|Retrieval Lens\.log$/.test(e.name) && !except.has(p)) logs.push(p);
    }
  };
  const root = path.join(server.root, 'ud', 'logs');
  if (fs.existsSync(root)) walk(root);
  return logs;
}

/** The `[error]` lines of Retrieval Lens (or its trainer) in the extension host logs, but those of `except`. */
export function retrievalLensErrors(server: CodeServer, except: ReadonlySet<string> = new Set()): { logs: number; errors: string[] } {
  const logs = extensionLogFiles(server, except);
  const errors = logs.flatMap((f) =>
    fs
      .readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => /\[error\]/.test(l) && /retrieval-lens|Retrieval Lens|\[trainer\]/i.test(l)),
  );
  return { logs: logs.length, errors };
}
