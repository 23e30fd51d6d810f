/**
 * Retry on the original, on real sockets: while a deployment shifts a service with
 * `routing.retryOnOriginal`, an idempotent bodiless request that fails on the replacement (5xx or no
 * answer) is answered by the original instead, and the failure still counts against the replacement.
 * Requests with a body, other methods, the test listener, and a split set by hand are never retried.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

/** Blue answers its name; green answers 500. */
async function setup(routing: Record<string, unknown>) {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green', (_req, res) => res.writeHead(500).end('green broke'));
  const sy = await startProxy(twoVersions(blue.url, green.url, { routing }));
  return { sy, blue, green };
}

/** Starts a canary (10% for 15 real minutes) from version 1 to 2 and waits for the 10%. */
async function startCanary(sy: Switchyard): Promise<void> {
  const cd = sdkClient(sy);
  await createWebGroup(cd, {
    deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
    // A test traffic route, so AllowTestTraffic sends the test listener to the replacement.
    loadBalancerInfo: {
      targetGroupPairInfoList: [
        {
          targetGroups: [{ name: 'blue' }, { name: 'green' }],
          prodTrafficRoute: { listenerArns: ['prod'] },
          testTrafficRoute: { listenerArns: ['test'] },
        },
      ],
    },
  });
  await deployWeb(cd);
  await until(
    async () => sy.traffic.service('web').weights.production['2'],
    (w) => w === 10,
  );
}

/** Statuses and bodies of `n` sequential requests. */
async function send(
  url: string,
  n: number,
  options: { method?: string; body?: string } = {},
): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await request(url, { method: (options.method ?? 'GET') as 'GET', body: options.body });
    const key = `${res.statusCode} ${await res.body.text()}`;
    seen[key] = (seen[key] ?? 0) + 1;
  }
  return seen;
}

/** Replacement failures counted in /metrics. */
async function greenFailures(sy: Switchyard): Promise<number> {
  sy.stats.pull();
  const text = await (await request(`${sy.urls['control']}/metrics`)).body.text();
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith('switchyard_requests_total{') && l.includes('version="2"') && /code="(5xx|error)"/.test(l),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('retry on the original', () => {
  it('answers GET, HEAD and OPTIONS from the original when the replacement answers 5xx, and still counts the failure', async () => {
    const { sy, green } = await setup({ retryOnOriginal: true });
    await startCanary(sy);
    const prod = `${sy.urls['production']}/`;
    expect(await send(prod, 50)).toEqual({ '200 blue': 50 });
    expect(Object.keys(await send(prod, 20, { method: 'HEAD' }))).toEqual(['200 ']);
    expect(await send(prod, 20, { method: 'OPTIONS' })).toEqual({ '200 blue': 20 });
    // Every tenth request went to green and failed there (plus Install's health check); none reached a client.
    expect(green.hits).toBe(9 + 1);
    expect(await greenFailures(sy)).toBe(9);
  });

  it('answers from the original when the replacement cannot be reached', async () => {
    const { sy, green } = await setup({ retryOnOriginal: true });
    await startCanary(sy);
    // Green passed Install's health check, then went away.
    await green.close();
    expect(await send(`${sy.urls['production']}/`, 40)).toEqual({ '200 blue': 40 });
    expect(await greenFailures(sy)).toBe(4);
  });

  it('never retries a request with a body, nor a method not marked idempotent', async () => {
    const { sy } = await setup({ retryOnOriginal: true, idempotentMethods: ['PUT'] });
    await startCanary(sy);
    const prod = `${sy.urls['production']}/`;
    expect(await send(prod, 20, { method: 'POST', body: 'order' })).toEqual({ '200 blue': 18, '500 green broke': 2 });
    expect(await send(prod, 20, { method: 'DELETE' })).toEqual({ '200 blue': 18, '500 green broke': 2 });
    // PUT is marked idempotent: retried without a body, not with one.
    expect(await send(prod, 20, { method: 'PUT' })).toEqual({ '200 blue': 20 });
    expect(await send(prod, 20, { method: 'PUT', body: 'x' })).toEqual({ '200 blue': 18, '500 green broke': 2 });
  });

  it('is off unless configured, off outside a deployment, and off on the test listener', async () => {
    const off = await setup({});
    await startCanary(off.sy);
    expect(await send(`${off.sy.urls['production']}/`, 20)).toEqual({ '200 blue': 18, '500 green broke': 2 });

    const byHand = await setup({ retryOnOriginal: true });
    byHand.sy.traffic.setWeights('web', { '1': 90, '2': 10 });
    expect(await send(`${byHand.sy.urls['production']}/`, 20)).toEqual({ '200 blue': 18, '500 green broke': 2 });

    const test = await setup({ retryOnOriginal: true });
    await startCanary(test.sy);
    // AllowTestTraffic sent the whole test listener to green: its testers see green as it is.
    expect(await send(`${test.sy.urls['test']}/`, 5)).toEqual({ '500 green broke': 5 });
  });
});
