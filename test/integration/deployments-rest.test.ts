/**
 * The REST additions CodeDeploy lacks, on a running switchyard: a deployment's timeline, promote, which
 * skips the rest of a shift schedule, and custom configurations finer than CreateDeploymentConfig allows.
 */
import {
  type CodeDeployClient,
  ContinueDeploymentCommand,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
} from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { ECS_APPSPEC } from '../support/appspecs.js';
import { sdkClient } from '../support/codedeploy.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

/** Application `web`, group `prod` on service `web` with `configName`, and a deployment of version 2. */
async function deployWith(cd: CodeDeployClient, configName: string): Promise<string> {
  await cd.send(new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'ECS' }));
  await cd.send(
    new CreateDeploymentGroupCommand({
      applicationName: 'web',
      deploymentGroupName: 'prod',
      serviceRoleArn: 'arn:aws:iam::111122223333:role/CodeDeploy',
      deploymentConfigName: configName,
      ecsServices: [{ clusterName: 'main', serviceName: 'web' }],
    }),
  );
  const { deploymentId } = await cd.send(
    new CreateDeploymentCommand({
      applicationName: 'web',
      deploymentGroupName: 'prod',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ECS_APPSPEC } },
    }),
  );
  return deploymentId!;
}

describe('REST deployment endpoints', () => {
  it("gives a deployment's planned shift: each step from the start of AllowTraffic, its weight and hold", async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url));
    const cd = sdkClient(sy);
    const deploymentId = await deployWith(cd, 'CodeDeployDefault.ECSLinear10PercentEvery3Minutes');
    await expect.poll(() => sy.traffic.service('web').weights.production['2']).toBe(10);
    const res = await request(`${sy.urls['control']}/v1/deployments/${deploymentId}/schedule`);
    expect(res.statusCode).toBe(200);
    const schedule = (await res.body.json()) as {
      timeScale: number;
      allowTrafficStartedAt: number | null;
      steps: { atMs: number; percent: number; holdMs: number }[];
      totalMs: number;
    };
    expect(schedule.timeScale).toBe(1);
    expect(schedule.allowTrafficStartedAt).toEqual(expect.any(Number));
    expect(schedule.steps).toHaveLength(10);
    expect(schedule.steps[0]).toEqual({ atMs: 0, percent: 10, holdMs: 180_000 });
    expect(schedule.steps[8]).toEqual({ atMs: 8 * 180_000, percent: 90, holdMs: 180_000 });
    expect(schedule.steps[9]).toEqual({ atMs: 9 * 180_000, percent: 100, holdMs: 0 });
    expect(schedule.totalMs).toBe(9 * 180_000);
    const missing = await request(`${sy.urls['control']}/v1/deployments/d-NOPE12345/schedule`);
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.json()).toMatchObject({ error: 'DEPLOYMENT_NOT_FOUND' });
  });

  it('promotes a linear deployment to 100% at once and shows it in the timeline', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url));
    const cd = sdkClient(sy);
    const deploymentId = await deployWith(cd, 'CodeDeployDefault.ECSLinear10PercentEvery3Minutes');
    // Real minutes: without promote this would take 27 of them.
    await expect.poll(() => sy.traffic.service('web').weights.production['2']).toBe(10);
    // A split set by hand would fight the deployment: refused while it runs.
    const byHand = await request(`${sy.urls['control']}/v1/services/web/weight`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: '2', percent: 0 }),
    });
    expect(byHand.statusCode).toBe(409);
    expect(await byHand.body.json()).toMatchObject({
      error: 'DEPLOYMENT_ACTIVE',
      message: expect.stringContaining(deploymentId),
    });
    expect(sy.traffic.service('web').weights.production['2']).toBe(10);

    const promoted = await request(`${sy.urls['control']}/v1/deployments/${deploymentId}/promote`, { method: 'POST' });
    expect(promoted.statusCode).toBe(200);
    expect(await promoted.body.json()).toMatchObject({ deploymentId });
    await expect
      .poll(async () => (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.status)
      .toBe('Succeeded');
    expect(sy.traffic.service('web').live).toBe('2');

    const events = await request(`${sy.urls['control']}/v1/deployments/${deploymentId}/events`);
    const body = (await events.body.json()) as { events: { message: string; detail: Record<string, unknown> }[] };
    const messages = body.events.map((e) => e.message);
    expect(messages[0]).toBe('deployment created');
    expect(messages).toContain('promoted: skipping the remaining waits');
    expect(body.events.filter((e) => e.message === 'weight changed').map((e) => e.detail['weight'])).toEqual([10, 100]);
    expect(messages.at(-1)).toBe('deployment succeeded');

    const missing = await request(`${sy.urls['control']}/v1/deployments/d-NOSUCHONE/events`);
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.json()).toMatchObject({ error: 'DEPLOYMENT_NOT_FOUND' });
    const finished = await request(`${sy.urls['control']}/v1/deployments/${deploymentId}/promote`, { method: 'POST' });
    expect(finished.statusCode).toBe(409);
    expect(await finished.body.json()).toMatchObject({ error: 'DEPLOYMENT_COMPLETED' });
  });

  it('creates a custom configuration with 0.01% weights and a manual step, and deploys with it', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url));
    const control = sy.urls['control']!;
    const post = (body: unknown) =>
      request(`${control}/v1/deployment-configs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const spec = {
      name: 'half-percent',
      computePlatform: 'ECS',
      trafficRouting: { steps: [{ weight: 0.5 }, { weight: 100 }] },
    };
    const created = await post(spec);
    expect(created.statusCode).toBe(201);
    expect(await created.body.json()).toMatchObject({
      deploymentConfigName: 'half-percent',
      computePlatform: 'ECS',
      trafficRouting: {
        kind: 'steps',
        steps: [
          { weight: 50, pauseMs: null },
          { weight: 10_000, pauseMs: 0 },
        ],
      },
    });
    const again = await post(spec);
    expect(again.statusCode).toBe(400);
    expect(await again.body.json()).toMatchObject({ message: "Deployment config 'half-percent' already exists" });
    const bad = await post({
      name: 'x',
      computePlatform: 'ECS',
      trafficRouting: { type: 'TimeBasedCanary', percent: 0.001, interval: '0s' },
    });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { issues: string[] }).issues).toEqual([
      'trafficRouting.percent: must be a percentage with at most two decimals',
      'trafficRouting.interval: must be longer than 0',
    ]);

    const cd = sdkClient(sy);
    // Visible to the CodeDeploy API like any other custom configuration.
    const { deploymentConfigInfo } = await cd.send(
      new GetDeploymentConfigCommand({ deploymentConfigName: 'half-percent' }),
    );
    expect(deploymentConfigInfo?.computePlatform).toBe('ECS');
    const deploymentId = await deployWith(cd, 'half-percent');
    await expect.poll(() => sy.traffic.service('web').weights.production['2']).toBe(0.5);
    // 0.5% is exactly one request in two hundred.
    let greenCount = 0;
    for (let i = 0; i < 200; i++) {
      const res = await request(`${sy.urls['production']}/`);
      if ((await res.body.text()) === 'green') greenCount++;
    }
    expect(greenCount).toBe(1);
    await cd.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'READY_WAIT' }));
    await expect
      .poll(async () => (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.status)
      .toBe('Succeeded');
    expect(sy.traffic.service('web').weights.production).toEqual({ '1': 0, '2': 100 });
  });
});
