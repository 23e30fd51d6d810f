/**
 * A version's environments with real processes: concurrent invocations on separate environments, reuse of
 * a warm one, throttling beyond `concurrency`, idle environments reaped and their processes gone.
 */
import { dirname, join } from 'node:path';

import { afterEach, describe, expect, inject, it } from 'vitest';

import { systemClock } from '../../src/core/clock.js';
import { isSwitchyardError } from '../../src/core/errors.js';
import { ExecutionEnvironment, type InvokeOutcome } from '../../src/functions/environment.js';
import { EnvironmentPool } from '../../src/functions/pool.js';
import { alive } from '../support/processes.js';
import { until } from '../support/until.js';

const TASK_ROOT = join(import.meta.dirname, '..', 'fixtures', 'functions', 'esm');
const pools: EnvironmentPool[] = [];

function pool(concurrency: number, idleMs: number): EnvironmentPool {
  const created = new EnvironmentPool({
    clock: systemClock,
    concurrency,
    idleMs,
    create: () =>
      new ExecutionEnvironment(
        {
          functionName: 'sleepy',
          version: '1',
          runtime: 'nodejs',
          handler: 'index.sleepy',
          taskRoot: TASK_ROOT,
          timeoutSeconds: 5,
          memorySizeMb: 128,
          region: 'us-east-1',
          accountId: '123456789012',
          env: {},
        },
        {
          clock: systemClock,
          nodeBootstrap: join(dirname(dirname(inject('cliMain'))), 'functions', 'node-runtime', 'bootstrap.js'),
        },
      ),
  });
  pools.push(created);
  return created;
}

function pid(outcome: InvokeOutcome): number {
  if (outcome.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.body.toString('utf8')) as number;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('a version’s environment pool', () => {
  it('runs concurrent invocations apart, throttles beyond concurrency and reuses a warm environment', async () => {
    const versions = pool(2, 60_000);
    const a = versions.invoke('{"ms":400}');
    const b = versions.invoke('{"ms":400}');
    const third = await versions.invoke('{"ms":0}').catch((e: unknown) => e);
    expect(isSwitchyardError(third, 'FUNCTION_THROTTLED')).toBe(true);
    const [pa, pb] = [pid(await a), pid(await b)];
    expect(pa).not.toBe(pb);
    expect(versions.size).toBe(2);
    expect([pa, pb]).toContain(pid(await versions.invoke('{"ms":0}')));
    expect(versions.size).toBe(2);
  });

  it('reaps idle environments and leaves no process behind', async () => {
    const versions = pool(1, 150);
    const first = pid(await versions.invoke('{"ms":0}'));
    expect(versions.idleCount).toBe(1);
    await until(() => versions.size === 0, Boolean, 3_000);
    await until(() => !alive(first), Boolean, 3_000);
    const second = pid(await versions.invoke('{"ms":0}'));
    expect(second).not.toBe(first);
    await versions.close();
    expect(alive(second)).toBe(false);
  });
});
