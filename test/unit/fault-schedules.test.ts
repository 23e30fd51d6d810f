/**
 * Fault schedules on a manual clock: the pure step arithmetic (a ramp moves by one percentage point or
 * 100 ms of real time, whichever is longer, and ends exactly), a service's faults as a deployment's shift
 * starts, steps and ends them, and the engine starting them at AllowTraffic of each deployment.
 */
import { describe, expect, it } from 'vitest';

import { parseAppSpec } from '../../src/appspec/parse.js';
import { predefinedConfig } from '../../src/codedeploy/predefined-configs.js';
import { FaultConfig } from '../../src/config/faults.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import type { FaultSpec, RouteTable } from '../../src/core/route-table.js';
import { DeploymentEngine } from '../../src/shifting/engine.js';
import {
  MIN_STEP_REAL_MS,
  nextStepAt,
  rampStepMs,
  type ScheduledFault,
  ServiceFaults,
  steppedPercents,
} from '../../src/shifting/fault-schedules.js';
import type { DeploymentPlan, HookRunner, ShiftStart } from '../../src/shifting/ports.js';
import { TrafficState } from '../../src/shifting/traffic.js';
import { ECS_APPSPEC } from '../support/appspecs.js';
import { configFrom, twoVersions } from '../support/switchyard.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/** A fault as the REST API or the config would give it, with seed 1. */
const fault = (input: Record<string, unknown>): ScheduledFault => ({ seed: 1, ...FaultConfig.parse(input) });

describe('ramp steps', () => {
  const ramp = fault({
    abort: { percent: 5 },
    delay: { percent: 2, fixed: '1s' },
    schedule: { after: '1m', ramp: '10s' },
  });

  it('steps by one percentage point of the largest change, or 100 ms of real time when that is longer', () => {
    // 5 points over 10 s: 2 s a point; at time scale 1 that is longer than 100 ms.
    expect(rampStepMs(ramp, 1)).toBe(2 * SECOND);
    // At time scale 100, 100 ms real is 10 s of the deployment: the whole ramp is one step.
    expect(rampStepMs(ramp, 100)).toBe(MIN_STEP_REAL_MS * 100);
    expect(rampStepMs(fault({ abort: { percent: 5 }, schedule: { after: '1m' } }), 1)).toBe(Infinity);
    // A ramp from the percent itself changes nothing: one step.
    const flat = fault({ abort: { percent: 5 }, schedule: { after: 0, ramp: '10s', from: 5 } });
    expect(rampStepMs(flat, 1)).toBe(10 * SECOND);
  });

  it('holds each step at the percent of its start, and ends on the exact percent', () => {
    const step = rampStepMs(ramp, 1);
    expect(steppedPercents(ramp, MINUTE - 1, step)).toEqual({ abort: 0, delay: 0 });
    expect(steppedPercents(ramp, MINUTE, step)).toEqual({ abort: 0, delay: 0 });
    expect(steppedPercents(ramp, MINUTE + 1_999, step)).toEqual({ abort: 0, delay: 0 });
    expect(steppedPercents(ramp, MINUTE + 2_000, step)).toEqual({ abort: 1, delay: 0.4 });
    expect(steppedPercents(ramp, MINUTE + 9_999, step)).toEqual({ abort: 4, delay: 1.6 });
    expect(steppedPercents(ramp, MINUTE + 10_000, step)).toEqual({ abort: 5, delay: 2 });
    expect(steppedPercents(ramp, 2 * MINUTE, step)).toEqual({ abort: 5, delay: 2 });
    // Without a ramp: nothing, then all of it.
    const at = fault({ abort: { percent: 0.3 }, schedule: { after: '1m' } });
    expect(steppedPercents(at, MINUTE - 1, Infinity)).toEqual({ abort: 0, delay: 0 });
    expect(steppedPercents(at, MINUTE, Infinity)).toEqual({ abort: 0.3, delay: 0 });
    // Down from a higher percent, to the exact end value.
    const down = fault({ abort: { percent: 0.3 }, schedule: { after: 0, ramp: '1s', from: 0.1 } });
    expect(steppedPercents(down, 999, rampStepMs(down, 1))).toEqual({ abort: 0.1, delay: 0 });
    expect(steppedPercents(down, 1_000, rampStepMs(down, 1)).abort).toBe(0.3);
  });

  it('says when the next step begins, and nothing once settled', () => {
    const s = ramp.schedule!;
    expect(nextStepAt(s, 0, 2 * SECOND)).toBe(MINUTE);
    expect(nextStepAt(s, MINUTE, 2 * SECOND)).toBe(MINUTE + 2_000);
    expect(nextStepAt(s, MINUTE + 2_000, 2 * SECOND)).toBe(MINUTE + 4_000);
    // A last step shorter than the others ends on the ramp's end.
    expect(nextStepAt(s, MINUTE + 9_000, 3 * SECOND)).toBe(MINUTE + 10_000);
    expect(nextStepAt(s, MINUTE + 10_000, 2 * SECOND)).toBeUndefined();
    expect(nextStepAt({ afterMs: MINUTE }, MINUTE, Infinity)).toBeUndefined();
  });
});

/** A service's faults on a manual clock, counting the tables their steps ask for. */
function serviceFaults() {
  const clock = new ManualClock(1_000_000);
  let tables = 0;
  const faults = new ServiceFaults(() => tables++);
  const start = (timeScale = 1): ShiftStart => ({ clock, at: clock.now(), timeScale });
  return { clock, faults, start, tables: () => tables };
}

describe('a service’s faults', () => {
  it('keeps a scheduled fault out of force until a shift starts, then steps it, publishing at each step', async () => {
    const { clock, faults, start, tables } = serviceFaults();
    faults.set('2', fault({ abort: { percent: 3, status: 500 }, schedule: { after: '10s', ramp: '3s' } }));
    expect(faults.spec('2')).toBeUndefined();
    expect(faults.view()).toMatchObject({ '2': { active: { abort: 0, delay: 0 } } });
    // No shift, no timer.
    expect(clock.pending).toBe(0);
    await clock.advance(MINUTE);
    expect(faults.spec('2')).toBeUndefined();

    faults.begin(start());
    const seen: (number | undefined)[] = [];
    for (let t = 0; t < 15; t++) {
      seen.push(faults.spec('2')?.abort?.percent);
      await clock.advance(SECOND);
    }
    expect(seen).toEqual([...Array<undefined>(11).fill(undefined), 1, 2, 3, 3]);
    expect(tables()).toBe(3);
    expect(faults.spec('2')).toEqual({ abort: { percent: 3, status: 500 }, seed: 1 });
    expect(clock.pending).toBe(0);
  });

  it('steps no more often than every 100 ms of real time at a high time scale', async () => {
    const { clock, faults, start, tables } = serviceFaults();
    // 50 points over 2 minutes at time scale 600: a point is 2.4 s, 100 ms real is 60 s; two steps.
    faults.set('2', fault({ abort: { percent: 50 }, schedule: { after: 0, ramp: '2m' } }));
    faults.begin(start(600));
    const seen: (number | undefined)[] = [];
    for (let t = 0; t <= 4; t++) {
      seen.push(faults.spec('2')?.abort?.percent);
      await clock.advance(30 * SECOND);
    }
    expect(seen).toEqual([undefined, undefined, 25, 25, 50]);
    expect(tables()).toBe(2);
  });

  it('keeps the percents reached when the shift ends, and starts over with the next shift', async () => {
    const { clock, faults, start, tables } = serviceFaults();
    faults.set('2', fault({ abort: { percent: 10 }, schedule: { after: '1s', ramp: '10s' } }));
    faults.begin(start());
    await clock.advance(5 * SECOND);
    expect(faults.spec('2')?.abort?.percent).toBe(4);
    faults.end();
    expect(clock.pending).toBe(0);
    await clock.advance(MINUTE);
    expect(faults.spec('2')?.abort?.percent).toBe(4);
    expect(faults.view()).toMatchObject({ '2': { active: { abort: 4, delay: 0 } } });
    const before = tables();

    faults.begin(start());
    expect(faults.spec('2')).toBeUndefined();
    await clock.advance(SECOND);
    expect(faults.spec('2')).toBeUndefined();
    await clock.advance(SECOND);
    expect(faults.spec('2')?.abort?.percent).toBe(1);
    expect(tables()).toBe(before + 1);
  });

  it('follows the shift under way for a fault set during it, and waits for the next one outside', async () => {
    const { clock, faults, start } = serviceFaults();
    faults.begin(start());
    await clock.advance(30 * SECOND);
    // Set 30 s into the shift: its 10 s are already over.
    faults.set('1', fault({ abort: { percent: 20 }, schedule: { after: '10s' } }));
    expect(faults.spec('1')?.abort?.percent).toBe(20);
    faults.set('2', fault({ delay: { percent: 5, fixed: '1s' }, schedule: { after: '40s' } }));
    expect(faults.spec('2')).toBeUndefined();
    await clock.advance(10 * SECOND);
    expect(faults.spec('2')).toEqual({ delay: { percent: 5, fixedMs: 1_000 }, seed: 1 });
    faults.end();
    // Replaced after the shift: a scheduled fault waits; one without a schedule is in force at once.
    faults.set('2', fault({ delay: { percent: 5, fixed: '1s' }, schedule: { after: '40s' } }));
    expect(faults.spec('2')).toBeUndefined();
    faults.set('2', fault({ abort: { percent: 7 } }));
    expect(faults.spec('2')?.abort?.percent).toBe(7);
    expect(faults.set('3', undefined)).toBe(false);
    expect(faults.set('2', undefined)).toBe(true);
    expect(faults.view()).toMatchObject({ '1': { abort: { percent: 20 } } });
  });

  it('leaves a fault at 0% out of the table and stops its timer on close', async () => {
    const { clock, faults, start } = serviceFaults();
    faults.set('1', fault({ abort: { percent: 0 } }));
    expect(faults.spec('1')).toBeUndefined();
    faults.set('2', fault({ abort: { percent: 5 }, schedule: { after: '1s' } }));
    faults.begin(start());
    expect(clock.pending).toBe(1);
    faults.close();
    expect(clock.pending).toBe(0);
    await clock.advance(MINUTE);
    expect(faults.spec('2')).toBeUndefined();
  });
});

describe('fault schedules in deployments', () => {
  const hooks: HookRunner = {
    run: async () => ({
      status: 'Succeeded',
      diagnostics: { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail: '' },
    }),
  };

  const plan = (from: string, to: string): DeploymentPlan => ({
    applicationName: 'app',
    deploymentGroupName: 'group',
    config: predefinedConfig('CodeDeployDefault.ECSCanary10Percent5Minutes')!,
    appSpec: parseAppSpec(ECS_APPSPEC, 'appspec.yml'),
    service: 'web',
    currentVersion: from,
    targetVersion: to,
    timeScale: 60,
    hookTimeoutMs: 3_600_000,
    autoRollback: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
    readyWait: undefined,
    termination: undefined,
    testListener: false,
    creator: 'user',
  });

  it('starts a scheduled fault at each deployment’s AllowTraffic on its scaled clock, and keeps it after', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const faults = { '2': { abort: { percent: 30 }, seed: 7, schedule: { after: '2m' } } };
    const traffic = new TrafficState(configFrom(twoVersions('http://127.0.0.1:1', 'http://127.0.0.1:2', { faults })));
    const tables: RouteTable[] = [];
    traffic.attach({ publish: (t) => tables.push(t) });
    const faultOf = (table = traffic.table): FaultSpec | undefined =>
      table.services[0]!.versions.find((v) => v.label === '2')!.fault;
    const engine = new DeploymentEngine({ clock, log: createLogger({ level: 'silent' }), traffic, hooks });

    expect(faultOf()).toBeUndefined();
    const first = engine.create(plan('1', '2'));
    await clock.advance(0);
    expect(first.trafficWeight).toBe(1000);
    expect(faultOf()).toBeUndefined();
    // 2 minutes of the deployment at time scale 60: 2 s.
    await clock.advance(2 * SECOND - 1);
    expect(faultOf()).toBeUndefined();
    await clock.advance(1);
    expect(faultOf()).toEqual({ abort: { percent: 30, status: 503 }, seed: 7 });
    expect(traffic.service('web').faults?.['2']?.active).toEqual({ abort: 30, delay: 0 });
    await clock.advance(MINUTE);
    expect(first.status).toBe('Succeeded');
    expect(faultOf()).toEqual({ abort: { percent: 30, status: 503 }, seed: 7 });

    // The next deployment (back to 1) starts the schedule over from its own AllowTraffic.
    engine.create(plan('2', '1'));
    await clock.advance(0);
    expect(faultOf()).toBeUndefined();
    await clock.advance(2 * SECOND);
    expect(faultOf()?.abort?.percent).toBe(30);
    // The fault came into the tables twice, each time by a step of its own.
    const entered = tables.filter((t, i) => faultOf(t) && (i === 0 || !faultOf(tables[i - 1])));
    expect(entered).toHaveLength(2);
    engine.close();
    traffic.close();
  });
});

describe('a step that fires before its time', () => {
  it('still brings the fault into force when the clock passes the onset between two readings', () => {
    // A system timer may fire a little early by the clock's reading, and the clock may move on while
    // the step runs: each reading here is 10 ms later than the one before.
    let now = 0;
    let due: (() => void) | undefined;
    const clock = {
      now: () => (now += 10) - 10,
      setTimer: (_ms: number, fn: () => void) => {
        due = fn;
        return () => (due = undefined);
      },
    };
    const faults = new ServiceFaults(() => undefined);
    faults.set('2', fault({ abort: { percent: 30, status: 500 }, schedule: { after: '20s' } }));
    faults.begin({ clock, at: 0, timeScale: 1 });
    expect(faults.spec('2')).toBeUndefined();
    // The step fires 5 ms early by the first reading; the second reading is already past the onset.
    now = 19_995;
    const step = due!;
    due = undefined;
    step();
    if (due) (due as () => void)();
    expect(faults.spec('2')?.abort?.percent).toBe(30);
  });
});
