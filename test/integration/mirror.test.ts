/**
 * Traffic mirroring on real sockets: once a deployment's replacement is ready, an exact share of
 * production requests is copied to it in the background (marked as a copy), bodies up to a limit; the
 * client never waits for the copy; copies are counted apart from served requests, and an alarm can judge
 * them, stopping a deployment before the replacement takes any real traffic. Mirroring ends with the
 * deployment.
 */
import type { IncomingMessage } from 'node:http';

import { ContinueDeploymentCommand, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

interface Copy {
  method: string;
  body: string;
  mirrorHeader: string | undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => resolve(text));
  });
}

/**
 * Blue answers its name (echoing a body's length); green records each copy and answers as `green.mode`
 * says. The group holds the deployment in Ready (before AllowTraffic) so only copies reach green.
 */
async function setup(mirror: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const copies: Copy[] = [];
  const green = { mode: 'ok' as 'ok' | 'fail' | 'slow' };
  const blueBodies: number[] = [];
  const blue = await startUpstream('blue', (req, res) => {
    void readBody(req).then((body) => {
      blueBodies.push(body.length);
      res.writeHead(200).end('blue');
    });
  });
  const greenUp = await startUpstream('green', (req, res) => {
    void readBody(req).then((body) => {
      if (req.url === '/') {
        // Install's health check: not a copy.
        res.writeHead(200).end('green');
        return;
      }
      copies.push({
        method: req.method ?? '',
        body,
        mirrorHeader: req.headers['x-switchyard-mirror'] as string | undefined,
      });
      if (green.mode === 'fail') res.writeHead(500).end('green broke');
      else if (green.mode === 'slow') setTimeout(() => res.writeHead(200).end('green'), 2_000);
      else res.writeHead(200).end('green');
    });
  });
  const sy = await startProxy({ ...twoVersions(blue.url, greenUp.url, { routing: { mirror } }), ...extra });
  const cd = sdkClient(sy);
  await createWebGroup(cd, {
    blueGreenDeploymentConfiguration: {
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 },
    },
    ...(extra['alarms'] !== undefined && {
      alarmConfiguration: { enabled: true, alarms: [{ name: 'green-errors' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
    }),
  });
  const deploymentId = await deployWeb(cd);
  await until(
    async () => (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.status,
    (s) => s === 'Ready',
  );
  return { sy, cd, deploymentId, copies, green, blueBodies };
}

async function get(sy: Switchyard, path: string, options: { method?: 'POST'; body?: string } = {}): Promise<string> {
  const res = await request(`${sy.urls['production']}${path}`, { method: options.method ?? 'GET', body: options.body });
  return res.body.text();
}

async function metric(sy: Switchyard, prefix: string): Promise<string[]> {
  sy.stats.pull();
  const text = await (await request(`${sy.urls['control']}/metrics`)).body.text();
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

describe('traffic mirroring', () => {
  it('copies an exact share of production requests to the ready replacement, marked, counted apart', async () => {
    const { sy, copies } = await setup({ percent: 50 });
    const answers = new Set<string>();
    for (let i = 0; i < 20; i++) answers.add(await get(sy, '/page'));
    // The clients were all answered by blue; green got every second request as a copy.
    expect(answers).toEqual(new Set(['blue']));
    await until(
      async () => copies.length,
      (n) => n === 10,
    );
    expect(copies.every((c) => c.mirrorHeader === 'true' && c.method === 'GET')).toBe(true);
    expect(await metric(sy, 'switchyard_mirrored_requests_total{')).toEqual([
      'switchyard_mirrored_requests_total{service="web",version="2",code="2xx"} 10',
    ]);
    expect((await metric(sy, 'switchyard_requests_total{')).filter((l) => l.includes('version="2"'))).toEqual([]);
  });

  it('never makes the client wait for the copy', async () => {
    const { sy, copies, green } = await setup({ percent: 100 });
    green.mode = 'slow';
    const started = Date.now();
    for (let i = 0; i < 10; i++) expect(await get(sy, '/page')).toBe('blue');
    // Each copy takes 2 s to answer; the ten client requests did not wait for any of them.
    expect(Date.now() - started).toBeLessThan(1_000);
    await until(
      async () => copies.length,
      (n) => n === 10,
    );
  });

  it('copies a body up to the limit, and sends the real request whole either way', async () => {
    const { sy, copies, blueBodies } = await setup({ percent: 100, maxBodyBytes: '1KiB' });
    expect(await get(sy, '/orders', { method: 'POST', body: 'x'.repeat(100) })).toBe('blue');
    expect(await get(sy, '/orders', { method: 'POST', body: 'y'.repeat(4096) })).toBe('blue');
    expect(blueBodies).toEqual([100, 4096]);
    await until(
      async () => copies.length,
      (n) => n === 1,
    );
    // An observation window, not a handshake: a copy of the over-limit request, had one been sent, would
    // have reached green within these 200 ms.
    await new Promise((r) => setTimeout(r, 200));
    expect(copies).toEqual([{ method: 'POST', body: 'x'.repeat(100), mirrorHeader: 'true' }]);
  });

  it('lets an alarm judge the copies and stop the deployment before the replacement takes real traffic', async () => {
    const { sy, cd, deploymentId, copies, green } = await setup(
      { percent: 100 },
      { alarms: { 'green-errors': { kind: 'error-rate', threshold: 0.05, window: '5s', minRequests: 5 } } },
    );
    green.mode = 'fail';
    for (let i = 0; i < 10; i++) expect(await get(sy, '/page')).toBe('blue');
    const info = await until(
      async () => (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!,
      (d) => d.status === 'Stopped',
      5_000,
      20,
    );
    expect(info.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(sy.traffic.service('web').weights.production).toEqual({ '1': 100, '2': 0 });
    // The deployment is over: no more copies.
    const before = copies.length;
    for (let i = 0; i < 5; i++) await get(sy, '/page');
    // An observation window, not a handshake: a copy of any of these five would have reached green within 200 ms.
    await new Promise((r) => setTimeout(r, 200));
    expect(copies.length).toBe(before);
    // A ContinueDeployment now is refused: nothing is waiting any more.
    await expect(cd.send(new ContinueDeploymentCommand({ deploymentId }))).rejects.toMatchObject({
      name: 'DeploymentAlreadyCompletedException',
    });
  });
});
