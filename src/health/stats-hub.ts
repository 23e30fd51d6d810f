/**
 * @module health/stats-hub
 * The control plane's single reader of StatsDeltas: it pulls them from the data plane (in process today,
 * from workers over IPC later), keeps running totals and hands every delta to its subscribers (metrics
 * now; health windows and alarms next), so no two consumers race to drain the same counters.
 */
import type { CancelTimer, Clock } from '../core/clock.js';
import type { StatsDelta } from '../core/stats-delta.js';

/** Anything that yields counts since its previous call. */
export interface StatsSource {
  takeStats(): StatsDelta;
}

export type StatsListener = (delta: StatsDelta) => void;

/** Pulls deltas on a clock interval and on demand, and fans them out. */
export class StatsHub {
  readonly #sources: StatsSource[] = [];
  readonly #listeners = new Set<StatsListener>();
  #cancel: CancelTimer | undefined;

  /** `onError` hears of a listener that threw; the other listeners still get the delta. */
  constructor(
    readonly clock: Clock,
    readonly intervalMs = 250,
    readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Adds a data plane (or a worker's proxy of one) to pull from. */
  addSource(source: StatsSource): void {
    this.#sources.push(source);
  }

  /** Calls `listener` with every delta from now on; returns an unsubscribe function. */
  subscribe(listener: StatsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Pulls every source now and delivers what they had. */
  pull(): void {
    for (const source of this.#sources) {
      const delta = source.takeStats();
      if (delta.entries.length === 0 && !delta.refused && !delta.targets) continue;
      for (const listener of this.#listeners) {
        // A delta is taken once: a consumer that throws must not rob the others of it, nor stop the pump.
        try {
          listener(delta);
        } catch (err) {
          this.onError(err);
        }
      }
    }
  }

  /** Pulls every `intervalMs` until {@link stop}. */
  start(): void {
    if (this.#cancel) return;
    const tick = () => {
      this.#cancel = this.clock.setTimer(this.intervalMs, tick);
      this.pull();
    };
    this.#cancel = this.clock.setTimer(this.intervalMs, tick);
  }

  /** Stops the interval and delivers what is left. */
  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.pull();
  }
}
