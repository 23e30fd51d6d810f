/**
 * @module health/live-stats
 * The live view of the traffic for browsers: the StatsDeltas of each interval (default 1 s) summed per
 * service and version into a {@link LiveStatsSnapshot}. One snapshot per interval however many watch,
 * and none while nobody does, so the cost is bounded by the interval, not by the clients or the traffic.
 * Each snapshot carries the watched alarms' last readings too, so a chart can draw them with the traffic.
 */
import type { CancelTimer, Clock } from '../core/clock.js';
import type { AlarmReading, LiveStatsFeed, LiveStatsSnapshot, LiveVersionStats } from '../core/live-stats.js';
import { LATENCY_BOUNDS_MS, OUTCOME_ERROR, type StatsDelta } from '../core/stats-delta.js';
import { histogramQuantile } from './statistics.js';

const FIVE_XX = 3;

interface Sums {
  requests: number;
  errors: number;
  readonly buckets: number[];
}

/** Sums deltas per interval and hands each interval's snapshot to its subscribers. */
export class LiveStats implements LiveStatsFeed {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  /** Per service, per version, in the order first seen. */
  #sums = new Map<string, Map<string, Sums>>();
  readonly #listeners = new Set<(snapshot: LiveStatsSnapshot) => void>();
  #latest: LiveStatsSnapshot | undefined;
  #timer: CancelTimer | undefined;
  #alarms: () => readonly AlarmReading[] = () => [];

  constructor(clock: Clock, intervalMs = 1_000) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
  }

  /** Where each snapshot's alarm readings come from (the alarm monitor, built after this). */
  readAlarmsFrom(readings: () => readonly AlarmReading[]): void {
    this.#alarms = readings;
  }

  /** Adds a delta to the interval in progress; a StatsHub listener. */
  readonly record = (delta: StatsDelta): void => {
    if (this.#listeners.size === 0) return;
    for (const entry of delta.entries) {
      // A mirrored copy was not served to any client.
      if (entry.mirrored) continue;
      let versions = this.#sums.get(entry.service);
      if (!versions) this.#sums.set(entry.service, (versions = new Map<string, Sums>()));
      let sums = versions.get(entry.version);
      if (!sums) versions.set(entry.version, (sums = { requests: 0, errors: 0, buckets: [] }));
      for (let i = 0; i < entry.counts.length; i++) sums.requests += entry.counts[i]!;
      sums.errors += (entry.counts[FIVE_XX] ?? 0) + (entry.counts[OUTCOME_ERROR] ?? 0);
      for (let i = 0; i < entry.latencyBuckets.length; i++) {
        sums.buckets[i] = (sums.buckets[i] ?? 0) + entry.latencyBuckets[i]!;
      }
    }
  };

  latest(): LiveStatsSnapshot | undefined {
    return this.#latest;
  }

  subscribe(listener: (snapshot: LiveStatsSnapshot) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#timer) this.#arm();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.close();
    };
  }

  /** Stops making snapshots (until the next subscriber). */
  close(): void {
    this.#timer?.();
    this.#timer = undefined;
    this.#sums = new Map();
  }

  #arm(): void {
    this.#timer = this.#clock.setTimer(this.#intervalMs, () => {
      this.#arm();
      this.#snapshot();
    });
  }

  #snapshot(): void {
    const seconds = this.#intervalMs / 1000;
    const services = [...this.#sums].map(([service, versions]) => ({
      service,
      versions: [...versions].map(([version, s]): LiveVersionStats => {
        const buckets = Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, (_, i) => s.buckets[i] ?? 0);
        const quantile = (q: number) => histogramQuantile(buckets, LATENCY_BOUNDS_MS, q) ?? null;
        return {
          version,
          requests: s.requests,
          errors: s.errors,
          rps: s.requests / seconds,
          errorRate: s.requests > 0 ? s.errors / s.requests : 0,
          p50Ms: quantile(0.5),
          p99Ms: quantile(0.99),
        };
      }),
    }));
    // A version keeps its place (at 0) in the next intervals, so that a chart of it does not break off.
    for (const versions of this.#sums.values()) {
      for (const sums of versions.values()) {
        sums.requests = 0;
        sums.errors = 0;
        sums.buckets.fill(0);
      }
    }
    const snapshot: LiveStatsSnapshot = {
      at: this.#clock.now(),
      intervalMs: this.#intervalMs,
      services,
      alarms: this.#alarms(),
    };
    this.#latest = snapshot;
    for (const listener of this.#listeners) listener(snapshot);
  }
}
