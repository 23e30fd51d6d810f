/**
 * @module app/phases/listen
 * The last phases: deployments restored, the live versions run by command started, the listeners
 * opened; then what runs on its own is started.
 */
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';

import { warnWhenExposed } from '../../api/auth/exposure.js';
import { describeError } from '../../core/describe-error.js';
import { SwitchyardError } from '../../core/errors.js';
import { ReplacementNotReady } from '../../shifting/ports.js';
import { fromStore, keptDeployments } from '../recovery.js';
import type { AlarmsAndNotifications } from './alarms-and-notifications.js';
import type { TrafficAndDataPlane } from './data-plane.js';
import type { EngineAndRegistry } from './engine.js';
import type { Ground } from './ground.js';
import type { HooksAndTaskSets } from './hooks-and-task-sets.js';
import type { Observation } from './observation.js';

/** A base URL for a bound address, e.g. `http://127.0.0.1:8080`. */
export function urlOf(a: AddressInfo): string {
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}`;
}

/**
 * Restores the kept deployments, starts the versions run by command that carry traffic, then opens the
 * data plane's listeners and the control API's; resolves with the bound addresses.
 */
export async function listen(
  { config, log, store, later, announce }: Ground,
  {
    serving,
    launcher,
    engine,
    api,
  }: TrafficAndDataPlane & HooksAndTaskSets & EngineAndRegistry & { readonly api: FastifyInstance },
): Promise<Record<string, AddressInfo>> {
  // Deployments the recovery policy rolls back end before anything starts or listens; the rest are readied.
  fromStore('deployments', () => engine.restore(keptDeployments(store), config.recovery));
  // Versions run by command or synthetic that carry traffic start (and pass their checks) before any listener opens.
  const resumedTarget = (service: string, version: string) => engine.activeOn(service)?.plan.targetVersion === version;
  await launcher.startServing(new AbortController().signal, resumedTarget).catch((err: unknown) => {
    const tail = err instanceof ReplacementNotReady && err.logTail ? `; its last output:\n${err.logTail}` : '';
    throw new SwitchyardError('VERSION_NOT_READY', `a live version cannot start: ${describeError(err)}${tail}`, {
      cause: err,
    });
  });
  const addresses = await serving.listen(config.listeners);
  await api.listen({ host: config.control.host, port: config.control.port });
  addresses['control'] = api.server.address() as AddressInfo;
  later.controlUrl = urlOf(addresses['control']);
  announce(later.controlUrl);
  warnWhenExposed(config.control, later.controlUrl, log);
  return addresses;
}

/** Starts what runs on its own once everything listens: the stats pump, health checks, notifications, restored deployments. */
export function goLive({
  stats,
  health,
  notifications,
  engine,
}: Observation & AlarmsAndNotifications & EngineAndRegistry): void {
  stats.start();
  health.start();
  // Notifications (kept ones, and those the recovery queued) are sent once switchyard is surely up.
  notifications.start();
  // Restored deployments go on once the API listens, so that a hook started again can report to it.
  engine.resumeRestored();
}
