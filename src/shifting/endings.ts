/**
 * @module shifting/endings
 * How a deployment ends: success (after the termination wait), or stopped or failed, with traffic left
 * where it is, returned to the original version, or rolled back (which CodeDeploy shows as a deployment
 * of its own). Each ending is one atomic step, so a crash never keeps half of one.
 */
import type { DeploymentErrorCode } from '../codedeploy/lifecycle.js';
import { deploymentId } from '../core/ids.js';
import { FULL_WEIGHT } from '../core/route-table.js';
import { type EngineContext, SUCCESS } from './engine-context.js';
import type { AutoRollbackEvent, DeploymentPlan, DeploymentRecord } from './ports.js';
import type { Run } from './run.js';

/** Whether the plan's automatic rollback covers `event`. */
export function wantsRollback(plan: DeploymentPlan, event: AutoRollbackEvent): boolean {
  return plan.autoRollback.enabled && plan.autoRollback.events.includes(event);
}

/** After success on ECS: keep the original routable for the termination wait, then retire it. */
export async function terminationWait(ctx: EngineContext, run: Run): Promise<void> {
  const { record } = run;
  const termination = record.plan.termination;
  if (record.plan.appSpec.platform !== 'ECS' || !termination?.terminate) return;
  if (termination.waitMs > 0) {
    const resumed = record.instanceTerminationWaitTimeStarted;
    record.instanceTerminationWaitTimeStarted = true;
    record.waitingFor = 'TERMINATION_WAIT';
    if (!resumed) {
      ctx.note(run, 'info', 'termination wait: the original stays routable for a rollback', {
        waitMs: termination.waitMs,
      });
    }
    await run.hold(termination.waitMs, (r) => ctx.changed(r));
    record.waitingFor = undefined;
  }
}

/** Ends a deployment as Succeeded: the target version live on every listener, the original retired. */
export function succeed(ctx: EngineContext, run: Run): void {
  ctx.atomically(() => succeedNow(ctx, run));
}

function succeedNow(ctx: EngineContext, run: Run): void {
  const { record, clock } = run;
  const plan = record.plan;
  ctx.deps.traffic.setLive(plan.service, plan.targetVersion);
  ctx.deps.alarms?.unwatch(record.id);
  endShifting(ctx, record);
  record.status = 'Succeeded';
  record.completeTime = clock.now();
  record.wallTimes.complete = ctx.deps.clock.now();
  ctx.runs.delete(record.id);
  ctx.note(run, 'info', 'deployment succeeded');
  if (plan.termination?.terminate !== false) void ctx.launcher.retire(plan.service, plan.currentVersion);
}

/**
 * Ends a deployment as Stopped or Failed. `traffic` true rolls back: traffic returns to the original
 * version in this same turn, before anything else happens, and a rollback deployment records it;
 * 'restore' returns traffic and retires the replacement without a rollback record; false leaves both.
 */
export function halt(
  ctx: EngineContext,
  run: Run,
  status: 'Stopped' | 'Failed',
  code: DeploymentErrorCode,
  message: string,
  traffic: boolean | 'restore',
): void {
  // Everything an ending writes (traffic, the rollback record, this one) is kept all or none.
  ctx.atomically(() => endRun(ctx, run, status, code, message, traffic));
  if (traffic === false) return;
  // The table left for every data plane in this turn; the log says when the last one routed by it.
  const decided = ctx.deps.clock.now();
  void ctx.deps.traffic
    .applied()
    .then(() =>
      run.log.info({ ms: ctx.deps.clock.now() - decided }, 'traffic back on the original on every data plane'),
    );
}

/** {@link halt}'s body, inside the journal's transaction. */
const endRun: typeof halt = (ctx, run, status, code, message, traffic) => {
  const { record, clock } = run;
  const rollback = traffic === true;
  // Traffic first, in this same turn: a rollback is only as fast as this line.
  if (traffic !== false) returnTraffic(ctx, record);
  ctx.deps.alarms?.unwatch(record.id);
  endShifting(ctx, record);
  run.abort.abort();
  ctx.runs.delete(record.id);
  const now = clock.now();
  for (const event of record.lifecycleEvents) {
    if (event.status === 'InProgress') {
      event.status = 'Failed';
      event.endTime = now;
      event.diagnostics ??= { errorCode: 'UnknownError', scriptName: '', message, logTail: '' };
    } else if (event.status === 'Pending') {
      event.status = 'Skipped';
    }
  }
  record.status = status;
  record.waitingFor = undefined;
  record.waitStartedAt = undefined;
  record.completeTime = now;
  record.wallTimes.complete = ctx.deps.clock.now();
  record.errorInformation = { code, message };
  if (rollback) recordRollback(ctx, run, message);
  else if (traffic === 'restore') void ctx.launcher.retire(record.plan.service, record.plan.targetVersion);
  ctx.note(run, 'warn', status === 'Failed' ? 'deployment failed' : 'deployment stopped', {
    code,
    message,
    rollback,
    ...(record.rollbackInfo?.rollbackDeploymentId && {
      rollbackDeploymentId: record.rollbackInfo.rollbackDeploymentId,
    }),
  });
};

/** The shift's routing options (retry on the original, mirroring) off: the service is no longer between versions. */
function endShifting(ctx: EngineContext, record: DeploymentRecord): void {
  const { traffic } = ctx.deps;
  const service = record.plan.service;
  if (traffic.isShifting(service)) traffic.setShifting(service, undefined);
  traffic.setMirroring(service, undefined);
}

/** Production and test listeners back on the original version. */
function returnTraffic(ctx: EngineContext, record: DeploymentRecord): void {
  const plan = record.plan;
  const { traffic } = ctx.deps;
  traffic.setWeights(plan.service, { [plan.currentVersion]: 100 }, 'production');
  if (plan.testListener) traffic.setWeights(plan.service, { [plan.currentVersion]: 100 }, 'test');
  record.trafficWeight = 0;
}

/** The rollback as CodeDeploy shows it: a new deployment of the original version, cross-linked. */
function recordRollback(ctx: EngineContext, run: Run, reason: string): void {
  const failed = run.record;
  const plan = failed.plan;
  // The rollback is instant and runs at no time scale: its times are real ones, so it sorts among
  // deployments created later by when it really happened.
  const now = ctx.deps.clock.now();
  const rollback: DeploymentRecord = {
    id: deploymentId(),
    plan: {
      ...plan,
      currentVersion: plan.targetVersion,
      targetVersion: plan.currentVersion,
      creator: 'codeDeployRollback',
    },
    status: 'Succeeded',
    createTime: now,
    startTime: now,
    completeTime: now,
    lifecycleEvents: [
      { name: 'AllowTraffic', status: 'Succeeded', startTime: now, endTime: now, diagnostics: SUCCESS },
    ],
    trafficWeight: FULL_WEIGHT,
    shiftStep: 0,
    instanceTerminationWaitTimeStarted: false,
    rollbackInfo: { rollbackTriggeringDeploymentId: failed.id },
    wallTimes: { create: now, start: now, complete: now },
    timeline: [
      {
        time: now,
        wallTime: now,
        level: 'warn',
        message: 'traffic returned to the original version',
        detail: { version: plan.currentVersion, rollbackTriggeringDeploymentId: failed.id },
        status: 'Succeeded',
      },
    ],
  };
  failed.rollbackInfo = {
    rollbackDeploymentId: rollback.id,
    rollbackMessage: `Rolled back to version ${plan.currentVersion}: ${reason}`,
  };
  ctx.records.set(rollback.id, rollback);
  ctx.changed(rollback);
  void ctx.launcher.retire(plan.service, plan.targetVersion);
}
