/**
 * The live stats' bounds and sums on a manual clock: nothing is summed or made while nobody watches,
 * one snapshot per interval whatever the traffic, mirrored copies left out, and a version that goes
 * quiet kept at 0 rather than dropped.
 */
import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/core/clock.js';
import type { LiveStatsSnapshot } from '../../src/core/live-stats.js';
import { LATENCY_BOUNDS_MS, type StatsEntry } from '../../src/core/stats-delta.js';
import { LiveStats } from '../../src/health/live-stats.js';

/** `n` requests of `version`, `errors` of them 5xx, all in the 1 ms bucket. */
function entry(version: string, n: number, errors = 0, mirrored = false): StatsEntry {
  const buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  buckets[LATENCY_BOUNDS_MS.indexOf(1)] = n;
  return {
    service: 'web',
    version,
    counts: [n - errors, 0, 0, errors, 0],
    latencyBuckets: buckets,
    latencySumMs: n,
    failedOver: 0,
    ...(mirrored && { mirrored: true as const }),
  };
}

describe('live stats', () => {
  it('sums each interval per version, one snapshot per interval, only while watched', async () => {
    const clock = new ManualClock(0);
    const live = new LiveStats(clock, 500);
    live.record({ entries: [entry('1', 100)] });
    expect(clock.pending).toBe(0);
    const seen: LiveStatsSnapshot[] = [];
    const stop = live.subscribe((s) => seen.push(s));
    live.record({ entries: [entry('1', 40), entry('2', 10, 2)] });
    live.record({ entries: [entry('1', 10), entry('2', 5, 5, true)] });
    await clock.advance(500);
    expect(seen).toHaveLength(1);
    const [first] = seen;
    expect(first!.at).toBe(500);
    const v = Object.fromEntries(first!.services[0]!.versions.map((x) => [x.version, x]));
    // The 100 before anyone watched and the mirrored copies are not counted.
    expect(v['1']).toMatchObject({ requests: 50, errors: 0, rps: 100, errorRate: 0 });
    expect(v['2']).toMatchObject({ requests: 10, errors: 2, rps: 20, errorRate: 0.2 });
    expect(v['1']!.p50Ms).toBeGreaterThan(0.75);
    expect(v['1']!.p99Ms).toBeLessThanOrEqual(1);
    await clock.advance(1_000);
    expect(seen).toHaveLength(3);
    expect(seen[2]!.services[0]!.versions.map((x) => [x.version, x.requests, x.p50Ms])).toEqual([
      ['1', 0, null],
      ['2', 0, null],
    ]);
    expect(live.latest()).toBe(seen[2]);
    stop();
    expect(clock.pending).toBe(0);
  });
});
