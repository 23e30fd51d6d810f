/**
 * @module cli/commands/view
 * Reads a deployment and its one target over the CodeDeploy protocol and formats them for people. The
 * versions, weights and lifecycle events live on the target, not on the deployment, so both are read.
 */
import type {
  DeploymentInfo,
  GetDeploymentAnswer,
  GetDeploymentTargetAnswer,
  LifecycleEvent,
  ListDeploymentTargetsAnswer,
} from '../../api/codedeploy/answers.js';
import { codedeploy, type Endpoint, isRemoteError } from './client.js';

/** What the target says: the original and replacement version labels, the replacement's share, the events. */
export interface TargetView {
  readonly original?: string;
  readonly replacement?: string;
  /** Percent of production traffic on the replacement. */
  readonly weight?: number;
  readonly events: readonly LifecycleEvent[];
}

/** The statuses a deployment ends in. */
export const TERMINAL: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Stopped']);

/** GetDeployment: the deployment's DeploymentInfo. */
export async function getDeployment(endpoint: Endpoint, id: string): Promise<DeploymentInfo> {
  const { deploymentInfo } = await codedeploy<GetDeploymentAnswer>(endpoint, 'GetDeployment', {
    deploymentId: id,
  });
  return deploymentInfo;
}

/** The deployment's one target id, or undefined while it has not started (it has no target yet). */
export async function targetIdOf(endpoint: Endpoint, id: string): Promise<string | undefined> {
  try {
    const { targetIds } = await codedeploy<ListDeploymentTargetsAnswer>(endpoint, 'ListDeploymentTargets', {
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

/** GetDeploymentTarget, as the versions, the replacement's share and the lifecycle events. */
export async function getTarget(endpoint: Endpoint, id: string, targetId: string): Promise<TargetView> {
  const { deploymentTarget: t } = await codedeploy<GetDeploymentTargetAnswer>(endpoint, 'GetDeploymentTarget', {
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

/** A percentage to at most two decimals (`12.5%`), or `-` when unknown. */
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

/** CodeDeploy's epoch seconds as an ISO 8601 time, or `-` when absent. */
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
  lines.push(
    `created     ${isoTime(info.createTime)}${info.creator && info.creator !== 'user' ? ` by ${info.creator}` : ''}`,
  );
  if (info.completeTime !== undefined) lines.push(`completed   ${isoTime(info.completeTime)}`);
  if (target?.events.length) {
    lines.push('events');
    for (const e of target.events) {
      const d = e.diagnostics;
      // Successful events carry diagnostics too ("Success"); only a problem is worth a reader's attention.
      const why =
        d?.errorCode && d.errorCode !== 'Success'
          ? `  (${[d.errorCode, d.scriptName, d.message].filter(Boolean).join(': ')})`
          : '';
      lines.push(`  ${e.lifecycleEventName.padEnd(22)} ${e.status ?? '-'}${why}`);
      // What a failed hook printed is usually the answer to "why".
      if (why && d?.logTail) for (const line of d.logTail.split('\n')) lines.push(`      | ${line}`);
    }
  }
  lines.push(...outcomeLines(info));
  return lines;
}
