/** Text formatting for the header and badges. */

/** A duration in seconds as "42s", "3m 05s", "1h 02m", "2d 03h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor((s % 86400) / 3600))}h`;
}

/** Steps per second with sensible precision. */
export function formatRate(stepsPerSec: number): string {
  if (!Number.isFinite(stepsPerSec) || stepsPerSec <= 0) return '—';
  const digits = stepsPerSec >= 100 ? 0 : stepsPerSec >= 10 ? 1 : 2;
  return `${stepsPerSec.toFixed(digits)} steps/s`;
}

/** An integer with thousands separators. */
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
