/**
 * Clients that go away: the upstream request must be aborted at once (its connection freed), nothing
 * counted against the version, and the pool must stay usable even after hundreds of such aborts.
 */
import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';

import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import type { StatsDelta } from '../../src/core/stats-delta.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * An upstream that streams a chunk every 100 ms and never ends, and tracks its open responses;
 * `/quick` is answered at once.
 */
async function streamingUpstream(): Promise<TestUpstream & { open: Set<ServerResponse>; closedEarly: number }> {
  const open = new Set<ServerResponse>();
  const upstream = Object.assign(
    await startUpstream('stream', (req, res) => {
      if (req.url === '/quick') {
        res.end('quick');
        return;
      }
      open.add(res);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('chunk\n');
      const timer = setInterval(() => res.write('chunk\n'), 100);
      res.once('close', () => {
        clearInterval(timer);
        open.delete(res);
        if (!res.writableFinished) upstream.closedEarly++;
      });
    }),
    { open, closedEarly: 0 },
  );
  return upstream;
}

/** Sends a raw GET and resolves once some of the response body has arrived (or after `maxWaitMs`). */
function rawGet(url: string, path: string, maxWaitMs = 5_000): Promise<{ socket: Socket; got: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let got = '';
    const timer = setTimeout(() => resolve({ socket, got }), maxWaitMs);
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      got += chunk;
      if (got.includes('\r\n\r\n') && got.includes('chunk')) {
        clearTimeout(timer);
        resolve({ socket, got });
      }
    });
    socket.write(`GET ${path} HTTP/1.1\r\nhost: test\r\n\r\n`);
  });
}

function collect(sy: Switchyard): () => number {
  const deltas: StatsDelta[] = [];
  sy.stats.subscribe((d) => deltas.push(d));
  return () => {
    sy.stats.pull();
    let n = 0;
    for (const d of deltas) for (const e of d.entries) for (const c of e.counts) n += c;
    return n;
  };
}

/** Proves the proxy (and its pool to `upstream`) still serves promptly. */
async function servesPromptly(sy: Switchyard, count: number): Promise<void> {
  const started = Date.now();
  const statuses = await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await request(`${sy.urls['production']}/quick`);
      await res.body.text();
      return res.statusCode;
    }),
  );
  expect(statuses).toEqual(Array(count).fill(200));
  expect(Date.now() - started).toBeLessThan(2_000);
}

describe('client abort', () => {
  it('aborts the upstream request when the client leaves mid-response', async () => {
    const upstream = await streamingUpstream();
    const sy = await startProxy(twoVersions(upstream.url, upstream.url));
    const counted = collect(sy);
    const { socket, got } = await rawGet(sy.urls['production']!, '/stream');
    expect(got).toMatch(/^HTTP\/1\.1 200/);
    expect(got).toContain('chunk');
    expect(upstream.open.size).toBe(1);
    socket.destroy();
    await expect.poll(() => upstream.open.size, { timeout: 1_000 }).toBe(0);
    expect(upstream.closedEarly).toBe(1);
    await expect.poll(() => sy.dataPlane!.inFlight).toBe(0);
    // The client left; the version did nothing wrong, so nothing is counted against it.
    expect(counted()).toBe(0);
  });

  it('aborts the upstream request when the client leaves before the response starts', async () => {
    let upstreamSawClose = false;
    let answered = false;
    const upstream = await startUpstream('slow', (_req, res) => {
      const timer = setTimeout(() => {
        answered = true;
        res.end('late');
      }, 1_500);
      res.once('close', () => {
        clearTimeout(timer);
        upstreamSawClose = true;
      });
    });
    const sy = await startProxy(twoVersions(upstream.url, upstream.url));
    const { socket } = await rawGet(sy.urls['production']!, '/slow', 100);
    await expect.poll(() => upstream.hits).toBe(1);
    socket.destroy();
    await expect.poll(() => upstreamSawClose, { timeout: 1_000 }).toBe(true);
    expect(answered).toBe(false);
    await expect.poll(() => sy.dataPlane!.inFlight).toBe(0);
  });

  it('survives 500 concurrent clients leaving mid-response without jamming the pool', async () => {
    const upstream = await streamingUpstream();
    const sy = await startProxy(twoVersions(upstream.url, upstream.url));
    const counted = collect(sy);
    const clients = await Promise.all(Array.from({ length: 500 }, () => rawGet(sy.urls['production']!, '/s')));
    expect(clients.filter((c) => c.got.includes('chunk'))).toHaveLength(500);
    expect(upstream.open.size).toBe(500);
    for (const c of clients) c.socket.destroy();
    await expect.poll(() => upstream.open.size, { timeout: 10_000 }).toBe(0);
    expect(upstream.closedEarly).toBe(500);
    await expect.poll(() => sy.dataPlane!.inFlight).toBe(0);
    // The aborted requests' upstream connections are gone, not parked in the pool.
    await expect
      .poll(() => new Promise<number>((resolve) => upstream.server.getConnections((_e, n) => resolve(n))), {
        timeout: 10_000,
      })
      .toBe(0);
    await servesPromptly(sy, 50);
    expect(counted()).toBe(50);
  }, 30_000);

  it('frees queued requests whose clients left while a small pool was busy', async () => {
    const upstream = await streamingUpstream();
    const sy = await startProxy(twoVersions(upstream.url, upstream.url, { upstream: { connections: 10 } }));
    // 10 requests stream; 490 wait in the pool's queue. Every client gives up after 300 ms.
    const clients = await Promise.all(Array.from({ length: 500 }, () => rawGet(sy.urls['production']!, '/s', 300)));
    expect(upstream.open.size).toBe(10);
    for (const c of clients) c.socket.destroy();
    await expect.poll(() => upstream.open.size, { timeout: 10_000 }).toBe(0);
    await expect.poll(() => sy.dataPlane!.inFlight).toBe(0);
    // None of the abandoned queued requests may still reach the upstream. An observation window, not a
    // handshake: one that was still going to be sent would arrive within these 100 ms.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(upstream.hits).toBe(10);
    await servesPromptly(sy, 20);
  }, 30_000);

  it('aborts the upstream request when the client leaves during a slow upload', async () => {
    let received = 0;
    let upstreamAborted = false;
    let upstreamEnded = false;
    const upstream = await startUpstream('sink', (req, res) => {
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      req.on('end', () => {
        upstreamEnded = true;
        res.end('got it');
      });
      req.on('error', () => undefined);
      res.once('close', () => {
        if (!res.writableFinished) upstreamAborted = true;
      });
    });
    const sy = await startProxy(twoVersions(upstream.url, upstream.url));
    const { hostname, port } = new URL(sy.urls['production']!);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /upload HTTP/1.1\r\nhost: test\r\ncontent-length: ${1024 * 1024}\r\n\r\n`);
    socket.write(Buffer.alloc(64 * 1024, 'a'));
    await expect.poll(() => received).toBe(64 * 1024);
    socket.write(Buffer.alloc(16 * 1024, 'b'));
    await expect.poll(() => received).toBe(80 * 1024);
    socket.destroy();
    await expect.poll(() => upstreamAborted, { timeout: 1_000 }).toBe(true);
    expect(upstreamEnded).toBe(false);
    await expect.poll(() => sy.dataPlane!.inFlight).toBe(0);
    const res = await request(`${sy.urls['production']}/upload`, { method: 'POST', body: 'small' });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('got it');
  });

  it('aborts chunked uploads too, and many at once', async () => {
    let aborted = 0;
    const upstream = await startUpstream('sink', (req, res) => {
      req.on('error', () => undefined);
      req.resume();
      req.on('end', () => res.end('ok'));
      res.once('close', () => {
        if (!res.writableFinished) aborted++;
      });
    });
    const sy = await startProxy(twoVersions(upstream.url, upstream.url));
    const { hostname, port } = new URL(sy.urls['production']!);
    const sockets = await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<Socket>((resolve) => {
            const socket = connect(Number(port), hostname, () => {
              socket.write('POST /up HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n');
              socket.write('400\r\n' + 'x'.repeat(0x400) + '\r\n');
              resolve(socket);
            });
            socket.on('error', () => undefined);
          }),
      ),
    );
    await expect.poll(() => upstream.hits, { timeout: 2_000 }).toBe(100);
    for (const s of sockets) s.destroy();
    await expect.poll(() => aborted, { timeout: 2_000 }).toBe(100);
    await expect.poll(() => sy.dataPlane!.inFlight).toBe(0);
    await servesPromptly(sy, 20);
  });
});
