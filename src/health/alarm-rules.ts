/**
 * @module health/alarm-rules
 * One evaluation of an alarm over the traffic windows: OK, ALARM, or INSUFFICIENT_DATA when there are
 * fewer requests than the alarm needs to judge (which is never counted as a pass or a breach). Pure: the
 * caller supplies the windows' sums, so the rules are table-tested without a clock or a socket.
 */
import type { AlarmConfig } from '../config/alarms.js';
import { LATENCY_BOUNDS_MS } from '../core/stats-delta.js';
import { histogramQuantile, mannWhitneyBinned, twoProportionTest } from './statistics.js';
import type { WindowTotals } from './windows.js';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'POLL_FAILED';

/** The outcome of one evaluation and why, for logs, deployment events and the stop message. */
export interface AlarmEvaluation {
  readonly state: AlarmState;
  /** The measured value compared with the threshold, when there was one. */
  readonly value?: number;
  /** What the value was compared with, when the config does not say it alone (a factor, a comparison). */
  readonly threshold?: number;
  readonly reason: string;
}

/** The two sides of a deployment's traffic over a window. */
export interface JudgedTraffic {
  totals(role: 'replacement' | 'original', windowMs: number): WindowTotals;
}

/** The alarms judged from the proxied traffic itself. */
export type TrafficAlarm = Exclude<AlarmConfig, { kind: 'prometheus' }>;

const percent = (rate: number) => `${(rate * 100).toFixed(2)}%`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

function insufficient(role: string, totals: WindowTotals, needed: number): AlarmEvaluation {
  return {
    state: 'INSUFFICIENT_DATA',
    reason: `${role}: ${totals.requests} of the ${needed} requests needed to judge`,
  };
}

/** Judges a traffic alarm over its window. */
export function judgeTraffic(alarm: TrafficAlarm, traffic: JudgedTraffic): AlarmEvaluation {
  switch (alarm.kind) {
    case 'error-rate':
      return judgeErrorRate(alarm, traffic);
    case 'latency':
      return judgeLatency(alarm, traffic);
    case 'compare':
      return judgeComparison(alarm, traffic);
  }
}

function judgeErrorRate(alarm: Extract<AlarmConfig, { kind: 'error-rate' }>, traffic: JudgedTraffic): AlarmEvaluation {
  const green = traffic.totals('replacement', alarm.window);
  const blue = traffic.totals('original', alarm.window);
  const rate = (t: WindowTotals) => t.errors / t.requests;
  let value: number;
  let what: string;
  if (alarm.version === 'difference') {
    if (green.requests < alarm.minRequests) return insufficient('replacement', green, alarm.minRequests);
    if (blue.requests < alarm.minRequests) return insufficient('original', blue, alarm.minRequests);
    value = rate(green) - rate(blue);
    what = `replacement error rate ${percent(rate(green))} exceeds the original's ${percent(rate(blue))} by ${percent(value)}`;
  } else {
    const side = alarm.version === 'replacement' ? green : blue;
    if (side.requests < alarm.minRequests) return insufficient(alarm.version, side, alarm.minRequests);
    value = rate(side);
    what = `${alarm.version} error rate ${percent(value)} (${side.errors} of ${side.requests})`;
  }
  const breached = value > alarm.threshold;
  return { state: breached ? 'ALARM' : 'OK', value, reason: `${what}, threshold ${percent(alarm.threshold)}` };
}

function judgeLatency(alarm: Extract<AlarmConfig, { kind: 'latency' }>, traffic: JudgedTraffic): AlarmEvaluation {
  const side = traffic.totals(alarm.version, alarm.window);
  if (side.requests < alarm.minRequests) return insufficient(alarm.version, side, alarm.minRequests);
  const q = `p${+(alarm.quantile * 100).toFixed(3)}`;
  const value = histogramQuantile(side.latencyBuckets, LATENCY_BOUNDS_MS, alarm.quantile) ?? 0;
  if (alarm.factor !== undefined) {
    const blue = traffic.totals('original', alarm.window);
    if (blue.requests < alarm.minRequests) return insufficient('original', blue, alarm.minRequests);
    const base = histogramQuantile(blue.latencyBuckets, LATENCY_BOUNDS_MS, alarm.quantile) ?? 0;
    const limit = base * alarm.factor;
    return {
      state: value > limit ? 'ALARM' : 'OK',
      value,
      threshold: limit,
      reason: `replacement ${q} ${ms(value)}, original ${ms(base)} × ${alarm.factor} = ${ms(limit)}`,
    };
  }
  const threshold = alarm.threshold!;
  return {
    state: value > threshold ? 'ALARM' : 'OK',
    value,
    reason: `${alarm.version} ${q} ${ms(value)}, threshold ${ms(threshold)}`,
  };
}

/**
 * Kayenta's question without a metrics store: is the replacement worse than the original over the same
 * window, beyond chance (at `confidence`) and by at least the smallest difference worth stopping for?
 * Latency by a Mann-Whitney U test on the two histograms, errors by a two-proportion test.
 */
function judgeComparison(alarm: Extract<AlarmConfig, { kind: 'compare' }>, traffic: JudgedTraffic): AlarmEvaluation {
  const green = traffic.totals('replacement', alarm.window);
  const blue = traffic.totals('original', alarm.window);
  if (green.requests < alarm.minRequests) return insufficient('replacement', green, alarm.minRequests);
  if (blue.requests < alarm.minRequests) return insufficient('original', blue, alarm.minRequests);
  const alpha = 1 - alarm.confidence;
  const errors = twoProportionTest(blue.errors, blue.requests, green.errors, green.requests);
  if (errors.pGreater < alpha && errors.diff >= alarm.minErrorIncrease) {
    return {
      state: 'ALARM',
      value: errors.diff,
      threshold: alarm.minErrorIncrease,
      reason:
        `replacement error rate ${percent(errors.rateB)} is higher than the original's ${percent(errors.rateA)} ` +
        `(p = ${errors.pGreater.toPrecision(2)})`,
    };
  }
  const latency = mannWhitneyBinned(blue.latencyBuckets, green.latencyBuckets);
  const slower = latency.effect - 0.5;
  if (latency.pGreater < alpha && slower >= alarm.minEffect) {
    return {
      state: 'ALARM',
      value: latency.effect,
      threshold: 0.5 + alarm.minEffect,
      reason:
        `replacement is slower than the original: P(slower) ${percent(latency.effect)} ` +
        `(p = ${latency.pGreater.toPrecision(2)})`,
    };
  }
  return {
    state: 'OK',
    value: latency.effect,
    threshold: 0.5 + alarm.minEffect,
    reason: `no significant difference (errors p = ${errors.pGreater.toPrecision(2)}, latency p = ${latency.pGreater.toPrecision(2)})`,
  };
}
