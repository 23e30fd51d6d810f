/**
 * @module notify/events
 * Which trigger events a deployment's status change fires. Pure: the caller remembers the status it
 * saw last; the outbox key makes a repeat harmless, so a status seen again after a restart fires nothing new.
 */
import type { DeploymentStatus } from '../codedeploy/lifecycle.js';
import type { DeploymentEventType } from '../codedeploy/triggers.js';
import type { DeploymentRecord } from '../shifting/ports.js';

/** Statuses a deployment has before it starts. */
const NOT_STARTED: ReadonlySet<DeploymentStatus | undefined> = new Set([undefined, 'Created', 'Queued']);

/**
 * The events `record`'s status fires, given the status seen before (undefined: never seen).
 *
 * A rollback deployment (creator `codeDeployRollback`) fires DeploymentRollback in place of
 * DeploymentStart and DeploymentSuccess: CodeDeploy's rollback is a new deployment, and it is that one
 * that "fires the DeploymentRollback trigger" (its id is the payload's deploymentId). The deployment it
 * rolled back has already fired its own DeploymentFailure or DeploymentStop. A rollback that itself
 * fails or stops fires those as any deployment would.
 */
export function triggerEventsFor(
  previous: DeploymentStatus | undefined,
  record: DeploymentRecord,
): DeploymentEventType[] {
  const status = record.status;
  if (status === previous) return [];
  const rollback = record.plan.creator === 'codeDeployRollback';
  switch (status) {
    case 'InProgress':
      // Back from Ready (ContinueDeployment) is not a second start.
      if (!NOT_STARTED.has(previous)) return [];
      return [rollback ? 'DeploymentRollback' : 'DeploymentStart'];
    case 'Ready':
      return ['DeploymentReady'];
    case 'Succeeded':
      // A rollback seen only once it ended (the engine records switchyard's instant rollback that way).
      return [rollback ? 'DeploymentRollback' : 'DeploymentSuccess'];
    case 'Failed':
      return [...rollbackNotYetSent(previous, rollback), 'DeploymentFailure'];
    case 'Stopped':
      return [...rollbackNotYetSent(previous, rollback), 'DeploymentStop'];
    default:
      return [];
  }
}

/** A rollback deployment seen first when it already ended still says that it rolled back. */
function rollbackNotYetSent(previous: DeploymentStatus | undefined, rollback: boolean): DeploymentEventType[] {
  return rollback && NOT_STARTED.has(previous) ? ['DeploymentRollback'] : [];
}
