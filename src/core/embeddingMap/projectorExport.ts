/**
 * Export for the TensorBoard Embedding Projector (projector.tensorflow.org → Load): `vectors.tsv` (one row
 * of tab-separated floats per point) and `metadata.tsv` (a header row, then kind, id, label, file:line and
 * text per point, tabs and newlines in texts replaced by spaces), written atomically.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomicSync } from '../runs/atomicWrite';
import type { SampledEmbeddings } from './sampleEmbeddings';

const cell = (s: string) => s.replace(/[\t\r\n]+/g, ' ');

export function exportProjectorTsv(s: SampledEmbeddings, outDir: string): { vectors: string; metadata: string } {
  fs.mkdirSync(outDir, { recursive: true });
  const n = s.points.length;
  const vecLines: string[] = [];
  for (let i = 0; i < n; i++) vecLines.push(Array.from(s.vectors.subarray(i * s.dim, (i + 1) * s.dim), (x) => x.toPrecision(6)).join('\t'));
  const metaLines = [
    'kind\tid\tlabel\tsource\ttext',
    ...s.points.map((p) => [p.kind, cell(p.id), p.label || '-', cell(`${p.source.file}:${p.source.line}`), cell(p.text)].join('\t')),
  ];
  const vectors = path.join(outDir, 'vectors.tsv');
  const metadata = path.join(outDir, 'metadata.tsv');
  writeFileAtomicSync(vectors, vecLines.join('\n') + '\n');
  writeFileAtomicSync(metadata, metaLines.join('\n') + '\n');
  return { vectors, metadata };
}
