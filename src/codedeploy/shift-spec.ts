/**
 * @module codedeploy/shift-spec
 * Switchyard's own form of a custom configuration, as the config file and the REST API take it: finer
 * than CodeDeploy's (percentages to 0.01, durations such as `30s`), or an explicit list of steps.
 */
import { z } from 'zod';

import { Duration } from '../core/duration.js';
import { FULL_WEIGHT } from '../core/route-table.js';
import { checkShiftSteps, type TrafficShift } from './traffic-shift.js';

const PERCENT_HINT = 'must be a percentage with at most two decimals';

const hasTwoDecimals = (p: number) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-6;

/**
 * A percentage to 0.01, in basis points. The range holds for the rounded value too: 5e-324 is more than 0
 * and within 1e-6 of two decimals, yet rounds to 0 basis points, which the shift model refuses.
 */
const percentBetween = (min: number, max: number, exclusive: boolean) => {
  const inRange = (p: number) => (exclusive ? p > min && p < max : p >= min && p <= max);
  const range = { message: exclusive ? `must be more than ${min} and less than ${max}` : `must be ${min} to ${max}` };
  return z
    .number({ error: PERCENT_HINT })
    .refine(inRange, range)
    .refine(hasTwoDecimals, { message: PERCENT_HINT })
    .refine((p) => !inRange(p) || !hasTwoDecimals(p) || inRange(Math.round(p * 100) / 100), range)
    .transform((p) => Math.round(p * 100));
};

const PartialPercent = percentBetween(0, 100, true);
const StepPercent = percentBetween(0, 100, false);
const Interval = Duration.pipe(z.number().positive({ error: 'must be longer than 0' }));

const StepSpec = z.strictObject({ weight: StepPercent, pause: Duration.optional() });

/**
 * A pause left out waits for a manual continue, except on the 100% step, which ends the shift and so
 * has nothing to wait for.
 */
const StepsSpec = z
  .array(StepSpec)
  .min(1, 'needs at least one step')
  .transform((steps) =>
    steps.map((s) => ({ weight: s.weight, pauseMs: s.pause ?? (s.weight === FULL_WEIGHT ? 0 : null) })),
  )
  .superRefine((steps, ctx) => checkShiftSteps(steps, ctx, 'pause'));

const SHIFT_TYPES = 'must be AllAtOnce, TimeBasedCanary or TimeBasedLinear, or be left out for a steps list';

/**
 * A traffic shift as written in the config file or sent to the REST API: CodeDeploy's three types with
 * percentages to 0.01 and intervals as durations (`30s`, `15m`, or milliseconds), or an explicit list of
 * steps (`{ steps: [{ weight: 10, pause: 5m }, { weight: 50 }] }`; `type: Steps` may be given too).
 */
export const ShiftSpec = z
  .discriminatedUnion(
    'type',
    [
      z.strictObject({ type: z.literal('AllAtOnce') }),
      z.strictObject({ type: z.literal('TimeBasedCanary'), percent: PartialPercent, interval: Interval }),
      z.strictObject({ type: z.literal('TimeBasedLinear'), percent: PartialPercent, interval: Interval }),
      z.strictObject({ type: z.literal('Steps').optional(), steps: StepsSpec }),
    ],
    { error: (issue) => (issue.code === 'invalid_union' ? SHIFT_TYPES : undefined) },
  )
  .transform((spec): TrafficShift => {
    switch (spec.type) {
      case 'AllAtOnce':
        return { kind: 'allAtOnce' };
      case 'TimeBasedCanary':
        return { kind: 'canary', weight: spec.percent, intervalMs: spec.interval };
      case 'TimeBasedLinear':
        return { kind: 'linear', step: spec.percent, intervalMs: spec.interval };
      default:
        return { kind: 'steps', steps: spec.steps };
    }
  });
export type ShiftSpec = z.input<typeof ShiftSpec>;

/** A custom configuration in switchyard's own form, as the config file and the REST API take it. */
export const CustomConfigSpec = z.strictObject({
  computePlatform: z.enum(['Lambda', 'ECS'], { error: 'must be Lambda or ECS' }),
  trafficRouting: ShiftSpec,
});
export type CustomConfigSpec = z.output<typeof CustomConfigSpec>;
