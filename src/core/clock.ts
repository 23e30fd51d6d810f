/**
 * @module core/clock
 * The one source of time for control code. Nothing outside this file (and the data plane, whose socket
 * timeouts belong to node:http and undici) calls Date.now or setTimeout directly, so a 15-minute canary
 * can run in milliseconds under a manual clock and in seconds under a time scale.
 */

/** Cancels a timer set with {@link Clock.setTimer}; calling it twice is harmless. */
export type CancelTimer = () => void;

/** Wall time and timers, injectable. */
export interface Clock {
  /** Milliseconds since the epoch, in this clock's time. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds of this clock's time. */
  setTimer(ms: number, fn: () => void): CancelTimer;
}

/**
 * The longest delay setTimeout takes (about 24.8 days); it runs a longer one after 1 ms. A wait of a
 * month (a ready wait in minutes, a deployment at a tiny time scale) is waited out in stretches instead.
 */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The real clock; timers are unref'd so they never keep a stopping process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    let t: NodeJS.Timeout;
    const arm = (left: number) => {
      t =
        left > MAX_TIMEOUT_MS
          ? setTimeout(arm, MAX_TIMEOUT_MS, left - MAX_TIMEOUT_MS)
          : setTimeout(fn, Math.max(0, left));
      t.unref();
    };
    arm(ms);
    return () => clearTimeout(t);
  },
};

/**
 * A clock whose durations run `timeScale` times faster than real time, for rehearsals: at scale 60 a
 * 15-minute canary plays in 15 s. `now()` advances at the same rate from `origin` (by default the moment
 * of creation), so a deployment resumed after a restart keeps its clock by passing its own start.
 */
export function scaledClock(timeScale: number, base: Clock = systemClock, origin = base.now()): Clock {
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
    throw new RangeError(`timeScale must be a finite number > 0, got ${timeScale}`);
  }
  if (timeScale === 1) return base;
  return {
    now: () => origin + (base.now() - origin) * timeScale,
    setTimer: (ms, fn) => base.setTimer(ms / timeScale, fn),
  };
}

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to; timers fire in time order during {@link ManualClock.advance}. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: PendingTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): CancelTimer {
    const timer: PendingTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Number of timers still waiting to fire. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing each due timer at its own instant and letting promise chains
   * settle between timers, so code that awaits after a timer sees the state a real clock would give.
   */
  async advance(ms: number): Promise<void> {
    // Time that ran backwards would fire nothing and make every pending timer later than promised.
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`advance needs a finite ms >= 0, got ${ms}`);
    const target = this.#now + ms;
    for (;;) {
      const next = this.#nextDue(target);
      if (!next) break;
      this.#now = next.at;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      next.fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  #nextDue(limit: number): PendingTimer | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    let best: PendingTimer | undefined;
    for (const t of this.#timers) {
      if (t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
