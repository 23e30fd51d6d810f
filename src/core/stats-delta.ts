/**
 * @module core/stats-delta
 * The StatsDelta message (data plane → control plane): per service and version, outcome counts and a
 * latency histogram since the previous delta. Shared by both planes, so it lives here.
 */

/** Outcome classes, in the order of every counts array. `error`: no response from the target. */
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
  for (let decade = 0.1; decade < 10_000; decade *= 10) for (const s of steps) out.push(+(s * decade).toPrecision(3));
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

/** Counts for one service and version since the previous delta. */
export interface StatsEntry {
  readonly service: string;
  readonly version: string;
  /** Indexed like {@link OUTCOMES}. */
  readonly counts: readonly number[];
  /** Indexed like {@link LATENCY_BOUNDS_MS}, plus one overflow bucket. */
  readonly latencyBuckets: readonly number[];
  readonly latencySumMs: number;
  /** Requests picked for this version while it had no routable target, and served by another. */
  readonly failedOver: number;
  /** Set when these are copies mirrored to the version (no client saw them), not requests it served. */
  readonly mirrored?: true;
}

/** A target taken out of rotation by passive outlier ejection, or returned to it. */
export interface TargetEvent {
  readonly target: string;
  readonly state: 'ejected' | 'returned';
  /** How long it is out, for an ejection. */
  readonly ejectionMs: number;
  /** Which data plane saw it (e.g. `worker 2`) when there are several: each ejects on its own failures. */
  readonly dataPlane?: string;
}

/**
 * Why the data plane turned a client away for its own limits, not for anything a version did, in the
 * order of {@link StatsDelta.refused}: requests past `maxRequestsInFlight`, connections past
 * `maxConnections`, and requests failed by this process running out of descriptors, memory or ports.
 */
export const REFUSALS = ['in_flight_limit', 'connection_limit', 'local_resources'] as const;
export type Refusal = (typeof REFUSALS)[number];
export const REFUSED_IN_FLIGHT = 0;
export const REFUSED_CONNECTION = 1;
export const REFUSED_LOCAL = 2;

/** The StatsDelta message (data plane → control plane). */
export interface StatsDelta {
  readonly entries: readonly StatsEntry[];
  /** Refusals since the previous delta, indexed like {@link REFUSALS}; absent when there were none. */
  readonly refused?: readonly number[];
  /** Ejections and returns since the previous delta, oldest first; absent when there were none. */
  readonly targets?: readonly TargetEvent[];
}

/** One delta with the counts of all of `deltas` (several data planes', or several of one's): sums per service and version. */
export function mergeStatsDeltas(deltas: readonly StatsDelta[]): StatsDelta {
  if (deltas.length === 1) return deltas[0]!;
  const entries = new Map<string, StatsEntry>();
  let refused: number[] | undefined;
  const targets: TargetEvent[] = [];
  for (const delta of deltas) {
    for (const e of delta.entries) {
      const key = `${e.service}\u0000${e.version}\u0000${e.mirrored ? 1 : 0}`;
      const into = entries.get(key);
      entries.set(
        key,
        into
          ? {
              ...into,
              counts: into.counts.map((n, i) => n + (e.counts[i] ?? 0)),
              latencyBuckets: into.latencyBuckets.map((n, i) => n + (e.latencyBuckets[i] ?? 0)),
              latencySumMs: into.latencySumMs + e.latencySumMs,
              failedOver: into.failedOver + e.failedOver,
            }
          : e,
      );
    }
    if (delta.refused) {
      refused ??= REFUSALS.map(() => 0);
      delta.refused.forEach((n, i) => (refused![i]! += n));
    }
    if (delta.targets) targets.push(...delta.targets);
  }
  return {
    entries: [...entries.values()],
    ...(refused && { refused }),
    ...(targets.length > 0 && { targets }),
  };
}
