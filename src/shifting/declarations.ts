/**
 * @module shifting/declarations
 * Applications, deployment groups and custom deployment configurations written in the config file,
 * entered into the registry at start exactly as the CodeDeploy API would create them, so the same rules
 * hold whichever way they came. What the store kept from an earlier run is updated to the file's
 * version rather than refused as existing, so a restart with the same file is not an error. The config loader runs the same entry against a scratch registry to
 * report a refusal at its line in the file before anything starts.
 */
import { CodeDeployRefusal } from '../core/errors.js';
import { uuid } from '../core/ids.js';
import { type ComputePlatform, type CustomConfigSpec, customDeploymentConfig } from './deployment-config.js';
import type { DeploymentGroupSettings, Registry } from './registry.js';

/** The member of a deployment group each refusal is about. */
const MEMBER_OF: Readonly<Record<string, string>> = {
  InvalidDeploymentConfigNameException: 'deploymentConfigName',
  DeploymentConfigDoesNotExistException: 'deploymentConfigName',
  InvalidECSServiceException: 'ecsServices',
  ECSServiceMappingLimitExceededException: 'ecsServices',
  InvalidAlarmConfigException: 'alarmConfiguration',
  AlarmsLimitExceededException: 'alarmConfiguration',
  InvalidDeploymentStyleException: 'deploymentStyle',
  InvalidTriggerConfigException: 'triggerConfigurations',
  TriggerTargetsLimitExceededException: 'triggerConfigurations',
};

/** What the config file declares (after its schema has parsed it). */
export interface Declarations {
  readonly deploymentConfigs: Readonly<Record<string, CustomConfigSpec>>;
  readonly applications: Readonly<
    Record<
      string,
      {
        readonly computePlatform: Extract<ComputePlatform, 'Lambda' | 'ECS'>;
        readonly deploymentGroups: Readonly<Record<string, DeploymentGroupSettings>>;
      }
    >
  >;
}

/** A refusal of one declaration, with where it is in the config file. */
export interface DeclarationProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Creates every declared configuration, application and group in `registry` (configurations first, as
 * groups may name them). A refusal is passed to `onProblem` with its path and the rest still goes in;
 * without `onProblem` the first refusal is thrown.
 */
export function applyDeclarations(
  registry: Registry,
  declarations: Declarations,
  onProblem?: (problem: DeclarationProblem) => void,
): void {
  const attempt = (path: (string | number)[], create: () => void, members: object = {}): boolean => {
    try {
      create();
      return true;
    } catch (err) {
      if (!onProblem || !(err instanceof CodeDeployRefusal)) throw err;
      // Point at the member the refusal is about when the entry has it, else at the entry.
      const member = MEMBER_OF[err.awsType];
      const at = member !== undefined && Object.hasOwn(members, member) ? [...path, member] : path;
      onProblem({ path: at, message: `${err.message} (${err.awsType})` });
      return false;
    }
  };
  for (const [name, declared] of Object.entries(declarations.deploymentConfigs)) {
    attempt(['deploymentConfigs', name], () =>
      registry.declareConfig(
        customDeploymentConfig(name, declared.computePlatform, declared.trafficRouting, {
          id: uuid(),
          createTime: registry.now(),
        }),
      ),
    );
  }
  for (const [appName, app] of Object.entries(declarations.applications)) {
    if (!attempt(['applications', appName], () => registry.declareApplication(appName, app.computePlatform))) continue;
    for (const [groupName, settings] of Object.entries(app.deploymentGroups)) {
      attempt(
        ['applications', appName, 'deploymentGroups', groupName],
        () => registry.declareGroup(appName, groupName, settings),
        settings,
      );
    }
  }
}
