/**
 * @module codedeploy/lifecycle
 * CodeDeploy's lifecycle events per compute platform, in order, and the statuses a deployment and its
 * events move through. Names are CodeDeploy's, so records read the same through its API.
 */
import { z } from 'zod';

/** ECS blue/green: hooks around the reserved Install, AllowTestTraffic and AllowTraffic events. */
export const ECS_LIFECYCLE = [
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'AllowTestTraffic',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
] as const;

/** Lambda: hooks around the reserved AllowTraffic event. */
export const LAMBDA_LIFECYCLE = ['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'] as const;

/** Every lifecycle event name (ECS's list holds Lambda's too). */
export const LifecycleEventName = z.enum(ECS_LIFECYCLE);
export type LifecycleEventName = z.infer<typeof LifecycleEventName>;

/** Events CodeDeploy performs itself; no hook can be attached to them. */
export const RESERVED_EVENTS: ReadonlySet<LifecycleEventName> = new Set([
  'Install',
  'AllowTestTraffic',
  'AllowTraffic',
]);

/** The lifecycle of a platform, in order. */
export function lifecycleOf(platform: 'ECS' | 'Lambda'): readonly LifecycleEventName[] {
  return platform === 'ECS' ? ECS_LIFECYCLE : LAMBDA_LIFECYCLE;
}

export const DeploymentStatus = z.enum([
  'Created',
  'Queued',
  'InProgress',
  'Baking',
  'Succeeded',
  'Failed',
  'Stopped',
  'Ready',
]);
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

/** Statuses a deployment never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<DeploymentStatus> = new Set(['Succeeded', 'Failed', 'Stopped']);

/** A deployment's status as its single target shows it; a stopped target counts as failed, as in CodeDeploy. */
export function targetStatus(status: DeploymentStatus): 'Pending' | 'InProgress' | 'Ready' | 'Succeeded' | 'Failed' {
  switch (status) {
    case 'Created':
    case 'Queued':
      return 'Pending';
    case 'InProgress':
    case 'Baking':
      return 'InProgress';
    case 'Ready':
      return 'Ready';
    case 'Succeeded':
      return 'Succeeded';
    case 'Failed':
    case 'Stopped':
      return 'Failed';
  }
}

export const LifecycleEventStatus = z.enum(['Pending', 'InProgress', 'Succeeded', 'Failed', 'Skipped', 'Unknown']);
export type LifecycleEventStatus = z.infer<typeof LifecycleEventStatus>;

export const LifecycleErrorCode = z.enum([
  'Success',
  'ScriptMissing',
  'ScriptNotExecutable',
  'ScriptTimedOut',
  'ScriptFailed',
  'UnknownError',
]);
export type LifecycleErrorCode = z.infer<typeof LifecycleErrorCode>;

/** What CodeDeploy reports about one lifecycle event's outcome. */
export const Diagnostics = z.object({
  errorCode: LifecycleErrorCode,
  scriptName: z.string(),
  message: z.string(),
  logTail: z.string(),
});
export type Diagnostics = z.infer<typeof Diagnostics>;

/** The `errorInformation.code` values switchyard sets (a subset of CodeDeploy's ErrorCode enum). */
export const DeploymentErrorCode = z.enum([
  'MANUAL_STOP',
  'ALARM_ACTIVE',
  'TIMEOUT',
  'HOOK_EXECUTION_FAILURE',
  'HEALTH_CONSTRAINTS',
  'INVALID_REVISION',
  'INVALID_LAMBDA_CONFIGURATION',
  'INTERNAL_ERROR',
]);
export type DeploymentErrorCode = z.infer<typeof DeploymentErrorCode>;
