/**
 * The CodeDeploy registry's rules (names, platforms, ECS service mapping, configs in use, predefined
 * configs) and the protocol's opaque paging, without sockets.
 */
import { describe, expect, it } from 'vitest';

import { page, PAGE_SIZE } from '../../src/api/codedeploy/shapes.js';
import { customDeploymentConfig } from '../../src/codedeploy/create-deployment-config.js';
import { ManualClock } from '../../src/core/clock.js';
import { Registry } from '../../src/shifting/registry.js';
import { awsTypeOf } from '../support/refusals.js';

describe('CodeDeploy registry', () => {
  const setup = () => {
    const clock = new ManualClock(1_700_000_000_000);
    const registry = new Registry(clock);
    registry.createApplication('web', 'ECS');
    return { clock, registry };
  };
  const ecs = (serviceName: string) => ({ ecsServices: [{ clusterName: 'main', serviceName }] });

  it('stamps applications with the clock and refuses duplicates and bad names', () => {
    const { registry } = setup();
    expect(registry.application('web')).toMatchObject({
      name: 'web',
      computePlatform: 'ECS',
      createTime: 1_700_000_000_000,
    });
    expect(awsTypeOf(() => registry.createApplication('web', 'ECS'))).toBe('ApplicationAlreadyExistsException');
    expect(awsTypeOf(() => registry.createApplication('bad name', 'ECS'))).toBe('InvalidApplicationNameException');
    expect(awsTypeOf(() => registry.application('nope'))).toBe('ApplicationDoesNotExistException');
  });

  it('fills in the default config, maps one ECS service to one group, and renames keeping the id', () => {
    const { registry } = setup();
    const group = registry.createGroup('web', 'prod', ecs('web'));
    expect(group.settings.deploymentConfigName).toBe('CodeDeployDefault.ECSAllAtOnce');
    expect(awsTypeOf(() => registry.createGroup('web', 'other', ecs('web')))).toBe(
      'ECSServiceMappingLimitExceededException',
    );
    expect(awsTypeOf(() => registry.createGroup('web', 'none', {}))).toBe('InvalidECSServiceException');
    expect(
      awsTypeOf(() =>
        registry.createGroup('web', 'style', { ...ecs('api'), deploymentStyle: { deploymentType: 'IN_PLACE' } }),
      ),
    ).toBe('InvalidDeploymentStyleException');
    const renamed = registry.updateGroup('web', 'prod', 'live', {
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
    });
    expect(renamed).toMatchObject({ id: group.id, name: 'live', settings: { ecsServices: ecs('web').ecsServices } });
    expect(registry.groupNames('web')).toEqual(['live']);
    registry.deleteApplication('web');
    expect(registry.applicationNames()).toEqual([]);
  });

  it('keeps predefined configs undeletable and custom ones while a group uses them', () => {
    const { registry } = setup();
    registry.createConfig(
      customDeploymentConfig(
        'Fast',
        'ECS',
        { kind: 'allAtOnce' },
        { id: '11111111-2222-4333-8444-555555555555', createTime: 0 },
      ),
    );
    expect(registry.configNames().at(-1)).toBe('Fast');
    expect(awsTypeOf(() => registry.deleteConfig('CodeDeployDefault.ECSAllAtOnce'))).toBe('InvalidOperationException');
    registry.createGroup('web', 'prod', { ...ecs('web'), deploymentConfigName: 'Fast' });
    expect(awsTypeOf(() => registry.deleteConfig('Fast'))).toBe('DeploymentConfigInUseException');
    registry.deleteGroup('web', 'prod');
    registry.deleteConfig('Fast');
    expect(awsTypeOf(() => registry.config('Fast'))).toBe('DeploymentConfigDoesNotExistException');
  });
});

describe('paging', () => {
  it('pages through every item with opaque tokens and refuses a forged one', () => {
    const items = Array.from({ length: PAGE_SIZE * 2 + 5 }, (_, i) => i);
    const seen: number[] = [];
    let token: string | undefined;
    do {
      const p = page(items, token === undefined ? {} : { nextToken: token });
      seen.push(...p.items);
      token = p.nextToken;
    } while (token !== undefined);
    expect(seen).toEqual(items);
    expect(awsTypeOf(() => page(items, { nextToken: 'garbage!' }))).toBe('InvalidNextTokenException');
  });
});
