import * as tf from '@tensorflow/tfjs';
import type { BackendPreference } from './config/types';

/** Which TensorFlow.js backend runs, and why the preferred ones did not. */
export interface BackendInfo {
  /** tfjs backend name: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  name: string;
  preference: BackendPreference;
  /** Reasons the backends tried before this one were unavailable. */
  skipped: string[];
  tfjsVersion: string;
}

type Candidate = 'node' | 'wasm' | 'cpu';

const ORDER: Record<BackendPreference, Candidate[]> = {
  auto: ['node', 'wasm', 'cpu'],
  node: ['node'],
  wasm: ['wasm'],
  cpu: ['cpu'],
};

/** Loads the backend package (optional dependencies are required lazily) and activates it. */
async function tryBackend(c: Candidate): Promise<string> {
  if (c === 'node') {
    // Optional: @tensorflow/tfjs-node needs libtensorflow, which its install script downloads.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
    if (!(await tf.setBackend('tensorflow'))) throw new Error('tf.setBackend("tensorflow") returned false');
    return 'tensorflow';
  }
  if (c === 'wasm') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    return 'wasm';
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") returned false');
  return 'cpu';
}

/**
 * Activates the preferred backend: for 'auto', tfjs-node when it loads, else wasm, else the pure-JS cpu
 * backend. Throws when an explicitly requested backend is unavailable.
 */
export async function initBackend(preference: BackendPreference): Promise<BackendInfo> {
  const skipped: string[] = [];
  for (const c of ORDER[preference]) {
    try {
      const name = await tryBackend(c);
      await tf.ready();
      return { name, preference, skipped, tfjsVersion: tf.version.tfjs };
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0];
      skipped.push(`${c}: ${msg}`);
    }
  }
  throw new Error(`backend "${preference}" is not available: ${skipped.join('; ')}`);
}
