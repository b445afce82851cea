/**
 * The command line of a torchrun job: the interpreter (with torch), its arguments
 *   <root>/rlens_bootstrap.py retrieval_lens.launch --standalone --nnodes 1 \
 *     --nproc_per_node N <root>/rlens_bootstrap.py retrieval_lens.train <config> [--out DIR] [--steps N] [--set k=v …] [--resume RUN]
 * (retrieval_lens.launch is torch.distributed.run with the fix Debian's torch 1.13 needs under Python 3.11;
 * <root> = the package's python/ folder: the bootstrap runs a module as `-m` would, with <root> first on
 * sys.path and never the working directory), its working folder (the config's) and environment
 * (PYTHONPATH = <root> first).
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { TrainerConfig } from '../../core/config/types';

/** Debian's interpreter (python3-torch installs torch for it). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export interface TorchrunJob {
  configPath: string;
  overrides: string[];
  steps?: number;
  /** Folder for run folders (default: the config's output.runsDir). */
  runsRoot?: string;
  /** A run folder to continue (`--resume`: the trainer reads its checkpoints/last). */
  resume?: string;
  /** The config's `trainer` section. */
  trainer: TrainerConfig;
}

/** The folder holding the `retrieval_lens` package: `<package root>/python`, from dist/ (the bundle) or src/trainer/launch/. */
export function pythonPackageRoot(): string {
  const fromDist = path.resolve(__dirname, '..', 'python');
  return fs.existsSync(path.join(__dirname, 'trainer.js')) || fs.existsSync(fromDist) ? fromDist : path.resolve(__dirname, '..', '..', '..', 'python');
}

/** Whether `python -c "import torch"` succeeds (false for a missing interpreter). */
export function importsTorch(python: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return new Promise((resolve) => {
    // In the package's folder: `-c` puts the working directory first on sys.path (a repository's `torch/` must not answer).
    execFile(python, ['-c', 'import torch'], { env, cwd: pythonPackageRoot(), timeout: 120_000 }, (err) => resolve(!err));
  });
}

/** The interpreter to run: `trainer.python` when set, else /usr/bin/python3 when it imports torch, else `python3`. */
export async function resolvePython(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (configured) return configured;
  return (await importsTorch(DEBIAN_PYTHON, env)) ? DEBIAN_PYTHON : 'python3';
}

/** The message for an interpreter without torch (the user's two ways out). */
export function noTorchMessage(python: string): string {
  return `${python} has no torch: apt-get install python3-torch or set trainer.python`;
}

/** Why a Python process ended before its run line, when its stderr tells (no torch). */
export function pythonProblem(python: string, stderr: string[]): string | null {
  return stderr.some((l) => /No module named '?torch(\.distributed(\.run)?)?'?(?![\w.])/.test(l)) ? noTorchMessage(python) : null;
}

/** The bootstrap that runs a module with the bundled package first on sys.path and never the working directory. */
export const BOOTSTRAP = 'rlens_bootstrap.py';

/**
 * The launcher's command line (after the interpreter). Both torchrun and every rank start by the absolute
 * path of python/rlens_bootstrap.py, never with `python -m` (which puts the working directory, the
 * config's folder, first on sys.path: a repository's `retrieval_lens/` would shadow ours).
 */
export function torchrunArgs(job: TorchrunJob, pythonRoot: string = pythonPackageRoot()): string[] {
  const bootstrap = path.join(pythonRoot, BOOTSTRAP);
  return [
    bootstrap,
    // torch.distributed.run (torchrun) with Debian's torch 1.13 / Python 3.11 fix (python/retrieval_lens/launch.py).
    'retrieval_lens.launch',
    // One machine: launch.py's `rlens-local` rendezvous (FileStores in a private folder), no TCP store on any interface.
    '--standalone',
    '--nnodes',
    '1',
    '--nproc_per_node',
    String(job.trainer.nprocPerNode),
    bootstrap,
    job.trainer.module,
    path.resolve(job.configPath),
    ...(job.runsRoot ? ['--out', path.resolve(job.runsRoot)] : []),
    ...(job.steps !== undefined ? ['--steps', String(job.steps)] : []),
    ...job.overrides.flatMap((o) => ['--set', o]),
    ...(job.resume ? ['--resume', path.resolve(job.resume)] : []),
  ];
}

/** Working folder and environment of the job: the config's folder; `pythonRoot` first on PYTHONPATH, unbuffered output. */
export function torchrunSpawnOptions(job: TorchrunJob, env: NodeJS.ProcessEnv, pythonRoot: string): { cwd: string; env: NodeJS.ProcessEnv } {
  return {
    cwd: path.dirname(path.resolve(job.configPath)),
    env: { ...env, PYTHONPATH: [pythonRoot, env.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONUNBUFFERED: '1' },
  };
}
