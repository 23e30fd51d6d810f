/**
 * @module app/recovery
 * Reads what a store kept back into the running pieces at start: the traffic of each service (before
 * any listener opens, so no request is routed by the config's defaults after a restart), CodeDeploy's
 * applications, groups, configurations and requests, hook executions, and deployments for the engine
 * to resume or roll back. Documents are read back as they were written by this same code; a document
 * that no longer fits (a version removed from the config) is reported and left out, never guessed at.
 */
import { SwitchyardError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AlarmConfig, AlarmsConfig } from '../config/alarms.js';
import type { HookExecution } from '../hooks/executions.js';
import type { DeploymentRecord } from '../shifting/ports.js';
import { DeploymentConfig } from '../codedeploy/deployment-config.js';
import type { Registry } from '../shifting/registry.js';
import type { ApplicationRecord, DeploymentGroupRecord, DeploymentRequest } from '../codedeploy/deployment-group.js';
import type { TrafficPort } from '../shifting/ports.js';
import type { DeploymentStore, StoreKind } from '../shifting/ports.js';
import { describeError } from '../core/describe-error.js';

/** A service's traffic as it is kept: live version and basis-point weights per listener. */
export interface KeptTraffic {
  readonly live: string;
  readonly weights: { readonly production: Readonly<Record<string, number>>; readonly test: Readonly<Record<string, number>> };
}

// The store returns what this code wrote through JSON; the casts below name the type it was written as.
const values = <T>(store: DeploymentStore, kind: StoreKind): T[] => store.list(kind).map((d) => d.value as T);

/**
 * Runs one step of reading the store back; a document this switchyard cannot read (written by another
 * version, or damaged) stops the start with STORE_FAILED saying what, rather than a stack trace or a guess.
 */
export function fromStore<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof SwitchyardError) throw err;
    throw new SwitchyardError('STORE_FAILED', `cannot read back the ${what} the store keeps: ${describeError(err)}`, { cause: err });
  }
}

/** Sets each configured service's traffic to what was kept; a service kept with a version the config no longer has starts from the config. */
export function restoreTraffic(store: DeploymentStore, traffic: TrafficPort, log: Logger): void {
  const configured = new Set(traffic.services().map((s) => s.name));
  for (const { key, value } of store.list('service')) {
    if (!configured.has(key)) continue;
    try {
      traffic.restore(key, value as KeptTraffic);
      const view = traffic.service(key);
      log.info({ service: key, live: view.live, weights: view.weights }, 'traffic restored from the store');
    } catch (err) {
      log.warn({ service: key, err: describeError(err) }, 'kept traffic does not fit the config; starting from the config');
    }
  }
}

/** Puts the kept applications, groups, custom configurations and deployment requests back into `registry`. */
export function restoreRegistry(store: DeploymentStore, registry: Registry): void {
  registry.restore({
    applications: values<ApplicationRecord>(store, 'application'),
    groups: values<DeploymentGroupRecord>(store, 'group'),
    configs: store.list('config').map((d) => DeploymentConfig.parse(d.value)),
    requests: store.list('request').map((d) => [d.key, d.value as DeploymentRequest] as const),
  });
}

/** Alarms created over the API and kept, by name. */
export function keptAlarms(store: DeploymentStore): AlarmsConfig {
  return Object.fromEntries(store.list('alarm').map((d) => [d.key, d.value as AlarmConfig]));
}

/** Kept hook executions, in the order they started. */
export function keptHookExecutions(store: DeploymentStore): HookExecution[] {
  return values<HookExecution>(store, 'hookExecution');
}

/** Kept deployments, oldest first. */
export function keptDeployments(store: DeploymentStore): DeploymentRecord[] {
  return values<DeploymentRecord>(store, 'deployment');
}
