/**
 * @module app/phases/control-api
 * The control API over everything built before it (not listening yet), and the service views its event
 * stream sends as routing and health change.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';

import { buildApi, type LabReportShelf } from '../../api/server.js';
import { ServiceChanges } from '../../api/service-changes.js';
import { packageRoot } from '../../core/package-root.js';
import type { AlarmsAndNotifications } from './alarms-and-notifications.js';
import type { TrafficAndDataPlane } from './data-plane.js';
import type { EngineAndRegistry } from './engine.js';
import type { Ground } from './ground.js';
import type { HooksAndTaskSets } from './hooks-and-task-sets.js';
import type { Observation } from './observation.js';

/**
 * Builds the control API; it closes after the data plane has drained, so the drain can be watched. The lab
 * reports folder, when given, comes from the command that starts switchyard (the app knows no lab).
 */
export function controlApi(
  { config, log, clock, later, store }: Ground,
  {
    traffic,
    remote,
    afterDrain,
    metrics,
    health,
    hooks,
    functions,
    alarms,
    notifications,
    engine,
    registry,
    events,
    liveStats,
  }: TrafficAndDataPlane & Observation & HooksAndTaskSets & AlarmsAndNotifications & EngineAndRegistry,
  labReports?: LabReportShelf,
): FastifyInstance {
  // Every table published, and every health change, sends the views of the services it changed.
  const changes = new ServiceChanges({ traffic, health, emit: events.publishService });
  traffic.attach(changes);
  later.serviceHealthChanged = (service) => changes.refresh(service);
  const api = buildApi({
    log,
    traffic,
    metrics,
    alarms,
    health,
    events,
    liveStats,
    notifications,
    labReports,
    auth: config.control.auth,
    hosts: { bound: config.control.host, allowed: config.control.allowedHosts },
    clock,
    dashboard: dashboardFolder(),
    durable: () => store.durable(),
    dataPlanes: remote,
    // Lambda's API over the function versions (their alias is each service's production split).
    functions: { services: config.services, invoker: functions },
    codedeploy: {
      engine,
      registry,
      traffic,
      reporter: hooks,
      testListener: config.listeners.test !== undefined,
      // A CreateDeployment may still ask for its own (switchyardTimeScale).
      timeScale: config.timeScale,
      log,
    },
  });
  afterDrain.add('control API', () => api.close());
  // Event streams never end by themselves, and the API waits for its connections: they end before it closes.
  afterDrain.add('event streams', () => events.close());
  return api;
}

/** The dashboard's files shipped with the package, when they are there. */
function dashboardFolder(): string | undefined {
  const folder = join(packageRoot(), 'dashboard');
  return existsSync(join(folder, 'index.html')) ? folder : undefined;
}
