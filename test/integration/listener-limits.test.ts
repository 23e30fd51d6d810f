/**
 * What a hostile or broken client can hold on a listener: a connection that never sends its head (or
 * trickles it), an upload that stops, more connections than allowed, a head too large, and a malformed
 * request pipelined behind good ones, which must not corrupt the answers already owed on that connection.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { until } from '../support/until.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

type Handler = (req: IncomingMessage, res: ServerResponse, upstream: TestUpstream) => void;

/** A proxy whose production listener has `limits`, in front of one upstream running `handler`. */
async function proxied(
  handler: Handler,
  limits: Record<string, unknown> = {},
  service: Record<string, unknown> = {},
): Promise<{ sy: Switchyard; up: TestUpstream; port: number }> {
  const up = await startUpstream('green', handler);
  const sy = await startProxy({
    ...twoVersions(up.url, up.url, service),
    listeners: { production: { host: '127.0.0.1', port: 0 }, limits },
  });
  return { sy, up, port: sy.addresses['production']!.port };
}

/** A raw client connection that keeps what it receives and notes when the server closes it. */
interface RawClient {
  readonly socket: Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves with performance.now() when the server has closed (FIN or reset). */
  readonly closed: Promise<number>;
}

function open(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    const closed = new Promise<number>((done) => {
      socket.once('end', () => done(performance.now()));
      socket.once('close', () => done(performance.now()));
    });
    socket.on('data', (chunk: Buffer) => got.push(chunk));
    // A reset is one way of being closed; 'close' follows.
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(got), closed }));
    socket.once('error', reject);
  });
}

/** Fails unless `promise` settles within `ms`; the test's limit, not a handshake. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Splits bytes into whole responses (content-length or chunked); throws on a truncated one. */
function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at);
    if (headEnd < 0) throw new Error(`truncated head: ${data.subarray(at).toString('latin1')}`);
    const [statusLine = '', ...lines] = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const headers = Object.fromEntries(
      lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    at = headEnd + 4;
    let body: Buffer;
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf('\r\n', at);
        if (lineEnd < 0) throw new Error('truncated chunked body');
        const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size)) throw new Error(`bad chunk size at ${data.subarray(at, lineEnd).toString('latin1')}`);
        at = lineEnd + 2;
        if (size === 0) {
          at += 2;
          break;
        }
        if (at + size + 2 > data.length) throw new Error('truncated chunk');
        parts.push(data.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (at + length > data.length) throw new Error('truncated body');
      body = data.subarray(at, at + length);
      at += length;
    }
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body });
  }
  return out;
}

/** The `{error}` code of a JSON error body. */
function errorCode(res: RawResponse | undefined): unknown {
  return res && (JSON.parse(res.body.toString()) as { error?: unknown }).error;
}

/** Upstream handler: answers with the size and SHA-1 of the body it received. */
const digest: Handler = (req, res) => {
  const hash = createHash('sha1');
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  req.on('end', () => res.end(JSON.stringify({ bytes, sha1: hash.digest('hex') })));
};

describe('the request head must arrive within headersTimeout', () => {
  it('answers a client that sends nothing with 408 and closes it within the limit + 1 s', async () => {
    const { port } = await proxied(digest, { headersTimeout: '500ms' });
    const client = await open(port);
    const openedAt = performance.now();
    const closedAt = await within(client.closed, 3_000, 'close of a silent connection');
    expect(closedAt - openedAt).toBeGreaterThanOrEqual(450);
    expect(closedAt - openedAt).toBeLessThan(1_500);
    const [res] = parseResponses(client.received());
    expect(res?.status).toBe(408);
    expect(errorCode(res)).toBe('REQUEST_TIMEOUT');
  });

  it('closes a client that trickles its head a byte at a time, though bytes keep coming', async () => {
    const { port, up } = await proxied(digest, { headersTimeout: '500ms' });
    const client = await open(port);
    const openedAt = performance.now();
    client.socket.write('GET / HTTP/1.1\r\nhost: example.test\r\n');
    // The slowloris client's pace (the fixture): a header byte every 50 ms, never the end of the head.
    const trickle = setInterval(() => client.socket.writable && client.socket.write('x'), 50);
    try {
      const closedAt = await within(client.closed, 3_000, 'close of a trickling connection');
      expect(closedAt - openedAt).toBeLessThan(1_500);
      expect(parseResponses(client.received()).map((r) => r.status)).toEqual([408]);
      expect(up.hits).toBe(0);
    } finally {
      clearInterval(trickle);
      client.socket.destroy();
    }
  });
});

describe('an upload may take as long as it needs, but not stall for longer than bodyTimeout', () => {
  it('cuts an upload that stops, and the upstream request with it', async () => {
    let upstreamRequest: IncomingMessage | undefined;
    const { port } = await proxied(
      (req, res, u) => {
        upstreamRequest = req;
        digest(req, res, u);
      },
      { bodyTimeout: '500ms' },
    );
    const client = await open(port);
    client.socket.write('POST /upload HTTP/1.1\r\nhost: example.test\r\ncontent-length: 1000\r\n\r\n');
    client.socket.write(Buffer.alloc(100, 'a'));
    await until(
      () => upstreamRequest,
      (r) => r !== undefined,
    );
    const stalledAt = performance.now();
    const closedAt = await within(client.closed, 3_000, 'close of a stalled upload');
    expect(closedAt - stalledAt).toBeGreaterThanOrEqual(400);
    expect(closedAt - stalledAt).toBeLessThan(1_500);
    const [res] = parseResponses(client.received());
    expect(res?.status).toBe(408);
    expect(errorCode(res)).toBe('REQUEST_TIMEOUT');
    // The upstream's half-sent request is given up too, not held open.
    await until(
      () => upstreamRequest!.destroyed,
      (destroyed) => destroyed,
    );
    expect(upstreamRequest!.complete).toBe(false);
  });

  it('cuts an upload that stops on a kept-alive connection, after a bodiless request on it', async () => {
    let uploads = 0;
    const { port } = await proxied(
      (req, res, u) => {
        if (req.method === 'POST') uploads++;
        digest(req, res, u);
      },
      { bodyTimeout: '500ms', keepAliveTimeout: '10s' },
    );
    const client = await open(port);
    client.socket.write('GET /first HTTP/1.1\r\nhost: example.test\r\n\r\n');
    await until(
      () => parseResponses(client.received()).length,
      (n) => n === 1,
    );
    client.socket.write('POST /upload HTTP/1.1\r\nhost: example.test\r\ncontent-length: 1000\r\n\r\n');
    client.socket.write(Buffer.alloc(100, 'a'));
    await until(
      () => uploads,
      (n) => n === 1,
    );
    const stalledAt = performance.now();
    const closedAt = await within(client.closed, 3_000, 'close of a stalled upload');
    expect(closedAt - stalledAt).toBeGreaterThanOrEqual(400);
    expect(closedAt - stalledAt).toBeLessThan(1_500);
    expect(parseResponses(client.received()).map((r) => r.status)).toEqual([200, 408]);
  });

  it('streams a slow but steady chunked upload that lasts many times bodyTimeout', async () => {
    const { port } = await proxied(digest, { bodyTimeout: '300ms' });
    const client = await open(port);
    try {
      client.socket.write(
        'POST /upload HTTP/1.1\r\nhost: example.test\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n',
      );
      const hash = createHash('sha1');
      let bytes = 0;
      for (let i = 0; i < 12; i++) {
        // The slow client's pace (the fixture): a chunk every 100 ms, 1.2 s in all.
        await sleep(100);
        const text = `part-${i};`;
        hash.update(text);
        bytes += text.length;
        client.socket.write(`${text.length.toString(16)}\r\n${text}\r\n`);
      }
      client.socket.write('0\r\n\r\n');
      await within(client.closed, 3_000, 'the answer to a slow upload');
      const [res] = parseResponses(client.received());
      expect(res?.status).toBe(200);
      expect(JSON.parse(res!.body.toString())).toEqual({ bytes, sha1: hash.digest('hex') });
    } finally {
      client.socket.destroy();
    }
  });

  it('closes, without a second answer, a connection whose upload stalls after it was answered', async () => {
    // Once answered, the connection waits for its next request: the keep-alive timer runs, not bodyTimeout.
    const { port } = await proxied(
      digest,
      { bodyTimeout: '500ms', keepAliveTimeout: '500ms' },
      { match: { pathPrefix: '/api' } },
    );
    const client = await open(port);
    client.socket.write('POST /elsewhere HTTP/1.1\r\nhost: example.test\r\ncontent-length: 1000\r\n\r\n');
    client.socket.write(Buffer.alloc(100, 'a'));
    await within(client.closed, 3_000, 'close of a stalled upload already answered');
    const responses = parseResponses(client.received());
    expect(responses.map((r) => r.status)).toEqual([404]);
  });

  it('keeps a complete request open while its upstream takes longer than bodyTimeout to answer', async () => {
    const { sy } = await proxied(
      (_req, res) => {
        // The slow upstream (the fixture): it answers after three bodyTimeouts.
        setTimeout(() => res.end('late answer'), 900);
      },
      { bodyTimeout: '300ms' },
    );
    const res = await request(`${sy.urls['production']}/`, { method: 'POST', body: 'small' });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('late answer');
  });
});

describe('keep-alive', () => {
  it('closes a connection idle between requests after keepAliveTimeout', async () => {
    const { port } = await proxied((_req, res) => res.end('ok'), { keepAliveTimeout: '300ms', bodyTimeout: '10s' });
    const client = await open(port);
    client.socket.write('GET / HTTP/1.1\r\nhost: example.test\r\n\r\n');
    await until(
      () => client.received().toString('latin1'),
      (text) => text.endsWith('ok'),
    );
    const answeredAt = performance.now();
    const closedAt = await within(client.closed, 3_000, 'close of an idle keep-alive connection');
    // Node holds a keep-alive connection 1 s past the timeout it advertises, so the client closes first.
    expect(closedAt - answeredAt).toBeGreaterThanOrEqual(250);
    expect(closedAt - answeredAt).toBeLessThan(2_000);
    expect(parseResponses(client.received()).map((r) => r.status)).toEqual([200]);
  });
});

describe('a malformed request pipelined behind good ones', () => {
  it('answers the good request whole and first, then 400, then closes', async () => {
    const { port } = await proxied((_req, res) => res.end('first answer'));
    const client = await open(port);
    client.socket.write('GET /one HTTP/1.1\r\nhost: example.test\r\n\r\nthis is not HTTP\r\n\r\n');
    await within(client.closed, 3_000, 'close after the malformed request');
    const responses = parseResponses(client.received());
    expect(responses.map((r) => r.status)).toEqual([200, 400]);
    expect(responses[0]!.body.toString()).toBe('first answer');
    expect(errorCode(responses[1])).toBe('BAD_REQUEST');
  });

  it('lets a streaming 200 body finish whole before answering the malformed request after it', async () => {
    let release: (() => void) | undefined;
    const { port, sy } = await proxied((req, res) => {
      if (req.url === '/release') {
        release?.();
        res.end('released');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first half;');
      release = () => res.end('second half');
    });
    const client = await open(port);
    client.socket.write('GET /stream HTTP/1.1\r\nhost: example.test\r\n\r\n');
    await until(
      () => client.received().toString('latin1'),
      (text) => text.includes('first half;'),
    );
    await new Promise<void>((resolve) => client.socket.write('GARBAGE\r\n\r\n', () => resolve()));
    // The upstream ends the stream only when asked by a request begun after the garbage was sent, so the
    // proxy has read the garbage (waiting on its socket since before) while the 200 is still streaming.
    const released = await request(`${sy.urls['production']}/release`);
    expect(await released.body.text()).toBe('released');
    await within(client.closed, 3_000, 'close after the streamed answer');
    const responses = parseResponses(client.received());
    expect(responses.map((r) => r.status)).toEqual([200, 400]);
    expect(responses[0]!.body.toString()).toBe('first half;second half');
  });
});

describe('client connections are bounded by maxConnections', () => {
  it('closes the connection past the limit at once while the earlier ones keep working', async () => {
    const { port } = await proxied((_req, res) => res.end('ok'), { maxConnections: 2 });
    const ask = async (client: RawClient, expected: number) => {
      client.socket.write('GET / HTTP/1.1\r\nhost: example.test\r\n\r\n');
      await until(
        () => client.received().toString('latin1'),
        (text) => text.split('HTTP/1.1 200').length - 1 === expected,
      );
    };
    const first = await open(port);
    const second = await open(port);
    try {
      await ask(first, 1);
      await ask(second, 1);
      const third = await open(port);
      await within(third.closed, 2_000, 'close of the connection past the limit');
      expect(third.received().length).toBe(0);
      await ask(first, 2);
      await ask(second, 2);
    } finally {
      first.socket.destroy();
      second.socket.destroy();
    }
  });
});

describe('a request head larger than maxHeaderSize', () => {
  it('answers 431 with the JSON error when its header fields are too large', async () => {
    const { port, up } = await proxied(digest, { maxHeaderSize: '4KiB' });
    const client = await open(port);
    client.socket.write(`GET / HTTP/1.1\r\nhost: example.test\r\nx-big: ${'b'.repeat(5_000)}\r\n\r\n`);
    await within(client.closed, 3_000, 'close after an oversized head');
    const [res] = parseResponses(client.received());
    expect(res?.status).toBe(431);
    expect(errorCode(res)).toBe('HEADERS_TOO_LARGE');
    expect(up.hits).toBe(0);
  });

  it('answers 414 with the JSON error when the request line alone is too long', async () => {
    const { port } = await proxied(digest, { maxHeaderSize: '4KiB' });
    const client = await open(port);
    client.socket.write(`GET /${'u'.repeat(5_000)} HTTP/1.1\r\nhost: example.test\r\n\r\n`);
    await within(client.closed, 3_000, 'close after an overlong URL');
    const [res] = parseResponses(client.received());
    expect(res?.status).toBe(414);
    expect(errorCode(res)).toBe('URI_TOO_LONG');
  });

  it('passes a head just under the limit', async () => {
    const { sy } = await proxied(digest, { maxHeaderSize: '4KiB' });
    const res = await request(`${sy.urls['production']}/`, { headers: { 'x-big': 'b'.repeat(3_000) } });
    expect(res.statusCode).toBe(200);
    await res.body.text();
  });
});
