/** Bytes as "1.2 GB" / "350 MB" / "12 kB" (powers of 1000): the data lenses and `runs`' sizes. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let x = n;
  while (x >= 1000 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return `${i === 0 ? x : x < 10 ? x.toFixed(1) : Math.round(x)} ${units[i]}`;
}
