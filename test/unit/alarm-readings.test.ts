/**
 * What a watched alarm's reading says beside its state: the version it judges, what its value is
 * compared with, how and in which unit, for every kind; nulls before its first evaluation.
 */
import { describe, expect, it } from 'vitest';

import { AlarmConfig } from '../../src/config/alarms.js';
import { readingOf } from '../../src/health/alarm-readings.js';
import type { AlarmEvaluation } from '../../src/health/alarm-rules.js';
import type { AlarmWatch } from '../../src/shifting/ports.js';

const WATCH: AlarmWatch = {
  deploymentId: 'd-AAAAAAAA1',
  service: 'web',
  original: 'blue',
  replacement: 'green',
  alarms: ['a'],
  ignorePollAlarmFailure: false,
};

/** The reading of alarm `config` after `last` (none: not yet evaluated). */
function read(config: unknown, last?: AlarmEvaluation, breaches = 0) {
  return readingOf(WATCH, {
    name: 'a',
    config: AlarmConfig.parse(config),
    state: last?.state,
    breaches,
    last,
  });
}

describe('alarm readings', () => {
  it('has nothing but its scale before the first evaluation', () => {
    expect(read({ kind: 'error-rate', threshold: 0.05, datapointsToAlarm: 3 })).toEqual({
      deploymentId: 'd-AAAAAAAA1',
      service: 'web',
      alarm: 'a',
      kind: 'error-rate',
      version: 'green',
      state: null,
      value: null,
      threshold: 0.05,
      unit: 'ratio',
      comparison: '>',
      breaches: 0,
      datapointsToAlarm: 3,
      reason: null,
    });
  });

  it("judges the version each kind reads, with the evaluation's value and its threshold", () => {
    const ok: AlarmEvaluation = { state: 'OK', value: 0.01, reason: 'fine' };
    expect(read({ kind: 'error-rate', version: 'original', threshold: 0.1 }, ok)).toMatchObject({
      version: 'blue',
      state: 'OK',
      value: 0.01,
      threshold: 0.1,
      reason: 'fine',
    });
    expect(read({ kind: 'error-rate', version: 'difference', threshold: 0.02 }, ok)).toMatchObject({
      version: 'green',
      unit: 'ratio',
    });
    expect(
      read({ kind: 'latency', threshold: '250ms' }, { state: 'ALARM', value: 300, reason: 'slow' }, 1),
    ).toMatchObject({ version: 'green', unit: 'ms', value: 300, threshold: 250, comparison: '>', breaches: 1 });
    // A factor of the original's latency: the threshold is the one that evaluation compared with.
    expect(read({ kind: 'latency', factor: 2 })).toMatchObject({ threshold: null, unit: 'ms' });
    expect(read({ kind: 'latency', factor: 2 }, { state: 'OK', value: 30, threshold: 40, reason: '' })).toMatchObject({
      value: 30,
      threshold: 40,
    });
    expect(read({ kind: 'compare' }, { state: 'OK', value: 0.52, threshold: 0.6, reason: '' })).toMatchObject({
      kind: 'compare',
      version: 'green',
      unit: 'value',
      threshold: 0.6,
    });
    const prometheus = { kind: 'prometheus', address: 'http://prom:9090', query: 'up', threshold: 1 };
    expect(read({ ...prometheus, comparison: 'below' })).toMatchObject({
      comparison: '<',
      threshold: 1,
      unit: 'value',
    });
    expect(read(prometheus, { state: 'INSUFFICIENT_DATA', reason: 'no sample' })).toMatchObject({
      comparison: '>',
      state: 'INSUFFICIENT_DATA',
      value: null,
      reason: 'no sample',
    });
  });
});
