/**
 * @module proxy/stats
 * Per service and version outcome counts and a latency histogram, written on the hot path with no
 * allocation and read by the control plane as a StatsDelta (counts since the last delta). Health windows,
 * alarms and metrics are computed from deltas alone, so the same code works when the data plane runs in
 * other processes.
 */

/** Outcome classes, in the order of {@link VersionStats.counts}. `error`: no response from the target. */
export const OUTCOMES = ['2xx', '3xx', '4xx', '5xx', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const OUTCOME_ERROR = 4;

/**
 * Upper bounds of the latency buckets in milliseconds (a last bucket catches the rest). Steps of at most
 * 25% from 0.1 ms to 60 s, and they include 1, 2.5 and 5 of every decade so the Prometheus histogram's
 * buckets are sums of these, not estimates.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = (() => {
  const steps = [1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5];
  const out: number[] = [];
  for (let decade = 0.1; decade < 10_000; decade *= 10)
    for (const s of steps) out.push(+(s * decade).toPrecision(3));
  out.push(10_000, 15_000, 20_000, 30_000, 60_000);
  return out;
})();

/** The outcome index of a response status. */
export function outcomeOf(status: number): number {
  if (status < 300) return 0;
  if (status < 400) return 1;
  if (status < 500) return 2;
  return 3;
}

function bucketOf(ms: number): number {
  const b = LATENCY_BOUNDS_MS;
  let lo = 0;
  let hi = b.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ms <= b[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Counters of one version of one service. */
export class VersionStats {
  readonly counts = new Float64Array(OUTCOMES.length);
  readonly buckets = new Float64Array(LATENCY_BOUNDS_MS.length + 1);
  sumMs = 0;

  constructor(
    readonly service: string,
    readonly version: string,
  ) {}

  /** Records one finished request. */
  record(outcome: number, ms: number): void {
    this.counts[outcome]!++;
    this.buckets[bucketOf(ms)]!++;
    this.sumMs += ms;
  }
}

/** Counts for one service and version since the previous delta. */
export interface StatsEntry {
  readonly service: string;
  readonly version: string;
  /** Indexed like {@link OUTCOMES}. */
  readonly counts: readonly number[];
  /** Indexed like {@link LATENCY_BOUNDS_MS}, plus one overflow bucket. */
  readonly latencyBuckets: readonly number[];
  readonly latencySumMs: number;
}

/** The StatsDelta message (data plane → control plane). */
export interface StatsDelta {
  readonly entries: readonly StatsEntry[];
}

/** Owns the counters; survives route-table swaps so no count is lost when weights change. */
export class StatsRecorder {
  readonly #byKey = new Map<string, VersionStats>();

  /** The counters for a service and version, created on first use. */
  for(service: string, version: string): VersionStats {
    const key = `${service}\u0000${version}`;
    let stats = this.#byKey.get(key);
    if (!stats) {
      stats = new VersionStats(service, version);
      this.#byKey.set(key, stats);
    }
    return stats;
  }

  /** Everything counted since the last call, then zero. */
  takeDelta(): StatsDelta {
    const entries: StatsEntry[] = [];
    for (const s of this.#byKey.values()) {
      let total = 0;
      for (const c of s.counts) total += c;
      if (total === 0) continue;
      entries.push({
        service: s.service,
        version: s.version,
        counts: Array.from(s.counts),
        latencyBuckets: Array.from(s.buckets),
        latencySumMs: s.sumMs,
      });
      s.counts.fill(0);
      s.buckets.fill(0);
      s.sumMs = 0;
    }
    return { entries };
  }
}
