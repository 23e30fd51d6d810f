/**
 * @module app/phases/observation
 * What watches the traffic: the stats hub pulling the data plane's counts, target health, the metrics
 * recorder and the windows alarms judge.
 */
import { LiveStats } from '../../health/live-stats.js';
import { Prober } from '../../health/probe.js';
import { StatsHub } from '../../health/stats-hub.js';
import { TargetHealth } from '../../health/target-health.js';
import { StatsWindows } from '../../health/windows.js';
import { MetricsRecorder } from '../../metrics/recorder.js';
import type { TrafficAndDataPlane } from './data-plane.js';
import type { Ground } from './ground.js';

/** How far back traffic is kept for alarms to judge: longer than any sensible alarm window. */
const ALARM_HORIZON_MS = 15 * 60_000;

/** What the observation phase builds. */
export interface Observation {
  readonly stats: StatsHub;
  readonly health: TargetHealth;
  readonly metrics: MetricsRecorder;
  readonly windows: StatsWindows;
  /** The live traffic view the control API streams to browsers. */
  readonly liveStats: LiveStats;
}

/** Builds the stats hub, target health, metrics and alarm windows; nothing runs until switchyard is up. */
export function statsHealthAndMetrics(
  { config, log, clock, teardown, later }: Ground,
  { traffic, serving, workers, remote, afterDrain }: TrafficAndDataPlane,
): Observation {
  const stats = new StatsHub(clock, 250, (err) => log.error({ err }, 'a stats consumer failed'));
  stats.addSource(serving);
  // Its last pull comes after the drain, so the requests the drain finished are counted too.
  afterDrain.add('stats', () => stats.stop());
  const prober = new Prober(clock);
  // A check still in flight when health stops must not hold up the drain.
  afterDrain.add('health prober', () => prober.close());
  const health = new TargetHealth({
    clock,
    log: log.child({ component: 'health' }),
    services: config.services,
    traffic,
    prober,
    // Health changes go into the timeline of the deployment shifting that service.
    onChange: (change) => {
      later.serviceHealthChanged?.(change.service);
      const engine = later.engine;
      const active = engine?.activeOn(change.service);
      if (engine && active)
        engine.annotate(active.id, change.state === 'healthy' ? 'info' : 'warn', 'target health changed', {
          ...change,
        });
    },
  });
  teardown.add('health checks', () => health.stop());
  stats.subscribe(health.record);
  const metrics = new MetricsRecorder(
    () =>
      traffic.services().flatMap((s) =>
        Object.entries(s.weights.production).map(([version, percent]) => ({
          service: s.name,
          version,
          percent,
        })),
      ),
    () => stats.pull(),
    () => health.readings(),
  );
  stats.subscribe(metrics.record);
  if (workers) metrics.watchWorkers(workers);
  metrics.watchDataPlanes(remote);
  const windows = new StatsWindows(clock, ALARM_HORIZON_MS);
  stats.subscribe(windows.record);
  const liveStats = new LiveStats(clock);
  stats.subscribe(liveStats.record);
  teardown.add('live stats', () => liveStats.close());
  return { stats, health, metrics, windows, liveStats };
}
