/**
 * @module shifting/fault-schedules
 * Which of a service's faults are in force now, and at what percents: the one owner of that answer. A
 * fault without a schedule is in force at its own percents; one with a schedule is in force from a
 * deployment's traffic shift (AllowTraffic) on, following its schedule on that deployment's clock, moving
 * in steps (each change publishes a table), and stays at the percents it reached when the deployment ends.
 * A fault at 0% for both kinds is left out of the table, so that the data plane pays nothing for it.
 */
import { type FaultSchedule, scheduledPercent } from '../config/faults.js';
import type { CancelTimer } from '../core/clock.js';
import type { FaultSpec } from '../core/route-table.js';
import type { FaultPercents, FaultView, ShiftStart } from './ports.js';

/**
 * A ramp's steps are at least this long in real time (ms), so that a steep or short ramp at a high time
 * scale does not publish a table every millisecond.
 */
export const MIN_STEP_REAL_MS = 100;

/** A version's fault as set: seeded, and scheduled when it has a schedule. */
export type ScheduledFault = FaultSpec & { readonly schedule?: FaultSchedule };

const NONE: FaultPercents = { abort: 0, delay: 0 };

/** Relative slack in step arithmetic, so that a step's own start (a sum of floats) counts as in that step. */
const EPSILON = 1e-9;

/**
 * How long one step of a fault's ramp lasts, in the deployment's ms: one percentage point of its largest
 * change, or {@link MIN_STEP_REAL_MS} of real time, whichever is longer. Infinity without a ramp.
 */
export function rampStepMs(fault: ScheduledFault, timeScale: number): number {
  const schedule = fault.schedule;
  if (schedule?.rampMs === undefined) return Infinity;
  const from = schedule.fromPercent ?? 0;
  // Only the kinds the fault has ramp: an absent delay is no change from `from`.
  const change = Math.max(
    fault.abort ? Math.abs(fault.abort.percent - from) : 0,
    fault.delay ? Math.abs(fault.delay.percent - from) : 0,
  );
  return Math.max(change > 0 ? schedule.rampMs / change : schedule.rampMs, MIN_STEP_REAL_MS * timeScale);
}

/** Which step of the ramp `elapsedMs` falls in (0 at `after`). */
function stepIndex(schedule: FaultSchedule, elapsedMs: number, stepMs: number): number {
  return Math.floor((elapsedMs - schedule.afterMs) / stepMs + EPSILON);
}

/**
 * A scheduled fault's percents `elapsedMs` into a shift: its schedule's at the start of the ramp step that
 * time falls in (the end value exactly once the ramp is over), to four decimals along the way.
 */
export function steppedPercents(fault: ScheduledFault, elapsedMs: number, stepMs: number): FaultPercents {
  const s = fault.schedule;
  let at = elapsedMs;
  if (s?.rampMs !== undefined && elapsedMs >= s.afterMs && elapsedMs < s.afterMs + s.rampMs) {
    at = s.afterMs + stepIndex(s, elapsedMs, stepMs) * stepMs;
  }
  const percent = (p: number | undefined) => {
    if (p === undefined) return 0;
    const v = scheduledPercent(p, s, at);
    return v === p ? p : Math.round(v * 10_000) / 10_000;
  };
  return { abort: percent(fault.abort?.percent), delay: percent(fault.delay?.percent) };
}

/** When (ms into the shift) a scheduled fault's next step begins after `elapsedMs`; undefined once settled. */
export function nextStepAt(schedule: FaultSchedule, elapsedMs: number, stepMs: number): number | undefined {
  if (elapsedMs < schedule.afterMs) return schedule.afterMs;
  if (schedule.rampMs === undefined) return undefined;
  const end = schedule.afterMs + schedule.rampMs;
  if (elapsedMs >= end) return undefined;
  return Math.min(end, schedule.afterMs + (stepIndex(schedule, elapsedMs, stepMs) + 1) * stepMs);
}

/** One version's fault and what is in force of it now. */
interface Entry {
  readonly fault: ScheduledFault;
  level: FaultPercents;
  /** The fault as the table carries it at `level`; undefined when nothing is in force. */
  spec: FaultSpec | undefined;
}

/** The faults of one service, by version label, and the deployment shift their schedules count from. */
export class ServiceFaults {
  readonly #entries = new Map<string, Entry>();
  #start: ShiftStart | undefined;
  #cancel: CancelTimer | undefined;
  readonly #changed: () => void;

  /** `changed` is called when a step of a schedule changes what is in force (a table is due). */
  constructor(changed: () => void) {
    this.#changed = changed;
  }

  /** Sets a version's fault (replacing any), or removes it with undefined; false when nothing changed. */
  set(label: string, fault: ScheduledFault | undefined): boolean {
    if (!fault) {
      if (!this.#entries.delete(label)) return false;
    } else {
      // A scheduled fault set outside a shift waits for the next one; inside, it follows the current one.
      const entry: Entry = { fault, level: NONE, spec: undefined };
      this.#entries.set(label, entry);
      this.#settle(entry, fault.schedule === undefined || this.#start !== undefined);
    }
    this.#arm();
    return true;
  }

  /** The fault of `label` as the route table carries it now (its percents in force); undefined for none. */
  spec(label: string): FaultSpec | undefined {
    return this.#entries.get(label)?.spec;
  }

  /** Every version's fault as set and in force now; undefined when none has one. */
  view(): Record<string, FaultView> | undefined {
    if (this.#entries.size === 0) return undefined;
    return Object.fromEntries([...this.#entries].map(([label, e]) => [label, { ...e.fault, active: e.level }]));
  }

  /** A deployment's shift began at `start`: every scheduled fault starts over from it (the caller publishes). */
  begin(start: ShiftStart): void {
    this.#start = start;
    const elapsed = this.#elapsed();
    for (const entry of this.#entries.values()) if (entry.fault.schedule) this.#settle(entry, true, elapsed);
    this.#arm(elapsed);
  }

  /** The shift ended: scheduled faults stay at the percents reached now (the caller publishes). */
  end(): void {
    if (!this.#start) return;
    for (const entry of this.#entries.values()) if (entry.fault.schedule) this.#settle(entry, true);
    this.#start = undefined;
    this.#arm();
  }

  /** Stops the timer (shutdown); what is in force stays. */
  close(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#start = undefined;
  }

  /** Time into the current shift now; undefined outside one. */
  #elapsed(): number | undefined {
    return this.#start && this.#start.clock.now() - this.#start.at;
  }

  /**
   * Puts `entry` at its percents `elapsed` into the shift (`inForce`: by its schedule, else none);
   * whether they changed.
   */
  #settle(entry: Entry, inForce: boolean, elapsed = this.#elapsed()): boolean {
    const { fault } = entry;
    let level = NONE;
    if (inForce && !fault.schedule) level = { abort: fault.abort?.percent ?? 0, delay: fault.delay?.percent ?? 0 };
    else if (inForce && this.#start && elapsed !== undefined) {
      const step = rampStepMs(fault, this.#start.timeScale);
      level = steppedPercents(fault, elapsed, step);
    }
    const same = level.abort === entry.level.abort && level.delay === entry.level.delay;
    entry.level = level;
    if (!same) entry.spec = specAt(fault, level);
    return !same;
  }

  /**
   * Sets the timer for the next step of any scheduled fault after `elapsed`, if there is one to come.
   * A step passes the instant its percents were taken at: read anew, the clock may have moved past the
   * onset, and a step that found the fault not yet due would then arm nothing and leave it off for good.
   */
  #arm(elapsed = this.#elapsed()): void {
    this.#cancel?.();
    this.#cancel = undefined;
    const start = this.#start;
    if (!start || elapsed === undefined) return;
    let next = Infinity;
    for (const { fault } of this.#entries.values()) {
      if (!fault.schedule) continue;
      const at = nextStepAt(fault.schedule, elapsed, rampStepMs(fault, start.timeScale));
      if (at !== undefined && at < next) next = at;
    }
    if (next === Infinity) return;
    this.#cancel = start.clock.setTimer(next - elapsed, () => this.#step());
  }

  /** A step is due: every scheduled fault to its percents now, a table when any changed, the next step armed. */
  #step(): void {
    this.#cancel = undefined;
    const elapsed = this.#elapsed();
    let changed = false;
    for (const entry of this.#entries.values()) {
      if (entry.fault.schedule && this.#settle(entry, true, elapsed)) changed = true;
    }
    this.#arm(elapsed);
    if (changed) this.#changed();
  }
}

/** The fault as the table carries it at `level`: its kinds at those percents; undefined when both are 0. */
function specAt(fault: ScheduledFault, level: FaultPercents): FaultSpec | undefined {
  if (level.abort === 0 && level.delay === 0) return undefined;
  return {
    ...(fault.abort && { abort: { ...fault.abort, percent: level.abort } }),
    ...(fault.delay && { delay: { ...fault.delay, percent: level.delay } }),
    seed: fault.seed,
  };
}
