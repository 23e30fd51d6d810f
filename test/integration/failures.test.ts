/**
 * Upstream failures on real sockets: each becomes a small JSON error (or, once the response has begun, a
 * cut connection), is counted against the version that failed, and never takes the proxy down.
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

import { request } from 'undici';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { watchCounts } from '../support/stats-watch.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { closedPort, startUpstream } from '../support/upstream.js';

/** The proxy still answers normally: failures must never have taken it down. */
async function stillServes(sy: Switchyard): Promise<void> {
  const res = await request(`${sy.urls['production']}/alive`, {
    headers: { 'x-switchyard-version': '1' },
  });
  expect(res.statusCode).toBe(200);
  await res.body.dump();
}

/** A green version pinned by the override header, so each test names which version fails. */
function withGreen(blue: string, green: string, extra: Record<string, unknown> = {}) {
  return twoVersions(blue, green, { routing: { overrideHeader: 'x-switchyard-version' }, ...extra });
}

const toGreen = { headers: { 'x-switchyard-version': '2' } };

describe('upstream failures', () => {
  it('answers 502 UPSTREAM_UNREACHABLE when the target refuses the connection', async () => {
    const blue = await startUpstream('blue');
    const sy = await startProxy(withGreen(blue.url, `http://127.0.0.1:${await closedPort()}`));
    const counts = watchCounts(sy);
    for (let i = 0; i < 3; i++) {
      const res = await request(`${sy.urls['production']}/x`, toGreen);
      expect(res.statusCode).toBe(502);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-switchyard-version']).toBe('2');
      const body = (await res.body.json()) as { error: string; message: string };
      expect(body.error).toBe('UPSTREAM_UNREACHABLE');
      expect(body.message).toMatch(/version 2 could not be reached/);
      expect(body.message).toMatch(/ECONNREFUSED/);
    }
    // With a request body still to send, the client gets the same answer rather than a reset.
    const post = await request(`${sy.urls['production']}/x`, {
      ...toGreen,
      method: 'POST',
      body: Buffer.alloc(1024 * 1024, 'p'),
    });
    expect(post.statusCode).toBe(502);
    expect(await post.body.json()).toMatchObject({ error: 'UPSTREAM_UNREACHABLE' });
    await stillServes(sy);
    expect(counts()['2']).toMatchObject({ '2xx': 0, '5xx': 0, error: 4 });
    expect(counts()['1']).toMatchObject({ '2xx': 1, error: 0 });
  });

  it('answers 502 when the target resets the connection before answering', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green', (req) => req.socket.resetAndDestroy());
    const sy = await startProxy(withGreen(blue.url, green.url));
    const counts = watchCounts(sy);
    const res = await request(`${sy.urls['production']}/x`, toGreen);
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toMatchObject({ error: 'UPSTREAM_UNREACHABLE' });
    // A plain close (FIN) before any answer is the same failure to the client.
    green.server.removeAllListeners('request');
    green.server.on('request', (req) => req.socket.destroy());
    const res2 = await request(`${sy.urls['production']}/y`, toGreen);
    expect(res2.statusCode).toBe(502);
    expect(await res2.body.json()).toMatchObject({ error: 'UPSTREAM_UNREACHABLE' });
    await stillServes(sy);
    expect(counts()['2']).toMatchObject({ error: 2, '5xx': 0 });
  });

  it('answers 502 when the target resets while the request body is being sent', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green', (req) => {
      req.once('data', () => req.socket.resetAndDestroy());
    });
    const sy = await startProxy(withGreen(blue.url, green.url));
    const counts = watchCounts(sy);
    const body = Buffer.alloc(4 * 1024 * 1024, 'a');
    const res = await request(`${sy.urls['production']}/upload`, { ...toGreen, method: 'POST', body });
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toMatchObject({ error: 'UPSTREAM_UNREACHABLE' });
    await stillServes(sy);
    expect(counts()['2']).toMatchObject({ error: 1 });
  });

  it('cuts the client connection when the target resets after the headers', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part;');
      setTimeout(() => res.socket?.resetAndDestroy(), 50);
    });
    const sy = await startProxy(withGreen(blue.url, green.url));
    const counts = watchCounts(sy);
    const started = Date.now();
    const res = await request(`${sy.urls['production']}/x`, toGreen);
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-switchyard-version']).toBe('2');
    await expect(res.body.text()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
    await stillServes(sy);
    expect(counts()['2']).toMatchObject({ error: 1, '2xx': 0 });
  });

  it('cuts the client connection when a chunked response stops mid-way', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part;');
      // A clean FIN before the last chunk: the body is truncated, not complete.
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const sy = await startProxy(withGreen(blue.url, green.url));
    const counts = watchCounts(sy);
    const res = await request(`${sy.urls['production']}/x`, toGreen);
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
    await stillServes(sy);
    expect(counts()['2']).toMatchObject({ error: 1, '2xx': 0 });
  });

  it('answers 504 UPSTREAM_TIMEOUT when the target sends no headers in time, and frees the request', async () => {
    const blue = await startUpstream('blue');
    let upstreamClosed = false;
    const green = await startUpstream('green', (req) => {
      req.socket.once('close', () => {
        upstreamClosed = true;
      });
    });
    const sy = await startProxy(withGreen(blue.url, green.url, { upstream: { headersTimeout: '300ms' } }));
    const counts = watchCounts(sy);
    const started = Date.now();
    const res = await request(`${sy.urls['production']}/slow`, toGreen);
    const took = Date.now() - started;
    expect(res.statusCode).toBe(504);
    expect(res.headers['x-switchyard-version']).toBe('2');
    const body = (await res.body.json()) as { error: string; message: string };
    expect(body).toMatchObject({ error: 'UPSTREAM_TIMEOUT' });
    expect(body.message).toMatch(/version 2 timed out/);
    // undici runs headers and body timeouts on a coarse (500 ms) timer wheel.
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2_500);
    await expect.poll(() => upstreamClosed).toBe(true);
    await stillServes(sy);
    expect(counts()['2']).toMatchObject({ error: 1 });
  });

  it('cuts the client connection when the body stalls longer than bodyTimeout', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('then nothing');
    });
    const sy = await startProxy(withGreen(blue.url, green.url, { upstream: { bodyTimeout: '300ms' } }));
    const counts = watchCounts(sy);
    const started = Date.now();
    const res = await request(`${sy.urls['production']}/stall`, toGreen);
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_500);
    await stillServes(sy);
    expect(counts()['2']).toMatchObject({ error: 1, '2xx': 0 });
  });

  describe('connect timeout', () => {
    let worker: Worker | undefined;
    let wake: Int32Array | undefined;
    const fillers: Socket[] = [];

    afterEach(async () => {
      for (const s of fillers.splice(0)) s.destroy();
      if (wake) {
        Atomics.store(wake, 0, 1);
        Atomics.notify(wake, 0);
      }
      await worker?.terminate();
      worker = undefined;
    });

    /**
     * A loopback port whose accept queue is full: a listener in a thread that never runs its event
     * loop (backlog 1), with the queue filled by idle connections. The kernel then drops further SYNs,
     * so a connect attempt hangs exactly as it does to an unresponsive host.
     */
    async function blackHolePort(): Promise<number> {
      wake = new Int32Array(new SharedArrayBuffer(4));
      worker = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
         const server = require('node:net').createServer();
         server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
           parentPort.postMessage(server.address().port);
           Atomics.wait(workerData, 0, 0);
           server.close();
         });`,
        { eval: true, workerData: wake },
      );
      const port = await new Promise<number>((resolve) => worker!.once('message', resolve));
      for (let i = 0; i < 16; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        fillers.push(socket);
        const connected = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 200);
          socket.once('connect', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        if (!connected) return port;
      }
      throw new Error('the accept queue never filled');
    }

    it('answers 504 UPSTREAM_TIMEOUT when the target does not accept the connection in time', async () => {
      const port = await blackHolePort();
      const blue = await startUpstream('blue');
      const sy = await startProxy(
        withGreen(blue.url, `http://127.0.0.1:${port}`, { upstream: { connectTimeout: '300ms' } }),
      );
      const counts = watchCounts(sy);
      const started = Date.now();
      const res = await request(`${sy.urls['production']}/x`, toGreen);
      const took = Date.now() - started;
      expect(res.statusCode).toBe(504);
      const body = (await res.body.json()) as { error: string; message: string };
      expect(body.error).toBe('UPSTREAM_TIMEOUT');
      expect(body.message).toMatch(/CONNECT_TIMEOUT/);
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(2_500);
      await stillServes(sy);
      expect(counts()['2']).toMatchObject({ error: 1 });
    });
  });

  describe('malformed upstream answers', () => {
    /** A raw TCP upstream that answers every request with the given bytes and closes. */
    async function rawUpstream(reply: string): Promise<string> {
      const server = createServer((socket) => {
        socket.on('error', () => undefined);
        socket.once('data', () => socket.end(Buffer.from(reply, 'latin1')));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    it.each([
      ['not HTTP at all', 'garbage\r\n\r\n'],
      ['a control character in a header value', 'HTTP/1.1 200 OK\r\nx-bad: a\x7fb\r\ncontent-length: 2\r\n\r\nok'],
      ['a space in a header name', 'HTTP/1.1 200 OK\r\nx bad: 1\r\ncontent-length: 2\r\n\r\nok'],
      ['two different content-lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok'],
      ['a status below 100', 'HTTP/1.1 099 Odd\r\ncontent-length: 2\r\n\r\nok'],
      ['nothing before closing', ''],
    ])('answers 502 when the target sends %s', async (_what, reply) => {
      const blue = await startUpstream('blue');
      const sy = await startProxy(withGreen(blue.url, await rawUpstream(reply)));
      const counts = watchCounts(sy);
      const res = await request(`${sy.urls['production']}/x`, toGreen);
      expect(res.statusCode).toBe(502);
      expect(await res.body.json()).toMatchObject({ error: 'UPSTREAM_UNREACHABLE' });
      await stillServes(sy);
      expect(counts()['2']).toMatchObject({ error: 1 });
    });

    it('answers a reason phrase Node will not write (UTF-8) with a whole response, and keeps serving', async () => {
      const blue = await startUpstream('blue');
      const reason = Buffer.from('Ошибка', 'utf8').toString('latin1');
      const sy = await startProxy(
        withGreen(blue.url, await rawUpstream(`HTTP/1.1 200 ${reason}\r\ncontent-length: 2\r\n\r\nok`)),
      );
      const res = await request(`${sy.urls['production']}/x`, toGreen);
      // Forwarding the answer without its reason phrase, or a 502, are both whole answers; a hang, a
      // cut connection or a dead listener are not.
      if (res.statusCode === 200) expect(await res.body.text()).toBe('ok');
      else {
        expect(res.statusCode).toBe(502);
        expect(await res.body.json()).toMatchObject({ error: 'UPSTREAM_UNREACHABLE' });
      }
      await stillServes(sy);
      expect(sy.dataPlane!.inFlight).toBe(0);
    });
  });

  it('sends the share of a version with no target to one that has, counted; 503 NO_TARGET when none has', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url, { weights: { '1': 0, '2': 100 } }));
    const counts = watchCounts(sy);
    let greenFailedOver = 0;
    const stop = sy.stats.subscribe((d) => {
      for (const e of d.entries) if (e.version === '2') greenFailedOver += e.failedOver;
    });
    onTestFinished(() => {
      stop();
    });
    const failedOver = () => {
      sy.stats.pull();
      return greenFailedOver;
    };
    const ok = await request(`${sy.urls['production']}/x`);
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toBe('green');
    sy.traffic.setTargets('web', '2', []);
    for (let i = 0; i < 2; i++) {
      const res = await request(`${sy.urls['production']}/x`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-switchyard-version']).toBe('1');
      expect(await res.body.text()).toBe('blue');
    }
    expect(failedOver()).toBe(2);
    // Neither version routable: the picked version answers for it.
    sy.traffic.setTargets('web', '1', []);
    for (let i = 0; i < 2; i++) {
      const res = await request(`${sy.urls['production']}/x`);
      expect(res.statusCode).toBe(503);
      expect(res.headers['x-switchyard-version']).toBe('2');
      const body = (await res.body.json()) as { error: string; message: string };
      expect(body.error).toBe('NO_TARGET');
      expect(body.message).toMatch(/web/);
    }
    expect(green.hits).toBe(1);
    expect(blue.hits).toBe(2);
    expect(counts()['2']).toMatchObject({ '2xx': 1, error: 2 });
    // Targets back: the version is routable again.
    sy.traffic.setTargets('web', '2', [green.url]);
    const back = await request(`${sy.urls['production']}/x`);
    expect(back.statusCode).toBe(200);
    expect(await back.body.text()).toBe('green');
  });

  it('lets a request finish on a target that a table swap retired while it was in flight', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green', (_req, res) => {
      res.writeHead(200);
      res.write('part one;');
      setTimeout(() => res.end('part two'), 300);
    });
    const sy = await startProxy(twoVersions(blue.url, green.url, { weights: { '1': 0, '2': 100 } }));
    const counts = watchCounts(sy);
    const res = await request(`${sy.urls['production']}/x`);
    expect(res.statusCode).toBe(200);
    // The target leaves the table while its answer is still streaming.
    sy.traffic.setTargets('web', '2', []);
    sy.traffic.setWeights('web', { '1': 100 });
    expect(await res.body.text()).toBe('part one;part two');
    const next = await request(`${sy.urls['production']}/x`);
    expect(await next.body.text()).toBe('blue');
    expect(counts()['2']).toMatchObject({ '2xx': 1, error: 0 });
  });

  it('answers 404 NO_ROUTE when no service matches, counting nothing', async () => {
    const blue = await startUpstream('blue');
    const sy = await startProxy({
      services: [{ name: 'api', match: { pathPrefix: '/api' }, versions: { '1': { targets: [blue.url] } }, live: '1' }],
    });
    const counts = watchCounts(sy);
    const res = await request(`${sy.urls['production']}/other`);
    expect(res.statusCode).toBe(404);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-switchyard-version']).toBeUndefined();
    expect(await res.body.json()).toMatchObject({ error: 'NO_ROUTE' });
    expect(counts()).toEqual({});
    expect(blue.hits).toBe(0);
  });

  it('counts upstream 5xx answers as 5xx, not as errors', async () => {
    const blue = await startUpstream('blue', (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('down for maintenance');
    });
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url));
    const counts = watchCounts(sy);
    const res = await request(`${sy.urls['production']}/x`);
    expect(res.statusCode).toBe(503);
    expect(await res.body.text()).toBe('down for maintenance');
    expect(counts()['1']).toMatchObject({ '5xx': 1, error: 0 });
  });

  it('survives a burst of mixed failures with every request answered', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green', (req, res) => {
      if (req.url === '/reset') req.socket.resetAndDestroy();
      else if (req.url === '/cut') {
        res.writeHead(200);
        res.write('x');
        setTimeout(() => res.socket?.resetAndDestroy(), 5);
      } else res.end('ok');
    });
    const sy = await startProxy(withGreen(blue.url, green.url));
    const counts = watchCounts(sy);
    const paths = ['/reset', '/cut', '/ok'];
    const results = await Promise.all(
      Array.from({ length: 90 }, async (_, i) => {
        const path = paths[i % 3]!;
        try {
          const res = await request(`${sy.urls['production']}${path}`, toGreen);
          await res.body.text();
          return `${path}:${res.statusCode}`;
        } catch {
          return `${path}:cut`;
        }
      }),
    );
    expect(results.filter((r) => r === '/reset:502')).toHaveLength(30);
    expect(results.filter((r) => r === '/cut:cut')).toHaveLength(30);
    expect(results.filter((r) => r === '/ok:200')).toHaveLength(30);
    await stillServes(sy);
    expect(counts()['2']).toMatchObject({ '2xx': 30, error: 60 });
    expect(sy.dataPlane!.inFlight).toBe(0);
  });
});
