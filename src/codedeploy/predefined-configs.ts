/**
 * @module codedeploy/predefined-configs
 * CodeDeploy's predefined `CodeDeployDefault.*` configurations, with the ids and createTime
 * GetDeploymentConfig shows for them, and the one a deployment uses when none is named.
 */
import { deepFreeze } from '../core/freeze.js';
import { canaryShift as canary, linearShift as linear } from './deployment-config-info.js';
import { type ComputePlatform, DeploymentConfig, type MinimumHealthyHosts } from './deployment-config-model.js';
import type { TrafficShift } from './traffic-shift.js';

/** The day CodeDeploy launched: an old, fixed createTime, as AWS shows for its own configs. */
const PREDEFINED_CREATE_TIME = Date.UTC(2014, 10, 12);

const allAtOnce: TrafficShift = { kind: 'allAtOnce' };

type PredefinedRow = readonly [name: string, platform: ComputePlatform, routing: TrafficShift | MinimumHealthyHosts];

/** Order fixes the ids (…0001, …0002, …), so it must only ever grow at the end. */
const PREDEFINED_ROWS: readonly PredefinedRow[] = [
  ['CodeDeployDefault.OneAtATime', 'Server', { type: 'MOST_CONCURRENCY', value: 1 }],
  ['CodeDeployDefault.HalfAtATime', 'Server', { type: 'FLEET_PERCENT', value: 50 }],
  ['CodeDeployDefault.AllAtOnce', 'Server', { type: 'FLEET_PERCENT', value: 0 }],
  ['CodeDeployDefault.LambdaAllAtOnce', 'Lambda', allAtOnce],
  ['CodeDeployDefault.LambdaCanary10Percent5Minutes', 'Lambda', canary(10, 5)],
  ['CodeDeployDefault.LambdaCanary10Percent10Minutes', 'Lambda', canary(10, 10)],
  ['CodeDeployDefault.LambdaCanary10Percent15Minutes', 'Lambda', canary(10, 15)],
  ['CodeDeployDefault.LambdaCanary10Percent30Minutes', 'Lambda', canary(10, 30)],
  // AWS spells this one "Minute" and the ECS one "Minutes"; both are kept exactly.
  ['CodeDeployDefault.LambdaLinear10PercentEvery1Minute', 'Lambda', linear(10, 1)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery2Minutes', 'Lambda', linear(10, 2)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery3Minutes', 'Lambda', linear(10, 3)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery10Minutes', 'Lambda', linear(10, 10)],
  ['CodeDeployDefault.ECSAllAtOnce', 'ECS', allAtOnce],
  ['CodeDeployDefault.ECSCanary10Percent5Minutes', 'ECS', canary(10, 5)],
  ['CodeDeployDefault.ECSCanary10Percent15Minutes', 'ECS', canary(10, 15)],
  ['CodeDeployDefault.ECSLinear10PercentEvery1Minutes', 'ECS', linear(10, 1)],
  ['CodeDeployDefault.ECSLinear10PercentEvery3Minutes', 'ECS', linear(10, 3)],
];

/** The prefix AWS reserves for its own configurations. */
export const PREDEFINED_PREFIX = 'CodeDeployDefault.';

/** Every `CodeDeployDefault.*` configuration, frozen, in the order of their ids. */
export const PREDEFINED_CONFIGS: readonly DeploymentConfig[] = PREDEFINED_ROWS.map(
  ([name, computePlatform, routing], i) =>
    deepFreeze(
      DeploymentConfig.parse({
        name,
        computePlatform,
        ...('kind' in routing ? { trafficRouting: routing } : { minimumHealthyHosts: routing }),
        createTime: PREDEFINED_CREATE_TIME,
        id: `00000000-0000-0000-0000-${String(i + 1).padStart(12, '0')}`,
        predefined: true,
      }),
    ),
);

const PREDEFINED_BY_NAME = new Map(PREDEFINED_CONFIGS.map((c) => [c.name, c]));

/** The predefined configuration of that exact name, if there is one. */
export function predefinedConfig(name: string): DeploymentConfig | undefined {
  return PREDEFINED_BY_NAME.get(name);
}

/**
 * The configuration a deployment uses when neither it nor its group names one. Server's is documented;
 * Lambda's and ECS's follow what the console and CDK do (all at once).
 */
export function defaultConfigName(platform: ComputePlatform): string {
  switch (platform) {
    case 'Server':
      return 'CodeDeployDefault.OneAtATime';
    case 'Lambda':
      return 'CodeDeployDefault.LambdaAllAtOnce';
    case 'ECS':
      return 'CodeDeployDefault.ECSAllAtOnce';
  }
}
