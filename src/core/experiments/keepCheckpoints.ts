/**
 * `sweep.keepCheckpoints`: which checkpoint folders a sweep or ablation run keeps once it has been trained
 * and evaluated (its metrics, failures and events stay whatever is chosen):
 *   "best" (default) — checkpoints/best; checkpoints/last only when there is no best
 *   "last"           — checkpoints/last; best only when there is no last
 *   "all"            — both (identical files already share their bytes: runs/sharedFiles.ts)
 *   "none"           — neither: the run keeps its metrics, failures and events only
 * A checkpoint is removed whole (its folder, with the saved index inside), never modified; the other
 * one's hard-linked files keep their bytes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CHECKPOINTS_DIR } from '../runs';

export type KeepCheckpoints = 'best' | 'last' | 'all' | 'none';

/** Removes the checkpoint folders `keep` does not keep; returns the ones removed (relative to the run). */
export function pruneCheckpoints(runDir: string, keep: KeepCheckpoints): string[] {
  if (keep === 'all') return [];
  const dirOf = (k: string) => path.join(runDir, CHECKPOINTS_DIR, k);
  const has = (k: string) => fs.existsSync(path.join(dirOf(k), 'model.json'));
  const drop: string[] = keep === 'none' ? ['best', 'last'] : keep === 'best' ? (has('best') ? ['last'] : []) : has('last') ? ['best'] : [];
  const removed: string[] = [];
  for (const k of drop) {
    if (!fs.existsSync(dirOf(k))) continue;
    fs.rmSync(dirOf(k), { recursive: true, force: true });
    removed.push(`${CHECKPOINTS_DIR}/${k}`);
  }
  return removed;
}
