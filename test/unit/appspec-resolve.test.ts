/** Mapping an AppSpec onto a service's version labels, and the example AppSpecs against the demo config. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/app/config.js';
import { parseAppSpec } from '../../src/appspec/parse.js';
import { resolveVersions, taskDefinitionLabels } from '../../src/appspec/resolve.js';
import type { AppSpec, EcsAppSpec, LambdaAppSpec } from '../../src/appspec/schema.js';
import { isSwitchyardError, type SwitchyardError } from '../../src/core/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The service an AppSpec names: a Lambda's function name; none for ECS, whose deployment group names it. */
function appSpecServiceName(spec: AppSpec): string | undefined {
  return spec.platform === 'Lambda' ? spec.functionName : undefined;
}

function ecs(taskDefinition: string): EcsAppSpec {
  return {
    platform: 'ECS',
    resourceName: 'TargetService',
    taskDefinition,
    containerName: 'web',
    containerPort: 8080,
    hooks: [],
  };
}

function lambda(currentVersion: string, targetVersion: string): LambdaAppSpec {
  return {
    platform: 'Lambda',
    resourceName: 'checkout',
    functionName: 'checkout',
    alias: 'live',
    currentVersion,
    targetVersion,
    hooks: [],
  };
}

/** The error `run` throws, or a failure when it returns. */
function thrown(run: () => unknown): SwitchyardError {
  try {
    run();
  } catch (err) {
    if (isSwitchyardError(err)) return err;
    throw err;
  }
  throw new Error('expected an error');
}

const ARN = 'arn:aws:ecs:us-east-1:111122223333:task-definition/web:7';

describe('taskDefinitionLabels', () => {
  it.each([
    [ARN, [ARN, 'web:7', '7']],
    [
      'arn:aws-cn:ecs:cn-north-1:111122223333:task-definition/web',
      ['arn:aws-cn:ecs:cn-north-1:111122223333:task-definition/web', 'web'],
    ],
    ['web:7', ['web:7', '7']],
    ['7', ['7']],
    ['web:', ['web:']],
  ])('reads %s as %j', (taskDefinition, labels) => {
    expect(taskDefinitionLabels(taskDefinition)).toEqual(labels);
  });
});

describe('resolveVersions: ECS', () => {
  it('finds the target by full ARN, then family:revision, then revision; current is live', () => {
    expect(resolveVersions(ecs(ARN), { name: 'web', versions: ['6', '7'], live: '6' })).toEqual({
      current: '6',
      target: '7',
    });
    expect(resolveVersions(ecs(ARN), { name: 'web', versions: ['web:6', 'web:7'], live: 'web:6' })).toEqual({
      current: 'web:6',
      target: 'web:7',
    });
    expect(resolveVersions(ecs(ARN), { name: 'web', versions: ['blue', ARN], live: 'blue' })).toEqual({
      current: 'blue',
      target: ARN,
    });
    expect(resolveVersions(ecs('web:7'), { name: 'web', versions: ['6', '7'], live: '6' }).target).toBe('7');
    expect(resolveVersions(ecs('7'), { name: 'web', versions: ['6', '7'], live: '6' }).target).toBe('7');
  });

  it('lets the first match win when several labels match', () => {
    const service = { name: 'web', versions: ['7', 'web:7', ARN, 'blue'], live: 'blue' };
    expect(resolveVersions(ecs(ARN), service).target).toBe(ARN);
    expect(resolveVersions(ecs('web:7'), service).target).toBe('web:7');
  });

  it('names what it looked for and what exists when nothing matches', () => {
    const err = thrown(() => resolveVersions(ecs(ARN), { name: 'web', versions: ['1', '2'], live: '1' }));
    expect(err.code).toBe('VERSION_NOT_FOUND');
    expect(err.message).toBe(
      `no version of service "web" matches task definition "${ARN}" (looked for "${ARN}", "web:7", "7"); ` +
        'its versions are "1", "2"',
    );
  });

  it('refuses a target that is already live: nothing to deploy', () => {
    const err = thrown(() => resolveVersions(ecs('web:7'), { name: 'web', versions: ['6', '7'], live: '7' }));
    expect(err.code).toBe('APPSPEC_INVALID');
    expect(err.message).toBe(
      'task definition "web:7" is version "7" of service "web", which is already live: nothing to deploy',
    );
  });
});

describe('resolveVersions: Lambda', () => {
  const service = { name: 'checkout', versions: ['1', '2', '3'], live: '1' };

  it('takes CurrentVersion and TargetVersion as labels', () => {
    expect(resolveVersions(lambda('1', '3'), service)).toEqual({ current: '1', target: '3' });
  });

  it('names the missing version, which AppSpec key it came from, and what exists', () => {
    const target = thrown(() => resolveVersions(lambda('1', '4'), service));
    expect(target.code).toBe('VERSION_NOT_FOUND');
    expect(target.message).toBe(
      `service "checkout" has no version "4" (the AppSpec's TargetVersion); its versions are "1", "2", "3"`,
    );
    const current = thrown(() => resolveVersions(lambda('9', '2'), service));
    expect(current.message).toBe(
      `service "checkout" has no version "9" (the AppSpec's CurrentVersion); its versions are "1", "2", "3"`,
    );
    const none = thrown(() => resolveVersions(lambda('1', '2'), { name: 'checkout', versions: [], live: '1' }));
    expect(none.message).toBe(
      `service "checkout" has no version "1" (the AppSpec's CurrentVersion); it has no versions`,
    );
  });
});

describe('appSpecServiceName', () => {
  it('is the function name for Lambda and left to the deployment group for ECS', () => {
    expect(appSpecServiceName(lambda('1', '2'))).toBe('checkout');
    expect(appSpecServiceName(ecs(ARN))).toBeUndefined();
  });
});

describe('the example AppSpecs against the demo config', () => {
  const config = parseConfig(readFileSync(join(ROOT, 'config', 'demo.yml'), 'utf8'), 'config/demo.yml', {});
  const demo = config.services[0]!;
  const service = { name: demo.name, versions: Object.keys(demo.versions), live: demo.live };

  it.each(['ecs.yml', 'lambda.yml', 'lambda.json'])('config/appspec/%s deploys version 2 over 1', (name) => {
    const spec = parseAppSpec(readFileSync(join(ROOT, 'config', 'appspec', name), 'utf8'), name);
    expect(appSpecServiceName(spec) ?? demo.name).toBe(demo.name);
    expect(resolveVersions(spec, service)).toEqual({ current: '1', target: '2' });
  });
});
