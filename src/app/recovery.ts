/**
 * @module app/recovery
 * Reads what a store kept back into the running pieces at start: the traffic of each service (before
 * any listener opens, so no request is routed by the config's defaults after a restart), CodeDeploy's
 * applications, groups, configurations and requests, hook executions, and deployments for the engine
 * to resume or roll back. Every document is read with the zod schema its type comes from: one that does
 * not fit it (written by another version, or damaged) stops the start with STORE_FAILED naming its kind,
 * key and problem; kept traffic that fits but no longer fits the config (a version removed) is reported
 * and left out. Nothing is guessed at.
 */
import { z } from 'zod';

import { DeploymentConfig } from '../codedeploy/deployment-config-model.js';
import { ApplicationRecord, DeploymentGroupRecord, DeploymentRequest } from '../codedeploy/deployment-group.js';
import { AlarmConfig, type AlarmsConfig } from '../config/alarms.js';
import { describeError } from '../core/describe-error.js';
import { SwitchyardError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { StartedProcess } from '../core/process-ledger.js';
import { formatPath } from '../core/yaml-source.js';
import { HookExecution } from '../hooks/executions.js';
import { DeploymentRecord } from '../shifting/deployment.js';
import type { DeploymentStore, StoreKind, TrafficPort } from '../shifting/ports.js';
import type { Registry } from '../shifting/registry.js';

const BasisPoints = z.record(z.string(), z.number());

/** A service's traffic as it is kept: live version and basis-point weights per listener. */
export const KeptTraffic = z.object({
  live: z.string(),
  weights: z.object({ production: BasisPoints, test: BasisPoints }),
});
export type KeptTraffic = z.infer<typeof KeptTraffic>;

/** Issues named in full; a document wrong everywhere (another program's) needs no longer a message. */
const ISSUES_NAMED = 3;

/** What is wrong with a document: `path: problem` for its first issues. */
function problems(error: z.ZodError): string {
  const { issues } = error;
  const named = issues
    .slice(0, ISSUES_NAMED)
    .map((issue) => `${formatPath(issue.path) || '(the document)'}: ${issue.message}`);
  const more = issues.length - named.length;
  return named.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/** Every document of `kind`, read with `schema`; one that does not fit throws, naming its kind, key and what is wrong. */
function kept<T>(store: DeploymentStore, kind: StoreKind, schema: z.ZodType<T>): { key: string; value: T }[] {
  return store.list(kind).map(({ key, value }) => {
    const read = schema.safeParse(value);
    if (!read.success) throw new Error(`the ${kind} document "${key}" does not fit: ${problems(read.error)}`);
    return { key, value: read.data };
  });
}

const values = <T>(store: DeploymentStore, kind: StoreKind, schema: z.ZodType<T>): T[] =>
  kept(store, kind, schema).map((d) => d.value);

/**
 * Runs one step of reading the store back; a document this switchyard cannot read (written by another
 * version, or damaged) stops the start with STORE_FAILED saying what, rather than a stack trace or a guess.
 */
export function fromStore<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof SwitchyardError) throw err;
    throw new SwitchyardError('STORE_FAILED', `cannot read back the ${what} the store keeps: ${describeError(err)}`, {
      cause: err,
    });
  }
}

/** Sets each configured service's traffic to what was kept; a service kept with a version the config no longer has starts from the config. */
export function restoreTraffic(store: DeploymentStore, traffic: TrafficPort, log: Logger): void {
  const configured = new Set(traffic.services().map((s) => s.name));
  for (const { key, value } of fromStore('service traffic', () => kept(store, 'service', KeptTraffic))) {
    if (!configured.has(key)) continue;
    try {
      traffic.restore(key, value);
      const view = traffic.service(key);
      log.info({ service: key, live: view.live, weights: view.weights }, 'traffic restored from the store');
    } catch (err) {
      log.warn(
        { service: key, err: describeError(err) },
        'kept traffic does not fit the config; starting from the config',
      );
    }
  }
}

/** Puts the kept applications, groups, custom configurations and deployment requests back into `registry`. */
export function restoreRegistry(store: DeploymentStore, registry: Registry): void {
  registry.restore({
    applications: values(store, 'application', ApplicationRecord),
    groups: values(store, 'group', DeploymentGroupRecord),
    configs: values(store, 'config', DeploymentConfig),
    requests: kept(store, 'request', DeploymentRequest).map((d) => [d.key, d.value] as const),
  });
}

/** Alarms created over the API and kept, by name. */
export function keptAlarms(store: DeploymentStore): AlarmsConfig {
  return Object.fromEntries(kept(store, 'alarm', AlarmConfig).map((d) => [d.key, d.value]));
}

/** Kept hook executions, in the order they started. */
export function keptHookExecutions(store: DeploymentStore): HookExecution[] {
  return values(store, 'hookExecution', HookExecution);
}

/** Kept deployments, oldest first. */
export function keptDeployments(store: DeploymentStore): DeploymentRecord[] {
  return values(store, 'deployment', DeploymentRecord);
}

/** Processes an earlier run wrote down as started and not yet ended. */
export function keptProcesses(store: DeploymentStore): StartedProcess[] {
  return values(store, 'process', StartedProcess);
}
