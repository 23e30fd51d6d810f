/**
 * @module codedeploy/deployment-config
 * Deployment configurations, one import for all of it: what a configuration is (./deployment-config-model),
 * CodeDeploy's predefined ones (./predefined-configs), custom ones created through `CreateDeploymentConfig`
 * or from switchyard's finer form (./create-deployment-config, ./shift-spec), and their wire form
 * (./deployment-config-info).
 */
export { ComputePlatform, DeploymentConfig, MinimumHealthyHosts, ZonalConfig } from './deployment-config-model.js';
export { defaultConfigName, PREDEFINED_CONFIGS, PREDEFINED_PREFIX, predefinedConfig } from './predefined-configs.js';
export {
  DeploymentConfigInfo,
  fromTrafficRoutingConfig,
  toDeploymentConfigInfo,
  toTrafficRoutingConfig,
  TrafficRoutingConfig,
} from './deployment-config-info.js';
export {
  customDeploymentConfig,
  DEPLOYMENT_CONFIG_EXCEPTIONS,
  DeploymentConfigError,
  type DeploymentConfigException,
  type NewConfigMeta,
  parseCreateDeploymentConfig,
} from './create-deployment-config.js';
export { CustomConfigSpec, ShiftSpec } from './shift-spec.js';
