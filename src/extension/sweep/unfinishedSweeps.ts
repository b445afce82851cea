/**
 * The unfinished sweeps of a workspace's configs: sweep folders whose sweep.json says unfinished and that no
 * live process (another window, a CLI) drives. "Resume Sweep…" lists them all; the offer when a window opens
 * leaves out the ones the user cancelled (sweep.json's `cancelledAt`). No VS Code import: unit-tested.
 */
import type { SweepFile } from '../../core/experiments/sweepFile';
import { listSweeps, sweepsRootOf } from '../../core/experiments/sweepStore';
import { isPidAlive } from '../../core/runs/status';

export function unfinishedSweeps(configPaths: readonly string[], opts: { includeCancelled: boolean; selfPid?: number }): { dir: string; file: SweepFile }[] {
  const self = opts.selfPid ?? process.pid;
  const roots = [...new Set(configPaths.map(sweepsRootOf))];
  return roots
    .flatMap((root) => listSweeps(root))
    .filter(({ file }) => file.state === 'unfinished' && !(file.driver && file.driver.pid !== self && isPidAlive(file.driver.pid)))
    .filter(({ file }) => opts.includeCancelled || !file.cancelledAt);
}
