/**
 * Driving the VS Code workbench in headless Chromium (playwright-core + /usr/bin/chromium) like a
 * person: the command palette, the Retrieval Lens sidebar and its webview, CodeLenses, tree rows,
 * the status bar. Selectors follow /work/shared/vscode-e2e/README.md.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type BrowserContext, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../helpers/chromium';

export const ARTIFACTS = path.resolve(__dirname, '../../../test-artifacts/e2e');
export const EXTENSION_ID = 'retrieval-lens.retrieval-lens';

export interface Workbench {
  page: Page;
  context: BrowserContext;
  /** Browser console errors and page errors seen so far. */
  errors: string[];
  /** Elapsed seconds since open, for logs. */
  log(...parts: unknown[]): void;
  /** Screenshot into test-artifacts/e2e/<prefix>-<name>.png; returns its path. */
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launch Chromium and open `folder` in the workbench at `url`; resolves when the explorer lists `expectFile`. */
export async function openWorkbench(url: string, folder: string, opts: { prefix: string; expectFile: string }): Promise<Workbench> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-chrome-'));
  fs.mkdirSync(path.join(udd, 'home'));
  const context = await chromium.launchPersistentContext(udd, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    env: { ...process.env, HOME: path.join(udd, 'home') },
    viewport: { width: 1500, height: 950 },
    args: CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const t0 = Date.now();
  const errors: string[] = [];
  const log = (...parts: unknown[]) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...parts);
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text().slice(0, 300)}`);
  });
  const wb: Workbench = {
    page,
    context,
    errors,
    log,
    shot: async (name) => {
      const file = path.join(ARTIFACTS, `${opts.prefix}-${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    close: async () => {
      // Leaving the page first shuts the workbench down as a closed tab does: its connections to a shared
      // code-server end at once, instead of the server keeping the window's extension host for a reconnection.
      await page.goto('about:blank', { timeout: 10_000 }).catch(() => undefined);
      await context.close().catch(() => undefined);
      fs.rmSync(udd, { recursive: true, force: true });
    },
  };
  try {
    await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: opts.expectFile }).first().waitFor({ timeout: 90_000 });
    log('workbench ready');
  } catch (e) {
    await wb.shot('open-failed').catch(() => undefined);
    await wb.close();
    throw e;
  }
  return wb;
}

/** The Retrieval Lens activity-bar item (present once the extension's contributions are loaded). */
export function activityItem(page: Page): Locator {
  return page.locator('.activitybar .action-item a[aria-label^="Retrieval Lens"]').first();
}

/**
 * Keyboard focus back on the workbench document. After a click into a webview (the dashboard), keys go
 * to the webview's iframe, where F1 / Ctrl+P may not reach the workbench; blurring the iframe element
 * returns focus to the top document.
 */
export async function focusWorkbench(page: Page): Promise<void> {
  await page.evaluate(() => {
    const active = document.activeElement as HTMLElement | null;
    if (active && active.tagName === 'IFRAME') active.blur();
  });
}

/** Press a workbench key binding (with focus on the workbench, not in a webview). */
export async function pressKey(page: Page, key: string): Promise<void> {
  await focusWorkbench(page);
  await page.keyboard.press(key);
}

/** The quick input (palette / Quick Open) widget and its text box. */
function quickInput(page: Page): { widget: Locator; input: Locator } {
  const widget = page.locator('.quick-input-widget');
  return { widget, input: widget.locator('.quick-input-box input') };
}

/** Close the quick input if it is open, and wait until it is hidden. */
async function closeQuickInput(page: Page): Promise<void> {
  const { widget } = quickInput(page);
  if (await widget.isVisible()) {
    await focusWorkbench(page);
    await page.keyboard.press('Escape');
    await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  }
}

/**
 * Open the quick input with `key` (F1: the command palette; Control+P: Quick Open), enter `value`, and
 * pick the first row containing `rowText`. Every step waits on a state: the widget visible with its text
 * box focused, the row listed, the widget hidden again after Enter. A try that does not reach the row
 * (the key went to a webview, the extension host has not registered the command yet, the file index
 * has not caught up) closes the widget and starts over; once Enter is pressed there is no retry.
 */
async function pickFromQuickInput(page: Page, key: string, value: string, rowText: string, what: string): Promise<void> {
  const { widget, input } = quickInput(page);
  // The focused row is what Enter accepts: waiting for a matching row anywhere in the list let Enter take the
  // first row of a list not yet filtered (Quick Open re-opened the recent train.jsonl instead of the config).
  const row = widget.locator('.monaco-list-row.focused', { hasText: rowText }).first();
  let lastError: unknown;
  for (let attempt = 1; attempt <= 10; attempt++) {
    await closeQuickInput(page);
    await focusWorkbench(page);
    await page.keyboard.press(key);
    try {
      await widget.waitFor({ state: 'visible', timeout: 5_000 });
      await waitFor(
        `the ${what} text box to have focus`,
        () => input.evaluate((el) => el === document.activeElement),
        (focused) => focused,
        5_000,
        100,
      );
      await input.fill(value);
      await row.waitFor({ timeout: 8_000 });
    } catch (e) {
      lastError = e;
      continue;
    }
    // Picked: never retried from here on (a retry could run the command twice).
    await input.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: 20_000 });
    return;
  }
  throw new Error(`${what}: could not pick "${rowText}" after 10 tries: ${String(lastError)}`);
}

/** Run a command from the palette by its title (retrying while the extension host registers it). */
export async function runCommand(page: Page, title: string): Promise<void> {
  await pickFromQuickInput(page, 'F1', `>${title}`, title, 'command palette');
}

/**
 * Run a palette command that opens a quick input of its own at once, and wait for that input (`next`):
 * runCommand waits for the palette to close, which the reused widget may never visibly do.
 */
export async function commandOpening(page: Page, title: string, next: Locator): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('.quick-input-box input');
  for (let attempt = 1; attempt <= 10; attempt++) {
    if (await widget.isVisible()) await pressKey(page, 'Escape');
    await pressKey(page, 'F1');
    try {
      await widget.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(`>${title}`);
      await widget.locator('.monaco-list-row', { hasText: title }).first().waitFor({ timeout: 8_000 });
    } catch {
      continue;
    }
    await input.press('Enter');
    await next.waitFor({ timeout: 30_000 });
    return;
  }
  throw new Error(`could not run "${title}" from the palette`);
}

/**
 * Quick Open a workspace file by name. A file created a moment ago may be missing from the file search
 * of an open picker (the workspace index catches up after the file watcher fires), so the picker is
 * reopened until the file is listed.
 */
export async function quickOpen(page: Page, fileName: string): Promise<void> {
  await pickFromQuickInput(page, 'Control+P', fileName, fileName, 'Quick Open');
}

/**
 * Click a button of a notification toast, and wait for the toast to close, which it does once the click
 * reached the button. A click that did not (the toast list was re-rendered under the pointer) is made
 * again; the action behind the button runs only for a click that closed the toast.
 */
export async function clickToastButton(toast: Locator, button: string): Promise<void> {
  const target = toast.locator('.monaco-button', { hasText: button }).first();
  for (let attempt = 1; ; attempt++) {
    // Toasts slide in and stack: click once the button has stayed where it is (the same box twice in a row),
    // so the click cannot land on a neighbour's button (which would close the toast without this action).
    let last = '';
    await waitFor(
      `the "${button}" button at rest`,
      async () => {
        const box = JSON.stringify(await target.boundingBox({ timeout: 15_000 }));
        const still = box === last;
        last = box;
        return still;
      },
      (still) => still,
      15_000,
      300,
    );
    await target.click({ timeout: 15_000 });
    try {
      await toast.waitFor({ state: 'detached', timeout: 5_000 });
      return;
    } catch (e) {
      if (attempt >= 5) throw new Error(`the toast with "${button}" stayed open after ${attempt} clicks`, { cause: e });
    }
  }
}

/** The inner frame of the Failing Query detail webview (the extension's webview whose page holds #rlens-failure). */
export async function failureDetailFrame(page: Page): Promise<FrameLocator> {
  const frames = page.frameLocator(`iframe.webview[src*="extensionId=${EXTENSION_ID}"]`);
  return waitFor(
    'the Failing Query detail webview',
    async () => {
      const n = await page.locator(`iframe.webview[src*="extensionId=${EXTENSION_ID}"]`).count();
      for (let i = 0; i < n; i++) {
        const inner = frames.nth(i).frameLocator('iframe#active-frame');
        if ((await inner.locator('#rlens-failure').count()) > 0) return inner;
      }
      return null;
    },
    (f): f is FrameLocator => f !== null,
    30_000,
  ) as Promise<FrameLocator>;
}

/** The inner frame of the Dashboard webview (sidebar view or panel: the first one present). */
export function dashboardFrame(page: Page): FrameLocator {
  return page.frameLocator(`iframe.webview[src*="extensionId=${EXTENSION_ID}"]`).first().frameLocator('iframe#active-frame');
}

/** A CodeLens whose text contains `text`. */
export function codeLens(page: Page, text: string | RegExp): Locator {
  return page.locator('.monaco-editor .codelens-decoration', { hasText: text });
}

/**
 * Wait for a CodeLens containing `text`; on a timeout the error lists the lens texts shown then (a lens that
 * kept an older text and one that never showed fail differently).
 */
export async function waitForLens(page: Page, text: string | RegExp, timeout: number): Promise<void> {
  try {
    await codeLens(page, text).first().waitFor({ timeout });
  } catch (e) {
    const shown = await page
      .locator('.monaco-editor .codelens-decoration')
      .allInnerTexts()
      .catch(() => []);
    throw new Error(`no CodeLens with ${String(text)} within ${timeout} ms; shown: ${JSON.stringify(shown)}`, { cause: e });
  }
}

/** A row of a sidebar tree view (by the view's title) containing `text`. */
export function treeRow(page: Page, viewTitle: string, text: string | RegExp): Locator {
  return page.locator(`.pane:has(.pane-header[aria-label^="${viewTitle}"]) .monaco-list-row`, { hasText: text });
}

/** Text of the status bar's cursor position item ("Ln 12, Col 1"). */
export async function cursorPosition(page: Page): Promise<{ line: number; column: number } | null> {
  const text =
    (await page
      .locator('.statusbar-item[id="status.editor.selection"]')
      .first()
      .textContent()
      .catch(() => null)) ?? '';
  const m = /Ln (\d+), Col (\d+)/.exec(text);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : null;
}

/** The step of a dashboard's step text: "step 1,234 / 200,000" → 1234 (-1 when there is none). */
export function stepOf(text: string | null): number {
  const m = /step ([\d,]+)/.exec(text ?? '');
  return m ? Number(m[1].replace(/,/g, '')) : -1;
}

/** Poll `read` until `ok` holds (or time out with the last value in the message). */
export async function waitFor<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
