/**
 * The decimated display version of every series of a StepStore (see decimatedSeries.ts), kept in
 * step with the store: `sync()` after appending, `rebuild(ids)` after values were rewritten.
 */
import { DecimatedSeries, DEFAULT_MAX_BUCKETS } from '../../shared/decimatedSeries';
import { ALL_SERIES, decimationMode, type SeriesId } from './seriesCatalog';
import type { StepStore } from './stepStore';

export class DisplaySeries {
  private readonly series = new Map<SeriesId, DecimatedSeries>();

  constructor(
    private readonly store: StepStore,
    maxBuckets = DEFAULT_MAX_BUCKETS,
  ) {
    for (const id of ALL_SERIES) this.series.set(id, new DecimatedSeries(store.steps, store.column(id), decimationMode(id), maxBuckets));
  }

  get(id: SeriesId): DecimatedSeries {
    return this.series.get(id) as DecimatedSeries;
  }

  /** Takes in the points appended to the store. */
  sync(): void {
    for (const s of this.series.values()) s.sync();
  }

  /** Re-decimates the given series from scratch (all when omitted), e.g. after a reset or re-smoothing. */
  rebuild(ids: readonly SeriesId[] = ALL_SERIES): void {
    for (const id of ids) this.get(id).rebuild();
  }
}
