import { describe, expect, it } from 'vitest';

import { reportFigures } from '../../src/lab/report/figures.js';
import { humanDuration } from '../../src/lab/report/format.js';
import { scenarioFaults, scenarioKind } from '../../src/lab/report/scenarios.js';
import { medianOf, spreadOf } from '../../src/lab/report/spread.js';
import { representativeRun, summarize } from '../../src/lab/report/summarize.js';
import { experimentOf, run } from '../support/lab-report.js';

describe('spreadOf', () => {
  it('takes the middle value of an odd count and the mean of the middle two of an even count', () => {
    expect(spreadOf([5, 1, 3])).toEqual({ median: 3, p95: 5, min: 1, max: 5 });
    expect(spreadOf([4, 1, 3, 10])!.median).toBe(3.5);
    expect(medianOf([])).toBeUndefined();
    expect(spreadOf([])).toBeUndefined();
  });

  it('takes p95 by nearest rank: a value seen, the smallest with 95% at or below it', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(spreadOf(twenty)!.p95).toBe(19);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(spreadOf(hundred)!.p95).toBe(95);
    expect(spreadOf([7])!.p95).toBe(7);
  });
});

describe('summarize', () => {
  const runs = [
    run({
      mode: 'sim',
      policy: 'canary',
      scenario: 'bad',
      repeat: 0,
      failed: 9,
      outcome: 'RolledBack',
      detectionMs: 1000,
      timeToFullTrafficMs: null,
    }),
    run({
      mode: 'sim',
      policy: 'canary',
      scenario: 'bad',
      repeat: 1,
      failed: 3,
      outcome: 'RolledBack',
      detectionMs: 3000,
      timeToFullTrafficMs: null,
    }),
    run({
      mode: 'sim',
      policy: 'canary',
      scenario: 'bad',
      repeat: 2,
      failed: 30,
      outcome: 'Succeeded',
      detectionMs: null,
      timeToFullTrafficMs: 90_000,
    }),
    run({ mode: 'live', policy: 'canary', scenario: 'bad', failed: 4, detectionMs: null }),
    run({ mode: 'live', policy: 'all', scenario: 'bad', failed: 50 }),
    run({ mode: 'live', policy: 'all', scenario: 'good' }),
  ];

  it('spreads each figure over the repeats of a mode × policy × scenario', () => {
    const row = summarize(runs).find((r) => r.mode === 'sim')!;
    expect(row).toMatchObject({ mode: 'sim', policy: 'canary', scenario: 'bad', runs: 3 });
    expect(row.outcomes).toEqual({ RolledBack: 2, Succeeded: 1 });
    expect(row.failed).toEqual({ median: 9, p95: 30, min: 3, max: 30 });
  });

  it('spreads detection over the runs where an alarm fired, time to 100% over those that got there', () => {
    const row = summarize(runs).find((r) => r.mode === 'sim')!;
    expect(row.detectionMs).toEqual({ median: 2000, p95: 3000, min: 1000, max: 3000 });
    expect(row.timeToFullTrafficMs).toEqual({ median: 90_000, p95: 90_000, min: 90_000, max: 90_000 });
    const live = summarize(runs).find((r) => r.mode === 'live' && r.policy === 'canary')!;
    expect(live.detectionMs).toBeNull();
    const never = summarize([run({ mode: 'sim', policy: 'p', scenario: 's', timeToFullTrafficMs: null })]);
    expect(never[0]!.timeToFullTrafficMs).toBeNull();
  });

  it('orders rows by mode, then the scenarios and policies as given, then by appearance', () => {
    const order = summarize(runs, { scenarios: ['good', 'bad'], policies: ['all', 'canary'] }).map((r) =>
      [r.mode, r.scenario, r.policy].join(' '),
    );
    expect(order).toEqual(['live good all', 'live bad all', 'live bad canary', 'sim bad canary']);
  });

  it('picks the median-failed repeat to stand for its group in charts', () => {
    const group = runs.filter((r) => r.mode === 'sim');
    expect(representativeRun(group)!.repeat).toBe(0);
    const even = [
      run({ mode: 'sim', policy: 'p', scenario: 's', repeat: 0, failed: 8 }),
      run({ mode: 'sim', policy: 'p', scenario: 's', repeat: 1, failed: 2 }),
    ];
    expect(representativeRun(even)!.failed).toBe(2);
    expect(representativeRun([])).toBeUndefined();
  });
});

describe('scenarioKind', () => {
  const experiment = experimentOf();
  const kindOf = (name: string) =>
    scenarioKind(
      experiment.scenarios.find((s) => s.name === name)!,
      experiment.versions,
    );

  it('tells bad, healthy and other scenarios apart by their spec, not their name', () => {
    expect(kindOf('healthy')).toBe('healthy');
    expect(kindOf('errors-10pct')).toBe('bad');
    expect(kindOf('cold-green')).toBe('bad');
    expect(kindOf('slower')).toBe('other');
    expect(scenarioFaults(experiment.scenarios.find((s) => s.name === 'cold-green')!)).toEqual(['capacity', 'warm-up']);
  });

  it('counts a fault at 0% as none, and a faulty default replacement as bad', () => {
    expect(scenarioKind({ name: 'x', faults: { abort: { percent: 0, status: 500 } } })).toBe('healthy');
    const versions = {
      ...experiment.versions,
      replacement: { latency: { fixedMs: 1 }, bodyBytes: 0, errors: { percent: 5, status: 500 } },
    };
    expect(scenarioKind({ name: 'healthy-looking' }, versions as typeof experiment.versions)).toBe('bad');
  });
});

describe('humanDuration', () => {
  it('writes durations as people read them', () => {
    expect([850, 1260, 42_000, 270_000, 300_000, 3_900_000, 7_200_000].map(humanDuration)).toEqual([
      '850ms',
      '1.26s',
      '42s',
      '4m30s',
      '5m',
      '1h05m',
      '2h',
    ]);
  });
});

describe('reportFigures', () => {
  it('orders rows as the experiment lists them and compares modes only when both ran', () => {
    const experiment = experimentOf();
    const runs = [
      run({ mode: 'sim', policy: 'canary-10', scenario: 'errors-10pct', failed: 9 }),
      run({ mode: 'sim', policy: 'all-at-once', scenario: 'healthy' }),
    ];
    const simOnly = reportFigures(runs, experiment, ['sim']);
    expect(simOnly.summary.map((r) => r.scenario)).toEqual(['healthy', 'errors-10pct']);
    expect(simOnly).not.toHaveProperty('agreement');
    expect(simOnly.verdicts.map((v) => v.scenario)).toEqual(['healthy', 'errors-10pct']);
    const live = runs.map((r) => ({ ...r, mode: 'live' as const }));
    expect(reportFigures([...live, ...runs], experiment, ['live', 'sim']).agreement).toHaveLength(2);
  });
});
