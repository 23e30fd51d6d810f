/**
 * @module api/codedeploy/targets
 * ListDeploymentTargets, BatchGetDeploymentTargets, GetDeploymentTarget. An ECS or Lambda deployment
 * has exactly one target (`<cluster>:<service>` or the function name), and its weights are where a
 * caller watches traffic move. Targets exist only once the deployment has started.
 */
import { CodeDeployRefusal } from '../../codedeploy/exceptions.js';
import type { DeploymentRecord } from '../../shifting/ports.js';
import type { GetDeploymentTargetAnswer, ListDeploymentTargetsAnswer } from './answers.js';
import type { CodeDeployDeps, Operation, RequestBody } from './context.js';
import { deploymentOf } from './deployments.js';
import { deploymentTarget, page, requiredString, targetIdOf, targetStatus } from './shapes.js';

const BATCH_LIMIT = 25;
const FILTER_NAMES = new Set(['TargetStatus', 'ServerInstanceLabel']);

function startedDeployment(deps: CodeDeployDeps, body: RequestBody): DeploymentRecord {
  const record = deploymentOf(deps, body);
  if (record.status === 'Created') {
    throw new CodeDeployRefusal('DeploymentNotStartedException', `Deployment ${record.id} has not started yet`);
  }
  return record;
}

function checkTarget(deps: CodeDeployDeps, record: DeploymentRecord, targetId: string): void {
  if (targetId !== targetIdOf(deps, record)) {
    throw new CodeDeployRefusal(
      'DeploymentTargetDoesNotExistException',
      `Deployment ${record.id} has no target '${targetId}' (its target is '${targetIdOf(deps, record)}')`,
    );
  }
}

/** ListDeploymentTargets: the one target, unless a filter leaves it out. */
export const listDeploymentTargets: Operation<ListDeploymentTargetsAnswer> = (deps, body) => {
  const record = startedDeployment(deps, body);
  const filters = body['targetFilters'] ?? {};
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters)) {
    throw new CodeDeployRefusal('InvalidInputException', 'targetFilters must be a map of filter name to values');
  }
  let matches = true;
  for (const [name, values] of Object.entries(filters)) {
    if (!FILTER_NAMES.has(name)) {
      throw new CodeDeployRefusal(
        'InvalidTargetFilterNameException',
        `'${name}' is not a target filter (TargetStatus, ServerInstanceLabel)`,
      );
    }
    if (!Array.isArray(values))
      throw new CodeDeployRefusal('InvalidInputException', `targetFilters.${name} must be a list`);
    // ECS and Lambda targets have no instance label, so a label filter matches none of them.
    if (name === 'ServerInstanceLabel') matches &&= values.length === 0;
    else matches &&= values.length === 0 || values.includes(targetStatus(record.status));
  }
  const { items, nextToken } = page(matches ? [targetIdOf(deps, record)] : [], body);
  return { targetIds: items, ...(nextToken && { nextToken }) };
};

/** GetDeploymentTarget. */
export const getDeploymentTarget: Operation<GetDeploymentTargetAnswer> = (deps, body) => {
  const record = startedDeployment(deps, body);
  checkTarget(deps, record, requiredString(body, 'targetId', 'DeploymentTargetId'));
  return { deploymentTarget: deploymentTarget(deps, record) };
};

/** BatchGetDeploymentTargets: at most 25 ids, each of which must be the deployment's target. */
export const batchGetDeploymentTargets: Operation = (deps, body) => {
  const record = startedDeployment(deps, body);
  const ids = body['targetIds'];
  if (ids === undefined || ids === null)
    throw new CodeDeployRefusal('DeploymentTargetIdRequiredException', 'targetIds is required');
  if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string')) {
    throw new CodeDeployRefusal('InvalidDeploymentTargetIdException', 'targetIds must be a list of target ids');
  }
  if (ids.length > BATCH_LIMIT) {
    throw new CodeDeployRefusal('DeploymentTargetListSizeExceededException', `at most ${BATCH_LIMIT} targets at once`);
  }
  for (const id of ids) checkTarget(deps, record, id);
  return { deploymentTargets: ids.map(() => deploymentTarget(deps, record)) };
};
