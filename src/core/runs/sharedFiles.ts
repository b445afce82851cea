/**
 * Checkpoints stored once: a checkpoint file byte-identical to the same file of another checkpoint folder
 * (checkpoints/best/weights.bin and checkpoints/last/weights.bin when best is the last step) shares its bytes
 * through a hard link, and a run's size on disk counts each inode once.
 *
 * Crash safety: sharing happens inside the temp folder of writeDirAtomically (checkpointDir.ts), before the
 * swap — the link is made under a temp name and renamed over the copy, so the folder holds the copy or the
 * link, never neither. Checkpoint files are never modified in place (every write goes to a new temp folder,
 * and the old folder is removed by unlinking), so a linked inode is never changed under the other name.
 * Where a hard link cannot be made (another device, a file system without links), the copy stays.
 */
import * as fs from 'fs';
import * as path from 'path';

const CHUNK = 1 << 20;

/** Whether two files hold the same bytes (sizes first, then 1 MB chunks). */
export function sameBytes(a: string, b: string): boolean {
  const sa = fs.statSync(a);
  const sb = fs.statSync(b);
  if (sa.size !== sb.size) return false;
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  try {
    const ba = Buffer.allocUnsafe(CHUNK);
    const bb = Buffer.allocUnsafe(CHUNK);
    for (let at = 0; at < sa.size;) {
      const n = fs.readSync(fa, ba, 0, CHUNK, at);
      const m = fs.readSync(fb, bb, 0, CHUNK, at);
      if (n !== m || n === 0 || !ba.subarray(0, n).equals(bb.subarray(0, m))) return false;
      at += n;
    }
    return true;
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/**
 * Replaces each top-level file of `dir` that is byte-identical to the same-named file of `other` by a hard
 * link to it. Returns the names now shared (a failed link keeps the copy and is not listed).
 */
export function shareIdenticalFiles(dir: string, other: string): string[] {
  const shared: string[] = [];
  if (!fs.existsSync(other)) return shared;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const mine = path.join(dir, entry.name);
    const theirs = path.join(other, entry.name);
    try {
      if (!fs.statSync(theirs).isFile() || !sameBytes(mine, theirs)) continue;
    } catch {
      continue;
    }
    const tmp = `${mine}.link-${process.pid}.tmp`;
    try {
      fs.linkSync(theirs, tmp);
      fs.renameSync(tmp, mine);
      shared.push(entry.name);
    } catch {
      fs.rmSync(tmp, { force: true }); // EXDEV, EPERM, …: the copy stays
    }
  }
  return shared;
}

/** Bytes on disk under `dir` (apparent sizes), each hard-linked file counted once. */
export function diskBytes(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          const s = fs.statSync(p);
          const key = `${s.dev}:${s.ino}`;
          if (seen.has(key)) continue;
          seen.add(key);
          total += s.size;
        } catch {
          // gone meanwhile
        }
      }
    }
  };
  walk(dir);
  return total;
}
