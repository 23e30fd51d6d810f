/**
 * @module lab/report/spread
 * The spread of one figure over repeats: median, 95th percentile by nearest rank, min and max.
 */
import type { Spread } from '../results.js';

/** The spread of `values`; undefined when there are none. */
export function spreadOf(values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: medianOfSorted(sorted),
    // Nearest rank: the smallest value with at least 95% of the values at or below it, always a value seen.
    p95: sorted[Math.ceil(0.95 * sorted.length) - 1]!,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

/** The median of `values` (the mean of the two middle ones for an even count); undefined when empty. */
export function medianOf(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  return medianOfSorted([...values].sort((a, b) => a - b));
}

function medianOfSorted(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
