import { describe, expect, it } from 'vitest';

import { paretoFront } from '../../src/lab/report/pareto.js';
import { summarize } from '../../src/lab/report/summarize.js';
import type { RunResult } from '../../src/lab/results.js';
import { experimentOf, run } from '../support/lab-report.js';

const experiment = experimentOf();
const POLICIES = ['all-at-once', 'canary-10', 'linear-10', 'canary-10-retry'];

/** Runs giving each policy a time to 100% in the healthy scenario and a failed count in each bad one. */
function runsOf(figures: Record<string, [ttf: number | null, failed: number]>): RunResult[] {
  return Object.entries(figures).flatMap(([policy, [ttf, failed]]) => [
    run({ mode: 'sim', policy, scenario: 'healthy', timeToFullTrafficMs: ttf }),
    // Not a bad scenario: its failures must not count towards safety.
    run({ mode: 'sim', policy, scenario: 'slower', failed: 1000 }),
    run({ mode: 'sim', policy, scenario: 'errors-10pct', failed, outcome: 'RolledBack' }),
    run({ mode: 'sim', policy, scenario: 'cold-green', failed: failed * 2, outcome: 'RolledBack' }),
  ]);
}

function front(runs: RunResult[], policies = POLICIES) {
  return paretoFront('sim', summarize(runs), experiment.scenarios, policies, experiment.versions);
}

describe('paretoFront', () => {
  it('keeps the policies no other beats on both speed and safety', () => {
    const f = front(
      runsOf({
        'all-at-once': [0, 60],
        'canary-10': [300_000, 10],
        'linear-10': [300_000, 15],
        'canary-10-retry': [300_000, 0],
      }),
    );
    expect(f.healthy).toEqual(['healthy']);
    expect(f.bad).toEqual(['errors-10pct', 'cold-green']);
    expect(f.points.filter((p) => p.pareto).map((p) => p.policy)).toEqual(['all-at-once', 'canary-10-retry']);
    const linear = f.points.find((p) => p.policy === 'linear-10')!;
    expect(linear).toMatchObject({ speedMs: 300_000, failed: 45, pareto: false });
    expect(linear.beatenBy).toEqual(['canary-10', 'canary-10-retry']);
  });

  it('keeps both of two policies with the very same figures', () => {
    const f = front(runsOf({ 'canary-10': [300_000, 10], 'canary-10-retry': [300_000, 10] }), [
      'canary-10',
      'canary-10-retry',
    ]);
    expect(f.points.map((p) => p.pareto)).toEqual([true, true]);
  });

  it('ranks a policy that never reached 100% in a healthy scenario slower than any that did', () => {
    const f = front(runsOf({ 'all-at-once': [null, 5], 'canary-10': [300_000, 5] }), ['all-at-once', 'canary-10']);
    const never = f.points[0]!;
    expect(never).toMatchObject({ neverFull: true, speedMs: null, pareto: false, beatenBy: ['canary-10'] });
    // Never reaching 100% yet failing fewer requests is still a trade-off, not beaten.
    const safer = front(runsOf({ 'all-at-once': [null, 1], 'canary-10': [300_000, 5] }), ['all-at-once', 'canary-10']);
    expect(safer.points.map((p) => p.pareto)).toEqual([true, true]);
  });

  it('leaves out a policy missing a scenario, and compares the rest without it', () => {
    const runs = runsOf({ 'all-at-once': [0, 1], 'canary-10': [300_000, 5] }).filter(
      (r) => !(r.policy === 'all-at-once' && r.scenario === 'cold-green'),
    );
    const f = front(runs, ['all-at-once', 'canary-10']);
    expect(f.points[0]).toMatchObject({ incomplete: true, pareto: false, failed: null, speedMs: null });
    expect(f.points[1]).toMatchObject({ pareto: true, beatenBy: [] });
  });

  it('compares on safety alone when no scenario is healthy', () => {
    const scenarios = experiment.scenarios.filter((s) => s.name !== 'healthy');
    const runs = runsOf({ 'all-at-once': [0, 60], 'canary-10': [300_000, 10] }).filter((r) => r.scenario !== 'healthy');
    const f = paretoFront('sim', summarize(runs), scenarios, ['all-at-once', 'canary-10'], experiment.versions);
    expect(f.healthy).toEqual([]);
    expect(f.points.map((p) => [p.speedMs, p.pareto])).toEqual([
      [null, false],
      [null, true],
    ]);
  });
});
