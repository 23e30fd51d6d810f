/**
 * WebSocket upgrades through the proxy, to `ws` servers on real upstreams: routing by the same split as
 * plain requests, messages both ways, clean closes, and failures on either side that end the tunnel
 * without taking the process down.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

import type { Switchyard } from '../../src/app/start.js';
import { VersionStats } from '../../src/core/stats-recorder.js';
import { CompiledVersion } from '../../src/proxy/compiled-version.js';
import type { Upstream } from '../../src/proxy/pools.js';
import { UpgradeProxy } from '../../src/proxy/websocket.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { until } from '../support/until.js';
import { closedPort, startUpstream, type TestUpstream } from '../support/upstream.js';

interface WsUpstream {
  readonly up: TestUpstream;
  readonly wss: WebSocketServer;
  /** Upgrade requests this upstream received. */
  readonly upgrades: IncomingMessage[];
  /** Server-side sockets, in the order they connected. */
  readonly sockets: WebSocket[];
}

/**
 * An upstream that answers plain requests with its name and WebSocket upgrades with a `ws` server that
 * greets, then echoes each message prefixed with its name (binary messages come back as they are).
 */
async function wsUpstream(name: string): Promise<WsUpstream> {
  const up = await startUpstream(name);
  const wss = new WebSocketServer({ noServer: true });
  const upgrades: IncomingMessage[] = [];
  const sockets: WebSocket[] = [];
  up.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrades.push(req);
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('message', (data: RawData, isBinary: boolean) => {
        if (isBinary) ws.send(data, { binary: true });
        else ws.send(`${name}:${data.toString()}`);
      });
      ws.send(`hello from ${name}`);
    });
  });
  onTestFinished(() => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
  return { up, wss, upgrades, sockets };
}

/** Opens a client WebSocket and waits for the upstream's greeting. */
async function open(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; greeting: string; next: () => Promise<RawData> }> {
  const ws = new WebSocket(url, { headers });
  onTestFinished(() => ws.terminate());
  const queue: RawData[] = [];
  const waiting: ((m: RawData) => void)[] = [];
  ws.on('message', (m: RawData) => {
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const next = () =>
    new Promise<RawData>((resolve, reject) => {
      const m = queue.shift();
      if (m) resolve(m);
      else {
        waiting.push(resolve);
        setTimeout(() => reject(new Error('no message within 2 s')), 2_000).unref();
      }
    });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return { ws, greeting: (await next()).toString(), next };
}

/** Resolves with the status of a refused upgrade. */
function refusedStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve({ code: 1006, reason: '' });
    ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
  });
}

const UPGRADE_REQUEST =
  'GET /socket HTTP/1.1\r\nhost: h\r\nconnection: Upgrade\r\nupgrade: websocket\r\n' +
  'sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

function wsUrl(sy: Switchyard, path = '/socket'): string {
  return `${sy.urls['production']!.replace(/^http/, 'ws')}${path}`;
}

describe('WebSocket tunnels', () => {
  it('goes to the version the split picks and carries messages both ways', async () => {
    const blue = await wsUpstream('blue');
    const green = await wsUpstream('green');
    const sy = await startProxy(twoVersions(blue.up.url, green.up.url, { weights: { '1': 0, '2': 100 } }));

    const { ws, greeting, next } = await open(`${wsUrl(sy)}?room=7`);
    expect(greeting).toBe('hello from green');
    expect(green.upgrades[0]?.url).toBe('/socket?room=7');
    expect(green.upgrades[0]?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(blue.upgrades).toHaveLength(0);

    for (const text of ['one', 'two', 'three']) {
      ws.send(text);
      expect((await next()).toString()).toBe(`green:${text}`);
    }
    // A message larger than any socket buffer, so the tunnel has to stream it both ways.
    const big = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
    ws.send(big);
    expect(Buffer.compare(Buffer.from((await next()) as Buffer), big)).toBe(0);

    green.sockets[0]!.send('pushed by the server');
    expect((await next()).toString()).toBe('pushed by the server');

    const serverSaw = new Promise<[number, string]>((resolve) =>
      green.sockets[0]!.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])),
    );
    const clientSaw = closed(ws);
    ws.close(1000, 'done');
    expect(await serverSaw).toEqual([1000, 'done']);
    expect(await clientSaw).toEqual({ code: 1000, reason: 'done' });
  });

  it('follows the weights: all on the live version by default', async () => {
    const blue = await wsUpstream('blue');
    const green = await wsUpstream('green');
    const sy = await startProxy(twoVersions(blue.up.url, green.up.url));
    const a = await open(wsUrl(sy));
    const b = await open(wsUrl(sy));
    expect([a.greeting, b.greeting]).toEqual(['hello from blue', 'hello from blue']);
    expect(green.upgrades).toHaveLength(0);
  });

  it('is pinned by the override header', async () => {
    const blue = await wsUpstream('blue');
    const green = await wsUpstream('green');
    const sy = await startProxy(twoVersions(blue.up.url, green.up.url, { routing: { overrideHeader: 'x-version' } }));
    const pinned = await open(wsUrl(sy), { 'x-version': '2', 'proxy-authorization': 'Basic c2VjcmV0' });
    expect(pinned.greeting).toBe('hello from green');
    // Credentials for this proxy are not passed on to the upstream.
    expect(green.upgrades[0]?.headers['proxy-authorization']).toBeUndefined();
    expect(green.upgrades[0]?.headers['x-version']).toBe('2');
    const unpinned = await open(wsUrl(sy));
    expect(unpinned.greeting).toBe('hello from blue');
    pinned.ws.send('still green?');
    expect((await pinned.next()).toString()).toBe('green:still green?');
  });

  it('passes the server’s close code and reason to the client', async () => {
    const blue = await wsUpstream('blue');
    const sy = await startProxy(twoVersions(blue.up.url, blue.up.url));
    const { ws } = await open(wsUrl(sy));
    const clientSaw = closed(ws);
    blue.sockets[0]!.close(1001, 'going away');
    expect(await clientSaw).toEqual({ code: 1001, reason: 'going away' });
  });

  it('answers 502 when the chosen target is unreachable, and keeps serving', async () => {
    const blue = await wsUpstream('blue');
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const sy = await startProxy(
      twoVersions(blue.up.url, dead, {
        weights: { '1': 0, '2': 100 },
        routing: { overrideHeader: 'x-version' },
      }),
    );
    expect(await refusedStatus(wsUrl(sy))).toBe(502);
    expect(await refusedStatus(wsUrl(sy))).toBe(502);
    const { greeting } = await open(wsUrl(sy), { 'x-version': '1' });
    expect(greeting).toBe('hello from blue');
    const res = await request(`${sy.urls['production']}/`, { headers: { 'x-version': '1' } });
    expect(await res.body.text()).toBe('blue');
  });

  it('passes an upstream’s refusal of the upgrade to the client', async () => {
    const up = await startUpstream('picky');
    up.server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\ncontent-length: 7\r\n\r\nwho are');
    });
    const sy = await startProxy(twoVersions(up.url, up.url));
    expect(await refusedStatus(wsUrl(sy))).toBe(401);
  });

  it('passes a chunked refusal from an upstream without WebSocket support, framed by the close', async () => {
    // No 'upgrade' listener: node:http answers the upgrade request like any other.
    const plain = await startUpstream('plain', (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.write('no sockets ');
      setTimeout(() => res.end('here'), 10);
    });
    const sy = await startProxy(twoVersions(plain.url, plain.url));
    const data = await new Promise<string>((resolve, reject) => {
      const client = connect(sy.addresses['production']!.port, '127.0.0.1');
      const got: Buffer[] = [];
      client.on('data', (c: Buffer) => got.push(c));
      client.once('error', reject);
      client.once('close', () => resolve(Buffer.concat(got).toString('latin1')));
      client.write(UPGRADE_REQUEST);
    });
    const [head, body] = data.split('\r\n\r\n') as [string, string];
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found');
    expect(head.toLowerCase()).not.toContain('transfer-encoding');
    expect(head.toLowerCase()).toContain('connection: close');
    expect(body).toBe('no sockets here');
  });

  it('survives a client that resets before the upstream answers, and drops the upstream request', async () => {
    const up = await startUpstream('slow');
    const held: Socket[] = [];
    let upstreamClosed = false;
    up.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
      socket.once('end', () => {
        upstreamClosed = true;
      });
      socket.resume();
    });
    // Upgraded sockets are not the upstream server's to close any more.
    onTestFinished(() => {
      for (const s of held) s.destroy();
    });
    const sy = await startProxy(twoVersions(up.url, up.url));
    const client = connect(sy.addresses['production']!.port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write(UPGRADE_REQUEST);
    await until(
      () => held.length,
      (n) => n === 1,
      2_000,
      10,
      'the upstream holding the upgrade',
    );
    client.resetAndDestroy();
    // The upstream's half of a tunnel nobody will use is closed, not left open.
    await until(
      () => upstreamClosed,
      (c) => c,
      2_000,
      10,
      "the upstream's half closed",
    );
    // And the proxy still works.
    const res = await request(`${sy.urls['production']}/`);
    expect(await res.body.text()).toBe('slow');
  });

  it('ends the client’s side when the upstream resets an open tunnel, without writing HTTP into it', async () => {
    const blue = await wsUpstream('blue');
    const sy = await startProxy(twoVersions(blue.up.url, blue.up.url));
    const { ws } = await open(wsUrl(sy));
    const errors: Error[] = [];
    ws.on('error', (e) => errors.push(e));
    const clientSaw = closed(ws);
    (blue.sockets[0] as unknown as { _socket: Socket })._socket.resetAndDestroy();
    expect((await clientSaw).code).toBe(1006);
    // A proxy that answered "502" down an upgraded connection makes the client see an invalid frame.
    expect(errors).toEqual([]);
  });

  it('ends both sides of open tunnels when the proxy shuts down', async () => {
    const blue = await wsUpstream('blue');
    const sy = await startProxy(twoVersions(blue.up.url, blue.up.url), { autoClose: false });
    const { ws } = await open(wsUrl(sy));
    const clientSaw = closed(ws);
    const upstreamSaw = new Promise<number>((resolve) => blue.sockets[0]!.once('close', resolve));
    await sy.close();
    await clientSaw;
    // The upstream must learn the tunnel is gone, or its socket would stay open for good.
    expect(await Promise.race([upstreamSaw.then(() => 'closed'), sleep(2_000, 'still open')])).toBe('closed');
  });
});

describe('UpgradeProxy', () => {
  /** A node:http server that tunnels every upgrade to `target` through one UpgradeProxy. */
  async function tunnelServer(target: string) {
    const stats = new VersionStats('web', '2');
    const version = new CompiledVersion('2', [], stats);
    const parsed = new URL(target);
    const upstream = { url: target, origin: parsed.origin, basePath: '' } as unknown as Upstream;
    const upgrades = new UpgradeProxy();
    const server = createServer((_req, res) => res.end());
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      upgrades.upgrade(req, socket, head, version, upstream, 'x-switchyard-version'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    onTestFinished(async () => {
      upgrades.destroyAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/socket`;
    return { url, stats, upgrades };
  }

  it('names the version on a 101 and counts one 2xx-class outcome per upgrade', async () => {
    const blue = await wsUpstream('blue');
    const { url, stats, upgrades } = await tunnelServer(blue.up.url);
    const ws = new WebSocket(url);
    onTestFinished(() => ws.terminate());
    const upgradeHeaders = await new Promise<IncomingMessage['headers']>((resolve, reject) => {
      ws.once('upgrade', (res: IncomingMessage) => resolve(res.headers));
      ws.once('error', reject);
    });
    expect(upgradeHeaders['x-switchyard-version']).toBe('2');
    await until(
      () => upgrades.open,
      (n) => n === 1,
      2_000,
      10,
      'one tunnel open',
    );
    expect([...stats.counts]).toEqual([1, 0, 0, 0, 0]);
    ws.close();
    await until(
      () => upgrades.open,
      (n) => n === 0,
      2_000,
      10,
      'no tunnel open',
    );
    expect([...stats.counts]).toEqual([1, 0, 0, 0, 0]);
  });

  it('names the version on a refusal and counts it by its status; an unreachable target is an error', async () => {
    const picky = await startUpstream('picky', (_req, res) => {
      res.writeHead(403);
      res.end();
    });
    const refusing = await tunnelServer(picky.url);
    const status = await new Promise<[number, string | string[] | undefined]>((resolve, reject) => {
      const ws = new WebSocket(refusing.url);
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        resolve([res.statusCode ?? 0, res.headers['x-switchyard-version']]);
        ws.terminate();
      });
      ws.once('error', reject);
    });
    expect(status).toEqual([403, '2']);
    expect([...refusing.stats.counts]).toEqual([0, 0, 1, 0, 0]);

    const unreachable = await tunnelServer(`http://127.0.0.1:${await closedPort()}`);
    const ws = new WebSocket(unreachable.url);
    onTestFinished(() => ws.terminate());
    const code = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res: IncomingMessage) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(-1));
    });
    expect(code).toBe(502);
    expect([...unreachable.stats.counts]).toEqual([0, 0, 0, 0, 1]);
  });
});
