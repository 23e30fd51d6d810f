/**
 * @module api/codedeploy/deployment-configs
 * CreateDeploymentConfig, GetDeploymentConfig, ListDeploymentConfigs, DeleteDeploymentConfig. The
 * predefined `CodeDeployDefault.*` configurations are always listed and can be neither re-created nor
 * deleted; validation of a new one is the shifting core's (parseCreateDeploymentConfig), as AWS does it.
 */
import { parseCreateDeploymentConfig } from '../../codedeploy/create-deployment-config.js';
import { toDeploymentConfigInfo } from '../../codedeploy/deployment-config-info.js';
import { uuid } from '../../core/ids.js';
import type { Operation } from './context.js';
import { page, requiredString } from './shapes.js';

/** CreateDeploymentConfig, validated as AWS does it. */
export const createDeploymentConfig: Operation = ({ registry }, body) => {
  const config = parseCreateDeploymentConfig(body, { id: uuid(), createTime: registry.now() });
  return { deploymentConfigId: registry.createConfig(config).id };
};

/** GetDeploymentConfig, the predefined ones included. */
export const getDeploymentConfig: Operation = ({ registry }, body) => {
  const name = requiredString(body, 'deploymentConfigName', 'DeploymentConfigName');
  return { deploymentConfigInfo: toDeploymentConfigInfo(registry.config(name)) };
};

/** ListDeploymentConfigs: the predefined ones, then the custom ones sorted. */
export const listDeploymentConfigs: Operation = ({ registry }, body) => {
  const { items, nextToken } = page(registry.configNames(), body);
  return { deploymentConfigsList: items, ...(nextToken && { nextToken }) };
};

/** DeleteDeploymentConfig; neither a predefined one nor one a group uses can be deleted. */
export const deleteDeploymentConfig: Operation = ({ registry }, body) => {
  registry.deleteConfig(requiredString(body, 'deploymentConfigName', 'DeploymentConfigName'));
  return {};
};
