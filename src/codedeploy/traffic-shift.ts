/**
 * @module codedeploy/traffic-shift
 * A traffic shift as plain data: CodeDeploy's all-at-once, canary and linear routing (to 0.01% and the
 * millisecond) and switchyard's explicit step list, with the rules a step list keeps. Weights are basis
 * points (10,000 = 100%); shifting/schedule reads them.
 */
import { z } from 'zod';

import { FULL_WEIGHT } from '../core/route-table.js';

/** A weight strictly between 0% and 100%: a canary or linear increment that leaves something to shift. */
const PartialWeight = z
  .number()
  .int()
  .min(1)
  .max(FULL_WEIGHT - 1);
const Weight = z.number().int().min(0).max(FULL_WEIGHT);
const IntervalMs = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** One step of an explicit shift: move to `weight`, then wait `pauseMs` (null = until a manual continue). */
export const ShiftStep = z.strictObject({
  weight: Weight,
  pauseMs: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable(),
});
export type ShiftStep = z.infer<typeof ShiftStep>;

const percent = (bp: number) => `${bp / 100}%`;

/**
 * The rules an explicit step list must keep, shared with the config-file form (whose pause key differs):
 * weights never fall, so a client only ever moves from blue to green; 100% ends the shift, so it is the
 * last step and takes no pause (there is nothing left to wait for).
 */
export function checkShiftSteps(
  steps: readonly { weight: number; pauseMs: number | null }[],
  ctx: z.RefinementCtx,
  pauseKey = 'pauseMs',
): void {
  steps.forEach((step, i) => {
    const before = steps[i - 1];
    if (before && step.weight < before.weight) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'weight'],
        message: `must not be below the step before it (${percent(before.weight)}): traffic only moves to green`,
      });
    }
    if (step.weight === FULL_WEIGHT && i < steps.length - 1) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'weight'],
        message: '100% ends the shift, so it must be the last step',
      });
    }
    if (step.weight === FULL_WEIGHT && step.pauseMs !== 0) {
      ctx.addIssue({ code: 'custom', path: [i, pauseKey], message: '100% ends the shift, so it takes no pause' });
    }
  });
}

/**
 * How traffic moves to the replacement. `allAtOnce`, `canary` and `linear` are CodeDeploy's three
 * routing types (here to 0.01% and to the millisecond); `steps` is switchyard's own explicit list.
 */
export const TrafficShift = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('allAtOnce') }),
  z.strictObject({ kind: z.literal('canary'), weight: PartialWeight, intervalMs: IntervalMs }),
  z.strictObject({ kind: z.literal('linear'), step: PartialWeight, intervalMs: IntervalMs }),
  z.strictObject({
    kind: z.literal('steps'),
    steps: z
      .array(ShiftStep)
      .min(1, 'needs at least one step')
      .superRefine((steps, ctx) => checkShiftSteps(steps, ctx)),
  }),
]);
export type TrafficShift = z.infer<typeof TrafficShift>;
