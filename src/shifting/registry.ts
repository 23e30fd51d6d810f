/**
 * @module shifting/registry
 * CodeDeploy's named resources that live beside deployments: applications, their deployment groups and
 * custom deployment configurations, plus what each deployment was asked for on the wire (its revision
 * and the group settings it ran under) so GetDeployment can echo it. Pure data in memory; the clock is
 * passed in so creation times follow the same time as everything else. Every refusal carries the
 * CodeDeploy exception name (`awsType`), because the registry is where CodeDeploy's rules live. A change
 * is handed to the store first and made in memory only once the store took it, so a write the store
 * refuses leaves nothing behind that a read or a retry would trip over.
 */
import { type ComputePlatform, type DeploymentConfig } from '../codedeploy/deployment-config-model.js';
import {
  type AlarmConfiguration,
  ALARMS_PER_GROUP,
  type ApplicationRecord,
  type DeploymentGroupRecord,
  type DeploymentGroupSettings,
  type DeploymentRequest,
} from '../codedeploy/deployment-group.js';
import { type CodeDeployException, CodeDeployRefusal } from '../codedeploy/exceptions.js';
import { defaultConfigName, PREDEFINED_CONFIGS, predefinedConfig } from '../codedeploy/predefined-configs.js';
import { checkTriggers } from '../codedeploy/triggers.js';
import type { Clock } from '../core/clock.js';
import { uuid } from '../core/ids.js';

/** A request CodeDeploy would refuse; `awsType` is the `__type` the API answers with. */
export class RegistryError extends CodeDeployRefusal {}

const NAME = /^[A-Za-z0-9+=,.@_-]{1,100}$/;

/** What changed in the registry: a document to keep (or, with `value` undefined, to forget). */
export type RegistryChange =
  | { readonly kind: 'application'; readonly key: string; readonly value: ApplicationRecord | undefined }
  | { readonly kind: 'group'; readonly key: string; readonly value: DeploymentGroupRecord | undefined }
  | { readonly kind: 'config'; readonly key: string; readonly value: DeploymentConfig | undefined }
  | { readonly kind: 'request'; readonly key: string; readonly value: DeploymentRequest };

/** Options of a {@link Registry}. */
export interface RegistryOptions {
  /** Says whether an alarm name exists (CodeDeploy asks CloudWatch; here the config). */
  readonly alarmDeclared?: (name: string) => boolean;
  /**
   * Hears every change before it is made in memory (the store keeps them); when it throws, the change is
   * not made and the error goes to the caller.
   */
  readonly onChange?: (change: RegistryChange) => void;
  /**
   * Runs the onChange calls of one operation (a rename is a delete and a put; deleting an application
   * deletes its groups) as one write that is kept whole or not at all: the store's transaction.
   */
  readonly atomically?: (write: () => void) => void;
}

/** What a store kept of a registry, read back at start. */
export interface KeptRegistry {
  readonly applications: readonly ApplicationRecord[];
  readonly groups: readonly DeploymentGroupRecord[];
  readonly configs: readonly DeploymentConfig[];
  readonly requests: readonly (readonly [deploymentId: string, request: DeploymentRequest])[];
}

/** A group's key in the store: application and group name. */
export const groupKey = (applicationName: string, name: string) => `${applicationName}/${name}`;

/** Applications, deployment groups, custom configurations and deployment requests, in memory. */
export class Registry {
  readonly #clock: Clock;
  readonly #applications = new Map<string, ApplicationRecord>();
  /** Per application, groups by name. */
  readonly #groups = new Map<string, Map<string, DeploymentGroupRecord>>();
  readonly #configs = new Map<string, DeploymentConfig>();
  readonly #requests = new Map<string, DeploymentRequest>();
  readonly #alarmDeclared: (name: string) => boolean;
  readonly #onChange: (change: RegistryChange) => void;
  readonly #atomically: (write: () => void) => void;

  constructor(clock: Clock, options: RegistryOptions = {}) {
    this.#clock = clock;
    this.#alarmDeclared = options.alarmDeclared ?? (() => false);
    this.#onChange = options.onChange ?? (() => undefined);
    this.#atomically = options.atomically ?? ((write) => write());
  }

  /** Hands one operation's changes to the store, as one write; throws what the store throws. */
  #keep(...changes: RegistryChange[]): void {
    this.#atomically(() => {
      for (const change of changes) this.#onChange(change);
    });
  }

  /**
   * CodeDeploy's rules for an alarm configuration: an enabled one names alarms, each once, at most
   * {@link ALARMS_PER_GROUP}, and each must exist.
   */
  checkAlarms(config: AlarmConfiguration | undefined): void {
    const names = (config?.alarms ?? []).map((a) => a.name);
    if (names.length > ALARMS_PER_GROUP) {
      throw new RegistryError(
        'AlarmsLimitExceededException',
        `At most ${ALARMS_PER_GROUP} alarms may be named, got ${names.length}`,
      );
    }
    if (config?.enabled && names.length === 0) {
      throw new RegistryError('InvalidAlarmConfigException', 'alarmConfiguration is enabled but names no alarms');
    }
    const seen = new Set<string>();
    for (const name of names) {
      if (name.length === 0 || name.length > 255) {
        throw new RegistryError('InvalidAlarmConfigException', `alarm names must be 1-255 characters, got "${name}"`);
      }
      if (seen.has(name)) throw new RegistryError('InvalidAlarmConfigException', `alarm "${name}" is named twice`);
      seen.add(name);
      if (!this.#alarmDeclared(name)) {
        throw new RegistryError(
          'InvalidAlarmConfigException',
          `alarm "${name}" is not declared in the config's alarms:`,
        );
      }
    }
  }

  /** Puts back what a store kept, without telling onChange (it is kept already). Call before anything else. */
  restore(kept: KeptRegistry): void {
    for (const config of kept.configs) this.#configs.set(config.name, config);
    for (const app of kept.applications) {
      this.#applications.set(app.name, app);
      this.#groups.set(app.name, new Map());
    }
    for (const group of kept.groups) this.#groupsOf(group.applicationName).set(group.name, group);
    for (const [id, request] of kept.requests) this.#requests.set(id, request);
  }

  /**
   * Creates an application or, when it exists (kept from an earlier run), leaves it: the file declares
   * what must exist. Refused when the existing one is for another platform.
   */
  declareApplication(name: string, computePlatform: ComputePlatform): ApplicationRecord {
    const existing = this.#applications.get(name);
    if (!existing) return this.createApplication(name, computePlatform);
    if (existing.computePlatform !== computePlatform) {
      throw new RegistryError(
        'InvalidComputePlatformException',
        `Application '${name}' already exists for the ${existing.computePlatform} compute platform, not ${computePlatform}`,
      );
    }
    return existing;
  }

  /** Creates a group or gives an existing one (kept from an earlier run) exactly the declared settings. */
  declareGroup(applicationName: string, name: string, settings: DeploymentGroupSettings): DeploymentGroupRecord {
    const old = this.#groups.get(applicationName)?.get(name);
    if (!old) return this.createGroup(applicationName, name, settings);
    const group = this.#checkedGroup(
      this.application(applicationName),
      { id: old.id, applicationName, name },
      settings,
      old,
    );
    this.#keep({ kind: 'group', key: groupKey(applicationName, name), value: group });
    this.#groupsOf(applicationName).set(name, group);
    return group;
  }

  /** Creates a custom configuration or replaces one of the same name (kept from an earlier run, keeping its id). */
  declareConfig(config: DeploymentConfig): DeploymentConfig {
    const old = this.#configs.get(config.name);
    if (!old) return this.createConfig(config);
    const replaced = { ...config, id: old.id, createTime: old.createTime };
    this.#keep({ kind: 'config', key: config.name, value: replaced });
    this.#configs.set(config.name, replaced);
    return replaced;
  }

  /** The registry's time, in epoch ms: what creation times are stamped with. */
  now(): number {
    return this.#clock.now();
  }

  // Applications ------------------------------------------------------------------------------------

  createApplication(name: string, computePlatform: ComputePlatform): ApplicationRecord {
    checkName(name, 'application', 'InvalidApplicationNameException');
    if (this.#applications.has(name)) {
      throw new RegistryError('ApplicationAlreadyExistsException', `Application '${name}' already exists`);
    }
    const app: ApplicationRecord = { id: uuid(), name, computePlatform, createTime: this.#clock.now() };
    this.#keep({ kind: 'application', key: name, value: app });
    this.#applications.set(name, app);
    this.#groups.set(name, new Map());
    return app;
  }

  application(name: string): ApplicationRecord {
    const app = this.#applications.get(name);
    if (!app) throw new RegistryError('ApplicationDoesNotExistException', `No application found for name: ${name}`);
    return app;
  }

  /** Application names, sorted (the order ListApplications pages in). */
  applicationNames(): string[] {
    return [...this.#applications.keys()].sort();
  }

  /** Deletes an application and its groups; deleting one that does not exist is not an error, as in AWS. */
  deleteApplication(name: string): void {
    const groups = [...(this.#groups.get(name)?.keys() ?? [])].map((group): RegistryChange => ({
      kind: 'group',
      key: groupKey(name, group),
      value: undefined,
    }));
    this.#keep(...groups, { kind: 'application', key: name, value: undefined });
    this.#applications.delete(name);
    this.#groups.delete(name);
  }

  // Deployment groups -------------------------------------------------------------------------------

  createGroup(applicationName: string, name: string, settings: DeploymentGroupSettings): DeploymentGroupRecord {
    const app = this.application(applicationName);
    checkName(name, 'deployment group', 'InvalidDeploymentGroupNameException');
    const groups = this.#groupsOf(applicationName);
    if (groups.has(name)) {
      throw new RegistryError(
        'DeploymentGroupAlreadyExistsException',
        `Deployment group '${name}' already exists for application '${applicationName}'`,
      );
    }
    const group = this.#checkedGroup(app, { id: uuid(), applicationName, name }, settings);
    this.#keep({ kind: 'group', key: groupKey(applicationName, name), value: group });
    groups.set(name, group);
    return group;
  }

  group(applicationName: string, name: string): DeploymentGroupRecord {
    this.application(applicationName);
    const group = this.#groupsOf(applicationName).get(name);
    if (!group) {
      throw new RegistryError(
        'DeploymentGroupDoesNotExistException',
        `No Deployment Group found for name: ${name} in application ${applicationName}`,
      );
    }
    return group;
  }

  /** Group names of an application, sorted. */
  groupNames(applicationName: string): string[] {
    this.application(applicationName);
    return [...this.#groupsOf(applicationName).keys()].sort();
  }

  /** Changes only the members given; renames when `newName` is given. */
  updateGroup(
    applicationName: string,
    currentName: string,
    newName: string | undefined,
    patch: DeploymentGroupSettings,
  ): DeploymentGroupRecord {
    const app = this.application(applicationName);
    const old = this.group(applicationName, currentName);
    const groups = this.#groupsOf(applicationName);
    const name = newName ?? currentName;
    if (name !== currentName) {
      checkName(name, 'deployment group', 'InvalidDeploymentGroupNameException');
      if (groups.has(name)) {
        throw new RegistryError(
          'DeploymentGroupAlreadyExistsException',
          `Deployment group '${name}' already exists for application '${applicationName}'`,
        );
      }
    }
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const group = this.#checkedGroup(app, { id: old.id, applicationName, name }, { ...old.settings, ...defined }, old);
    const put: RegistryChange = { kind: 'group', key: groupKey(applicationName, name), value: group };
    if (name === currentName) this.#keep(put);
    else this.#keep({ kind: 'group', key: groupKey(applicationName, currentName), value: undefined }, put);
    groups.delete(currentName);
    groups.set(name, group);
    return group;
  }

  /** Deleting a group that does not exist is not an error, as in AWS. */
  deleteGroup(applicationName: string, name: string): void {
    const groups = this.#groups.get(applicationName);
    if (!groups?.has(name)) return;
    this.#keep({ kind: 'group', key: groupKey(applicationName, name), value: undefined });
    groups.delete(name);
  }

  #groupsOf(applicationName: string): Map<string, DeploymentGroupRecord> {
    let groups = this.#groups.get(applicationName);
    if (!groups) {
      groups = new Map();
      this.#groups.set(applicationName, groups);
    }
    return groups;
  }

  /** Applies the rules a group's settings must follow on its application's platform. */
  #checkedGroup(
    app: ApplicationRecord,
    identity: { id: string; applicationName: string; name: string },
    settings: DeploymentGroupSettings,
    replacing?: DeploymentGroupRecord,
  ): DeploymentGroupRecord {
    const platform = app.computePlatform;
    this.checkAlarms(settings.alarmConfiguration);
    checkTriggers(settings.triggerConfigurations);
    const configName = settings.deploymentConfigName ?? defaultConfigName(platform);
    const config = this.config(configName);
    if (config.computePlatform !== platform) {
      throw new RegistryError(
        'InvalidDeploymentConfigNameException',
        `Deployment config '${configName}' is for the ${config.computePlatform} compute platform, ` +
          `but application '${app.name}' is ${platform}`,
      );
    }
    if (platform !== 'Server') {
      const style = settings.deploymentStyle;
      if (
        (style?.deploymentType !== undefined && style.deploymentType !== 'BLUE_GREEN') ||
        (style?.deploymentOption !== undefined && style.deploymentOption !== 'WITH_TRAFFIC_CONTROL')
      ) {
        throw new RegistryError(
          'InvalidDeploymentStyleException',
          `${platform} deployment groups must use deploymentType BLUE_GREEN with deploymentOption WITH_TRAFFIC_CONTROL`,
        );
      }
    }
    if (platform === 'ECS') {
      const services = settings.ecsServices ?? [];
      const serviceName = services[0]?.serviceName;
      if (services.length !== 1 || !serviceName) {
        throw new RegistryError(
          'InvalidECSServiceException',
          'An ECS deployment group needs exactly one entry in ecsServices with a serviceName',
        );
      }
      const clusterName = services[0]?.clusterName ?? '';
      for (const [appName, groups] of this.#groups) {
        for (const other of groups.values()) {
          if (other.id === replacing?.id) continue;
          const theirs = other.settings.ecsServices?.[0];
          if (theirs?.serviceName === serviceName && (theirs.clusterName ?? '') === clusterName) {
            throw new RegistryError(
              'ECSServiceMappingLimitExceededException',
              `ECS service '${serviceName}' already belongs to deployment group '${other.name}' of application '${appName}'`,
            );
          }
        }
      }
    }
    return { ...identity, settings: { ...settings, deploymentConfigName: configName } };
  }

  // Deployment configurations -----------------------------------------------------------------------

  createConfig(config: DeploymentConfig): DeploymentConfig {
    if (predefinedConfig(config.name) || this.#configs.has(config.name)) {
      throw new RegistryError(
        'DeploymentConfigAlreadyExistsException',
        `Deployment config '${config.name}' already exists`,
      );
    }
    this.#keep({ kind: 'config', key: config.name, value: config });
    this.#configs.set(config.name, config);
    return config;
  }

  /** A predefined or custom configuration by name. */
  config(name: string): DeploymentConfig {
    const config = predefinedConfig(name) ?? this.#configs.get(name);
    if (!config) {
      throw new RegistryError('DeploymentConfigDoesNotExistException', `Deployment config '${name}' does not exist`);
    }
    return config;
  }

  /** Every configuration name: predefined ones first (in their order), then custom ones sorted. */
  configNames(): string[] {
    return [...PREDEFINED_CONFIGS.map((c) => c.name), ...[...this.#configs.keys()].sort()];
  }

  /** Predefined configurations cannot be deleted, nor one a group uses; an absent one is not an error. */
  deleteConfig(name: string): void {
    if (predefinedConfig(name)) {
      throw new RegistryError(
        'InvalidOperationException',
        `Deployment config '${name}' is predefined and cannot be deleted`,
      );
    }
    for (const groups of this.#groups.values()) {
      for (const group of groups.values()) {
        if (group.settings.deploymentConfigName === name) {
          throw new RegistryError(
            'DeploymentConfigInUseException',
            `Deployment config '${name}' is in use by deployment group '${group.name}' of application '${group.applicationName}'`,
          );
        }
      }
    }
    if (!this.#configs.has(name)) return;
    this.#keep({ kind: 'config', key: name, value: undefined });
    this.#configs.delete(name);
  }

  // Deployment requests -----------------------------------------------------------------------------

  recordRequest(deploymentId: string, request: DeploymentRequest): void {
    this.#keep({ kind: 'request', key: deploymentId, value: request });
    this.#requests.set(deploymentId, request);
  }

  request(deploymentId: string): DeploymentRequest | undefined {
    return this.#requests.get(deploymentId);
  }
}

function checkName(name: string, what: string, awsType: CodeDeployException): void {
  if (!NAME.test(name)) {
    throw new RegistryError(
      awsType,
      `The ${what} name must be 1-100 characters of A-Z, a-z, 0-9 and + = , . @ _ -, got ${JSON.stringify(name)}`,
    );
  }
}
