/**
 * A control plane that proxies nothing itself (`workers: 0`, its state in a throwaway PostgreSQL server's
 * database where one can be started) and two `serve --data-plane` processes, as an operator runs them on
 * real sockets: an exact split across both, a canary followed to 100%, a
 * rollback on an alarm that needs both data planes' failures, a data plane killed and restarted
 * rejoining on the current table, a control plane killed (both serve on the last split) and restarted
 * on its SQLite store (both rejoin and follow it), a wrong token and another protocol refused with clear
 * errors, a silent data plane marked lost after the ack timeout, and a deployment that pauses while a
 * data plane is out of reach beyond the grace.
 */
import { writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';

import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

import { DATA_CHANNEL_PROTOCOL } from '../../src/core/data-channel.js';
import { runCli } from '../support/cli.js';
import { createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { freePort } from '../support/free-port.js';
import { POSTGRES_SKIP, postgresServer } from '../support/postgres.js';
import { alive } from '../support/processes.js';
import { serveChild, type ServedChild } from '../support/serve.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream } from '../support/upstream.js';
import { greens, versionsSeen } from '../support/versions-seen.js';

const dir = tempDir('switchyard-fleet');
const postgres = postgresServer();
const TOKEN = 'fleet-token-0123456789';

let files = 0;

/** Blue and green upstreams answering their names (green fails while `mode.green` is `fail`). */
async function upstreams() {
  const mode = { green: 'ok' as 'ok' | 'fail' };
  const blue = await startUpstream('blue');
  const green = await startUpstream('green', (_req, res: ServerResponse) => {
    if (mode.green === 'fail') res.writeHead(500).end('green broke');
    else res.writeHead(200).end('green');
  });
  return { blue, green, mode };
}

interface ControlOptions {
  readonly top?: Record<string, unknown>;
  readonly control?: Record<string, unknown>;
  /** A SQLite file instead of memory. */
  readonly store?: string;
  readonly file?: string;
}

/** Writes a control plane's config (no listeners of its own here) and starts it. */
async function startControl(blue: string, green: string, options: ControlOptions = {}): Promise<ServedChild> {
  const file = options.file ?? join(dir.path(), `control-${++files}.json`);
  const config = {
    listeners: { production: { host: '127.0.0.1', port: 0 } },
    control: { host: '127.0.0.1', port: 0, ...options.control },
    workers: 0,
    drainTimeout: '2s',
    services: [{ name: 'web', versions: { '1': { targets: [blue] }, '2': { targets: [green] } }, live: '1' }],
    ...options.top,
  };
  await writeFile(file, JSON.stringify(config));
  // The control plane keeps its state in PostgreSQL, as a fleet does, wherever a server can be started.
  const store = options.store ?? (POSTGRES_SKIP ? 'memory' : await postgres.server().createDatabase());
  return serveChild(file, {}, ['--store', store]);
}

/** Starts `serve --data-plane` named `name` following `controlUrl`, on a listener of its own. */
async function startDataPlane(
  controlUrl: string,
  name: string,
  env: NodeJS.ProcessEnv = {},
  port = 0,
): Promise<ServedChild> {
  const file = join(dir.path(), `data-plane-${++files}.json`);
  await writeFile(file, JSON.stringify({ listeners: { production: { host: '127.0.0.1', port } }, drainTimeout: '2s' }));
  return serveChild(file, env, ['--data-plane', '--control', controlUrl, '--name', name]);
}

/** A control plane and two data planes, `a` and `b`, both serving. */
async function fleet(options: ControlOptions = {}) {
  const ups = await upstreams();
  const cp = await startControl(ups.blue.url, ups.green.url, options);
  const [a, b] = await Promise.all([
    startDataPlane(cp.urls['control']!, 'a'),
    startDataPlane(cp.urls['control']!, 'b'),
  ]);
  await until(
    async () => (await planes(cp)).filter((p) => p.state === 'connected' && p.revision > 0).length,
    (n) => n === 2,
    5_000,
  );
  return { ...ups, cp, a, b };
}

interface PlaneView {
  name: string;
  state: string;
  since: number;
  revision: number;
  requests: number;
  listeners: Record<string, string>;
  lastAway?: { ms: number; missedRevisions: number };
}

async function planes(cp: ServedChild, token?: string): Promise<PlaneView[]> {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await request(`${cp.urls['control']}/v1/data-planes`, { headers });
  return ((await res.body.json()) as { dataPlanes: PlaneView[] }).dataPlanes;
}

async function setWeight(cp: ServedChild, percent: number): Promise<void> {
  const res = await request(`${cp.urls['control']}/v1/services/web/weight`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ version: '2', percent }),
  });
  expect(res.statusCode, await res.body.text()).toBe(200);
}

async function webWeight(cp: ServedChild): Promise<number | undefined> {
  const res = await request(`${cp.urls['control']}/v1/services/web`);
  return ((await res.body.json()) as { weights: { production: Record<string, number> } }).weights.production['2'];
}

/** One series of /metrics by its name and labels. */
async function metric(cp: ServedChild, series: string): Promise<number> {
  const text = await (await request(`${cp.urls['control']}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** The versions that answered `n` GETs through a data plane, one keep-alive connection, in order. */
const versions = (dp: ServedChild, n: number) => versionsSeen(dp.urls['production']!, n);

async function deploymentOf(cp: ServedChild, deploymentId: string) {
  return (await sdkClient(cp).send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!;
}

describe('a control plane and two remote data planes', () => {
  it('splits exactly across both, lists them, and counts the sum of both in /metrics', async () => {
    const { cp, a, b, green } = await fleet();
    await setWeight(cp, 10);
    // The API answered once both acknowledged: every request from now on routes by 10%.
    const [seenA, seenB] = await Promise.all([versions(a, 500), versions(b, 500)]);
    // Each data plane's smooth round robin is exact to within one request: two of them, within two.
    expect(Math.abs(greens([...seenA, ...seenB]) - 100)).toBeLessThanOrEqual(2);
    expect(green.hits).toBe(greens([...seenA, ...seenB]));
    await until(
      async () =>
        (await metric(cp, 'switchyard_requests_total{service="web",version="1",code="2xx"}')) +
        (await metric(cp, 'switchyard_requests_total{service="web",version="2",code="2xx"}')),
      (n) => n === 1_000,
      5_000,
    );
    expect(await metric(cp, 'switchyard_data_plane_requests_total{data_plane="a"}')).toBe(500);
    expect(await metric(cp, 'switchyard_data_plane_requests_total{data_plane="b"}')).toBe(500);
    expect(await metric(cp, 'switchyard_data_planes{state="connected"}')).toBe(2);
    expect(await metric(cp, 'switchyard_data_plane_propagation_seconds_count')).toBeGreaterThanOrEqual(1);
    const listed = await planes(cp);
    expect(listed.map((p) => [p.name, p.state, p.requests])).toEqual([
      ['a', 'connected', 500],
      ['b', 'connected', 500],
    ]);
    expect(listed[0]!.listeners['production']).toBe(a.urls['production']);
    // Neither data plane was given the control plane's listener: each bound its own.
    expect(a.urls['production']).not.toBe(b.urls['production']);
  });

  it('follows a canary to 100% on both data planes', async () => {
    const { cp, a, b } = await fleet({ top: { timeScale: 100 } });
    const cd = sdkClient(cp);
    // A 5-minute canary at 100 times: 10% for 3 s, then all.
    await createWebGroup(cd, { deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes' });
    const deploymentId = await deployWeb(cd);
    await until(
      () => webWeight(cp),
      (w) => w === 10,
      10_000,
    );
    // Both route by 10% while the canary holds: exactly 2 in 20 each.
    expect(greens(await versions(a, 20))).toBe(2);
    expect(greens(await versions(b, 20))).toBe(2);
    await until(
      async () => (await deploymentOf(cp, deploymentId)).status,
      (s) => s === 'Succeeded',
      15_000,
      50,
    );
    expect(new Set([...(await versions(a, 10)), ...(await versions(b, 10))])).toEqual(new Set(['2']));
  });

  it('rolls a canary back on an alarm that only the failures of both data planes together breach', async () => {
    const { cp, a, b, mode } = await fleet({
      // Ten requests in the window before the replacement is judged: five from each data plane.
      top: { alarms: { 'green-errors': { kind: 'error-rate', threshold: 0.05, window: '30s', minRequests: 10 } } },
    });
    const cd = sdkClient(cp);
    await createWebGroup(cd, {
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: 'green-errors' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
    });
    const deploymentId = await deployWeb(cd);
    await until(
      () => webWeight(cp),
      (w) => w === 10,
      10_000,
    );
    mode.green = 'fail';
    // Fifty through a: five fail on green, too few to judge.
    expect(greens(await versions(a, 50))).toBe(5);
    await until(
      () => metric(cp, 'switchyard_requests_total{service="web",version="2",code="5xx"}'),
      (n) => n === 5,
      5_000,
    );
    // Everything a served has reached the control plane, and on that alone the replacement is not judged.
    await until(
      async () => metric(cp, 'switchyard_data_plane_requests_total{data_plane="a"}'),
      (n) => n === 50,
      5_000,
    );
    expect((await deploymentOf(cp, deploymentId)).status).toBe('InProgress');
    // Fifty through b: five more, and the sum breaches.
    expect(greens(await versions(b, 50))).toBe(5);
    const info = await until(
      () => deploymentOf(cp, deploymentId),
      (d) => d.status === 'Stopped',
      5_000,
      20,
    );
    expect(info.errorInformation).toMatchObject({ code: 'ALARM_ACTIVE' });
    expect(info.rollbackInfo?.rollbackDeploymentId).toBeDefined();
    // The rollback went out to both at once.
    expect(new Set([...(await versions(a, 20)), ...(await versions(b, 20))])).toEqual(new Set(['1']));
  });

  it('takes back a data plane killed and restarted, on the current table', async () => {
    const { cp, a, b } = await fleet();
    await setWeight(cp, 100);
    a.child.kill('SIGKILL');
    await a.exit;
    await until(
      async () => (await planes(cp)).find((p) => p.name === 'a')?.state,
      (s) => s === 'away',
      5_000,
    );
    // The table moves on while a is gone: b follows, a will be given the newest.
    await setWeight(cp, 50);
    await setWeight(cp, 100);
    const again = await startDataPlane(cp.urls['control']!, 'a');
    expect(new Set(await versions(again, 20))).toEqual(new Set(['2']));
    expect(new Set(await versions(b, 20))).toEqual(new Set(['2']));
    const listed = await planes(cp);
    const revisions = new Set(listed.map((p) => p.revision));
    expect(listed.map((p) => p.state)).toEqual(['connected', 'connected']);
    expect(revisions.size).toBe(1);
  });

  it('serves on the last split when the control plane is killed, and follows it again once restarted', async () => {
    const store = join(dir.path(), `fleet-${++files}.db`);
    const port = await freePort();
    const file = join(dir.path(), `control-${++files}.json`);
    const { cp, a, b, blue, green } = await fleet({ store, control: { port }, file });
    await setWeight(cp, 10);
    cp.child.kill('SIGKILL');
    await cp.exit;
    // Fail static: both keep routing by 10%, exactly.
    const [seenA, seenB] = await Promise.all([versions(a, 500), versions(b, 500)]);
    expect(Math.abs(greens([...seenA, ...seenB]) - 100)).toBeLessThanOrEqual(2);
    expect(alive(a.child.pid!) && alive(b.child.pid!)).toBe(true);
    const back = await startControl(blue.url, green.url, { store, control: { port }, file });
    // They reconnect on their own (back-off of at most 5 s), and say what they missed.
    await until(
      async () => (await planes(back)).filter((p) => p.state === 'connected' && p.revision > 0).length,
      (n) => n === 2,
      10_000,
      50,
    );
    // The restarted control plane kept the split in its store, and its next change reaches both.
    expect(await webWeight(back)).toBe(10);
    await setWeight(back, 100);
    expect(new Set([...(await versions(a, 10)), ...(await versions(b, 10))])).toEqual(new Set(['2']));
    expect(
      a.logs().some((l) => l.msg?.startsWith('rejoined the control plane') && typeof l['awayMs'] === 'number'),
    ).toBe(true);
    // What they served while it was away went up once they were back.
    await until(
      async () =>
        (await metric(back, 'switchyard_data_plane_requests_total{data_plane="a"}')) +
        (await metric(back, 'switchyard_data_plane_requests_total{data_plane="b"}')),
      (n) => n === 1_020,
      5_000,
    );
  }, 40_000);

  it('validates a data plane config offline, and refuses --control without --data-plane', async () => {
    const file = join(dir.path(), `data-plane-${++files}.yml`);
    await writeFile(
      file,
      'listeners:\n  production: { port: 8080 }\n  test: { port: 8081 }\ncontrolPlanes: [http://10.0.0.5:9900]\n',
    );
    const ok = await runCli(['validate', file]);
    expect(ok).toMatchObject({ code: 0, stdout: `${file}: valid data plane config (listeners: production, test)\n` });
    await writeFile(file, 'listeners:\n  production: { port: 8080 }\nservices: []\n');
    const bad = await runCli(['validate', '--data-plane', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('services: unknown key');
    const mixed = await runCli(['serve', '--config', file, '--control', 'http://127.0.0.1:9900']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('--control, --name and --token go with --data-plane');
  });

  it('refuses a wrong token and another protocol version with clear errors', async () => {
    const { blue, green } = await upstreams();
    const cp = await startControl(blue.url, green.url, { control: { auth: { token: TOKEN } } });
    await expect(
      startDataPlane(cp.urls['control']!, 'x', { SWITCHYARD_TOKEN: 'not-the-token-at-all' }),
    ).rejects.toThrow(
      /exited \(1\) before serving:\nerror: the control plane at http:\/\/127\.0\.0\.1:\d+ refused this data plane: 401 UNAUTHORIZED: /,
    );
    const ok = await startDataPlane(cp.urls['control']!, 'y', { SWITCHYARD_TOKEN: TOKEN });
    expect(ok.urls['production']).toMatch(/^http:/);
    // Let in, but its listener's port is taken: it exits with the reason rather than follow without serving.
    const taken = Number(new URL(ok.urls['production']!).port);
    await expect(startDataPlane(cp.urls['control']!, 'w', { SWITCHYARD_TOKEN: TOKEN }, taken)).rejects.toThrow(
      new RegExp(
        `exited \\(1\\) before serving:\\nerror: production listener cannot bind 127\\.0\\.0\\.1:${taken}: EADDRINUSE`,
      ),
    );
    // A data plane of another protocol version is told so, and its connection closed.
    const ws = new WebSocket(`${cp.urls['control']!.replace('http:', 'ws:')}/v1/data-planes/connect`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    onTestFinished(() => ws.terminate());
    const heard: unknown[] = [];
    ws.on('message', (data: RawData) => heard.push(JSON.parse(data.toString())));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, name: 'old', revision: 0 }));
    const code = await new Promise((resolve) => ws.once('close', resolve));
    expect(code).toBe(1008);
    expect(heard).toEqual([
      {
        type: 'failed',
        code: 'PROTOCOL_MISMATCH',
        message: `the data plane speaks data channel protocol 1, the control plane ${DATA_CHANNEL_PROTOCOL}`,
      },
    ]);
    // A peer that sends what is not this protocol is cut off; the control plane goes on.
    const garbled = async (frame: string) => {
      const peer = new WebSocket(`${cp.urls['control']!.replace('http:', 'ws:')}/v1/data-planes/connect`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      onTestFinished(() => peer.terminate());
      const started = new Promise((resolve) => peer.once('message', resolve));
      await new Promise((resolve) => peer.once('open', resolve));
      peer.send(JSON.stringify({ type: 'hello', protocol: DATA_CHANNEL_PROTOCOL, name: 'raw', revision: 0 }));
      await started;
      peer.send(frame);
      return new Promise((resolve) => peer.once('close', resolve));
    };
    expect(await garbled('not json')).toBe(1007);
    expect(await garbled(JSON.stringify({ type: 'stats', delta: { entries: 'many' }, rssBytes: 1 }))).toBe(1006);
    // Neither served, so neither is remembered (nor waited for).
    expect((await planes(cp, TOKEN)).map((p) => [p.name, p.state])).toEqual([['y', 'connected']]);
    // And a data plane whose control plane speaks another version exits with the reason.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    onTestFinished(() => wss.close());
    wss.on('connection', (peer) =>
      peer.on('message', () =>
        peer.send(JSON.stringify({ type: 'start', protocol: 99, table: {}, listeners: {}, statsIntervalMs: 100 })),
      ),
    );
    await new Promise((resolve) => wss.once('listening', resolve));
    const fake = `http://127.0.0.1:${(wss.address() as { port: number }).port}`;
    await expect(startDataPlane(fake, 'z')).rejects.toThrow(
      `exited (1) before serving:\nerror: the control plane speaks data channel protocol 99, this data plane ${DATA_CHANNEL_PROTOCOL}\n`,
    );
  });

  it('marks a silent data plane lost after the ack timeout, answers the change, and takes it back', async () => {
    const { cp, a, b } = await fleet();
    const pid = b.child.pid!;
    process.kill(pid, 'SIGSTOP');
    onTestFinished(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    const asked = Date.now();
    await setWeight(cp, 100);
    const waited = Date.now() - asked;
    // The answer waited for the acknowledgement that never came (2 s), then went on without b.
    expect(waited).toBeGreaterThanOrEqual(1_900);
    expect(waited).toBeLessThan(4_000);
    expect((await planes(cp)).find((p) => p.name === 'b')?.state).toBe('lost');
    expect(
      cp.logs().find((l) => l.msg === 'a data plane did not acknowledge a route table in time: marked lost'),
    ).toMatchObject({ dataPlane: 'b', ackTimeoutMs: 2_000 });
    expect(new Set(await versions(a, 10))).toEqual(new Set(['2']));
    process.kill(pid, 'SIGCONT');
    const back = await until(
      async () => (await planes(cp)).find((p) => p.name === 'b'),
      (p) => p?.state === 'connected' && p.lastAway !== undefined,
      10_000,
      50,
    );
    expect(back!.lastAway!.missedRevisions).toBeGreaterThanOrEqual(1);
    expect(new Set(await versions(b, 10))).toEqual(new Set(['2']));
  }, 30_000);

  it('notices a peer gone silent without a FIN, both ways, within seconds', async () => {
    const { cp, a, b } = await fleet();
    // A control plane stopped dead: no FIN, no answer to pings.
    process.kill(cp.child.pid!, 'SIGSTOP');
    onTestFinished(() => {
      if (alive(cp.child.pid!)) process.kill(cp.child.pid!, 'SIGCONT');
    });
    const stoppedAt = Date.now();
    await until(
      async () =>
        a.logs().some((l) => l.msg === 'the control plane is unreachable: serving the last table, reconnecting'),
      (seen) => seen,
      6_000,
      50,
    );
    // Heartbeat every second, dead after three of silence.
    expect(Date.now() - stoppedAt).toBeLessThan(5_500);
    expect(new Set(await versions(a, 10))).toEqual(new Set(['1']));
    process.kill(cp.child.pid!, 'SIGCONT');
    await until(
      async () => (await planes(cp)).filter((p) => p.state === 'connected').length,
      (n) => n === 2,
      10_000,
      50,
    );
    // The same the other way: a data plane stopped dead is cut off as lost, with no table published.
    process.kill(b.child.pid!, 'SIGSTOP');
    onTestFinished(() => {
      if (alive(b.child.pid!)) process.kill(b.child.pid!, 'SIGKILL');
    });
    await until(
      async () => (await planes(cp)).find((p) => p.name === 'b')?.state,
      (state) => state === 'lost',
      6_000,
      50,
    );
    expect(cp.logs().find((l) => l.msg === 'a data plane is unreachable' && l['dataPlane'] === 'b')).toMatchObject({
      state: 'lost',
      why: 'silent',
    });
  }, 30_000);

  it('drains a data plane on SIGTERM: its requests finish, its last counts go up, and it is shown as left', async () => {
    const ups = await upstreams();
    const slow = await startUpstream('slow', (_req, res: ServerResponse) => {
      setTimeout(() => res.writeHead(200).end('slow'), 500);
    });
    const cp = await startControl(slow.url, ups.green.url);
    const a = await startDataPlane(cp.urls['control']!, 'a');
    const inFlight = Array.from({ length: 4 }, async () => {
      const res = await request(`${a.urls['production']}/`, { reset: true });
      return { status: res.statusCode, body: await res.body.text() };
    });
    await until(
      async () => slow.hits,
      (n) => n === 4,
      5_000,
    );
    a.child.kill('SIGTERM');
    expect(await Promise.all(inFlight)).toEqual(Array.from({ length: 4 }, () => ({ status: 200, body: 'slow' })));
    expect(await a.exit).toEqual({ code: 0, signal: null });
    const left = await until(
      async () => (await planes(cp)).find((p) => p.name === 'a'),
      (p) => p?.state !== 'connected',
      5_000,
    );
    expect(left).toMatchObject({ state: 'left', requests: 4 });
  });

  it('pauses a deployment while a data plane is out of reach beyond the grace, and goes on once it is forgotten', async () => {
    const { cp, b } = await fleet({ control: { dataPlanes: { grace: '300ms' } } });
    b.child.kill('SIGKILL');
    await b.exit;
    const away = await until(
      async () => (await planes(cp)).find((p) => p.name === 'b'),
      (p) => p?.state === 'away',
      5_000,
    );
    // Out of reach beyond the grace (both clocks are this host's).
    await until(
      async () => Date.now() - away!.since,
      (ms) => ms > 400,
      2_000,
    );
    const cd = sdkClient(cp);
    await createWebGroup(cd, { deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes' });
    const deploymentId = await deployWeb(cd);
    const events = async () => {
      const res = await request(`${cp.urls['control']}/v1/deployments/${deploymentId}/events`);
      return ((await res.body.json()) as { events: { message: string; detail: Record<string, unknown> }[] }).events;
    };
    const paused = await until(
      events,
      (e) => e.some((x) => x.message === 'traffic move paused: data planes unreachable'),
      10_000,
      50,
    );
    expect(paused.find((x) => x.message.startsWith('traffic move paused'))!.detail).toMatchObject({
      move: 'AllowTraffic step 1',
      dataPlanes: [{ name: 'b' }],
      graceMs: 300,
    });
    // It waits, it does not fail: nothing moved.
    expect((await deploymentOf(cp, deploymentId)).status).toBe('InProgress');
    expect(await webWeight(cp)).toBe(0);
    const forgotten = await request(`${cp.urls['control']}/v1/data-planes/b`, { method: 'DELETE' });
    expect(forgotten.statusCode).toBe(204);
    await until(
      () => webWeight(cp),
      (w) => w === 10,
      5_000,
    );
    expect((await events()).some((x) => x.message === 'traffic move resumed: every data plane reachable')).toBe(true);
    const unknown = await request(`${cp.urls['control']}/v1/data-planes/b`, { method: 'DELETE' });
    expect(unknown.statusCode).toBe(404);
    const connected = await request(`${cp.urls['control']}/v1/data-planes/a`, { method: 'DELETE' });
    expect(((await connected.body.json()) as { error: string }).error).toBe('DATA_PLANE_CONNECTED');
  });
});
