/**
 * @module app/fleet/stats-shape
 * Counts that arrive from another host are checked before they join the control plane's: a delta of the
 * wrong shape would fail the merge, and with it the stats of every data plane.
 */
import { LATENCY_BOUNDS_MS, OUTCOMES, REFUSALS, type StatsDelta } from '../../core/stats-delta.js';

/** Whether counts from another host have the shape a StatsDelta must have (counts and buckets as numbers). */
export function wellFormed(delta: StatsDelta): boolean {
  const numbers = (a: unknown, length: number) =>
    Array.isArray(a) && a.length === length && a.every((n) => typeof n === 'number' && Number.isFinite(n));
  const entries: unknown = delta.entries;
  return (
    Array.isArray(entries) &&
    delta.entries.every(
      (e) =>
        typeof e.service === 'string' &&
        typeof e.version === 'string' &&
        numbers(e.counts, OUTCOMES.length) &&
        numbers(e.latencyBuckets, LATENCY_BOUNDS_MS.length + 1) &&
        typeof e.latencySumMs === 'number' &&
        typeof e.failedOver === 'number',
    ) &&
    (delta.refused === undefined || numbers(delta.refused, REFUSALS.length)) &&
    (delta.targets === undefined || Array.isArray(delta.targets))
  );
}
