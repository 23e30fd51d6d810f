/**
 * Deployment group triggers end to end: real webhook receivers (node:http on 127.0.0.1) that fail,
 * hang or accept; deployments driven through the AWS SDK; the outbox read through GET /v1/notifications;
 * and a restart on the same SQLite file while a notification is still pending.
 */
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';

import {
  type CodeDeployClient,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  InvalidTriggerConfigException,
  TriggerTargetsLimitExceededException,
  UpdateDeploymentGroupCommand,
} from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import type { NotificationEntry } from '../../src/codedeploy/triggers.js';
import { ECS_APPSPEC, ECS_GROUP } from '../support/appspecs.js';
import { createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { type ConfigInput, startProxy, twoVersions } from '../support/switchyard.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream } from '../support/upstream.js';

const temp = tempDir('switchyard-notify-it');

/** One request a receiver got. */
interface Received {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: Record<string, unknown>;
  /** What the receiver answered: a status, or nothing at all. */
  readonly answer: number | 'hang';
}

/**
 * A webhook receiver; `answer` decides per request (with the ones before it) what to do with it.
 * Answers 200 by default.
 */
async function startReceiver(
  answer: (req: Received['body'], earlier: readonly Received[]) => number | 'hang' = () => 200,
) {
  const received: Received[] = [];
  const upstream = await startUpstream('receiver', (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const decided = answer(body, received);
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'], body, answer: decided });
      if (decided !== 'hang') res.writeHead(decided).end();
    });
  });
  return { url: upstream.url, received, accepted: () => received.filter((r) => r.answer !== 'hang' && r.answer < 300) };
}

/** The outbox as the control API lists it. */
async function outbox(sy: Switchyard, query = ''): Promise<NotificationEntry[]> {
  const res = await request(`${sy.urls['control']}/v1/notifications${query}`);
  expect(res.statusCode).toBe(200);
  return ((await res.body.json()) as { notifications: NotificationEntry[] }).notifications;
}

async function statusOf(cd: CodeDeployClient, deploymentId: string): Promise<string | undefined> {
  return (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.status;
}

/** Config for service `web` with quick retries; `extra` top-level members over it. */
async function config(extra: Record<string, unknown> = {}): Promise<ConfigInput> {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  return { ...twoVersions(blue.url, green.url), notifications: { retryDelay: '20ms' }, ...extra };
}

/** The config file's declaration of application `web` and group `web-prod` with `triggers`. */
const declaredGroup = (triggerConfigurations: object[]) => ({
  applications: {
    web: { computePlatform: 'ECS', deploymentGroups: { 'web-prod': { ...ECS_GROUP, triggerConfigurations } } },
  },
});

describe('trigger configurations on the CodeDeploy API', () => {
  it('refuses what CodeDeploy refuses with its exceptions, and returns triggers as they were given', async () => {
    const sy = await startProxy(await config());
    const cd = sdkClient(sy);
    await expect(
      createWebGroup(cd, {
        triggerConfigurations: [
          {
            triggerName: 'sns',
            triggerTargetArn: 'arn:aws:sns:us-east-1:1:deploys',
            triggerEvents: ['DeploymentStart'],
          },
        ],
      }),
    ).rejects.toThrow(InvalidTriggerConfigException);
    const triggers = [
      {
        triggerName: 'hook',
        triggerTargetArn: 'https://hooks.example/deploys',
        triggerEvents: ['DeploymentStart' as const, 'InstanceFailure' as const],
      },
      {
        triggerName: 'chat',
        triggerTargetArn: 'slack+https://hooks.example/T/B/x',
        triggerEvents: ['DeploymentFailure' as const],
      },
    ];
    // The application was created before the group was refused.
    await cd.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'web',
        deploymentGroupName: 'web-prod',
        ...ECS_GROUP,
        triggerConfigurations: triggers,
      }),
    );
    const { deploymentGroupInfo } = await cd.send(
      new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'web-prod' }),
    );
    expect(deploymentGroupInfo?.triggerConfigurations).toEqual(triggers);
    const eleven = Array.from({ length: 11 }, (_, i) => ({ ...triggers[0]!, triggerName: `t${i}` }));
    await expect(
      cd.send(
        new UpdateDeploymentGroupCommand({
          applicationName: 'web',
          currentDeploymentGroupName: 'web-prod',
          triggerConfigurations: eleven,
        }),
      ),
    ).rejects.toThrow(TriggerTargetsLimitExceededException);
    await expect(
      cd.send(
        new UpdateDeploymentGroupCommand({
          applicationName: 'web',
          currentDeploymentGroupName: 'web-prod',
          triggerConfigurations: [triggers[0]!, { ...triggers[1]!, triggerName: 'hook' }],
        }),
      ),
    ).rejects.toThrow(/used more than once/);
  });
});

describe('GET /v1/notifications', () => {
  it('refuses a filter it does not know, naming the query string and the member', async () => {
    const sy = await startProxy(await config());
    const res = await request(`${sy.urls['control']}/v1/notifications?state=bogus`);
    expect(res.statusCode).toBe(400);
    const body = (await res.body.json()) as { error: string; message: string; issues: string[] };
    expect(body).toMatchObject({ error: 'ARGUMENTS_INVALID', message: 'query string is invalid' });
    expect(body.issues.join(' ')).toMatch(/state/);
  });
});

describe('delivery', () => {
  it('retries a failing receiver until it accepts, and delivers once, in CodeDeploy trigger JSON', async () => {
    const receiver = await startReceiver((_body, earlier) => (earlier.length < 3 ? 500 : 200));
    const sy = await startProxy(await config());
    const cd = sdkClient(sy);
    await createWebGroup(cd, {
      triggerConfigurations: [
        { triggerName: 'notify', triggerTargetArn: `${receiver.url}/deploys`, triggerEvents: ['DeploymentSuccess'] },
      ],
    });
    const deploymentId = await deployWeb(cd);
    const [entry] = await until(
      () => outbox(sy),
      (list) => list[0]?.state === 'delivered',
    );
    expect(entry).toMatchObject({
      key: `${deploymentId}/DeploymentSuccess/notify`,
      deploymentId,
      eventType: 'DeploymentSuccess',
      state: 'delivered',
      attempts: 4,
      format: 'codedeploy',
    });
    expect(receiver.received.map((r) => r.answer)).toEqual([500, 500, 500, 200]);
    expect(receiver.accepted()).toHaveLength(1);
    const got = receiver.accepted()[0]!;
    expect(got.path).toBe('/deploys');
    expect(got.contentType).toBe('application/json');
    expect(got.body).toEqual({
      region: 'local',
      accountId: '000000000000',
      eventTriggerName: 'notify',
      applicationName: 'web',
      deploymentId,
      deploymentGroupName: 'web-prod',
      createTime: expect.stringMatching(/^\d{10}\.\d{3}$/),
      completeTime: expect.stringMatching(/^\d{10}\.\d{3}$/),
      deploymentOverview: { Failed: '0', InProgress: '0', Pending: '0', Skipped: '0', Succeeded: '1' },
      status: 'Succeeded',
    });
    // No second copy turns up later. An observation window, not a handshake: one would arrive within 200 ms.
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received).toHaveLength(4);
    expect(await outbox(sy, `?deploymentId=${deploymentId}&state=delivered`)).toHaveLength(1);
    expect(await outbox(sy, '?deploymentId=d-NOTTHERE')).toEqual([]);
  });

  it('never holds a deployment on a receiver that does not answer, and closes without waiting for it', async () => {
    const receiver = await startReceiver(() => 'hang');
    const sy = await startProxy(await config());
    const cd = sdkClient(sy);
    await createWebGroup(cd, {
      triggerConfigurations: [
        {
          triggerName: 'slow',
          triggerTargetArn: receiver.url,
          triggerEvents: ['DeploymentStart', 'DeploymentSuccess'],
        },
      ],
    });
    const started = Date.now();
    const deploymentId = await deployWeb(cd);
    await until(
      () => statusOf(cd, deploymentId),
      (s) => s === 'Succeeded',
      4_000,
    );
    // An all-at-once deployment without hooks takes milliseconds; the receiver would have held it 5 s per attempt.
    expect(Date.now() - started).toBeLessThan(4_000);
    const entries = await until(
      () => outbox(sy),
      (list) => list.length === 2 && receiver.received.length === 2,
    );
    expect(entries.map((e) => [e.eventType, e.state, e.attempts])).toEqual([
      ['DeploymentStart', 'pending', 0],
      ['DeploymentSuccess', 'pending', 0],
    ]);
    const closing = Date.now();
    await sy.close();
    // Not the 5 s attempt timeout: the attempts in flight were aborted.
    expect(Date.now() - closing).toBeLessThan(4_000);
  });

  it('sends DeploymentFailure for a failed deployment and DeploymentRollback for the deployment that rolled it back', async () => {
    const hook = await startUpstream('hook', (_req, res) => res.writeHead(500).end());
    const receiver = await startReceiver();
    const sy = await startProxy(await config());
    const cd = sdkClient(sy);
    await createWebGroup(cd, {
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
      triggerConfigurations: [
        {
          triggerName: 'ops',
          triggerTargetArn: receiver.url,
          triggerEvents: ['DeploymentFailure', 'DeploymentRollback', 'DeploymentSuccess'],
        },
      ],
    });
    const content = `${ECS_APPSPEC}Hooks:\n  - AfterInstall: ${hook.url}/after-install\n`;
    const deploymentId = await deployWeb(cd, {
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
    });
    const entries = await until(
      () => outbox(sy),
      (list) => list.length === 2 && list.every((e) => e.state === 'delivered'),
    );
    const rollbackId = (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.rollbackInfo
      ?.rollbackDeploymentId;
    expect(rollbackId).toMatch(/^d-/);
    expect(entries.map((e) => e.key).sort()).toEqual(
      [`${deploymentId}/DeploymentFailure/ops`, `${rollbackId}/DeploymentRollback/ops`].sort(),
    );
    const bodyOf = (id: string | undefined) => receiver.accepted().find((r) => r.body['deploymentId'] === id)?.body;
    expect(bodyOf(deploymentId)).toMatchObject({
      status: 'Failed',
      deploymentOverview: { Failed: '1', Succeeded: '0' },
      errorInformation: { ErrorCode: 'HOOK_EXECUTION_FAILURE', ErrorMessage: expect.stringContaining('AfterInstall') },
    });
    expect(bodyOf(rollbackId)).toMatchObject({
      eventTriggerName: 'ops',
      status: 'Succeeded',
      deploymentGroupName: 'web-prod',
    });
  });

  it('gives up after the bounded time and records the notification failed with the last error', async () => {
    const receiver = await startReceiver(() => 500);
    const sy = await startProxy(await config({ notifications: { retryDelay: '20ms', giveUpAfter: '300ms' } }));
    const cd = sdkClient(sy);
    await createWebGroup(cd, {
      triggerConfigurations: [
        { triggerName: 'down', triggerTargetArn: receiver.url, triggerEvents: ['DeploymentSuccess'] },
      ],
    });
    const deploymentId = await deployWeb(cd);
    const [entry] = await until(
      () => outbox(sy, `?deploymentId=${deploymentId}`),
      (list) => list[0]?.state === 'failed',
    );
    expect(entry).toMatchObject({ state: 'failed', lastError: 'the webhook answered 500' });
    expect(entry!.attempts).toBeGreaterThanOrEqual(2);
    expect(receiver.received).toHaveLength(entry!.attempts);
    // No attempt starts after giveUpAfter (300 ms); the last one may take a moment to come back.
    expect(entry!.updatedAt - entry!.createdAt).toBeLessThan(300 + 1_000);
  });

  it('posts Slack messages to triggers declared in the config file, by format: slack or a slack+ target', async () => {
    const receiver = await startReceiver();
    const sy = await startProxy(
      await config(
        declaredGroup([
          {
            triggerName: 'by-format',
            triggerTargetArn: `${receiver.url}/a`,
            triggerEvents: ['DeploymentSuccess'],
            format: 'slack',
          },
          {
            triggerName: 'by-target',
            triggerTargetArn: `slack+${receiver.url}/b`,
            triggerEvents: ['DeploymentSuccess'],
          },
        ]),
      ),
    );
    const cd = sdkClient(sy);
    const deploymentId = await deployWeb(cd);
    await until(
      () => outbox(sy),
      (list) => list.length === 2 && list.every((e) => e.state === 'delivered'),
    );
    const text = `:white_check_mark: web/web-prod ${deploymentId} DeploymentSuccess — 1 → 2 (CodeDeployDefault.ECSAllAtOnce)`;
    expect(receiver.received.map((r) => [r.path, r.body]).sort()).toEqual([
      ['/a', { text }],
      ['/b', { text }],
    ]);
  });

  it('resumes a pending notification after a restart on the same SQLite file, and sends nothing twice', async () => {
    let down = true;
    const receiver = await startReceiver((body) => (down && body['status'] === 'Succeeded' ? 503 : 200));
    const input = await config({
      store: { sqlite: join(temp.path(), 'restart', 'switchyard.db') },
      ...declaredGroup([
        { triggerName: 'ops', triggerTargetArn: receiver.url, triggerEvents: ['DeploymentStart', 'DeploymentSuccess'] },
      ]),
    });
    const first = await startProxy(input);
    const deploymentId = await deployWeb(sdkClient(first));
    const before = await until(
      () => outbox(first),
      (list) => list[0]?.state === 'delivered' && list[1]?.state === 'pending' && list[1].attempts >= 1,
    );
    expect(before.map((e) => e.key)).toEqual([
      `${deploymentId}/DeploymentStart/ops`,
      `${deploymentId}/DeploymentSuccess/ops`,
    ]);
    await first.close();

    down = false;
    const second = await startProxy(input);
    const after = await until(
      () => outbox(second),
      (list) => list[1]?.state === 'delivered',
    );
    expect(after[1]!.attempts).toBeGreaterThan(before[1]!.attempts);
    // An observation window, not a handshake: nothing is sent twice, even given 200 ms more.
    await new Promise((r) => setTimeout(r, 200));
    const accepted = receiver.accepted().map((r) => `${String(r.body['deploymentId'])}/${String(r.body['status'])}`);
    expect(accepted).toEqual([`${deploymentId}/InProgress`, `${deploymentId}/Succeeded`]);
  });
});
