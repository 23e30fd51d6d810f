/**
 * @module shifting/schedule
 * The pure schedule that reads a traffic shift (codedeploy/traffic-shift): how much of the production traffic
 * the replacement (green) version gets at a given time since AllowTraffic began. Nothing here sleeps or
 * reads a clock; the state machine asks and sets its own timers. Weights are basis points (10,000 = 100%).
 */
import type { TrafficShift } from '../codedeploy/traffic-shift.js';
import { SwitchyardError } from '../core/errors.js';
import { FULL_WEIGHT } from '../core/route-table.js';

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
