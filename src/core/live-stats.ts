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

/** The kinds of alarm a reading can be of (config/alarms' kinds). */
export type AlarmReadingKind = 'error-rate' | 'latency' | 'compare' | 'prometheus';

/** One watched alarm of a running deployment, as last evaluated. */
export interface AlarmReading {
  readonly deploymentId: string;
  readonly service: string;
  readonly alarm: string;
  readonly kind: AlarmReadingKind;
  /** The version label whose traffic the alarm judges (the replacement for most). */
  readonly version: string;
  /** null before its first evaluation. */
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'POLL_FAILED' | null;
  /** What was compared with the threshold; null before a first value (or without enough data). */
  readonly value: number | null;
  /** What the value is compared with; null where no one number is (a statistical comparison). */
  readonly threshold: number | null;
  /** `ratio` (0–1, as errorRate), `ms`, or `value` (a query's sample, a test's statistic). */
  readonly unit: 'ratio' | 'ms' | 'value';
  /** How the value breaches the threshold: `>` or `<`. */
  readonly comparison: string;
  /** Consecutive breaching evaluations so far, and how many fire the alarm. */
  readonly breaches: number;
  readonly datapointsToAlarm: number;
  /** Why, in words, from the last evaluation; null before the first. */
  readonly reason: string | null;
}

/** Every service's versions over the interval that ended at `at`, and the alarms watched then. */
export interface LiveStatsSnapshot {
  /** Epoch ms at the interval's end. */
  readonly at: number;
  readonly intervalMs: number;
  readonly services: readonly { readonly service: string; readonly versions: readonly LiveVersionStats[] }[];
  /** One per alarm of each deployment whose alarms are watched; empty when none are. */
  readonly alarms: readonly AlarmReading[];
}

/** Where live snapshots come from: the last one, and each new one as it is made. */
export interface LiveStatsFeed {
  /** The last snapshot, or undefined before the first. */
  latest(): LiveStatsSnapshot | undefined;
  /** Calls `listener` with each new snapshot while subscribed; snapshots are made only while someone is. */
  subscribe(listener: (snapshot: LiveStatsSnapshot) => void): () => void;
}
