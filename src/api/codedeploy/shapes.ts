/**
 * @module api/codedeploy/shapes
 * CodeDeploy's wire shapes: request members checked as CodeDeploy checks them (each member failing with
 * its own exception), and the response structures built from switchyard's records (typed, where a
 * client reads them, in ./answers.ts). Member names are exactly as CodeDeploy models them, including
 * its misspelt `identifer`; timestamps are epoch seconds.
 */
import { z } from 'zod';

import type { ComputePlatform } from '../../codedeploy/deployment-config-model.js';
import {
  AlarmConfiguration,
  type ApplicationRecord,
  AutoRollbackConfiguration,
  type BlueGreenDeploymentConfiguration,
  type DeploymentGroupRecord,
  DeploymentGroupSettings,
  type DeploymentRequest,
  type DeploymentStyle,
} from '../../codedeploy/deployment-group.js';
import { type CodeDeployException, CodeDeployRefusal } from '../../codedeploy/exceptions.js';
import { targetStatus, TERMINAL_STATUSES } from '../../codedeploy/lifecycle.js';
import { LOCAL_ACCOUNT_ID as ARN_ACCOUNT, LOCAL_REGION as ARN_REGION } from '../../core/aws-identity.js';
import type { DeploymentRecord } from '../../shifting/ports.js';
import type { DeploymentInfo, DeploymentTarget, EcsTaskSet, LifecycleEvent } from './answers.js';
import type { CodeDeployDeps, RequestBody } from './context.js';

// ---------------------------------------------------------------------------------------------------
// Requests

/**
 * Parses `body` with `schema`. The first failing member decides the exception (`exceptions` by
 * top-level member name, else `fallback`), as CodeDeploy answers one exception per request.
 */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  body: RequestBody,
  exceptions: Readonly<Record<string, CodeDeployException>>,
  fallback: CodeDeployException = 'InvalidInputException',
): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const member = String(issue.path[0] ?? '');
  const path = issue.path.map(String).join('.');
  throw new CodeDeployRefusal(exceptions[member] ?? fallback, path ? `${path}: ${issue.message}` : issue.message);
}

/** `X` of every `InvalidXException` in the table. */
type InvalidStem = CodeDeployException extends infer E ? (E extends `Invalid${infer S}Exception` ? S : never) : never;
/** `X` of every `XRequiredException` whose `InvalidXException` is in the table too. */
type RequiredStem = CodeDeployException extends infer E
  ? E extends `${infer S}RequiredException`
    ? S extends InvalidStem
      ? S
      : never
    : never
  : never;

/** A required string member: absent or empty → `<What>RequiredException`, not a string → `Invalid<What>Exception`. */
export function requiredString(body: RequestBody, member: string, what: RequiredStem): string {
  const value = body[member];
  if (value === undefined || value === null || value === '') {
    throw new CodeDeployRefusal(`${what}RequiredException` as const, `${member} is required`);
  }
  if (typeof value !== 'string')
    throw new CodeDeployRefusal(`Invalid${what}Exception` as const, `${member} must be a string`);
  return value;
}

/** An optional string member; not a string → `Invalid<What>Exception`. */
export function optionalString(body: RequestBody, member: string, what: InvalidStem): string | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new CodeDeployRefusal(`Invalid${what}Exception` as const, `${member} must be a string`);
  return value;
}

/** Reads an opaque paging token (a plain offset, base64url-encoded so that nobody relies on its form). */
export function pageStart(body: RequestBody): number {
  const token = body['nextToken'];
  if (token === undefined || token === null || token === '') return 0;
  const offset = typeof token === 'string' ? Number(Buffer.from(token, 'base64url').toString('utf8')) : NaN;
  if (!Number.isInteger(offset) || offset < 0) {
    throw new CodeDeployRefusal('InvalidNextTokenException', 'The next token is invalid');
  }
  return offset;
}

/** Items a list call may answer with at once; CodeDeploy chooses its page size, and so does switchyard. */
export const PAGE_SIZE = 100;

/** One page of `items` from the request's token, with the token of the next page when there is one. */
export function page<T>(items: readonly T[], body: RequestBody): { items: T[]; nextToken?: string } {
  const start = pageStart(body);
  const end = start + PAGE_SIZE;
  return end < items.length
    ? { items: items.slice(start, end), nextToken: Buffer.from(String(end)).toString('base64url') }
    : { items: items.slice(start) };
}

/** Which exception each member of a deployment group request raises when it is malformed. */
export const GROUP_MEMBER_EXCEPTIONS: Readonly<Record<string, CodeDeployException>> = {
  deploymentConfigName: 'InvalidDeploymentConfigNameException',
  serviceRoleArn: 'InvalidRoleException',
  deploymentStyle: 'InvalidDeploymentStyleException',
  ecsServices: 'InvalidECSServiceException',
  loadBalancerInfo: 'InvalidLoadBalancerInfoException',
  blueGreenDeploymentConfiguration: 'InvalidBlueGreenDeploymentConfigurationException',
  autoRollbackConfiguration: 'InvalidAutoRollbackConfigException',
  alarmConfiguration: 'InvalidAlarmConfigException',
  triggerConfigurations: 'InvalidTriggerConfigException',
  ec2TagFilters: 'InvalidEC2TagException',
  autoScalingGroups: 'InvalidAutoScalingGroupException',
};

/** A group's settings from a Create/UpdateDeploymentGroup body (names and tags are read separately). */
export function parseGroupSettings(body: RequestBody): DeploymentGroupSettings {
  const settings = parseRequest(DeploymentGroupSettings, body, GROUP_MEMBER_EXCEPTIONS);
  checkAutoRollback(settings.autoRollbackConfiguration);
  return settings;
}

/** CodeDeploy refuses an enabled rollback with nothing to roll back on. */
export function checkAutoRollback(config: AutoRollbackConfiguration | undefined): void {
  if (config?.enabled && !config.events?.length) {
    throw new CodeDeployRefusal(
      'InvalidAutoRollbackConfigException',
      'autoRollbackConfiguration is enabled but names no events',
    );
  }
}

const RevisionContent = z.object({ content: z.string().optional(), sha256: z.string().optional() });

/** CodeDeploy's RevisionLocation; only AppSpecContent and String carry an AppSpec switchyard can read. */
export const RevisionLocation = z.object({
  revisionType: z.enum(['S3', 'GitHub', 'String', 'AppSpecContent']).optional(),
  appSpecContent: RevisionContent.optional(),
  string: RevisionContent.optional(),
  s3Location: z.looseObject({}).optional(),
  gitHubLocation: z.looseObject({}).optional(),
});

/**
 * CreateDeployment's members. `switchyardTimeScale` is switchyard's own, not CodeDeploy's: it divides
 * every duration of this one deployment (a 15-minute canary at 60 plays in 15 s); SDKs send it only
 * from a middleware or a hand-built request, and CodeDeploy would ignore it.
 */
export const CreateDeploymentRequest = z.object({
  revision: RevisionLocation.optional(),
  deploymentConfigName: z.string().optional(),
  description: z.string().max(256, 'must be at most 256 characters').optional(),
  autoRollbackConfiguration: AutoRollbackConfiguration.optional(),
  overrideAlarmConfiguration: AlarmConfiguration.optional(),
  switchyardTimeScale: z.number().positive().optional(),
});

/** Which exception each member of a CreateDeployment request raises when it is malformed. */
export const CREATE_DEPLOYMENT_EXCEPTIONS: Readonly<Record<string, CodeDeployException>> = {
  revision: 'InvalidRevisionException',
  deploymentConfigName: 'InvalidDeploymentConfigNameException',
  description: 'DescriptionTooLongException',
  autoRollbackConfiguration: 'InvalidAutoRollbackConfigException',
  overrideAlarmConfiguration: 'InvalidAlarmConfigException',
};

// ---------------------------------------------------------------------------------------------------
// Responses

/** Epoch ms → CodeDeploy's epoch seconds, to the millisecond. */
export function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/** Drops undefined members, so that absent members are absent on the wire rather than null. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** An application as GetApplication and BatchGetApplications describe it. */
export function applicationInfo(app: ApplicationRecord): object {
  return {
    applicationId: app.id,
    applicationName: app.name,
    createTime: seconds(app.createTime),
    linkedToGitHub: false,
    computePlatform: app.computePlatform,
  };
}

export { targetStatus } from '../../codedeploy/lifecycle.js';

function lastDeploymentInfo(record: DeploymentRecord | undefined): object | undefined {
  if (!record) return undefined;
  return defined({
    deploymentId: record.id,
    status: record.status,
    endTime: record.completeTime === undefined ? undefined : seconds(record.completeTime),
    createTime: seconds(record.createTime),
  });
}

/** The deployments of a group, oldest first (rollback deployments included: they are attempts too). */
export function groupDeployments(deps: CodeDeployDeps, applicationName: string, groupName: string): DeploymentRecord[] {
  return deps.engine
    .list()
    .filter((r) => r.plan.applicationName === applicationName && r.plan.deploymentGroupName === groupName);
}

/** The deployment style ECS and Lambda always have, and the one Server has by default. */
function deploymentStyleOf(platform: ComputePlatform, group: DeploymentGroupRecord | undefined): DeploymentStyle {
  if (platform !== 'Server') return { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' };
  return {
    deploymentType: group?.settings.deploymentStyle?.deploymentType ?? 'IN_PLACE',
    deploymentOption: group?.settings.deploymentStyle?.deploymentOption ?? 'WITHOUT_TRAFFIC_CONTROL',
  };
}

/**
 * ECS's blue/green settings as the engine applies them: reroute at once unless STOP_DEPLOYMENT, and
 * terminate the original right after success unless told otherwise.
 */
function blueGreenOf(
  platform: ComputePlatform,
  group: DeploymentGroupRecord | undefined,
): BlueGreenDeploymentConfiguration | undefined {
  const given = group?.settings.blueGreenDeploymentConfiguration;
  if (platform !== 'ECS') return given;
  return {
    ...given,
    deploymentReadyOption: {
      actionOnTimeout: given?.deploymentReadyOption?.actionOnTimeout ?? 'CONTINUE_DEPLOYMENT',
      waitTimeInMinutes: given?.deploymentReadyOption?.waitTimeInMinutes ?? 0,
    },
    terminateBlueInstancesOnDeploymentSuccess: {
      action: given?.terminateBlueInstancesOnDeploymentSuccess?.action ?? 'TERMINATE',
      terminationWaitTimeInMinutes: given?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes ?? 0,
    },
  };
}

/** A group as GetDeploymentGroup and BatchGetDeploymentGroups describe it, with its platform's defaults filled in. */
export function deploymentGroupInfo(
  deps: CodeDeployDeps,
  app: ApplicationRecord,
  group: DeploymentGroupRecord,
): object {
  const history = groupDeployments(deps, app.name, group.name);
  const succeeded = history.filter((r) => r.status === 'Succeeded');
  const { settings } = group;
  return defined({
    applicationName: app.name,
    deploymentGroupId: group.id,
    deploymentGroupName: group.name,
    deploymentConfigName: settings.deploymentConfigName,
    ec2TagFilters: settings.ec2TagFilters,
    onPremisesInstanceTagFilters: settings.onPremisesInstanceTagFilters,
    autoScalingGroups: settings.autoScalingGroups?.map((name) => ({ name })),
    serviceRoleArn: settings.serviceRoleArn,
    triggerConfigurations: settings.triggerConfigurations,
    alarmConfiguration: settings.alarmConfiguration,
    autoRollbackConfiguration: settings.autoRollbackConfiguration,
    deploymentStyle: deploymentStyleOf(app.computePlatform, group),
    outdatedInstancesStrategy: settings.outdatedInstancesStrategy,
    blueGreenDeploymentConfiguration: blueGreenOf(app.computePlatform, group),
    loadBalancerInfo: settings.loadBalancerInfo,
    lastSuccessfulDeployment: lastDeploymentInfo(succeeded.at(-1)),
    lastAttemptedDeployment: lastDeploymentInfo(history.at(-1)),
    ec2TagSet: settings.ec2TagSet,
    onPremisesTagSet: settings.onPremisesTagSet,
    computePlatform: app.computePlatform,
    ecsServices: settings.ecsServices,
    terminationHookEnabled: settings.terminationHookEnabled,
  });
}

/**
 * What a deployment was asked for. A rollback deployment is the engine's own and was never requested:
 * it redeploys the revision that was live before the deployment it rolls back, so it borrows that
 * deployment's request with revision and previous revision swapped.
 */
export function requestOf(deps: CodeDeployDeps, record: DeploymentRecord): DeploymentRequest | undefined {
  const own = deps.registry.request(record.id);
  if (own) return own;
  const trigger = record.rollbackInfo?.rollbackTriggeringDeploymentId;
  const triggering = trigger === undefined ? undefined : deps.registry.request(trigger);
  return triggering && { ...triggering, revision: triggering.previousRevision, previousRevision: triggering.revision };
}

/** A deployment as GetDeployment and BatchGetDeployments describe it. */
export function deploymentInfo(deps: CodeDeployDeps, record: DeploymentRecord): DeploymentInfo {
  const plan = record.plan;
  const request = requestOf(deps, record);
  const platform = plan.appSpec.platform;
  const status = targetStatus(record.status);
  const overview = { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 };
  overview[status] = 1;
  return defined<DeploymentInfo>({
    applicationName: plan.applicationName,
    deploymentGroupName: plan.deploymentGroupName,
    deploymentConfigName: plan.config.name,
    deploymentId: record.id,
    previousRevision: request?.previousRevision,
    revision: request?.revision,
    status: record.status,
    errorInformation: record.errorInformation && { ...record.errorInformation },
    createTime: seconds(record.createTime),
    startTime: record.startTime === undefined ? undefined : seconds(record.startTime),
    completeTime: record.completeTime === undefined ? undefined : seconds(record.completeTime),
    deploymentOverview: overview,
    description: plan.description,
    creator: plan.creator,
    ignoreApplicationStopFailures: false,
    autoRollbackConfiguration: { enabled: plan.autoRollback.enabled, events: [...plan.autoRollback.events] },
    updateOutdatedInstancesOnly: false,
    rollbackInfo: record.rollbackInfo && { ...record.rollbackInfo },
    deploymentStyle: deploymentStyleOf(platform, request?.group),
    instanceTerminationWaitTimeStarted: record.instanceTerminationWaitTimeStarted,
    blueGreenDeploymentConfiguration: blueGreenOf(platform, request?.group),
    loadBalancerInfo: request?.group.settings.loadBalancerInfo,
    computePlatform: platform,
    overrideAlarmConfiguration: request?.overrideAlarmConfiguration,
  });
}

// ---------------------------------------------------------------------------------------------------
// Targets: one per ECS or Lambda deployment.

/** ECS: `<cluster>:<service>`; Lambda: the function name. */
export function targetIdOf(deps: CodeDeployDeps, record: DeploymentRecord): string {
  const spec = record.plan.appSpec;
  if (spec.platform === 'Lambda') return spec.functionName;
  return `${clusterOf(deps, record)}:${record.plan.service}`;
}

function clusterOf(deps: CodeDeployDeps, record: DeploymentRecord): string {
  return requestOf(deps, record)?.group.settings.ecsServices?.[0]?.clusterName ?? 'default';
}

/**
 * Percent of production traffic on the original and the replacement. While the deployment runs this is
 * read live from the traffic state (what the proxy routes by now); once it has ended, the record's own
 * last weight, since the service may since have moved on to other deployments.
 */
function weightsOf(deps: CodeDeployDeps, record: DeploymentRecord): { blue: number; green: number } {
  const plan = record.plan;
  if (!TERMINAL_STATUSES.has(record.status)) {
    const production = deps.traffic.service(plan.service).weights.production;
    return { blue: production[plan.currentVersion] ?? 0, green: production[plan.targetVersion] ?? 0 };
  }
  const green = record.trafficWeight / 100;
  return { blue: 100 - green, green };
}

function targetCount(deps: CodeDeployDeps, service: string, label: string): number {
  return deps.traffic.service(service).versions.find((v) => v.label === label)?.targets.length ?? 0;
}

/** A deployment's one target as GetDeploymentTarget and BatchGetDeploymentTargets describe it. */
export function deploymentTarget(deps: CodeDeployDeps, record: DeploymentRecord): DeploymentTarget {
  const plan = record.plan;
  const times = [record.createTime, record.startTime, record.completeTime];
  const lifecycleEvents = record.lifecycleEvents.map((e) => {
    times.push(e.startTime, e.endTime);
    return defined<LifecycleEvent>({
      lifecycleEventName: e.name,
      diagnostics: e.diagnostics && { ...e.diagnostics },
      startTime: e.startTime === undefined ? undefined : seconds(e.startTime),
      endTime: e.endTime === undefined ? undefined : seconds(e.endTime),
      status: e.status,
    });
  });
  const lastUpdatedAt = seconds(Math.max(...times.filter((t) => t !== undefined)));
  const { blue, green } = weightsOf(deps, record);
  const common = {
    deploymentId: record.id,
    targetId: targetIdOf(deps, record),
    status: targetStatus(record.status),
    lastUpdatedAt,
    lifecycleEvents,
  };
  const spec = plan.appSpec;
  if (spec.platform === 'Lambda') {
    return {
      deploymentTargetType: 'LambdaTarget',
      lambdaTarget: {
        ...common,
        targetArn: `arn:aws:lambda:${ARN_REGION}:${ARN_ACCOUNT}:function:${spec.functionName}:${spec.alias}`,
        lambdaFunctionInfo: {
          functionName: spec.functionName,
          functionAlias: spec.alias,
          currentVersion: plan.currentVersion,
          targetVersion: plan.targetVersion,
          targetVersionWeight: green,
        },
      },
    };
  }
  const targetGroups = requestOf(deps, record)?.group.settings.loadBalancerInfo?.targetGroupPairInfoList?.[0]
    ?.targetGroups;
  const succeeded = record.status === 'Succeeded';
  const taskSet = (
    label: string,
    which: 'Blue' | 'Green',
    weight: number,
    primary: boolean,
    group: number,
  ): EcsTaskSet => {
    const count = targetCount(deps, plan.service, label);
    const name = targetGroups?.[group]?.name;
    return defined({
      identifer: `${plan.service}/${label}`,
      desiredCount: count,
      pendingCount: 0,
      runningCount: count,
      status: primary ? 'PRIMARY' : 'ACTIVE',
      trafficWeight: weight,
      targetGroup: name === undefined ? undefined : { name },
      taskSetLabel: which,
    });
  };
  return {
    deploymentTargetType: 'ECSTarget',
    ecsTarget: {
      ...common,
      targetArn: `arn:aws:ecs:${ARN_REGION}:${ARN_ACCOUNT}:service/${clusterOf(deps, record)}/${plan.service}`,
      taskSetsInfo: [
        taskSet(plan.currentVersion, 'Blue', blue, !succeeded, 0),
        taskSet(plan.targetVersion, 'Green', green, succeeded, 1),
      ],
    },
  };
}
