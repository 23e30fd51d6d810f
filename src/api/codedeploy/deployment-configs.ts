/**
 * @module api/codedeploy/deployment-configs
 * CreateDeploymentConfig, GetDeploymentConfig, ListDeploymentConfigs, DeleteDeploymentConfig. The
 * predefined `CodeDeployDefault.*` configurations are always listed and can be neither re-created nor
 * deleted; validation of a new one is the shifting core's (parseCreateDeploymentConfig), as AWS does it.
 */
import { uuid } from '../../core/ids.js';
import { parseCreateDeploymentConfig, toDeploymentConfigInfo } from '../../codedeploy/deployment-config.js';
import type { Operation } from './context.js';
import { page, requiredString } from './shapes.js';

export const createDeploymentConfig: Operation = ({ registry }, body) => {
  const config = parseCreateDeploymentConfig(body, { id: uuid(), createTime: registry.now() });
  return { deploymentConfigId: registry.createConfig(config).id };
};

export const getDeploymentConfig: Operation = ({ registry }, body) => {
  const name = requiredString(body, 'deploymentConfigName', 'DeploymentConfigName');
  return { deploymentConfigInfo: toDeploymentConfigInfo(registry.config(name)) };
};

export const listDeploymentConfigs: Operation = ({ registry }, body) => {
  const { items, nextToken } = page(registry.configNames(), body);
  return { deploymentConfigsList: items, ...(nextToken && { nextToken }) };
};

export const deleteDeploymentConfig: Operation = ({ registry }, body) => {
  registry.deleteConfig(requiredString(body, 'deploymentConfigName', 'DeploymentConfigName'));
  return {};
};
