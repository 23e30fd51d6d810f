/**
 * The policy lab's simulator against the acceptance, with no socket: at 1,000 requests/s and an
 * error-rate alarm, a replacement failing 10% costs all-at-once several times what a canary costs and
 * every policy rolls back; a healthy one reaches 100% on schedule; runs are reproducible from their seed;
 * a sticky split bounds the users affected; retry on the original saves the clients; a cold, small
 * replacement hurts all-at-once more than a canary; a late fault's detection counts from its onset.
 */
import { describe, expect, it } from 'vitest';

import { deriveSeed } from '../../src/core/random.js';
import { stickyBucket } from '../../src/core/sticky.js';
import { type Experiment, parseExperiment } from '../../src/lab/experiment.js';
import type { RunResult } from '../../src/lab/results.js';
import { simulateRun } from '../../src/lab/sim/index.js';
import { totalDurationMs } from '../../src/shifting/schedule.js';

const BASE = `
seed: 11
timeScale: 1
bake: 1m
load: { rate: 1000, users: 2000, before: 1s }
versions:
  synthetic:
    original: { latency: { p50: 2ms, p99: 8ms } }
    replacement: { latency: { p50: 2ms, p99: 8ms } }
alarms:
  errors: { kind: error-rate, threshold: 0.05, minRequests: 20 }
policies:
  - { name: all-at-once, config: CodeDeployDefault.ECSAllAtOnce }
  - { name: canary-10-5m, config: CodeDeployDefault.ECSCanary10Percent5Minutes }
  - { name: canary-10-15m, config: CodeDeployDefault.ECSCanary10Percent15Minutes }
  - { name: linear-10-1m, config: CodeDeployDefault.ECSLinear10PercentEvery1Minutes }
scenarios:
  - name: healthy
  - name: errors-10pct
    faults: { abort: { percent: 10, status: 500 } }
`;

function experiment(text = BASE): Experiment {
  return parseExperiment(text, '');
}

async function run(e: Experiment, policy: string, scenario: string, repeat = 0): Promise<RunResult> {
  const p = e.policies.find((x) => x.name === policy)!;
  const s = e.scenarios.find((x) => x.name === scenario)!;
  return simulateRun(e, { policy: p, scenario: s, repeat, seed: deriveSeed(e.seed, policy, scenario, repeat) });
}

describe('simulated runs', () => {
  it('a replacement failing 10% from the start: all-at-once fails at least 3× a 10% canary, and every policy rolls back', async () => {
    const e = experiment();
    const failed: Record<string, number> = {};
    for (const policy of e.policies) {
      failed[policy.name] = 0;
      for (let r = 0; r < 20; r++) {
        const result = await run(e, policy.name, 'errors-10pct', r);
        expect(result.outcome, `${policy.name} #${r}`).toBe('RolledBack');
        expect(result.alarm?.name).toBe('errors');
        expect(result.timeToFullTrafficMs === null || policy.name === 'all-at-once').toBe(true);
        failed[policy.name]! += result.failed;
      }
    }
    expect(failed['all-at-once']).toBeGreaterThanOrEqual(3 * failed['canary-10-5m']!);
    expect(failed['canary-10-5m']).toBeGreaterThan(0);
  });

  it('a healthy replacement: every policy succeeds and reaches 100% within 5% of its schedule', async () => {
    const e = experiment();
    for (const policy of e.policies) {
      const result = await run(e, policy.name, 'healthy');
      expect(result.outcome).toBe('Succeeded');
      expect(result.failed).toBe(0);
      expect(result.alarm).toBeUndefined();
      const total = totalDurationMs(policy.shift)!;
      expect(Math.abs(result.timeToFullTrafficMs! - total)).toBeLessThanOrEqual(0.05 * total);
      // Created after the second of load before it; over after the shift and the bake.
      expect(result.durationMs).toBe(total + e.bake);
      expect(result.requests).toBe(1000 + (total + e.bake) / e.timeScale);
      expect(result.timeline).toHaveLength(1 + (total + e.bake) / 1000);
      expect(result.latency.p50).toBeGreaterThan(1.5);
      expect(result.latency.p50).toBeLessThan(2.5);
    }
  });

  it('the same seed gives the same run; another seed another', async () => {
    const e = experiment();
    const p = e.policies[1]!;
    const s = e.scenarios[1]!;
    const a = await simulateRun(e, { policy: p, scenario: s, repeat: 0, seed: 42 });
    const b = await simulateRun(e, { policy: p, scenario: s, repeat: 0, seed: 42 });
    expect(b).toEqual(a);
    const others = await Promise.all(
      [43, 44, 45].map((seed) => simulateRun(e, { policy: p, scenario: s, repeat: 0, seed })),
    );
    expect(others.some((o) => o.failed !== a.failed || o.usersAffected !== a.usersAffected)).toBe(true);
  });

  it('a sticky split keeps the failures to the users on the replacement', async () => {
    // A long window and many requests to judge: the alarm fires some 50 s into the 10% canary.
    const text = (sticky: boolean) =>
      BASE.replace('before: 1s }', `before: 1s, sticky: ${sticky} }`)
        .replace('minRequests: 20 }', 'minRequests: 5000, window: 60s }')
        .replace('percent: 10, status: 500', 'percent: 20, status: 500');
    const onReplacement = Array.from({ length: 2000 }, (_, n) => stickyBucket(String(n))).filter(
      (b) => b < 1000,
    ).length;
    const sticky = await run(experiment(text(true)), 'canary-10-5m', 'errors-10pct');
    const loose = await run(experiment(text(false)), 'canary-10-5m', 'errors-10pct');
    for (const result of [sticky, loose]) {
      expect(result.outcome).toBe('RolledBack');
      expect(result.failed).toBeGreaterThan(500);
    }
    expect(sticky.usersAffected).toBeLessThanOrEqual(onReplacement);
    expect(sticky.usersAffected).toBeGreaterThan(0.8 * onReplacement);
    expect(loose.usersAffected).toBeGreaterThan(2 * sticky.usersAffected);
  });

  it('retry on the original: the clients see next to no failure while the replacement still fails and the alarm fires', async () => {
    const text = `${BASE}  - name: erroring
    replacement: { latency: { p50: 2ms, p99: 8ms }, errors: { percent: 10 } }
`.replace(
      'policies:',
      `policies:
  - { name: all-at-once-retry, config: CodeDeployDefault.ECSAllAtOnce, retryOnOriginal: true }
  - { name: canary-retry, config: CodeDeployDefault.ECSCanary10Percent5Minutes, retryOnOriginal: true }`,
    );
    const e = experiment(text);
    for (const policy of ['all-at-once-retry', 'canary-retry']) {
      const result = await run(e, policy, 'erroring');
      expect(result.outcome).toBe('RolledBack');
      expect(result.failedOnReplacement).toBeGreaterThanOrEqual(2);
      expect(result.failed).toBe(0);
      expect(result.usersAffected).toBe(0);
    }
    const plain = await run(e, 'all-at-once', 'erroring');
    expect(plain.failed).toBe(plain.failedOnReplacement);
    // An injected abort is the proxy's own answer: never retried.
    const injected = await run(e, 'all-at-once-retry', 'errors-10pct');
    expect(injected.failed).toBe(injected.failedOnReplacement);
  });

  it('a cold replacement of small capacity costs all-at-once more than a canary, without a single error of its own', async () => {
    const text = `${BASE.replace('timeScale: 1', 'timeScale: 60')}  - name: cold-green
    replacement:
      latency: { p50: 2ms, p99: 8ms }
      warmup: { duration: 2s, factor: 20 }
      capacity: { inFlight: 20, queue: 50, queueTimeout: 500ms }
`;
    const e = experiment(text);
    let allAtOnce = 0;
    let canary = 0;
    for (let r = 0; r < 5; r++) {
      allAtOnce += (await run(e, 'all-at-once', 'cold-green', r)).failed;
      canary += (await run(e, 'canary-10-5m', 'cold-green', r)).failed;
    }
    expect(allAtOnce).toBeGreaterThan(100);
    expect(canary).toBeLessThan(allAtOnce / 10);
  });

  it('a fault scheduled late is detected from its onset, not from the start of the shift', async () => {
    const text = `${BASE}  - name: late
    faults: { abort: { percent: 20, status: 500 }, schedule: { after: 2m } }
`;
    const e = experiment(text);
    const result = await run(e, 'canary-10-5m', 'late');
    expect(result.outcome).toBe('RolledBack');
    expect(result.detectionMs).not.toBeNull();
    // The 10 s window still holds the clean requests from before: 20% errors pass 5% after some 2.5 s.
    expect(result.detectionMs!).toBeGreaterThanOrEqual(2_000);
    expect(result.detectionMs!).toBeLessThanOrEqual(4_000);
    expect(result.durationMs).toBeGreaterThan(120_000);
    // Before the onset the replacement failed nothing.
    const before = result.timeline.filter((p) => p.t >= 0 && p.t < 119_000);
    expect(before.every((p) => p.replacement.failed === 0)).toBe(true);
    expect(before.every((p) => p.replacement.requests === 100)).toBe(true);
  });

  it('without alarms a failing replacement goes to 100% and stays; the load goes on after the end', async () => {
    const text = BASE.replace('before: 1s }', 'before: 1s, after: 2s }').replace(
      'policies:',
      'policies:\n  - { name: unwatched, config: CodeDeployDefault.ECSAllAtOnce, alarms: [] }',
    );
    const e = experiment(text);
    const result = await run(e, 'unwatched', 'errors-10pct');
    expect(result.outcome).toBe('Succeeded');
    expect(result.detectionMs).toBeNull();
    expect(result.alarm).toBeUndefined();
    expect(result.durationMs).toBe(e.bake);
    expect(result.requests).toBe(1000 + 60_000 + 2000);
    expect(result.servedByReplacement).toBe(62_000);
    expect(result.failed / result.servedByReplacement).toBeGreaterThan(0.09);
    expect(result.failed / result.servedByReplacement).toBeLessThan(0.11);
    // 6,000 failures among 2,000 users: nearly all of them.
    expect(result.usersAffected).toBeGreaterThan(1800);
    expect(result.timeline.at(-1)!.t).toBe(61_000);
  });

  it('refuses what it cannot simulate: a Prometheus alarm, and versions of a config file', async () => {
    const prometheus = experiment(
      BASE.replace(
        'alarms:',
        'alarms:\n  p95: { kind: prometheus, address: "http://127.0.0.1:9090", query: "up", threshold: 1 }',
      ),
    );
    await expect(run(prometheus, 'all-at-once', 'healthy')).rejects.toMatchObject({
      code: 'EXPERIMENT_INVALID',
      message: expect.stringContaining('"p95"'),
    });
    const config = experiment(
      BASE.replace(
        /versions:\n {2}synthetic:\n.*\n.*\n/,
        'versions: { config: switchyard.yml, service: web, original: "1", replacement: "2" }\n',
      ).replace(/ {2}- name: errors-10pct\n.*\n/, ''),
    );
    await expect(run(config, 'all-at-once', 'healthy')).rejects.toMatchObject({ code: 'EXPERIMENT_INVALID' });
  });
});
