/** The pure parts of a chart export (no VS Code import): the suggested file name and the bytes to write. */

/** The chart's name reduced to safe file-name characters, with the format's extension. */
export function chartExportFileName(name: string, format: 'png' | 'csv'): string {
  const base =
    name
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 120) || 'chart';
  return `${base}.${format}`;
}

const PNG_PREFIX = 'data:image/png;base64,';
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The bytes of an export: a PNG data URL decoded (and checked to be a PNG), CSV text as UTF-8. */
export function chartExportBytes(format: 'png' | 'csv', data: string): { ok: true; value: Uint8Array } | { ok: false; reason: string } {
  if (format === 'csv') return { ok: true, value: Buffer.from(data, 'utf8') };
  if (!data.startsWith(PNG_PREFIX)) return { ok: false, reason: `exportChart.data: a PNG must be a "${PNG_PREFIX}…" URL` };
  const bytes = Buffer.from(data.slice(PNG_PREFIX.length), 'base64');
  if (bytes.length < PNG_MAGIC.length || PNG_MAGIC.some((b, i) => bytes[i] !== b)) return { ok: false, reason: 'exportChart.data: not a PNG image' };
  return { ok: true, value: bytes };
}
