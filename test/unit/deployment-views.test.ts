/**
 * What `GET /v1/deployments` and `GET /v1/deployments/:id` make of a deployment record: weights in
 * percent, optional members only when the record has them, the detail's alarms and wait; and which
 * records a list selects, newest first, by application, group and limit.
 */
import { describe, expect, it } from 'vitest';

import { detailOf, selectDeployments, summaryOf } from '../../src/api/rest/deployment-views.js';
import { parseAppSpec } from '../../src/appspec/parse.js';
import { predefinedConfig } from '../../src/codedeploy/predefined-configs.js';
import type { DeploymentRecord } from '../../src/shifting/ports.js';
import { ECS_APPSPEC } from '../support/appspecs.js';

/** A running deployment `id` of `application`/`group`, with `overrides` over it. */
function record(
  id: string,
  application = 'web',
  group = 'web-prod',
  overrides: Partial<DeploymentRecord> = {},
): DeploymentRecord {
  return {
    id,
    plan: {
      applicationName: application,
      deploymentGroupName: group,
      config: predefinedConfig('CodeDeployDefault.ECSCanary10Percent5Minutes')!,
      appSpec: parseAppSpec(ECS_APPSPEC, 'appspec.yml'),
      service: 'web',
      currentVersion: '1',
      targetVersion: '2',
      timeScale: 60,
      hookTimeoutMs: 3_600_000,
      autoRollback: { enabled: false, events: [] },
      testListener: false,
      creator: 'user',
    },
    status: 'InProgress',
    createTime: 1_000,
    startTime: 1_500,
    lifecycleEvents: [
      { name: 'BeforeInstall', status: 'Succeeded', startTime: 1_500, endTime: 1_600 },
      { name: 'AllowTraffic', status: 'InProgress', startTime: 1_700 },
    ],
    trafficWeight: 1_050,
    shiftStep: 1,
    instanceTerminationWaitTimeStarted: false,
    wallTimes: { create: 10, start: 11 },
    timeline: [],
    ...overrides,
  };
}

describe('deployment views', () => {
  it('summarises a running deployment in percent, leaving out what it does not have yet', () => {
    expect(summaryOf(record('d-AAAAAAAA1'))).toEqual({
      deploymentId: 'd-AAAAAAAA1',
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      service: 'web',
      currentVersion: '1',
      targetVersion: '2',
      status: 'InProgress',
      creator: 'user',
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
      timeScale: 60,
      createTime: 1_000,
      startTime: 1_500,
      wallTimes: { create: 10, start: 11 },
      trafficWeight: 10.5,
    });
  });

  it('details an ended rollback with its error, links, lifecycle, alarms and no wait', () => {
    const ended = record('d-AAAAAAAA2', 'web', 'web-prod', {
      status: 'Stopped',
      completeTime: 2_000,
      wallTimes: { create: 10, start: 11, complete: 20 },
      errorInformation: { code: 'ALARM_ACTIVE', message: 'Alarm "errors" went into ALARM' },
      rollbackInfo: { rollbackDeploymentId: 'd-AAAAAAAA3' },
      trafficWeight: 0,
      promoted: true,
    });
    ended.plan = { ...ended.plan, alarms: { names: ['errors'], ignorePollAlarmFailure: true }, description: 'v2' };
    expect(detailOf(ended)).toMatchObject({
      status: 'Stopped',
      completeTime: 2_000,
      wallTimes: { complete: 20 },
      trafficWeight: 0,
      errorInformation: { code: 'ALARM_ACTIVE' },
      rollbackInfo: { rollbackDeploymentId: 'd-AAAAAAAA3' },
      lifecycleEvents: ended.lifecycleEvents,
      alarms: { names: ['errors'], ignorePollAlarmFailure: true },
      promoted: true,
      description: 'v2',
    });
    expect(detailOf(ended)).not.toHaveProperty('waitingFor');
    const waiting = detailOf(record('d-AAAAAAAA4', 'web', 'web-prod', { waitingFor: 'READY_WAIT' }));
    expect(waiting).toMatchObject({ waitingFor: 'READY_WAIT', alarms: null });
    expect(waiting).not.toHaveProperty('errorInformation');
    expect(waiting).not.toHaveProperty('description');
  });

  it('selects newest first, by application and group, up to the limit', () => {
    const all = [
      record('d-1', 'web', 'prod'),
      record('d-2', 'api', 'prod'),
      record('d-3', 'web', 'canary'),
      record('d-4', 'web', 'prod'),
    ];
    const ids = (filter: Parameters<typeof selectDeployments>[1]) => selectDeployments(all, filter).map((r) => r.id);
    expect(ids({ limit: 100 })).toEqual(['d-4', 'd-3', 'd-2', 'd-1']);
    expect(ids({ limit: 2 })).toEqual(['d-4', 'd-3']);
    expect(ids({ application: 'web', limit: 100 })).toEqual(['d-4', 'd-3', 'd-1']);
    expect(ids({ group: 'prod', limit: 100 })).toEqual(['d-4', 'd-2', 'd-1']);
    expect(ids({ application: 'web', group: 'prod', limit: 1 })).toEqual(['d-4']);
    expect(ids({ application: 'none', limit: 100 })).toEqual([]);
  });
});
