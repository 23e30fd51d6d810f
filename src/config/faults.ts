/**
 * @module config/faults
 * A service's `faults:` (by version label): aborts and delays injected into a version's requests, to
 * rehearse how a deployment's alarms and rollback meet a failing or slow replacement. The same shape is
 * the body of `PUT /v1/services/:name/faults/:version`.
 */
import { z } from 'zod';

import { Duration } from '../core/duration.js';

const FaultPercent = z.number().min(0).max(100);

/** The longest delay a fault may hold a request for: a held request keeps its client's connection. */
export const MAX_FAULT_DELAY_MS = 300_000;

const FaultDuration = Duration.pipe(z.number().max(MAX_FAULT_DELAY_MS, { error: 'must be at most 5m' }));

/** Answer `status` (200–599 but 204 and 304, default 503) or reset the connection, for `percent` of the version's requests. */
const AbortConfig = z
  .strictObject({
    percent: FaultPercent,
    // 204 and 304 carry no body, yet the answer is the JSON error with its length.
    status: z
      .number()
      .int()
      .min(200)
      .max(599)
      .refine((s) => s !== 204 && s !== 304, { message: 'must be a status with a body (not 204 or 304)' })
      .optional(),
    reset: z.literal(true).optional(),
  })
  // One object rather than a union, so that a wrong or extra key is reported at that key.
  .superRefine((abort, ctx) => {
    if (abort.status !== undefined && abort.reset !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'must give a status or reset: true, not both' });
    }
  })
  .transform((abort) =>
    abort.reset
      ? { percent: abort.percent, reset: true as const }
      : { percent: abort.percent, status: abort.status ?? 503 },
  );

/**
 * Hold `percent` of the version's requests for `fixed`, or for a delay drawn from a lognormal
 * distribution with median `p50` and 99th percentile `p99` (capped at 5 minutes).
 */
const DelayConfig = z
  .strictObject({
    percent: FaultPercent,
    fixed: FaultDuration.optional(),
    p50: FaultDuration.pipe(z.number().positive({ error: 'must be longer than 0' })).optional(),
    p99: FaultDuration.optional(),
  })
  .superRefine((delay, ctx) => {
    const drawn = delay.p50 !== undefined || delay.p99 !== undefined;
    if ((delay.fixed !== undefined) === drawn) {
      ctx.addIssue({ code: 'custom', message: 'must give either fixed, or p50 and p99' });
    } else if (drawn && (delay.p50 === undefined || delay.p99 === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a drawn delay needs both p50 and p99' });
    } else if (drawn && delay.p99! < delay.p50!) {
      ctx.addIssue({ code: 'custom', path: ['p99'], message: 'must be at least p50' });
    }
  })
  .transform((delay) =>
    delay.fixed !== undefined
      ? { percent: delay.percent, fixedMs: delay.fixed }
      : { percent: delay.percent, p50Ms: delay.p50!, p99Ms: delay.p99! },
  );

/**
 * When the faults apply, relative to a deployment of the service: nothing until `after` has passed since
 * its traffic shift (AllowTraffic) began, then each percent rises linearly from `from` to its own value
 * over `ramp` (at once without one). Times are deployment time, scaled by its time scale.
 */
export const FaultSchedule = z
  .strictObject({
    after: Duration.default(0),
    ramp: Duration.pipe(z.number().positive({ error: 'must be longer than 0' })).optional(),
    from: FaultPercent.optional(),
  })
  .superRefine((schedule, ctx) => {
    if (schedule.from !== undefined && schedule.ramp === undefined) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'applies only with a ramp' });
    }
  })
  .transform((s) => ({
    afterMs: s.after,
    ...(s.ramp !== undefined && { rampMs: s.ramp, fromPercent: s.from ?? 0 }),
  }));
export type FaultSchedule = z.infer<typeof FaultSchedule>;

/** The faults of one version; without `seed` a random one is chosen when the faults are set. */
export const FaultConfig = z
  .strictObject({
    abort: AbortConfig.optional(),
    delay: DelayConfig.optional(),
    seed: z.number().int().min(0).max(0xffff_ffff).optional(),
    schedule: FaultSchedule.optional(),
  })
  .transform((f) => ({
    // Absent stays absent, so parsed configs compare and print cleanly.
    ...(f.abort && { abort: f.abort }),
    ...(f.delay && { delay: f.delay }),
    ...(f.seed !== undefined && { seed: f.seed }),
    ...(f.schedule && { schedule: f.schedule }),
  }));

export type FaultConfig = z.infer<typeof FaultConfig>;

/**
 * A fault's percent (its abort's or its delay's) `elapsedMs` into a deployment's traffic shift, by its
 * schedule; `elapsedMs` undefined (no deployment has shifted yet) gives 0, no schedule the percent itself.
 */
export function scheduledPercent(
  percent: number,
  schedule: FaultSchedule | undefined,
  elapsedMs: number | undefined,
): number {
  if (!schedule) return percent;
  if (elapsedMs === undefined || elapsedMs < schedule.afterMs) return 0;
  // At and past the ramp's end the percent itself, exactly (from + (percent - from) need not be).
  if (schedule.rampMs === undefined || elapsedMs >= schedule.afterMs + schedule.rampMs) return percent;
  const done = (elapsedMs - schedule.afterMs) / schedule.rampMs;
  return schedule.fromPercent! + (percent - schedule.fromPercent!) * done;
}

/** When (in ms into the shift) the schedule gives its last change: after `after` and the ramp. */
export function scheduleSettlesAtMs(schedule: FaultSchedule): number {
  return schedule.afterMs + (schedule.rampMs ?? 0);
}
