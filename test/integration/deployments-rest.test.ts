/**
 * The REST additions CodeDeploy lacks, on a running switchyard: a deployment's timeline, and promote,
 * which skips the rest of a shift schedule.
 */
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';
import { ECS_APPSPEC } from '../support/appspecs.js';


describe('REST deployment endpoints', () => {
  it('promotes a linear deployment to 100% at once and shows it in the timeline', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url));
    const cd = new CodeDeployClient({
      region: 'us-east-1',
      endpoint: sy.urls['control'],
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    onTestFinished(() => cd.destroy());
    await cd.send(new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'ECS' }));
    await cd.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'web',
        deploymentGroupName: 'prod',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/CodeDeploy',
        deploymentConfigName: 'CodeDeployDefault.ECSLinear10PercentEvery3Minutes',
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
    // Real minutes: without promote this would take 27 of them.
    await expect.poll(() => sy.traffic.service('web').weights.production['2']).toBe(10);

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
});
