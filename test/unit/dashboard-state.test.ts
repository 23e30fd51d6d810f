import { describe, expect, it } from 'vitest';

import { weightSeries } from '../../dashboard/charts.js';
import { applicableControls } from '../../dashboard/pages/deployment.js';
import { byGroup } from '../../dashboard/pages/history.js';
import {
  activeOn,
  applyDeploymentEvent,
  applyServiceEvent,
  applyStats,
  emptyState,
  mergeTimeline,
  rolesOn,
} from '../../dashboard/state.js';
import type {
  DeploymentDetail,
  DeploymentSummary,
  ServiceAnswer,
  StatsSnapshot,
  StreamedEvent,
  TimelineEntry,
} from '../../dashboard/types.js';

function summary(over: Partial<DeploymentSummary> = {}): DeploymentSummary {
  return {
    deploymentId: 'd-1',
    applicationName: 'app',
    deploymentGroupName: 'grp',
    service: 'web',
    currentVersion: '1',
    targetVersion: '2',
    status: 'InProgress',
    creator: 'user',
    deploymentConfigName: 'canary',
    timeScale: 60,
    createTime: 1000,
    wallTimes: { create: 1000 },
    trafficWeight: 0,
    ...over,
  };
}

function event(message: string, detail: Record<string, unknown>, over: Partial<StreamedEvent> = {}): StreamedEvent {
  return {
    deploymentId: 'd-1',
    time: 5000,
    wallTime: 2000,
    level: 'info',
    message,
    detail,
    status: 'InProgress',
    ...over,
  };
}

describe('dashboard state from the event stream', () => {
  it('moves the weight and status of a deployment with its events', () => {
    const state = emptyState();
    state.deployments.set('d-1', summary());
    expect(applyDeploymentEvent(state, event('weight changed', { weight: 10 }))).toBe(true);
    expect(state.deployments.get('d-1')).toMatchObject({ trafficWeight: 10, status: 'InProgress' });
    applyDeploymentEvent(state, event('deployment succeeded', {}, { status: 'Succeeded', time: 9000, wallTime: 3000 }));
    expect(state.deployments.get('d-1')).toMatchObject({
      trafficWeight: 100,
      status: 'Succeeded',
      completeTime: 9000,
      wallTimes: { create: 1000, complete: 3000 },
    });
  });

  it('records the error of a stop and the rollback it started', () => {
    const state = emptyState();
    state.deployments.set('d-1', summary());
    applyDeploymentEvent(
      state,
      event(
        'deployment stopped',
        { code: 'ALARM_ACTIVE', message: 'alarm errors', rollback: true, rollbackDeploymentId: 'd-2' },
        { status: 'Stopped' },
      ),
    );
    expect(state.deployments.get('d-1')).toMatchObject({
      status: 'Stopped',
      errorInformation: { code: 'ALARM_ACTIVE', message: 'alarm errors' },
      rollbackInfo: { rollbackDeploymentId: 'd-2' },
    });
    expect(activeOn(state, 'web')).toBeUndefined();
  });

  it('answers false for a deployment it does not know, for the caller to read', () => {
    const state = emptyState();
    expect(applyDeploymentEvent(state, event('deployment created', {}))).toBe(false);
    expect(state.deployments.size).toBe(0);
  });

  it('appends to a timeline that was read, once, however often an event is replayed', () => {
    const state = emptyState();
    state.deployments.set('d-1', summary());
    const first: TimelineEntry = { time: 1, wallTime: 1, level: 'info', message: 'deployment created', detail: {} };
    state.timelines.set('d-1', [first]);
    const weight = event('weight changed', { weight: 10 });
    applyDeploymentEvent(state, weight);
    applyDeploymentEvent(state, weight);
    expect(state.timelines.get('d-1')?.map((e) => e.message)).toEqual(['deployment created', 'weight changed']);
    // An event of a deployment whose timeline was not read starts none.
    applyDeploymentEvent(state, event('weight changed', { weight: 10 }, { deploymentId: 'd-9' }));
    expect(state.timelines.has('d-9')).toBe(false);
  });

  it('merges a timeline read after a reconnection in time order without repeats', () => {
    const a: TimelineEntry = { time: 1, wallTime: 10, level: 'info', message: 'a', detail: {} };
    const b: TimelineEntry = { time: 2, wallTime: 20, level: 'info', message: 'b', detail: {} };
    const c: TimelineEntry = { time: 3, wallTime: 30, level: 'info', message: 'c', detail: {} };
    expect(mergeTimeline([a, c], [a, b, c])).toEqual([a, b, c]);
  });

  it('replaces the view of a service with the one a service event carries', () => {
    const state = emptyState();
    const view = (percent: number): ServiceAnswer => ({
      name: 'web',
      match: { pathPrefix: '/' },
      live: '1',
      versions: [],
      weights: { production: { '1': 100 - percent, '2': percent } },
    });
    applyServiceEvent(state, view(0));
    applyServiceEvent(state, view(10));
    expect(state.services.get('web')?.weights.production).toEqual({ '1': 90, '2': 10 });
  });

  it('keeps five minutes of stats and the latest alarm readings', () => {
    const state = emptyState();
    const snap = (at: number, alarms: StatsSnapshot['alarms'] = []): StatsSnapshot => ({
      at,
      intervalMs: 1000,
      services: [],
      alarms,
    });
    for (let at = 0; at <= 400_000; at += 1000) applyStats(state, snap(at));
    expect(state.stats[0]?.at).toBe(100_000);
    expect(state.stats.at(-1)?.at).toBe(400_000);
    const reading = {
      deploymentId: 'd-1',
      service: 'web',
      alarm: 'errors',
      kind: 'error-rate' as const,
      version: '2',
      state: 'OK' as const,
      value: 0,
      threshold: 0.05,
      unit: 'ratio' as const,
      comparison: '>',
      breaches: 0,
      datapointsToAlarm: 3,
      reason: '',
    };
    applyStats(state, snap(401_000, [reading]));
    expect(state.alarms).toEqual([reading]);
    // A restarted server starts the window again rather than draw time backwards.
    applyStats(state, snap(5000));
    expect(state.stats.map((s) => s.at)).toEqual([5000]);
  });
});

describe('dashboard weight chart data', () => {
  it('lays planned and actual weight on one axis of deployment time since AllowTraffic', () => {
    const schedule = {
      deploymentId: 'd-1',
      timeScale: 60,
      allowTrafficStartedAt: 10_000,
      steps: [
        { atMs: 0, percent: 10, holdMs: 60_000 },
        { atMs: 60_000, percent: 100, holdMs: 0 },
      ],
      totalMs: 60_000,
    };
    const timeline: TimelineEntry[] = [
      { time: 10_050, wallTime: 0, level: 'info', message: 'weight changed', detail: { weight: 10 } },
    ];
    const series = weightSeries(schedule, timeline, 30_000);
    expect(series).toEqual({
      xs: [0, 0.05, 30, 60],
      planned: [10, 10, 10, 100],
      actual: [0, 10, 10, null],
      changes: [{ atMs: 50, percent: 10 }],
    });
    expect(weightSeries({ ...schedule, allowTrafficStartedAt: null }, timeline, 0)).toBeNull();
  });
});

describe('dashboard blue and green', () => {
  it('come from the latest deployment, keep after it ends, and a rollback keeps those it undoes', () => {
    const state = emptyState();
    expect(rolesOn(state, 'web')).toBeUndefined();
    state.deployments.set('d-1', summary({ status: 'Succeeded', wallTimes: { create: 1 } }));
    expect(rolesOn(state, 'web')).toEqual({ currentVersion: '1', targetVersion: '2' });
    state.deployments.set(
      'd-2',
      summary({
        deploymentId: 'd-2',
        currentVersion: '2',
        targetVersion: '1',
        creator: 'codeDeployRollback',
        wallTimes: { create: 2 },
      }),
    );
    expect(rolesOn(state, 'web')).toEqual({ currentVersion: '1', targetVersion: '2' });
    expect(rolesOn(state, 'other')).toBeUndefined();
  });
});

describe('dashboard controls and history', () => {
  const detail = (over: Partial<DeploymentDetail> = {}): DeploymentDetail => ({
    ...summary(),
    lifecycleEvents: [{ name: 'AllowTraffic', status: 'InProgress' }],
    alarms: null,
    ...over,
  });

  it('enable Stop while running, Continue in a ready or termination wait, Promote while shifting', () => {
    expect(applicableControls(detail())).toEqual({ stop: true, continue: false, promote: true });
    expect(applicableControls(detail({ promoted: true }))).toEqual({ stop: true, continue: false, promote: false });
    expect(
      applicableControls(
        detail({
          status: 'Ready',
          waitingFor: 'READY_WAIT',
          lifecycleEvents: [{ name: 'AllowTraffic', status: 'Pending' }],
        }),
      ),
    ).toEqual({ stop: true, continue: true, promote: false });
    expect(applicableControls(detail({ waitingFor: 'TERMINATION_WAIT', lifecycleEvents: [] }))).toEqual({
      stop: true,
      continue: true,
      promote: false,
    });
    expect(applicableControls(detail({ status: 'Succeeded' }))).toEqual({
      stop: false,
      continue: false,
      promote: false,
    });
  });

  it('groups deployments by application and group, newest group and deployment first', () => {
    const groups = byGroup([
      summary({ deploymentId: 'a1', wallTimes: { create: 1 } }),
      summary({ deploymentId: 'b1', deploymentGroupName: 'other', wallTimes: { create: 2 } }),
      summary({ deploymentId: 'a2', wallTimes: { create: 3 } }),
    ]);
    expect(groups.map((g) => [`${g.application} / ${g.group}`, g.deployments.map((d) => d.deploymentId)])).toEqual([
      ['app / grp', ['a2', 'a1']],
      ['app / other', ['b1']],
    ]);
  });
});
