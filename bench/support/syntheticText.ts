/**
 * The synthetic text of the million-item benchmarks (`bench:eval -- --parts million`, `bench:bm25`): a
 * 50,000-word vocabulary of random 3–9 letter words, drawn Zipf-like (word i with probability ∝ the density of
 * u^2.5 at i/50,000), so that a few words are in most texts and most words in few.
 */
export function syntheticWordSource(rng: () => number): () => string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const vocab = Array.from({ length: 50_000 }, () => {
    const len = 3 + Math.floor(rng() * 7);
    let w = '';
    for (let i = 0; i < len; i++) w += letters[Math.floor(rng() * 26)];
    return w;
  });
  return () => vocab[Math.floor(vocab.length * rng() ** 2.5)];
}
