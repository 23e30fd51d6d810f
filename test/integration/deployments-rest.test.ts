/**
 * The REST additions CodeDeploy lacks, on a running switchyard: the deployments listed and one in detail
 * (after a restart too, from a SQLite store), stop and continue, a deployment's timeline, promote, which
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

import type { DeploymentAnswer, DeploymentsAnswer } from '../../src/api/rest/wire.js';
import type { Switchyard } from '../../src/app/start.js';
import { ECS_APPSPEC, ECS_GROUP } from '../support/appspecs.js';
import { sdkClient, until } from '../support/codedeploy.js';
import { type ConfigInput, startProxy, twoVersions } from '../support/switchyard.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream } from '../support/upstream.js';

const dir = tempDir('switchyard-deployments-rest');

/** Services `names` (the first at `/`, each other at `/<name>`), each with versions "1" (live, blue) and "2" (green). */
function services(blue: string, green: string, names: readonly string[]): ConfigInput {
  return {
    services: names.map((name, i) => ({
      name,
      match: { pathPrefix: i === 0 ? '/' : `/${name}` },
      versions: { '1': { targets: [blue] }, '2': { targets: [green] } },
      live: '1',
    })),
  };
}

/** Group `group` of application `app` (ECS, created if new) on ECS service `service`, with `settings` over ECS_GROUP. */
async function groupOf(
  cd: CodeDeployClient,
  [app, group, service]: readonly [string, string, string],
  settings: Record<string, unknown> = {},
): Promise<void> {
  await cd.send(new CreateApplicationCommand({ applicationName: app, computePlatform: 'ECS' })).catch(() => undefined);
  await cd.send(
    new CreateDeploymentGroupCommand({
      applicationName: app,
      deploymentGroupName: group,
      ...ECS_GROUP,
      ecsServices: [{ clusterName: 'main', serviceName: service }],
      ...settings,
    }),
  );
}

/** Deploys `version` of `web` through `app`/`group` (with `hooks`, an AppSpec Hooks section); resolves with its id. */
async function deployTo(cd: CodeDeployClient, app: string, group: string, version = '2', hooks = ''): Promise<string> {
  const content = ECS_APPSPEC.replace('web:2', `web:${version}`) + hooks;
  const { deploymentId } = await cd.send(
    new CreateDeploymentCommand({
      applicationName: app,
      deploymentGroupName: group,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
    }),
  );
  return deploymentId!;
}

/** `GET` (or, with a body, `POST`) of a control API path: its status and JSON (of the type the caller names). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the route's answer type
async function call<T = Record<string, unknown>>(
  sy: Pick<Switchyard, 'urls'>,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await request(`${sy.urls['control']}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, json: (await res.body.json()) as T };
}

/** The status of a deployment, once it is one of `statuses`. */
async function settled(sy: Switchyard, id: string, ...statuses: string[]): Promise<string> {
  return until(
    () => sy.engine.get(id)?.status ?? 'missing',
    (status) => statuses.includes(status),
    10_000,
  );
}

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

  it('lists deployments newest first, by application, group and limit; details one with its lifecycle and a hook failure', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy({
      ...services(blue.url, green.url, ['web', 'api']),
      hooks: { check: { command: 'echo "checking $LIFECYCLE_EVENT"; echo "smoke test failed: got 500"; exit 1' } },
    });
    const cd = sdkClient(sy);
    await groupOf(cd, ['web', 'web-prod', 'web']);
    await groupOf(cd, ['other', 'other-prod', 'api']);
    const first = await deployTo(cd, 'web', 'web-prod');
    await settled(sy, first, 'Succeeded');
    // Back to 1, failing its AfterInstall hook; then api's 2 through the other application, which succeeds.
    const failed = await deployTo(cd, 'web', 'web-prod', '1', 'Hooks:\n  - AfterInstall: check\n');
    await settled(sy, failed, 'Failed');
    const last = await deployTo(cd, 'other', 'other-prod');
    await settled(sy, last, 'Succeeded');

    const ids = async (query = '') => {
      const { status, json } = await call<DeploymentsAnswer>(sy, `/v1/deployments${query}`);
      expect(status).toBe(200);
      return json.deployments.map((d) => d.deploymentId);
    };
    expect(await ids()).toEqual([last, failed, first]);
    expect(await ids('?application=web')).toEqual([failed, first]);
    expect(await ids('?application=web&group=web-prod')).toEqual([failed, first]);
    expect(await ids('?group=other-prod')).toEqual([last]);
    expect(await ids('?application=web&group=other-prod')).toEqual([]);
    expect(await ids('?limit=2')).toEqual([last, failed]);
    expect(await ids('?application=web&limit=1')).toEqual([failed]);
    for (const bad of ['?limit=0', '?limit=1001', '?limit=two', '?status=Failed']) {
      const refused = await call(sy, `/v1/deployments${bad}`);
      expect(refused.status, bad).toBe(400);
      expect(refused.json, bad).toMatchObject({ error: 'ARGUMENTS_INVALID' });
    }

    const { json: list } = await call<DeploymentsAnswer>(sy, '/v1/deployments');
    expect(list.deployments[2]).toEqual({
      deploymentId: first,
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      service: 'web',
      currentVersion: '1',
      targetVersion: '2',
      status: 'Succeeded',
      creator: 'user',
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      timeScale: 1,
      createTime: expect.any(Number),
      startTime: expect.any(Number),
      completeTime: expect.any(Number),
      wallTimes: { create: expect.any(Number), start: expect.any(Number), complete: expect.any(Number) },
      trafficWeight: 100,
    });

    const detail = await call<DeploymentAnswer>(sy, `/v1/deployments/${failed}`);
    expect(detail.status).toBe(200);
    expect(detail.json).toMatchObject({
      deploymentId: failed,
      currentVersion: '2',
      targetVersion: '1',
      status: 'Failed',
      trafficWeight: 0,
      errorInformation: { code: 'HOOK_EXECUTION_FAILURE', message: expect.stringContaining('AfterInstall') },
      alarms: null,
    });
    expect(detail.json.lifecycleEvents.map((e) => [e.name, e.status])).toEqual([
      ['BeforeInstall', 'Succeeded'],
      ['Install', 'Succeeded'],
      ['AfterInstall', 'Failed'],
      ['AllowTestTraffic', 'Skipped'],
      ['AfterAllowTestTraffic', 'Skipped'],
      ['BeforeAllowTraffic', 'Skipped'],
      ['AllowTraffic', 'Skipped'],
      ['AfterAllowTraffic', 'Skipped'],
    ]);
    const afterInstall = detail.json.lifecycleEvents[2]!;
    expect(afterInstall).toMatchObject({
      startTime: expect.any(Number),
      endTime: expect.any(Number),
      diagnostics: { errorCode: 'ScriptFailed', scriptName: 'check' },
    });
    expect(afterInstall.diagnostics?.logTail).toContain('smoke test failed: got 500');
    expect(detail.json.lifecycleEvents[0]!.diagnostics).toMatchObject({ errorCode: 'Success' });

    const missing = await call(sy, '/v1/deployments/d-NOSUCHONE');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ error: 'DEPLOYMENT_NOT_FOUND' });
  });

  it('continues a ready wait, stops with and without a rollback, and refuses what does not apply', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(services(blue.url, green.url, ['web', 'api', 'jobs']));
    const cd = sdkClient(sy);
    const canary = { deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes' };
    await groupOf(cd, ['web', 'ready', 'web'], {
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 },
      },
    });
    await groupOf(cd, ['web', 'keep', 'api'], canary);
    await groupOf(cd, ['web', 'back', 'jobs'], canary);

    const ready = await deployTo(cd, 'web', 'ready');
    await until(
      async () => (await call<DeploymentAnswer>(sy, `/v1/deployments/${ready}`)).json.waitingFor,
      (w) => w === 'READY_WAIT',
    );
    expect((await call(sy, `/v1/deployments/${ready}/continue`, { waitType: 'SOON' })).status).toBe(400);
    // Not in a termination wait: refused as ContinueDeployment refuses it.
    const wrongWait = await call(sy, `/v1/deployments/${ready}/continue`, { waitType: 'TERMINATION_WAIT' });
    expect(wrongWait.status).toBe(409);
    expect(wrongWait.json).toMatchObject({ error: 'DEPLOYMENT_NOT_WAITING' });
    const continued = await call(sy, `/v1/deployments/${ready}/continue`, {});
    // Its status as the continue found it: the walk goes on in the next turn.
    expect(continued).toEqual({ status: 200, json: { deploymentId: ready, status: 'Ready' } });
    await settled(sy, ready, 'Succeeded');
    const again = await call(sy, `/v1/deployments/${ready}/continue`, {});
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: 'DEPLOYMENT_COMPLETED' });
    const kept = await deployTo(cd, 'web', 'keep');
    await until(
      () => sy.traffic.service('api').weights.production['2'],
      (w) => w === 10,
    );
    for (const body of [{ rollback: 'yes' }, { rollback: true, now: true }]) {
      const refused = await call(sy, `/v1/deployments/${kept}/stop`, body);
      expect(refused.status).toBe(400);
      expect(refused.json).toMatchObject({ error: 'ARGUMENTS_INVALID' });
    }
    expect(sy.engine.get(kept)?.status).toBe('InProgress');
    const stopped = await call(sy, `/v1/deployments/${kept}/stop`, { rollback: false });
    expect(stopped).toEqual({
      status: 200,
      json: {
        deploymentId: kept,
        status: 'Succeeded',
        statusMessage: 'Deployment stopped; traffic stays where it was',
      },
    });
    expect(sy.traffic.service('api').weights.production).toEqual({ '1': 90, '2': 10 });
    expect((await call<DeploymentAnswer>(sy, `/v1/deployments/${kept}`)).json).toMatchObject({
      status: 'Stopped',
      errorInformation: { code: 'MANUAL_STOP' },
      trafficWeight: 10,
    });

    const back = await deployTo(cd, 'web', 'back');
    await until(
      () => sy.traffic.service('jobs').weights.production['2'],
      (w) => w === 10,
    );
    const rolledBack = await call(sy, `/v1/deployments/${back}/stop`, { rollback: true });
    expect(rolledBack.json).toMatchObject({
      deploymentId: back,
      statusMessage: 'Deployment stopped; traffic was returned to the original version',
    });
    expect(sy.traffic.service('jobs').weights.production).toEqual({ '1': 100, '2': 0 });
    const { json: stoppedBack } = await call<DeploymentAnswer>(sy, `/v1/deployments/${back}`);
    expect(stoppedBack).toMatchObject({ status: 'Stopped', trafficWeight: 0 });
    const rollbackId = stoppedBack.rollbackInfo?.rollbackDeploymentId;
    expect(rollbackId).toEqual(expect.any(String));
    const { json: newest } = await call<DeploymentsAnswer>(sy, '/v1/deployments?application=web&group=back&limit=1');
    expect(newest.deployments[0]).toMatchObject({
      deploymentId: rollbackId,
      creator: 'codeDeployRollback',
      rollbackInfo: { rollbackTriggeringDeploymentId: back },
    });

    const ended = await call(sy, `/v1/deployments/${back}/stop`, {});
    expect(ended.status).toBe(409);
    expect(ended.json).toMatchObject({ error: 'DEPLOYMENT_COMPLETED' });
    const unknown = await call(sy, '/v1/deployments/d-NOSUCHONE/stop', {});
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ error: 'DEPLOYMENT_NOT_FOUND' });
    expect((await call(sy, '/v1/deployments/d-NOSUCHONE/continue', {})).status).toBe(404);
  });

  it('lists and details the deployments a SQLite store kept, ended and running, after a restart', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const input = { ...services(blue.url, green.url, ['web', 'api']), store: { sqlite: `${dir.path()}/restart.db` } };
    const before = await startProxy(input, { autoClose: false });
    const cd = sdkClient(before);
    await groupOf(cd, ['web', 'web-prod', 'web']);
    await groupOf(cd, ['web', 'canary', 'api'], {
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
    });
    const done = await deployTo(cd, 'web', 'web-prod');
    await settled(before, done, 'Succeeded');
    const running = await deployTo(cd, 'web', 'canary');
    await until(
      () => before.traffic.service('api').weights.production['2'],
      (w) => w === 10,
    );
    const { json: doneBefore } = await call<DeploymentAnswer>(before, `/v1/deployments/${done}`);
    await before.close();

    const after = await startProxy(input);
    const { json: list } = await call<DeploymentsAnswer>(after, '/v1/deployments');
    expect(list.deployments.map((d) => [d.deploymentId, d.status])).toEqual([
      [running, 'InProgress'],
      [done, 'Succeeded'],
    ]);
    expect((await call(after, `/v1/deployments/${done}`)).json).toEqual(doneBefore);
    const { json: resumed } = await call<DeploymentAnswer>(after, `/v1/deployments/${running}`);
    expect(resumed).toMatchObject({ deploymentId: running, service: 'api', targetVersion: '2', trafficWeight: 10 });
    expect(resumed.lifecycleEvents.find((e) => e.name === 'AllowTraffic')?.status).toBe('InProgress');
    // And it can still be acted on.
    const stopped = await call(after, `/v1/deployments/${running}/stop`, { rollback: true });
    expect(stopped.status).toBe(200);
    expect(after.traffic.service('api').weights.production).toEqual({ '1': 100, '2': 0 });
  });
});
