/**
 * Deployment group triggers without sockets: which status changes fire which events, the payloads
 * (CodeDeploy's trigger JSON and Slack's), the trigger rules, the back-off schedule, and the delivery
 * worker and notifier under a manual clock with a scripted receiver.
 */
import { describe, expect, it } from 'vitest';

import { parseAppSpec } from '../../src/appspec/parse.js';
import type { DeploymentStatus } from '../../src/codedeploy/lifecycle.js';
import { predefinedConfig } from '../../src/codedeploy/predefined-configs.js';
import { type NotificationEntry, type TriggerConfig, triggerTarget } from '../../src/codedeploy/triggers.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { MAX_RETRY_DELAY_MS, pastGiveUp, retryDelay } from '../../src/notify/backoff.js';
import { DeliveryWorker, type Post } from '../../src/notify/delivery.js';
import { triggerEventsFor } from '../../src/notify/events.js';
import { Notifier } from '../../src/notify/notifier.js';
import { Outbox } from '../../src/notify/outbox.js';
import { codedeployPayload, epochSecondsText, slackPayload } from '../../src/notify/payload.js';
import type { DeploymentRecord } from '../../src/shifting/ports.js';
import { Registry } from '../../src/shifting/registry.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ECS_APPSPEC } from '../support/appspecs.js';
import { awsTypeOf } from '../support/refusals.js';

const silent = createLogger({ level: 'silent' });
const T0 = 1_700_000_000_000;

function record(
  overrides: Partial<DeploymentRecord> = {},
  creator: 'user' | 'codeDeployRollback' = 'user',
): DeploymentRecord {
  return {
    id: 'd-AAAAAAAAA',
    plan: {
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      config: predefinedConfig('CodeDeployDefault.ECSAllAtOnce')!,
      appSpec: parseAppSpec(ECS_APPSPEC, 'appspec.yml'),
      service: 'web',
      currentVersion: '1',
      targetVersion: '2',
      timeScale: 1,
      hookTimeoutMs: 3_600_000,
      autoRollback: { enabled: false, events: [] },
      readyWait: undefined,
      termination: undefined,
      testListener: false,
      creator,
    },
    status: 'InProgress',
    createTime: T0 + 123,
    lifecycleEvents: [],
    trafficWeight: 0,
    shiftStep: 0,
    instanceTerminationWaitTimeStarted: false,
    wallTimes: { create: T0 + 123 },
    timeline: [],
    ...overrides,
  };
}

describe('trigger events', () => {
  const fires = (
    previous: DeploymentStatus | undefined,
    status: DeploymentStatus,
    creator: 'user' | 'codeDeployRollback' = 'user',
  ) => triggerEventsFor(previous, record({ status }, creator));

  it('maps status changes of a deployment to its events, and a repeat to none', () => {
    expect(fires(undefined, 'Created')).toEqual([]);
    expect(fires('Created', 'InProgress')).toEqual(['DeploymentStart']);
    expect(fires('InProgress', 'InProgress')).toEqual([]);
    expect(fires('InProgress', 'Ready')).toEqual(['DeploymentReady']);
    // ContinueDeployment: back in progress, not started again.
    expect(fires('Ready', 'InProgress')).toEqual([]);
    expect(fires('InProgress', 'Succeeded')).toEqual(['DeploymentSuccess']);
    expect(fires('InProgress', 'Failed')).toEqual(['DeploymentFailure']);
    expect(fires('Ready', 'Stopped')).toEqual(['DeploymentStop']);
  });

  it('has a rollback deployment fire DeploymentRollback instead of start and success', () => {
    expect(fires(undefined, 'Succeeded', 'codeDeployRollback')).toEqual(['DeploymentRollback']);
    expect(fires('Created', 'InProgress', 'codeDeployRollback')).toEqual(['DeploymentRollback']);
    expect(fires(undefined, 'Failed', 'codeDeployRollback')).toEqual(['DeploymentRollback', 'DeploymentFailure']);
    expect(fires('InProgress', 'Failed', 'codeDeployRollback')).toEqual(['DeploymentFailure']);
  });
});

describe('payloads', () => {
  it("builds CodeDeploy's deployment trigger JSON: string times and counts, PascalCase error members", () => {
    // The deployment's own times may be scaled (a rehearsal); the message carries the real ones.
    const failed = record({
      status: 'Failed',
      createTime: T0 + 60_000,
      completeTime: T0 + 300_000,
      wallTimes: { create: T0 + 123, complete: T0 + 5_000 },
      errorInformation: { code: 'HOOK_EXECUTION_FAILURE', message: 'The AfterInstall hook failed: exit code 1' },
    });
    expect(codedeployPayload(failed, 'notify')).toEqual({
      region: 'local',
      accountId: '000000000000',
      eventTriggerName: 'notify',
      applicationName: 'web',
      deploymentId: 'd-AAAAAAAAA',
      deploymentGroupName: 'web-prod',
      createTime: '1700000000.123',
      completeTime: '1700000005.000',
      deploymentOverview: { Failed: '1', InProgress: '0', Pending: '0', Skipped: '0', Succeeded: '0' },
      status: 'Failed',
      errorInformation: {
        ErrorCode: 'HOOK_EXECUTION_FAILURE',
        ErrorMessage: 'The AfterInstall hook failed: exit code 1',
      },
    });
    const started = codedeployPayload(record(), 'notify');
    expect(started).not.toHaveProperty('completeTime');
    expect(started).not.toHaveProperty('errorInformation');
    expect(started.deploymentOverview.InProgress).toBe('1');
    // Ready has no count of its own in the trigger message.
    expect(codedeployPayload(record({ status: 'Ready' }), 'n').deploymentOverview).toMatchObject({
      InProgress: '1',
      Pending: '0',
    });
    expect(epochSecondsText(1_446_744_188_595)).toBe('1446744188.595');
  });

  it('writes a one-line Slack message with versions, errors and rollback links', () => {
    expect(slackPayload(record({ status: 'Succeeded' }), 'DeploymentSuccess')).toEqual({
      text: ':white_check_mark: web/web-prod d-AAAAAAAAA DeploymentSuccess — 1 → 2 (CodeDeployDefault.ECSAllAtOnce)',
    });
    const failed = record({
      status: 'Failed',
      errorInformation: { code: 'ALARM_ACTIVE', message: 'Alarm "5xx" went into ALARM' },
      rollbackInfo: { rollbackDeploymentId: 'd-BBBBBBBBB' },
    });
    expect(slackPayload(failed, 'DeploymentFailure').text).toBe(
      ':x: web/web-prod d-AAAAAAAAA DeploymentFailure — 1 → 2 (CodeDeployDefault.ECSAllAtOnce) — ALARM_ACTIVE: Alarm "5xx" went into ALARM — rolled back by d-BBBBBBBBB',
    );
    const rollback = record(
      { status: 'Succeeded', rollbackInfo: { rollbackTriggeringDeploymentId: 'd-AAAAAAAAA' } },
      'codeDeployRollback',
    );
    expect(slackPayload(rollback, 'DeploymentRollback').text).toContain(':leftwards_arrow_with_hook:');
    expect(slackPayload(rollback, 'DeploymentRollback').text).toContain('rolled back d-AAAAAAAAA');
  });
});

describe('trigger configurations', () => {
  const group = (triggers: TriggerConfig[]) => {
    const registry = new Registry(new ManualClock());
    registry.createApplication('web', 'ECS');
    return () =>
      registry.createGroup('web', 'prod', { ecsServices: [{ serviceName: 'web' }], triggerConfigurations: triggers });
  };
  const ok = { triggerName: 'n', triggerTargetArn: 'https://hooks.example/x', triggerEvents: ['DeploymentSuccess'] };

  it('accepts webhooks, Instance events (they never fire for ECS/Lambda) and both ways to ask for Slack', () => {
    expect(awsTypeOf(group([ok, { ...ok, triggerName: 'i', triggerEvents: ['InstanceFailure'] }]))).toBeUndefined();
    expect(triggerTarget(ok)).toEqual({ url: 'https://hooks.example/x', format: 'codedeploy' });
    expect(triggerTarget({ ...ok, triggerTargetArn: 'slack+https://hooks.example/T/B/x' })).toEqual({
      url: 'https://hooks.example/T/B/x',
      format: 'slack',
    });
    expect(triggerTarget({ ...ok, format: 'slack' })).toEqual({ url: 'https://hooks.example/x', format: 'slack' });
  });

  it("refuses what CodeDeploy refuses, with CodeDeploy's exceptions", () => {
    expect(awsTypeOf(group([{ ...ok, triggerEvents: ['DeploymentBegin'] }]))).toBe('InvalidTriggerConfigException');
    expect(awsTypeOf(group([{ ...ok, triggerEvents: [] }]))).toBe('InvalidTriggerConfigException');
    expect(awsTypeOf(group([{ triggerTargetArn: ok.triggerTargetArn, triggerEvents: ok.triggerEvents }]))).toBe(
      'InvalidTriggerConfigException',
    );
    expect(awsTypeOf(group([{ triggerName: 'n', triggerEvents: ok.triggerEvents }]))).toBe(
      'InvalidTriggerConfigException',
    );
    expect(awsTypeOf(group([ok, ok]))).toBe('InvalidTriggerConfigException');
    expect(awsTypeOf(group([{ ...ok, triggerTargetArn: 'slack+https://h.example/x', format: 'codedeploy' }]))).toBe(
      'InvalidTriggerConfigException',
    );
    const sns = group([{ ...ok, triggerTargetArn: 'arn:aws:sns:us-east-1:111122223333:deploys' }]);
    expect(awsTypeOf(sns)).toBe('InvalidTriggerConfigException');
    expect(sns).toThrow(/must be an http\(s\) webhook URL/);
    const eleven = Array.from({ length: 11 }, (_, i) => ({ ...ok, triggerName: `t${i}` }));
    expect(awsTypeOf(group(eleven))).toBe('TriggerTargetsLimitExceededException');
  });
});

describe('back-off', () => {
  it('doubles from the first delay, caps at 30 s, and jitters into the upper half', () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelay(n, 500, top))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
    expect(retryDelay(1, 500, () => 0)).toBe(250);
    expect(retryDelay(1_000, 500, () => 0)).toBe(MAX_RETRY_DELAY_MS / 2);
    expect(pastGiveUp(0, 600_000, 600_000)).toBe(false);
    expect(pastGiveUp(0, 600_001, 600_000)).toBe(true);
  });
});

/** A receiver that answers attempts in order from `script` (true: 2xx) and records each call. */
function scripted(script: (boolean | 'hang')[]) {
  const calls: { key: string; body: unknown }[] = [];
  const post: Post = (entry, signal) => {
    calls.push({ key: entry.key, body: entry.body });
    const answer = script.shift() ?? true;
    if (answer === 'hang') {
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    }
    return answer ? Promise.resolve() : Promise.reject(new Error('the webhook answered 500'));
  };
  return { calls, post };
}

function entry(key = 'd-AAAAAAAAA/DeploymentSuccess/n', at = T0): NotificationEntry {
  return {
    key,
    deploymentId: 'd-AAAAAAAAA',
    eventType: 'DeploymentSuccess',
    triggerName: 'n',
    url: 'http://127.0.0.1:1/hook',
    format: 'codedeploy',
    body: { status: 'Succeeded' },
    state: 'pending',
    attempts: 0,
    nextAttemptAt: at,
    createdAt: at,
    updatedAt: at,
  };
}

describe('delivery worker', () => {
  const setup = (script: (boolean | 'hang')[], store = new MemoryStore(), giveUpAfterMs = 600_000) => {
    const clock = new ManualClock(T0);
    const outbox = new Outbox(store);
    const receiver = scripted(script);
    const worker = new DeliveryWorker({
      clock,
      log: silent,
      outbox,
      timeoutMs: 5_000,
      retryDelayMs: 500,
      giveUpAfterMs,
      random: () => 0.999_999,
      post: receiver.post,
    });
    return { clock, outbox, worker, receiver, store };
  };
  const stateOf = (outbox: Outbox) => outbox.list()[0]!;

  it('keeps what is queued before start, and sends it once started', async () => {
    const { clock, outbox, worker, receiver } = setup([true]);
    expect(worker.enqueue(entry())).toBe(true);
    await clock.advance(10_000);
    expect(receiver.calls).toHaveLength(0);
    expect(stateOf(outbox)).toMatchObject({ state: 'pending', attempts: 0 });
    worker.start();
    await clock.advance(0);
    expect(receiver.calls).toHaveLength(1);
    expect(stateOf(outbox)).toMatchObject({ state: 'delivered', attempts: 1 });
  });

  it('retries failures on the back-off schedule and records the delivery with its attempts', async () => {
    const { clock, outbox, worker, receiver } = setup([false, false, false, true]);
    worker.start();
    expect(worker.enqueue(entry())).toBe(true);
    expect(worker.enqueue(entry())).toBe(false);
    await clock.advance(0);
    expect(receiver.calls).toHaveLength(1);
    expect(stateOf(outbox)).toMatchObject({
      state: 'pending',
      attempts: 1,
      nextAttemptAt: T0 + 500,
      lastError: 'the webhook answered 500',
    });
    await clock.advance(499);
    expect(receiver.calls).toHaveLength(1);
    await clock.advance(1);
    expect(receiver.calls).toHaveLength(2);
    await clock.advance(1_000);
    expect(receiver.calls).toHaveLength(3);
    await clock.advance(2_000);
    expect(receiver.calls).toHaveLength(4);
    expect(stateOf(outbox)).toMatchObject({ state: 'delivered', attempts: 4, updatedAt: T0 + 3_500 });
    expect(stateOf(outbox)).not.toHaveProperty('lastError');
    await clock.advance(60_000);
    expect(receiver.calls).toHaveLength(4);
    await worker.close();
  });

  it('times an attempt out on the clock, and gives up once a retry would fall past the bound', async () => {
    const { clock, outbox, worker, receiver } = setup(['hang', false, false, false], new MemoryStore(), 7_000);
    worker.start();
    worker.enqueue(entry());
    await clock.advance(0);
    await clock.advance(5_000);
    expect(stateOf(outbox)).toMatchObject({ state: 'pending', attempts: 1, lastError: 'no answer within 5000 ms' });
    // 5 s + 0.5 s, + 1 s: the third failure's retry (at 8.5 s) is past 7 s.
    await clock.advance(10_000);
    expect(receiver.calls).toHaveLength(3);
    expect(stateOf(outbox)).toMatchObject({ state: 'failed', attempts: 3, lastError: 'the webhook answered 500' });
    await worker.close();
  });

  it('leaves an attempt cut by closing pending, and a new worker on the same store sends it once', async () => {
    const store = new MemoryStore();
    const first = setup(['hang'], store);
    first.worker.start();
    first.worker.enqueue(entry());
    await first.clock.advance(0);
    expect(first.receiver.calls).toHaveLength(1);
    await first.worker.close();
    expect(stateOf(first.outbox)).toMatchObject({ state: 'pending', attempts: 0 });

    const second = setup([true], store);
    second.worker.start();
    await second.clock.advance(0);
    expect(second.receiver.calls).toHaveLength(1);
    expect(stateOf(second.outbox)).toMatchObject({ state: 'delivered', attempts: 1 });
    // The key is taken for good: the same notification queued again is not sent again.
    expect(second.worker.enqueue(entry())).toBe(false);
    await second.clock.advance(60_000);
    expect(second.receiver.calls).toHaveLength(1);
    await second.worker.close();
  });

  it('sends at most four at once', async () => {
    const { clock, worker, receiver } = setup(Array.from({ length: 6 }, () => 'hang' as const));
    worker.start();
    for (let i = 0; i < 6; i++) worker.enqueue(entry(`k${i}`));
    await clock.advance(0);
    expect(receiver.calls).toHaveLength(4);
    await clock.advance(5_000);
    expect(receiver.calls).toHaveLength(6);
    await worker.close();
  });
});

describe('notifier', () => {
  const trigger: TriggerConfig = {
    triggerName: 'all',
    triggerTargetArn: 'slack+https://hooks.example/x',
    triggerEvents: ['DeploymentStart', 'DeploymentSuccess', 'InstanceSuccess'],
  };

  it('queues one notification per event and trigger, and none again after a restart re-reports the same statuses', () => {
    const store = new MemoryStore();
    const start = () => {
      const outbox = new Outbox(store);
      const queued: NotificationEntry[] = [];
      const notifier = new Notifier({
        clock: new ManualClock(T0),
        log: silent,
        triggersOf: (app, group) =>
          app === 'web' && group === 'web-prod'
            ? [trigger, { ...trigger, triggerName: 'fail-only', triggerEvents: ['DeploymentFailure'] }]
            : [],
        enqueue: (e) => {
          if (outbox.add(e)) queued.push(e);
        },
      });
      return { notifier, queued };
    };
    const first = start();
    first.notifier.observe(record({ status: 'Created' }));
    first.notifier.observe(record({ status: 'InProgress' }));
    first.notifier.observe(record({ status: 'InProgress', trafficWeight: 10_000 }));
    first.notifier.observe(record({ status: 'Succeeded', completeTime: T0 + 1_000 }));
    expect(first.queued.map((e) => e.key)).toEqual([
      'd-AAAAAAAAA/DeploymentStart/all',
      'd-AAAAAAAAA/DeploymentSuccess/all',
    ]);
    expect(first.queued[1]).toMatchObject({
      url: 'https://hooks.example/x',
      format: 'slack',
      state: 'pending',
      attempts: 0,
      body: { text: expect.stringContaining('DeploymentSuccess') },
    });

    const second = start();
    second.notifier.observe(record({ status: 'InProgress' }));
    second.notifier.observe(record({ status: 'Succeeded', completeTime: T0 + 1_000 }));
    expect(second.queued).toEqual([]);
  });

  it('never lets a failure reach the deployment', () => {
    const notifier = new Notifier({
      clock: new ManualClock(T0),
      log: silent,
      triggersOf: () => {
        throw new Error('registry gone');
      },
      enqueue: () => undefined,
    });
    expect(() => notifier.observe(record())).not.toThrow();
  });
});
