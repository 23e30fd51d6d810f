/**
 * @module api/codedeploy/answers
 * What the CodeDeploy operations a client reads more of than an id answer with, typed once: shapes.ts
 * and the operations build them, the CLI reads them. Members are CodeDeploy's, as its API reference
 * names them (including its misspelt `identifer`); timestamps are epoch seconds; a member with no value
 * is absent, never null. The CLI reads them defensively all the same, as it may talk to another version.
 */
import type {
  AlarmConfiguration,
  AutoRollbackConfiguration,
  BlueGreenDeploymentConfiguration,
  DeploymentStyle,
  LoadBalancerInfo,
} from '../../codedeploy/deployment-group.js';
import type {
  DeploymentStatus,
  Diagnostics,
  LifecycleEventName,
  LifecycleEventStatus,
  targetStatus,
} from '../../codedeploy/lifecycle.js';
import type { DeploymentPlan, DeploymentRecord } from '../../shifting/ports.js';

/** A deployment target's status (CodeDeploy's TargetStatus), as its deployment's status maps to it. */
export type TargetStatus = ReturnType<typeof targetStatus>;

/** CodeDeploy's DeploymentInfo, of GetDeployment and BatchGetDeployments. */
export interface DeploymentInfo {
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly deploymentConfigName: string;
  readonly deploymentId: string;
  /** The RevisionLocation of the group's last successful deployment, as it was sent. */
  readonly previousRevision?: unknown;
  /** The RevisionLocation as it was sent, with its sha256. */
  readonly revision?: unknown;
  readonly status: DeploymentStatus;
  readonly errorInformation?: DeploymentRecord['errorInformation'];
  readonly createTime: number;
  readonly startTime?: number;
  readonly completeTime?: number;
  /** The deployment's targets by status: its one target, under its status. */
  readonly deploymentOverview: Readonly<Record<TargetStatus | 'Skipped', number>>;
  readonly description?: string;
  /** `user`, or `codeDeployRollback` for a deployment that rolls another back. */
  readonly creator: DeploymentPlan['creator'];
  readonly ignoreApplicationStopFailures: boolean;
  readonly autoRollbackConfiguration: AutoRollbackConfiguration;
  readonly updateOutdatedInstancesOnly: boolean;
  readonly rollbackInfo?: DeploymentRecord['rollbackInfo'];
  readonly deploymentStyle: DeploymentStyle;
  readonly instanceTerminationWaitTimeStarted: boolean;
  readonly blueGreenDeploymentConfiguration?: BlueGreenDeploymentConfiguration;
  readonly loadBalancerInfo?: LoadBalancerInfo;
  readonly computePlatform: 'ECS' | 'Lambda';
  readonly overrideAlarmConfiguration?: AlarmConfiguration;
}

/** One lifecycle event of a deployment target. */
export interface LifecycleEvent {
  readonly lifecycleEventName: LifecycleEventName;
  /** What happened, with the last lines a hook or a task printed (`logTail`). */
  readonly diagnostics?: Diagnostics;
  readonly startTime?: number;
  readonly endTime?: number;
  readonly status: LifecycleEventStatus;
}

/** What an ECS and a Lambda target have in common. */
interface TargetCommon {
  readonly deploymentId: string;
  readonly targetId: string;
  readonly targetArn: string;
  readonly status: TargetStatus;
  readonly lastUpdatedAt: number;
  readonly lifecycleEvents: readonly LifecycleEvent[];
}

/** One task set of an ECS target: the original version (Blue) or the replacement (Green). */
export interface EcsTaskSet {
  /** `<service>/<version label>`. */
  readonly identifer: string;
  readonly desiredCount: number;
  readonly pendingCount: number;
  readonly runningCount: number;
  readonly status: 'PRIMARY' | 'ACTIVE';
  /** Percent of production traffic. */
  readonly trafficWeight: number;
  readonly targetGroup?: { readonly name: string };
  readonly taskSetLabel: 'Blue' | 'Green';
}

/** An ECS deployment's target: `<cluster>:<service>`. */
export interface EcsTarget extends TargetCommon {
  readonly taskSetsInfo: readonly EcsTaskSet[];
}

/** A Lambda deployment's target: the function, its versions, and the replacement's share. */
export interface LambdaTarget extends TargetCommon {
  readonly lambdaFunctionInfo: {
    readonly functionName: string;
    readonly functionAlias: string;
    readonly currentVersion: string;
    readonly targetVersion: string;
    /** Percent of traffic on the target version. */
    readonly targetVersionWeight: number;
  };
}

/** CodeDeploy's DeploymentTarget: one member per kind of target, of which switchyard has ECS and Lambda. */
export type DeploymentTarget =
  | { readonly deploymentTargetType: 'ECSTarget'; readonly ecsTarget: EcsTarget; readonly lambdaTarget?: undefined }
  | {
      readonly deploymentTargetType: 'LambdaTarget';
      readonly lambdaTarget: LambdaTarget;
      readonly ecsTarget?: undefined;
    };

/** A page of a list operation, and the token of the next one when there is more. */
type Page<Member extends string> = { readonly [M in Member]: string[] } & { readonly nextToken?: string };

/** CreateDeployment's answer. */
export interface CreateDeploymentAnswer {
  readonly deploymentId: string;
}

/** GetDeployment's answer. */
export interface GetDeploymentAnswer {
  readonly deploymentInfo: DeploymentInfo;
}

/** BatchGetDeployments' answer: the deployments known of those asked for. */
export interface BatchGetDeploymentsAnswer {
  readonly deploymentsInfo: DeploymentInfo[];
}

/** ListDeployments' answer: deployment ids, newest first. */
export type ListDeploymentsAnswer = Page<'deployments'>;

/** StopDeployment's answer. */
export interface StopDeploymentAnswer {
  readonly status: 'Pending' | 'Succeeded';
  readonly statusMessage: string;
}

/** ListDeploymentTargets' answer: the deployment's one target id, unless a filter left it out. */
export type ListDeploymentTargetsAnswer = Page<'targetIds'>;

/** GetDeploymentTarget's answer. */
export interface GetDeploymentTargetAnswer {
  readonly deploymentTarget: DeploymentTarget;
}
