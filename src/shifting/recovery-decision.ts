/**
 * @module shifting/recovery-decision
 * What becomes of a deployment that was unfinished when switchyard stopped, decided from its kept record,
 * the recovery policy and the versions the config has now, with no side effect: the engine's restore
 * carries the decision out.
 */
import { type LifecycleEventName, RESERVED_EVENTS } from '../codedeploy/lifecycle.js';
import type { DeploymentRecord, RecoveryPolicy } from './ports.js';

/** What restore does with one unfinished deployment. */
export type RecoveryDecision =
  /** The config no longer has its service or a version it names: it fails, traffic left where it is. */
  | { readonly action: 'fail'; readonly message: string }
  /** Nothing had happened yet (Created): it starts as it would have. */
  | { readonly action: 'start' }
  /**
   * The policy rolls it back: it fails with `message`; `traffic` true returns traffic with a rollback
   * record (traffic had moved), 'restore' returns it and retires the replacement without one.
   */
  | {
      readonly action: 'rollback';
      readonly message: string;
      /** The hook that was running, if any (whether or not the policy rolls back for it). */
      readonly hook: LifecycleEventName | undefined;
      readonly traffic: true | 'restore';
    }
  /** It goes on from where it was; `shifting`: it was in AllowTraffic, so the shift's routing options go back on. */
  | { readonly action: 'resume'; readonly shifting: boolean };

/**
 * Decides what restore does with an unfinished kept `record` under `recovery`; `versions` are the
 * version labels the config has now for the record's service (undefined: the service is gone).
 */
export function recoveryDecision(
  record: DeploymentRecord,
  recovery: RecoveryPolicy,
  versions: ReadonlySet<string> | undefined,
): RecoveryDecision {
  const missing = missingVersion(record, versions);
  if (missing) return { action: 'fail', message: `cannot recover after a restart: ${missing}` };
  if (record.status === 'Created') return { action: 'start' };
  const hook = hookInFlight(record);
  if (recovery.policy === 'rollback' || (hook !== undefined && recovery.hookInFlight === 'rollback')) {
    const why =
      recovery.policy === 'rollback'
        ? 'its recovery policy is rollback'
        : `its ${hook} hook was running and the recovery policy for that is rollback`;
    return {
      action: 'rollback',
      message: `switchyard restarted while the deployment ran, and ${why}`,
      hook,
      traffic: trafficMoved(record) || 'restore',
    };
  }
  return {
    action: 'resume',
    shifting: record.lifecycleEvents.some((e) => e.name === 'AllowTraffic' && e.status !== 'Pending'),
  };
}

/** Whether a deployment has sent any traffic, test or production, to its replacement yet. */
export function trafficMoved(record: DeploymentRecord): boolean {
  return (
    record.trafficWeight > 0 ||
    record.lifecycleEvents.some(
      (e) => e.name === 'AllowTestTraffic' && (e.status === 'InProgress' || e.status === 'Succeeded'),
    )
  );
}

/** The hook lifecycle event a kept record was running, if any. */
function hookInFlight(record: DeploymentRecord): LifecycleEventName | undefined {
  const running = record.lifecycleEvents.find((e) => e.status === 'InProgress' && !RESERVED_EVENTS.has(e.name));
  return running && record.plan.appSpec.hooks.some((h) => h.event === running.name) ? running.name : undefined;
}

/** Why a kept plan no longer fits this config (its service or a version was removed), if it does not. */
function missingVersion(record: DeploymentRecord, versions: ReadonlySet<string> | undefined): string | undefined {
  const plan = record.plan;
  if (!versions) return `service ${plan.service} is no longer configured`;
  const gone = [plan.currentVersion, plan.targetVersion].filter((v) => !versions.has(v));
  return gone.length === 0 ? undefined : `service ${plan.service} has no version ${gone.join(' or ')} any more`;
}
