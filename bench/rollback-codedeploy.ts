/**
 * @module bench/rollback-codedeploy
 * Drives the switchyard under test through its CodeDeploy API, as a pipeline would (CreateDeployment,
 * GetDeployment, StopDeployment), and reads the production split from its own control API to know when
 * a canary or a rollback has reached the data plane.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { APPLICATION, GROUP, SERVICE } from './rollback-settings.js';
import { APPSPEC, type RollbackProxy } from './rollback-switchyard.js';

/** A refusal from the CodeDeploy API, with CodeDeploy's exception name. */
export class CodeDeployError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'CodeDeployError';
  }
}

/** One CodeDeploy API call; throws a CodeDeployError when switchyard refuses it. */
export async function codeDeploy<T>(sy: RollbackProxy, op: string, body: object): Promise<T> {
  const res = await fetch(`${sy.control}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `CodeDeploy_20141006.${op}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  if (!res.ok) {
    let type = `HTTP ${res.status}`;
    try {
      type = (JSON.parse(text) as { __type?: string }).__type?.split('#').pop() ?? type;
    } catch {
      // not JSON: the status is all there is
    }
    throw new CodeDeployError(type, `${op}: ${type}: ${text.slice(0, 500)}`);
  }
  return JSON.parse(text) as T;
}

/** The part of GetDeployment's answer the scenario reads. */
export interface DeploymentInfo {
  readonly status: string;
  readonly errorInformation?: { readonly code?: string; readonly message?: string };
}

/** GetDeployment's deploymentInfo. */
export async function getDeployment(sy: RollbackProxy, deploymentId: string): Promise<DeploymentInfo> {
  return (await codeDeploy<{ deploymentInfo: DeploymentInfo }>(sy, 'GetDeployment', { deploymentId })).deploymentInfo;
}

/**
 * CreateDeployment of version 2, with the group's alarms or with them overridden off. The previous run's
 * rollback may still hold the group for a moment, so DeploymentLimitExceeded is retried briefly.
 */
export async function createDeployment(sy: RollbackProxy, alarm: boolean): Promise<string> {
  const body = {
    applicationName: APPLICATION,
    deploymentGroupName: GROUP,
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content: APPSPEC } },
    ...(!alarm && { overrideAlarmConfiguration: { enabled: false } }),
  };
  const deadline = performance.now() + 5_000;
  for (;;) {
    try {
      return (await codeDeploy<{ deploymentId: string }>(sy, 'CreateDeployment', body)).deploymentId;
    } catch (err) {
      if (!(err instanceof CodeDeployError && err.type === 'DeploymentLimitExceededException')) throw err;
      if (performance.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

/** StopDeployment with rollback, as an operator would stop a deployment no alarm stopped. */
export async function stopDeployment(sy: RollbackProxy, deploymentId: string): Promise<void> {
  await codeDeploy(sy, 'StopDeployment', { deploymentId, autoRollbackEnabled: true });
}

async function productionWeights(sy: RollbackProxy): Promise<Record<string, number>> {
  const res = await fetch(`${sy.control}/v1/services/${SERVICE}`, { signal: AbortSignal.timeout(2_000) });
  const view = (await res.json()) as { weights: { production: Record<string, number> } };
  return view.weights.production;
}

/** Polls the production split until `wanted` accepts it. */
export async function waitForWeights(
  sy: RollbackProxy,
  wanted: (w: Record<string, number>) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: Record<string, number> = {};
  while (performance.now() < deadline) {
    last = await productionWeights(sy);
    if (wanted(last)) return;
    await sleep(10);
  }
  throw new Error(`production weights never became ${what} (last ${JSON.stringify(last)})`);
}

/** The canary's split: 90% on version 1, 10% on version 2. */
export const canary = (w: Record<string, number>) => w['1'] === 90 && w['2'] === 10;
/** Everything on version 1, as before a deployment and after a rollback. */
export const allBlue = (w: Record<string, number>) => w['1'] === 100 && (w['2'] ?? 0) === 0;
