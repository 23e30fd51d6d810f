/**
 * @module lab/sim/clock
 * The simulator's virtual clock. Like core/clock's ManualClock, time moves only when told to and timers
 * fire in time order, each at its own instant, with the promise chains it starts settled before the next
 * one fires. ManualClock settles after every timer with several setImmediate turns, which is what a
 * simulation of thousands of runs cannot pay for its thousands of ticks; here the loop of a run calls
 * {@link VirtualClock.advanceTo} for every tick, which costs nothing while no timer is due, and a timer
 * that fires (a shift step, the termination wait: a handful per run) is followed by one macrotask turn,
 * which drains every microtask the engine's chain queues.
 */
import type { CancelTimer, Clock } from '../../core/clock.js';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets every microtask queued so far (and those they queue) run: one macrotask turn. */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** A clock that moves only when told to. */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  /** Pending timers; few at a time (a run's engine holds one wait), so a list beats a heap. */
  #timers: Timer[] = [];
  /** The earliest pending timer's instant, Infinity without one: the per-tick check is one comparison. */
  #nextAt = Infinity;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): CancelTimer {
    const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    if (timer.at < this.#nextAt) this.#nextAt = timer.at;
    return () => {
      if (timer.cancelled) return;
      timer.cancelled = true;
      this.#timers = this.#timers.filter((t) => t !== timer);
      this.#nextAt = earliest(this.#timers);
    };
  }

  /** When the next timer is due (Infinity when none is). */
  get nextDue(): number {
    return this.#nextAt;
  }

  /** Whether moving to `at` would fire a timer; when not, {@link moveTo} is enough and needs no await. */
  wouldFire(at: number): boolean {
    return this.#nextAt <= at;
  }

  /** Moves time to `at` when no timer is due by then (see {@link wouldFire}). */
  moveTo(at: number): void {
    if (this.#nextAt <= at) throw new RangeError('a timer is due: use advanceTo');
    if (at > this.#now) this.#now = at;
  }

  /**
   * Moves time forward to `at`, firing each due timer at its own instant, in time order (then in the
   * order they were set), and settling the promise chains it starts before the next.
   */
  async advanceTo(at: number): Promise<void> {
    if (!Number.isFinite(at)) throw new RangeError(`advanceTo needs a finite time, got ${at}`);
    while (this.#nextAt <= at) {
      const next = this.#first();
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#nextAt = earliest(this.#timers);
      if (next.at > this.#now) this.#now = next.at;
      next.fn();
      await settle();
    }
    if (at > this.#now) this.#now = at;
  }

  #first(): Timer {
    let best = this.#timers[0]!;
    for (const t of this.#timers) if (t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}

function earliest(timers: readonly Timer[]): number {
  let at = Infinity;
  for (const t of timers) if (t.at < at) at = t.at;
  return at;
}
