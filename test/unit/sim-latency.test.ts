/**
 * The simulator's latency path: histograms by systematic sampling of the model's CDF, and the alarms
 * that read them (latency and compare) firing on a slow replacement, not on a healthy one.
 */
import { describe, expect, it } from 'vitest';

import { LATENCY_BOUNDS_MS } from '../../src/core/stats-delta.js';
import { histogramQuantile } from '../../src/health/statistics.js';
import { parseExperiment } from '../../src/lab/experiment.js';
import { Draws } from '../../src/lab/sim/draws.js';
import { simulateRun } from '../../src/lab/sim/index.js';
import { BucketCdf, BUCKETS, LatencyShape } from '../../src/lab/sim/latency.js';

const text = (alarm: string) => `
timeScale: 60
bake: 1m
load: { rate: 1000, before: 1s }
versions:
  synthetic:
    original: { latency: { p50: 2ms, p99: 8ms } }
    replacement: { latency: { p50: 2ms, p99: 8ms } }
alarms:
  slow: ${alarm}
policies:
  - { name: canary, config: CodeDeployDefault.ECSCanary10Percent5Minutes }
scenarios:
  - name: healthy
  - name: slow
    replacement: { latency: { p50: 20ms, p99: 80ms } }
  - name: delayed
    faults: { delay: { percent: 50, fixed: 100ms } }
`;

describe('simulated latency', () => {
  it('a histogram from the CDF has the model quantiles and exactly the requests', () => {
    const shape = new LatencyShape({ p50Ms: 20, p99Ms: 80 }, 10_000);
    const draws = new Draws(3);
    const buckets = new Array<number>(BUCKETS).fill(0);
    const cdf = shape.cdf(1, 0, new BucketCdf());
    for (let i = 0; i < 1000; i++) cdf.sampleInto(250, draws.uniform(), buckets);
    expect(buckets.reduce((a, b) => a + b, 0)).toBe(250_000);
    expect(histogramQuantile(buckets, LATENCY_BOUNDS_MS, 0.5)).toBeCloseTo(20, -0.5);
    expect(histogramQuantile(buckets, LATENCY_BOUNDS_MS, 0.99)).toBeGreaterThan(70);
    expect(histogramQuantile(buckets, LATENCY_BOUNDS_MS, 0.99)).toBeLessThan(90);
    // Scaled by a warm-up factor and shifted by a queue wait.
    const slow = shape.cdf(2, 10, new BucketCdf());
    const shifted = new Array<number>(BUCKETS).fill(0);
    slow.sampleInto(100_000, 0.5, shifted);
    expect(histogramQuantile(shifted, LATENCY_BOUNDS_MS, 0.5)).toBeCloseTo(50, -0.5);
  });

  it('a request past the timeout is left out of the histogram and counted as timed out', () => {
    const shape = new LatencyShape({ fixedMs: 50 }, 40);
    expect(shape.cdf(1, 0, new BucketCdf()).pTimeout).toBe(1);
    const lognormal = new LatencyShape({ p50Ms: 20, p99Ms: 80 }, 20);
    expect(lognormal.cdf(1, 0, new BucketCdf()).pTimeout).toBeCloseTo(0.5, 6);
  });

  it.each([
    ['a latency alarm', '{ kind: latency, quantile: 0.99, threshold: 40ms }'],
    ['a compare alarm', '{ kind: compare }'],
  ])('%s fires on a slow replacement and an injected delay, not on a healthy one', async (_name, alarm) => {
    const e = parseExperiment(text(alarm), '');
    const policy = e.policies[0]!;
    const results = await Promise.all(
      e.scenarios.map((scenario) => simulateRun(e, { policy, scenario, repeat: 0, seed: 5 })),
    );
    const [healthy, slow, delayed] = results;
    expect(healthy!.outcome).toBe('Succeeded');
    expect(slow!.outcome).toBe('RolledBack');
    expect(slow!.alarm?.name).toBe('slow');
    expect(delayed!.outcome).toBe('RolledBack');
    expect(slow!.failed).toBe(0);
    expect(healthy!.latency.p99).toBeLessThan(10);
  });
});
