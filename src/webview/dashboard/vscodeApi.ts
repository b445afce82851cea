/**
 * The dashboard's side of the VS Code API (shared/vscodeApi.ts): typed outgoing messages and the saved
 * snapshot.
 */
import { vscodeApi, type WebviewApi } from '../shared/vscodeApi';
import type { FromDashboard } from './protocol';
import { parseSnapshot, type Snapshot } from './snapshot';

export class Host {
  private lastSaved = '';

  constructor(private readonly api: WebviewApi<FromDashboard> = vscodeApi()) {}

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
