/**
 * @module shifting/deployment
 * A deployment as the engine keeps it: who asked for what, where it is in its lifecycle, and how it
 * ended. The CodeDeploy API's DeploymentInfo and DeploymentTarget are views of this record.
 */
import type { AppSpec } from '../appspec/schema.js';
import type { DeploymentConfig } from '../codedeploy/deployment-config.js';
import type {
  DeploymentErrorCode,
  DeploymentStatus,
  Diagnostics,
  LifecycleEventName,
  LifecycleEventStatus,
} from '../codedeploy/lifecycle.js';

/** CodeDeploy's AutoRollbackEvent values. */
export type AutoRollbackEvent = 'DEPLOYMENT_FAILURE' | 'DEPLOYMENT_STOP_ON_ALARM' | 'DEPLOYMENT_STOP_ON_REQUEST';

/** What a deployment is told to do, fixed when it is created. */
export interface DeploymentPlan {
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly config: DeploymentConfig;
  readonly appSpec: AppSpec;
  /** The switchyard service the deployment shifts. */
  readonly service: string;
  /** Version label live now (blue) and the one to shift to (green). */
  readonly currentVersion: string;
  readonly targetVersion: string;
  /** Every duration of this deployment (waits, intervals, hook timeouts) is divided by this. */
  readonly timeScale: number;
  /** Hook timeout before scaling, in ms (CodeDeploy's is one hour). */
  readonly hookTimeoutMs: number;
  readonly autoRollback: { readonly enabled: boolean; readonly events: readonly AutoRollbackEvent[] };
  /** ECS: wait in Ready for ContinueDeployment, at most `waitMs`, before shifting production traffic. */
  readonly readyWait: { readonly waitMs: number } | undefined;
  /** ECS: keep the original routable this long after success; `terminate` false = KEEP_ALIVE. */
  readonly termination: { readonly terminate: boolean; readonly waitMs: number } | undefined;
  /** Alarms watched while the deployment runs; absent when the group has none or they are disabled. */
  readonly alarms?: { readonly names: readonly string[]; readonly ignorePollAlarmFailure: boolean };
  /** Whether a test listener exists, so AllowTestTraffic and AfterAllowTestTraffic mean something. */
  readonly testListener: boolean;
  readonly description?: string;
  readonly creator: 'user' | 'codeDeployRollback';
}

/** One lifecycle event of a deployment. */
export interface LifecycleEventRecord {
  readonly name: LifecycleEventName;
  status: LifecycleEventStatus;
  startTime?: number;
  endTime?: number;
  diagnostics?: Diagnostics;
}

/** One entry of a deployment's timeline, as the events API and the CLI show it. */
export interface TimelineEvent {
  /** ms on the deployment's (scaled) clock, the time its API records use. */
  readonly time: number;
  /** ms of real time, so a rehearsal at a time scale can also be read in the time it really took. */
  readonly wallTime: number;
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly detail: Readonly<Record<string, unknown>>;
  /** The deployment's status after this entry. */
  readonly status: DeploymentStatus;
}

/** A timeline entry as the event stream carries it: whose, and the deployment's status after it. */
export interface DeploymentEvent extends TimelineEvent {
  readonly deploymentId: string;
}

/**
 * A deployment: its plan and its progress. Times are ms on the deployment's (scaled) clock, as CodeDeploy's
 * API reports them; `wallTimes` keeps the same instants in real time.
 */
export interface DeploymentRecord {
  readonly id: string;
  readonly plan: DeploymentPlan;
  status: DeploymentStatus;
  readonly createTime: number;
  startTime?: number;
  completeTime?: number;
  errorInformation?: { code: DeploymentErrorCode; message: string };
  rollbackInfo?: { rollbackDeploymentId?: string; rollbackTriggeringDeploymentId?: string; rollbackMessage?: string };
  readonly lifecycleEvents: LifecycleEventRecord[];
  /** Share of production traffic on the target version now, in basis points. */
  trafficWeight: number;
  /** Step of the shift schedule reached, for GetDeploymentTarget and resumption. */
  shiftStep: number;
  instanceTerminationWaitTimeStarted: boolean;
  readonly wallTimes: { readonly create: number; start?: number; complete?: number };
  /** Everything that happened, in order. */
  readonly timeline: TimelineEvent[];
  /** What the deployment is waiting for, if anything a user can end early. */
  waitingFor?: 'READY_WAIT' | 'TERMINATION_WAIT' | 'CONTINUE_STEP';
  /**
   * When the timed wait under way began (a shift step's hold, the ready or termination wait), on the
   * deployment's clock: a deployment resumed after a restart waits only what is left of it.
   */
  waitStartedAt?: number;
  /** Promoted: the rest of the shift schedule is skipped (kept, so a restart does not forget it). */
  promoted?: boolean;
}

/**
 * What becomes of a deployment that was unfinished when switchyard stopped: go on (`resume`) or roll it
 * back; and, when a hook was running, start the hook again (`rerun`) or roll back all the same.
 */
export interface RecoveryPolicy {
  readonly policy: 'resume' | 'rollback';
  readonly hookInFlight: 'rerun' | 'rollback';
}
