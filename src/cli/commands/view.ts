/**
 * @module cli/commands/view
 * Reads a deployment and its one target over the CodeDeploy protocol and formats them for people. The
 * versions, weights and lifecycle events live on the target, not on the deployment, so both are read.
 */
import { codedeploy, type Endpoint, isRemoteError } from './client.js';

export interface DeploymentInfo {
  readonly deploymentId: string;
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  readonly deploymentConfigName?: string;
  readonly status: string;
  readonly description?: string;
  readonly creator?: string;
  readonly createTime?: number;
  readonly completeTime?: number;
  readonly errorInformation?: { readonly code?: string; readonly message?: string };
  readonly rollbackInfo?: {
    readonly rollbackDeploymentId?: string;
    readonly rollbackTriggeringDeploymentId?: string;
    readonly rollbackMessage?: string;
  };
}

interface LifecycleEvent {
  readonly lifecycleEventName: string;
  readonly status?: string;
  readonly startTime?: number;
  readonly endTime?: number;
  readonly diagnostics?: {
    readonly errorCode?: string;
    readonly message?: string;
    readonly scriptName?: string;
    /** The last lines a hook or a task printed. */
    readonly logTail?: string;
  };
}

interface TargetAnswer {
  readonly deploymentTarget?: {
    readonly ecsTarget?: {
      readonly lifecycleEvents?: LifecycleEvent[];
      readonly taskSetsInfo?: { identifer?: string; trafficWeight?: number; taskSetLabel?: string }[];
    };
    readonly lambdaTarget?: {
      readonly lifecycleEvents?: LifecycleEvent[];
      readonly lambdaFunctionInfo?: { currentVersion?: string; targetVersion?: string; targetVersionWeight?: number };
    };
  };
}

/** What the target says: the original and replacement version labels, the replacement's share, the events. */
export interface TargetView {
  readonly original?: string;
  readonly replacement?: string;
  /** Percent of production traffic on the replacement. */
  readonly weight?: number;
  readonly events: readonly LifecycleEvent[];
}

export const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped']);

export async function getDeployment(endpoint: Endpoint, id: string): Promise<DeploymentInfo> {
  const { deploymentInfo } = await codedeploy<{ deploymentInfo: DeploymentInfo }>(endpoint, 'GetDeployment', {
    deploymentId: id,
  });
  return deploymentInfo;
}

/** The deployment's one target id, or undefined while it has not started (it has no target yet). */
export async function targetIdOf(endpoint: Endpoint, id: string): Promise<string | undefined> {
  try {
    const { targetIds } = await codedeploy<{ targetIds?: string[] }>(endpoint, 'ListDeploymentTargets', {
      deploymentId: id,
    });
    return targetIds?.[0];
  } catch (err) {
    if (isRemoteError(err, 'DeploymentNotStartedException')) return undefined;
    throw err;
  }
}

/** ECS task set identifiers are `<service>/<label>`; the label is what the config and the REST API use. */
function labelOf(identifier: string | undefined): string | undefined {
  return identifier === undefined ? undefined : identifier.slice(identifier.indexOf('/') + 1);
}

export async function getTarget(endpoint: Endpoint, id: string, targetId: string): Promise<TargetView> {
  const { deploymentTarget: t } = await codedeploy<TargetAnswer>(endpoint, 'GetDeploymentTarget', {
    deploymentId: id,
    targetId,
  });
  if (t?.lambdaTarget) {
    const info = t.lambdaTarget.lambdaFunctionInfo;
    return {
      original: info?.currentVersion,
      replacement: info?.targetVersion,
      weight: info?.targetVersionWeight,
      events: t.lambdaTarget.lifecycleEvents ?? [],
    };
  }
  const sets = t?.ecsTarget?.taskSetsInfo ?? [];
  const blue = sets.find((s) => s.taskSetLabel === 'Blue');
  const green = sets.find((s) => s.taskSetLabel === 'Green');
  return {
    original: labelOf(blue?.identifer),
    replacement: labelOf(green?.identifer),
    weight: green?.trafficWeight,
    events: t?.ecsTarget?.lifecycleEvents ?? [],
  };
}

/** The event a person would call "current": the one running, else the last one that got anywhere. */
export function currentEvent(target: TargetView | undefined): string | undefined {
  const events = target?.events ?? [];
  const running = events.find((e) => e.status === 'InProgress');
  if (running) return running.lifecycleEventName;
  return events.filter((e) => e.status !== 'Pending' && e.status !== 'Skipped').at(-1)?.lifecycleEventName;
}

export function formatWeight(weight: number | undefined): string {
  return weight === undefined ? '-' : `${Number(weight.toFixed(2))}%`;
}

/** One progress line: status, current lifecycle event, the replacement's share. */
export function progressLine(info: DeploymentInfo, target: TargetView | undefined): string {
  const event = currentEvent(target);
  const waiting = info.status === 'Ready' ? ' (waiting: switchyard continue ' + info.deploymentId + ')' : '';
  const version = target?.replacement === undefined ? '' : ` on version ${target.replacement}`;
  return `${info.deploymentId} ${info.status}${waiting}  event ${event ?? '-'}  weight ${formatWeight(target?.weight)}${version}`;
}

export function isoTime(seconds: number | undefined): string {
  return seconds === undefined ? '-' : new Date(seconds * 1000).toISOString();
}

/** Error and rollback lines, shared by `status` and the end of `deploy --wait`. */
export function outcomeLines(info: DeploymentInfo): string[] {
  const lines: string[] = [];
  const error = info.errorInformation;
  if (error) lines.push(`error       ${[error.code, error.message].filter(Boolean).join(': ')}`);
  const rb = info.rollbackInfo;
  if (rb?.rollbackDeploymentId) lines.push(`rollback    rolled back by ${rb.rollbackDeploymentId}`);
  if (rb?.rollbackTriggeringDeploymentId) lines.push(`rollback    rolls back ${rb.rollbackTriggeringDeploymentId}`);
  if (rb?.rollbackMessage) lines.push(`            ${rb.rollbackMessage}`);
  return lines;
}

/** A short human summary of a deployment. */
export function summary(info: DeploymentInfo, target: TargetView | undefined): string[] {
  const lines = [
    `${info.deploymentId}  ${info.status}`,
    `app/group   ${info.applicationName ?? '-'} / ${info.deploymentGroupName ?? '-'}`,
    `config      ${info.deploymentConfigName ?? '-'}`,
  ];
  if (info.description) lines.push(`description ${info.description}`);
  if (target) {
    lines.push(
      `versions    ${target.original ?? '-'} → ${target.replacement ?? '-'} (${formatWeight(target.weight)} on ${target.replacement ?? 'replacement'})`,
    );
  }
  lines.push(`created     ${isoTime(info.createTime)}${info.creator && info.creator !== 'user' ? ` by ${info.creator}` : ''}`);
  if (info.completeTime !== undefined) lines.push(`completed   ${isoTime(info.completeTime)}`);
  if (target?.events.length) {
    lines.push('events');
    for (const e of target.events) {
      const d = e.diagnostics;
      // Successful events carry diagnostics too ("Success"); only a problem is worth a reader's attention.
      const why = d?.errorCode && d.errorCode !== 'Success' ? `  (${[d.errorCode, d.scriptName, d.message].filter(Boolean).join(': ')})` : '';
      lines.push(`  ${e.lifecycleEventName.padEnd(22)} ${e.status ?? '-'}${why}`);
      // What a failed hook printed is usually the answer to "why".
      if (why && d?.logTail) for (const line of d.logTail.split('\n')) lines.push(`      | ${line}`);
    }
  }
  lines.push(...outcomeLines(info));
  return lines;
}
