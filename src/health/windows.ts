/**
 * @module health/windows
 * Sliding windows over the StatsDeltas: each delta is kept as a time-stamped slice per service and
 * version for `horizonMs`, so any window up to the horizon, starting no earlier than a given instant (a
 * deployment's start), can be summed on demand. Alarms judge from these sums alone.
 */
import type { Clock } from '../core/clock.js';
import { LATENCY_BOUNDS_MS, OUTCOME_ERROR, OUTCOMES, type StatsDelta, type StatsEntry } from '../core/stats-delta.js';

/** The counts a StatsDelta entry carries, without whose they are. */
type Counts = Omit<StatsEntry, 'service' | 'version' | 'failedOver'>;

/** What a window holds for one service and version: a delta's counts, summed, and two totals. */
export interface WindowTotals extends Counts {
  /** Responses and failures to respond. */
  readonly requests: number;
  /** 5xx responses plus connection errors: what an error-rate alarm counts as failed. */
  readonly errors: number;
}

interface Slice extends Counts {
  readonly at: number;
}

const FIVE_XX = 3;

/** Keeps recent slices per service and version. */
export class StatsWindows {
  readonly #clock: Clock;
  readonly #horizonMs: number;
  readonly #slices = new Map<string, Slice[]>();

  constructor(clock: Clock, horizonMs: number) {
    this.#clock = clock;
    this.#horizonMs = horizonMs;
  }

  /** Adds a delta as of now; a StatsHub listener. */
  readonly record = (delta: StatsDelta): void => {
    const at = this.#clock.now();
    for (const entry of delta.entries) {
      const key = keyOf(entry.service, entry.version);
      let slices = this.#slices.get(key);
      if (!slices) this.#slices.set(key, (slices = []));
      slices.push({ at, counts: entry.counts, latencyBuckets: entry.latencyBuckets, latencySumMs: entry.latencySumMs });
      const oldest = at - this.#horizonMs;
      let drop = 0;
      while (drop < slices.length && slices[drop]!.at < oldest) drop++;
      if (drop > 0) slices.splice(0, drop);
    }
  };

  /** The sums of the last `windowMs` for one version, counting nothing recorded at or before `since`. */
  totals(service: string, version: string, windowMs: number, since = -Infinity): WindowTotals {
    const counts = new Array<number>(OUTCOMES.length).fill(0);
    const latencyBuckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    let latencySumMs = 0;
    // A slice recorded at `at` holds what happened in the pull interval before it; slices at the window's
    // start belong to it, so the bound is inclusive.
    const from = this.#clock.now() - windowMs;
    for (const slice of this.#slices.get(keyOf(service, version)) ?? []) {
      if (slice.at < from || slice.at <= since) continue;
      for (let i = 0; i < counts.length; i++) counts[i]! += slice.counts[i] ?? 0;
      for (let i = 0; i < latencyBuckets.length; i++) latencyBuckets[i]! += slice.latencyBuckets[i] ?? 0;
      latencySumMs += slice.latencySumMs;
    }
    const requests = counts.reduce((a, b) => a + b, 0);
    const errors = counts[FIVE_XX]! + counts[OUTCOME_ERROR]!;
    return { requests, errors, counts, latencyBuckets, latencySumMs };
  }
}

const keyOf = (service: string, version: string) => `${service}\u0000${version}`;
