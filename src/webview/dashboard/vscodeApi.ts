/**
 * The webview side of the VS Code API (`acquireVsCodeApi`, callable once per page): typed outgoing
 * messages and the saved snapshot.
 */
import type { FromDashboard } from './protocol';
import { parseSnapshot, type Snapshot } from './snapshot';

interface WebviewApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): WebviewApi;

export class Host {
  private readonly api: WebviewApi;
  private lastSaved = '';

  constructor(api: WebviewApi = acquireVsCodeApi()) {
    this.api = api;
  }

  /** Sends a message to the extension. */
  post(message: FromDashboard): void {
    this.api.postMessage(message);
  }

  /** The saved snapshot, when there is a valid one. */
  loadSnapshot(): Snapshot | null {
    try {
      return parseSnapshot(this.api.getState());
    } catch {
      return null;
    }
  }

  /** Saves the snapshot (skipped when unchanged). */
  saveSnapshot(s: Snapshot): void {
    const text = JSON.stringify(s);
    if (text === this.lastSaved) return;
    this.lastSaved = text;
    this.api.setState(s);
  }
}
