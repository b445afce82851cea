/**
 * Document frequencies of the corpus' words (the towers' and BM25's tokenisation), for the evidence of
 * lexical triage labels: idf(t) = ln(1 + (N − df(t) + 0.5)/(df(t) + 0.5)), the IDF BM25 uses.
 */
import { words } from '../model/featurize';

export class TermStats {
  readonly df = new Map<string, number>();
  readonly n: number;

  constructor(texts: readonly string[]) {
    this.n = texts.length;
    for (const t of texts) for (const w of new Set(words(t))) this.df.set(w, (this.df.get(w) ?? 0) + 1);
  }

  idf(term: string): number {
    const df = this.df.get(term) ?? 0;
    return Math.log(1 + (this.n - df + 0.5) / (df + 0.5));
  }
}
