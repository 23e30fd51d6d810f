/**
 * @module api/codedeploy/deployments
 * CreateDeployment, GetDeployment, BatchGetDeployments, ListDeployments, StopDeployment,
 * ContinueDeployment, PutLifecycleEventHookExecutionStatus.
 *
 * How a CodeDeploy deployment maps onto switchyard:
 * - The service: an ECS group's `ecsServices[0].serviceName`; a Lambda AppSpec's `Properties.Name`.
 *   Versions: the task definition (ECS) or CurrentVersion/TargetVersion (Lambda) name version labels of
 *   that service (resolveVersions).
 * - The configuration: the deployment's `deploymentConfigName`, else the group's, else the platform's
 *   default. Rollback: the deployment's `autoRollbackConfiguration`, else the group's (else disabled).
 * - ECS only: `deploymentReadyOption` STOP_DEPLOYMENT waits in Ready for ContinueDeployment at most
 *   `waitTimeInMinutes`; `terminateBlueInstancesOnDeploymentSuccess` TERMINATE (the default, with no
 *   wait) or KEEP_ALIVE keeps the original routable for `terminationWaitTimeInMinutes`; test traffic runs
 *   when the group has a `testTrafficRoute` and the proxy has a test listener.
 * - Hooks get CodeDeploy's one hour. `switchyardTimeScale`, a request member of switchyard's own, plays
 *   one deployment faster than real time (see shapes.ts).
 * - Server (EC2/On-Premises) deployments are refused with InvalidRevisionException.
 */
import { createHash } from 'node:crypto';

import { z } from 'zod';

import { type AppSpec, EC2_UNSUPPORTED, parseAppSpec } from '../../appspec/parse.js';
import { resolveVersions } from '../../appspec/resolve.js';
import type { DeploymentConfig } from '../../codedeploy/deployment-config-model.js';
import type { DeploymentGroupRecord } from '../../codedeploy/deployment-group.js';
import { type CodeDeployException, CodeDeployRefusal } from '../../codedeploy/exceptions.js';
import { DeploymentStatus, LifecycleEventStatus } from '../../codedeploy/lifecycle.js';
import { describeError } from '../../core/describe-error.js';
import { isSwitchyardError } from '../../core/errors.js';
import { deploymentId } from '../../core/ids.js';
import type { DeploymentPlan, DeploymentRecord, ServiceView } from '../../shifting/ports.js';
import type {
  BatchGetDeploymentsAnswer,
  CreateDeploymentAnswer,
  GetDeploymentAnswer,
  ListDeploymentsAnswer,
  StopDeploymentAnswer,
} from './answers.js';
import type { CodeDeployDeps, Operation, RequestBody } from './context.js';
import {
  checkAutoRollback,
  CREATE_DEPLOYMENT_EXCEPTIONS,
  CreateDeploymentRequest,
  deploymentInfo,
  groupDeployments,
  optionalString,
  page,
  parseRequest,
  requestOf,
  requiredString,
} from './shapes.js';

const MINUTE_MS = 60_000;
/** CodeDeploy gives a hook an hour to report. */
const HOOK_TIMEOUT_MS = 3_600_000;
const BATCH_LIMIT = 25;
const DEPLOYMENT_ID = /^d-[A-Z0-9]{9}$/;

/** The deployment a request names: required, well-formed and known. */
export function deploymentOf(deps: CodeDeployDeps, body: RequestBody): DeploymentRecord {
  const id = requiredString(body, 'deploymentId', 'DeploymentId');
  if (!DEPLOYMENT_ID.test(id)) {
    throw new CodeDeployRefusal(
      'InvalidDeploymentIdException',
      `'${id}' is not a deployment id (d- and 9 letters or digits)`,
    );
  }
  const record = deps.engine.get(id);
  if (!record) throw new CodeDeployRefusal('DeploymentDoesNotExistException', `Deployment ${id} does not exist`);
  return record;
}

type CreateDeployment = z.infer<typeof CreateDeploymentRequest>;
type Revision = NonNullable<CreateDeployment['revision']>;

/** The AppSpec text of a revision, and the revision as GetDeployment echoes it (with its sha256). */
function appSpecOf(revision: Revision): { text: string; echoed: Revision } {
  const type = revision.revisionType;
  if (type === 'S3' || type === 'GitHub') {
    throw new CodeDeployRefusal(
      'InvalidRevisionException',
      `${type} revisions are not supported: send the AppSpec itself as revisionType AppSpecContent (or String)`,
    );
  }
  if (type === undefined) throw new CodeDeployRefusal('InvalidRevisionException', 'revision.revisionType is required');
  const member = type === 'AppSpecContent' ? 'appSpecContent' : 'string';
  const content = revision[member];
  if (content?.content === undefined) {
    throw new CodeDeployRefusal(
      'InvalidRevisionException',
      `revision.${member}.content is required for revisionType ${type}`,
    );
  }
  const text = content.content;
  const sha256 = createHash('sha256').update(text).digest('hex');
  if (content.sha256 !== undefined && content.sha256.toLowerCase() !== sha256) {
    throw new CodeDeployRefusal('InvalidRevisionException', `revision.${member}.sha256 does not match its content`);
  }
  return { text, echoed: { revisionType: type, [member]: { content: text, sha256 } } };
}

/** The service a deployment shifts, or the exception CodeDeploy raises for a missing one. */
function serviceOf(deps: CodeDeployDeps, group: DeploymentGroupRecord, appSpec: AppSpec): ServiceView {
  const name = appSpec.platform === 'ECS' ? group.settings.ecsServices?.[0]?.serviceName : appSpec.functionName;
  try {
    if (name === undefined) throw new Error('no service');
    return deps.traffic.service(name);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    const known = deps.traffic
      .services()
      .map((s) => s.name)
      .join(', ');
    throw appSpec.platform === 'ECS'
      ? new CodeDeployRefusal(
          'InvalidECSServiceException',
          `ECS service '${name ?? ''}' is not a service of this switchyard (services: ${known})`,
        )
      : new CodeDeployRefusal(
          'InvalidRevisionException',
          `Lambda function '${name ?? ''}' is not a service of this switchyard (services: ${known})`,
        );
  }
}

/**
 * The AppSpec a revision carries, read and checked before anything runs: its platform is the
 * application's, and every hook it names can run.
 */
function readAppSpec(
  deps: CodeDeployDeps,
  revision: Revision,
  appName: string,
  platform: 'ECS' | 'Lambda',
): { appSpec: AppSpec; echoed: Revision } {
  const { text, echoed } = appSpecOf(revision);
  let appSpec;
  try {
    appSpec = parseAppSpec(text, 'appspec');
  } catch (err) {
    if (isSwitchyardError(err, 'APPSPEC_INVALID')) throw err;
    throw new CodeDeployRefusal('InvalidRevisionException', `The AppSpec could not be read: ${describeError(err)}`);
  }
  if (appSpec.platform !== platform) {
    throw new CodeDeployRefusal(
      'InvalidRevisionException',
      `The AppSpec describes a ${appSpec.platform} resource, but application '${appName}' is ${platform}`,
    );
  }
  // A hook that resolves to nothing would fail only when its event comes, after Install has started things.
  for (const hook of appSpec.hooks) {
    const problem = deps.reporter.unresolvable(hook.target);
    if (problem)
      throw new CodeDeployRefusal('InvalidRevisionException', `The ${hook.event} hook cannot run: ${problem}`);
  }
  return { appSpec, echoed };
}

/** What a deployment's plan is made of, once each part has been read and checked. */
interface PlanParts {
  readonly appName: string;
  readonly groupName: string;
  readonly group: DeploymentGroupRecord;
  readonly request: CreateDeployment;
  readonly config: DeploymentConfig;
  readonly appSpec: AppSpec;
  readonly service: string;
  readonly versions: { readonly current: string; readonly target: string };
}

/** The plan the engine runs: the request's settings, else the group's (see the module comment). */
function planOf(
  deps: CodeDeployDeps,
  { appName, groupName, group, request, config, appSpec, service, versions }: PlanParts,
): DeploymentPlan {
  const rollback = request.autoRollbackConfiguration ?? group.settings.autoRollbackConfiguration;
  // The documented way to ship a fix while an alarm fires: the deployment's own alarm configuration.
  const alarms = request.overrideAlarmConfiguration ?? group.settings.alarmConfiguration;
  const blueGreen = group.settings.blueGreenDeploymentConfiguration;
  const ready = blueGreen?.deploymentReadyOption;
  const terminate = blueGreen?.terminateBlueInstancesOnDeploymentSuccess;
  const ecs = appSpec.platform === 'ECS';
  return {
    applicationName: appName,
    deploymentGroupName: groupName,
    config,
    appSpec,
    service,
    currentVersion: versions.current,
    targetVersion: versions.target,
    timeScale: request.switchyardTimeScale ?? deps.timeScale,
    hookTimeoutMs: HOOK_TIMEOUT_MS,
    autoRollback: { enabled: rollback?.enabled ?? false, events: rollback?.events ?? [] },
    readyWait:
      ecs && ready?.actionOnTimeout === 'STOP_DEPLOYMENT'
        ? { waitMs: (ready.waitTimeInMinutes ?? 0) * MINUTE_MS }
        : undefined,
    termination: ecs
      ? {
          terminate: terminate?.action !== 'KEEP_ALIVE',
          waitMs: (terminate?.terminationWaitTimeInMinutes ?? 0) * MINUTE_MS,
        }
      : undefined,
    ...(alarms?.enabled && {
      alarms: {
        names: (alarms.alarms ?? []).map((a) => a.name),
        ignorePollAlarmFailure: alarms.ignorePollAlarmFailure ?? false,
      },
    }),
    testListener:
      ecs &&
      deps.testListener &&
      group.settings.loadBalancerInfo?.targetGroupPairInfoList?.[0]?.testTrafficRoute !== undefined,
    ...(request.description !== undefined && { description: request.description }),
    creator: 'user',
  };
}

/** CreateDeployment: reads and checks the revision's AppSpec, plans the deployment, and starts it. */
export const createDeployment: Operation<CreateDeploymentAnswer> = (deps, body) => {
  const { registry, engine } = deps;
  const appName = requiredString(body, 'applicationName', 'ApplicationName');
  const groupName = requiredString(body, 'deploymentGroupName', 'DeploymentGroupName');
  const app = registry.application(appName);
  const group = registry.group(appName, groupName);
  const request = parseRequest(CreateDeploymentRequest, body, CREATE_DEPLOYMENT_EXCEPTIONS);
  checkAutoRollback(request.autoRollbackConfiguration);
  registry.checkAlarms(request.overrideAlarmConfiguration);
  if (!request.revision) throw new CodeDeployRefusal('RevisionRequiredException', 'revision is required');
  const config = registry.config(request.deploymentConfigName ?? group.settings.deploymentConfigName);
  if (config.computePlatform !== app.computePlatform) {
    throw new CodeDeployRefusal(
      'InvalidDeploymentConfigNameException',
      `Deployment config '${config.name}' is for ${config.computePlatform}, but application '${appName}' is ${app.computePlatform}`,
    );
  }
  const platform = app.computePlatform;
  if (platform === 'Server') throw new CodeDeployRefusal('InvalidRevisionException', EC2_UNSUPPORTED);
  const { appSpec, echoed } = readAppSpec(deps, request.revision, appName, platform);
  const service = serviceOf(deps, group, appSpec);
  const versions = resolveVersions(appSpec, {
    name: service.name,
    versions: service.versions.map((v) => v.label),
    live: service.live,
  });
  const plan = planOf(deps, { appName, groupName, group, request, config, appSpec, service: service.name, versions });
  const lastGood = groupDeployments(deps, appName, groupName)
    .filter((r) => r.status === 'Succeeded')
    .at(-1);
  const previousRevision = lastGood && requestOf(deps, lastGood)?.revision;
  // The request is kept before the deployment exists: a store that refuses it refuses the whole call,
  // rather than a deployment running that the caller was told had failed.
  engine.checkCanCreate(appName, groupName);
  const id = deploymentId();
  registry.recordRequest(id, {
    revision: echoed,
    previousRevision,
    group,
    computePlatform: platform,
    ...(request.overrideAlarmConfiguration && { overrideAlarmConfiguration: request.overrideAlarmConfiguration }),
  });
  return { deploymentId: engine.create(plan, id).id };
};

/** GetDeployment. */
export const getDeployment: Operation<GetDeploymentAnswer> = (deps, body) => ({
  deploymentInfo: deploymentInfo(deps, deploymentOf(deps, body)),
});

function idList(
  body: RequestBody,
  member: string,
  requiredType: CodeDeployException,
  invalidType: CodeDeployException,
): string[] {
  const ids = body[member];
  if (ids === undefined || ids === null) throw new CodeDeployRefusal(requiredType, `${member} is required`);
  if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string')) {
    throw new CodeDeployRefusal(invalidType, `${member} must be a list of ids`);
  }
  return ids;
}

/** BatchGetDeployments: at most 25. */
export const batchGetDeployments: Operation<BatchGetDeploymentsAnswer> = (deps, body) => {
  const ids = idList(body, 'deploymentIds', 'DeploymentIdRequiredException', 'InvalidDeploymentIdException');
  if (ids.length > BATCH_LIMIT) {
    throw new CodeDeployRefusal('BatchLimitExceededException', `at most ${BATCH_LIMIT} deployments at once`);
  }
  // Unknown ids are left out of the answer rather than failing the batch, as CodeDeploy does.
  const records = ids.map((id) => deps.engine.get(id)).filter((r): r is DeploymentRecord => r !== undefined);
  return { deploymentsInfo: records.map((r) => deploymentInfo(deps, r)) };
};

const ListDeploymentsRequest = z.object({
  includeOnlyStatuses: z.array(DeploymentStatus).optional(),
  createTimeRange: z.object({ start: z.number().optional(), end: z.number().optional() }).optional(),
  externalId: z.string().optional(),
});

/** ListDeployments: ids, newest first, of every deployment or of one group, filtered by status and creation time. */
export const listDeployments: Operation<ListDeploymentsAnswer> = (deps, body) => {
  const appName = optionalString(body, 'applicationName', 'ApplicationName');
  const groupName = optionalString(body, 'deploymentGroupName', 'DeploymentGroupName');
  // CodeDeploy takes both names or neither: a group name means nothing without its application.
  if (appName !== undefined && groupName === undefined) {
    throw new CodeDeployRefusal(
      'DeploymentGroupNameRequiredException',
      'deploymentGroupName is required with applicationName',
    );
  }
  if (groupName !== undefined && appName === undefined) {
    throw new CodeDeployRefusal(
      'ApplicationNameRequiredException',
      'applicationName is required with deploymentGroupName',
    );
  }
  if (appName !== undefined && groupName !== undefined) deps.registry.group(appName, groupName);
  const request = parseRequest(ListDeploymentsRequest, body, {
    includeOnlyStatuses: 'InvalidDeploymentStatusException',
    createTimeRange: 'InvalidTimeRangeException',
    externalId: 'InvalidExternalIdException',
  });
  const statuses = request.includeOnlyStatuses;
  const range = request.createTimeRange;
  const ids = deps.engine
    .list()
    .filter(
      (r) =>
        (appName === undefined || (r.plan.applicationName === appName && r.plan.deploymentGroupName === groupName)) &&
        (!statuses?.length || statuses.includes(r.status)) &&
        (range?.start === undefined || r.createTime >= range.start * 1000) &&
        (range?.end === undefined || r.createTime <= range.end * 1000) &&
        // Switchyard's deployments are never created by an external system, so none has an external id.
        request.externalId === undefined,
    )
    .reverse()
    .map((r) => r.id);
  const { items, nextToken } = page(ids, body);
  return { deployments: items, ...(nextToken && { nextToken }) };
};

/** StopDeployment, rolling back when asked to or when the deployment's rollback configuration says so. */
export const stopDeployment: Operation<StopDeploymentAnswer> = (deps, body) => {
  const record = deploymentOf(deps, body);
  const rollback = body['autoRollbackEnabled'];
  if (rollback !== undefined && rollback !== null && typeof rollback !== 'boolean') {
    throw new CodeDeployRefusal('InvalidInputException', 'autoRollbackEnabled must be true or false');
  }
  return deps.engine.stop(record.id, rollback ?? undefined);
};

/** ContinueDeployment: ends a ready wait (READY_WAIT) or a termination wait (TERMINATION_WAIT). */
export const continueDeployment: Operation = (deps, body) => {
  const record = deploymentOf(deps, body);
  const waitType = body['deploymentWaitType'] ?? 'READY_WAIT';
  if (waitType !== 'READY_WAIT' && waitType !== 'TERMINATION_WAIT') {
    throw new CodeDeployRefusal(
      'InvalidDeploymentWaitTypeException',
      'deploymentWaitType must be READY_WAIT or TERMINATION_WAIT',
    );
  }
  deps.engine.continue(record.id, waitType);
  return {};
};

/** PutLifecycleEventHookExecutionStatus: a hook reports how it went. */
export const putLifecycleEventHookExecutionStatus: Operation = (deps, body) => {
  const record = deploymentOf(deps, body);
  const executionId = body['lifecycleEventHookExecutionId'];
  if (typeof executionId !== 'string' || executionId === '') {
    throw new CodeDeployRefusal(
      'InvalidLifecycleEventHookExecutionIdException',
      'lifecycleEventHookExecutionId is required',
    );
  }
  const status = LifecycleEventStatus.safeParse(body['status']);
  if (!status.success) {
    throw new CodeDeployRefusal(
      'InvalidLifecycleEventHookExecutionStatusException',
      `status must be one of ${LifecycleEventStatus.options.join(', ')}`,
    );
  }
  deps.reporter.report(record.id, executionId, status.data);
  return { lifecycleEventHookExecutionId: executionId };
};
