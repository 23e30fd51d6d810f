import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/core/clock.js';
import {
  LATENCY_BOUNDS_MS,
  mergeStatsDeltas,
  OUTCOME_ERROR,
  outcomeOf,
  OUTCOMES,
  type StatsDelta,
} from '../../src/core/stats-delta.js';
import { StatsRecorder, VersionStats } from '../../src/core/stats-recorder.js';
import { StatsHub } from '../../src/health/stats-hub.js';

const bucketIndex = (ms: number) => {
  const s = new VersionStats('svc', 'v');
  s.record(0, ms);
  return s.buckets.indexOf(1);
};

describe('outcomeOf', () => {
  it('classes statuses by their hundred', () => {
    expect([200, 201, 204, 299].map(outcomeOf)).toEqual([0, 0, 0, 0]);
    expect([300, 301, 304, 399].map(outcomeOf)).toEqual([1, 1, 1, 1]);
    expect([400, 404, 429, 499].map(outcomeOf)).toEqual([2, 2, 2, 2]);
    expect([500, 502, 503, 599].map(outcomeOf)).toEqual([3, 3, 3, 3]);
  });

  it('never yields the error outcome, which means no response at all', () => {
    expect(OUTCOMES[OUTCOME_ERROR]).toBe('error');
    for (let status = 200; status < 600; status++) expect(outcomeOf(status)).not.toBe(OUTCOME_ERROR);
  });

  it('names outcomes in the order of the counts', () => {
    expect(OUTCOMES).toEqual(['2xx', '3xx', '4xx', '5xx', 'error']);
  });
});

describe('latency bounds', () => {
  it('rise strictly, in steps of at most 25%, from 0.1 ms to 60 s', () => {
    expect(LATENCY_BOUNDS_MS[0]).toBe(0.1);
    expect(LATENCY_BOUNDS_MS.at(-1)).toBe(60_000);
    for (let i = 1; i < LATENCY_BOUNDS_MS.length; i++) {
      const prev = LATENCY_BOUNDS_MS[i - 1]!;
      const cur = LATENCY_BOUNDS_MS[i]!;
      expect(cur).toBeGreaterThan(prev);
      if (cur <= 10_000) expect(cur / prev).toBeLessThanOrEqual(1.34);
    }
  });

  it('include every Prometheus-style 1, 2.5, 5 bound so coarser histograms are exact sums', () => {
    for (const ms of [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000])
      expect(LATENCY_BOUNDS_MS).toContain(ms);
  });
});

describe('VersionStats', () => {
  it('puts a latency in the first bucket whose upper bound holds it (bounds inclusive)', () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(0.1)).toBe(0);
    expect(bucketIndex(0.1001)).toBe(1);
    const oneMs = LATENCY_BOUNDS_MS.indexOf(1);
    expect(bucketIndex(1)).toBe(oneMs);
    expect(bucketIndex(0.76)).toBe(oneMs);
    expect(bucketIndex(1.0001)).toBe(oneMs + 1);
    expect(bucketIndex(60_000)).toBe(LATENCY_BOUNDS_MS.length - 1);
  });

  it('keeps latencies past the last bound in the overflow bucket', () => {
    expect(bucketIndex(60_001)).toBe(LATENCY_BOUNDS_MS.length);
    expect(bucketIndex(Number.MAX_SAFE_INTEGER)).toBe(LATENCY_BOUNDS_MS.length);
  });

  it('every bucket is reachable and holds exactly the values between its bounds', () => {
    for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) {
      const hi = LATENCY_BOUNDS_MS[i]!;
      const lo = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      expect(bucketIndex(hi)).toBe(i);
      expect(bucketIndex((lo + hi) / 2)).toBe(i);
    }
  });

  it('counts outcomes, buckets and the latency sum', () => {
    const s = new VersionStats('svc', '2');
    s.record(0, 1);
    s.record(0, 3);
    s.record(3, 40);
    s.record(OUTCOME_ERROR, 0.5);
    expect(Array.from(s.counts)).toEqual([2, 0, 0, 1, 1]);
    expect(s.buckets.reduce((a, b) => a + b, 0)).toBe(4);
    expect(s.sumMs).toBeCloseTo(44.5);
  });
});

describe('StatsRecorder', () => {
  it('hands out one VersionStats per service and version', () => {
    const r = new StatsRecorder();
    expect(r.for('a', '1')).toBe(r.for('a', '1'));
    expect(r.for('a', '1')).not.toBe(r.for('a', '2'));
    expect(r.for('a', '1')).not.toBe(r.for('b', '1'));
    // A label with the separator in neither part cannot collide with another pair.
    expect(r.for('a.b', 'c')).not.toBe(r.for('a', 'b.c'));
  });

  it('takes deltas: counts since the previous delta, then zero', () => {
    const r = new StatsRecorder();
    const blue = r.for('web', '1');
    const green = r.for('web', '2');
    blue.record(0, 2);
    blue.record(0, 2);
    blue.record(2, 7);
    green.record(OUTCOME_ERROR, 120);

    const first = r.takeDelta();
    expect(first.entries).toHaveLength(2);
    const b = first.entries.find((e) => e.version === '1')!;
    expect(b).toMatchObject({ service: 'web', version: '1', counts: [2, 0, 1, 0, 0] });
    expect(b.latencySumMs).toBeCloseTo(11);
    expect(b.latencyBuckets).toHaveLength(LATENCY_BOUNDS_MS.length + 1);
    expect(b.latencyBuckets[LATENCY_BOUNDS_MS.indexOf(2)]).toBe(2);
    expect(b.latencyBuckets[LATENCY_BOUNDS_MS.indexOf(7.5)]).toBe(1);
    const g = first.entries.find((e) => e.version === '2')!;
    expect(g.counts).toEqual([0, 0, 0, 0, 1]);
    expect(g.latencyBuckets[LATENCY_BOUNDS_MS.indexOf(125)]).toBe(1);

    // Nothing new: an empty delta, and the counters themselves are zero.
    expect(r.takeDelta().entries).toEqual([]);
    expect(Array.from(blue.counts)).toEqual([0, 0, 0, 0, 0]);
    expect(blue.buckets.every((n) => n === 0)).toBe(true);
    expect(blue.sumMs).toBe(0);

    // Only versions that saw requests appear, and only with the new counts.
    green.record(0, 1);
    const third = r.takeDelta();
    expect(third.entries).toHaveLength(1);
    expect(third.entries[0]).toMatchObject({ version: '2', counts: [1, 0, 0, 0, 0], latencySumMs: 1 });
  });

  it('returns plain snapshots that later recording does not change', () => {
    const r = new StatsRecorder();
    const s = r.for('web', '1');
    s.record(0, 1);
    const delta = r.takeDelta();
    s.record(0, 1);
    s.record(0, 1);
    expect(delta.entries[0]!.counts).toEqual([1, 0, 0, 0, 0]);
    expect(Array.isArray(delta.entries[0]!.latencyBuckets)).toBe(true);
    // Serialisable as is: the message crosses process boundaries.
    expect(JSON.parse(JSON.stringify(delta))).toEqual(delta);
  });
});

describe('StatsHub', () => {
  const source = () => {
    const recorder = new StatsRecorder();
    return { recorder, takeStats: () => recorder.takeDelta() };
  };

  it('pulls on its clock and hands each delta to every listener once', async () => {
    const clock = new ManualClock();
    const hub = new StatsHub(clock, 100);
    const src = source();
    hub.addSource(src);
    const a: StatsDelta[] = [];
    const b: StatsDelta[] = [];
    hub.subscribe((d) => a.push(d));
    const stopB = hub.subscribe((d) => b.push(d));
    hub.start();
    src.recorder.for('web', '1').record(0, 1);
    await clock.advance(99);
    expect(a).toHaveLength(0);
    await clock.advance(1);
    expect(a).toHaveLength(1);
    expect(b).toEqual(a);
    // Nothing new: no empty deltas are delivered.
    await clock.advance(500);
    expect(a).toHaveLength(1);
    stopB();
    src.recorder.for('web', '2').record(OUTCOME_ERROR, 1);
    await clock.advance(100);
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(1);
    // stop() delivers what is left and ends the interval.
    src.recorder.for('web', '1').record(0, 1);
    hub.stop();
    expect(a).toHaveLength(3);
    expect(clock.pending).toBe(0);
  });

  it('keeps delivering and pulling when a listener throws', async () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const hub = new StatsHub(clock, 100, (err) => errors.push(err));
    const src = source();
    hub.addSource(src);
    hub.subscribe(() => {
      throw new Error('broken consumer');
    });
    const got: StatsDelta[] = [];
    hub.subscribe((d) => got.push(d));
    hub.start();
    src.recorder.for('web', '1').record(0, 1);
    await clock.advance(100);
    src.recorder.for('web', '1').record(0, 1);
    await clock.advance(100);
    expect(got).toHaveLength(2);
    expect(errors).toHaveLength(2);
    expect(clock.pending).toBe(1);
    hub.stop();
  });
});

describe('mergeStatsDeltas', () => {
  it('sums several data planes’ counts per service and version, keeping mirrored copies apart', () => {
    const a = new StatsRecorder();
    a.for('web', '1').record(0, 1);
    a.for('web', '2').record(3, 12);
    a.for('web', '2', true).record(0, 2);
    const b = new StatsRecorder();
    b.for('web', '1').record(0, 3);
    b.for('web', '1').record(4, 50);
    const merged = mergeStatsDeltas([
      { ...a.takeDelta(), refused: [1, 0, 0], targets: [{ target: 'http://x', state: 'ejected', ejectionMs: 30_000 }] },
      { ...b.takeDelta(), refused: [0, 2, 0] },
    ]);
    const byKey = Object.fromEntries(merged.entries.map((e) => [`${e.version}${e.mirrored ? ' mirrored' : ''}`, e]));
    expect(Object.keys(byKey).sort()).toEqual(['1', '2', '2 mirrored']);
    expect(byKey['1']!.counts).toEqual([2, 0, 0, 0, 1]);
    expect(byKey['1']!.latencySumMs).toBe(54);
    expect(byKey['1']!.latencyBuckets.reduce((x, y) => x + y, 0)).toBe(3);
    expect(byKey['2']!.counts).toEqual([0, 0, 0, 1, 0]);
    expect(byKey['2 mirrored']!.counts).toEqual([1, 0, 0, 0, 0]);
    expect(merged.refused).toEqual([1, 2, 0]);
    expect(merged.targets).toEqual([{ target: 'http://x', state: 'ejected', ejectionMs: 30_000 }]);
  });

  it('gives a lone delta back as it is, and nothing for none', () => {
    const only = { entries: [] };
    expect(mergeStatsDeltas([only])).toBe(only);
    expect(mergeStatsDeltas([])).toEqual({ entries: [] });
  });
});
