/**
 * @module core/live-stats
 * The compact live view of the traffic that a browser draws (the dashboard): per service and version,
 * the requests, errors and latency quantiles of the last interval. The health side computes it from the
 * StatsDeltas; the control API streams it. `/metrics` stays the Prometheus view.
 */

/** One version's traffic over one interval. */
export interface LiveVersionStats {
  readonly version: string;
  readonly requests: number;
  /** 5xx answers and requests without an answer, as the alarms count them. */
  readonly errors: number;
  /** Requests per second over the interval. */
  readonly rps: number;
  /** errors / requests; 0 without requests. */
  readonly errorRate: number;
  /** Latency quantiles in ms from the interval's histogram; null without requests. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** Every service's versions over the interval that ended at `at`. */
export interface LiveStatsSnapshot {
  /** Epoch ms at the interval's end. */
  readonly at: number;
  readonly intervalMs: number;
  readonly services: readonly { readonly service: string; readonly versions: readonly LiveVersionStats[] }[];
}

/** Where live snapshots come from: the last one, and each new one as it is made. */
export interface LiveStatsFeed {
  /** The last snapshot, or undefined before the first. */
  latest(): LiveStatsSnapshot | undefined;
  /** Calls `listener` with each new snapshot while subscribed; snapshots are made only while someone is. */
  subscribe(listener: (snapshot: LiveStatsSnapshot) => void): () => void;
}
