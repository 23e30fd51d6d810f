/**
 * @module metrics/recorder
 * Prometheus metrics on a registry of switchyard's own (never the global one, so tests and embedders stay
 * isolated). Request counts and latencies come from StatsDeltas; weights are read from the traffic
 * state at scrape time.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Metric, Registry } from 'prom-client';

import { LATENCY_BOUNDS_MS, OUTCOMES, REFUSALS, type StatsDelta } from '../core/stats-delta.js';

/** Prometheus bucket bounds in seconds; each is also a bound of the data plane's finer histogram. */
export const PROMETHEUS_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface Series {
  readonly labels: Record<string, string>;
  readonly buckets: Float64Array;
  count: number;
  sum: number;
}

/**
 * A histogram fed whole delta histograms at once. prom-client's Histogram takes one observation at a
 * time; replaying millions of requests per scrape would cost more than serving them.
 */
class DeltaHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, Series>();
  /** For each data-plane bucket, the Prometheus bucket it falls in. */
  readonly #map: Int32Array;

  constructor(
    readonly name: string,
    readonly help: string,
  ) {
    this.#map = Int32Array.from([...LATENCY_BOUNDS_MS, Infinity], (ms) => {
      const i = PROMETHEUS_BUCKETS_S.findIndex((s) => ms <= s * 1000 + 1e-9);
      return i === -1 ? PROMETHEUS_BUCKETS_S.length : i;
    });
  }

  add(labels: Record<string, string>, latencyBuckets: readonly number[], sumMs: number): void {
    const key = JSON.stringify(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { labels, buckets: new Float64Array(PROMETHEUS_BUCKETS_S.length + 1), count: 0, sum: 0 };
      this.#series.set(key, s);
    }
    for (let i = 0; i < latencyBuckets.length; i++) {
      const n = latencyBuckets[i]!;
      if (n === 0) continue;
      s.buckets[this.#map[i]!]! += n;
      s.count += n;
    }
    s.sum += sumMs / 1000;
  }

  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.#series.values()) {
      let acc = 0;
      PROMETHEUS_BUCKETS_S.forEach((le, i) => {
        acc += s.buckets[i]!;
        values.push({ labels: { ...s.labels, le }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/** One weight as the traffic weight gauge shows it. */
export interface WeightReading {
  readonly service: string;
  readonly version: string;
  readonly percent: number;
}

/** One target's health as the health gauge shows it. */
export interface TargetReading {
  readonly service: string;
  readonly version: string;
  readonly target: string;
  /** 1 healthy or unchecked, 0 failing its checks or ejected. */
  readonly healthy: number;
}

/** What the worker processes (`workers` above 1) report, read at scrape time. */
export interface WorkerFigures {
  /** Each worker now: its stable name (`1`…`N`), requests served since it started, resident memory. */
  readings(): readonly { readonly worker: string; readonly requests: number; readonly rssBytes: number }[];
  /** Workers replaced since start. */
  readonly restarts: number;
  /** Route table propagation times (ms, decision to the last worker's acknowledgement) since the previous call. */
  takePropagations(): number[];
}

/** What the remote data planes report, read at scrape time. */
export interface DataPlaneFigures {
  /** Each data plane seen in this run: its name, state and the requests it served while heard. */
  list(): readonly { readonly name: string; readonly state: string; readonly requests: number }[];
  /** Route table propagation times (ms, decision to the last data plane's acknowledgement) since the previous call. */
  takePropagations(): number[];
}

/** Every state a remote data plane can be in, shown from the start at 0. */
const DATA_PLANE_STATES = ['connected', 'lost', 'away', 'left'] as const;

/** Owns every metric; feed it deltas, read it with {@link MetricsRecorder.render}. */
export class MetricsRecorder {
  readonly registry = new Registry();
  readonly #requests: Counter<'service' | 'version' | 'code'>;
  readonly #failovers: Counter<'service' | 'version'>;
  readonly #mirrored: Counter<'service' | 'version' | 'code'>;
  readonly #duration: DeltaHistogram;
  readonly #refused: Counter<'reason'>;

  /**
   * `before` runs at the start of every scrape (to pull fresh stats); `weights` and `targets` are read at
   * scrape time.
   */
  constructor(
    weights: () => readonly WeightReading[],
    before: () => void = () => undefined,
    targets: () => readonly TargetReading[] = () => [],
  ) {
    collectDefaultMetrics({ register: this.registry });
    this.#requests = new Counter({
      name: 'switchyard_requests_total',
      help: 'Proxied requests by service, version and response class (error: no response from the target)',
      labelNames: ['service', 'version', 'code'],
      registers: [this.registry],
      collect: before,
    });
    this.#duration = new DeltaHistogram(
      'switchyard_request_duration_seconds',
      'Time from request to the end of the response, by service and version',
    );
    this.#failovers = new Counter({
      name: 'switchyard_failovers_total',
      help: 'Requests picked for a version that had no routable target, and served by another version',
      labelNames: ['service', 'version'],
      registers: [this.registry],
    });
    this.#mirrored = new Counter({
      name: 'switchyard_mirrored_requests_total',
      help: 'Copies of production requests mirrored to a version in the background, by the class of its answer',
      labelNames: ['service', 'version', 'code'],
      registers: [this.registry],
    });
    this.#refused = new Counter({
      name: 'switchyard_refused_total',
      help:
        "Requests and connections turned away for switchyard's own limits, counted for no version: " +
        'in_flight_limit (503, maxRequestsInFlight), connection_limit (closed, maxConnections), ' +
        'local_resources (503, this process out of descriptors, memory or ports)',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    // Every reason shows from the start, at 0, so a rate() over it has a series before the first refusal.
    for (const reason of REFUSALS) this.#refused.inc({ reason }, 0);
    new Gauge({
      name: 'switchyard_target_healthy',
      help: 'Whether a target takes traffic: 1 healthy (or not checked), 0 failing its health checks or ejected',
      labelNames: ['service', 'version', 'target'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const t of targets()) this.set({ service: t.service, version: t.version, target: t.target }, t.healthy);
      },
    });
    // registerMetric accepts any object with name, help, type and get(); the cast says so to its types.
    this.registry.registerMetric(this.#duration as unknown as Metric);
    new Gauge({
      name: 'switchyard_traffic_weight_percent',
      help: 'Share of production traffic each version of a service receives',
      labelNames: ['service', 'version'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const w of weights()) this.set({ service: w.service, version: w.version }, w.percent);
      },
    });
  }

  /** Adds the workers' own series: one per worker where a per-worker figure helps, and table propagation. */
  watchWorkers(workers: WorkerFigures): void {
    new Histogram({
      name: 'switchyard_route_propagation_seconds',
      help: 'Time from a route table change to the last worker acknowledging it',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [this.registry],
      collect() {
        for (const ms of workers.takePropagations()) this.observe(ms / 1000);
      },
    });
    new Gauge({
      name: 'switchyard_workers',
      help: 'Worker processes serving the listeners',
      registers: [this.registry],
      collect() {
        this.set(workers.readings().length);
      },
    });
    new Counter({
      name: 'switchyard_worker_restarts_total',
      help: 'Workers replaced after they exited or failed to acknowledge a route table in time',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(workers.restarts);
      },
    });
    new Counter({
      name: 'switchyard_worker_requests_total',
      help: 'Requests each worker served since it started (a replacement starts again at 0); switchyard_requests_total is their sum',
      labelNames: ['worker'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const w of workers.readings()) this.inc({ worker: w.worker }, w.requests);
      },
    });
    new Gauge({
      name: 'switchyard_worker_resident_memory_bytes',
      help: 'Resident memory of each worker process',
      labelNames: ['worker'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const w of workers.readings()) this.set({ worker: w.worker }, w.rssBytes);
      },
    });
  }

  /** Adds the remote data planes' series: how many in each state, each one's requests, table propagation. */
  watchDataPlanes(planes: DataPlaneFigures): void {
    new Gauge({
      name: 'switchyard_data_planes',
      help: 'Remote data planes seen in this run, by state: connected, lost (silent, cut off), away (connection ended), left (drained)',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        this.reset();
        const all = planes.list();
        for (const state of DATA_PLANE_STATES) this.set({ state }, all.filter((p) => p.state === state).length);
      },
    });
    new Counter({
      name: 'switchyard_data_plane_requests_total',
      help: 'Requests each remote data plane served while this control plane heard from it; switchyard_requests_total counts them too',
      labelNames: ['data_plane'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of planes.list()) this.inc({ data_plane: p.name }, p.requests);
      },
    });
    new Histogram({
      name: 'switchyard_data_plane_propagation_seconds',
      help: 'Time from a route table change to the last remote data plane acknowledging it',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
      registers: [this.registry],
      collect() {
        for (const ms of planes.takePropagations()) this.observe(ms / 1000);
      },
    });
  }

  /** Adds a delta's counts to the metrics. */
  readonly record = (delta: StatsDelta): void => {
    for (const e of delta.entries) {
      if (e.mirrored) {
        // Copies no client saw: counted apart, so requests_total stays what clients were served.
        e.counts.forEach((n, i) => {
          if (n > 0) this.#mirrored.inc({ service: e.service, version: e.version, code: OUTCOMES[i]! }, n);
        });
        continue;
      }
      e.counts.forEach((n, i) => {
        if (n > 0) this.#requests.inc({ service: e.service, version: e.version, code: OUTCOMES[i]! }, n);
      });
      this.#duration.add({ service: e.service, version: e.version }, e.latencyBuckets, e.latencySumMs);
      if (e.failedOver > 0) this.#failovers.inc({ service: e.service, version: e.version }, e.failedOver);
    }
    delta.refused?.forEach((n, i) => {
      if (n > 0) this.#refused.inc({ reason: REFUSALS[i]! }, n);
    });
  };

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
