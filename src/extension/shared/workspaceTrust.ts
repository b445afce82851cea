/**
 * Workspace trust: training and evaluation run the trainer on the workspace's config and data, so
 * they are disabled in an untrusted workspace, with an explanation and a way to trust it.
 */
import * as vscode from 'vscode';

/** Whether running jobs is allowed. */
export function isTrusted(): boolean {
  return vscode.workspace.isTrusted;
}

/** Why jobs are disabled, for messages and lens tooltips. */
export const UNTRUSTED_EXPLANATION =
  "Retrieval Lens does not train or evaluate in an untrusted workspace: both run the trainer on this workspace's config and data files. Trust the workspace to enable them.";

/**
 * True when trusted; otherwise explains why `action` is disabled, offers to manage trust, and returns false.
 */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`${action} is disabled: ${UNTRUSTED_EXPLANATION}`, 'Manage Workspace Trust').then((choice) => {
    if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}
