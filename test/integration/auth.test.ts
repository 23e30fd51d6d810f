/**
 * `control.auth` on a real switchyard: the REST API wants the bearer token (with /healthz open, /metrics
 * open only with publicMetrics), CodeDeploy's protocol wants SigV4 with the configured key, as the AWS SDK,
 * awscli and the switchyard command send it; refusals are logged without secrets; a command hook reports
 * back with the credentials it is given; bodies are bounded and errors never carry a stack; and a control
 * API bound beyond loopback without auth is loudly warned about.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  CodeDeployClient,
  CreateApplicationCommand,
  GetDeploymentCommand,
  ListApplicationsCommand,
} from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it, onTestFinished, vi } from 'vitest';

import { startSwitchyard, type Switchyard } from '../../src/app/start.js';
import { createLogger } from '../../src/core/logger.js';
import { ECS_APPSPEC } from '../support/appspecs.js';
import { awsDeploy, skipWithoutAws } from '../support/awscli.js';
import { runCli } from '../support/cli.js';
import { createWebGroup, deployWeb, until } from '../support/codedeploy.js';
import { logSink } from '../support/log-sink.js';
import { configFrom, type ConfigInput, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

const TOKEN = 'test-token-5f1c0e9a8b7d6c4e';
const KEY = { accessKeyId: 'AKIDSWITCHYARDTEST', secretAccessKey: 'test-secret-9c8b7a6d5e4f3a2b1c0d' };
const AUTH = { token: TOKEN, ...KEY };

interface Started {
  readonly sy: Switchyard;
  readonly url: string;
  /** Every line logged at warn and above. */
  readonly logs: Record<string, unknown>[];
}

/** Starts switchyard fronting two upstreams with `control` as given, logging warnings into a sink. */
async function start(control: Record<string, unknown>, extra: Partial<ConfigInput> = {}): Promise<Started> {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  const sink = logSink();
  const config = configFrom({
    ...twoVersions(blue.url, green.url),
    control: { host: '127.0.0.1', port: 0, ...control },
    ...extra,
  });
  const sy = await startSwitchyard(config, { log: createLogger({ level: 'warn', destination: sink.stream }) });
  onTestFinished(() => sy.close());
  return { sy, url: sy.urls['control']!, logs: sink.lines };
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

async function call(
  url: string,
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  const res = await request(`${url}${path}`, { method, headers, ...(body !== undefined && { body }) });
  const text = await res.body.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Prometheus text and the like.
  }
  return { status: res.statusCode, headers: res.headers, body: parsed, text };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A 401 in the REST API's error form, with nothing of the server's insides. */
function expectUnauthorized(reply: Reply): void {
  expect(reply.status).toBe(401);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  expect(reply.headers['www-authenticate']).toBe('Bearer realm="switchyard"');
  expect(reply.body).toEqual({ error: 'UNAUTHORIZED', message: expect.stringContaining('Bearer') });
}

function sdk(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string } = KEY,
  extra: { systemClockOffset?: number } = {},
): CodeDeployClient {
  const cd = new CodeDeployClient({ region: 'eu-central-1', endpoint: url, credentials, maxAttempts: 1, ...extra });
  onTestFinished(() => cd.destroy());
  return cd;
}

const refusals = (logs: Record<string, unknown>[]) => logs.filter((l) => l['msg'] === 'control API call refused');

describe('control.auth: the REST API', () => {
  it('wants the bearer token: none or a wrong one is a logged 401, the right one passes', async () => {
    const { url, logs } = await start({ auth: AUTH });
    expectUnauthorized(await call(url, 'GET', '/v1/services'));
    expectUnauthorized(await call(url, 'GET', '/v1/services', bearer('wrong-token-0123456789')));
    expectUnauthorized(await call(url, 'GET', '/v1/services', { authorization: TOKEN }));
    expect((await call(url, 'GET', '/v1/services', bearer(TOKEN))).status).toBe(200);
    expect((await call(url, 'GET', '/v1/services', { authorization: `bearer ${TOKEN}` })).status).toBe(200);
    const put = await call(
      url,
      'PUT',
      '/v1/services/web/weight',
      { ...bearer(TOKEN), 'content-type': 'application/json' },
      '{"version":"2","percent":10}',
    );
    expect(put.status).toBe(200);
    // Every REST route sits behind the same guard, notifications and alarms too.
    for (const path of ['/v1/services/web', '/v1/notifications', '/v1/alarms', '/v1/deployments']) {
      expect((await call(url, 'GET', path)).status).toBe(401);
      expect((await call(url, 'GET', path, bearer(TOKEN))).status).toBe(200);
    }
    // Acting on a deployment too: refused before its id is even looked up.
    expect((await call(url, 'POST', '/v1/deployments/d-NOSUCHONE/stop', {}, '{}')).status).toBe(401);
    expect((await call(url, 'POST', '/v1/deployments/d-NOSUCHONE/continue', {}, '{}')).status).toBe(401);

    const refused = refusals(logs);
    expect(refused.map((l) => l['reason'])).toEqual([
      'no Authorization header',
      'wrong bearer token',
      'Authorization header is not a bearer token',
      'no Authorization header',
      'no Authorization header',
      'no Authorization header',
      'no Authorization header',
      'no Authorization header',
      'no Authorization header',
    ]);
    expect(refused[0]).toMatchObject({ level: 40, method: 'GET', url: '/v1/services', remoteAddress: '127.0.0.1' });
    // What was presented never reaches the log.
    expect(JSON.stringify(logs)).not.toMatch(/wrong-token|test-token/);
  });

  it('leaves /healthz open, and answers an unknown route 401 rather than 404 until the token is shown', async () => {
    const { url } = await start({ auth: AUTH });
    expect((await call(url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    expectUnauthorized(await call(url, 'GET', '/v1/nothing-here'));
    expect((await call(url, 'GET', '/v1/nothing-here', bearer(TOKEN))).body).toMatchObject({ error: 'NO_ROUTE' });
  });

  it('closes /metrics unless publicMetrics is set', async () => {
    const closed = await start({ auth: AUTH });
    expectUnauthorized(await call(closed.url, 'GET', '/metrics'));
    expect((await call(closed.url, 'GET', '/metrics', bearer(TOKEN))).text).toMatch(
      /switchyard_traffic_weight_percent/,
    );
    const open = await start({ auth: { ...AUTH, publicMetrics: true } });
    const metrics = await call(open.url, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/switchyard_traffic_weight_percent/);
    expectUnauthorized(await call(open.url, 'GET', '/v1/services'));
  });

  it('wants the token for the event stream too', async () => {
    const { url } = await start({ auth: AUTH });
    expectUnauthorized(await call(url, 'GET', '/v1/events'));
    const res = await request(`${url}/v1/events`, { headers: bearer(TOKEN) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    res.body.destroy();
  });

  it('with only keys configured, REST stays closed and says why', async () => {
    const { url } = await start({ auth: KEY });
    const reply = await call(url, 'GET', '/v1/services', bearer(TOKEN));
    expect(reply.status).toBe(401);
    expect(reply.body['message']).toMatch(/no control\.auth\.token/);
  });

  it('answers a body over 1 MiB with 413 BODY_TOO_LARGE, bad JSON with a 400, and an internal error without a stack', async () => {
    const { sy, url } = await start({ auth: AUTH });
    const json = { ...bearer(TOKEN), 'content-type': 'application/json' };
    const huge = JSON.stringify({ weights: { '1': 100 }, pad: 'x'.repeat(1024 * 1024) });
    // Without the token the body is not even read.
    expectUnauthorized(await call(url, 'PUT', '/v1/services/web/weight', { 'content-type': 'application/json' }, huge));
    const tooLarge = await call(url, 'PUT', '/v1/services/web/weight', json, huge);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toEqual({ error: 'BODY_TOO_LARGE', message: expect.stringMatching(/1 MiB/) });
    const malformed = await call(url, 'PUT', '/v1/services/web/weight', json, '{"weights":');
    expect(malformed.status).toBe(400);
    expect(malformed.body['error']).toBe('ARGUMENTS_INVALID');
    const invalid = await call(url, 'PUT', '/v1/services/web/weight', json, '{"percent":"ten"}');
    expect(invalid.status).toBe(400);
    expect(invalid.body['error']).toBe('ARGUMENTS_INVALID');

    vi.spyOn(sy.traffic, 'services').mockImplementation(() => {
      throw new Error('secret detail at /srv/switchyard/src/shifting/traffic.ts:42');
    });
    const broken = await call(url, 'GET', '/v1/services', bearer(TOKEN));
    expect(broken.status).toBe(500);
    expect(broken.body).toEqual({ error: 'INTERNAL', message: 'internal error; see the switchyard log' });
    expect(broken.text).not.toMatch(/secret detail|traffic\.ts|\bat /);
  });
});

describe('control.auth: the CodeDeploy API', () => {
  it('takes calls the AWS SDK signs with the configured key, in any region', async () => {
    const { url } = await start({ auth: AUTH });
    const cd = sdk(url);
    await cd.send(new CreateApplicationCommand({ applicationName: 'signed', computePlatform: 'ECS' }));
    expect((await cd.send(new ListApplicationsCommand({}))).applications).toEqual(['signed']);
  });

  it('refuses a wrong secret, a stale date and a body changed after signing with InvalidSignatureException', async () => {
    const { url, logs } = await start({ auth: AUTH });
    await expect(
      sdk(url, { ...KEY, secretAccessKey: 'not-the-configured-secret' }).send(new ListApplicationsCommand({})),
    ).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      message: expect.stringMatching(/^The request signature we calculated does not match/),
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      sdk(url, KEY, { systemClockOffset: -20 * 60_000 }).send(new ListApplicationsCommand({})),
    ).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      message: expect.stringMatching(/^Signature expired/),
    });

    // One letter of the body changed once the request is signed (same length, so Content-Length holds).
    const tampered = new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'ECS' });
    tampered.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { body: string | Uint8Array };
        const text = typeof req.body === 'string' ? req.body : new TextDecoder().decode(req.body);
        req.body = text.replace('"web"', '"wed"');
        return next(args);
      },
      { step: 'deserialize', priority: 'low' },
    );
    const cd = sdk(url);
    await expect(cd.send(tampered)).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    expect((await cd.send(new ListApplicationsCommand({}))).applications).toEqual([]);
    // The SDK signs x-amz-content-sha256, the hash of the body it signed: that is what gives the change away.
    expect(refusals(logs).map((l) => l['reason'])).toEqual([
      'signature mismatch',
      'signature expired',
      'x-amz-content-sha256 differs from the body',
    ]);
    expect(JSON.stringify(logs)).not.toContain(KEY.secretAccessKey);
  });

  it('refuses an unknown key id, an unsigned call and a bearer token with UnrecognizedClientException', async () => {
    const { url } = await start({ auth: AUTH });
    await expect(
      sdk(url, { ...KEY, accessKeyId: 'AKIDSOMEONEELSE' }).send(new ListApplicationsCommand({})),
    ).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
    for (const headers of [{}, bearer(TOKEN)]) {
      const raw = await call(
        url,
        'POST',
        '/',
        {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'CodeDeploy_20141006.ListApplications',
          ...headers,
        },
        '{}',
      );
      expect(raw.status).toBe(400);
      expect(raw.headers['x-amzn-errortype']).toBe('UnrecognizedClientException');
      expect(raw.body).toEqual({
        __type: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      });
    }
  });

  it('with only a token configured, refuses SDK calls and says which keys to configure', async () => {
    const { url } = await start({ auth: { token: TOKEN } });
    await expect(sdk(url).send(new ListApplicationsCommand({}))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      message: expect.stringMatching(/control\.auth\.accessKeyId and secretAccessKey/),
    });
  });

  it('runs a command hook that reports back through REST and the SDK with the credentials it is given', async () => {
    // Reads the REST API with $SWITCHYARD_TOKEN, reports Succeeded with the SDK (endpoint, keys and region
    // from its environment), then exits 1: the deployment succeeds only if the report was taken.
    const script = `
      const { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } = require('@aws-sdk/client-codedeploy');
      (async () => {
        const res = await fetch(process.env.SWITCHYARD_ENDPOINT + '/v1/services', { headers: { authorization: 'Bearer ' + process.env.SWITCHYARD_TOKEN } });
        if (res.status !== 200) { console.error('REST answered ' + res.status); process.exit(2); }
        const cd = new CodeDeployClient({ maxAttempts: 1 });
        await cd.send(new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: process.env.DEPLOYMENT_ID,
          lifecycleEventHookExecutionId: process.env.LIFECYCLE_EVENT_HOOK_EXECUTION_ID,
          status: 'Succeeded',
        }));
        process.exit(1);
      })().catch((err) => { console.error(err.name + ': ' + err.message); process.exit(3); });`;
    const { url, logs } = await start(
      { auth: AUTH },
      { hooks: { report: { command: [process.execPath, '-e', script], timeout: '20s' } } },
    );
    const cd = sdk(url);
    await createWebGroup(cd);
    const deploymentId = await deployWeb(cd, {
      revision: {
        revisionType: 'AppSpecContent',
        appSpecContent: { content: `${ECS_APPSPEC}Hooks:\n  - AfterInstall: report\n` },
      },
    });
    const done = await until(
      () => cd.send(new GetDeploymentCommand({ deploymentId })),
      (d) => d.deploymentInfo?.status === 'Succeeded' || d.deploymentInfo?.status === 'Failed',
      15_000,
      50,
    );
    expect(done.deploymentInfo?.errorInformation).toBeUndefined();
    expect(done.deploymentInfo?.status).toBe('Succeeded');
    expect(refusals(logs)).toEqual([]);
  });
});

describe('control.auth: the switchyard command', () => {
  it('sends --token or $SWITCHYARD_TOKEN on REST calls and signs CodeDeploy calls with the AWS key in its environment', async () => {
    const { url } = await start({ auth: AUTH });
    const refused = await runCli(['weight', 'web', '10', '--version', '2', '--endpoint', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/UNAUTHORIZED/);
    expect((await runCli(['weight', 'web', '10', '--version', '2', '--endpoint', url, '--token', TOKEN])).code).toBe(0);
    expect(
      (await runCli(['weight', 'web', '20', '--version', '2'], { SWITCHYARD_ENDPOINT: url, SWITCHYARD_TOKEN: TOKEN }))
        .code,
    ).toBe(0);

    const unsigned = await runCli(['list', '--endpoint', url], { SWITCHYARD_TOKEN: TOKEN });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(
      /UnrecognizedClientException: .* set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the key pair of its control.auth/,
    );
    const wrong = await runCli(['list', '--endpoint', url], {
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: 'another-secret-0123456789',
    });
    expect(wrong.stderr).toMatch(
      /InvalidSignatureException: .*are it and AWS_SECRET_ACCESS_KEY the pair of control.auth\?/,
    );
    const signed = await runCli(['list', '--endpoint', url], {
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
    });
    expect(signed.code).toBe(0);
  });
});

describe.skipIf(skipWithoutAws('auth.test.ts (awscli part)'))('control.auth: awscli', { timeout: 60_000 }, () => {
  it('lists applications with the configured key and fails with another secret', async () => {
    const { url } = await start({ auth: AUTH });
    const home = await mkdtemp(join(tmpdir(), 'switchyard-awscli-auth-'));
    onTestFinished(() => rm(home, { recursive: true, force: true }));
    const ok = await awsDeploy(url, home, ['list-applications'], KEY);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ applications: [] });
    const wrong = await awsDeploy(url, home, ['list-applications'], {
      ...KEY,
      secretAccessKey: 'not-the-configured-secret',
    });
    expect(wrong.code).toBe(254);
    expect(wrong.stderr).toMatch(
      /An error occurred \(InvalidSignatureException\) when calling the ListApplications operation/,
    );
  });
});

describe('a control API bound beyond loopback', () => {
  it('without auth: a warning in the log and a loud line on stderr', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const { logs } = await start({ host: '0.0.0.0' });
    vi.restoreAllMocks();
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 40, host: '0.0.0.0', msg: expect.stringMatching(/without control\.auth/) }),
    );
    expect(written.join('')).toMatch(
      /\*\*\* WARNING: switchyard's control API listens on http:\/\/0\.0\.0\.0:\d+ \(host 0\.0\.0\.0\) WITHOUT control\.auth/,
    );
  });

  it('with auth, or on loopback: no warning', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const guarded = await start({ host: '0.0.0.0', auth: AUTH });
    const local = await start({ host: 'localhost' });
    vi.restoreAllMocks();
    expect([...guarded.logs, ...local.logs]).toEqual([]);
    expect(written.join('')).not.toMatch(/WARNING/);
  });
});
