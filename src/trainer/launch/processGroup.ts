/**
 * Supervision of a process started in its own process group (torchrun's agent and every rank it
 * starts): Stop is SIGINT to the whole group (each rank finishes its step and writes its checkpoint),
 * then SIGKILL after a grace period; kill is SIGKILL to the group; a start timeout kills the group when
 * the process does not get ready in time. Stop and kill asked before the spawn are applied once it is
 * spawned (or prevent it).
 */
import { spawn, type ChildProcess } from 'child_process';

export interface GroupSpawn {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** File descriptors for the child's stdout and stderr. */
  stdout: number;
  stderr: number;
}

export class ProcessGroup {
  private child: ChildProcess | undefined;
  private stopWanted = false;
  private killWanted = false;
  private ended = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  private readonly onParentExit = () => this.signal('SIGINT');

  constructor(
    /** Time from Stop (SIGINT) to SIGKILL of the group. */
    private readonly stopGraceMs: number,
    /** SIGINT to the group when this process exits (a parent gone stops the run, as the built-in trainer does). */
    private readonly stopWithParent = false,
  ) {}

  /** Pid of the group's leader once spawned. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether kill() was asked (before the spawn: it does not happen). */
  get killed(): boolean {
    return this.killWanted;
  }

  /**
   * Spawns the leader of a new group. `onEnd` is called once: with the exit code or signal, or with the
   * spawn error (a missing interpreter emits its 'exit' before its 'error': the error comes first).
   */
  spawn(s: GroupSpawn, onEnd: (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => void): ChildProcess {
    const end = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (this.ended) return;
      this.ended = true;
      this.dispose();
      onEnd(code, signal, spawnError);
    };
    const child = spawn(s.command, s.args, { cwd: s.cwd, detached: true, stdio: ['ignore', s.stdout, s.stderr], env: s.env });
    this.child = child;
    child.on('error', (e) => end(null, null, e));
    child.on('exit', (code, signal) => setImmediate(() => end(code, signal)));
    if (this.stopWithParent) process.once('exit', this.onParentExit);
    if (this.stopWanted) this.stop();
    return child;
  }

  /** Kills the group when `ready()` is not called within `ms`; `onTimeout` first (to record why). */
  expectReadyWithin(ms: number, onTimeout: () => void): void {
    this.startTimer = setTimeout(() => {
      if (this.ended) return;
      onTimeout();
      this.signal('SIGKILL');
    }, ms);
  }

  ready(): void {
    clearTimeout(this.startTimer);
  }

  /** Sends `sig` to the whole group while its leader runs. */
  signal(sig: NodeJS.Signals): void {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // The group is gone already.
    }
  }

  /**
   * SIGINT to the group (SIGTERM when `signal` says so), SIGKILL after the grace period. torchrun.ts sends
   * SIGTERM before the trainer named its run folder: there is nothing to finish or keep, and SIGTERM ends
   * Python at once and quietly (a SIGINT there, while it imports torch, is a KeyboardInterrupt traceback).
   */
  stop(signal: NodeJS.Signals = 'SIGINT'): void {
    this.stopWanted = true;
    if (!this.child?.pid) return;
    this.signal(signal);
    clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => this.signal('SIGKILL'), this.stopGraceMs);
  }

  kill(): void {
    this.killWanted = true;
    this.signal('SIGKILL');
  }

  /** Clears the timers and the parent-exit hook (the group has ended, or was never spawned). */
  dispose(): void {
    clearTimeout(this.startTimer);
    clearTimeout(this.graceTimer);
    process.off('exit', this.onParentExit);
  }
}
