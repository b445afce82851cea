/** A zeroed typed array on a SharedArrayBuffer: the index's arrays, read by the worker threads of a parallel search without a copy. */
export function sharedArray<T>(ctor: { new (buffer: SharedArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number }, n: number): T {
  return new ctor(new SharedArrayBuffer(Math.max(n, 1) * ctor.BYTES_PER_ELEMENT), 0, n);
}
