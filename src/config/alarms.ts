/**
 * @module config/alarms
 * The config file's `alarms:` map: what a deployment group's `alarmConfiguration.alarms[].name` resolves
 * to. CodeDeploy watches CloudWatch alarms; switchyard judges from the traffic it proxies itself (error
 * rate, latency quantiles, a statistical comparison of replacement and original) or asks Prometheus.
 */
import { z } from 'zod';

import { Duration } from '../core/duration.js';

const Window = Duration.pipe(z.number().positive({ error: 'must be longer than 0' }));
const Fraction = z.number().min(0, 'must be 0 to 1').max(1, 'must be 0 to 1');

/** Settings every traffic-judging alarm shares. */
const judged = {
  /** How much recent traffic is judged. */
  window: Window.default(10_000),
  /** Fewer requests than this in the window is "insufficient data": neither breach nor pass. */
  minRequests: z.number().int().min(1).default(10),
  /** Consecutive breaching evaluations before the alarm fires (CloudWatch's datapoints to alarm). */
  datapointsToAlarm: z.number().int().min(1).max(100).default(1),
};

export const ErrorRateAlarm = z.strictObject({
  kind: z.literal('error-rate'),
  /** Whose error rate: the replacement's, the original's, or how far the replacement's exceeds the original's. */
  version: z.enum(['replacement', 'original', 'difference']).default('replacement'),
  /** 5xx and connection errors over requests, above which the alarm breaches. */
  threshold: Fraction,
  ...judged,
});

export const LatencyAlarm = z
  .strictObject({
    kind: z.literal('latency'),
    version: z.enum(['replacement', 'original']).default('replacement'),
    quantile: z.number().gt(0, 'must be between 0 and 1').lt(1, 'must be between 0 and 1').default(0.99),
    /** Breach above this latency... */
    threshold: Duration.optional(),
    /** ...or above this multiple of the original's same quantile (replacement only). */
    factor: z.number().gt(0, 'must be greater than 0').optional(),
    ...judged,
  })
  .superRefine((alarm, ctx) => {
    if ((alarm.threshold === undefined) === (alarm.factor === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a latency alarm needs exactly one of threshold or factor' });
    }
    if (alarm.factor !== undefined && alarm.version !== 'replacement') {
      ctx.addIssue({
        code: 'custom',
        path: ['factor'],
        message: 'compares the replacement with the original; version must be replacement',
      });
    }
  });

export const CompareAlarm = z.strictObject({
  kind: z.literal('compare'),
  /** How sure the tests must be that the replacement is worse before the alarm breaches. */
  confidence: z.number().min(0.5, 'must be 0.5 to 0.9999').max(0.9999, 'must be 0.5 to 0.9999').default(0.95),
  /**
   * The smallest latency difference worth stopping for: how far P(replacement slower than original)
   * must exceed one half (0.1 → at least 60% of pairs slower).
   */
  minEffect: z.number().min(0).max(0.5).default(0.1),
  /** The smallest error-rate increase worth stopping for, in absolute terms (0.01 = one point). */
  minErrorIncrease: Fraction.default(0.01),
  ...judged,
  window: Window.default(30_000),
  minRequests: z.number().int().min(1).default(50),
});

export const PrometheusAlarm = z.strictObject({
  kind: z.literal('prometheus'),
  /** Base URL of the Prometheus server. */
  address: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  /** A PromQL instant query whose first sample is compared with the threshold; no sample = insufficient data. */
  query: z.string().min(1),
  threshold: z.number(),
  comparison: z.enum(['above', 'below']).default('above'),
  timeout: Duration.default(2_000),
  datapointsToAlarm: judged.datapointsToAlarm,
});

export const AlarmConfig = z.discriminatedUnion('kind', [ErrorRateAlarm, LatencyAlarm, CompareAlarm, PrometheusAlarm], {
  error: (issue) =>
    issue.code === 'invalid_union' ? 'kind must be error-rate, latency, compare or prometheus' : undefined,
});
export type AlarmConfig = z.infer<typeof AlarmConfig>;

/** The top-level `alarms:` map. */
export const AlarmsConfig = z.record(z.string().min(1, 'an alarm name must not be empty'), AlarmConfig).default({});
export type AlarmsConfig = z.infer<typeof AlarmsConfig>;
