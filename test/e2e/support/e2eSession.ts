/**
 * The before/after of an end-to-end test file, written once: `useE2EWorkbench` registers node:test's `before`
 * (the .vsix, a workspace folder, the file's own setup, code-server, Chromium on the folder) and `after` (the
 * file's extra cleanup, a last screenshot, the browser closed, the server stopped, the folder removed with any
 * trainer still running in it), and returns the session whose `wb`, `ws`, `server` the tests use:
 *
 *   const e2e = useE2EWorkbench({ workspace: { prefix: 'rlens-e2e-x-' }, prefix: 'x', expectFile: 'shop.rlens.json' });
 *   test('…', async () => { const { page } = e2e.wb; … });
 *
 * Each getter throws a clear error when used before `before` set it up (or after it failed, or in a skipped file).
 */
import { after, before } from 'node:test';
import * as path from 'path';
import { extensionLogFiles, useCodeServer, type CodeServer } from './codeServer';
import { makeWorkspace, workspaceAt, type E2EWorkspace, type WorkspaceOptions } from './e2eWorkspace';
import { ensureVsix } from './extensionPackage';
import { openWorkbench, type Workbench } from './workbench';

export interface E2ESessionOptions {
  /** makeWorkspace's options: the shop example with its small config (the default), or `withConfig: false`. */
  workspace?: WorkspaceOptions;
  /** A folder of the file's own instead of makeWorkspace's (made here, before `setup`); removed at the end as well. */
  folder?: () => string;
  /** Run before code-server starts: write configs, train runs, copy fixtures into `ws.dir`. */
  setup?: (ws: E2EWorkspace) => void | Promise<void>;
  /** useCodeServer's options: other user settings or workspace trust prompts start a server of the file's own. */
  server?: { settings?: Record<string, unknown>; trust?: boolean };
  /** openWorkbench's: the screenshot name prefix, and the file the explorer lists once the folder is open. */
  prefix: string;
  expectFile: string;
  /** Truthy (e.g. torchSkip): nothing is set up (give the same value as the tests' `skip`). */
  skip?: string | boolean;
  /** Run first in `after` (kill what the tests started), even when `before` failed; the rest of `after` runs even if it throws. */
  cleanup?: () => void | Promise<void>;
}

export interface E2ESession {
  readonly wb: Workbench;
  readonly ws: E2EWorkspace;
  readonly server: CodeServer;
  /** The server's extension log files from before this file's window opened (other files' windows on a shared server). */
  readonly logsBefore: ReadonlySet<string>;
}

export function useE2EWorkbench(opts: E2ESessionOptions): E2ESession {
  let ws: E2EWorkspace | undefined;
  let server: CodeServer | undefined;
  let wb: Workbench | undefined;
  let logsBefore: ReadonlySet<string> | undefined;

  before(async () => {
    if (opts.skip) return;
    const t0 = Date.now();
    const vsix = ensureVsix();
    console.log(`[e2e] extension package ready (${((Date.now() - t0) / 1000).toFixed(1)}s): ${path.relative(process.cwd(), vsix)}`);
    ws = opts.folder ? workspaceAt(opts.folder()) : makeWorkspace(opts.workspace);
    await opts.setup?.(ws);
    server = await useCodeServer({ vsix, workspace: ws.dir, ...opts.server });
    logsBefore = new Set(extensionLogFiles(server));
    wb = await openWorkbench(server.url, ws.dir, { prefix: opts.prefix, expectFile: opts.expectFile });
  });

  after(async () => {
    try {
      await opts.cleanup?.();
    } finally {
      await wb?.shot('zz-last').catch(() => undefined);
      await wb?.close();
      await server?.stop();
      ws?.dispose();
    }
  });

  const ready = <T>(value: T | undefined, name: string): T => {
    if (value === undefined)
      throw new Error(
        `e2e session '${opts.prefix}': ${name} is not set up${opts.skip ? ` (the file is skipped: ${opts.skip})` : ''}: it exists once the file's before hook has run (see its error if it failed)`,
      );
    return value;
  };
  return {
    get wb() {
      return ready(wb, 'wb (the workbench)');
    },
    get ws() {
      return ready(ws, 'ws (the workspace folder)');
    },
    get server() {
      return ready(server, 'server (code-server)');
    },
    get logsBefore() {
      return ready(logsBefore, 'logsBefore (the log files before the window)');
    },
  };
}
