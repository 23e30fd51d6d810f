/**
 * @module shifting/declarations
 * Applications, deployment groups and custom deployment configurations written in the config file,
 * entered into the registry at start exactly as the CodeDeploy API would create them, so the same rules
 * hold whichever way they came. What the store kept from an earlier run is updated to the file's
 * version rather than refused as existing, so a restart with the same file is not an error. The same
 * entry into a scratch registry ({@link declarationProblems}) lets `validate` and start-up report a
 * refusal at its line in the file before anything starts.
 */
import { customDeploymentConfig } from '../codedeploy/create-deployment-config.js';
import { type ComputePlatform } from '../codedeploy/deployment-config-model.js';
import type { DeploymentGroupSettings } from '../codedeploy/deployment-group.js';
import { type AwsErrorType, CodeDeployRefusal } from '../codedeploy/exceptions.js';
import { type CustomConfigSpec } from '../codedeploy/shift-spec.js';
import { ManualClock } from '../core/clock.js';
import { uuid } from '../core/ids.js';
import { Registry } from './registry.js';

/** The member of a deployment group each refusal is about. */
const MEMBER_OF: Readonly<Partial<Record<AwsErrorType, string>>> = {
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

/** A parsed config's declarations with what they may name: its alarms and its services. */
export interface DeclaringConfig extends Declarations {
  readonly alarms: Readonly<Record<string, unknown>>;
  readonly services: readonly { readonly name: string }[];
}

/**
 * Every refusal the config's declarations would meet, each with its path in the file: they are entered
 * into a scratch registry, so the file is held to exactly the rules the API applies; and an ECS group
 * must name a service of this file.
 */
export function declarationProblems(config: DeclaringConfig): DeclarationProblem[] {
  const problems: DeclarationProblem[] = [];
  const scratch = new Registry(new ManualClock(), { alarmDeclared: (name) => Object.hasOwn(config.alarms, name) });
  applyDeclarations(scratch, config, (problem) => problems.push(problem));
  const services = config.services.map((s) => s.name);
  for (const [appName, app] of Object.entries(config.applications)) {
    for (const [groupName, group] of Object.entries(app.deploymentGroups)) {
      group.ecsServices?.forEach((ecs, i) => {
        if (ecs.serviceName !== undefined && !services.includes(ecs.serviceName)) {
          problems.push({
            path: ['applications', appName, 'deploymentGroups', groupName, 'ecsServices', i, 'serviceName'],
            message: `names no service of this file (services: ${services.join(', ')})`,
          });
        }
      });
    }
  }
  return problems;
}
