/**
 * Entry point of the Dashboard webview bundle (media/dashboard.js): builds the dashboard, listens
 * for the extension's messages, exposes the read-only debug hook and tells the extension it is ready.
 */
import { Dashboard } from './dashboard';
import { makeDebugHook } from './debugHook';
import { Host } from './vscodeApi';

function main(): void {
  const root = document.getElementById('rlens-dashboard');
  if (!root) throw new Error('dashboard: #rlens-dashboard is missing from the page');
  const host = new Host();
  const dashboard = new Dashboard(root, host);
  window.addEventListener('message', (event: MessageEvent) => dashboard.handleMessage(event.data));
  Object.defineProperty(window, '__rlensDashboard', { value: makeDebugHook(dashboard), writable: false, configurable: false });
  host.post({ type: 'ready' });
}

main();
