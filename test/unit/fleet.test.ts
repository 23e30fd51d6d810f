/**
 * The pure parts of remote data planes: the reconnection back-off, the door's address, a data plane's
 * config file, and a deployment's pause (under a manual clock) while a data plane is out of reach: it
 * waits before each traffic move and says why, goes on once every data plane is back, and a rollback
 * never waits.
 */
import { describe, expect, it } from 'vitest';

import { connectUrl, FIRST_RETRY_MS, LONGEST_RETRY_MS, retryDelay } from '../../src/app/fleet/follow.js';
import { parseAppSpec } from '../../src/appspec/parse.js';
import { predefinedConfig } from '../../src/codedeploy/predefined-configs.js';
import { parseDataPlaneConfig } from '../../src/config/data-plane.js';
import { ManualClock } from '../../src/core/clock.js';
import { isSwitchyardError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import type { DataPlaneGate, UnreachableDataPlane } from '../../src/shifting/data-plane-gate.js';
import { DeploymentEngine } from '../../src/shifting/engine.js';
import type { DeploymentPlan, HookRunner } from '../../src/shifting/ports.js';
import { TrafficState } from '../../src/shifting/traffic.js';
import { ECS_APPSPEC } from '../support/appspecs.js';
import { configFrom, twoVersions } from '../support/switchyard.js';

describe('reconnecting to a control plane', () => {
  it('waits 100 ms doubling to 5 s, jittered down to half of each', () => {
    expect([0, 1, 2, 3, 5, 6, 20].map((n) => retryDelay(n, () => 0.999_999))).toEqual([
      100, 200, 400, 800, 3_200, 5_000, 5_000,
    ]);
    expect([0, 1, 6].map((n) => retryDelay(n, () => 0))).toEqual([50, 100, 2_500]);
    expect(FIRST_RETRY_MS).toBe(100);
    expect(LONGEST_RETRY_MS).toBe(5_000);
  });

  it('connects to the control API of each URL at its data plane door', () => {
    expect(connectUrl('http://10.0.0.5:9900')).toBe('ws://10.0.0.5:9900/v1/data-planes/connect');
    expect(connectUrl('https://cp.internal/')).toBe('wss://cp.internal/v1/data-planes/connect');
  });
});

describe("a data plane's config file", () => {
  it('holds its listeners and how it finds its control planes, with defaults', () => {
    const config = parseDataPlaneConfig(
      'listeners:\n  production: { port: 8080 }\ncontrolPlanes: [http://10.0.0.5:9900, http://10.0.0.6:9900]\n',
      'dp.yml',
      {},
    );
    expect(config.listeners.production).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.listeners.limits.maxConnections).toBe(1024);
    expect(config.controlPlanes).toEqual(['http://10.0.0.5:9900', 'http://10.0.0.6:9900']);
    expect(config.drainTimeout).toBe(10_000);
  });

  it('refuses services (they come from the control plane) and a control URL that is not one', () => {
    let err: unknown;
    try {
      parseDataPlaneConfig(
        'listeners:\n  production: { port: 8080 }\ncontrolPlanes: [cp:9900]\nservices: []\n',
        'dp.yml',
        {},
      );
    } catch (e) {
      err = e;
    }
    expect(isSwitchyardError(err, 'CONFIG_INVALID')).toBe(true);
    const issues = (err as { issues: { path?: string; message: string; location?: { line: number } }[] }).issues;
    expect(issues.map((i) => [i.path, i.location?.line])).toEqual([
      ['controlPlanes[0]', 3],
      ['services', 4],
    ]);
  });
});

/** A gate whose unreachable data planes a test sets, telling waiters when the list shrinks. */
class FakeGate implements DataPlaneGate {
  readonly graceMs = 10_000;
  away: UnreachableDataPlane[] = [];
  readonly #listeners = new Set<() => void>();
  unreachable(): readonly UnreachableDataPlane[] {
    return this.away;
  }
  onReturn(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  back(): void {
    this.away = [];
    for (const l of [...this.#listeners]) l();
  }
}

const HOOKS: HookRunner = {
  run: async () => ({
    status: 'Succeeded',
    diagnostics: { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail: '' },
  }),
};

function setup() {
  const clock = new ManualClock(1_700_000_000_000);
  const traffic = new TrafficState(configFrom(twoVersions('http://127.0.0.1:9001', 'http://127.0.0.1:9002')));
  const gate = new FakeGate();
  const engine = new DeploymentEngine({
    clock,
    log: createLogger({ level: 'silent' }),
    traffic,
    hooks: HOOKS,
    dataPlanes: gate,
  });
  const plan: DeploymentPlan = {
    applicationName: 'app',
    deploymentGroupName: 'group',
    config: predefinedConfig('CodeDeployDefault.ECSCanary10Percent5Minutes')!,
    appSpec: parseAppSpec(ECS_APPSPEC, 'appspec.yml'),
    service: 'web',
    currentVersion: '1',
    targetVersion: '2',
    timeScale: 1,
    hookTimeoutMs: 3_600_000,
    autoRollback: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'] },
    readyWait: undefined,
    termination: undefined,
    testListener: true,
    creator: 'user',
  };
  const weights = () => traffic.service('web').weights;
  return { clock, gate, engine, plan, weights };
}

describe('a deployment while a data plane is out of reach', () => {
  it('waits before each traffic move, says why, and goes on once every data plane is back', async () => {
    const { clock, gate, engine, plan, weights } = setup();
    gate.away = [{ name: 'b', since: clock.now() - 20_000 }];
    const record = engine.create(plan);
    await clock.advance(0);
    await clock.advance(60_000);
    // Paused before the first move (AllowTestTraffic), however long it waits: nothing moved, nothing failed.
    expect(record.status).toBe('InProgress');
    expect(weights().test).toEqual({ '1': 100, '2': 0 });
    const paused = record.timeline.filter((e) => e.message === 'traffic move paused: data planes unreachable');
    expect(paused).toHaveLength(1);
    expect(paused[0]!.detail).toEqual({
      move: 'AllowTestTraffic',
      dataPlanes: [{ name: 'b', unreachableSince: clock.now() - 80_000 }],
      graceMs: 10_000,
    });
    gate.back();
    await clock.advance(0);
    expect(weights().production).toEqual({ '1': 90, '2': 10 });
    expect(record.timeline.find((e) => e.message.startsWith('traffic move resumed'))!.detail).toEqual({
      move: 'AllowTestTraffic',
      pausedMs: 60_000,
    });
    // Out of reach again before the next step: the canary holds at 10% past its 5 minutes.
    gate.away = [{ name: 'b', since: clock.now() }];
    await clock.advance(10 * 60_000);
    expect(weights().production).toEqual({ '1': 90, '2': 10 });
    expect(record.timeline.at(-1)!.detail).toMatchObject({ move: 'AllowTraffic step 2' });
    gate.back();
    await clock.advance(0);
    expect(weights().production).toEqual({ '1': 0, '2': 100 });
  });

  it('never holds a rollback: a stop while paused sends traffic back at once', async () => {
    const { clock, gate, engine, plan, weights } = setup();
    const record = engine.create(plan);
    await clock.advance(0);
    expect(weights().production).toEqual({ '1': 90, '2': 10 });
    gate.away = [{ name: 'b', since: clock.now() - 20_000 }];
    await clock.advance(5 * 60_000);
    expect(record.timeline.at(-1)!.message).toBe('traffic move paused: data planes unreachable');
    engine.stop(record.id, true);
    await clock.advance(0);
    expect(record.status).toBe('Stopped');
    expect(weights().production).toEqual({ '1': 100, '2': 0 });
  });
});
