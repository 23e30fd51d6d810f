/**
 * Target health on real sockets: active checks take a failing target out of rotation and bring it back;
 * passive outlier ejection takes out a target that keeps failing, probes it after its ejection time and
 * returns it once it answers; a version with no healthy target hands its share to the other version,
 * counted; health shows in GET /v1/services, in /metrics and in the timeline of a running deployment.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** An upstream that answers its name, or 503 on /health and 500 elsewhere while `sick.is` is true. */
async function flaky(name: string): Promise<{ upstream: TestUpstream; sick: { is: boolean } }> {
  const sick = { is: false };
  const upstream = await startUpstream(name, (req, res) => {
    if (sick.is) res.writeHead(req.url === '/health' ? 503 : 500).end(`${name} is sick`);
    else res.writeHead(200).end(name);
  });
  return { upstream, sick };
}

/** Bodies of `n` sequential GETs to the production listener. */
async function answers(sy: Switchyard, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await request(`${sy.urls['production']}/`);
    const key = `${res.statusCode} ${await res.body.text()}`;
    seen[key] = (seen[key] ?? 0) + 1;
  }
  return seen;
}

interface HealthView {
  health: Record<string, { target: string; state: string; reason?: string }[]>;
}

async function healthOf(sy: Switchyard): Promise<HealthView['health']> {
  const res = await request(`${sy.urls['control']}/v1/services/web`);
  return ((await res.body.json()) as HealthView).health;
}

async function metric(sy: Switchyard, prefix: string): Promise<string[]> {
  const text = await (await request(`${sy.urls['control']}/metrics`)).body.text();
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

const CHECK = { path: '/health', interval: '30ms', timeout: '500ms', healthyThreshold: 2, unhealthyThreshold: 2 };

describe('target health', () => {
  it('takes a target that fails its checks out of rotation, and brings it back when it passes', async () => {
    const a = await flaky('a');
    const b = await flaky('b');
    const sy = await startProxy({
      services: [
        {
          name: 'web',
          versions: { '1': { targets: [a.upstream.url, b.upstream.url], healthCheck: CHECK } },
          live: '1',
        },
      ],
    });
    expect(await answers(sy, 4)).toEqual({ '200 a': 2, '200 b': 2 });
    b.sick.is = true;
    await until(
      () => healthOf(sy),
      (h) => h['1']![1]!.state === 'unhealthy',
      5_000,
      20,
    );
    expect((await healthOf(sy))['1']).toEqual([
      expect.objectContaining({ target: a.upstream.url, state: 'healthy' }),
      expect.objectContaining({ target: b.upstream.url, state: 'unhealthy', reason: 'GET /health answered 503' }),
    ]);
    expect(await answers(sy, 6)).toEqual({ '200 a': 6 });
    expect(await metric(sy, 'switchyard_target_healthy{')).toEqual([
      `switchyard_target_healthy{service="web",version="1",target="${a.upstream.url}"} 1`,
      `switchyard_target_healthy{service="web",version="1",target="${b.upstream.url}"} 0`,
    ]);
    b.sick.is = false;
    await until(
      () => healthOf(sy),
      (h) => h['1']![1]!.state === 'healthy',
      5_000,
      20,
    );
    expect(await answers(sy, 4)).toEqual({ '200 a': 2, '200 b': 2 });
  });

  it('ejects a target after consecutive failures, probes it after its ejection time, and returns it', async () => {
    const a = await flaky('a');
    const b = await flaky('b');
    const sy = await startProxy({
      upstream: { outlierDetection: { consecutiveFailures: 3, ejectionTime: '300ms', maxEjectionTime: '1s' } },
      services: [{ name: 'web', versions: { '1': { targets: [a.upstream.url, b.upstream.url] } }, live: '1' }],
    });
    b.sick.is = true;
    // Round robin: b fails its 3rd request (the 6th overall) and is ejected.
    expect(await answers(sy, 6)).toEqual({ '200 a': 3, '500 b is sick': 3 });
    expect(await answers(sy, 10)).toEqual({ '200 a': 10 });
    sy.stats.pull();
    expect((await healthOf(sy))['1']![1]).toMatchObject({
      state: 'ejected',
      reason: 'ejected for 300 ms after consecutive failures',
    });
    // After the ejection the next request probes it: still failing, it is out again at once (for 600 ms).
    await until(
      () => healthOf(sy),
      (h) => h['1']![1]!.state !== 'ejected',
      5_000,
      20,
      'the 300 ms ejection over',
    );
    expect(await answers(sy, 10)).toEqual({ '200 a': 9, '500 b is sick': 1 });
    b.sick.is = false;
    sy.stats.pull();
    await until(
      () => healthOf(sy),
      (h) => h['1']![1]!.state !== 'ejected',
      5_000,
      20,
      'the 600 ms ejection over',
    );
    expect(await answers(sy, 4)).toEqual({ '200 a': 2, '200 b': 2 });
    sy.stats.pull();
    expect((await healthOf(sy))['1']![1]).toMatchObject({ state: 'unchecked' });
    expect(b.upstream.hits).toBe(3 + 1 + 2);
  });

  it('hands the share of a version with no healthy target to the other, counted, and says so in the deployment', async () => {
    const blue = await flaky('blue');
    const green = await flaky('green');
    const sy = await startProxy(
      twoVersions(blue.upstream.url, green.upstream.url, {
        versions: { '1': { targets: [blue.upstream.url] }, '2': { targets: [green.upstream.url], healthCheck: CHECK } },
      }),
    );
    const cd = sdkClient(sy);
    await createWebGroup(cd, { deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes' });
    const deploymentId = await deployWeb(cd);
    await until(
      async () => sy.traffic.service('web').weights.production['2'],
      (w) => w === 10,
    );
    expect(await answers(sy, 10)).toEqual({ '200 blue': 9, '200 green': 1 });
    green.sick.is = true;
    await until(
      () => healthOf(sy),
      (h) => h['2']![0]!.state === 'unhealthy',
      5_000,
      20,
    );
    // Green's tenth goes to blue: nobody sees green's failure.
    expect(await answers(sy, 20)).toEqual({ '200 blue': 20 });
    sy.stats.pull();
    expect(await metric(sy, 'switchyard_failovers_total{')).toEqual([
      'switchyard_failovers_total{service="web",version="2"} 2',
    ]);
    const events = (await (
      await request(`${sy.urls['control']}/v1/deployments/${deploymentId}/events`)
    ).body.json()) as {
      events: { message: string; detail: Record<string, unknown> }[];
    };
    expect(events.events.find((e) => e.message === 'target health changed')?.detail).toMatchObject({
      version: '2',
      target: green.upstream.url,
      state: 'unhealthy',
    });
  });
});
