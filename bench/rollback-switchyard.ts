/**
 * @module bench/rollback-switchyard
 * The switchyard under test in the rollback scenario: its config file (two alarms on the replacement,
 * alarm-driven rollback, retry on the original off or on), the AppSpec each deployment sends, and its
 * process, started from the CLI as in production.
 */
import { writeFileSync } from 'node:fs';

import { freePort, waitFor200 } from './http-util.js';
import type { Child } from './procs.js';
import {
  ALARM_INTERVAL_MS,
  APPLICATION,
  GROUP,
  LOAD_PATH,
  SERVICE,
  SLOW_LIMIT_MS,
  VERSION_HEADER,
} from './rollback-settings.js';
import type { UpstreamPair } from './rollback-upstreams.js';
import { exitedMessage, type Placement, spawnSwitchyard } from './targets.js';

/** The AppSpec of a deployment of `version` (a task definition revision) of the ECS service. */
export function appSpecFor(version: string): string {
  return `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "arn:aws:ecs:us-east-1:111122223333:task-definition/web:${version}"
        LoadBalancerInfo: { ContainerName: web, ContainerPort: 8080 }
`;
}

/** The AppSpec of every deployment: version 2 of the ECS service. */
export const APPSPEC = appSpecFor('2');

function configText(port: number, control: number, urls: readonly [string, string], retry: boolean): string {
  // retryOnOriginal is left out rather than set false when off, so the file suits builds without it.
  const routing = retry ? '\n    routing: { retryOnOriginal: true }' : '';
  return `listeners: { production: { host: 127.0.0.1, port: ${port} } }
control: { host: 127.0.0.1, port: ${control} }
logLevel: warn
versionHeader: ${VERSION_HEADER}
alarmEvaluationInterval: ${ALARM_INTERVAL_MS}ms
alarms:
  green-errors: { kind: error-rate, version: replacement, threshold: 0.05, window: 5s, minRequests: 20 }
  green-p99: { kind: latency, version: replacement, quantile: 0.99, threshold: ${SLOW_LIMIT_MS}ms, window: 5s, minRequests: 20 }
services:
  - name: ${SERVICE}
    versions: { "1": { targets: ["${urls[0]}"] }, "2": { targets: ["${urls[1]}"] } }
    live: "1"${routing}
applications:
  ${APPLICATION}:
    computePlatform: ECS
    deploymentGroups:
      ${GROUP}:
        ecsServices: [{ serviceName: ${SERVICE} }]
        # Real minutes: the canary holds 10% for the whole run while the alarms judge.
        deploymentConfigName: CodeDeployDefault.ECSCanary10Percent15Minutes
        alarmConfiguration: { enabled: true, alarms: [{ name: green-errors }, { name: green-p99 }] }
        autoRollbackConfiguration: { enabled: true, events: [DEPLOYMENT_STOP_ON_ALARM] }
`;
}

/** A switchyard serving the rollback config. */
export interface RollbackProxy {
  readonly url: string;
  readonly control: string;
  readonly child: Child;
}

/** Writes the config file for one switchyard, on fresh ports, and returns the ports. */
export async function writeConfig(
  file: string,
  up: UpstreamPair,
  retry: boolean,
): Promise<{ port: number; control: number }> {
  const port = await freePort();
  const control = await freePort();
  writeFileSync(file, configText(port, control, up.urls, retry));
  return { port, control };
}

/** Starts switchyard on `file` (with `serveArgs`, e.g. `--workers 2`) and waits until its listener answers the load path. */
export async function startProxy(
  place: Placement,
  file: string,
  port: number,
  control: number,
  serveArgs: readonly string[] = [],
): Promise<RollbackProxy> {
  const child = await spawnSwitchyard(place, file, control, undefined, undefined, serveArgs);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(`${url}${LOAD_PATH}`, 20_000, exitedMessage(child));
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { url, control: `http://127.0.0.1:${control}`, child };
}
