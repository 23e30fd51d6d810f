/**
 * Synthetic versions through the proxy: the live one is served from start, a deployment's Install
 * starts the replacement (cold when its shift begins), an alarm on its errors rolls the canary back and
 * the replacement is retired (unpublished, then closed); close() closes what is left. Driven with the
 * AWS SDK, as a user would.
 */
import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { Agent, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';

import type { RouteTable } from '../../src/core/route-table.js';
import { deployWatchedCanary, sdkClient, until } from '../support/codedeploy.js';
import { startProxy } from '../support/switchyard.js';

/** What `GET /v1/services` shows of the versions of `web`. */
async function versionsOf(controlUrl: string): Promise<Record<string, readonly string[]>> {
  const res = await request(`${controlUrl}/v1/services`);
  const body = (await res.body.json()) as {
    services: { name: string; versions: { label: string; targets: string[] }[] }[];
  };
  const web = body.services.find((s) => s.name === 'web')!;
  return Object.fromEntries(web.versions.map((v) => [v.label, v.targets]));
}

/** Whether something answers at `url` (false once its server has closed). */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await request(url);
    await res.body.dump();
    return true;
  } catch {
    return false;
  }
}

/** Sends requests through the production listener, 4 at a time, until `stop()` (at most `limit`). */
function load(url: string, limit = 4_000) {
  const agent = new Agent({ connections: 4 });
  onTestFinished(() => agent.close());
  const seen: { version: string; status: number }[] = [];
  let running = true;
  let sent = 0;
  const loops = Array.from({ length: 4 }, async () => {
    while (running && sent < limit) {
      sent++;
      const res = await request(`${url}/`, { dispatcher: agent });
      await res.body.dump();
      seen.push({ version: String(res.headers['x-switchyard-version']), status: res.statusCode });
    }
  });
  return {
    seen,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('synthetic versions', () => {
  it('serves the live one from start, starts the replacement at Install and retires it after a rollback', async () => {
    const sy = await startProxy(
      {
        services: [
          {
            name: 'web',
            versions: {
              '1': { synthetic: { latency: { fixed: '1ms' }, bodyBytes: 10 } },
              '2': {
                synthetic: { latency: { fixed: '1ms' }, errors: { percent: 50 }, warmup: { duration: '1s' }, seed: 3 },
                instances: 2,
              },
            },
            live: '1',
          },
        ],
        alarms: { 'green-errors': { kind: 'error-rate', threshold: 0.05, window: '5s', minRequests: 5 } },
      },
      { autoClose: false },
    );
    onTestFinished(() => sy.close());
    const control = sy.urls['control']!;
    const before = await versionsOf(control);
    expect(before['1']).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/)]);
    expect(before['2']).toEqual([]);
    const blue = await request(`${sy.urls['production']}/`);
    expect([blue.statusCode, await blue.body.text()]).toEqual([200, 'x'.repeat(10)]);

    // Every table published, to see in which order green got targets and weight.
    const tables: RouteTable[] = [];
    sy.traffic.attach({ publish: (table) => tables.push(table) });
    const green = (t: RouteTable) => {
      const web = t.services.find((s) => s.name === 'web')!;
      return { targets: web.versions.find((v) => v.label === '2')!.targets, weight: web.weights.production['2'] ?? 0 };
    };

    const cd = sdkClient(sy);
    const deploymentId = await deployWatchedCanary(cd, sy);
    // Install started green's two servers and published them while it still had no traffic.
    const started = tables.findIndex((t) => green(t).targets.length > 0);
    const shifted = tables.findIndex((t) => green(t).weight > 0);
    expect(started).toBeGreaterThanOrEqual(0);
    expect(started).toBeLessThan(shifted);
    expect(green(tables[started]!).weight).toBe(0);
    const greenTargets = green(tables[started]!).targets;
    expect(greenTargets).toHaveLength(2);
    expect((await versionsOf(control))['2']).toEqual(greenTargets);

    const traffic = load(sy.urls['production']!);
    const info = await until(
      async () => (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!,
      (d) => d.status === 'Stopped',
      10_000,
      20,
      'the alarm stopping the canary',
    );
    await traffic.stop();
    expect(info.errorInformation).toMatchObject({ code: 'ALARM_ACTIVE' });
    expect(traffic.seen.some((s) => s.version === '2' && s.status === 500)).toBe(true);
    expect(traffic.seen.filter((s) => s.version === '1').every((s) => s.status === 200)).toBe(true);

    // Rolled back, then retired: unpublished, and its servers closed.
    await until(
      () => versionsOf(control),
      (v) => v['2']!.length === 0,
      5_000,
      20,
      'green unpublished',
    );
    expect(sy.traffic.service('web').weights.production).toEqual({ '1': 100, '2': 0 });
    await until(
      () => Promise.all(greenTargets.map(answers)),
      (up) => up.every((a) => !a),
      5_000,
      20,
      'green closed',
    );

    // Closing switchyard closes the live version's server too.
    const blueTarget = (await versionsOf(control))['1']![0]!;
    expect(await answers(blueTarget)).toBe(true);
    await sy.close();
    expect(await answers(blueTarget)).toBe(false);
  });
});
