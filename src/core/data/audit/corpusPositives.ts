/**
 * data.positiveText "corpus": train each positive on the text of its id in the corpus (title + text for a BEIR
 * corpus line, corpusJsonl.ts) instead of the text its training line writes — the fix for the audit's
 * corpusTextDiffers finding (auditor.ts). The corpus is loaded once with load.ts `loadCorpus` (in memory, as
 * evaluation's corpus is); positives whose id is not in it keep their line's text.
 */
import type { LoadedConfig } from '../../config/types';
import type { ExampleSource } from '../exampleStream';
import { loadCorpus } from '../load';
import type { Example, Item } from '../types';
import { corpusFileOf } from './auditData';

/** An example source whose positives carry their corpus item (text and corpus line) when the corpus has their id. */
export class CorpusTextExamples implements ExampleSource {
  /** Positives given their corpus text in the last epoch read, and those whose id the corpus lacks. */
  replaced = 0;
  missing = 0;

  constructor(
    private readonly inner: ExampleSource,
    private readonly corpus: ReadonlyMap<string, Item>,
  ) {}

  get examples(): number {
    return this.inner.examples;
  }

  get exact(): boolean {
    return this.inner.exact;
  }

  async *epoch(epoch: number): AsyncGenerator<Example> {
    this.replaced = 0;
    this.missing = 0;
    for await (const e of this.inner.epoch(epoch)) {
      const item = this.corpus.get(e.positive.id);
      if (item === undefined) {
        this.missing += 1;
        yield e;
      } else {
        if (item.text !== e.positive.text) this.replaced += 1;
        yield { ...e, positive: item };
      }
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Wraps the training source when data.positiveText is "corpus"; returns it unchanged otherwise, with a run-log note. */
export async function withCorpusPositives(loaded: LoadedConfig, source: ExampleSource): Promise<{ source: ExampleSource; note: string | null }> {
  if (loaded.config.data.positiveText !== 'corpus') return { source, note: null };
  const file = await corpusFileOf(loaded);
  if (file === null) {
    return { source, note: 'data.positiveText "corpus": no corpus (set data.corpus, or data.test to a BEIR folder); positives keep their lines\' texts' };
  }
  const { items } = await loadCorpus({ path: file, maxBadLineShare: loaded.config.data.maxBadLineShare, label: 'data.corpus' });
  const corpus = new Map(items.map((it) => [it.id, it]));
  return {
    source: new CorpusTextExamples(source, corpus),
    note: `data.positiveText "corpus": positives are trained on the text of their id in ${file} (${corpus.size} items)`,
  };
}
