/**
 * The store on a real SQLite file under a running switchyard: what the CodeDeploy API creates and what a
 * deployment does (its record, its request, the traffic it leaves) is on disk when switchyard stops.
 */
import { join } from 'node:path';

import {
  type CodeDeployClient,
  CreateDeploymentConfigCommand,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListApplicationsCommand,
  ListDeploymentsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
  waitUntilDeploymentSuccessful,
} from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { SwitchyardError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import type { StoreKind } from '../../src/shifting/ports.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { ECS_APPSPEC } from '../support/appspecs.js';
import { count, createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { logSink } from '../support/log-sink.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream } from '../support/upstream.js';

const temp = tempDir('switchyard-store-it');

describe('state on disk', () => {
  it('keeps applications, groups, deployments, their requests and the traffic they leave', async () => {
    const file = join(temp.path(), 'state', 'switchyard.db');
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy({ ...twoVersions(blue.url, green.url), store: { sqlite: file } }, { autoClose: false });
    const cd = sdkClient(sy);
    await createWebGroup(cd);
    const deploymentId = await deployWeb(cd);
    await waitUntilDeploymentSuccessful({ client: cd, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { deploymentId });
    await sy.close();

    const store = new SqliteStore(file);
    try {
      expect(store.list('application').map((d) => d.key)).toEqual(['web']);
      expect(store.get('group', 'web/web-prod')).toMatchObject({
        name: 'web-prod',
        settings: { deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' },
      });
      expect(store.get('deployment', deploymentId)).toMatchObject({
        id: deploymentId,
        status: 'Succeeded',
        plan: { service: 'web', currentVersion: '1', targetVersion: '2' },
        timeline: expect.arrayContaining([expect.objectContaining({ message: 'deployment succeeded' })]),
      });
      expect(store.get('request', deploymentId)).toMatchObject({ revision: { revisionType: 'AppSpecContent' } });
      expect(store.get('service', 'web')).toEqual({
        live: '2',
        weights: { production: { '2': 10_000 }, test: { '2': 10_000 } },
      });
    } finally {
      store.close();
    }
  });

  it('starts again from what it kept: applications, groups, configs, deployments, hook executions and traffic', async () => {
    const file = join(temp.path(), 'restart', 'switchyard.db');
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sdk: { client?: CodeDeployClient } = {};
    const executions: string[] = [];
    // A hook that answers 202 and reports Succeeded, as an asynchronously invoked Lambda hook would.
    const hook = await startUpstream('hook', (req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as { DeploymentId: string; LifecycleEventHookExecutionId: string };
        executions.push(body.LifecycleEventHookExecutionId);
        res.writeHead(202).end();
        void sdk.client!.send(
          new PutLifecycleEventHookExecutionStatusCommand({
            deploymentId: body.DeploymentId,
            lifecycleEventHookExecutionId: body.LifecycleEventHookExecutionId,
            status: 'Succeeded',
          }),
        );
      });
    });
    const config = {
      ...twoVersions(blue.url, green.url),
      hooks: { smoke: { url: hook.url } },
      store: { sqlite: file },
    };

    const first = await startProxy(config, { autoClose: false });
    sdk.client = sdkClient(first);
    await sdk.client.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'careful',
        computePlatform: 'ECS',
        trafficRoutingConfig: { type: 'AllAtOnce' },
      }),
    );
    await createWebGroup(sdk.client, { deploymentConfigName: 'careful' });
    const deploymentId = await deployWeb(sdk.client, {
      revision: {
        revisionType: 'AppSpecContent',
        appSpecContent: { content: `${ECS_APPSPEC}Hooks:\n  - AfterInstall: smoke\n` },
      },
    });
    await waitUntilDeploymentSuccessful(
      { client: sdk.client, maxWaitTime: 10, minDelay: 1, maxDelay: 1 },
      { deploymentId },
    );
    const info = (await sdk.client.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo;
    const group = (
      await sdk.client.send(new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'web-prod' }))
    ).deploymentGroupInfo;
    // An alarm made over REST is kept too, so a group naming it works after the restart.
    const alarm = await request(`${first.urls['control']}/v1/alarms/late`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'error-rate', threshold: 0.2 }),
    });
    expect(alarm.statusCode).toBe(200);
    const made = await alarm.body.json();
    await first.close();

    const second = await startProxy(config);
    const cd = sdkClient(second);
    sdk.client = cd;
    expect((await cd.send(new ListApplicationsCommand({}))).applications).toEqual(['web']);
    expect(
      (await cd.send(new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'web-prod' })))
        .deploymentGroupInfo,
    ).toEqual(group);
    expect(
      (await cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'careful' }))).deploymentConfigInfo
        ?.trafficRoutingConfig,
    ).toEqual({ type: 'AllAtOnce' });
    expect((await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo).toEqual(info);
    expect(await (await request(`${second.urls['control']}/v1/alarms/late`)).body.json()).toEqual(made);
    // The hook's execution is remembered as finished: a late second report is refused as CodeDeploy refuses it.
    const late = await cd
      .send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId,
          lifecycleEventHookExecutionId: executions[0],
          status: 'Succeeded',
        }),
      )
      .then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    expect(late?.name).toBe('LifecycleEventAlreadyCompletedException');
    expect(await count(second, 5)).toEqual({ green: 5 });
    // And it goes on: the next deployment shifts back to version 1.
    const back = await deployWeb(cd, {
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ECS_APPSPEC.replace('web:2', 'web:1') } },
    });
    await waitUntilDeploymentSuccessful(
      { client: cd, maxWaitTime: 10, minDelay: 1, maxDelay: 1 },
      { deploymentId: back },
    );
    expect(await count(second, 5)).toEqual({ blue: 5 });
  });

  it('refuses to start, saying what, on a kept document it cannot read', async () => {
    const file = join(temp.path(), 'damaged', 'switchyard.db');
    const store = new SqliteStore(file);
    store.put('config', 'broken', { name: 'broken', computePlatform: 'ECS' });
    store.close();
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    await expect(startProxy({ ...twoVersions(blue.url, green.url), store: { sqlite: file } })).rejects.toMatchObject({
      code: 'STORE_FAILED',
      message: expect.stringMatching(/^cannot read back the applications, groups and configurations the store keeps: /),
    });
  });

  // One document of each kind, each wrong at one place: the start stops, naming the kind, the key and the place.
  const unreadable: [kind: StoreKind, key: string, value: unknown, what: string, path: string][] = [
    ['process', '4242', { pid: '4242', what: 'web version 2 instance 0' }, 'processes', 'pid'],
    [
      'service',
      'web',
      { live: '2', weights: { production: { '2': 'all' }, test: {} } },
      'service traffic',
      'weights.production.2',
    ],
    [
      'application',
      'web',
      { id: 'a-1', name: 'web', computePlatform: 'Mainframe', createTime: 1 },
      'applications, groups and configurations',
      'computePlatform',
    ],
    [
      'group',
      'web/web-prod',
      { id: 'g-1', applicationName: 'web', name: 'web-prod', settings: {} },
      'applications, groups and configurations',
      'settings.deploymentConfigName',
    ],
    ['request', 'd-1', { revision: {}, computePlatform: 'ECS' }, 'applications, groups and configurations', 'group'],
    [
      'hookExecution',
      'e-1',
      {
        executionId: 'e-1',
        deploymentId: 'd-1',
        event: 'Install2',
        target: 'smoke',
        kind: 'http',
        startTime: 1,
        status: 'Succeeded',
      },
      'hook executions',
      'event',
    ],
    ['alarm', 'late', { kind: 'error-rate', threshold: 2 }, 'alarms', 'threshold'],
    ['deployment', 'd-1', { id: 'd-1', status: 'InProgress' }, 'deployments', 'plan'],
  ];
  it.each(unreadable)(
    'refuses to start on a %s document it cannot read, naming its kind, key and problem',
    async (kind, key, value, what, path) => {
      const store = new MemoryStore();
      store.put(kind, key, value);
      await expect(
        startProxy(twoVersions('http://127.0.0.1:9', 'http://127.0.0.1:9'), { store }),
      ).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining(
          `cannot read back the ${what} the store keeps: the ${kind} document "${key}" does not fit: ${path}: `,
        ),
      });
    },
  );

  it('starts past a notification it cannot read: the outbox leaves it out', async () => {
    const store = new MemoryStore();
    store.put('notification', 'd-1/DeploymentStart/ops', { key: 'd-1/DeploymentStart/ops', state: 'sent-ish' });
    const sy = await startProxy(twoVersions('http://127.0.0.1:9', 'http://127.0.0.1:9'), { store });
    expect(sy.traffic.service('web').live).toBe('1');
  });

  it('refuses a CreateDeployment whose request the store cannot keep, and starts nothing', async () => {
    /** A store that refuses to keep deployment requests (a full disk at that moment). */
    class RefusingStore extends MemoryStore {
      override put(kind: StoreKind, key: string, value: unknown): void {
        if (kind === 'request') throw new SwitchyardError('STORE_FAILED', 'cannot write to the store: disk is full');
        super.put(kind, key, value);
      }
    }
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url), { store: new RefusingStore() });
    const cd = sdkClient(sy);
    await createWebGroup(cd, { deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' });
    // A store failure is the server's: 500 InternalFailure, the detail in the log.
    await expect(deployWeb(cd)).rejects.toMatchObject({ name: 'InternalFailure' });
    expect((await cd.send(new ListDeploymentsCommand({}))).deployments).toEqual([]);
    expect(sy.traffic.service('web').weights.production).toEqual({ '1': 100, '2': 0 });
    expect(await count(sy, 10)).toEqual({ blue: 10 });
  });

  it('goes on in memory, and still rolls back, when the store stops taking writes mid-deployment', async () => {
    /** A store whose writes fail from when it is told to (a full disk). */
    class FullStore extends MemoryStore {
      full = false;
      override put(kind: StoreKind, key: string, value: unknown): void {
        if (this.full) throw new SwitchyardError('STORE_FAILED', 'cannot write to the store: database or disk is full');
        super.put(kind, key, value);
      }
    }
    const store = new FullStore();
    const sink = logSink();
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url), {
      store,
      log: createLogger({ level: 'warn', destination: sink.stream }),
    });
    const cd = sdkClient(sy);
    await createWebGroup(cd, { deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes' });
    const deploymentId = await deployWeb(cd);
    await until(
      async () => sy.traffic.service('web').weights.production['2'],
      (w) => w === 10,
    );
    store.full = true;
    // A stop with rollback: traffic returns to blue for every client although none of it can be kept.
    await cd.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));
    expect(await count(sy, 20)).toEqual({ blue: 20 });
    expect((await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.status).toBe('Stopped');
    expect(sink.lines.some((l) => /^the store could not keep .*; going on in memory$/.test(String(l['msg'])))).toBe(
      true,
    );
    // What the store last took: the deployment mid-canary, which a next start would resume or roll back.
    expect((store.get('deployment', deploymentId) as { status: string }).status).toBe('InProgress');
  });
});
