/**
 * @module lab/sim/deployment
 * The deployment a simulated run makes, built as the CodeDeploy API builds it for a group set up the way
 * the lab's live runs set theirs up: ECS, the policy's shift, the policy's alarms with automatic rollback
 * on alarm and on failure, the experiment's bake as the termination wait (alarms watched through it),
 * the experiment's time scale; and the one-service config whose traffic state the engine moves.
 */
import { parseAppSpec } from '../../appspec/parse.js';
import { customDeploymentConfig } from '../../codedeploy/create-deployment-config.js';
import { type Config, ConfigSchema } from '../../config/schema.js';
import { SwitchyardError } from '../../core/errors.js';
import type { DeploymentPlan } from '../../shifting/ports.js';
import { hasManualPause } from '../../shifting/schedule.js';
import { labAppSpec } from '../appspec.js';
import type { Experiment, PolicySpec } from '../experiment.js';

/** The service and version labels of every simulated run. */
export const SERVICE = 'web';
export const ORIGINAL = 'original';
export const REPLACEMENT = 'replacement';

/** CodeDeploy's hook timeout; no hook runs in a simulation. */
const HOOK_TIMEOUT_MS = 3_600_000;

let appSpec: DeploymentPlan['appSpec'] | undefined;

/** Throws EXPERIMENT_INVALID when something of the run cannot be simulated, saying what. */
export function checkSimulable(experiment: Experiment, policy: PolicySpec): void {
  if (experiment.versions.kind === 'config') {
    throw new SwitchyardError(
      'EXPERIMENT_INVALID',
      `versions from the config file ${experiment.versions.config} cannot be simulated (their behaviour is ` +
        'unknown): give synthetic versions, or run in live mode only',
    );
  }
  for (const name of policy.alarms) {
    if (experiment.alarms[name]?.kind === 'prometheus') {
      throw new SwitchyardError(
        'EXPERIMENT_INVALID',
        `alarm "${name}" of policy "${policy.name}" asks Prometheus, which a simulation cannot: ` +
          'run it in live mode only, or leave the alarm out of the policy',
      );
    }
  }
  if (hasManualPause(policy.shift)) {
    throw new SwitchyardError(
      'EXPERIMENT_INVALID',
      `policy "${policy.name}" pauses until a manual continue, which no one gives in a simulation`,
    );
  }
}

/** The plan CreateDeployment would make for this policy. */
export function planOf(experiment: Experiment, policy: PolicySpec): DeploymentPlan {
  appSpec ??= parseAppSpec(labAppSpec(SERVICE, REPLACEMENT), 'appspec.yml');
  return {
    applicationName: 'lab',
    deploymentGroupName: 'lab',
    config: customDeploymentConfig('Lab', 'ECS', policy.shift, {
      id: '00000000-0000-4000-8000-000000000000',
      createTime: 0,
    }),
    appSpec,
    service: SERVICE,
    currentVersion: ORIGINAL,
    targetVersion: REPLACEMENT,
    timeScale: experiment.timeScale,
    hookTimeoutMs: HOOK_TIMEOUT_MS,
    autoRollback: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
    readyWait: undefined,
    termination: { terminate: true, waitMs: experiment.bake },
    ...(policy.alarms.length > 0 && { alarms: { names: [...policy.alarms], ignorePollAlarmFailure: false } }),
    testListener: false,
    creator: 'user',
  };
}

const configs = new WeakMap<Experiment, Map<boolean, Config>>();

/** The config of the simulated service: two versions, sticky on the user header when the load is. */
export function configOf(experiment: Experiment, retryOnOriginal: boolean): Config {
  let byRetry = configs.get(experiment);
  if (!byRetry) configs.set(experiment, (byRetry = new Map<boolean, Config>()));
  let config = byRetry.get(retryOnOriginal);
  if (!config) {
    // The targets are never contacted: nothing in a simulation opens a socket.
    config = ConfigSchema.parse({
      listeners: { production: { host: '127.0.0.1', port: 0 } },
      control: { host: '127.0.0.1', port: 0 },
      store: 'memory',
      services: [
        {
          name: SERVICE,
          versions: {
            [ORIGINAL]: { targets: ['http://127.0.0.1:1'] },
            [REPLACEMENT]: { targets: ['http://127.0.0.1:2'] },
          },
          live: ORIGINAL,
          routing: {
            retryOnOriginal,
            ...(experiment.load.sticky && { sticky: { header: experiment.load.userHeader } }),
          },
        },
      ],
    });
    byRetry.set(retryOnOriginal, config);
  }
  return config;
}
