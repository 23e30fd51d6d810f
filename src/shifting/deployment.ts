/**
 * @module shifting/deployment
 * A deployment as the engine keeps it: who asked for what, where it is in its lifecycle, and how it
 * ended. The CodeDeploy API's DeploymentInfo and DeploymentTarget are views of this record. The schemas
 * are what a kept record is read back with after a restart, and the source of its types.
 */
import { z } from 'zod';

import { AppSpecSchema } from '../appspec/schema.js';
import { DeploymentConfig } from '../codedeploy/deployment-config-model.js';
import { AutoRollbackEvent } from '../codedeploy/deployment-group.js';
import {
  DeploymentErrorCode,
  DeploymentStatus,
  Diagnostics,
  LifecycleEventName,
  LifecycleEventStatus,
} from '../codedeploy/lifecycle.js';
import type { Config } from '../config/schema.js';

export { AutoRollbackEvent };

// A member that may be undefined is optional here: JSON leaves it out, so a kept record has no such key.

/** What a deployment is told to do, fixed when it is created. */
export const DeploymentPlan = z.object({
  applicationName: z.string(),
  deploymentGroupName: z.string(),
  config: DeploymentConfig,
  appSpec: AppSpecSchema,
  /** The switchyard service the deployment shifts. */
  service: z.string(),
  /** Version label live now (blue) and the one to shift to (green). */
  currentVersion: z.string(),
  targetVersion: z.string(),
  /** Every duration of this deployment (waits, intervals, hook timeouts) is divided by this. */
  timeScale: z.number(),
  /** Hook timeout before scaling, in ms (CodeDeploy's is one hour). */
  hookTimeoutMs: z.number(),
  autoRollback: z.object({ enabled: z.boolean(), events: z.array(AutoRollbackEvent) }),
  /** ECS: wait in Ready for ContinueDeployment, at most `waitMs`, before shifting production traffic. */
  readyWait: z.object({ waitMs: z.number() }).optional(),
  /** ECS: keep the original routable this long after success; `terminate` false = KEEP_ALIVE. */
  termination: z.object({ terminate: z.boolean(), waitMs: z.number() }).optional(),
  /** Alarms watched while the deployment runs; absent when the group has none or they are disabled. */
  alarms: z.object({ names: z.array(z.string()), ignorePollAlarmFailure: z.boolean() }).optional(),
  /** Whether a test listener exists, so AllowTestTraffic and AfterAllowTestTraffic mean something. */
  testListener: z.boolean(),
  description: z.string().optional(),
  creator: z.enum(['user', 'codeDeployRollback']),
});
export type DeploymentPlan = z.infer<typeof DeploymentPlan>;

/** One lifecycle event of a deployment. */
export const LifecycleEventRecord = z.object({
  name: LifecycleEventName,
  status: LifecycleEventStatus,
  startTime: z.number().optional(),
  endTime: z.number().optional(),
  diagnostics: Diagnostics.optional(),
});
export type LifecycleEventRecord = z.infer<typeof LifecycleEventRecord>;

/** One entry of a deployment's timeline, as the events API and the CLI show it. */
export const TimelineEvent = z.object({
  /** ms on the deployment's (scaled) clock, the time its API records use. */
  time: z.number(),
  /** ms of real time, so a rehearsal at a time scale can also be read in the time it really took. */
  wallTime: z.number(),
  level: z.enum(['info', 'warn']),
  message: z.string(),
  detail: z.record(z.string(), z.unknown()),
  /** The deployment's status after this entry. */
  status: DeploymentStatus,
});
export type TimelineEvent = z.infer<typeof TimelineEvent>;

/** A timeline entry as the event stream carries it: whose, and the deployment's status after it. */
export const DeploymentEvent = TimelineEvent.extend({ deploymentId: z.string() });
export type DeploymentEvent = z.infer<typeof DeploymentEvent>;

/**
 * A deployment: its plan and its progress. Times are ms on the deployment's (scaled) clock, as CodeDeploy's
 * API reports them; `wallTimes` keeps the same instants in real time.
 */
export const DeploymentRecord = z.object({
  id: z.string(),
  plan: DeploymentPlan,
  status: DeploymentStatus,
  createTime: z.number(),
  startTime: z.number().optional(),
  completeTime: z.number().optional(),
  errorInformation: z.object({ code: DeploymentErrorCode, message: z.string() }).optional(),
  rollbackInfo: z
    .object({
      rollbackDeploymentId: z.string().optional(),
      rollbackTriggeringDeploymentId: z.string().optional(),
      rollbackMessage: z.string().optional(),
    })
    .optional(),
  lifecycleEvents: z.array(LifecycleEventRecord),
  /** Share of production traffic on the target version now, in basis points. */
  trafficWeight: z.number(),
  /** Step of the shift schedule reached, for GetDeploymentTarget and resumption. */
  shiftStep: z.number(),
  instanceTerminationWaitTimeStarted: z.boolean(),
  wallTimes: z.object({ create: z.number(), start: z.number().optional(), complete: z.number().optional() }),
  /** Everything that happened, in order. */
  timeline: z.array(TimelineEvent),
  /** What the deployment is waiting for, if anything a user can end early. */
  waitingFor: z.enum(['READY_WAIT', 'TERMINATION_WAIT', 'CONTINUE_STEP']).optional(),
  /**
   * When the timed wait under way began (a shift step's hold, the ready or termination wait), on the
   * deployment's clock: a deployment resumed after a restart waits only what is left of it.
   */
  waitStartedAt: z.number().optional(),
  /** Promoted: the rest of the shift schedule is skipped (kept, so a restart does not forget it). */
  promoted: z.boolean().optional(),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecord>;

/**
 * What becomes of a deployment that was unfinished when switchyard stopped: go on (`resume`) or roll it
 * back; and, when a hook was running, start the hook again (`rerun`) or roll back all the same.
 */
export type RecoveryPolicy = Config['recovery'];
