/**
 * Function versions in deployments and behind the proxy, on real sockets with real runtime processes: the
 * proxy's exact split and override header over two function versions; a Lambda canary whose replacement
 * throws on 20% of its calls, rolled back by an error-rate alarm as fast as an HTTP version's; and a
 * replacement whose Init fails, which fails its deployment before any traffic moves.
 */
import { join } from 'node:path';

import { type CodeDeployClient, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { createFunctionGroup, functionDeployment, sdkClient, until } from '../support/codedeploy.js';
import { loopLoad } from '../support/load.js';
import { startProxy } from '../support/switchyard.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'functions');
const HANDLER = `${FIXTURES}/versions/index.handler`;

/** Service `web`: function versions "1" (live) and "2" with `green` as version 2's `lambda` settings. */
function functions(green: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    services: [
      {
        name: 'web',
        live: '1',
        versions: { '1': { lambda: { handler: HANDLER } }, '2': { lambda: { handler: HANDLER, ...green } } },
        routing: { overrideHeader: 'x-version' },
      },
    ],
    alarms: { 'green-errors': { kind: 'error-rate', threshold: 0.05, window: '5s', minRequests: 20 } },
    ...extra,
  };
}

/** Application `fn` (Lambda) and its group `fn-live`: a 10% canary held minutes, rolled back on alarm when `watched`. */
async function deployCanary(cd: CodeDeployClient, watched = true): Promise<string> {
  await createFunctionGroup(cd, {
    deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent15Minutes',
    ...(watched && {
      alarmConfiguration: { enabled: true, alarms: [{ name: 'green-errors' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
    }),
  });
  const { deploymentId } = await cd.send(functionDeployment());
  return deploymentId!;
}

describe('function versions behind the proxy', () => {
  it('splits exactly between two function versions and honours the override header', async () => {
    const sy = await startProxy({
      ...functions({}),
      services: [{ ...functions({}).services[0], weights: { '1': 90, '2': 10 } }],
    });
    const bodies: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const res = await request(`${sy.urls['production']}/orders?id=${i}`);
      const body = await res.body.text();
      expect(res.statusCode).toBe(200);
      bodies[body] = (bodies[body] ?? 0) + 1;
    }
    expect(bodies).toEqual({ v1: 90, v2: 10 });
    const pinned = await request(`${sy.urls['production']}/`, { headers: { 'x-version': '2' } });
    expect(await pinned.body.text()).toBe('v2');
  });

  it('rolls back a Lambda canary whose replacement throws on 20% of calls within a second', async () => {
    const sy = await startProxy(functions({ env: { FAIL_EVERY: 5 } }));
    const cd = sdkClient(sy);
    const traffic = loopLoad(sy, 4, 6_000);
    const deploymentId = await deployCanary(cd);
    const info = await until(
      async () => (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!,
      (d) => d.status === 'Stopped' || d.status === 'Failed' || d.status === 'Succeeded',
      15_000,
      20,
    );
    await traffic.stop();
    expect(info.status).toBe('Stopped');
    expect(info.errorInformation).toMatchObject({ code: 'ALARM_ACTIVE' });
    expect(info.errorInformation!.message).toMatch(/^Alarm "green-errors" went into ALARM: replacement error rate/);
    const green = traffic.seen.filter((s) => s.version === '2');
    const failures = green.filter((s) => s.status !== 200);
    // A function error is answered as API Gateway answers it, and counted as the replacement's failure.
    expect(new Set(failures.map((s) => s.status))).toEqual(new Set([502]));
    const firstFailure = Math.min(...failures.map((s) => s.at));
    const lastGreen = Math.max(...green.map((s) => s.at));
    expect(lastGreen - firstFailure).toBeLessThan(1_000);
    const after = await request(`${sy.urls['production']}/`);
    expect(await after.body.text()).toBe('v1');
  });

  it('retries a request the failing replacement function answered 502 on the original, and counts it in /metrics', async () => {
    const base = functions({ env: { FAIL_EVERY: 1 } });
    const sy = await startProxy({
      ...base,
      services: [{ ...base.services[0], routing: { retryOnOriginal: true } }],
    });
    // retryOnOriginal acts while a deployment shifts the service: a canary held at 10% (no alarm to stop it).
    await deployCanary(sdkClient(sy), false);
    await until(
      async () => sy.traffic.service('web').weights.production['2'],
      (w) => w === 10,
    );
    const answers: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await request(`${sy.urls['production']}/`);
      answers.push(`${res.statusCode} ${await res.body.text()}`);
    }
    // Every 10th request went to version 2, whose function threw; the original answered it instead.
    expect(new Set(answers)).toEqual(new Set(['200 v1']));
    const metrics = await (await request(`${sy.urls['control']}/metrics`)).body.text();
    expect(metrics).toMatch(/switchyard_requests_total\{[^}]*version="2"[^}]*code="5xx"[^}]*\} 4\b/);
  });

  it('fails a deployment whose replacement throws during Init, before any traffic moves', async () => {
    const sy = await startProxy({
      ...functions({}),
      services: [
        {
          ...functions({}).services[0],
          versions: {
            '1': { lambda: { handler: HANDLER } },
            '2': { lambda: { handler: `${FIXTURES}/init-error/index.handler` } },
          },
        },
      ],
    });
    const cd = sdkClient(sy);
    const deploymentId = await deployCanary(cd);
    const info = await until(
      async () => (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!,
      (d) => d.status === 'Failed',
      10_000,
      20,
    );
    expect(info.errorInformation?.message).toMatch(
      /^version 2 is not ready: function web version 2 failed its Init: Error: cannot start: no config/,
    );
    expect(sy.traffic.service('web').weights.production).toEqual({ '1': 100, '2': 0 });
  });
});
