/** The best `depth` rows offered, by score (ties: lower row first), in a min-heap whose top is the worst kept. */
export class TopRows {
  private readonly rows: number[] = [];
  private readonly scores: number[] = [];
  constructor(private readonly depth: number) {}
  get full(): boolean {
    return this.rows.length >= this.depth;
  }
  /** The worst kept score (the threshold a row must beat once the heap is full). */
  get worstScore(): number {
    return this.scores[0];
  }
  private worse(i: number, j: number): boolean {
    const a = this.scores[i];
    const b = this.scores[j];
    return a < b || (a === b && this.rows[i] > this.rows[j]);
  }
  private swap(i: number, j: number): void {
    [this.rows[i], this.rows[j]] = [this.rows[j], this.rows[i]];
    [this.scores[i], this.scores[j]] = [this.scores[j], this.scores[i]];
  }
  /** Keeps (row, score) if it is among the best `depth` so far; says whether it was kept. */
  offer(row: number, score: number): boolean {
    if (this.depth <= 0) return false;
    if (this.rows.length < this.depth) {
      this.rows.push(row);
      this.scores.push(score);
      for (let i = this.rows.length - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (!this.worse(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return true;
    }
    const s0 = this.scores[0];
    if (!(s0 < score || (s0 === score && this.rows[0] > row))) return false;
    this.rows[0] = row;
    this.scores[0] = score;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.rows.length && this.worse(l, m)) m = l;
      if (r < this.rows.length && this.worse(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return true;
  }
  /** Rows and scores, best first. */
  sorted(): { labels: number[]; scores: number[] } {
    const idx = this.rows.map((_, i) => i).sort((a, b) => this.scores[b] - this.scores[a] || this.rows[a] - this.rows[b]);
    return { labels: idx.map((i) => this.rows[i]), scores: idx.map((i) => this.scores[i]) };
  }
}
