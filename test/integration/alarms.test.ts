/**
 * Alarms judged from the traffic switchyard proxies, on real sockets: a canary whose replacement fails
 * (5xx, slowness, slower than the original) is stopped with ALARM_ACTIVE and rolled back within a
 * fraction of a second; too little data judges nothing; a disabled or overridden alarm configuration is
 * not watched; without DEPLOYMENT_STOP_ON_ALARM the stop leaves traffic where it was.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import {
  type AlarmConfiguration,
  type AutoRollbackConfiguration,
  type CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { ECS_GROUP } from '../support/appspecs.js';
import { count, createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { loopLoad } from '../support/load.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

type GreenMode = 'ok' | 'fail' | 'slow';

const ALARMS = {
  'green-errors': { kind: 'error-rate', threshold: 0.05, window: '5s', minRequests: 5 },
  'green-p99': { kind: 'latency', quantile: 0.99, threshold: '100ms', window: '5s', minRequests: 5 },
  'green-vs-blue': { kind: 'compare', window: '30s', minRequests: 20 },
  'needs-lots': { kind: 'error-rate', threshold: 0.05, window: '30s', minRequests: 100_000 },
};

/** Blue answers at once; green answers as `mode.green` says; application `web`, group `web-prod`. */
async function setup(
  alarmConfiguration: AlarmConfiguration,
  autoRollbackConfiguration: AutoRollbackConfiguration = { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
) {
  const mode: { green: GreenMode; delayMs: number } = { green: 'ok', delayMs: 300 };
  const blue = await startUpstream('blue');
  const green = await startUpstream('green', (_req, res) => {
    if (mode.green === 'fail') res.writeHead(500).end('green broke');
    else if (mode.green === 'slow') setTimeout(() => res.writeHead(200).end('green'), mode.delayMs);
    else res.writeHead(200).end('green');
  });
  const sy = await startProxy({ ...twoVersions(blue.url, green.url), alarms: ALARMS });
  const cd = sdkClient(sy);
  // Real minutes: the canary holds 10% for the whole test while the alarms judge.
  await createWebGroup(cd, {
    deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
    alarmConfiguration,
    autoRollbackConfiguration,
  });
  return { sy, cd, mode };
}

const deploy = (cd: CodeDeployClient, overrideAlarmConfiguration?: AlarmConfiguration) =>
  deployWeb(cd, overrideAlarmConfiguration && { overrideAlarmConfiguration });

const statusOf = async (cd: CodeDeployClient, deploymentId: string) =>
  (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!;

describe('alarms on live traffic', () => {
  it('stops a canary whose replacement answers 5xx and rolls it back within a second', async () => {
    const { sy, cd, mode } = await setup({ enabled: true, alarms: [{ name: 'green-errors' }] });
    const deploymentId = await deploy(cd);
    await until(
      async () => sy.traffic.service('web').weights.production['2'],
      (w) => w === 10,
    );
    const traffic = loopLoad(sy);
    // The replacement has answered healthy traffic (4x the alarm's minRequests) before it starts failing.
    await until(
      async () => traffic.seen.filter((s) => s.version === '2').length,
      (n) => n >= 20,
      5_000,
      10,
      'green answering',
    );
    mode.green = 'fail';
    const failingSince = Date.now();
    const info = await until(
      () => statusOf(cd, deploymentId),
      (d) => d.status === 'Stopped',
      5_000,
      20,
    );
    await traffic.stop();
    expect(info.errorInformation).toMatchObject({ code: 'ALARM_ACTIVE' });
    expect(info.errorInformation!.message).toMatch(
      /^Alarm "green-errors" went into ALARM: replacement error rate \d+\.\d\d% /,
    );
    expect(info.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    // The last request routed to the replacement came well under a second after its first failure.
    const lastGreen = Math.max(...traffic.seen.filter((s) => s.version === '2').map((s) => s.at));
    expect(lastGreen - failingSince).toBeLessThan(1_000);
    expect(await count(sy, 10)).toEqual({ blue: 10 });
    const events = (await (
      await request(`${sy.urls['control']}/v1/deployments/${deploymentId}/events`)
    ).body.json()) as {
      events: { message: string; detail: Record<string, unknown> }[];
    };
    expect(events.events.filter((e) => e.message === 'alarm state changed').map((e) => e.detail['state'])).toContain(
      'ALARM',
    );
  });

  it("stops a canary whose replacement's p99 goes over its threshold", async () => {
    const { sy, cd, mode } = await setup({ enabled: true, alarms: [{ name: 'green-p99' }] });
    const deploymentId = await deploy(cd);
    await until(
      async () => sy.traffic.service('web').weights.production['2'],
      (w) => w === 10,
    );
    mode.green = 'slow';
    const traffic = loopLoad(sy, 8);
    const info = await until(
      () => statusOf(cd, deploymentId),
      (d) => d.status === 'Stopped',
      10_000,
      20,
    );
    await traffic.stop();
    expect(info.errorInformation!.message).toMatch(
      /^Alarm "green-p99" went into ALARM: replacement p99 \d+\.\d ms, threshold 100\.0 ms$/,
    );
    expect(sy.traffic.service('web').weights.production).toEqual({ '1': 100, '2': 0 });
  });

  it('stops a canary whose replacement is slower than the original beyond chance (compare)', async () => {
    const { sy, cd, mode } = await setup({ enabled: true, alarms: [{ name: 'green-vs-blue' }] });
    mode.green = 'slow';
    mode.delayMs = 20;
    const deploymentId = await deploy(cd);
    await until(
      async () => sy.traffic.service('web').weights.production['2'],
      (w) => w === 10,
    );
    const traffic = loopLoad(sy, 8);
    const info = await until(
      () => statusOf(cd, deploymentId),
      (d) => d.status === 'Stopped',
      15_000,
      50,
    );
    await traffic.stop();
    expect(info.errorInformation!.message).toMatch(
      /^Alarm "green-vs-blue" went into ALARM: replacement is slower than the original/,
    );
  });

  it('judges nothing on too little data, and a disabled or overridden configuration watches nothing', async () => {
    const { sy, cd, mode } = await setup({ enabled: true, alarms: [{ name: 'needs-lots' }] });
    mode.green = 'fail';
    const deploymentId = await deploy(cd);
    await until(
      async () => sy.traffic.service('web').weights.production['2'],
      (w) => w === 10,
    );
    const traffic = loopLoad(sy, 4, 400);
    // An observation window, not a handshake: too little data, so nothing may be judged in this second.
    await sleep(1_000);
    await traffic.stop();
    expect((await statusOf(cd, deploymentId)).status).toBe('InProgress');
    await cd.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));

    // The same failing replacement, with the group's alarms overridden off for this deployment.
    const overridden = await deploy(cd, { enabled: false });
    await until(
      async () => sy.traffic.service('web').weights.production['2'],
      (w) => w === 10,
    );
    const again = loopLoad(sy, 4, 400);
    // An observation window, not a handshake: with the alarms off, nothing may be judged in this second.
    await sleep(1_000);
    await again.stop();
    expect((await statusOf(cd, overridden)).status).toBe('InProgress');
    expect((await statusOf(cd, overridden)).overrideAlarmConfiguration).toEqual({ enabled: false });
    await cd.send(new StopDeploymentCommand({ deploymentId: overridden, autoRollbackEnabled: true }));
  });

  it('without DEPLOYMENT_STOP_ON_ALARM stops the deployment but leaves traffic where it is', async () => {
    const { sy, cd, mode } = await setup(
      { enabled: true, alarms: [{ name: 'green-errors' }] },
      { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
    );
    const deploymentId = await deploy(cd);
    await until(
      async () => sy.traffic.service('web').weights.production['2'],
      (w) => w === 10,
    );
    mode.green = 'fail';
    const traffic = loopLoad(sy);
    const info = await until(
      () => statusOf(cd, deploymentId),
      (d) => d.status === 'Stopped',
      5_000,
      20,
    );
    await traffic.stop();
    expect(info.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(info.rollbackInfo).toBeUndefined();
    expect(sy.traffic.service('web').weights.production).toEqual({ '1': 90, '2': 10 });
  });

  it('refuses alarm configurations CodeDeploy refuses, and alarms that are not declared', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy({ ...twoVersions(blue.url, green.url), alarms: ALARMS });
    const cd = sdkClient(sy);
    await cd.send(new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'ECS' }));
    const group = (alarmConfiguration: AlarmConfiguration) =>
      cd
        .send(
          new CreateDeploymentGroupCommand({
            applicationName: 'web',
            deploymentGroupName: 'g',
            ...ECS_GROUP,
            alarmConfiguration,
          }),
        )
        .then(
          () => 'created',
          (err: Error) => `${err.name}: ${err.message}`,
        );
    expect(await group({ enabled: true, alarms: [] })).toBe(
      'InvalidAlarmConfigException: alarmConfiguration is enabled but names no alarms',
    );
    expect(await group({ enabled: true, alarms: [{ name: 'nope' }] })).toBe(
      'InvalidAlarmConfigException: alarm "nope" is not declared in the config\'s alarms:',
    );
    expect(await group({ enabled: true, alarms: [{ name: 'green-p99' }, { name: 'green-p99' }] })).toBe(
      'InvalidAlarmConfigException: alarm "green-p99" is named twice',
    );
    // An alarm added over REST can be named at once.
    const put = await request(`${sy.urls['control']}/v1/alarms/late`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'error-rate', threshold: 0.2 }),
    });
    expect(put.statusCode).toBe(200);
    expect(await put.body.json()).toMatchObject({
      kind: 'error-rate',
      threshold: 0.2,
      window: 10_000,
      minRequests: 10,
    });
    expect(await group({ enabled: true, alarms: [{ name: 'late' }] })).toBe('created');
    const bad = await request(`${sy.urls['control']}/v1/alarms/bad`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'latency' }),
    });
    expect(bad.statusCode).toBe(400);
    expect(await bad.body.json()).toMatchObject({
      issues: ['a latency alarm needs exactly one of threshold or factor'],
    });
  });
});
