/**
 * @module shifting/schedule
 * A traffic shift as plain data, and the pure schedule that reads it: how much of the production traffic
 * the replacement (green) version gets at a given time since AllowTraffic began. Nothing here sleeps or
 * reads a clock; the state machine asks and sets its own timers. Weights are basis points (10,000 = 100%).
 */
import { z } from 'zod';
import { SwitchyardError } from '../core/errors.js';
import { FULL_WEIGHT } from '../core/route-table.js';

/** A weight strictly between 0% and 100%: a canary or linear increment that leaves something to shift. */
const PartialWeight = z.number().int().min(1).max(FULL_WEIGHT - 1);
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

/** One step of a schedule: the weight green moves to, and how long it stays there (null = until continue). */
export type ScheduleStep = { readonly weight: number; readonly holdMs: number | null };

/** Where a shift without manual pauses stands at some time since it began. */
export type ShiftPosition = {
  /** Green's weight in basis points. */
  readonly weight: number;
  /** Index into {@link stepsOf}. */
  readonly step: number;
  /** When the next step begins, in ms since the shift began; null once at 100%. */
  readonly nextChangeAtMs: number | null;
};

const FINAL_STEP: ScheduleStep = { weight: FULL_WEIGHT, holdMs: 0 };

/**
 * Increments a linear shift makes. The reference leaves open whether 100% comes at (n−1)·interval or
 * n·interval; switchyard shifts at 0, i, 2i, … so 100% arrives at (ceil(100/p) − 1)·i, and the last
 * increment may be smaller than the others (33.33% → 33.33, 66.66, 99.99, 100).
 */
function linearStepCount(step: number): number {
  return Math.ceil(FULL_WEIGHT / step);
}

/** The shift as its list of steps, always ending with 100% held for 0 ms. */
export function stepsOf(shift: TrafficShift): ScheduleStep[] {
  switch (shift.kind) {
    case 'allAtOnce':
      return [FINAL_STEP];
    case 'canary':
      return [{ weight: shift.weight, holdMs: shift.intervalMs }, FINAL_STEP];
    case 'linear': {
      const n = linearStepCount(shift.step);
      const steps: ScheduleStep[] = [];
      for (let k = 1; k < n; k++) steps.push({ weight: k * shift.step, holdMs: shift.intervalMs });
      steps.push(FINAL_STEP);
      return steps;
    }
    case 'steps': {
      const steps: ScheduleStep[] = shift.steps.map((s) => ({ weight: s.weight, holdMs: s.pauseMs }));
      if (steps.at(-1)?.weight !== FULL_WEIGHT) steps.push(FINAL_STEP);
      return steps;
    }
  }
}

/** Whether the shift stops somewhere until a manual continue. */
export function hasManualPause(shift: TrafficShift): boolean {
  return shift.kind === 'steps' && shift.steps.some((s) => s.pauseMs === null);
}

/** Where a shift without manual pauses stands `elapsedMs` after it began. */
export function shiftAt(shift: TrafficShift, elapsedMs: number): ShiftPosition {
  if (Number.isNaN(elapsedMs) || elapsedMs < 0) {
    throw new SwitchyardError('ARGUMENTS_INVALID', `elapsed time must be 0 or more, got ${elapsedMs}`);
  }
  switch (shift.kind) {
    case 'allAtOnce':
      return { weight: FULL_WEIGHT, step: 0, nextChangeAtMs: null };
    case 'canary':
      return elapsedMs < shift.intervalMs
        ? { weight: shift.weight, step: 0, nextChangeAtMs: shift.intervalMs }
        : { weight: FULL_WEIGHT, step: 1, nextChangeAtMs: null };
    case 'linear': {
      // Computed rather than walked: a 0.01% linear shift has 10,000 steps.
      const last = linearStepCount(shift.step) - 1;
      const k = Math.min(last, Math.floor(elapsedMs / shift.intervalMs));
      return k === last
        ? { weight: FULL_WEIGHT, step: k, nextChangeAtMs: null }
        : { weight: (k + 1) * shift.step, step: k, nextChangeAtMs: (k + 1) * shift.intervalMs };
    }
    case 'steps':
      return walk(shift, elapsedMs);
  }
}

function walk(shift: TrafficShift, elapsedMs: number): ShiftPosition {
  const steps = stepsOf(shift);
  const manual = steps.findIndex((s) => s.holdMs === null);
  if (manual !== -1) {
    throw new SwitchyardError(
      'ARGUMENTS_INVALID',
      `step ${manual} of this shift waits for a manual continue, so time alone cannot place it: ` +
        'follow stepsOf() instead',
    );
  }
  let end = 0;
  for (let k = 0; k < steps.length - 1; k++) {
    const step = steps[k]!;
    // A step held for 0 ms is passed at once: its end equals its start, and the next step wins.
    end += step.holdMs!;
    if (elapsedMs < end) return { weight: step.weight, step: k, nextChangeAtMs: end };
  }
  return { weight: FULL_WEIGHT, step: steps.length - 1, nextChangeAtMs: null };
}

/** Milliseconds from the first step to 100%, or null when a step waits for a manual continue. */
export function totalDurationMs(shift: TrafficShift): number | null {
  let total = 0;
  for (const step of stepsOf(shift)) {
    if (step.holdMs === null) return null;
    total += step.holdMs;
  }
  return total;
}
