/**
 * Document frequencies of the corpus' words (the towers' and BM25's tokenisation), for the evidence of
 * lexical triage labels: idf(t) = ln(1 + (N − df(t) + 0.5)/(df(t) + 0.5)), the IDF BM25 uses.
 */
import { words } from '../model/featurize';

export class TermStats {
  readonly df = new Map<string, number>();
  /** Documents counted (the N of the IDF). */
  n = 0;

  /** Counts `texts` (more may be added, e.g. batch by batch while a corpus streams by). */
  constructor(texts: readonly string[] = []) {
    for (const t of texts) this.add(t);
  }

  /** Counts one more document. */
  add(text: string): void {
    this.n += 1;
    for (const w of new Set(words(text))) this.df.set(w, (this.df.get(w) ?? 0) + 1);
  }

  idf(term: string): number {
    const df = this.df.get(term) ?? 0;
    return Math.log(1 + (this.n - df + 0.5) / (df + 0.5));
  }
}
