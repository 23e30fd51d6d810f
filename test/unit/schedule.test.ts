import { describe, expect, it } from 'vitest';

import { PREDEFINED_CONFIGS, predefinedConfig } from '../../src/codedeploy/predefined-configs.js';
import { TrafficShift } from '../../src/codedeploy/traffic-shift.js';
import { isSwitchyardError } from '../../src/core/errors.js';
import { hasManualPause, shiftAt, stepsOf, totalDurationMs } from '../../src/shifting/schedule.js';

const MIN = 60_000;

/** The reference's table of Lambda and ECS configurations, written out independently of the code. */
type Kind = 'AllAtOnce' | 'Canary' | 'Linear';
const PREDEFINED_SHIFTS: readonly [name: string, type: Kind, percent: number, minutes: number][] = [
  ['CodeDeployDefault.LambdaAllAtOnce', 'AllAtOnce', 100, 0],
  ['CodeDeployDefault.LambdaCanary10Percent5Minutes', 'Canary', 10, 5],
  ['CodeDeployDefault.LambdaCanary10Percent10Minutes', 'Canary', 10, 10],
  ['CodeDeployDefault.LambdaCanary10Percent15Minutes', 'Canary', 10, 15],
  ['CodeDeployDefault.LambdaCanary10Percent30Minutes', 'Canary', 10, 30],
  ['CodeDeployDefault.LambdaLinear10PercentEvery1Minute', 'Linear', 10, 1],
  ['CodeDeployDefault.LambdaLinear10PercentEvery2Minutes', 'Linear', 10, 2],
  ['CodeDeployDefault.LambdaLinear10PercentEvery3Minutes', 'Linear', 10, 3],
  ['CodeDeployDefault.LambdaLinear10PercentEvery10Minutes', 'Linear', 10, 10],
  ['CodeDeployDefault.ECSAllAtOnce', 'AllAtOnce', 100, 0],
  ['CodeDeployDefault.ECSCanary10Percent5Minutes', 'Canary', 10, 5],
  ['CodeDeployDefault.ECSCanary10Percent15Minutes', 'Canary', 10, 15],
  ['CodeDeployDefault.ECSLinear10PercentEvery1Minutes', 'Linear', 10, 1],
  ['CodeDeployDefault.ECSLinear10PercentEvery3Minutes', 'Linear', 10, 3],
];

function shiftOf(name: string): TrafficShift {
  const shift = predefinedConfig(name)?.trafficRouting;
  if (!shift) throw new Error(`no traffic routing for ${name}`);
  return shift;
}

/** [elapsed ms, weight bp, step, nextChangeAtMs] */
type Row = [number, number, number, number | null];

function expectRows(shift: TrafficShift, rows: Row[]): void {
  for (const [elapsed, weight, step, next] of rows) {
    expect(shiftAt(shift, elapsed), `at ${elapsed} ms`).toEqual({ weight, step, nextChangeAtMs: next });
  }
}

describe('predefined Lambda and ECS configurations', () => {
  it('covers every Lambda and ECS configuration the code predefines', () => {
    const coded = PREDEFINED_CONFIGS.filter((c) => c.computePlatform !== 'Server').map((c) => c.name);
    expect(coded).toEqual(PREDEFINED_SHIFTS.map(([name]) => name));
  });

  describe.each(PREDEFINED_SHIFTS.filter(([, type]) => type === 'AllAtOnce'))('%s', (name) => {
    it('is at 100% from the start, with nothing left to change', () => {
      const shift = shiftOf(name);
      expectRows(shift, [
        [0, 10_000, 0, null],
        [1, 10_000, 0, null],
        [60 * MIN, 10_000, 0, null],
      ]);
      expect(stepsOf(shift)).toEqual([{ weight: 10_000, holdMs: 0 }]);
      expect(totalDurationMs(shift)).toBe(0);
    });
  });

  describe.each(PREDEFINED_SHIFTS.filter(([, type]) => type === 'Canary'))('%s', (name, _type, percent, minutes) => {
    const i = minutes * MIN;
    const bp = percent * 100;

    it(`holds ${percent}% until ${minutes} min, then 100%`, () => {
      expectRows(shiftOf(name), [
        [0, bp, 0, i],
        [i - 1, bp, 0, i],
        [i, 10_000, 1, null],
        [i + 1, 10_000, 1, null],
        [10 * i, 10_000, 1, null],
      ]);
    });

    it('has two steps and lasts one interval', () => {
      const shift = shiftOf(name);
      expect(stepsOf(shift)).toEqual([
        { weight: bp, holdMs: i },
        { weight: 10_000, holdMs: 0 },
      ]);
      expect(totalDurationMs(shift)).toBe(i);
    });
  });

  describe.each(PREDEFINED_SHIFTS.filter(([, type]) => type === 'Linear'))('%s', (name, _type, percent, minutes) => {
    const i = minutes * MIN;
    const bp = percent * 100;

    it(`adds ${percent}% at 0, ${minutes} min, ${2 * minutes} min, …, 100% at ${9 * minutes} min`, () => {
      const shift = shiftOf(name);
      const rows: Row[] = [[0, bp, 0, i]];
      // Every boundary k·i: just before, at, and just after.
      for (let k = 1; k <= 9; k++) {
        const weight = Math.min(10_000, (k + 1) * bp);
        const next = k === 9 ? null : (k + 1) * i;
        rows.push([k * i - 1, k * bp, k - 1, k * i]);
        rows.push([k * i, weight, k, next]);
        rows.push([k * i + 1, weight, k, next]);
      }
      rows.push([100 * i, 10_000, 9, null]);
      expectRows(shift, rows);
    });

    it('reaches 100% at exactly 9 intervals, not 10', () => {
      const shift = shiftOf(name);
      expect(shiftAt(shift, 9 * i - 1).weight).toBe(9_000);
      expect(shiftAt(shift, 9 * i).weight).toBe(10_000);
      expect(totalDurationMs(shift)).toBe(9 * i);
    });

    it('has ten steps of 10%', () => {
      const steps = stepsOf(shiftOf(name));
      expect(steps).toHaveLength(10);
      expect(steps.map((s) => s.weight)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => k * 1000));
      expect(steps.map((s) => s.holdMs)).toEqual([i, i, i, i, i, i, i, i, i, 0]);
    });
  });
});

describe('custom shifts beyond what AWS allows', () => {
  it('a 0.01% canary for 30 seconds', () => {
    const shift: TrafficShift = { kind: 'canary', weight: 1, intervalMs: 30_000 };
    expectRows(shift, [
      [0, 1, 0, 30_000],
      [29_999, 1, 0, 30_000],
      [30_000, 10_000, 1, null],
      [30_001, 10_000, 1, null],
    ]);
    expect(totalDurationMs(shift)).toBe(30_000);
  });

  it('a 99.99% canary', () => {
    const shift: TrafficShift = { kind: 'canary', weight: 9_999, intervalMs: 1 };
    expectRows(shift, [
      [0, 9_999, 0, 1],
      [1, 10_000, 1, null],
    ]);
  });

  it('a 0.01% linear every second: 10,000 steps, 100% at 9,999 s', () => {
    const shift: TrafficShift = { kind: 'linear', step: 1, intervalMs: 1_000 };
    expectRows(shift, [
      [0, 1, 0, 1_000],
      [999, 1, 0, 1_000],
      [1_000, 2, 1, 2_000],
      [4_999_999, 5_000, 4_999, 5_000_000],
      [9_998_999, 9_999, 9_998, 9_999_000],
      [9_999_000, 10_000, 9_999, null],
      [Number.POSITIVE_INFINITY, 10_000, 9_999, null],
    ]);
    expect(stepsOf(shift)).toHaveLength(10_000);
    expect(totalDurationMs(shift)).toBe(9_999_000);
  });

  it('a 33.33% linear every 10 s ends with a last 0.01% increment', () => {
    const shift: TrafficShift = { kind: 'linear', step: 3_333, intervalMs: 10_000 };
    expect(stepsOf(shift)).toEqual([
      { weight: 3_333, holdMs: 10_000 },
      { weight: 6_666, holdMs: 10_000 },
      { weight: 9_999, holdMs: 10_000 },
      { weight: 10_000, holdMs: 0 },
    ]);
    expectRows(shift, [
      [9_999, 3_333, 0, 10_000],
      [10_000, 6_666, 1, 20_000],
      [29_999, 9_999, 2, 30_000],
      [30_000, 10_000, 3, null],
    ]);
  });

  it('a 25% linear divides evenly: 100% at 3 intervals', () => {
    const shift: TrafficShift = { kind: 'linear', step: 2_500, intervalMs: 15_000 };
    expect(stepsOf(shift).map((s) => s.weight)).toEqual([2_500, 5_000, 7_500, 10_000]);
    expect(totalDurationMs(shift)).toBe(45_000);
    expect(shiftAt(shift, 44_999).weight).toBe(7_500);
    expect(shiftAt(shift, 45_000).weight).toBe(10_000);
  });

  it('a 30% linear caps its last increment at 100%', () => {
    const shift: TrafficShift = { kind: 'linear', step: 3_000, intervalMs: 1_000 };
    expect(stepsOf(shift).map((s) => s.weight)).toEqual([3_000, 6_000, 9_000, 10_000]);
    expect(totalDurationMs(shift)).toBe(3_000);
  });
});

describe('explicit steps', () => {
  it('without pauses: a step held 0 ms is passed at once, and 100% follows the last step', () => {
    const shift: TrafficShift = {
      kind: 'steps',
      steps: [
        { weight: 0, pauseMs: 0 },
        { weight: 500, pauseMs: 10_000 },
        { weight: 2_000, pauseMs: 20_000 },
        { weight: 2_000, pauseMs: 5_000 },
      ],
    };
    expect(stepsOf(shift)).toEqual([
      { weight: 0, holdMs: 0 },
      { weight: 500, holdMs: 10_000 },
      { weight: 2_000, holdMs: 20_000 },
      { weight: 2_000, holdMs: 5_000 },
      { weight: 10_000, holdMs: 0 },
    ]);
    expectRows(shift, [
      [0, 500, 1, 10_000],
      [9_999, 500, 1, 10_000],
      [10_000, 2_000, 2, 30_000],
      [29_999, 2_000, 2, 30_000],
      [30_000, 2_000, 3, 35_000],
      [34_999, 2_000, 3, 35_000],
      [35_000, 10_000, 4, null],
      [35_001, 10_000, 4, null],
    ]);
    expect(totalDurationMs(shift)).toBe(35_000);
    expect(hasManualPause(shift)).toBe(false);
  });

  it('ending at 100% given explicitly adds no step', () => {
    const shift: TrafficShift = {
      kind: 'steps',
      steps: [
        { weight: 1_000, pauseMs: 1_000 },
        { weight: 10_000, pauseMs: 0 },
      ],
    };
    expect(stepsOf(shift)).toEqual([
      { weight: 1_000, holdMs: 1_000 },
      { weight: 10_000, holdMs: 0 },
    ]);
    expectRows(shift, [
      [999, 1_000, 0, 1_000],
      [1_000, 10_000, 1, null],
    ]);
  });

  it('with a manual pause: stepsOf shows it, shiftAt refuses, the duration is unknown', () => {
    const shift: TrafficShift = {
      kind: 'steps',
      steps: [
        { weight: 1_000, pauseMs: 60_000 },
        { weight: 5_000, pauseMs: null },
      ],
    };
    expect(stepsOf(shift)).toEqual([
      { weight: 1_000, holdMs: 60_000 },
      { weight: 5_000, holdMs: null },
      { weight: 10_000, holdMs: 0 },
    ]);
    expect(hasManualPause(shift)).toBe(true);
    expect(totalDurationMs(shift)).toBeNull();
    expect(() => shiftAt(shift, 0)).toThrow(/step 1 .*manual continue.*stepsOf/);
    try {
      shiftAt(shift, 0);
    } catch (e) {
      expect(isSwitchyardError(e, 'ARGUMENTS_INVALID')).toBe(true);
    }
  });
});

describe('shiftAt input', () => {
  it.each([-1, Number.NaN])('refuses elapsed time %s', (elapsed) => {
    expect(() => shiftAt({ kind: 'allAtOnce' }, elapsed)).toThrow(/elapsed time must be 0 or more/);
  });
});

describe('invariants', () => {
  const shifts: [string, TrafficShift][] = [
    ...PREDEFINED_SHIFTS.map(([name]): [string, TrafficShift] => [name, shiftOf(name)]),
    ['canary 0.01% 1s', { kind: 'canary', weight: 1, intervalMs: 1_000 }],
    ['linear 7.77% 3s', { kind: 'linear', step: 777, intervalMs: 3_000 }],
    ['linear 0.5% 100ms', { kind: 'linear', step: 50, intervalMs: 100 }],
    [
      'steps',
      {
        kind: 'steps',
        steps: [
          { weight: 0, pauseMs: 2_000 },
          { weight: 100, pauseMs: 0 },
          { weight: 100, pauseMs: 1_500 },
          { weight: 9_000, pauseMs: 700 },
        ],
      },
    ],
  ];

  it.each(shifts)('%s: weight never falls, the next change lies ahead, 100% at the end', (_name, shift) => {
    const total = totalDurationMs(shift)!;
    const steps = stepsOf(shift);
    expect(steps.at(-1)).toEqual({ weight: 10_000, holdMs: 0 });
    for (let k = 1; k < steps.length; k++) expect(steps[k]!.weight).toBeGreaterThanOrEqual(steps[k - 1]!.weight);

    let previous = -1;
    const samples = 500;
    for (let n = 0; n <= samples; n++) {
      const t = Math.round((total * 1.1 * n) / samples);
      const at = shiftAt(shift, t);
      expect(at.weight).toBeGreaterThanOrEqual(previous);
      expect(at.weight).toBe(steps[at.step]!.weight);
      previous = at.weight;
      if (at.nextChangeAtMs === null) {
        expect(at.weight).toBe(10_000);
        expect(at.step).toBe(steps.length - 1);
        expect(t).toBeGreaterThanOrEqual(total);
      } else {
        expect(at.nextChangeAtMs).toBeGreaterThan(t);
        expect(shiftAt(shift, at.nextChangeAtMs).step).toBeGreaterThan(at.step);
        expect(shiftAt(shift, at.nextChangeAtMs - 1).step).toBe(at.step);
      }
    }
    expect(shiftAt(shift, total)).toEqual({ weight: 10_000, step: steps.length - 1, nextChangeAtMs: null });
  });
});

describe('TrafficShift schema', () => {
  it.each([
    ['a canary of 0', { kind: 'canary', weight: 0, intervalMs: 1 }, ['weight']],
    ['a canary of 100%', { kind: 'canary', weight: 10_000, intervalMs: 1 }, ['weight']],
    ['a fractional basis point', { kind: 'linear', step: 10.5, intervalMs: 1 }, ['step']],
    ['an interval of 0', { kind: 'linear', step: 1_000, intervalMs: 0 }, ['intervalMs']],
    ['no steps', { kind: 'steps', steps: [] }, ['steps']],
    [
      'a falling weight',
      {
        kind: 'steps',
        steps: [
          { weight: 500, pauseMs: 0 },
          { weight: 400, pauseMs: 0 },
        ],
      },
      ['steps', 1, 'weight'],
    ],
    [
      '100% before the end',
      {
        kind: 'steps',
        steps: [
          { weight: 10_000, pauseMs: 0 },
          { weight: 10_000, pauseMs: 0 },
        ],
      },
      ['steps', 0, 'weight'],
    ],
    ['a pause at 100%', { kind: 'steps', steps: [{ weight: 10_000, pauseMs: null }] }, ['steps', 0, 'pauseMs']],
    ['an unknown kind', { kind: 'exponential' }, ['kind']],
  ])('refuses %s', (_what, value, path) => {
    const result = TrafficShift.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toContainEqual(path);
  });

  it('explains a falling weight in percent', () => {
    const result = TrafficShift.safeParse({
      kind: 'steps',
      steps: [
        { weight: 2_500, pauseMs: 0 },
        { weight: 1_000, pauseMs: 0 },
      ],
    });
    expect(result.error?.issues[0]?.message).toBe(
      'must not be below the step before it (25%): traffic only moves to green',
    );
  });

  it('accepts every predefined shift', () => {
    for (const [name] of PREDEFINED_SHIFTS) expect(TrafficShift.safeParse(shiftOf(name)).success).toBe(true);
  });
});
