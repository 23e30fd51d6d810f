/**
 * @module core/stats-recorder
 * Per service and version outcome counts and a latency histogram, written on the hot path with no
 * allocation and read by the control plane as a StatsDelta (counts since the last delta). The data plane
 * records what it proxies; the function host what the Lambda API invokes. Health windows,
 * alarms and metrics are computed from deltas alone, so the same code works when the data plane runs in
 * other processes.
 */
import { LATENCY_BOUNDS_MS, OUTCOMES, REFUSALS, type StatsDelta, type StatsEntry } from './stats-delta.js';

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
  /** Requests picked for this version and served by another, because it had no routable target. */
  failedOver = 0;

  constructor(
    readonly service: string,
    readonly version: string,
    /** Counts copies of requests mirrored to the version rather than requests it served. */
    readonly mirrored = false,
    /** The data plane's refusal counters (indexed like REFUSALS), shared: a refusal is no version's. */
    readonly refused = new Float64Array(REFUSALS.length),
  ) {}

  /** Records one finished request. */
  record(outcome: number, ms: number): void {
    this.counts[outcome]!++;
    this.buckets[bucketOf(ms)]!++;
    this.sumMs += ms;
  }
}

/** Owns the counters; survives route-table swaps so no count is lost when weights change. */
export class StatsRecorder {
  readonly #byKey = new Map<string, VersionStats>();
  /** Requests and connections refused for the data plane's own limits, indexed like REFUSALS. */
  readonly refused = new Float64Array(REFUSALS.length);

  /** The counters for a service and version (or of the copies mirrored to it), created on first use. */
  for(service: string, version: string, mirrored = false): VersionStats {
    const key = `${service}\u0000${version}${mirrored ? '\u0000mirror' : ''}`;
    let stats = this.#byKey.get(key);
    if (!stats) {
      stats = new VersionStats(service, version, mirrored, this.refused);
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
      if (total === 0 && s.failedOver === 0) continue;
      entries.push({
        service: s.service,
        version: s.version,
        counts: Array.from(s.counts),
        latencyBuckets: Array.from(s.buckets),
        latencySumMs: s.sumMs,
        failedOver: s.failedOver,
        ...(s.mirrored && { mirrored: true as const }),
      });
      s.counts.fill(0);
      s.buckets.fill(0);
      s.sumMs = 0;
      s.failedOver = 0;
    }
    if (!this.refused.some((n) => n > 0)) return { entries };
    const refused = Array.from(this.refused);
    this.refused.fill(0);
    return { entries, refused };
  }
}
