/**
 * Two `switchyard serve` on one PostgreSQL database, as an operator runs a control plane and its standby:
 * the standby's control address forwards reads and writes to the leader and says so; a write made
 * through it is the leader's; once the leader is SIGKILLed the standby leads on the same address, with
 * that write kept.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { until } from '../support/codedeploy.js';
import { freePort } from '../support/free-port.js';
import { POSTGRES_SKIP, postgresServer } from '../support/postgres.js';
import { serveChild } from '../support/serve.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream } from '../support/upstream.js';

const temp = tempDir('switchyard-control-standby');
const postgres = postgresServer();

async function services(control: string) {
  const res = await request(`${control}/v1/services`);
  const body = (await res.body.json()) as {
    services: { name: string; weights: { production: Record<string, number> } }[];
  };
  return {
    status: res.statusCode,
    standby: res.headers['x-switchyard-standby'],
    leader: res.headers['x-switchyard-leader'],
    body,
  };
}

describe.skipIf(POSTGRES_SKIP)('a control plane and its standby on one PostgreSQL database', () => {
  it('forwards through the standby, which leads on its own address once the leader is killed', async () => {
    const url = await postgres.server().createDatabase();
    const [blue, green] = await Promise.all([startUpstream('blue'), startUpstream('green')]);
    const config = (controlPort: number) => ({
      listeners: { production: { host: '127.0.0.1', port: 0 } },
      control: { host: '127.0.0.1', port: controlPort },
      store: { postgres: url },
      services: [{ name: 'web', versions: { '1': { targets: [blue.url] }, '2': { targets: [green.url] } }, live: '1' }],
    });
    const leaderFile = join(temp.path(), 'leader.json');
    const standbyFile = join(temp.path(), 'standby.json');
    const standbyPort = await freePort();
    await writeFile(leaderFile, JSON.stringify(config(0)));
    await writeFile(standbyFile, JSON.stringify(config(standbyPort)));
    const leader = await serveChild(leaderFile);
    const standing = serveChild(standbyFile);
    const standbyUrl = `http://127.0.0.1:${standbyPort}`;

    // Answered by the leader through the standby's front, which names both.
    const seen = await until(
      () => services(standbyUrl).catch(() => undefined),
      (s) => s?.status === 200,
      10_000,
    );
    expect(seen!.standby).toMatch(/ pid \d+$/);
    expect(seen!.leader).toMatch(/ pid \d+$/);
    expect(seen!.leader).not.toBe(seen!.standby);

    const put = await request(`${standbyUrl}/v1/services/web/weight`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: '2', percent: 30 }),
    });
    expect(put.statusCode).toBe(200);
    await put.body.dump();
    const onLeader = await services(leader.urls['control']!);
    expect(onLeader.standby).toBeUndefined();
    expect(onLeader.body.services[0]!.weights.production).toEqual({ '1': 70, '2': 30 });

    leader.child.kill('SIGKILL');
    const next = await standing;
    expect(next.urls['control']).toBe(standbyUrl);
    const own = await services(standbyUrl);
    expect(own.standby).toBeUndefined();
    // The write acknowledged through the standby was the leader's, and is kept.
    expect(own.body.services[0]!.weights.production).toEqual({ '1': 70, '2': 30 });
    next.child.kill('SIGTERM');
    expect((await next.exit).code).toBe(0);
  });
});
