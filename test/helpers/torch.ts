/**
 * The interpreter the PyTorch tests run (Debian's python3 with python3-torch, as scripts/setup.sh installs
 * it), and the reason to skip them when it has no torch.
 */
import { execFileSync } from 'child_process';
import { DEBIAN_PYTHON } from '../../src/trainer/launch/torchrunArgs';

export const TORCH_PYTHON = DEBIAN_PYTHON;

function hasTorch(): boolean {
  try {
    execFileSync(TORCH_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `{ skip: torchSkip }` for a test that needs torch: false when it is there, else why not. */
export const torchSkip: string | false = hasTorch() ? false : `${TORCH_PYTHON} has no torch (apt-get install python3-torch)`;
