import { describe, expect, it } from 'vitest';

import { summarize } from '../../src/lab/report/summarize.js';
import { verdicts } from '../../src/lab/report/verdicts.js';
import type { RunResult } from '../../src/lab/results.js';
import { experimentOf, run } from '../support/lab-report.js';

const experiment = experimentOf();

function textOf(runs: RunResult[], scenario: string, mode: 'live' | 'sim' = 'sim'): string {
  const found = verdicts(summarize(runs), experiment).find((v) => v.scenario === scenario && v.mode === mode);
  return found!.text;
}

const bad = (policy: string, failed: number, extra: Partial<RunResult> = {}) =>
  run({
    mode: 'sim',
    policy,
    scenario: 'errors-10pct',
    failed,
    outcome: 'RolledBack',
    timeToFullTrafficMs: null,
    ...extra,
  });

describe('verdicts', () => {
  it('names the best and worst blast radius and how many times fewer', () => {
    const text = textOf(
      [
        bad('all-at-once', 61),
        bad('canary-10', 9),
        bad('linear-10', 14),
        bad('canary-10-retry', 0, { failedOnReplacement: 12 }),
      ],
      'errors-10pct',
    );
    expect(text).toBe(
      "errors-10pct: all 4 policies rolled back. canary-10-retry failed 0 requests (median) against all-at-once's 61, none at all. " +
        "canary-10-retry's replacement failed 12 (median); retry on the original hid all but 0 from clients.",
    );
  });

  it('gives the ratio of medians over repeats', () => {
    const runs = [
      bad('all-at-once', 61),
      bad('all-at-once', 71, { repeat: 1 }),
      bad('canary-10', 9),
      bad('canary-10', 11, { repeat: 1 }),
    ];
    expect(textOf(runs, 'errors-10pct')).toContain(
      "canary-10 failed 10 requests (median) against all-at-once's 66, 6.6× fewer.",
    );
  });

  it('calls out a bad release carried through, with its share of the repeats', () => {
    const runs = [
      bad('all-at-once', 61),
      bad('all-at-once', 80, { repeat: 1, outcome: 'Succeeded' }),
      bad('canary-10', 9),
    ];
    const text = textOf(runs, 'errors-10pct');
    expect(text).toContain('errors-10pct: all-at-once rolled back 1/2, succeeded 1/2, canary-10 rolled back 1/1.');
    expect(text).toContain(
      'Missed: the bad release went through despite its aborts with all-at-once in 1 of 2 repeats (50%).',
    );
  });

  it('says how fast a healthy release got to 100%, and calls out false alarms', () => {
    const healthy = (policy: string, ttf: number | null, extra: Partial<RunResult> = {}) =>
      run({ mode: 'live', policy, scenario: 'healthy', timeToFullTrafficMs: ttf, ...extra });
    const runs = [
      healthy('all-at-once', 0),
      healthy('canary-10', 300_000),
      healthy('linear-10', 270_000),
      healthy('canary-10-retry', 300_000),
    ];
    expect(textOf(runs, 'healthy', 'live')).toBe(
      'healthy: all 4 policies succeeded. all-at-once reached 100% at once, canary-10 after 5m.',
    );
    runs.push(
      healthy('linear-10', null, { repeat: 1, outcome: 'RolledBack' }),
      healthy('linear-10', null, { repeat: 2, outcome: 'RolledBack' }),
    );
    const text = textOf(runs, 'healthy', 'live');
    expect(text).toContain('linear-10 rolled back 2/3, succeeded 1/3');
    expect(text).toContain('False alarms: the healthy release was rolled back by linear-10 in 2 of 3 repeats (67%).');
  });

  it('names a policy that never reached 100% in a healthy scenario', () => {
    const runs = [
      run({ mode: 'sim', policy: 'canary-10', scenario: 'healthy', outcome: 'Stopped', timeToFullTrafficMs: null }),
    ];
    expect(textOf(runs, 'healthy')).toBe('healthy: canary-10 stopped. canary-10 never reached 100%.');
  });

  it('neither calls a rollback in a scenario that is not healthy a false alarm nor a success in it a miss', () => {
    const runs = [
      run({ mode: 'sim', policy: 'all-at-once', scenario: 'slower', outcome: 'RolledBack' }),
      run({ mode: 'sim', policy: 'canary-10', scenario: 'slower' }),
    ];
    const text = textOf(runs, 'slower');
    expect(text).not.toMatch(/False alarm|Missed/);
    expect(text).toContain('No policy failed a request (median).');
  });
});
