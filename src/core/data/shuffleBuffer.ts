/**
 * A shuffle buffer (as tf.data's): holds up to `size` items; once full, each new item replaces a
 * uniformly drawn one, which is emitted; at the end the rest is emitted in random order. Every
 * input item is emitted exactly once; with `size` ≥ the input it is a full uniform shuffle. The
 * input comes in chunks (a block of lines' pairs), which saves an await per item.
 */
export async function* shuffled<T>(input: AsyncIterable<T[]>, size: number, rng: () => number): AsyncGenerator<T> {
  const buf: T[] = [];
  for await (const chunk of input) {
    for (const item of chunk) {
      if (buf.length < size) {
        buf.push(item);
        continue;
      }
      const j = Math.floor(rng() * size);
      const out = buf[j];
      buf[j] = item;
      yield out;
    }
  }
  while (buf.length > 0) {
    const j = Math.floor(rng() * buf.length);
    const out = buf[j];
    buf[j] = buf[buf.length - 1];
    buf.pop();
    yield out;
  }
}
