/**
 * @module api/codedeploy/deployment-groups
 * CreateDeploymentGroup, GetDeploymentGroup, ListDeploymentGroups, UpdateDeploymentGroup,
 * DeleteDeploymentGroup, BatchGetDeploymentGroups. An ECS group's `ecsServices[0].serviceName` names the
 * switchyard service it deploys, so it must be a service of the config (the cluster name is kept only for
 * target ids); its test traffic route, when given, is played by the proxy's test listener. Listener and
 * target group ARNs are accepted as given: the proxy's listeners are the load balancer.
 */
import type { ApplicationRecord, DeploymentGroupSettings } from '../../codedeploy/deployment-group.js';
import { CodeDeployRefusal } from '../../codedeploy/exceptions.js';
import type { CodeDeployDeps, Operation } from './context.js';
import { deploymentGroupInfo, page, parseGroupSettings, requiredString } from './shapes.js';

const BATCH_LIMIT = 100;

/** An ECS group must name a service the proxy has; checked here because the registry knows no traffic. */
function checkEcsService(deps: CodeDeployDeps, app: ApplicationRecord, settings: DeploymentGroupSettings): void {
  const service = settings.ecsServices?.[0]?.serviceName;
  if (app.computePlatform !== 'ECS' || service === undefined) return;
  const known = deps.traffic.services().map((s) => s.name);
  if (!known.includes(service)) {
    throw new CodeDeployRefusal(
      'InvalidECSServiceException',
      `ECS service '${service}' is not a service of this switchyard (services: ${known.join(', ')})`,
    );
  }
}

/** CreateDeploymentGroup; serviceRoleArn is required, as in CodeDeploy, and an ECS group must name a service of the config. */
export const createDeploymentGroup: Operation = (deps, body) => {
  const appName = requiredString(body, 'applicationName', 'ApplicationName');
  const name = requiredString(body, 'deploymentGroupName', 'DeploymentGroupName');
  const app = deps.registry.application(appName);
  const settings = parseGroupSettings(body);
  if (!settings.serviceRoleArn) throw new CodeDeployRefusal('RoleRequiredException', 'serviceRoleArn is required');
  checkEcsService(deps, app, settings);
  return { deploymentGroupId: deps.registry.createGroup(appName, name, settings).id };
};

/** GetDeploymentGroup, with its last attempted and last successful deployments. */
export const getDeploymentGroup: Operation = (deps, body) => {
  const appName = requiredString(body, 'applicationName', 'ApplicationName');
  const name = requiredString(body, 'deploymentGroupName', 'DeploymentGroupName');
  const app = deps.registry.application(appName);
  return { deploymentGroupInfo: deploymentGroupInfo(deps, app, deps.registry.group(appName, name)) };
};

/** ListDeploymentGroups of an application. */
export const listDeploymentGroups: Operation = ({ registry }, body) => {
  const appName = requiredString(body, 'applicationName', 'ApplicationName');
  const { items, nextToken } = page(registry.groupNames(appName), body);
  return { applicationName: appName, deploymentGroups: items, ...(nextToken && { nextToken }) };
};

/** UpdateDeploymentGroup: the members given, and a new name when given. */
export const updateDeploymentGroup: Operation = (deps, body) => {
  const appName = requiredString(body, 'applicationName', 'ApplicationName');
  const current = requiredString(body, 'currentDeploymentGroupName', 'DeploymentGroupName');
  const newName = body['newDeploymentGroupName'];
  if (newName !== undefined && newName !== null && typeof newName !== 'string') {
    throw new CodeDeployRefusal('InvalidDeploymentGroupNameException', 'newDeploymentGroupName must be a string');
  }
  const app = deps.registry.application(appName);
  const patch = parseGroupSettings(body);
  checkEcsService(deps, app, patch);
  deps.registry.updateGroup(appName, current, newName || undefined, patch);
  return { hooksNotCleanedUp: [] };
};

/** DeleteDeploymentGroup. */
export const deleteDeploymentGroup: Operation = ({ registry }, body) => {
  const appName = requiredString(body, 'applicationName', 'ApplicationName');
  const name = requiredString(body, 'deploymentGroupName', 'DeploymentGroupName');
  registry.deleteGroup(appName, name);
  return { hooksNotCleanedUp: [] };
};

/** BatchGetDeploymentGroups of one application. */
export const batchGetDeploymentGroups: Operation = (deps, body) => {
  const appName = requiredString(body, 'applicationName', 'ApplicationName');
  const names = body['deploymentGroupNames'];
  if (names === undefined || names === null) {
    throw new CodeDeployRefusal('DeploymentGroupNameRequiredException', 'deploymentGroupNames is required');
  }
  if (!Array.isArray(names) || !names.every((n): n is string => typeof n === 'string')) {
    throw new CodeDeployRefusal('InvalidDeploymentGroupNameException', 'deploymentGroupNames must be a list of names');
  }
  if (names.length > BATCH_LIMIT) {
    throw new CodeDeployRefusal('BatchLimitExceededException', `at most ${BATCH_LIMIT} deployment groups at once`);
  }
  const app = deps.registry.application(appName);
  const infos: object[] = [];
  const missing: string[] = [];
  for (const name of names) {
    try {
      infos.push(deploymentGroupInfo(deps, app, deps.registry.group(appName, name)));
    } catch {
      missing.push(name);
    }
  }
  return {
    deploymentGroupsInfo: infos,
    ...(missing.length && { errorMessage: `Deployment groups not found: ${missing.join(', ')}` }),
  };
};
