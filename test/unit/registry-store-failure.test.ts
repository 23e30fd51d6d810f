/**
 * The registry changes only once its store took the write: when onChange throws, every create, update,
 * rename and delete leaves applications, groups and configurations as they were, so a retry or a read
 * sees the old state.
 */
import { describe, expect, it } from 'vitest';

import { customDeploymentConfig } from '../../src/codedeploy/create-deployment-config.js';
import { ManualClock } from '../../src/core/clock.js';
import { SwitchyardError } from '../../src/core/errors.js';
import { Registry, type RegistryChange } from '../../src/shifting/registry.js';

/** A registry whose store refuses writes while `failing` is set, and records those it took. */
function setup() {
  const state = { failing: false, kept: [] as RegistryChange[], atomic: 0 };
  const registry = new Registry(new ManualClock(1_700_000_000_000), {
    onChange: (change) => {
      if (state.failing) throw new SwitchyardError('STORE_FAILED', 'the disk is full');
      state.kept.push(change);
    },
  });
  registry.createApplication('web', 'Server');
  registry.createGroup('web', 'prod', { serviceRoleArn: 'role' });
  registry.createConfig(fast('Fast'));
  return { registry, state };
}

const fast = (name: string) =>
  customDeploymentConfig(
    name,
    'ECS',
    { kind: 'allAtOnce' },
    { id: '11111111-2222-4333-8444-555555555555', createTime: 0 },
  );

/** What a reader sees of the registry. */
function snapshot(registry: Registry) {
  return {
    applications: registry.applicationNames().map((n) => registry.application(n)),
    groups: registry.applicationNames().flatMap((a) => registry.groupNames(a).map((g) => registry.group(a, g))),
    configs: registry.configNames(),
  };
}

describe('registry when the store refuses a write', () => {
  it('leaves applications, groups and configs unchanged by every refused change', () => {
    const { registry, state } = setup();
    const before = snapshot(registry);
    state.failing = true;
    const refused: [string, () => unknown][] = [
      ['createApplication', () => registry.createApplication('api', 'ECS')],
      ['declareApplication', () => registry.declareApplication('api', 'ECS')],
      ['deleteApplication', () => registry.deleteApplication('web')],
      ['createGroup', () => registry.createGroup('web', 'canary', { serviceRoleArn: 'role' })],
      ['declareGroup', () => registry.declareGroup('web', 'prod', { serviceRoleArn: 'other-role' })],
      ['updateGroup', () => registry.updateGroup('web', 'prod', undefined, { serviceRoleArn: 'other-role' })],
      ['renameGroup', () => registry.updateGroup('web', 'prod', 'live', {})],
      ['deleteGroup', () => registry.deleteGroup('web', 'prod')],
      ['createConfig', () => registry.createConfig(fast('Slow'))],
      ['declareConfig', () => registry.declareConfig(fast('Fast'))],
      ['deleteConfig', () => registry.deleteConfig('Fast')],
      ['recordRequest', () => registry.recordRequest('d-1', { revision: undefined } as never)],
    ];
    for (const [what, change] of refused) {
      expect(change, what).toThrow(/disk is full/);
      expect(snapshot(registry), what).toEqual(before);
    }
    expect(registry.request('d-1')).toBeUndefined();

    // Once the store takes writes again, the same calls succeed: nothing half-made is in the way.
    state.failing = false;
    registry.createApplication('api', 'ECS');
    registry.createGroup('web', 'canary', { serviceRoleArn: 'role' });
    registry.updateGroup('web', 'prod', 'live', {});
    expect(registry.groupNames('web')).toEqual(['canary', 'live']);
  });

  it('hands every change of one call to the store inside one atomic write', () => {
    const batches: RegistryChange[][] = [];
    let open: RegistryChange[] | undefined;
    const registry = new Registry(new ManualClock(), {
      onChange: (change) => open?.push(change),
      atomically: (write) => {
        open = [];
        write();
        batches.push(open);
        open = undefined;
      },
    });
    registry.createApplication('web', 'Server');
    registry.createGroup('web', 'a', { serviceRoleArn: 'role' });
    registry.createGroup('web', 'b', { serviceRoleArn: 'role' });
    batches.length = 0;
    registry.updateGroup('web', 'a', 'c', {});
    registry.deleteApplication('web');
    expect(batches.map((b) => b.map((c) => `${c.value ? 'put' : 'delete'} ${c.kind} ${c.key}`))).toEqual([
      ['delete group web/a', 'put group web/c'],
      ['delete group web/b', 'delete group web/c', 'delete application web'],
    ]);
  });
});
