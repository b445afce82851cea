/**
 * The output of a torchrun job and its cleanup. The child's stdout/stderr go to files in a temporary
 * folder (read by polling), not pipes: a detached run that outlives the VS Code window that started it
 * keeps writing to them without a broken pipe. The folder also holds the job's pid, so that folders
 * left by a lost launcher (a window reload) are removed once their process has ended; the held-out sample and
 * mined negatives prepared for the trainer (torchrunPrep.ts) live there too, and go with it.
 */
import { readBoundedTextSync } from '../../core/io/safeRead';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isPidAlive } from '../../core/runs/status';
import { LineTail } from './trainingProcess';

/** Prefix of the temporary folders holding a launched job's stdout/stderr (and its pid, in `pid`). */
const LOG_DIR_PREFIX = 'rlens-torchrun-logs-';

/** Time a job's output folder is kept after its last write when its process is gone (its launcher may still read it). */
const LOG_DIR_KEEP_MS = 60_000;

/**
 * Removes the output folders of launched jobs whose process has ended: only the one of job `pid` when
 * given (as soon as that process is gone), else every one untouched for a minute. A job's folder is
 * removed by its launcher when the job ends; a window reload loses that launcher while the job keeps
 * running, so the re-attached watcher (src/extension/training/detachedRun.ts) and every new launch sweep what is
 * left. A folder without a pid file yet is left alone.
 */
export function removeEndedTorchrunLogs(pid?: number, tmp: string = os.tmpdir()): void {
  let names: string[];
  try {
    names = fs.readdirSync(tmp).filter((n) => n.startsWith(LOG_DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(tmp, name);
    try {
      const owner = Number(readBoundedTextSync(path.join(dir, 'pid'), 'pid'));
      if (!Number.isInteger(owner) || owner <= 0 || isPidAlive(owner)) continue;
      if (
        pid !== undefined ? owner !== pid : Date.now() - Math.max(...fs.readdirSync(dir).map((f) => fs.statSync(path.join(dir, f)).mtimeMs)) < LOG_DIR_KEEP_MS
      )
        continue;
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // No pid file yet, or removed meanwhile.
    }
  }
}

/** Reads the new text of a growing file from an offset. */
class FileTail {
  private offset = 0;
  constructor(readonly file: string) {}
  read(): string {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return '';
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return '';
      const buf = Buffer.alloc(size - this.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      return buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** What a torchrun job printed: its `run: <folder>` line, the trainer's `error: …` lines, the tail of its stderr. */
export class TorchrunOutput {
  /** The temporary folder (0700) of stdout.log, stderr.log, pid and what the launcher prepared for the trainer (torchrunPrep.ts). */
  readonly dir: string;
  private readonly out: FileTail;
  private readonly err: FileTail;
  private readonly outLines = new LineTail();
  private readonly errLines = new LineTail();
  /** The trainer's `error: …` lines (config or data problems before its run line), all of them. */
  readonly trainerErrors: string[] = [];
  /** The folder of the `run: <folder>` line, as printed, once it came. */
  runLine: string | null = null;

  /** A new output folder (first removing those of ended jobs). */
  constructor() {
    removeEndedTorchrunLogs();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), LOG_DIR_PREFIX));
    this.out = new FileTail(path.join(this.dir, 'stdout.log'));
    this.err = new FileTail(path.join(this.dir, 'stderr.log'));
  }

  /** Opens the output files for the child (`stdio`); `close` after the spawn. */
  openForChild(): { stdout: number; stderr: number; close(): void } {
    const stdout = fs.openSync(path.join(this.dir, 'stdout.log'), 'a');
    const stderr = fs.openSync(path.join(this.dir, 'stderr.log'), 'a');
    return {
      stdout,
      stderr,
      close: () => {
        fs.closeSync(stdout);
        fs.closeSync(stderr);
      },
    };
  }

  /** Records the job's pid (what removeEndedTorchrunLogs checks). */
  recordPid(pid: number): void {
    fs.writeFileSync(path.join(this.dir, 'pid'), String(pid));
  }

  /** Reads what was written since the last call, hands it to `onOutput`; true when the run line came with it. */
  read(onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void): boolean {
    const hadRunLine = this.runLine !== null;
    const out = this.out.read();
    if (out) {
      onOutput?.(out, 'stdout');
      for (const line of this.outLines.push(out)) {
        const m = /^run: (.+)$/.exec(line.trim());
        if (m && this.runLine === null) this.runLine = m[1].trim();
      }
    }
    const err = this.err.read();
    if (err) {
      onOutput?.(err, 'stderr');
      for (const line of this.errLines.push(err)) if (line.startsWith('error: ')) this.trainerErrors.push(line.slice('error: '.length));
    }
    return !hadRunLine && this.runLine !== null;
  }

  /** The last lines of stderr (for an error message). */
  stderrTail(): string[] {
    return this.errLines.get();
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
