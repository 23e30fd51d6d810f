import { describe, expect, it } from 'vitest';

import {
  entryDetail,
  formatDuration,
  formatMs,
  formatPercent,
  formatRatio,
  splitParts,
  splitText,
  versionName,
} from '../../dashboard/format.js';
import type { ServiceAnswer } from '../../dashboard/types.js';

function service(weights: Record<string, number>, live = '1', labels = Object.keys(weights)): ServiceAnswer {
  return {
    name: 'web',
    match: { pathPrefix: '/' },
    live,
    versions: labels.map((label) => ({ label, targets: [`http://127.0.0.1:1/${label}`] })),
    weights: { production: weights },
  };
}

describe('dashboard split text', () => {
  it('names blue (live) then green with their production percents', () => {
    expect(splitText(splitParts(service({ '1': 90, '2': 10 }), undefined))).toBe('1 (blue) 90% · 2 (green) 10%');
    expect(splitText(splitParts(service({ '1': 100, '2': 0 }), undefined))).toBe('1 (blue) 100% · 2 (green) 0%');
  });

  it('keeps up to two decimals without trailing zeros', () => {
    expect(splitText(splitParts(service({ '1': 99.5, '2': 0.5 }), undefined))).toBe('1 (blue) 99.5% · 2 (green) 0.5%');
    expect(splitText(splitParts(service({ '1': 99.99, '2': 0.01 }), undefined))).toBe(
      '1 (blue) 99.99% · 2 (green) 0.01%',
    );
    expect(splitText(splitParts(service({ '1': 66.666, '2': 33.334 }), undefined))).toBe(
      '1 (blue) 66.67% · 2 (green) 33.33%',
    );
  });

  it('takes blue and green from the deployment under way, whichever is live', () => {
    const active = { currentVersion: 'b', targetVersion: 'a' };
    expect(splitText(splitParts(service({ a: 100, b: 0 }, 'a'), active))).toBe('b (blue) 0% · a (green) 100%');
    // Without a deployment, blue is the live version.
    expect(splitText(splitParts(service({ a: 100, b: 0 }, 'a'), undefined))).toBe('a (blue) 100% · b (green) 0%');
  });

  it('makes green the other version with traffic, and lists every further version without a colour', () => {
    const three = service({ '1': 80, '2': 0, '3': 20 }, '1');
    expect(splitText(splitParts(three, undefined))).toBe('1 (blue) 80% · 3 (green) 20% · 2 0%');
    expect(versionName('3', splitParts(three, undefined))).toBe('3 (green)');
    expect(versionName('2', splitParts(three, undefined))).toBe('2');
  });

  it('counts a version missing from the weights as 0%', () => {
    expect(splitText(splitParts(service({ '1': 100 }, '1', ['1', '2']), undefined))).toBe(
      '1 (blue) 100% · 2 (green) 0%',
    );
  });

  it('has only blue for a service with one version', () => {
    expect(splitText(splitParts(service({ only: 100 }, 'only'), undefined))).toBe('only (blue) 100%');
  });
});

describe('dashboard number words', () => {
  it('writes durations short and exact enough', () => {
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(12_340)).toBe('12.3s');
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatDuration(900_000)).toBe('15m');
    expect(formatDuration(3_780_000)).toBe('1h03m');
    expect(formatDuration(7_200_000)).toBe('2h');
    expect(formatDuration(-1500)).toBe('-1.5s');
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(Number.NaN)).toBe('–');
  });

  it('writes percents, ratios and latencies', () => {
    expect(formatPercent(10)).toBe('10%');
    expect(formatPercent(0.5)).toBe('0.5%');
    expect(formatPercent(-0.001)).toBe('0%');
    expect(formatRatio(0.0125)).toBe('1.25%');
    expect(formatRatio(null)).toBe('–');
    expect(formatMs(3.456)).toBe('3.46 ms');
    expect(formatMs(250.4)).toBe('250 ms');
    expect(formatMs(null)).toBe('–');
  });
});

describe('dashboard timeline words', () => {
  const entry = (message: string, detail: Record<string, unknown>) => ({
    time: 0,
    wallTime: 0,
    level: 'warn' as const,
    message,
    detail,
  });

  it('says which alarm fired and why', () => {
    expect(
      entryDetail(
        entry('alarm state changed', { alarm: 'errors', state: 'ALARM', reason: '3 of 3 above 5%', value: 0.5 }),
      ),
    ).toBe('alarm errors ALARM: 3 of 3 above 5% (value 0.5)');
  });

  it('gives a stop its code and message', () => {
    expect(
      entryDetail(entry('deployment stopped', { code: 'ALARM_ACTIVE', message: 'alarm errors fired', rollback: true })),
    ).toBe('ALARM_ACTIVE: alarm errors fired; rolling back');
  });

  it('gives a lifecycle event its status and reason', () => {
    expect(
      entryDetail(
        entry('lifecycle event finished', { event: 'AfterAllowTraffic', status: 'Failed', reason: 'exit 1' }),
      ),
    ).toBe('AfterAllowTraffic Failed: exit 1');
    expect(entryDetail(entry('weight changed', { weight: 10 }))).toBe('10% of production traffic on the replacement');
    expect(entryDetail(entry('something new', { a: 1, b: 'x' }))).toBe('a: 1, b: x');
  });
});

describe('dashboard split after a deployment', () => {
  it('still names the replacement green once it is live', () => {
    const done = service({ '1': 0, '2': 100 }, '2');
    expect(splitText(splitParts(done, { currentVersion: '1', targetVersion: '2' }))).toBe(
      '1 (blue) 0% · 2 (green) 100%',
    );
  });
});
