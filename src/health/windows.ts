/**
 * @module health/windows
 * Sliding windows over the StatsDeltas: each delta is kept as a time-stamped slice per service and
 * version for `horizonMs`, so any window up to the horizon, starting no earlier than a given instant (a
 * deployment's start), can be summed on demand. Alarms judge from these sums alone. Each slice also keeps
 * the running sums of its version's counts up to it, so that while slices arrive in time order (the clock
 * did not step back) a window's counts are a difference of two running sums found by binary search,
 * not a pass over every slice: the alarm monitor asks for them on every evaluation.
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
  /** The counts and latency buckets of this slice and of every slice of its series before it. */
  readonly runningCounts: readonly number[];
  readonly runningBuckets: readonly number[];
}

/** The slices of one service and version, oldest first. */
interface Series {
  readonly slices: Slice[];
  /** False once a slice came with an earlier time than the one before it: sums then scan every slice. */
  ordered: boolean;
}

const BUCKETS = LATENCY_BOUNDS_MS.length + 1;

const FIVE_XX = 3;

/** Keeps recent slices per service and version. */
export class StatsWindows {
  readonly #clock: Clock;
  readonly #horizonMs: number;
  readonly #series = new Map<string, Series>();

  constructor(clock: Clock, horizonMs: number) {
    this.#clock = clock;
    this.#horizonMs = horizonMs;
  }

  /** Adds a delta as of now; a StatsHub listener. */
  readonly record = (delta: StatsDelta): void => {
    const at = this.#clock.now();
    for (const entry of delta.entries) {
      const key = keyOf(entry.service, entry.version);
      let series = this.#series.get(key);
      if (!series) this.#series.set(key, (series = { slices: [], ordered: true }));
      const slices = series.slices;
      const last = slices.at(-1);
      if (last && at < last.at) series.ordered = false;
      slices.push({
        at,
        counts: entry.counts,
        latencyBuckets: entry.latencyBuckets,
        latencySumMs: entry.latencySumMs,
        runningCounts: running(last?.runningCounts, entry.counts, OUTCOMES.length),
        runningBuckets: running(last?.runningBuckets, entry.latencyBuckets, BUCKETS),
      });
      const oldest = at - this.#horizonMs;
      let drop = 0;
      while (drop < slices.length && slices[drop]!.at < oldest) drop++;
      if (drop > 0) slices.splice(0, drop);
      // Once the slice that came out of order is gone, sums are differences again.
      if (!series.ordered) series.ordered = slices.every((slice, i) => i === 0 || slices[i - 1]!.at <= slice.at);
    }
  };

  /** The sums of the last `windowMs` for one version, counting nothing recorded at or before `since`. */
  totals(service: string, version: string, windowMs: number, since = -Infinity): WindowTotals {
    // A slice recorded at `at` holds what happened in the pull interval before it; slices at the window's
    // start belong to it, so the bound is inclusive.
    const from = this.#clock.now() - windowMs;
    const series = this.#series.get(keyOf(service, version));
    const slices = series?.slices ?? [];
    let counts: number[];
    let latencyBuckets: number[];
    let latencySumMs = 0;
    if (series && !series.ordered) {
      counts = new Array<number>(OUTCOMES.length).fill(0);
      latencyBuckets = new Array<number>(BUCKETS).fill(0);
      for (const slice of slices) {
        if (slice.at < from || slice.at <= since) continue;
        for (let i = 0; i < counts.length; i++) counts[i]! += slice.counts[i] ?? 0;
        for (let i = 0; i < latencyBuckets.length; i++) latencyBuckets[i]! += slice.latencyBuckets[i] ?? 0;
        latencySumMs += slice.latencySumMs;
      }
    } else {
      // In time order, the window is the slices from the first inside it to the last.
      const first = firstAtOrAfter(slices, from, since);
      const last = slices.at(-1);
      const head = slices[first];
      counts = between(head?.runningCounts, head?.counts, last?.runningCounts, OUTCOMES.length);
      latencyBuckets = between(head?.runningBuckets, head?.latencyBuckets, last?.runningBuckets, BUCKETS);
      for (let i = first; i < slices.length; i++) latencySumMs += slices[i]!.latencySumMs;
    }
    const requests = counts.reduce((a, b) => a + b, 0);
    const errors = counts[FIVE_XX]! + counts[OUTCOME_ERROR]!;
    return { requests, errors, counts, latencyBuckets, latencySumMs };
  }
}

/** The running sums after a slice: those before it (none: zeros) plus its own. */
function running(before: readonly number[] | undefined, own: readonly number[], length: number): readonly number[] {
  // Nothing to add (a delta without a histogram): the same sums, shared, as nothing ever writes them.
  if (before && own.length === 0) return before;
  const sums = new Array<number>(length);
  for (let i = 0; i < length; i++) sums[i] = (before?.[i] ?? 0) + (own[i] ?? 0);
  return sums;
}

/**
 * The sums of the slices from `head` to the one whose running sums are `lastRunning`: the difference of
 * the running sums, plus the head's own counts (which the difference leaves out). Counts are whole
 * numbers, so the difference is exact.
 */
function between(
  headRunning: readonly number[] | undefined,
  headOwn: readonly number[] | undefined,
  lastRunning: readonly number[] | undefined,
  length: number,
): number[] {
  if (!headRunning || !lastRunning) return new Array<number>(length).fill(0);
  const sums = new Array<number>(length);
  for (let i = 0; i < length; i++) sums[i] = lastRunning[i]! - headRunning[i]!;
  // A histogram may be shorter than the layout (or empty): reads past its end would be slow, and 0.
  const own = headOwn ?? [];
  const n = Math.min(own.length, length);
  for (let i = 0; i < n; i++) sums[i]! += own[i]!;
  return sums;
}

/** The index of the first slice (in time order) at or after `from` and after `since`; the length when none is. */
function firstAtOrAfter(slices: readonly Slice[], from: number, since: number): number {
  let lo = 0;
  let hi = slices.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = slices[mid]!.at;
    if (at < from || at <= since) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const keyOf = (service: string, version: string) => `${service}\u0000${version}`;
