/**
 * What restore does with a deployment a restart found unfinished, decided from plain kept records: fail
 * when the config lost a version, start afresh, roll back, or resume.
 */
import { describe, expect, it } from 'vitest';

import { parseAppSpec } from '../../src/appspec/parse.js';
import { type DeploymentStatus, ECS_LIFECYCLE, type LifecycleEventName } from '../../src/codedeploy/lifecycle.js';
import { predefinedConfig } from '../../src/codedeploy/predefined-configs.js';
import type { DeploymentRecord, RecoveryPolicy } from '../../src/shifting/ports.js';
import { recoveryDecision, trafficMoved } from '../../src/shifting/recovery-decision.js';
import { ECS_APPSPEC } from '../support/appspecs.js';

const WITH_HOOKS = parseAppSpec(
  `${ECS_APPSPEC}Hooks:\n  - AfterInstall: after-install\n  - AfterAllowTraffic: after-allow\n`,
  'appspec.yml',
);
const WITHOUT_HOOKS = parseAppSpec(ECS_APPSPEC, 'appspec.yml');

const RESUME: RecoveryPolicy = { policy: 'resume', hookInFlight: 'rerun' };
const ROLLBACK: RecoveryPolicy = { policy: 'rollback', hookInFlight: 'rerun' };
const HOOK_ROLLBACK: RecoveryPolicy = { policy: 'resume', hookInFlight: 'rollback' };
const BOTH = new Set(['1', '2']);

/** A kept ECS deployment of version 2 over 1: the events before `at` done, `at` running, the rest pending. */
function kept(
  at: LifecycleEventName | undefined,
  options: { status?: DeploymentStatus; trafficWeight?: number; hooks?: boolean } = {},
): DeploymentRecord {
  const running = at === undefined ? -1 : ECS_LIFECYCLE.indexOf(at);
  return {
    id: 'd-TEST',
    plan: {
      applicationName: 'app',
      deploymentGroupName: 'group',
      config: predefinedConfig('CodeDeployDefault.ECSAllAtOnce')!,
      appSpec: options.hooks === false ? WITHOUT_HOOKS : WITH_HOOKS,
      service: 'web',
      currentVersion: '1',
      targetVersion: '2',
      timeScale: 1,
      hookTimeoutMs: 3_600_000,
      autoRollback: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
      readyWait: undefined,
      termination: undefined,
      testListener: true,
      creator: 'user',
    },
    status: options.status ?? (at === undefined ? 'Created' : 'InProgress'),
    createTime: 0,
    lifecycleEvents: ECS_LIFECYCLE.map((name, i) => ({
      name,
      status: i < running ? 'Succeeded' : i === running ? 'InProgress' : 'Pending',
    })),
    trafficWeight: options.trafficWeight ?? 0,
    shiftStep: 0,
    instanceTerminationWaitTimeStarted: false,
    wallTimes: { create: 0 },
    timeline: [],
  };
}

describe('recoveryDecision', () => {
  it('fails a deployment whose service or versions the config no longer has, before anything else', () => {
    expect(recoveryDecision(kept('AllowTraffic'), RESUME, new Set(['1']))).toEqual({
      action: 'fail',
      message: 'cannot recover after a restart: service web has no version 2 any more',
    });
    expect(recoveryDecision(kept(undefined), RESUME, new Set(['3']))).toEqual({
      action: 'fail',
      message: 'cannot recover after a restart: service web has no version 1 or 2 any more',
    });
    expect(recoveryDecision(kept('AfterInstall'), ROLLBACK, undefined)).toEqual({
      action: 'fail',
      message: 'cannot recover after a restart: service web is no longer configured',
    });
  });

  it('starts afresh a deployment that had not begun, whatever the policy', () => {
    expect(recoveryDecision(kept(undefined), RESUME, BOTH)).toEqual({ action: 'start' });
    expect(recoveryDecision(kept(undefined), ROLLBACK, BOTH)).toEqual({ action: 'start' });
  });

  it('rolls back under the rollback policy, returning traffic with a rollback record only when it had moved', () => {
    expect(recoveryDecision(kept('AfterInstall'), ROLLBACK, BOTH)).toEqual({
      action: 'rollback',
      message: 'switchyard restarted while the deployment ran, and its recovery policy is rollback',
      hook: 'AfterInstall',
      traffic: 'restore',
    });
    expect(recoveryDecision(kept('AllowTraffic', { trafficWeight: 1000 }), ROLLBACK, BOTH)).toEqual({
      action: 'rollback',
      message: 'switchyard restarted while the deployment ran, and its recovery policy is rollback',
      hook: undefined,
      traffic: true,
    });
  });

  it('rolls back for a hook in flight when the policy for that says so, and resumes otherwise', () => {
    expect(recoveryDecision(kept('AfterAllowTraffic', { trafficWeight: 10_000 }), HOOK_ROLLBACK, BOTH)).toEqual({
      action: 'rollback',
      message:
        'switchyard restarted while the deployment ran, and its AfterAllowTraffic hook was running and the recovery policy for that is rollback',
      hook: 'AfterAllowTraffic',
      traffic: true,
    });
    // A reserved event running, or an event whose hook the AppSpec does not name, is no hook in flight.
    expect(recoveryDecision(kept('Install'), HOOK_ROLLBACK, BOTH)).toEqual({ action: 'resume', shifting: false });
    expect(recoveryDecision(kept('AfterInstall', { hooks: false }), HOOK_ROLLBACK, BOTH)).toEqual({
      action: 'resume',
      shifting: false,
    });
    expect(recoveryDecision(kept('AfterInstall'), RESUME, BOTH)).toEqual({ action: 'resume', shifting: false });
  });

  it('puts the shift back on when a resumed deployment was in or past AllowTraffic', () => {
    expect(recoveryDecision(kept('AllowTraffic', { trafficWeight: 1000 }), RESUME, BOTH)).toEqual({
      action: 'resume',
      shifting: true,
    });
    expect(recoveryDecision(kept('AfterAllowTraffic', { trafficWeight: 10_000 }), RESUME, BOTH)).toEqual({
      action: 'resume',
      shifting: true,
    });
    expect(recoveryDecision(kept('BeforeAllowTraffic', { status: 'Ready' }), RESUME, BOTH)).toEqual({
      action: 'resume',
      shifting: false,
    });
  });
});

describe('trafficMoved', () => {
  it('counts production weight and test traffic, started or done', () => {
    expect(trafficMoved(kept('AfterInstall'))).toBe(false);
    expect(trafficMoved(kept('AllowTestTraffic'))).toBe(true);
    expect(trafficMoved(kept('AfterAllowTestTraffic'))).toBe(true);
    expect(trafficMoved({ ...kept('AfterInstall'), trafficWeight: 1 })).toBe(true);
  });
});
