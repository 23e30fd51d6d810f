/**
 * @module appspec/resolve
 * Maps an AppSpec onto a service of the config: which of its version labels is the original (blue) and
 * which the replacement (green). Pure; the caller finds the service.
 */
import { SwitchyardError } from '../core/errors.js';
import type { AppSpec } from './schema.js';

/** What resolving needs to know of a service: its name, its version labels, and the live one. */
export interface ServiceVersions {
  readonly name: string;
  readonly versions: readonly string[];
  readonly live: string;
}

const TASK_DEFINITION_ARN = /^arn:[^:]+:ecs:[^:]*:[^:]*:task-definition\/(.+)$/;

/**
 * The labels a task definition may stand for, most specific first: the whole text, then `family:revision`
 * (from an ARN), then the revision alone.
 */
export function taskDefinitionLabels(taskDefinition: string): string[] {
  const name = TASK_DEFINITION_ARN.exec(taskDefinition)?.[1] ?? taskDefinition;
  const colon = name.lastIndexOf(':');
  const revision = colon >= 0 ? name.slice(colon + 1) : name;
  return [...new Set([taskDefinition, name, revision].filter((label) => label !== ''))];
}

/** The labels of the original and the replacement version; throws VERSION_NOT_FOUND or APPSPEC_INVALID. */
export function resolveVersions(spec: AppSpec, service: ServiceVersions): { current: string; target: string } {
  if (spec.platform === 'Lambda') {
    // Whether the alias really points at CurrentVersion is the deployment's to check, as CodeDeploy does.
    return {
      current: lambdaLabel(service, spec.currentVersion, 'CurrentVersion'),
      target: lambdaLabel(service, spec.targetVersion, 'TargetVersion'),
    };
  }
  const tried = taskDefinitionLabels(spec.taskDefinition);
  const target = tried.find((label) => service.versions.includes(label));
  if (target === undefined) {
    throw new SwitchyardError(
      'VERSION_NOT_FOUND',
      `no version of service "${service.name}" matches task definition "${spec.taskDefinition}" ` +
        `(looked for ${quoted(tried)}); ${versionsOf(service)}`,
    );
  }
  if (target === service.live) {
    throw new SwitchyardError(
      'APPSPEC_INVALID',
      `task definition "${spec.taskDefinition}" is version "${target}" of service "${service.name}", ` +
        'which is already live: nothing to deploy',
    );
  }
  return { current: service.live, target };
}

function lambdaLabel(service: ServiceVersions, version: string, key: string): string {
  if (service.versions.includes(version)) return version;
  throw new SwitchyardError(
    'VERSION_NOT_FOUND',
    `service "${service.name}" has no version "${version}" (the AppSpec's ${key}); ${versionsOf(service)}`,
  );
}

function versionsOf(service: ServiceVersions): string {
  return service.versions.length ? `its versions are ${quoted(service.versions)}` : 'it has no versions';
}

function quoted(labels: readonly string[]): string {
  return labels.map((label) => `"${label}"`).join(', ');
}
