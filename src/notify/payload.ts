/**
 * @module notify/payload
 * What a trigger posts: CodeDeploy's deployment-based trigger JSON (the message its SNS topic would
 * carry), or a one-line Slack message. Built once, when the notification is queued, so every retry sends
 * the same bytes and a restart sends what was queued.
 */
import { targetStatus } from '../codedeploy/lifecycle.js';
import type { DeploymentEventType, TriggerFormat } from '../codedeploy/triggers.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../core/aws-identity.js';
import type { DeploymentRecord } from '../shifting/ports.js';

/** CodeDeploy's trigger message for a deployment event; every value is a string, as CodeDeploy sends it. */
export interface CodeDeployTriggerPayload {
  readonly region: string;
  readonly accountId: string;
  readonly eventTriggerName: string;
  readonly applicationName: string;
  readonly deploymentId: string;
  readonly deploymentGroupName: string;
  readonly createTime: string;
  readonly completeTime?: string;
  readonly deploymentOverview: Readonly<Record<'Failed' | 'InProgress' | 'Pending' | 'Skipped' | 'Succeeded', string>>;
  readonly status: string;
  readonly errorInformation?: { readonly ErrorCode: string; readonly ErrorMessage: string };
}

/** Epoch ms → CodeDeploy's epoch seconds as a string, to the millisecond (`"1446744188.595"`). */
export function epochSecondsText(ms: number): string {
  return (Math.round(ms) / 1000).toFixed(3);
}

/**
 * The trigger JSON of `record` for trigger `triggerName`. The overview counts the deployment's one
 * target; the message has no `Ready` count, so a target waiting in Ready counts as in progress.
 */
export function codedeployPayload(record: DeploymentRecord, triggerName: string): CodeDeployTriggerPayload {
  const plan = record.plan;
  const overview = { Failed: '0', InProgress: '0', Pending: '0', Skipped: '0', Succeeded: '0' };
  const target = targetStatus(record.status);
  overview[target === 'Ready' ? 'InProgress' : target] = '1';
  return {
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    eventTriggerName: triggerName,
    applicationName: plan.applicationName,
    deploymentId: record.id,
    deploymentGroupName: plan.deploymentGroupName,
    // Real times, not the deployment's scaled ones: a receiver reads them as when things happened.
    createTime: epochSecondsText(record.wallTimes.create),
    ...(record.wallTimes.complete !== undefined && { completeTime: epochSecondsText(record.wallTimes.complete) }),
    deploymentOverview: overview,
    status: record.status,
    ...(record.errorInformation && {
      errorInformation: { ErrorCode: record.errorInformation.code, ErrorMessage: record.errorInformation.message },
    }),
  };
}

const EMOJI: Readonly<Record<DeploymentEventType, string>> = {
  DeploymentStart: ':rocket:',
  DeploymentReady: ':hourglass_flowing_sand:',
  DeploymentSuccess: ':white_check_mark:',
  DeploymentFailure: ':x:',
  DeploymentStop: ':octagonal_sign:',
  DeploymentRollback: ':leftwards_arrow_with_hook:',
};

/**
 * A Slack incoming-webhook message, one line: e.g.
 * `:white_check_mark: web/web-prod d-7K2QX9TLB DeploymentSuccess — 1 → 2 (CodeDeployDefault.ECSAllAtOnce)`.
 */
export function slackPayload(record: DeploymentRecord, event: DeploymentEventType): { text: string } {
  const plan = record.plan;
  const parts = [
    `${EMOJI[event]} ${plan.applicationName}/${plan.deploymentGroupName} ${record.id} ${event}`,
    `— ${plan.currentVersion} → ${plan.targetVersion} (${plan.config.name})`,
  ];
  const triggering = record.rollbackInfo?.rollbackTriggeringDeploymentId;
  if (triggering) parts.push(`— rolled back ${triggering}`);
  if (record.errorInformation) parts.push(`— ${record.errorInformation.code}: ${record.errorInformation.message}`);
  const rolledBackBy = record.rollbackInfo?.rollbackDeploymentId;
  if (rolledBackBy) parts.push(`— rolled back by ${rolledBackBy}`);
  return { text: parts.join(' ') };
}

/** The body a trigger of `format` posts for `event` of `record`. */
export function triggerPayload(
  format: TriggerFormat,
  record: DeploymentRecord,
  event: DeploymentEventType,
  triggerName: string,
): CodeDeployTriggerPayload | { text: string } {
  return format === 'slack' ? slackPayload(record, event) : codedeployPayload(record, triggerName);
}
