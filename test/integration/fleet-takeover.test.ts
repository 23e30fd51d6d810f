/**
 * A fleet as an operator runs it: two control planes (`workers: 0`) on one PostgreSQL database, the
 * second standing by, and two `serve --data-plane` processes given both control URLs. The leader is
 * SIGKILLed in the middle of a canary: both data planes keep serving the canary's split, the standby
 * leads, both follow it, it finishes the deployment, and its API's history holds everything the first
 * one wrote.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { freePort } from '../support/free-port.js';
import { POSTGRES_SKIP, postgresServer } from '../support/postgres.js';
import { serveChild, type ServedChild } from '../support/serve.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream } from '../support/upstream.js';
import { greens, versionsSeen } from '../support/versions-seen.js';

const dir = tempDir('switchyard-fleet-takeover');
const postgres = postgresServer();

/** The versions that answered `n` GETs through a data plane, one keep-alive connection, in order. */
const versions = (dp: ServedChild, n: number) => versionsSeen(dp.urls['production']!, n);

/** Data planes a control plane lists as connected and routing by one of its tables. */
async function following(control: string): Promise<string[]> {
  const res = await request(`${control}/v1/data-planes`);
  if (res.statusCode !== 200 || res.headers['x-switchyard-standby'] !== undefined) {
    await res.body.dump();
    return [];
  }
  const { dataPlanes } = (await res.body.json()) as { dataPlanes: { name: string; state: string; revision: number }[] };
  return dataPlanes.filter((p) => p.state === 'connected' && p.revision > 0).map((p) => p.name);
}

async function timeline(control: string, id: string): Promise<{ type?: string; message?: string }[]> {
  return ((await (await request(`${control}/v1/deployments/${id}/events`)).body.json()) as { events: [] }).events;
}

describe.skipIf(POSTGRES_SKIP)('a fleet with a standby control plane', () => {
  it('keeps the canary split when the leader dies mid-canary; the standby leads and finishes it', async () => {
    const db = await postgres.server().createDatabase();
    const [blue, green] = await Promise.all([startUpstream('blue'), startUpstream('green')]);
    const controlFile = async (name: string, port: number) => {
      const file = join(dir.path(), `${name}.json`);
      await writeFile(
        file,
        JSON.stringify({
          listeners: { production: { host: '127.0.0.1', port: 0 } },
          control: { host: '127.0.0.1', port },
          workers: 0,
          // A 15-minute canary at 100 times: 10% for 9 s, then all.
          timeScale: 100,
          store: { postgres: db },
          services: [
            { name: 'web', versions: { '1': { targets: [blue.url] }, '2': { targets: [green.url] } }, live: '1' },
          ],
        }),
      );
      return file;
    };
    const [portA, portB] = [await freePort(), await freePort()];
    const controls = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
    const leader = await serveChild(await controlFile('a', portA));
    const standing = serveChild(await controlFile('b', portB));
    const planeFile = join(dir.path(), 'data-plane.json');
    await writeFile(planeFile, JSON.stringify({ listeners: { production: { host: '127.0.0.1', port: 0 } } }));
    const [one, two] = await Promise.all(
      ['one', 'two'].map((name) =>
        serveChild(planeFile, {}, ['--data-plane', '--control', controls.join(','), '--name', name]),
      ),
    );
    await until(
      () => following(controls[0]!),
      (names) => names.length === 2,
      10_000,
    );

    const cd = sdkClient(leader);
    await createWebGroup(cd, { deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes' });
    const deploymentId = await deployWeb(cd);
    await until(
      async () => greens(await versions(one!, 10)),
      (n) => n === 1,
      10_000,
    );
    const before = await timeline(controls[0]!, deploymentId);
    leader.child.kill('SIGKILL');

    // Fail static: with the leader gone, both route by the canary's 10%, exactly.
    expect(greens(await versions(one!, 20))).toBe(2);
    expect(greens(await versions(two!, 20))).toBe(2);

    const next = await standing;
    expect(next.urls['control']).toBe(controls[1]);
    await until(
      () => following(controls[1]!),
      (names) => names.length === 2,
      10_000,
    );
    const again = sdkClient(next);
    const done = await until(
      async () => (await again.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!,
      (d) => d.status === 'Succeeded' || d.status === 'Failed' || d.status === 'Stopped',
      20_000,
      100,
    );
    expect(done.status).toBe('Succeeded');
    expect(new Set([...(await versions(one!, 10)), ...(await versions(two!, 10))])).toEqual(new Set(['2']));
    // The history is whole: what the first leader recorded, then what the second did.
    const after = await timeline(controls[1]!, deploymentId);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.length).toBeGreaterThan(before.length);
    next.child.kill('SIGTERM');
    expect((await next.exit).code).toBe(0);
  });
});
