/**
 * The host-lane worker thread (started by HostLanes, hostLanes.ts): waits on the shared control words,
 * runs its part of each phase with `runLanePart` (lanePart.ts) and reports back through the same
 * words. A webpack entry of its own (dist/laneWorker.js).
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'worker_threads';
import type { SimdKernels } from '../numeric/simdKernels';
import {
  CMD_EXIT,
  CMD_RELOAD,
  CTL_CMD,
  CTL_DONE,
  CTL_ERROR,
  CTL_FWD_DONE,
  CTL_SEQ,
  CTL_STARTED,
  KERNELS,
  runLanePart,
  type LaneScratch,
  type LaneState,
} from './lanePart';

interface LaneWorkerData {
  ctl: Int32Array;
  errors: Uint8Array;
  port: MessagePort;
  vocab: number;
}

function run(data: LaneWorkerData): void {
  const { ctl, errors, port } = data;
  let state: LaneState | null = null;
  let simd: (SimdKernels | null)[] = [];
  const scratch: LaneScratch = { mark: new Uint32Array((data.vocab + 31) >>> 5), slotOf: new Int32Array(data.vocab) };
  let seen = 0;
  Atomics.store(ctl, CTL_STARTED, 1);
  Atomics.notify(ctl, CTL_STARTED);
  for (;;) {
    Atomics.wait(ctl, CTL_SEQ, seen);
    seen = Atomics.load(ctl, CTL_SEQ);
    const cmd = Atomics.load(ctl, CTL_CMD);
    if (cmd === CMD_EXIT) break;
    try {
      if (cmd === CMD_RELOAD) {
        const msg = receiveMessageOnPort(port);
        if (!msg) throw new Error('host lane worker: reload without a state message');
        const next = msg.message as LaneState;
        state = next;
        simd = next.memories.map((m) =>
          m && next.module ? (new WebAssembly.Instance(next.module, { env: { memory: m } }).exports as unknown as SimdKernels) : null,
        );
      } else {
        if (!state) throw new Error('host lane worker: a phase before any state');
        runLanePart(state, scratch, cmd, 1, KERNELS, simd, () => {
          Atomics.store(ctl, CTL_FWD_DONE, seen);
          Atomics.notify(ctl, CTL_FWD_DONE);
        });
      }
    } catch (e) {
      const text = new TextEncoder().encode(String((e as Error)?.stack ?? e)).subarray(0, errors.length);
      errors.fill(0);
      errors.set(text);
      Atomics.store(ctl, CTL_ERROR, 1);
    }
    Atomics.store(ctl, CTL_FWD_DONE, seen);
    Atomics.store(ctl, CTL_DONE, seen);
    Atomics.notify(ctl, CTL_FWD_DONE);
    Atomics.notify(ctl, CTL_DONE);
  }
}

run(workerData as LaneWorkerData);
