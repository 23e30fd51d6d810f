/**
 * Alarms as pure logic under a manual clock: the sliding windows over StatsDeltas, each rule's verdict
 * (error rate, latency, comparison) with insufficient data kept apart, and the monitor's consecutive
 * breaches, single firing and poll failures.
 */
import { describe, expect, it } from 'vitest';

import { AlarmConfig, type AlarmsConfig } from '../../src/config/alarms.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { LATENCY_BOUNDS_MS, type StatsEntry } from '../../src/core/stats-delta.js';
import { AlarmMonitor } from '../../src/health/alarm-monitor.js';
import { type AlarmEvaluation, judgeTraffic, type TrafficAlarm } from '../../src/health/alarm-rules.js';
import { PrometheusClient } from '../../src/health/prometheus.js';
import { StatsWindows, type WindowTotals } from '../../src/health/windows.js';

/** `ok` 2xx and `failed` 5xx responses of version `version`, all taking `ms`. */
function entry(version: string, ok: number, failed: number, ms = 10, errors = 0): StatsEntry {
  const buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  const index = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  buckets[index === -1 ? LATENCY_BOUNDS_MS.length : index] = ok + failed + errors;
  return {
    service: 'web',
    version,
    counts: [ok, 0, 0, failed, errors],
    latencyBuckets: buckets,
    latencySumMs: ms * (ok + failed + errors),
    failedOver: 0,
  };
}

/** An alarm as the config file would give it. */
function alarm(input: unknown): TrafficAlarm {
  const parsed = AlarmConfig.parse(input);
  if (parsed.kind === 'prometheus') throw new Error('a traffic alarm was expected');
  return parsed;
}

/** Traffic for a rule: replacement "2" and original "1" as fixed sums. */
function traffic(green: StatsEntry, blue: StatsEntry) {
  const windows = new StatsWindows(new ManualClock(), 60_000);
  windows.record({ entries: [green, blue] });
  return {
    totals: (role: 'replacement' | 'original', windowMs: number): WindowTotals =>
      windows.totals('web', role === 'replacement' ? '2' : '1', windowMs),
  };
}

describe('StatsWindows', () => {
  it('sums the slices of a window, from a given instant, and forgets what is past the horizon', async () => {
    const clock = new ManualClock(1_000_000);
    const windows = new StatsWindows(clock, 10_000);
    windows.record({ entries: [entry('2', 10, 0)] });
    await clock.advance(4_000);
    windows.record({ entries: [entry('2', 5, 5, 100, 2)] });
    expect(windows.totals('web', '2', 10_000)).toMatchObject({ requests: 22, errors: 7, counts: [15, 0, 0, 5, 2] });
    expect(windows.totals('web', '2', 3_000)).toMatchObject({ requests: 12, errors: 7 });
    expect(windows.totals('web', '2', 10_000, 1_002_000)).toMatchObject({ requests: 12 });
    expect(windows.totals('web', '1', 10_000)).toMatchObject({ requests: 0, errors: 0 });
    await clock.advance(8_000);
    windows.record({ entries: [entry('2', 1, 0)] });
    // The first slice is now 12 s old: beyond the 10 s horizon, gone even from a longer window.
    expect(windows.totals('web', '2', 60_000)).toMatchObject({ requests: 13 });
  });
});

describe('alarm rules', () => {
  it('judges an error rate only with enough requests', () => {
    const rule = alarm({ kind: 'error-rate', threshold: 0.05, minRequests: 20 });
    expect(judgeTraffic(rule, traffic(entry('2', 10, 5), entry('1', 100, 0)))).toMatchObject({
      state: 'INSUFFICIENT_DATA',
      reason: 'replacement: 15 of the 20 requests needed to judge',
    });
    expect(judgeTraffic(rule, traffic(entry('2', 95, 5), entry('1', 100, 0)))).toMatchObject({
      state: 'OK',
      value: 0.05,
    });
    expect(judgeTraffic(rule, traffic(entry('2', 94, 5, 10, 1), entry('1', 100, 0)))).toMatchObject({
      state: 'ALARM',
      value: 0.06,
      reason: 'replacement error rate 6.00% (6 of 100), threshold 5.00%',
    });
  });

  it('judges the original, or how far the replacement exceeds it', () => {
    const original = alarm({ kind: 'error-rate', version: 'original', threshold: 0.1, minRequests: 10 });
    expect(judgeTraffic(original, traffic(entry('2', 0, 50), entry('1', 80, 20)))).toMatchObject({
      state: 'ALARM',
      value: 0.2,
    });
    const difference = alarm({ kind: 'error-rate', version: 'difference', threshold: 0.05, minRequests: 10 });
    expect(judgeTraffic(difference, traffic(entry('2', 86, 14), entry('1', 90, 10))).state).toBe('OK');
    expect(judgeTraffic(difference, traffic(entry('2', 80, 20), entry('1', 90, 10)))).toMatchObject({ state: 'ALARM' });
    expect(judgeTraffic(difference, traffic(entry('2', 80, 20), entry('1', 5, 0))).state).toBe('INSUFFICIENT_DATA');
  });

  it('judges a latency quantile against a threshold or a multiple of the original', () => {
    const p99 = alarm({ kind: 'latency', quantile: 0.99, threshold: '250ms', minRequests: 10 });
    expect(judgeTraffic(p99, traffic(entry('2', 100, 0, 200), entry('1', 100, 0, 10))).state).toBe('OK');
    const slow = judgeTraffic(p99, traffic(entry('2', 100, 0, 400), entry('1', 100, 0, 10)));
    expect(slow.state).toBe('ALARM');
    expect(slow.reason).toMatch(/^replacement p99 \d+\.\d ms, threshold 250\.0 ms$/);
    const factor = alarm({ kind: 'latency', quantile: 0.5, factor: 2, minRequests: 10 });
    expect(judgeTraffic(factor, traffic(entry('2', 100, 0, 15), entry('1', 100, 0, 10))).state).toBe('OK');
    expect(judgeTraffic(factor, traffic(entry('2', 100, 0, 40), entry('1', 100, 0, 10))).state).toBe('ALARM');
  });

  it('compares the replacement with the original: slower or more errors beyond chance, not a coin toss', () => {
    const compare = alarm({ kind: 'compare', minRequests: 50 });
    expect(judgeTraffic(compare, traffic(entry('2', 100, 0, 10), entry('1', 100, 0, 10))).state).toBe('OK');
    const slower = judgeTraffic(compare, traffic(entry('2', 100, 0, 50), entry('1', 100, 0, 10)));
    expect(slower.state).toBe('ALARM');
    expect(slower.reason).toMatch(/^replacement is slower than the original: P\(slower\) 100\.00% \(p = /);
    const failing = judgeTraffic(compare, traffic(entry('2', 80, 20), entry('1', 100, 0)));
    expect(failing).toMatchObject({ state: 'ALARM', value: 0.2 });
    // One error more in a hundred is below the smallest increase worth stopping for.
    expect(judgeTraffic(compare, traffic(entry('2', 99, 1), entry('1', 100, 0))).state).toBe('OK');
    expect(judgeTraffic(compare, traffic(entry('2', 40, 0), entry('1', 100, 0))).state).toBe('INSUFFICIENT_DATA');
  });

  it('rejects a latency alarm without exactly one of threshold or factor', () => {
    expect(AlarmConfig.safeParse({ kind: 'latency' }).success).toBe(false);
    expect(AlarmConfig.safeParse({ kind: 'latency', threshold: '1s', factor: 2 }).success).toBe(false);
    expect(AlarmConfig.safeParse({ kind: 'nope' }).error?.issues[0]?.message).toBe(
      'kind must be error-rate, latency, compare or prometheus',
    );
  });
});

function monitorOf(clock: ManualClock, alarms: AlarmsConfig) {
  const windows = new StatsWindows(clock, 60_000);
  const pending: StatsEntry[][] = [];
  const changes: { alarm: string; evaluation: AlarmEvaluation }[] = [];
  const monitor = new AlarmMonitor({
    clock,
    log: createLogger({ level: 'silent' }),
    windows,
    // Stands in for the data plane: whatever the test queued is pulled at the next evaluation.
    pullStats: () => {
      for (const entries of pending.splice(0)) windows.record({ entries });
    },
    alarms: () => alarms,
    prometheus: new PrometheusClient(clock),
    intervalMs: 250,
    onStateChange: (_id, name, evaluation) => changes.push({ alarm: name, evaluation }),
  });
  const fired: string[] = [];
  const watch = (names: string[], ignorePollAlarmFailure = false) =>
    monitor.watch(
      {
        deploymentId: 'd-TEST00001',
        service: 'web',
        original: '1',
        replacement: '2',
        alarms: names,
        ignorePollAlarmFailure,
      },
      (name, reason) => fired.push(`${name}: ${reason}`),
    );
  return { monitor, windows, pending, changes, fired, watch };
}

describe('alarm monitor', () => {
  it("keeps each watched alarm's last evaluation for the live readings, until its deployment is no longer watched", async () => {
    const clock = new ManualClock(5_000_000);
    const { monitor, pending, watch } = monitorOf(clock, {
      errors: alarm({ kind: 'error-rate', threshold: 0.1, minRequests: 10, datapointsToAlarm: 2, window: '200ms' }),
    });
    expect(monitor.readings()).toEqual([]);
    // A name no longer declared has nothing to read: left out.
    watch(['errors', 'gone'], true);
    expect(monitor.readings()).toMatchObject([{ alarm: 'errors', state: null, value: null, reason: null }]);
    pending.push([entry('2', 18, 2)]);
    await clock.advance(250);
    expect(monitor.readings()).toEqual([
      {
        deploymentId: 'd-TEST00001',
        service: 'web',
        alarm: 'errors',
        kind: 'error-rate',
        version: '2',
        state: 'OK',
        value: 0.1,
        threshold: 0.1,
        unit: 'ratio',
        comparison: '>',
        breaches: 0,
        datapointsToAlarm: 2,
        reason: 'replacement error rate 10.00% (2 of 20), threshold 10.00%',
      },
    ]);
    pending.push([entry('2', 0, 20)]);
    await clock.advance(250);
    expect(monitor.readings()).toMatchObject([{ state: 'ALARM', value: 1, breaches: 1 }]);
    pending.push([entry('2', 0, 20)]);
    await clock.advance(250);
    // Fired: the deployment is no longer watched.
    expect(monitor.readings()).toEqual([]);
  });

  it('fires after consecutive breaches, not on insufficient data, and only once', async () => {
    const clock = new ManualClock(5_000_000);
    // A window shorter than the interval: each evaluation sees only the traffic since the one before.
    const { pending, changes, fired, watch } = monitorOf(clock, {
      errors: alarm({ kind: 'error-rate', threshold: 0.1, minRequests: 10, datapointsToAlarm: 2, window: '200ms' }),
    });
    watch(['errors']);
    pending.push([entry('2', 2, 3)]);
    await clock.advance(250);
    pending.push([entry('2', 0, 20)]);
    await clock.advance(250);
    expect(fired).toEqual([]);
    // Too few requests between two breaches neither counts nor resets the run.
    pending.push([entry('2', 2, 3)]);
    await clock.advance(250);
    expect(fired).toEqual([]);
    pending.push([entry('2', 0, 20)]);
    await clock.advance(250);
    expect(fired).toEqual(['errors: replacement error rate 100.00% (20 of 20), threshold 10.00%']);
    pending.push([entry('2', 0, 20)]);
    await clock.advance(1_000);
    expect(fired).toHaveLength(1);
    expect(changes.map((c) => c.evaluation.state)).toEqual([
      'INSUFFICIENT_DATA',
      'ALARM',
      'INSUFFICIENT_DATA',
      'ALARM',
    ]);
  });

  it('resets the run of breaches on an OK evaluation', async () => {
    const clock = new ManualClock(5_000_000);
    const { pending, fired, watch } = monitorOf(clock, {
      errors: alarm({ kind: 'error-rate', threshold: 0.1, minRequests: 10, datapointsToAlarm: 2, window: '200ms' }),
    });
    watch(['errors']);
    for (const failed of [20, 0, 20, 0, 20]) {
      pending.push([entry('2', 20 - failed, failed)]);
      await clock.advance(250);
    }
    expect(fired).toEqual([]);
  });

  it('judges only traffic since the watch began', async () => {
    const clock = new ManualClock(5_000_000);
    const { windows, pending, fired, watch } = monitorOf(clock, {
      errors: alarm({ kind: 'error-rate', threshold: 0.1, minRequests: 10, window: '10s' }),
    });
    // Failures before the deployment started are not the replacement's fault in this deployment: those
    // already pulled, and those still waiting in the data plane when the watch begins.
    windows.record({ entries: [entry('2', 0, 50)] });
    await clock.advance(10);
    pending.push([entry('2', 0, 50)]);
    watch(['errors']);
    pending.push([entry('2', 50, 0)]);
    await clock.advance(250);
    expect(fired).toEqual([]);
  });

  it('reads an alarm that is not declared as a poll failure, which ignorePollAlarmFailure ignores', async () => {
    const clock = new ManualClock(5_000_000);
    const strict = monitorOf(clock, {});
    strict.watch(['gone']);
    await clock.advance(250);
    expect(strict.fired).toEqual(['gone: its state could not be read (alarm "gone" is not declared)']);
    const lenient = monitorOf(clock, {});
    lenient.watch(['gone'], true);
    await clock.advance(1_000);
    expect(lenient.fired).toEqual([]);
    expect(lenient.changes.map((c) => c.evaluation.state)).toEqual(['INSUFFICIENT_DATA']);
  });

  it('stops evaluating a deployment it no longer watches', async () => {
    const clock = new ManualClock(5_000_000);
    const { monitor, pending, fired, watch } = monitorOf(clock, {
      errors: alarm({ kind: 'error-rate', threshold: 0.1, minRequests: 10 }),
    });
    watch(['errors']);
    monitor.unwatch('d-TEST00001');
    pending.push([entry('2', 0, 50)]);
    await clock.advance(1_000);
    expect(fired).toEqual([]);
  });
});
