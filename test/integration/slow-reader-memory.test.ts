/**
 * A client that asks for a large response and never reads it holds only a bounded share of the proxy:
 * the proxy stops reading the target once the client's socket is full, so the target's writes stall far
 * short of the body, and the proxy's memory does not grow with what the target has to offer.
 */
import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';

import { describe, expect, it, onTestFinished } from 'vitest';

import { startProxy } from '../support/switchyard.js';
import { until } from '../support/until.js';
import { startUpstream } from '../support/upstream.js';

const MB = 1024 * 1024;
const BODY = 50 * MB;
const CLIENTS = 4;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** One large response as the target streams it: what it has written and whether a write was refused. */
interface Offer {
  res: ServerResponse;
  written: number;
  pushedBack: boolean;
  closed: boolean;
}

/** Writes `BODY` bytes into `res` as fast as the connection takes them, honouring backpressure. */
function stream(offer: Offer): void {
  const { res } = offer;
  while (offer.written < BODY) {
    offer.written += CHUNK.length;
    if (!res.write(CHUNK)) {
      offer.pushedBack = true;
      res.once('drain', () => stream(offer));
      return;
    }
  }
  res.end();
}

describe('a client that does not read its response', () => {
  it('stalls the target far short of the body and keeps the proxy memory bounded', { timeout: 15_000 }, async () => {
    const offers: Offer[] = [];
    const up = await startUpstream('big', (_req, res) => {
      const offer: Offer = { res, written: 0, pushedBack: false, closed: false };
      offers.push(offer);
      res.once('close', () => {
        offer.closed = true;
      });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BODY) });
      stream(offer);
    });
    const sy = await startProxy({
      services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }],
    });
    const port = sy.addresses['production']!.port;
    const clients: Socket[] = [];
    onTestFinished(() => clients.forEach((c) => c.destroy()));
    const before = process.memoryUsage();
    const started = Date.now();
    for (let i = 0; i < CLIENTS; i++) {
      const socket = connect(port, '127.0.0.1');
      // Never read: the kernel buffers fill, then the proxy's socket refuses further writes.
      socket.pause();
      socket.on('error', () => undefined);
      socket.write(`GET /big/${i} HTTP/1.1\r\nhost: web.test\r\n\r\n`);
      clients.push(socket);
    }
    // Stalled: every target response refused a write and wrote nothing more for a few readings.
    let last = -1;
    let still = 0;
    await until(
      () => {
        const total = offers.reduce((n, o) => n + o.written, 0);
        still = total === last ? still + 1 : 0;
        last = total;
        return { responses: offers.length, pushedBack: offers.every((o) => o.pushedBack), still, total };
      },
      (s) => s.responses === CLIENTS && s.pushedBack && s.still >= 5,
      8_000,
      100,
      'the target stalled',
    );
    // With --expose-gc, garbage is collected first and the buffer figure is what is still held.
    (globalThis as { gc?: () => void }).gc?.();
    const after = process.memoryUsage();
    const rssGrowth = after.rss - before.rss;
    const buffersGrowth = after.arrayBuffers - before.arrayBuffers;
    const written = offers.map((o) => o.written);
    const socketBytes = offers.map((o) => o.res.socket?.bytesWritten ?? 0);
    const figures =
      `target wrote ${written.map((n) => (n / MB).toFixed(1)).join('/')} MB of ${BODY / MB} MB each ` +
      `(socket ${socketBytes.map((n) => (n / MB).toFixed(1)).join('/')} MB), ` +
      `rss +${(rssGrowth / MB).toFixed(1)} MB, buffers +${(buffersGrowth / MB).toFixed(1)} MB, after ${Date.now() - started} ms`;
    for (const n of socketBytes) expect(n, figures).toBeLessThan(BODY / 2);
    for (const n of written) expect(n, figures).toBeLessThan(BODY / 2);
    expect(rssGrowth, figures).toBeLessThan(50 * MB);
    // Buffers allocated (and not yet collected) stay a fraction of what the target offered.
    expect(buffersGrowth, figures).toBeLessThan(30 * MB);
    // A client that leaves frees its upstream request at once.
    clients.forEach((c) => c.destroy());
    await until(() => offers.every((o) => o.closed), Boolean, 5_000, 20, 'the target responses closed');
  });
});
