/**
 * @module api/rest/deployment-views
 * What `GET /v1/deployments` and `GET /v1/deployments/:id` show of a deployment record: the list's
 * summary (weights in percent, the plan's names flattened) and the detail beside it. Pure, so that a
 * record kept by the store reads the same after a restart as it did while it ran.
 */
import type { DeploymentRecord } from '../../shifting/ports.js';
import type { DeploymentAnswer, DeploymentSummary } from './wire.js';

/** Basis points per percent: the record keeps weights in basis points, the API speaks percent. */
const BASIS_POINTS_PER_PERCENT = 100;

/** A deployment as a list shows it. */
export function summaryOf(record: DeploymentRecord): DeploymentSummary {
  const { plan } = record;
  return {
    deploymentId: record.id,
    applicationName: plan.applicationName,
    deploymentGroupName: plan.deploymentGroupName,
    service: plan.service,
    currentVersion: plan.currentVersion,
    targetVersion: plan.targetVersion,
    status: record.status,
    creator: plan.creator,
    deploymentConfigName: plan.config.name,
    timeScale: plan.timeScale,
    createTime: record.createTime,
    ...(record.startTime !== undefined && { startTime: record.startTime }),
    ...(record.completeTime !== undefined && { completeTime: record.completeTime }),
    wallTimes: { ...record.wallTimes },
    trafficWeight: record.trafficWeight / BASIS_POINTS_PER_PERCENT,
    ...(record.errorInformation && { errorInformation: { ...record.errorInformation } }),
    ...(record.rollbackInfo && { rollbackInfo: { ...record.rollbackInfo } }),
  };
}

/** A deployment as its own page shows it: the summary, its lifecycle, its alarms and what it waits for. */
export function detailOf(record: DeploymentRecord): DeploymentAnswer {
  const { plan } = record;
  return {
    ...summaryOf(record),
    lifecycleEvents: record.lifecycleEvents.map((e) => ({ ...e })),
    alarms: plan.alarms
      ? { names: [...plan.alarms.names], ignorePollAlarmFailure: plan.alarms.ignorePollAlarmFailure }
      : null,
    ...(record.waitingFor !== undefined && { waitingFor: record.waitingFor }),
    ...(record.promoted !== undefined && { promoted: record.promoted }),
    ...(plan.description !== undefined && { description: plan.description }),
  };
}

/** Which deployments a list shows: of an application and/or a group (by name), newest first, at most `limit`. */
export interface DeploymentFilter {
  readonly application?: string | undefined;
  readonly group?: string | undefined;
  readonly limit: number;
}

/** The records `filter` selects from `records` (oldest first, as the engine lists them), newest first. */
export function selectDeployments(records: readonly DeploymentRecord[], filter: DeploymentFilter): DeploymentRecord[] {
  const out: DeploymentRecord[] = [];
  for (let i = records.length - 1; i >= 0 && out.length < filter.limit; i--) {
    const r = records[i]!;
    if (filter.application !== undefined && r.plan.applicationName !== filter.application) continue;
    if (filter.group !== undefined && r.plan.deploymentGroupName !== filter.group) continue;
    out.push(r);
  }
  return out;
}
