/**
 * The webview side of the VS Code API. `acquireVsCodeApi` (defined by VS Code in every webview page) may be
 * called only once per page: each webview's entry point calls `vscodeApi` once and passes the result on.
 */

export interface WebviewApi<Out> {
  /** Sends a message to the extension. */
  postMessage(message: Out): void;
  /** The state saved with `setState` (kept while the webview is hidden and across reloads). */
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): WebviewApi<unknown>;

/** The page's VS Code API, typed by the messages this webview sends. */
export function vscodeApi<Out>(): WebviewApi<Out> {
  return acquireVsCodeApi();
}
