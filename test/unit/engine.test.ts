/**
 * The deployment state machine under a manual clock: every transition and every rollback edge, with the
 * real TrafficState (whose published tables the data plane would route by) and a scripted hook runner.
 */
import { describe, expect, it } from 'vitest';

import { parseAppSpec } from '../../src/appspec/parse.js';
import { customDeploymentConfig } from '../../src/codedeploy/create-deployment-config.js';
import type { LifecycleEventName } from '../../src/codedeploy/lifecycle.js';
import { predefinedConfig } from '../../src/codedeploy/predefined-configs.js';
import type { TrafficShift } from '../../src/codedeploy/traffic-shift.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { DeploymentEngine } from '../../src/shifting/engine.js';
import type {
  AlarmWatch,
  AlarmWatcher,
  DeploymentPlan,
  DeploymentRecord,
  HookInvocation,
  HookOutcome,
  HookRunner,
  RecoveryPolicy,
  ReplacementLauncher,
} from '../../src/shifting/ports.js';
import { TrafficState } from '../../src/shifting/traffic.js';
import { ECS_APPSPEC, LAMBDA_APPSPEC } from '../support/appspecs.js';
import { configFrom, twoVersions } from '../support/switchyard.js';

const MINUTE = 60_000;

const ECS_WITH_HOOKS = `${ECS_APPSPEC}Hooks:
  - BeforeInstall: before-install
  - AfterInstall: after-install
  - AfterAllowTestTraffic: smoke
  - BeforeAllowTraffic: before-allow
  - AfterAllowTraffic: after-allow
`;

const LAMBDA_WITH_HOOKS = `${LAMBDA_APPSPEC}Hooks:
  - BeforeAllowTraffic: before-allow
  - AfterAllowTraffic: after-allow
`;

/** A hook runner that answers per event: succeed at once, fail, or wait `ms` of the clock first. */
class ScriptedHooks implements HookRunner {
  readonly calls: HookInvocation[] = [];
  readonly fail = new Set<LifecycleEventName>();
  readonly delays = new Map<LifecycleEventName, number>();

  constructor(readonly clock: ManualClock) {}

  async run(invocation: HookInvocation, signal: AbortSignal): Promise<HookOutcome> {
    this.calls.push(invocation);
    const delay = this.delays.get(invocation.event);
    if (delay !== undefined) {
      await new Promise<void>((resolve) => {
        const cancel = this.clock.setTimer(delay, resolve);
        signal.addEventListener('abort', () => {
          cancel();
          resolve();
        });
      });
    }
    if (this.fail.has(invocation.event)) {
      return {
        status: 'Failed',
        diagnostics: {
          errorCode: 'ScriptFailed',
          scriptName: invocation.target,
          message: 'exit code 1',
          logTail: 'boom',
        },
      };
    }
    return {
      status: 'Succeeded',
      diagnostics: { errorCode: 'Success', scriptName: invocation.target, message: 'Succeeded', logTail: '' },
    };
  }
}

class RecordingLauncher implements ReplacementLauncher {
  readonly prepared: string[] = [];
  readonly retired: string[] = [];
  /** When set, prepare rejects with it (a task that never became healthy). */
  failure: Error | undefined;
  async prepare(_service: string, version: string): Promise<void> {
    this.prepared.push(version);
    if (this.failure) throw this.failure;
  }
  async retire(_service: string, version: string): Promise<void> {
    this.retired.push(version);
  }
}

/** Remembers what it watches; a test fires an alarm by hand. */
class FakeAlarms implements AlarmWatcher {
  readonly watched = new Map<string, { watch: AlarmWatch; fire: (alarm: string, reason: string) => void }>();
  readonly unwatched: string[] = [];
  watch(watch: AlarmWatch, fire: (alarm: string, reason: string) => void): void {
    this.watched.set(watch.deploymentId, { watch, fire });
  }
  unwatch(id: string): void {
    if (this.watched.delete(id)) this.unwatched.push(id);
  }
}

function setup(options: { testListener?: boolean } = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const traffic = new TrafficState(configFrom(twoVersions('http://127.0.0.1:9001', 'http://127.0.0.1:9002')));
  const hooks = new ScriptedHooks(clock);
  const launcher = new RecordingLauncher();
  const alarms = new FakeAlarms();
  const changes: string[] = [];
  /** What a store would hold: every record as last written, through JSON. */
  const kept = new Map<string, DeploymentRecord>();
  const engine = new DeploymentEngine({
    clock,
    log: createLogger({ level: 'silent' }),
    traffic,
    hooks,
    launcher,
    alarms,
    journal: {
      save: (r) => {
        changes.push(`${r.id}:${r.status}`);
        kept.set(r.id, JSON.parse(JSON.stringify(r)) as DeploymentRecord);
      },
      atomically: (fn) => fn(),
    },
  });
  const production = () => traffic.service('web').weights.production;
  const test = () => traffic.service('web').weights.test;
  const plan = (
    overrides: Partial<DeploymentPlan> & { configName?: string; shift?: TrafficShift } = {},
  ): DeploymentPlan => {
    const platform = overrides.appSpec?.platform ?? 'ECS';
    const config = overrides.shift
      ? customDeploymentConfig('Custom', platform, overrides.shift, {
          id: '11111111-2222-4333-8444-555555555555',
          createTime: 0,
        })
      : predefinedConfig(overrides.configName ?? 'CodeDeployDefault.ECSCanary10Percent5Minutes')!;
    return {
      applicationName: 'app',
      deploymentGroupName: 'group',
      config,
      appSpec: parseAppSpec(ECS_WITH_HOOKS, 'appspec.yml'),
      service: 'web',
      currentVersion: '1',
      targetVersion: '2',
      timeScale: 1,
      hookTimeoutMs: 3_600_000,
      autoRollback: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
      readyWait: undefined,
      termination: undefined,
      testListener: options.testListener ?? true,
      creator: 'user',
      ...overrides,
    };
  };
  /**
   * A crash and a restart `downMs` later: the first engine's timers die, a second engine on a fresh
   * traffic state (back at the config's defaults, then the kept weights) takes the kept records back.
   */
  const restart = async (policy: RecoveryPolicy['policy'] | RecoveryPolicy, downMs = 0) => {
    // What the store holds at the moment of the crash: anything the first engine does afterwards is lost.
    const records = [...kept.values()];
    const weights = traffic.service('web');
    engine.close();
    await clock.advance(downMs);
    const traffic2 = new TrafficState(configFrom(twoVersions('http://127.0.0.1:9001', 'http://127.0.0.1:9002')));
    traffic2.restore('web', {
      live: weights.live,
      weights: { production: bp(weights.weights.production), test: bp(weights.weights.test) },
    });
    const hooks2 = new ScriptedHooks(clock);
    const launcher2 = new RecordingLauncher();
    const alarms2 = new FakeAlarms();
    const kept2 = new Map<string, DeploymentRecord>();
    const engine2 = new DeploymentEngine({
      clock,
      log: createLogger({ level: 'silent' }),
      traffic: traffic2,
      hooks: hooks2,
      launcher: launcher2,
      alarms: alarms2,
      journal: { save: (r) => kept2.set(r.id, r), atomically: (fn) => fn() },
    });
    engine2.restore(records, typeof policy === 'string' ? { policy, hookInFlight: 'rerun' } : policy);
    engine2.resumeRestored();
    return {
      engine: engine2,
      traffic: traffic2,
      hooks: hooks2,
      launcher: launcher2,
      alarms: alarms2,
      kept: kept2,
      production: () => traffic2.service('web').weights.production,
    };
  };
  return { clock, traffic, hooks, launcher, alarms, engine, production, test, plan, changes, kept, restart };
}

/** Percent weights (as views show them) to the basis points a store keeps. */
const bp = (weights: Readonly<Record<string, number>>) =>
  Object.fromEntries(
    Object.entries(weights)
      .filter(([, p]) => p > 0)
      .map(([l, p]) => [l, Math.round(p * 100)]),
  );

const statuses = (events: { name: string; status: string }[]) => events.map((e) => `${e.name}:${e.status}`);

describe('deployment engine', () => {
  it('runs an ECS canary in CodeDeploy order: test traffic first, 10% for 5 minutes, then 100%', async () => {
    const { clock, engine, production, test, plan, hooks, launcher } = setup();
    const d = engine.create(plan());
    expect(d.status).toBe('Created');
    expect(d.id).toMatch(/^d-[A-Z0-9]{9}$/);
    await clock.advance(0);
    expect(hooks.calls.map((c) => c.event)).toEqual([
      'BeforeInstall',
      'AfterInstall',
      'AfterAllowTestTraffic',
      'BeforeAllowTraffic',
    ]);
    expect(launcher.prepared).toEqual(['2']);
    expect(test()).toEqual({ '1': 0, '2': 100 });
    expect(production()).toEqual({ '1': 90, '2': 10 });
    expect(d.status).toBe('InProgress');
    expect(d.trafficWeight).toBe(1000);

    await clock.advance(5 * MINUTE - 1);
    expect(production()).toEqual({ '1': 90, '2': 10 });
    await clock.advance(1);
    expect(d.status).toBe('Succeeded');
    expect(production()).toEqual({ '1': 0, '2': 100 });
    expect(engine.active('app', 'group')).toBeUndefined();
    expect(statuses(d.lifecycleEvents)).toEqual([
      'BeforeInstall:Succeeded',
      'Install:Succeeded',
      'AfterInstall:Succeeded',
      'AllowTestTraffic:Succeeded',
      'AfterAllowTestTraffic:Succeeded',
      'BeforeAllowTraffic:Succeeded',
      'AllowTraffic:Succeeded',
      'AfterAllowTraffic:Succeeded',
    ]);
    const allow = d.lifecycleEvents.find((e) => e.name === 'AllowTraffic')!;
    expect(allow.endTime! - allow.startTime!).toBe(5 * MINUTE);
    expect(d.completeTime! - d.startTime!).toBe(5 * MINUTE);
    expect(hooks.calls.map((c) => c.event).at(-1)).toBe('AfterAllowTraffic');
  });

  it('makes the target the live version after success (the next deployment starts from it)', async () => {
    const { clock, engine, traffic, plan } = setup();
    engine.create(plan({ configName: 'CodeDeployDefault.ECSAllAtOnce' }));
    await clock.advance(0);
    expect(traffic.service('web').live).toBe('2');
    expect(traffic.service('web').weights.test).toEqual({ '1': 0, '2': 100 });
  });

  it('shifts a linear configuration one step per interval', async () => {
    const { clock, engine, production, plan } = setup();
    const d = engine.create(plan({ configName: 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes' }));
    await clock.advance(0);
    const seen: number[] = [production()['2']!];
    for (let minute = 1; minute <= 9; minute++) {
      await clock.advance(MINUTE - 1);
      expect(production()['2']).toBe(seen.at(-1));
      await clock.advance(1);
      seen.push(production()['2']!);
    }
    expect(seen).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(d.status).toBe('Succeeded');
  });

  it('runs a Lambda deployment through BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic only', async () => {
    const { clock, engine, production, hooks, launcher, plan } = setup();
    const d = engine.create(
      plan({
        appSpec: parseAppSpec(LAMBDA_WITH_HOOKS, 'appspec.yml'),
        configName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
      }),
    );
    await clock.advance(0);
    expect(production()).toEqual({ '1': 90, '2': 10 });
    await clock.advance(9 * MINUTE);
    expect(d.status).toBe('Succeeded');
    expect(d.lifecycleEvents.map((e) => e.name)).toEqual(['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic']);
    expect(hooks.calls.map((c) => c.event)).toEqual(['BeforeAllowTraffic', 'AfterAllowTraffic']);
    // No Install event on Lambda: the version is made ready before the first hook.
    expect(launcher.prepared).toEqual(['2']);
  });

  it('fails a Lambda deployment whose target version cannot be made ready, before any hook', async () => {
    const { clock, engine, production, hooks, launcher, plan } = setup();
    launcher.failure = new Error('http://127.0.0.1:9002 did not pass its health check within 60000 ms');
    const d = engine.create(plan({ appSpec: parseAppSpec(LAMBDA_WITH_HOOKS, 'appspec.yml') }));
    await clock.advance(0);
    expect(d.status).toBe('Failed');
    expect(d.errorInformation).toEqual({
      code: 'HEALTH_CONSTRAINTS',
      message: 'version 2 is not ready: http://127.0.0.1:9002 did not pass its health check within 60000 ms',
    });
    expect(hooks.calls).toEqual([]);
    expect(production()).toEqual({ '1': 100, '2': 0 });
  });

  it('fails Install when the replacement does not become ready, and rolls back per DEPLOYMENT_FAILURE', async () => {
    const { clock, engine, production, test, launcher, plan } = setup({ testListener: true });
    launcher.failure = new Error('task on http://127.0.0.1:40000 exited with code 1 before it was ready');
    const d = engine.create(plan());
    await clock.advance(0);
    expect(d.status).toBe('Failed');
    expect(d.errorInformation?.code).toBe('HEALTH_CONSTRAINTS');
    expect(statuses(d.lifecycleEvents).slice(0, 3)).toEqual([
      'BeforeInstall:Succeeded',
      'Install:Failed',
      'AfterInstall:Skipped',
    ]);
    expect(d.lifecycleEvents[1]?.diagnostics?.message).toContain('exited with code 1 before it was ready');
    expect(d.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    expect(production()).toEqual({ '1': 100, '2': 0 });
    expect(test()).toEqual({ '1': 100, '2': 0 });
    expect(launcher.retired).toEqual(['2']);
  });

  it('fails a Lambda deployment whose alias is weighted or not on CurrentVersion', async () => {
    const { clock, engine, traffic, hooks, plan } = setup();
    const lambda = () =>
      plan({
        appSpec: parseAppSpec(LAMBDA_WITH_HOOKS, 'appspec.yml'),
        configName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      });
    const first = engine.create(lambda());
    await clock.advance(0);
    engine.stop(first.id, false);
    // As in CodeDeploy, a stop without rollback leaves the alias weighted, which breaks the next deployment.
    const second = engine.create(lambda());
    await clock.advance(0);
    expect(second.status).toBe('Failed');
    expect(second.errorInformation).toMatchObject({ code: 'INVALID_LAMBDA_CONFIGURATION' });
    expect(second.errorInformation!.message).toMatch(/weighted between versions \(1: 90%, 2: 10%\)/);
    expect(hooks.calls.filter((c) => c.deploymentId === second.id)).toEqual([]);

    traffic.setWeights('web', { '1': 100 });
    traffic.setLive('web', '2');
    const third = engine.create(lambda());
    await clock.advance(0);
    expect(third.errorInformation?.message).toMatch(/CurrentVersion 1 is not the version live now \(2\)/);
  });

  it('passes CodeDeploy identities and the scaled timeout to each hook', async () => {
    const { clock, engine, hooks, plan } = setup();
    const d = engine.create(plan({ timeScale: 60 }));
    await clock.advance(0);
    const call = hooks.calls[0]!;
    expect(call).toMatchObject({
      deploymentId: d.id,
      applicationName: 'app',
      deploymentGroupName: 'group',
      event: 'BeforeInstall',
      target: 'before-install',
      timeoutMs: 60_000,
    });
    expect(call.executionId.length).toBeGreaterThan(40);
    expect(new Set(hooks.calls.map((c) => c.executionId)).size).toBe(hooks.calls.length);
  });

  it('scales the timeout the hook runner configures for a target', async () => {
    const { clock, engine, hooks, plan } = setup();
    Object.assign(hooks, { timeoutOf: (target: string) => (target === 'smoke' ? 120_000 : 3_600_000) });
    engine.create(plan({ timeScale: 2 }));
    await clock.advance(0);
    const smoke = hooks.calls.find((c) => c.target === 'smoke')!;
    expect(smoke.timeoutMs).toBe(60_000);
    expect(hooks.calls[0]!.timeoutMs).toBe(1_800_000);
  });

  it('rehearses a 5-minute canary in 5 seconds at time scale 60, with scaled record times', async () => {
    const { clock, engine, production, plan } = setup();
    const d = engine.create(plan({ timeScale: 60 }));
    await clock.advance(0);
    await clock.advance(4_999);
    expect(production()['2']).toBe(10);
    await clock.advance(1);
    expect(d.status).toBe('Succeeded');
    expect(d.completeTime! - d.startTime!).toBe(5 * MINUTE);
  });

  it('skips test traffic when the group has no test listener', async () => {
    const { clock, engine, hooks, test, plan } = setup();
    const d = engine.create(plan({ testListener: false, configName: 'CodeDeployDefault.ECSAllAtOnce' }));
    await clock.advance(0);
    expect(d.status).toBe('Succeeded');
    expect(d.lifecycleEvents.find((e) => e.name === 'AllowTestTraffic')!.status).toBe('Skipped');
    expect(d.lifecycleEvents.find((e) => e.name === 'AfterAllowTestTraffic')!.status).toBe('Skipped');
    expect(hooks.calls.map((c) => c.event)).not.toContain('AfterAllowTestTraffic');
    expect(test()).toEqual({ '1': 0, '2': 100 });
  });

  it('rolls back a failed hook in the same turn: traffic to the original, a linked rollback deployment', async () => {
    const { clock, engine, production, test, hooks, launcher, plan } = setup();
    hooks.fail.add('AfterAllowTraffic');
    hooks.delays.set('AfterAllowTraffic', 1_000);
    const d = engine.create(plan({ configName: 'CodeDeployDefault.ECSAllAtOnce' }));
    await clock.advance(0);
    expect(production()).toEqual({ '1': 0, '2': 100 });
    await clock.advance(1_000);
    expect(d.status).toBe('Failed');
    expect(d.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
    expect(production()).toEqual({ '1': 100, '2': 0 });
    expect(test()).toEqual({ '1': 100, '2': 0 });
    const rollback = engine.get(d.rollbackInfo!.rollbackDeploymentId!)!;
    expect(rollback.plan.creator).toBe('codeDeployRollback');
    expect(rollback.rollbackInfo).toEqual({ rollbackTriggeringDeploymentId: d.id });
    expect(rollback.plan.targetVersion).toBe('1');
    expect(rollback.status).toBe('Succeeded');
    expect(launcher.retired).toEqual(['2']);
    const failed = d.lifecycleEvents.find((e) => e.name === 'AfterAllowTraffic')!;
    expect(failed).toMatchObject({ status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', logTail: 'boom' } });
  });

  it('marks the events after a failure Skipped and keeps traffic when rollback is not configured', async () => {
    const { clock, engine, production, hooks, plan } = setup();
    hooks.fail.add('BeforeAllowTraffic');
    const d = engine.create(plan({ autoRollback: { enabled: false, events: [] } }));
    await clock.advance(0);
    expect(d.status).toBe('Failed');
    expect(d.rollbackInfo).toBeUndefined();
    expect(statuses(d.lifecycleEvents).slice(5)).toEqual([
      'BeforeAllowTraffic:Failed',
      'AllowTraffic:Skipped',
      'AfterAllowTraffic:Skipped',
    ]);
    expect(production()).toEqual({ '1': 100, '2': 0 });
  });

  it('never rolls back a failed BeforeInstall', async () => {
    const { clock, engine, hooks, launcher, plan } = setup();
    hooks.fail.add('BeforeInstall');
    const d = engine.create(plan());
    await clock.advance(0);
    expect(d.status).toBe('Failed');
    expect(d.rollbackInfo).toBeUndefined();
    expect(launcher.prepared).toEqual([]);
    expect(engine.list()).toHaveLength(1);
  });

  it('stops without rollback leaving traffic where it is, and with rollback returning it', async () => {
    const a = setup();
    const d1 = a.engine.create(a.plan());
    await a.clock.advance(0);
    await a.clock.advance(MINUTE);
    expect(a.engine.stop(d1.id, false).status).toBe('Succeeded');
    expect(d1.status).toBe('Stopped');
    expect(d1.errorInformation?.code).toBe('MANUAL_STOP');
    expect(a.production()).toEqual({ '1': 90, '2': 10 });
    await a.clock.advance(10 * MINUTE);
    expect(a.production()).toEqual({ '1': 90, '2': 10 });

    const b = setup();
    const d2 = b.engine.create(b.plan());
    await b.clock.advance(MINUTE);
    b.engine.stop(d2.id, true);
    // Synchronously, before any timer or promise: the rollback is in force the moment stop returns.
    expect(b.production()).toEqual({ '1': 100, '2': 0 });
    expect(d2.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    expect(() => b.engine.stop(d2.id)).toThrow(/already completed/);
  });

  it('uses DEPLOYMENT_STOP_ON_REQUEST when stop does not say', async () => {
    const { clock, engine, production, plan } = setup();
    const d = engine.create(plan({ autoRollback: { enabled: true, events: ['DEPLOYMENT_STOP_ON_REQUEST'] } }));
    await clock.advance(0);
    engine.stop(d.id);
    expect(production()).toEqual({ '1': 100, '2': 0 });
  });

  it('allows one active deployment per group and names it', async () => {
    const { clock, engine, plan } = setup();
    const d = engine.create(plan());
    expect(() => engine.create(plan())).toThrow(new RegExp(`already has an active Deployment '${d.id}'`));
    expect(() => engine.create(plan({ deploymentGroupName: 'other' }))).not.toThrow();
    engine.stop(d.id);
    await clock.advance(0);
    expect(() => engine.create(plan())).not.toThrow();
  });

  it('waits in Ready for ContinueDeployment(READY_WAIT), then shifts', async () => {
    const { clock, engine, production, plan } = setup();
    const d = engine.create(plan({ readyWait: { waitMs: 60 * MINUTE }, configName: 'CodeDeployDefault.ECSAllAtOnce' }));
    await clock.advance(0);
    expect(d.status).toBe('Ready');
    expect(d.waitingFor).toBe('READY_WAIT');
    expect(production()).toEqual({ '1': 100, '2': 0 });
    expect(() => engine.continue(d.id, 'TERMINATION_WAIT')).toThrow(/not waiting/);
    engine.continue(d.id, 'READY_WAIT');
    await clock.advance(0);
    expect(d.status).toBe('Succeeded');
    expect(production()).toEqual({ '1': 0, '2': 100 });
  });

  it('stops with TIMEOUT when the ready wait runs out, test traffic restored', async () => {
    const { clock, engine, test, launcher, plan } = setup();
    const d = engine.create(plan({ readyWait: { waitMs: 30 * MINUTE } }));
    await clock.advance(0);
    await clock.advance(30 * MINUTE - 1);
    expect(d.status).toBe('Ready');
    await clock.advance(1);
    expect(d.status).toBe('Stopped');
    expect(d.errorInformation?.code).toBe('TIMEOUT');
    expect(test()).toEqual({ '1': 100, '2': 0 });
    expect(d.rollbackInfo).toBeUndefined();
    expect(launcher.retired).toEqual(['2']);
  });

  it('keeps the original through the termination wait (still active), and can still roll back', async () => {
    const a = setup();
    const d = a.engine.create(
      a.plan({ configName: 'CodeDeployDefault.ECSAllAtOnce', termination: { terminate: true, waitMs: 5 * MINUTE } }),
    );
    await a.clock.advance(0);
    expect(d.status).toBe('InProgress');
    expect(d.instanceTerminationWaitTimeStarted).toBe(true);
    expect(d.waitingFor).toBe('TERMINATION_WAIT');
    expect(a.engine.active('app', 'group')?.id).toBe(d.id);
    a.engine.continue(d.id, 'TERMINATION_WAIT');
    await a.clock.advance(0);
    expect(d.status).toBe('Succeeded');
    expect(a.launcher.retired).toEqual(['1']);

    const b = setup();
    const d2 = b.engine.create(
      b.plan({ configName: 'CodeDeployDefault.ECSAllAtOnce', termination: { terminate: true, waitMs: 5 * MINUTE } }),
    );
    await b.clock.advance(MINUTE);
    b.engine.stop(d2.id, true);
    expect(b.production()).toEqual({ '1': 100, '2': 0 });
    expect(b.launcher.retired).toEqual(['2']);
  });

  it('KEEP_ALIVE leaves the original running', async () => {
    const { clock, engine, launcher, plan } = setup();
    const d = engine.create(
      plan({ configName: 'CodeDeployDefault.ECSAllAtOnce', termination: { terminate: false, waitMs: 5 * MINUTE } }),
    );
    await clock.advance(0);
    expect(d.status).toBe('Succeeded');
    expect(d.instanceTerminationWaitTimeStarted).toBe(false);
    expect(launcher.retired).toEqual([]);
  });

  it('promote skips the remaining waits', async () => {
    const { clock, engine, production, plan } = setup();
    const d = engine.create(plan({ configName: 'CodeDeployDefault.ECSLinear10PercentEvery3Minutes' }));
    await clock.advance(0);
    await clock.advance(3 * MINUTE);
    expect(production()['2']).toBe(20);
    engine.promote(d.id);
    await clock.advance(0);
    expect(production()['2']).toBe(100);
    expect(d.status).toBe('Succeeded');
  });

  it('holds a step with no pause until continued', async () => {
    const { clock, engine, production, plan } = setup();
    const d = engine.create(
      plan({
        shift: {
          kind: 'steps',
          steps: [
            { weight: 500, pauseMs: null },
            { weight: 5000, pauseMs: MINUTE },
            { weight: 10_000, pauseMs: 0 },
          ],
        },
      }),
    );
    await clock.advance(0);
    await clock.advance(60 * MINUTE);
    expect(production()['2']).toBe(5);
    expect(d.waitingFor).toBe('CONTINUE_STEP');
    engine.continue(d.id, 'READY_WAIT');
    await clock.advance(0);
    expect(production()['2']).toBe(50);
    await clock.advance(MINUTE);
    expect(d.status).toBe('Succeeded');
  });

  it('keeps a timeline in both the scaled time of its records and real time', async () => {
    const { clock, engine, plan } = setup();
    const d = engine.create(plan({ timeScale: 60 }));
    await clock.advance(0);
    await clock.advance(5_000);
    expect(d.status).toBe('Succeeded');
    const timeline = engine.timeline(d.id);
    expect(timeline[0]).toMatchObject({ message: 'deployment created', detail: { from: '1', to: '2', timeScale: 60 } });
    expect(timeline.at(-1)!.message).toBe('deployment succeeded');
    expect(timeline.filter((e) => e.message === 'weight changed').map((e) => e.detail['weight'])).toEqual([10, 100]);
    expect(d.completeTime! - d.startTime!).toBe(5 * MINUTE);
    expect(d.wallTimes.complete! - d.wallTimes.start!).toBe(5_000);
    expect(timeline.at(-1)!.wallTime - timeline[0]!.wallTime).toBe(5_000);
    expect(() => engine.timeline('d-NOSUCHONE')).toThrow(/no deployment/);
  });

  it('stops on an alarm with ALARM_ACTIVE and rolls back per DEPLOYMENT_STOP_ON_ALARM, in the same turn', async () => {
    const { clock, engine, production, alarms, plan } = setup();
    const d = engine.create(
      plan({
        alarms: { names: ['green-errors'], ignorePollAlarmFailure: false },
        autoRollback: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
      }),
    );
    await clock.advance(0);
    expect(production()).toEqual({ '1': 90, '2': 10 });
    expect(alarms.watched.get(d.id)?.watch).toEqual({
      deploymentId: d.id,
      service: 'web',
      original: '1',
      replacement: '2',
      alarms: ['green-errors'],
      ignorePollAlarmFailure: false,
    });
    alarms.watched.get(d.id)!.fire('green-errors', 'replacement error rate 50.00% (10 of 20), threshold 5.00%');
    // No await: traffic is back before anything else can run.
    expect(production()).toEqual({ '1': 100, '2': 0 });
    expect(d.status).toBe('Stopped');
    expect(d.errorInformation).toEqual({
      code: 'ALARM_ACTIVE',
      message: 'Alarm "green-errors" went into ALARM: replacement error rate 50.00% (10 of 20), threshold 5.00%',
    });
    expect(d.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    expect(alarms.unwatched).toEqual([d.id]);
  });

  it('stops on an alarm without rollback when DEPLOYMENT_STOP_ON_ALARM is not enabled, and watches nothing without alarms', async () => {
    const { clock, engine, production, alarms, plan } = setup();
    const d = engine.create(plan({ alarms: { names: ['green-errors'], ignorePollAlarmFailure: false } }));
    await clock.advance(0);
    alarms.watched.get(d.id)!.fire('green-errors', 'too slow');
    expect(d.status).toBe('Stopped');
    expect(d.rollbackInfo).toBeUndefined();
    expect(production()).toEqual({ '1': 90, '2': 10 });
    const plain = setup();
    const e = plain.engine.create(plain.plan());
    await plain.clock.advance(0);
    expect(plain.alarms.watched.has(e.id)).toBe(false);
  });

  it('stops watching alarms when the deployment succeeds', async () => {
    const { clock, engine, alarms, plan } = setup();
    const d = engine.create(
      plan({ configName: 'CodeDeployDefault.ECSAllAtOnce', alarms: { names: ['a'], ignorePollAlarmFailure: true } }),
    );
    await clock.advance(0);
    expect(d.status).toBe('Succeeded');
    expect(alarms.unwatched).toEqual([d.id]);
  });

  it('reports each change of a record', async () => {
    const { clock, engine, plan, changes } = setup();
    const d = engine.create(plan({ configName: 'CodeDeployDefault.ECSAllAtOnce' }));
    await clock.advance(0);
    expect(changes[0]).toBe(`${d.id}:Created`);
    expect(changes).toContain(`${d.id}:InProgress`);
    expect(changes.at(-1)).toBe(`${d.id}:Succeeded`);
  });
});

describe('deployment engine: recovery after a restart', () => {
  it('resumes a canary mid-step: the step ends when it would have, counting the time it was down', async () => {
    const a = setup();
    const d = a.engine.create(a.plan());
    await a.clock.advance(0);
    await a.clock.advance(2 * MINUTE);
    expect(a.production()).toEqual({ '1': 90, '2': 10 });
    const b = await a.restart('resume', MINUTE);
    expect(b.production()).toEqual({ '1': 90, '2': 10 });
    await a.clock.advance(0);
    const resumed = b.engine.get(d.id)!;
    expect(resumed.status).toBe('InProgress');
    expect(b.launcher.prepared).toEqual(['2']);
    expect(b.alarms.watched.has(d.id)).toBe(false);
    // 2 minutes before the crash and 1 down: 2 minutes are left of the 5-minute step.
    await a.clock.advance(2 * MINUTE - 1);
    expect(b.production()).toEqual({ '1': 90, '2': 10 });
    await a.clock.advance(1);
    expect(resumed.status).toBe('Succeeded');
    expect(b.production()).toEqual({ '1': 0, '2': 100 });
    expect(resumed.completeTime! - resumed.startTime!).toBe(5 * MINUTE);
    // Only AfterAllowTraffic was left to run; nothing before the crash ran twice.
    expect(b.hooks.calls.map((c) => c.event)).toEqual(['AfterAllowTraffic']);
    const messages = resumed.timeline.map((e) => e.message);
    expect(messages.filter((m) => m === 'weight changed')).toHaveLength(2);
    expect(messages).toContain('recovered after a restart: resuming');
    expect(b.engine.list().map((r) => r.id)).toEqual([d.id]);
  });

  it('finishes at once a step whose time ran out while switchyard was down', async () => {
    const a = setup();
    const d = a.engine.create(a.plan());
    await a.clock.advance(0);
    await a.clock.advance(MINUTE);
    const b = await a.restart('resume', 10 * MINUTE);
    await a.clock.advance(0);
    expect(b.engine.get(d.id)!.status).toBe('Succeeded');
    expect(b.production()).toEqual({ '1': 0, '2': 100 });
  });

  it('runs again a hook that was in flight, under a new execution id', async () => {
    const a = setup();
    a.hooks.delays.set('BeforeAllowTraffic', 10 * MINUTE);
    const d = a.engine.create(a.plan());
    await a.clock.advance(MINUTE);
    const before = a.hooks.calls.at(-1)!;
    expect(before.event).toBe('BeforeAllowTraffic');
    const b = await a.restart('resume');
    await a.clock.advance(0);
    expect(b.hooks.calls.map((c) => c.event)).toEqual(['BeforeAllowTraffic']);
    expect(b.hooks.calls[0]!.executionId).not.toBe(before.executionId);
    await a.clock.advance(5 * MINUTE);
    const resumed = b.engine.get(d.id)!;
    expect(resumed.status).toBe('Succeeded');
    expect(resumed.lifecycleEvents.every((e) => e.status === 'Succeeded')).toBe(true);
    expect(resumed.timeline.map((e) => e.message)).toContain('lifecycle event started again after a restart');
  });

  it('rolls back an unfinished deployment under the rollback policy, at once and with a rollback record', async () => {
    const a = setup();
    const d = a.engine.create(a.plan());
    await a.clock.advance(MINUTE);
    const b = await a.restart('rollback');
    const back = b.engine.get(d.id)!;
    expect(back.status).toBe('Failed');
    expect(back.errorInformation).toMatchObject({
      code: 'INTERNAL_ERROR',
      message: expect.stringMatching(/recovery policy is rollback/),
    });
    expect(b.production()).toEqual({ '1': 100, '2': 0 });
    const rollback = b.engine.get(back.rollbackInfo!.rollbackDeploymentId!)!;
    expect(rollback.rollbackInfo?.rollbackTriggeringDeploymentId).toBe(d.id);
    expect(b.launcher.retired).toEqual(['2']);
    await a.clock.advance(10 * MINUTE);
    expect(b.hooks.calls).toEqual([]);
  });

  it('rolls back a deployment whose hook was running when the policy says so for hooks in flight', async () => {
    const a = setup();
    a.hooks.delays.set('AfterAllowTraffic', 10 * MINUTE);
    const d = a.engine.create(a.plan({ configName: 'CodeDeployDefault.ECSAllAtOnce' }));
    await a.clock.advance(MINUTE);
    expect(a.production()).toEqual({ '1': 0, '2': 100 });
    const b = await a.restart({ policy: 'resume', hookInFlight: 'rollback' });
    const back = b.engine.get(d.id)!;
    expect(back.status).toBe('Failed');
    expect(back.errorInformation?.message).toMatch(/its AfterAllowTraffic hook was running/);
    expect(b.production()).toEqual({ '1': 100, '2': 0 });
    expect(b.hooks.calls).toEqual([]);

    // Without a hook in flight the same policy resumes.
    const c = setup();
    const e = c.engine.create(c.plan());
    await c.clock.advance(0);
    const f = await c.restart({ policy: 'resume', hookInFlight: 'rollback' });
    await c.clock.advance(0);
    expect(f.engine.get(e.id)!.status).toBe('InProgress');
  });

  it('keeps a rollback whole: traffic, the rollback record and the failed one are written in one step', async () => {
    const a = setup();
    const writes: string[] = [];
    let depth = 0;
    const engine = new DeploymentEngine({
      clock: a.clock,
      log: createLogger({ level: 'silent' }),
      traffic: a.traffic,
      hooks: a.hooks,
      journal: {
        atomically: (fn) => {
          depth++;
          try {
            fn();
          } finally {
            depth--;
          }
        },
        save: (r) => writes.push(`${depth}:${r.status}`),
      },
    });
    a.hooks.fail.add('AfterAllowTraffic');
    engine.create(a.plan({ configName: 'CodeDeployDefault.ECSAllAtOnce' }));
    await a.clock.advance(0);
    // The rollback record (Succeeded) and the failed deployment are both written inside one atomic step.
    expect(writes.slice(-2)).toEqual(['1:Succeeded', '1:Failed']);
  });

  it('rolls back nothing when nothing had moved yet: the replacement is retired without a rollback record', async () => {
    const a = setup();
    a.hooks.delays.set('BeforeInstall', 10 * MINUTE);
    const d = a.engine.create(a.plan());
    await a.clock.advance(MINUTE);
    const b = await a.restart('rollback');
    const back = b.engine.get(d.id)!;
    expect(back.status).toBe('Failed');
    expect(back.rollbackInfo).toBeUndefined();
    expect(b.engine.list()).toHaveLength(1);
  });

  it('resumes a ready wait and a termination wait with what was left of them', async () => {
    const a = setup();
    const d = a.engine.create(
      a.plan({ readyWait: { waitMs: 30 * MINUTE }, configName: 'CodeDeployDefault.ECSAllAtOnce' }),
    );
    await a.clock.advance(0);
    await a.clock.advance(10 * MINUTE);
    expect(d.status).toBe('Ready');
    const b = await a.restart('resume', 5 * MINUTE);
    await a.clock.advance(0);
    const resumed = b.engine.get(d.id)!;
    expect(resumed.status).toBe('Ready');
    expect(resumed.timeline.filter((e) => e.message.startsWith('ready:'))).toHaveLength(1);
    await a.clock.advance(15 * MINUTE - 1);
    expect(resumed.status).toBe('Ready');
    await a.clock.advance(1);
    expect(resumed.status).toBe('Stopped');
    expect(resumed.errorInformation?.code).toBe('TIMEOUT');

    const c = setup();
    const t = c.engine.create(
      c.plan({ configName: 'CodeDeployDefault.ECSAllAtOnce', termination: { terminate: true, waitMs: 5 * MINUTE } }),
    );
    await c.clock.advance(0);
    await c.clock.advance(2 * MINUTE);
    expect(t.waitingFor).toBe('TERMINATION_WAIT');
    const e = await c.restart('resume');
    await c.clock.advance(0);
    await c.clock.advance(3 * MINUTE - 1);
    expect(e.engine.get(t.id)!.status).toBe('InProgress');
    await c.clock.advance(1);
    expect(e.engine.get(t.id)!.status).toBe('Succeeded');
    expect(e.launcher.retired).toEqual(['1']);
  });

  it('returns traffic to the original when a resumed replacement cannot run again, rollback settings or not', async () => {
    const a = setup();
    const d = a.engine.create(a.plan({ autoRollback: { enabled: false, events: [] } }));
    await a.clock.advance(0);
    expect(a.production()).toEqual({ '1': 90, '2': 10 });
    const records = [...a.kept.values()];
    a.engine.close();
    const traffic2 = new TrafficState(configFrom(twoVersions('http://127.0.0.1:9001', 'http://127.0.0.1:9002')));
    traffic2.restore('web', { live: '1', weights: { production: { '1': 9000, '2': 1000 }, test: { '2': 10_000 } } });
    const launcher2 = new RecordingLauncher();
    launcher2.failure = new Error('exited with code 1');
    const engine2 = new DeploymentEngine({
      clock: a.clock,
      log: createLogger({ level: 'silent' }),
      traffic: traffic2,
      hooks: new ScriptedHooks(a.clock),
      launcher: launcher2,
    });
    engine2.restore(records, { policy: 'resume', hookInFlight: 'rerun' });
    engine2.resumeRestored();
    await a.clock.advance(0);
    expect(engine2.get(d.id)).toMatchObject({ status: 'Failed', errorInformation: { code: 'HEALTH_CONSTRAINTS' } });
    expect(traffic2.service('web').weights.production).toEqual({ '1': 100, '2': 0 });
  });

  it('remembers a promotion across a restart', async () => {
    const a = setup();
    const d = a.engine.create(a.plan({ configName: 'CodeDeployDefault.ECSLinear10PercentEvery3Minutes' }));
    await a.clock.advance(0);
    a.engine.promote(d.id);
    // Killed before the promoted shift moved on.
    const b = await a.restart('resume');
    await a.clock.advance(0);
    expect(b.engine.get(d.id)!.status).toBe('Succeeded');
    expect(b.production()).toEqual({ '1': 0, '2': 100 });
  });

  it('keeps the time of a scaled deployment continuous across the restart', async () => {
    const a = setup();
    const d = a.engine.create(a.plan({ timeScale: 60 }));
    await a.clock.advance(0);
    await a.clock.advance(2_000);
    const b = await a.restart('resume', 1_000);
    await a.clock.advance(0);
    await a.clock.advance(1_999);
    const resumed = b.engine.get(d.id)!;
    expect(resumed.status).toBe('InProgress');
    await a.clock.advance(1);
    expect(resumed.status).toBe('Succeeded');
    expect(resumed.completeTime! - resumed.startTime!).toBe(5 * MINUTE);
  });

  it('starts a deployment that was only created, and keeps finished ones as they were', async () => {
    const a = setup();
    const done = a.engine.create(a.plan({ configName: 'CodeDeployDefault.ECSAllAtOnce' }));
    await a.clock.advance(0);
    const created = a.engine.create(
      a.plan({
        deploymentGroupName: 'other',
        currentVersion: '2',
        targetVersion: '1',
        configName: 'CodeDeployDefault.ECSAllAtOnce',
      }),
    );
    const b = await a.restart('resume');
    expect(b.engine.get(done.id)).toMatchObject({ status: 'Succeeded' });
    await a.clock.advance(0);
    expect(b.engine.get(created.id)!.status).toBe('Succeeded');
    expect(b.traffic.service('web').live).toBe('1');
    expect(b.engine.list().map((r) => r.id)).toEqual([done.id, created.id]);
  });

  it('fails, moving nothing, a kept deployment whose version the config no longer has', async () => {
    const a = setup();
    const d = a.engine.create(a.plan({ targetVersion: '3' }));
    const b = await a.restart('resume');
    expect(b.engine.get(d.id)).toMatchObject({
      status: 'Failed',
      errorInformation: { message: expect.stringMatching(/no version 3/) },
    });
    expect(b.production()).toEqual({ '1': 100, '2': 0 });
  });
});
