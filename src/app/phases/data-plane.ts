/**
 * @module app/phases/data-plane
 * The traffic state, as the store kept it, and the data planes it publishes to: in this process, or
 * (`workers` above 1) a fleet of worker processes each running one, or none here (`workers: 0`); and
 * beside it, always, the remote data planes that connect to the control API (`serve --data-plane`).
 */
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import { DEFAULT_DATA_PLANES } from '../../config/control.js';
import type { ListenOptions } from '../../core/data-channel.js';
import { mergeStatsDeltas, type StatsDelta } from '../../core/stats-delta.js';
import { DataPlane } from '../../proxy/data-plane.js';
import { TrafficState } from '../../shifting/traffic.js';
import { RemoteFleet } from '../fleet/remote-fleet.js';
import { restoreTraffic } from '../recovery.js';
import { Teardown } from '../teardown.js';
import { WorkerFleet } from '../workers/fleet.js';
import type { Ground } from './ground.js';

/**
 * How often workers send their counts up. Shorter than the stats hub's 250 ms pull, so that a worker's
 * requests reach the alarms about as soon as the single process's do.
 */
const WORKER_STATS_INTERVAL_MS = 100;

/** How long a worker may take to acknowledge a route table before it is replaced. */
const WORKER_ACK_TIMEOUT_MS = 1_000;

/** The data plane as the control plane drives it, wherever it runs. */
export interface ServingPlane {
  listen(listeners: ListenOptions): Promise<Record<string, AddressInfo>>;
  takeStats(): StatsDelta;
  close(drainMs: number): Promise<void>;
}

/** What the data plane phase builds. */
export interface TrafficAndDataPlane {
  readonly traffic: TrafficState;
  /** The data plane, wherever it runs. */
  readonly serving: ServingPlane;
  /** The data plane when it runs in this process (`workers: 1`). */
  readonly dataPlane: DataPlane | undefined;
  /** The worker processes when there are several. */
  readonly workers: WorkerFleet | undefined;
  /** The data planes on other hosts that follow this control plane. */
  readonly remote: RemoteFleet;
  /** Where what the data plane's requests still need while it drains registers its close: it runs after. */
  readonly afterDrain: Teardown;
}

/** How many data plane processes `workers` asks for (`auto`: one per core this process may use). */
export function workerCount(workers: number | 'auto'): number {
  return workers === 'auto' ? availableParallelism() : workers;
}

/** Restores the traffic each service had, then builds the data plane that routes by it (not listening yet). */
export function trafficAndDataPlane(
  { config, log, clock, store, keepOrGoOn, teardown }: Ground,
  {
    workerEntry = join(import.meta.dirname, '..', 'workers', 'worker-main.js'),
    alwaysWorkers = false,
  }: { readonly workerEntry?: string | undefined; readonly alwaysWorkers?: boolean | undefined } = {},
): TrafficAndDataPlane {
  const traffic = new TrafficState(config);
  // What the last run left, before anything routes: after a restart traffic is never split by defaults.
  restoreTraffic(store, traffic, log.child({ component: 'store' }));
  // Every table published is the traffic state to come back to: its live versions and weights are kept.
  traffic.attach({
    publish: (table) =>
      keepOrGoOn('the traffic', () => {
        for (const s of table.services) store.put('service', s.name, { live: s.live, weights: s.weights });
      }),
  });
  const size = workerCount(config.workers);
  let dataPlane: DataPlane | undefined;
  let workers: WorkerFleet | undefined;
  if (size > 1 || (alwaysWorkers && size > 0)) {
    workers = new WorkerFleet({
      size,
      entry: workerEntry,
      logLevel: config.logLevel,
      log: log.child({ component: 'workers' }),
      clock,
      ackTimeoutMs: WORKER_ACK_TIMEOUT_MS,
      statsIntervalMs: WORKER_STATS_INTERVAL_MS,
    });
    traffic.attach(workers);
  } else if (size === 1) {
    const inProcess = new DataPlane(traffic.table, log.child({ component: 'proxy' }));
    traffic.attach({ publish: (table) => inProcess.apply(table) });
    dataPlane = inProcess;
  }
  const remoteSettings = config.control.dataPlanes ?? DEFAULT_DATA_PLANES;
  const remote = new RemoteFleet({
    log: log.child({ component: 'data-planes' }),
    clock,
    ackTimeoutMs: remoteSettings.ackTimeout,
    graceMs: remoteSettings.grace,
    // Their counts arrive as often as the alarms are judged: no sooner is needed, no later is good.
    statsIntervalMs: config.alarmEvaluationInterval,
    listeners: config.listeners,
  });
  traffic.attach(remote);
  const serving = servingBoth(workers ?? dataPlane, remote);
  // The versions run by command that answer its requests, the stats that count them and the control API
  // to watch from all outlast the drain.
  const afterDrain = new Teardown(log);
  teardown.add('what outlasts the drain', (ending) => afterDrain.close(ending));
  // A start that failed served nothing: there is nothing to wait for.
  teardown.add('data plane', (ending) => serving.close(ending === 'stop' ? config.drainTimeout : 0));
  return { traffic, serving, dataPlane, workers, remote, afterDrain };
}

/**
 * The data plane here (if any) and the remote ones as one: the listeners here, the counts of all, and a
 * close that drains those here and lets go of the remote ones (which serve on, and reconnect).
 */
function servingBoth(local: ServingPlane | undefined, remote: RemoteFleet): ServingPlane {
  return {
    listen: (listeners) => (local ? local.listen(listeners) : Promise.resolve({})),
    takeStats: () => {
      const remoteDelta = remote.takeStats();
      if (!local) return remoteDelta;
      const localDelta = local.takeStats();
      return remoteDelta.entries.length === 0 && !remoteDelta.refused && !remoteDelta.targets
        ? localDelta
        : mergeStatsDeltas([localDelta, remoteDelta]);
    },
    close: async (drainMs) => {
      await remote.close();
      await local?.close(drainMs);
    },
  };
}
