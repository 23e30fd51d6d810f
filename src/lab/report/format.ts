/**
 * @module lab/report/format
 * Figures as people read them in tables and sentences: `850ms`, `4.2s`, `4m30s`, `1h05m`.
 */

/** A duration in ms, shortest readable form: `850ms`, `4.2s`, `4m30s`, `1h05m`. */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) return `${sign}${+(abs / 1000).toFixed(abs < 10_000 ? 2 : 1)}s`;
  if (abs < 3_600_000) {
    const s = Math.round(abs / 1000);
    const m = Math.floor(s / 60);
    const rest = s % 60;
    return `${sign}${m}m${rest ? `${String(rest).padStart(2, '0')}s` : ''}`;
  }
  const m = Math.round(abs / 60_000);
  const h = Math.floor(m / 60);
  const rest = m % 60;
  return `${sign}${h}h${rest ? `${String(rest).padStart(2, '0')}m` : ''}`;
}

/** A count, whole or with one decimal (a median of an even number of repeats). */
export function humanCount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** A duration or a dash when there is none. */
export function durationOrDash(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '–' : humanDuration(ms);
}
