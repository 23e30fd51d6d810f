/**
 * @module app/start
 * The composition root: the only place that builds concrete pieces and wires the planes together, in
 * phases (src/app/phases): the store → traffic and the data plane → stats, health and metrics → hooks
 * and task sets → alarms and notifications → the engine and CodeDeploy's registry → the control API →
 * listen → go live. Each piece registers its close as it is built; close() and a start that fails part
 * way run the same teardown.
 */
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';

import type { LabReportShelf } from '../api/server.js';
import type { Config } from '../config/schema.js';
import { type Clock, systemClock } from '../core/clock.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { AlarmCatalog } from '../health/alarm-catalog.js';
import type { StatsHub } from '../health/stats-hub.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { DataPlane } from '../proxy/data-plane.js';
import type { DeploymentEngine } from '../shifting/engine.js';
import type { DeploymentStore } from '../shifting/ports.js';
import type { Registry } from '../shifting/registry.js';
import type { TrafficState } from '../shifting/traffic.js';
import type { RemoteFleet } from './fleet/remote-fleet.js';
import { alarmsAndNotifications } from './phases/alarms-and-notifications.js';
import { controlApi } from './phases/control-api.js';
import { trafficAndDataPlane } from './phases/data-plane.js';
import { engineAndRegistry } from './phases/engine.js';
import { hooksAndTaskSets } from './phases/hooks-and-task-sets.js';
import { goLive, listen, urlOf } from './phases/listen.js';
import { statsHealthAndMetrics } from './phases/observation.js';
import { openTheStore } from './phases/store.js';
import { Teardown } from './teardown.js';
import type { WorkerFleet } from './workers/fleet.js';

/** Options for {@link startSwitchyard}. */
export interface StartOptions {
  readonly log?: Logger;
  readonly clock?: Clock;
  /** A store to use instead of opening the config's (tests); it is closed with switchyard. */
  readonly store?: DeploymentStore;
  /** The policy lab's reports folder, served at `/v1/lab/reports` when given. */
  readonly labReports?: LabReportShelf;
  /** The built Node bootstrap of function versions; the one shipped beside the functions module by default. */
  readonly nodeBootstrap?: string;
  /** The built worker entry point (`workers` above 1); the one shipped beside the workers module by default. */
  readonly workerEntry?: string;
  /** Runs the data plane in a worker even for `workers: 1`, so the cluster's own cost can be measured. */
  readonly alwaysWorkers?: boolean;
}

/** A running switchyard. */
export interface Switchyard {
  readonly config: Config;
  readonly log: Logger;
  readonly traffic: TrafficState;
  /** The data plane when it runs in this process (`workers: 1`). */
  readonly dataPlane: DataPlane | undefined;
  /** The worker processes running the data plane when `workers` is above 1. */
  readonly workers: WorkerFleet | undefined;
  /** The data planes on other hosts (`serve --data-plane`) that follow this control plane. */
  readonly remote: RemoteFleet;
  readonly stats: StatsHub;
  readonly metrics: MetricsRecorder;
  readonly engine: DeploymentEngine;
  /** CodeDeploy's applications, deployment groups and custom configurations. */
  readonly registry: Registry;
  /** Where everything the API returns is kept. */
  readonly store: DeploymentStore;
  /** The alarms deployment groups may name. */
  readonly alarms: AlarmCatalog;
  readonly api: FastifyInstance;
  /** Bound addresses: `production`, `test` (when configured) and `control`. */
  readonly addresses: Readonly<Record<string, AddressInfo>>;
  /** Base URLs for the same, e.g. `http://127.0.0.1:8080`. */
  readonly urls: Readonly<Record<string, string>>;
  /** Drains and stops everything; safe to call more than once. */
  close(): Promise<void>;
}

/** Starts listeners, the control API and the stats pump from a validated config. */
export async function startSwitchyard(config: Config, options: StartOptions = {}): Promise<Switchyard> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const teardown = new Teardown(log);
  try {
    const ground = await openTheStore({ config, log, clock, store: options.store, teardown });
    const plane = trafficAndDataPlane(ground, options);
    const observation = statsHealthAndMetrics(ground, plane);
    const tasks = hooksAndTaskSets(ground, plane, options.nodeBootstrap);
    // The Lambda API's invocations count as the version's traffic, beside what the listeners carry.
    observation.stats.addSource(tasks.functions);
    const alerting = alarmsAndNotifications(ground, observation);
    const core = engineAndRegistry(ground, { ...plane, ...tasks, ...alerting });
    const api = controlApi(ground, { ...plane, ...observation, ...tasks, ...alerting, ...core }, options.labReports);
    const addresses = await listen(ground, { ...plane, ...tasks, ...core, api });
    goLive({ ...observation, ...alerting, ...core });
    return {
      config,
      log,
      store: ground.store,
      traffic: plane.traffic,
      dataPlane: plane.dataPlane,
      workers: plane.workers,
      remote: plane.remote,
      stats: observation.stats,
      metrics: observation.metrics,
      alarms: alerting.alarms,
      engine: core.engine,
      registry: core.registry,
      api,
      addresses,
      urls: Object.fromEntries(Object.entries(addresses).map(([k, a]) => [k, urlOf(a)])),
      close: () => teardown.close('stop'),
    };
  } catch (err) {
    // Whatever failed (a declaration the registry refuses, a kept document it cannot read, a listener
    // that cannot bind), what was built is closed: no listener, process, timer or store file is left.
    await teardown.close('failed start');
    throw err;
  }
}
