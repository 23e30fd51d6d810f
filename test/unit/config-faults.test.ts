/**
 * The config's `services[].faults`: the shapes it accepts, the defaults it fills in, and the problems it
 * reports at their line and column.
 */
import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/app/config.js';
import { scheduledPercent, scheduleSettlesAtMs } from '../../src/config/faults.js';
import { configProblems } from '../support/config-problems.js';

/** A one-service file with versions 1 and 2 and `faults` as given (indented under the service). */
function file(faults: string): string {
  return [
    'listeners:',
    '  production: { port: 8080 }',
    'services:',
    '  - name: web',
    '    versions:',
    "      '1': { targets: ['http://127.0.0.1:9001'] }",
    "      '2': { targets: ['http://127.0.0.1:9002'] }",
    "    live: '1'",
    '    faults:',
    faults,
  ].join('\n');
}

const problems = configProblems;

describe('config faults', () => {
  it('reads aborts and delays, with status 503 by default, durations in ms', () => {
    const config = parseConfig(
      file(
        [
          "      '2':",
          '        abort: { percent: 20 }',
          '        delay: { percent: 50, p50: 20ms, p99: 1s }',
          '        seed: 7',
          "      '1': { abort: { percent: 1.5, reset: true }, delay: { percent: 100, fixed: 2s } }",
        ].join('\n'),
      ),
      'x.yml',
      {},
    );
    expect(config.services[0]!.faults).toEqual({
      '2': { abort: { percent: 20, status: 503 }, delay: { percent: 50, p50Ms: 20, p99Ms: 1000 }, seed: 7 },
      '1': { abort: { percent: 1.5, reset: true }, delay: { percent: 100, fixedMs: 2000 } },
    });
  });

  it('reports each problem at its line and column', () => {
    expect(
      problems(
        file(
          [
            "      '0': { abort: { percent: 10 } }",
            "      '2':",
            '        abort: { percent: 101, status: 700 }',
            '        delay: { percent: 5, fixed: 1s, p50: 10ms }',
            "      '1':",
            '        abort: { percent: 5, status: 500, reset: true }',
            '        delay: { percent: 5, p50: 1s, p99: 10ms }',
            '        seed: 1.5',
          ].join('\n'),
        ),
      ),
    ).toEqual([
      'x.yml:12:27 services[0].faults.2.abort.percent: Too big: expected number to be <=100',
      'x.yml:12:40 services[0].faults.2.abort.status: Too big: expected number to be <=599',
      'x.yml:13:16 services[0].faults.2.delay: must give either fixed, or p50 and p99',
      'x.yml:15:16 services[0].faults.1.abort: must give a status or reset: true, not both',
      'x.yml:16:44 services[0].faults.1.delay.p99: must be at least p50',
      'x.yml:17:15 services[0].faults.1.seed: Invalid input: expected int, received number',
    ]);
  });

  it('refuses an abort status that carries no body', () => {
    expect(problems(file("      '2': { abort: { percent: 10, status: 204 } }"))).toEqual([
      'x.yml:10:44 services[0].faults.2.abort.status: must be a status with a body (not 204 or 304)',
    ]);
  });

  it('refuses faults for a version the service does not have', () => {
    expect(problems(file("      '3': { abort: { percent: 10 } }"))).toEqual([
      'x.yml:10:12 services[0].faults.3: names no version of this service',
    ]);
  });

  it('reads a schedule, and refuses a start percent without a ramp', () => {
    const config = parseConfig(
      file("      '2': { abort: { percent: 5 }, schedule: { after: 2m, ramp: 30s, from: 1 } }"),
      'x.yml',
      {},
    );
    expect(config.services[0]!.faults?.['2']?.schedule).toEqual({ afterMs: 120_000, rampMs: 30_000, fromPercent: 1 });
    expect(problems(file("      '2': { abort: { percent: 5 }, schedule: { from: 1 } }"))).toEqual([
      'x.yml:10:55 services[0].faults.2.schedule.from: applies only with a ramp',
    ]);
  });
});

describe('scheduledPercent', () => {
  const after = { afterMs: 1_000 };
  const ramp = { afterMs: 1_000, rampMs: 4_000, fromPercent: 10 };

  it('gives the percent itself without a schedule, and nothing before any shift or before `after`', () => {
    expect(scheduledPercent(7, undefined, undefined)).toBe(7);
    expect(scheduledPercent(7, undefined, 0)).toBe(7);
    expect(scheduledPercent(7, after, undefined)).toBe(0);
    expect(scheduledPercent(7, after, 999)).toBe(0);
    expect(scheduledPercent(7, after, 1_000)).toBe(7);
    expect(scheduledPercent(7, { afterMs: 0 }, 0)).toBe(7);
  });

  it('ramps linearly from `from`, up or down, and ends on the exact percent', () => {
    expect(scheduledPercent(50, ramp, 999)).toBe(0);
    expect(scheduledPercent(50, ramp, 1_000)).toBe(10);
    expect(scheduledPercent(50, ramp, 3_000)).toBe(30);
    expect(scheduledPercent(50, ramp, 5_000)).toBe(50);
    expect(scheduledPercent(50, ramp, 60_000)).toBe(50);
    expect(scheduledPercent(2, ramp, 3_000)).toBe(6);
    // 0.1 + (0.3 - 0.1) is not 0.3 in floating point; the end is the percent itself.
    expect(scheduledPercent(0.3, { afterMs: 0, rampMs: 1, fromPercent: 0.1 }, 1)).toBe(0.3);
    expect(scheduleSettlesAtMs(ramp)).toBe(5_000);
    expect(scheduleSettlesAtMs(after)).toBe(1_000);
  });
});
