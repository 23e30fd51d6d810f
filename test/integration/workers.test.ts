/**
 * `switchyard serve --workers 2` as an operator runs it, on real sockets: the split stays within 2
 * requests of exact over 1,000, a sticky key lands on the same version in both workers, a weight change
 * reaches both before the API answers, a canary rolls back on an alarm fed by both, /metrics counts the
 * sum of both, a worker killed under load is replaced on the current table, SIGTERM drains both, and a
 * primary killed takes its workers with it.
 */
import { writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { Agent, Client, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

import { createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { alive } from '../support/processes.js';
import { serveChild, type ServedChild } from '../support/serve.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream } from '../support/upstream.js';

const dir = tempDir('switchyard-workers');

/** Blue and green upstreams answering their names (green as `mode.green` says). */
async function upstreams() {
  const mode = { green: 'ok' as 'ok' | 'fail', delayMs: 0 };
  const answer = (name: string) => (res: ServerResponse) => {
    if (name === 'green' && mode.green === 'fail') res.writeHead(500).end('green broke');
    else res.writeHead(200).end(name);
  };
  const blue = await startUpstream('blue', (_req, res) =>
    mode.delayMs ? setTimeout(() => answer('blue')(res), mode.delayMs) : answer('blue')(res),
  );
  const green = await startUpstream('green', (_req, res) => answer('green')(res));
  return { blue, green, mode };
}

let files = 0;

/** Starts `serve --workers 2` (log level debug: each worker's pid is logged) on a config of `web`'s two versions. */
async function serveWorkers(
  blue: string,
  green: string,
  extra: { service?: Record<string, unknown>; services?: readonly unknown[]; top?: Record<string, unknown> } = {},
): Promise<ServedChild> {
  const file = join(dir.path(), `workers-${++files}.json`);
  const config = {
    listeners: { production: { host: '127.0.0.1', port: 0 } },
    control: { host: '127.0.0.1', port: 0 },
    drainTimeout: '5s',
    services: [
      {
        name: 'web',
        versions: { '1': { targets: [blue] }, '2': { targets: [green] } },
        live: '1',
        ...extra.service,
      },
      ...(extra.services ?? []),
    ],
    ...extra.top,
  };
  await writeFile(file, JSON.stringify(config));
  return serveChild(file, { LOG_LEVEL: 'debug' }, ['--workers', '2', '--store', 'memory']);
}

/** The pids of the workers that said they serve, oldest first. */
function workerPids(sy: ServedChild): number[] {
  return sy
    .logs()
    .filter((l) => l.msg === 'worker serving')
    .map((l) => l['pid'] as number);
}

/** One series of /metrics by its name and labels, e.g. `switchyard_worker_requests_total{worker="1"}`. */
async function metric(sy: ServedChild, series: string): Promise<number> {
  const text = await (await request(`${sy.urls['control']}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Waits until the workers' counts reach /metrics: `total` requests in all, each worker some; resolves with both. */
function servedByBoth(sy: ServedChild, total: number): Promise<number[]> {
  return until(
    async () => [
      await metric(sy, 'switchyard_worker_requests_total{worker="1"}'),
      await metric(sy, 'switchyard_worker_requests_total{worker="2"}'),
    ],
    ([a, b]) => a! + b! === total && a! > 0 && b! > 0,
    5_000,
  );
}

async function setWeight(sy: ServedChild, percent: number): Promise<void> {
  const res = await request(`${sy.urls['control']}/v1/services/web/weight`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ version: '2', percent }),
  });
  expect(res.statusCode, await res.body.text()).toBe(200);
}

/** `n` GETs over `connections` keep-alive connections: each answer's version and status, in order of arrival. */
async function answers(sy: ServedChild, n: number, connections: number) {
  const agent = new Agent({ connections });
  onTestFinished(() => agent.close());
  const out: { version: string; status: number }[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent < n) {
        sent++;
        const res = await request(`${sy.urls['production']}/`, { dispatcher: agent });
        await res.body.dump();
        out.push({ version: String(res.headers['x-switchyard-version']), status: res.statusCode });
      }
    }),
  );
  return out;
}

/** The versions that answered `n` GETs over `connections` keep-alive connections. */
const send = async (sy: ServedChild, n: number, connections: number) =>
  (await answers(sy, n, connections)).map((a) => a.version);

/** The statuses of `n` GETs over `connections` keep-alive connections. */
const statuses = async (sy: ServedChild, n: number, connections: number) =>
  (await answers(sy, n, connections)).map((a) => a.status);

/** Opens a WebSocket through `url` and resolves with it once the upstream's greeting arrived. */
function openSocket(url: string): Promise<{ ws: WebSocket; greeting: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace('http:', 'ws:'));
    onTestFinished(() => ws.terminate());
    ws.once('message', (data: RawData) => resolve({ ws, greeting: data.toString() }));
    ws.once('error', reject);
  });
}

/** One echo through an open WebSocket. */
function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (data: RawData) => resolve(data.toString()));
    ws.send(text);
  });
}

describe('serve --workers 2', () => {
  it('splits exactly across both workers, and /metrics counts the sum of both', async () => {
    const { blue, green } = await upstreams();
    const sy = await serveWorkers(blue.url, green.url);
    expect(workerPids(sy)).toHaveLength(2);
    await setWeight(sy, 10);
    const versions = await send(sy, 1_000, 16);
    const toGreen = versions.filter((v) => v === '2').length;
    // Each worker's smooth round robin is exact to within one request: two workers, within two.
    expect(Math.abs(toGreen - 100)).toBeLessThanOrEqual(2);
    expect(green.hits).toBe(toGreen);
    // Workers send their counts up every 100 ms: the sum arrives within a moment.
    await until(
      async () =>
        (await metric(sy, 'switchyard_requests_total{service="web",version="1",code="2xx"}')) +
        (await metric(sy, 'switchyard_requests_total{service="web",version="2",code="2xx"}')),
      (n) => n === 1_000,
      5_000,
    );
    const perWorker = await servedByBoth(sy, 1_000);
    expect(perWorker[0]! + perWorker[1]!).toBe(1_000);
    // Both served a real share (round robin through the primary: neither is starved).
    expect(Math.min(...perWorker)).toBeGreaterThan(150);
    expect(await metric(sy, 'switchyard_workers')).toBe(2);
    expect(await metric(sy, 'switchyard_route_propagation_seconds_count')).toBeGreaterThanOrEqual(1);
  });

  it('routes a sticky key to the same version in every worker', async () => {
    const { blue, green } = await upstreams();
    const sy = await serveWorkers(blue.url, green.url, { service: { routing: { sticky: { header: 'x-user' } } } });
    await setWeight(sy, 50);
    const byKey = new Map<string, Set<string>>();
    for (let user = 0; user < 40; user++) {
      const key = `user-${user}`;
      // A fresh connection each time: the primary hands them to both workers in turn.
      for (let i = 0; i < 4; i++) {
        const res = await request(`${sy.urls['production']}/`, { headers: { 'x-user': key }, reset: true });
        await res.body.dump();
        const seen = byKey.get(key) ?? new Set();
        seen.add(String(res.headers['x-switchyard-version']));
        byKey.set(key, seen);
      }
    }
    expect([...byKey.values()].every((s) => s.size === 1)).toBe(true);
    const versions = new Set([...byKey.values()].flatMap((s) => [...s]));
    expect(versions).toEqual(new Set(['1', '2']));
    await servedByBoth(sy, 160);
  });

  it('moves both workers before the API answers a weight change', async () => {
    const { blue, green } = await upstreams();
    const sy = await serveWorkers(blue.url, green.url);
    // Eight connections held open, made one after another: the primary deals them to both workers.
    const clients = Array.from({ length: 8 }, () => new Client(sy.urls['production']!));
    onTestFinished(() => Promise.all(clients.map((c) => c.close())).then(() => undefined));
    const ask = () =>
      Promise.all(
        clients.map(async (c) => {
          const res = await c.request({ path: '/', method: 'GET' });
          await res.body.dump();
          return String(res.headers['x-switchyard-version']);
        }),
      );
    expect(new Set(await ask())).toEqual(new Set(['1']));
    for (let round = 0; round < 10; round++) {
      const percent = round % 2 === 0 ? 100 : 0;
      await setWeight(sy, percent);
      // The first request on every connection after the answer routes by the new weights.
      expect(new Set(await ask())).toEqual(new Set([percent === 100 ? '2' : '1']));
    }
    // The connections were held by both workers, so both were moved each time.
    await servedByBoth(sy, 88);
  });

  it('replaces a worker that does not acknowledge a table in time, and answers once the change holds', async () => {
    const { blue, green } = await upstreams();
    const sy = await serveWorkers(blue.url, green.url);
    const [frozen, other] = workerPids(sy) as [number, number];
    // A worker that hears nothing: its event loop stopped, as a wedged process would be.
    process.kill(frozen, 'SIGSTOP');
    onTestFinished(() => {
      if (alive(frozen)) process.kill(frozen, 'SIGKILL');
    });
    const asked = Date.now();
    await setWeight(sy, 100);
    const waited = Date.now() - asked;
    // The answer waited for the acknowledgement that never came (1 s), then for the worker's removal.
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(3_000);
    expect(
      sy.logs().find((l) => l.msg === 'a worker did not acknowledge a route table in time: replacing it'),
    ).toMatchObject({ ackTimeoutMs: 1_000 });
    await until(
      async () => alive(frozen),
      (a) => !a,
      5_000,
    );
    expect(alive(other)).toBe(true);
    // Every connection from now on, on the other worker or the replacement, routes by the new weights.
    expect(new Set(await send(sy, 64, 16))).toEqual(new Set(['2']));
    await until(
      async () => workerPids(sy).length,
      (n) => n === 3,
      10_000,
    );
  });

  it('rolls a canary back on an alarm fed by both workers', async () => {
    const { blue, green, mode } = await upstreams();
    const sy = await serveWorkers(blue.url, green.url, {
      top: { alarms: { 'green-errors': { kind: 'error-rate', threshold: 0.05, window: '5s', minRequests: 5 } } },
    });
    const cd = sdkClient(sy);
    await createWebGroup(cd, {
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: 'green-errors' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
    });
    const deploymentId = await deployWeb(cd);
    const load = tolerantLoad(sy, 8);
    await until(
      async () => load.seen.filter((s) => s.version === '2').length,
      (n) => n >= 20,
      10_000,
      20,
      'green answering',
    );
    mode.green = 'fail';
    const failingSince = Date.now();
    const info = await until(
      async () => (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!,
      (d) => d.status === 'Stopped',
      5_000,
      20,
    );
    await load.stop();
    expect(info.errorInformation).toMatchObject({ code: 'ALARM_ACTIVE' });
    expect(info.rollbackInfo?.rollbackDeploymentId).toBeDefined();
    const lastOnGreen = Math.max(...load.seen.filter((s) => s.version === '2').map((s) => s.at));
    expect(lastOnGreen - failingSince).toBeLessThan(1_000);
    // After the rollback both workers route everything to blue.
    expect(new Set(await send(sy, 40, 8))).toEqual(new Set(['1']));
    expect(await metric(sy, 'switchyard_worker_requests_total{worker="1"}')).toBeGreaterThan(0);
    expect(await metric(sy, 'switchyard_worker_requests_total{worker="2"}')).toBeGreaterThan(0);
  });

  it('replaces a worker killed under load, on the current table, while the other serves on', async () => {
    const { blue, green } = await upstreams();
    const sy = await serveWorkers(blue.url, green.url);
    // The table in force is no longer the config's: a replacement must be given this one.
    await setWeight(sy, 100);
    const load = tolerantLoad(sy, 8);
    await until(
      async () => load.seen.length,
      (n) => n >= 200,
      5_000,
    );
    const [victim, survivor] = workerPids(sy) as [number, number];
    process.kill(victim, 'SIGKILL');
    const replaced = await until(
      async () => workerPids(sy),
      (pids) => pids.length === 3,
      10_000,
      20,
      'a replacement serving',
    );
    const replacement = replaced[2]!;
    const answeredBefore = load.seen.length;
    await until(
      async () => load.seen.length,
      (n) => n >= answeredBefore + 200,
      5_000,
    );
    await load.stop();
    expect(alive(victim)).toBe(false);
    expect(alive(survivor)).toBe(true);
    expect(alive(replacement)).toBe(true);
    // Only what the killed worker had in flight is lost: at most one request per connection.
    expect(load.failures).toBeLessThanOrEqual(8);
    expect(load.seen.filter((s) => s.status !== 200)).toEqual([]);
    expect(new Set(load.seen.map((s) => s.version))).toEqual(new Set(['2']));
    // The replacement serves, on the current table: fresh connections reach both workers and all go to 2.
    expect(new Set(await send(sy, 64, 16))).toEqual(new Set(['2']));
    expect(await metric(sy, 'switchyard_worker_restarts_total')).toBe(1);
    expect(await metric(sy, 'switchyard_workers')).toBe(2);
    const exited = sy.logs().find((l) => l.msg === 'a worker exited: starting a replacement on the current table');
    expect(exited).toMatchObject({ signal: 'SIGKILL', pid: victim });
  }, 40_000);

  it('carries WebSockets, streamed bodies, faults, retries on the original and mirrored copies in workers', async () => {
    const { blue, green, mode } = await upstreams();
    const wss = new WebSocketServer({ noServer: true });
    onTestFinished(() => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    });
    blue.server.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data: RawData) => ws.send(`blue:${data.toString()}`));
        ws.send('hello from blue');
      }),
    );
    // A streamed upload is answered with its length; a large download streams from the other upstream.
    const big = await startUpstream('big', (req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => {
        if (req.method === 'POST') res.writeHead(200).end(String(bytes));
        else res.writeHead(200).end(Buffer.alloc(4 << 20, 0x61));
      });
    });
    const sy = await serveWorkers(blue.url, green.url, {
      service: { routing: { retryOnOriginal: true, mirror: { percent: 100 } } },
      services: [{ name: 'big', match: { pathPrefix: '/big' }, versions: { a: { targets: [big.url] } }, live: 'a' }],
    });
    // Bodies stream through either worker both ways: 8 MiB up, 4 MiB down, on fresh connections.
    for (let i = 0; i < 4; i++) {
      const up = await request(`${sy.urls['production']}/big`, {
        method: 'POST',
        body: Readable.from(Array.from({ length: 128 }, () => Buffer.alloc(64 << 10, 0x62))),
        reset: true,
      });
      expect(await up.body.text()).toBe(String(8 << 20));
      const down = await request(`${sy.urls['production']}/big`, { reset: true });
      expect((await down.body.arrayBuffer()).byteLength).toBe(4 << 20);
    }
    // WebSockets on fresh connections land on both workers; each echoes both ways.
    for (let i = 0; i < 6; i++) {
      const { ws, greeting } = await openSocket(`${sy.urls['production']}/`);
      expect(greeting).toBe('hello from blue');
      expect(await echo(ws, `m${i}`)).toBe(`blue:m${i}`);
      ws.close();
    }
    // A fault set through the API holds in both workers once the call answers, and is gone once cleared.
    const fault = await request(`${sy.urls['control']}/v1/services/web/faults/1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ abort: { percent: 100, status: 418 } }),
    });
    expect(fault.statusCode).toBe(200);
    await fault.body.dump();
    expect(new Set(await statuses(sy, 32, 8))).toEqual(new Set([418]));
    await (await request(`${sy.urls['control']}/v1/services/web/faults/1`, { method: 'DELETE' })).body.dump();
    expect(new Set(await statuses(sy, 32, 8))).toEqual(new Set([200]));
    // During a canary, a replacement that fails is retried on the original, and copies are mirrored to it.
    const cd = sdkClient(sy);
    await createWebGroup(cd, { deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes' });
    await deployWeb(cd);
    await until(
      async () =>
        (await (await request(`${sy.urls['control']}/v1/services/web`)).body.json()) as {
          weights: { production: Record<string, number> };
        },
      (v) => v.weights.production['2'] === 10,
      10_000,
    );
    mode.green = 'fail';
    expect(new Set(await statuses(sy, 200, 8))).toEqual(new Set([200]));
    // Every request was mirrored: the copies' answers (green's 500s) are counted apart, never seen by a client.
    await until(
      async () => metric(sy, 'switchyard_mirrored_requests_total{service="web",version="2",code="5xx"}'),
      (mirrored) => mirrored >= 150,
      5_000,
    );
    expect(green.hits).toBeGreaterThanOrEqual(200);
  });

  it('fails to start with the reason when the workers cannot bind the listener', async () => {
    const { blue, green } = await upstreams();
    // The production port is taken by another program.
    const taken = await startUpstream('other');
    const failed = serveWorkers(blue.url, green.url, {
      top: { listeners: { production: { host: '127.0.0.1', port: taken.port } } },
    });
    await expect(failed).rejects.toThrow(
      new RegExp(
        `switchyard exited \\(1\\) before serving:\\n.*production listener cannot bind 127\\.0\\.0\\.1:${taken.port}: EADDRINUSE`,
      ),
    );
    // The port is still the other program's.
    const res = await request(`${taken.url}/`);
    expect(await res.body.text()).toBe('other');
  });

  it('drains both workers on SIGTERM, and a primary killed takes its workers with it', async () => {
    const { blue, green, mode } = await upstreams();
    mode.delayMs = 600;
    const sy = await serveWorkers(blue.url, green.url);
    const pids = workerPids(sy);
    // Six slow requests on six connections, spread over both workers, in flight when SIGTERM comes.
    const slow = Array.from({ length: 6 }, async () => {
      const res = await request(`${sy.urls['production']}/`, { reset: true });
      return { status: res.statusCode, body: await res.body.text() };
    });
    await until(
      async () => blue.hits,
      (n) => n === 6,
      5_000,
    );
    sy.child.kill('SIGTERM');
    const answers = await Promise.all(slow);
    expect(answers).toEqual(Array.from({ length: 6 }, () => ({ status: 200, body: 'blue' })));
    expect(await sy.exit).toEqual({ code: 0, signal: null });
    expect(pids.filter(alive)).toEqual([]);

    const second = await serveWorkers(blue.url, green.url);
    const workers = workerPids(second);
    second.child.kill('SIGKILL');
    await second.exit;
    // No orphan keeps proxying on a table nobody updates.
    await until(
      async () => workers.filter(alive),
      (left) => left.length === 0,
      5_000,
      20,
      'workers gone',
    );
    await expect(request(`${second.urls['production']}/`)).rejects.toThrow();
  });
});

/** Loops of requests that survive a connection cut (counted as failures) until stopped. */
function tolerantLoad(sy: ServedChild, concurrency: number, limit = 20_000) {
  // A connection the primary was handing to a worker as it died is held by node:cluster, never served: the
  // client's timeout ends it.
  const agent = new Agent({ connections: concurrency, headersTimeout: 3_000, bodyTimeout: 3_000 });
  onTestFinished(() => agent.close());
  const seen: { at: number; version: string; status: number }[] = [];
  let failures = 0;
  let running = true;
  let sent = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running && sent < limit) {
      sent++;
      try {
        const res = await request(`${sy.urls['production']}/`, { dispatcher: agent });
        await res.body.dump();
        seen.push({ at: Date.now(), version: String(res.headers['x-switchyard-version']), status: res.statusCode });
      } catch {
        failures++;
        await sleep(5);
      }
    }
  });
  return {
    seen,
    get failures() {
      return failures;
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
