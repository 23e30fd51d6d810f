/**
 * StatsWindows sums a window from running sums (binary search and one difference) so that a simulation's
 * thousands of evaluations stay cheap; against the plain sum over every slice it replaced, for deltas in
 * time order and with a clock that steps back now and then.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { Clock } from '../../src/core/clock.js';
import { LATENCY_BOUNDS_MS, OUTCOMES, type StatsEntry } from '../../src/core/stats-delta.js';
import { StatsWindows } from '../../src/health/windows.js';

const BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** Windows read the time from their clock; these set it for one call. */
let current = 0;
const settable: Clock = { now: () => current, setTimer: () => () => undefined };

function recordAt(windows: StatsWindows, at: number, entry: StatsEntry): void {
  current = at;
  windows.record({ entries: [entry] });
}

function totalsAt(windows: StatsWindows, at: number, version: string, windowMs: number, since: number) {
  current = at;
  return windows.totals('web', version, windowMs, since);
}

interface Kept {
  readonly at: number;
  readonly entry: StatsEntry;
}

/** The plain sum over every kept slice, as StatsWindows did it before. */
function reference(kept: readonly Kept[], now: number, windowMs: number, since: number) {
  const counts = new Array<number>(OUTCOMES.length).fill(0);
  const latencyBuckets = new Array<number>(BUCKETS).fill(0);
  let latencySumMs = 0;
  for (const { at, entry } of kept) {
    if (at < now - windowMs || at <= since) continue;
    entry.counts.forEach((c, i) => (counts[i]! += c));
    entry.latencyBuckets.forEach((c, i) => (latencyBuckets[i]! += c));
    latencySumMs += entry.latencySumMs;
  }
  const requests = counts.reduce((a, b) => a + b, 0);
  return { requests, errors: counts[3]! + counts[4]!, counts, latencyBuckets, latencySumMs };
}

const delta = fc.record({
  stepMs: fc.integer({ min: -300, max: 2_000 }),
  version: fc.constantFrom('1', '2'),
  counts: fc.array(fc.nat(50), { minLength: OUTCOMES.length, maxLength: OUTCOMES.length }),
  histogram: fc.boolean(),
  bucket: fc.nat(BUCKETS - 1),
});

describe('StatsWindows sums', () => {
  it('equal the plain sum over every slice, for any window and start', () => {
    fc.assert(
      fc.property(
        fc.array(delta, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 0, max: 40 }),
        (deltas, windowMs, sinceAt) => {
          const horizon = 15_000;
          const windows = new StatsWindows(settable, horizon);
          const kept: Kept[] = [];
          let now = 1_000_000;
          const times: number[] = [];
          for (const d of deltas) {
            // A step back stands for a wall clock set back.
            now += d.stepMs;
            const at = now;
            times.push(at);
            const latencyBuckets = d.histogram ? new Array<number>(BUCKETS).fill(0) : [];
            if (d.histogram) latencyBuckets[d.bucket] = d.counts.reduce((a, b) => a + b, 0);
            const entry: StatsEntry = {
              service: 'web',
              version: d.version,
              counts: d.counts,
              latencyBuckets,
              latencySumMs: d.counts[0]! * 1.1,
              failedOver: 0,
            };
            recordAt(windows, at, entry);
            kept.push({ at, entry });
            // The horizon drops the oldest slices of a version, as StatsWindows does.
            const oldest = at - horizon;
            const mine = kept.filter((k) => k.entry.version === d.version);
            let drop = 0;
            while (drop < mine.length && mine[drop]!.at < oldest) drop++;
            for (const gone of mine.slice(0, drop)) kept.splice(kept.indexOf(gone), 1);
          }
          const since = times[Math.min(sinceAt, times.length - 1)]! - 1;
          for (const version of ['1', '2']) {
            const expected = reference(
              kept.filter((k) => k.entry.version === version),
              now,
              windowMs,
              since,
            );
            const actual = totalsAt(windows, now, version, windowMs, since);
            expect(actual.counts).toEqual(expected.counts);
            expect(actual.latencyBuckets).toEqual(expected.latencyBuckets);
            expect(actual.requests).toBe(expected.requests);
            expect(actual.errors).toBe(expected.errors);
            expect(actual.latencySumMs).toBeCloseTo(expected.latencySumMs, 6);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
