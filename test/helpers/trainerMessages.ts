import type { FromTrainer } from '../../src/trainer/protocol';

/**
 * Records the messages of a real trainer process (pass `onMessage` to a client start function); `until` resolves
 * with the first message, past or future, that a predicate matches.
 */
export function trainerMessages() {
  const messages: FromTrainer[] = [];
  const waiters: { pred: (m: FromTrainer) => boolean; resolve: (m: FromTrainer) => void }[] = [];
  const onMessage = (m: FromTrainer): void => {
    messages.push(m);
    for (const w of [...waiters]) {
      if (!w.pred(m)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  };
  const until = (pred: (m: FromTrainer) => boolean) =>
    new Promise<FromTrainer>((resolve) => {
      const hit = messages.find(pred);
      if (hit) resolve(hit);
      else waiters.push({ pred, resolve });
    });
  return { messages, onMessage, until };
}
