/**
 * The simulator's virtual clock against core/clock's ManualClock: the real deployment engine, walked
 * through the same shift, bake and alarm by either clock, goes through the same states at the same
 * instants (ManualClock settles with several setImmediate turns after every timer, the virtual clock
 * with one).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/core/clock.js';
import { parseExperiment } from '../../src/lab/experiment.js';
import { settle, VirtualClock } from '../../src/lab/sim/clock.js';
import { configOf, planOf } from '../../src/lab/sim/deployment.js';
import { DeploymentEngine } from '../../src/shifting/engine.js';
import type { AlarmWatcher, DeploymentRecord } from '../../src/shifting/ports.js';
import { TrafficState } from '../../src/shifting/traffic.js';

const EXPERIMENT = parseExperiment(
  `
bake: 1m
load: { rate: 10 }
versions: { synthetic: { original: {}, replacement: {} } }
alarms: { errors: { kind: error-rate, threshold: 0.05 } }
policies:
  - { name: linear, config: CodeDeployDefault.ECSLinear10PercentEvery1Minutes }
  - { name: canary, config: { type: TimeBasedCanary, percent: 25, interval: 90s } }
scenarios: [{ name: s }]
`,
  '',
);

interface Driver {
  readonly now: () => number;
  readonly advance: (ms: number) => Promise<void>;
  readonly settle: () => Promise<void>;
  readonly clock: ManualClock | VirtualClock;
}

function manual(): Driver {
  const clock = new ManualClock(1_000_000);
  return { clock, now: () => clock.now(), advance: (ms) => clock.advance(ms), settle: () => clock.advance(0) };
}

function virtual(): Driver {
  const clock = new VirtualClock(1_000_000);
  return { clock, now: () => clock.now(), advance: (ms) => clock.advanceTo(clock.now() + ms), settle };
}

/** What a deployment looks like at one instant, without its random ids. */
function snapshot(record: DeploymentRecord, traffic: TrafficState) {
  return {
    status: record.status,
    trafficWeight: record.trafficWeight,
    shiftStep: record.shiftStep,
    waitingFor: record.waitingFor,
    completeTime: record.completeTime,
    error: record.errorInformation,
    events: record.lifecycleEvents.map((e) => [e.name, e.status, e.startTime, e.endTime]),
    timeline: record.timeline.map((t) => [t.time, t.message, t.status]),
    weights: traffic.service('web').weights.production,
  };
}

/** Walks one deployment in steps of `stepMs`, firing the alarm at `alarmAtMs` if given; a snapshot per step. */
async function walk(driver: Driver, policy: number, stepMs: number, alarmAtMs?: number) {
  const traffic = new TrafficState(configOf(EXPERIMENT, false));
  let fire: ((alarm: string, reason: string) => void) | undefined;
  const alarms: AlarmWatcher = { watch: (_w, f) => (fire = f), unwatch: () => undefined };
  const engine = new DeploymentEngine({
    clock: driver.clock,
    log: pino({ level: 'silent' }),
    traffic,
    hooks: { run: () => Promise.reject(new Error('no hooks')) },
    alarms,
  });
  const start = driver.now();
  const record = engine.create(planOf(EXPERIMENT, EXPERIMENT.policies[policy]!), 'd-1');
  await driver.settle();
  const seen = [snapshot(record, traffic)];
  for (let i = 0; i < 200 && (record.completeTime === undefined || i < 3); i++) {
    await driver.advance(stepMs);
    if (alarmAtMs !== undefined && fire && driver.now() - start >= alarmAtMs) {
      fire('errors', 'too many');
      fire = undefined;
      await driver.settle();
    }
    seen.push(snapshot(record, traffic));
  }
  return seen;
}

describe('the virtual clock', () => {
  it.each([
    ['a linear shift and its bake', 0, 7_000, undefined],
    ['a canary stopped by an alarm in its bake', 1, 5_000, 120_000],
    ['a linear shift stopped by an alarm', 0, 60_000, 180_000],
  ])('walks %s as ManualClock does', async (_name, policy, step, alarmAt) => {
    const expected = await walk(manual(), policy, step, alarmAt);
    const actual = await walk(virtual(), policy, step, alarmAt);
    expect(actual).toEqual(expected);
    expect(expected.at(-1)!.status).toBe(alarmAt === undefined ? 'Succeeded' : 'Stopped');
  });

  it('fires timers in time order, then in the order they were set, each at its own instant', async () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push(`c@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`a@${clock.now()}`));
    const cancel = clock.setTimer(20, () => fired.push('cancelled'));
    clock.setTimer(10, () => fired.push(`b@${clock.now()}`));
    cancel();
    expect(clock.wouldFire(9)).toBe(false);
    clock.moveTo(9);
    expect(() => clock.moveTo(10)).toThrow(RangeError);
    await clock.advanceTo(25);
    expect(fired).toEqual(['a@10', 'b@10']);
    expect(clock.now()).toBe(25);
    await clock.advanceTo(100);
    expect(fired).toEqual(['a@10', 'b@10', 'c@30']);
    expect(clock.nextDue).toBe(Infinity);
  });
});
