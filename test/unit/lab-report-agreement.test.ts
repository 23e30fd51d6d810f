import { describe, expect, it } from 'vitest';

import { agreement } from '../../src/lab/report/agreement.js';
import type { RunResult } from '../../src/lab/results.js';
import { run } from '../support/lab-report.js';

/** Live and simulated repeats of one policy × scenario, failed and detection per repeat. */
function pair(live: [number, number | null][], sim: [number, number | null][]): RunResult[] {
  const of = (mode: 'live' | 'sim', figures: [number, number | null][]) =>
    figures.map(([failed, detectionMs], repeat) =>
      run({ mode, policy: 'canary', scenario: 'bad', repeat, failed, detectionMs }),
    );
  return [...of('live', live), ...of('sim', sim)];
}

describe('agreement', () => {
  it('agrees when the failed medians are within 25% of the live median', () => {
    const [row] = agreement(
      pair(
        [
          [100, null],
          [120, null],
          [80, null],
        ],
        [[125, null]],
      ),
      1,
    );
    expect(row).toMatchObject({ policy: 'canary', scenario: 'bad', failed: { live: 100, sim: 125 }, agrees: true });
    expect(row!.why).toBeUndefined();
  });

  it('disagrees past 25%, and says which way in words', () => {
    const [row] = agreement(pair([[100, null]], [[126, null]]), 1);
    expect(row!.agrees).toBe(false);
    expect(row!.why).toContain('failed 126 requests (median) against 100 live');
  });

  it('lets small counts differ by up to 10 requests', () => {
    expect(agreement(pair([[4, null]], [[14, null]]), 1)[0]!.agrees).toBe(true);
    expect(agreement(pair([[4, null]], [[15, null]]), 1)[0]!.agrees).toBe(false);
    expect(agreement(pair([[15, null]], [[4, null]]), 1)[0]!.agrees).toBe(false);
  });

  it('compares detection within 250 ms of real time, converted to deployment time by the time scale', () => {
    // At 60× a quarter second of real time is 15 s of deployment time.
    expect(agreement(pair([[10, 30_000]], [[10, 45_000]]), 60)[0]!.agrees).toBe(true);
    const late = agreement(pair([[10, 30_000]], [[10, 45_001]]), 60)[0]!;
    expect(late.agrees).toBe(false);
    expect(late.why).toContain('later than live');
    expect(late.detectionMs).toEqual({ live: 30_000, sim: 45_001 });
    // The same gap at 1× is far more than 250 ms.
    expect(agreement(pair([[10, 1_000]], [[10, 1_300]]), 1)[0]!.agrees).toBe(false);
    expect(agreement(pair([[10, 1_000]], [[10, 1_250]]), 1)[0]!.agrees).toBe(true);
  });

  it('agrees when no alarm fired in either mode, and disagrees when only one fired', () => {
    expect(agreement(pair([[0, null]], [[0, null]]), 1)[0]).toMatchObject({
      agrees: true,
      detectionMs: { live: null, sim: null },
    });
    const one = agreement(
      pair(
        [
          [0, 2_000],
          [0, null],
        ],
        [[0, null]],
      ),
      1,
    )[0]!;
    expect(one.detectionMs).toEqual({ live: 2_000, sim: null });
    expect(one.agrees).toBe(false);
    expect(one.why).toContain('fired live (after 2s) but never in the simulation');
  });

  it('gives both reasons when both figures disagree', () => {
    const row = agreement(pair([[100, 1_000]], [[10, null]]), 1)[0]!;
    expect(row.why).toMatch(/failed 10 requests.*; an alarm fired live/);
  });

  it('has no row for a pair run in one mode only', () => {
    expect(agreement([run({ mode: 'live', policy: 'p', scenario: 's' })], 1)).toEqual([]);
  });
});
