/**
 * Upgrades to upstreams that do not behave: a target that accepts and never answers, one that refuses
 * the connection, one that refuses the upgrade with an HTTP answer, and a tunnel nobody uses. Each must
 * end with the documented answer to the client and no socket left open on either side.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import {
  type AddressInfo,
  connect,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import type { Duplex } from 'node:stream';

import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';

import { VersionStats } from '../../src/core/stats-recorder.js';
import { CompiledVersion } from '../../src/proxy/compiled-version.js';
import type { Upstream } from '../../src/proxy/pools.js';
import { type UpgradeOptions, UpgradeProxy, type UpgradeTimeouts } from '../../src/proxy/websocket.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { until } from '../support/until.js';
import { closedPort, startUpstream } from '../support/upstream.js';

const UPGRADE_REQUEST =
  'GET /socket HTTP/1.1\r\nhost: h\r\nconnection: Upgrade\r\nupgrade: websocket\r\n' +
  'sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** Short deadlines, so that a test of them takes a fraction of a second. */
const QUICK: UpgradeTimeouts = { connectTimeout: 1_000, headersTimeout: 200 };

/** Open connections of a server, as the kernel sees them accepted and not yet closed. */
function connections(server: Server | NetServer): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

/** A node:http server that tunnels every upgrade to `target` through one UpgradeProxy. */
async function tunnelServer(target: string, timeouts?: UpgradeTimeouts, options?: UpgradeOptions) {
  const stats = new VersionStats('web', '2');
  const version = new CompiledVersion('2', [], stats);
  const parsed = new URL(target);
  const upstream = { url: target, origin: parsed.origin, basePath: '' } as unknown as Upstream;
  const upgrades = new UpgradeProxy(options);
  const server = createServer((_req, res) => res.end());
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    upgrades.upgrade(req, socket, head, version, upstream, 'x-switchyard-version', timeouts),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  onTestFinished(async () => {
    upgrades.destroyAll();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  return { port, url: `ws://127.0.0.1:${port}/socket`, server, stats, upgrades };
}

/** A TCP server that accepts connections and never says anything; it remembers its sockets. */
async function silentServer(): Promise<{ server: NetServer; url: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

interface RawAnswer {
  readonly status: number;
  readonly reason: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Milliseconds from the request to the end of the answer. */
  readonly ms: number;
}

/**
 * Sends one upgrade request on a raw connection and reads until the proxy ends it; rejects if it has not
 * within `withinMs`. The client never closes its own side, as a hostile one would not: that the proxy
 * closes the connection anyway is for the test to check, by counting the proxy's connections.
 */
function rawUpgrade(port: number, withinMs: number, request = UPGRADE_REQUEST): Promise<RawAnswer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    onTestFinished(() => {
      client.destroy();
    });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      client.destroy();
      reject(
        new Error(`no complete answer within ${withinMs} ms; got ${JSON.stringify(Buffer.concat(got).toString())}`),
      );
    }, withinMs);
    client.on('data', (c: Buffer) => got.push(c));
    client.once('error', reject);
    client.once('end', () => {
      clearTimeout(timer);
      const text = Buffer.concat(got).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const [, status = '', ...reason] = statusLine.split(' ');
      resolve({
        status: Number(status),
        reason: reason.join(' '),
        headers,
        body: text.slice(split + 4),
        ms: Date.now() - started,
      });
    });
    client.write(request);
  });
}

/** Checks an answer is the data plane's JSON error with this code, framed for a connection that closes. */
function expectJsonError(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/json');
  expect(answer.headers['connection']).toBe('close');
  expect(answer.headers['cache-control']).toBe('no-store');
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  const body = JSON.parse(answer.body) as { error: string; message: string };
  expect(body.error).toBe(code);
  expect(body.message).toMatch(/^version 2 /);
}

/** Waits (2 s at most) until `server` holds no connection; `what` names them in the failure. */
async function noConnections(server: Parameters<typeof connections>[0], what: string): Promise<void> {
  await until(
    () => connections(server),
    (n) => n === 0,
    2_000,
    10,
    what,
  );
}

describe('upgrades to broken upstreams', () => {
  it('answers 504 JSON when the target accepts and never answers, and closes both sockets', async () => {
    const silent = await silentServer();
    const proxy = await tunnelServer(silent.url, QUICK);
    const answer = await rawUpgrade(proxy.port, 3_000);
    expectJsonError(answer, 504, 'UPSTREAM_TIMEOUT');
    expect(answer.headers['x-switchyard-version']).toBe('2');
    expect(answer.ms).toBeLessThan(2_000);
    expect(silent.sockets).toHaveLength(1);
    // The upstream's socket is closed too, not left for the target to hold.
    await noConnections(silent.server, 'the silent target’s connections');
    await noConnections(proxy.server, 'the proxy’s client connections');
    expect(proxy.upgrades.open).toBe(0);
    expect([...proxy.stats.counts]).toEqual([0, 0, 0, 0, 1]);
  });

  it('answers 502 JSON when the target refuses the connection', async () => {
    const proxy = await tunnelServer(`http://127.0.0.1:${await closedPort()}`, QUICK);
    const answer = await rawUpgrade(proxy.port, 3_000);
    expectJsonError(answer, 502, 'UPSTREAM_UNREACHABLE');
    expect(answer.headers['x-switchyard-version']).toBe('2');
    await noConnections(proxy.server, 'the proxy’s client connections');
    expect(proxy.upgrades.open).toBe(0);
    expect([...proxy.stats.counts]).toEqual([0, 0, 0, 0, 1]);
  });

  it('answers 502 JSON when the target closes the connection without answering', async () => {
    const hangUp = createNetServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', () => resolve()));
    onTestFinished(() => new Promise<void>((resolve) => hangUp.close(() => resolve())));
    const proxy = await tunnelServer(`http://127.0.0.1:${(hangUp.address() as AddressInfo).port}`, QUICK);
    expectJsonError(await rawUpgrade(proxy.port, 3_000), 502, 'UPSTREAM_UNREACHABLE');
    await noConnections(proxy.server, 'the proxy’s client connections');
  });

  it('answers 502 JSON through the whole proxy when the chosen target is unreachable', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const sy = await startProxy(twoVersions(dead, dead, { weights: { '1': 0, '2': 100 } }));
    const answer = await rawUpgrade(sy.addresses['production']!.port, 3_000);
    expectJsonError(answer, 502, 'UPSTREAM_UNREACHABLE');
    expect(answer.headers['x-switchyard-version']).toBe('2');
  });

  it("answers 504 JSON through the whole proxy by the service's own upstream.headersTimeout", async () => {
    const silent = await silentServer();
    const sy = await startProxy(
      twoVersions(silent.url, silent.url, { weights: { '1': 0, '2': 100 }, upstream: { headersTimeout: '200ms' } }),
    );
    const answer = await rawUpgrade(sy.addresses['production']!.port, 3_000);
    expectJsonError(answer, 504, 'UPSTREAM_TIMEOUT');
    expect(answer.ms).toBeLessThan(2_000);
    await until(
      () => silent.sockets.filter((s) => !s.destroyed).length,
      (n) => n === 0,
      2_000,
      10,
      'the target’s open sockets',
    );
  });

  it('relays a 403 refusal of the upgrade as it is: status, headers and body', async () => {
    const picky = await startUpstream('picky', (_req, res) => {
      res.writeHead(403, 'Go Away', {
        'content-type': 'text/plain',
        'content-length': '19',
        'x-reason': 'no token',
      });
      res.end('forbidden: no token');
    });
    const proxy = await tunnelServer(picky.url, QUICK);
    const answer = await rawUpgrade(proxy.port, 3_000);
    expect(answer.status).toBe(403);
    expect(answer.reason).toBe('Go Away');
    expect(answer.headers['content-type']).toBe('text/plain');
    expect(answer.headers['x-reason']).toBe('no token');
    expect(answer.headers['x-switchyard-version']).toBe('2');
    expect(answer.headers['connection']).toBe('close');
    expect(answer.body).toBe('forbidden: no token');
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
    expect([...proxy.stats.counts]).toEqual([0, 0, 1, 0, 0]);
    await noConnections(picky.server, 'the target’s connections');
    await noConnections(proxy.server, 'the proxy’s client connections');
    expect(proxy.upgrades.open).toBe(0);
  });

  it('closes the upstream when the client leaves during a refusal’s body', async () => {
    let upstreamClosed = false;
    const slow = await startUpstream('slow', (req, res) => {
      req.socket.once('close', () => {
        upstreamClosed = true;
      });
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.write('the rest never comes');
    });
    const proxy = await tunnelServer(slow.url, QUICK);
    const client = connect(proxy.port, '127.0.0.1');
    client.on('error', () => undefined);
    const head = new Promise<void>((resolve) => client.once('data', () => resolve()));
    client.write(UPGRADE_REQUEST);
    await head;
    client.destroy();
    await until(
      () => upstreamClosed,
      (c) => c,
      2_000,
      10,
      'the upstream request closed',
    );
    await noConnections(slow.server, 'the target’s connections');
    expect(proxy.upgrades.open).toBe(0);
  });
});

describe('idle tunnels', () => {
  /** A `ws` server on its own port that echoes every message. */
  async function echoServer() {
    const up = await startUpstream('echo');
    const wss = new WebSocketServer({ noServer: true });
    up.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m, binary) => ws.send(m, { binary }))),
    );
    onTestFinished(() => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    });
    return up;
  }

  async function openClient(url: string): Promise<WebSocket> {
    const ws = new WebSocket(url);
    onTestFinished(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return ws;
  }

  it('closes a tunnel with no traffic either way for the idle timeout, on both sides', async () => {
    const echo = await echoServer();
    const proxy = await tunnelServer(echo.url, QUICK, { idleTimeout: 300 });
    const ws = await openClient(proxy.url);
    const opened = Date.now();
    const code = await new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
    expect(code).toBe(1006);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(250);
    await noConnections(echo.server, 'the target’s connections');
    expect(proxy.upgrades.open).toBe(0);
  });

  it('keeps a tunnel that carries messages open past the idle timeout', async () => {
    const echo = await echoServer();
    const proxy = await tunnelServer(echo.url, QUICK, { idleTimeout: 600 });
    const ws = await openClient(proxy.url);
    let closed = false;
    ws.once('close', () => {
      closed = true;
    });
    // Each message waits for its echo, so the gaps between them are what the idle timer sees.
    const until1200 = Date.now() + 1_200;
    while (Date.now() < until1200) {
      const echoed = new Promise<void>((resolve) => ws.once('message', () => resolve()));
      ws.send('ping');
      await echoed;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(closed).toBe(false);
    expect(proxy.upgrades.open).toBe(1);
  });
});
