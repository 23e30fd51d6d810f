/**
 * Broken upstreams, written byte by byte on raw sockets: a target that never answers, cuts its head
 * short, sends a status line that is not HTTP/1.1, frames its body two ways at once, resets after an
 * interim response or mid-body, sends more or less body than it declared, or a body where none may be.
 * Before the response head is passed on the client gets the data plane's JSON error; after, its
 * connection is cut (never a clean-looking end of a truncated body). Either way the failure is the
 * target's, and the proxy serves the next request.
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

import { request } from 'undici';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { type OutcomeCounts, watchCounts } from '../support/stats-watch.js';
import { startProxy } from '../support/switchyard.js';
import { until } from '../support/until.js';

/** How a raw upstream answers one request: `head` is its request line and headers; `n` counts from 0. */
type Answer = (socket: Socket, head: string, n: number) => void;

interface RawUpstream {
  readonly url: string;
  /** Connections accepted so far. */
  connections: number;
  /** Connections closed so far (by either side). */
  closed: number;
  /** Request heads received so far, in order. */
  readonly heads: string[];
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

/**
 * A target on a node:net server: every request head it reads (requests here have no body) goes to
 * `answer`, except `GET /ok`, which gets a plain 200 "ok" so a test can tell the target still serves.
 */
async function rawUpstream(answer: Answer): Promise<RawUpstream> {
  const sockets = new Set<Socket>();
  const up = { connections: 0, closed: 0, heads: [] as string[] } as {
    -readonly [K in keyof RawUpstream]: RawUpstream[K];
  };
  const server = createServer((socket) => {
    up.connections++;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      up.closed++;
    });
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        const n = up.heads.push(head) - 1;
        if (head.startsWith('GET /ok ')) socket.write(OK);
        else answer(socket, head, n);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return up;
}

/** What a raw client saw: every byte, and whether the proxy closed (FIN), reset, or left it open. */
interface Seen {
  readonly data: Buffer;
  readonly end: 'fin' | 'reset' | 'open';
}

/**
 * Sends `text` on a fresh connection and collects what comes back until the proxy closes it, or until
 * `settled` says the bytes so far are a whole answer (then `end` is 'open'). Rejects if neither happens
 * within 5 s: a hanging client is a failure in itself.
 */
function rawRequest(port: number, text: string, settled?: (data: Buffer) => boolean): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    const done = (end: Seen['end']): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(got), end });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`client left hanging with: ${Buffer.concat(got).toString('latin1')}`));
    }, 5_000);
    socket.on('data', (chunk: Buffer) => {
      got.push(chunk);
      if (settled?.(Buffer.concat(got))) done('open');
    });
    socket.once('error', () => done('reset'));
    socket.once('end', () => done('fin'));
    socket.write(text);
  });
}

interface Parsed {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** Whether the body was whole as its framing declared it (a terminating chunk, all the bytes). */
  readonly complete: boolean;
  /** Bytes after the first response. */
  readonly rest: Buffer;
}

/** Parses the first response in `data`; `bodiless` for HEAD, 204 and 304 answers. */
function parse(data: Buffer, bodiless = false): Parsed {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error(`no whole head in: ${data.toString('latin1')}`);
  const lines = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(lines.shift()!.slice(9, 12));
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let at = headEnd + 4;
  if (bodiless || status === 204 || status === 304) {
    return { status, headers, body: Buffer.alloc(0), complete: true, rest: data.subarray(at) };
  }
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = data.indexOf('\r\n', at);
      if (lineEnd < 0) return { status, headers, body: Buffer.concat(parts), complete: false, rest: Buffer.alloc(0) };
      const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        const complete = data.indexOf('\r\n', lineEnd + 2) === lineEnd + 2;
        return { status, headers, body: Buffer.concat(parts), complete, rest: data.subarray(lineEnd + 4) };
      }
      if (data.length < lineEnd + 2 + size + 2) {
        parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
        return { status, headers, body: Buffer.concat(parts), complete: false, rest: Buffer.alloc(0) };
      }
      parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = Number(headers['content-length'] ?? Number.NaN);
  if (Number.isNaN(length)) return { status, headers, body: data.subarray(at), complete: true, rest: Buffer.alloc(0) };
  const body = data.subarray(at, at + length);
  return { status, headers, body, complete: body.length === length, rest: data.subarray(at + length) };
}

/** Whether `data` holds one whole response (and so a keep-alive client has its answer). */
function whole(bodiless = false): (data: Buffer) => boolean {
  return (data) => data.includes('\r\n\r\n') && parse(data, bodiless).complete;
}

const NONE: OutcomeCounts = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 };

/** Everything the data plane counted for version "1" since the call, pulled on demand. */
function watch(sy: Switchyard): () => OutcomeCounts {
  const counts = watchCounts(sy);
  return () => counts()['1'] ?? NONE;
}

/** A proxy whose one version is `up`, with a short headers timeout so a silent target fails fast. */
async function proxyTo(up: RawUpstream): Promise<{ sy: Switchyard; port: number; counts: () => OutcomeCounts }> {
  const sy = await startProxy({
    services: [
      {
        name: 'web',
        versions: { '1': { targets: [up.url] } },
        live: '1',
        upstream: { headersTimeout: '300ms', bodyTimeout: '2s' },
      },
    ],
  });
  return { sy, port: sy.addresses['production']!.port, counts: watch(sy) };
}

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nhost: web.test\r\nconnection: close\r\n\r\n`;

/** The target itself still answers through the proxy, on a fresh client connection. */
async function stillServes(port: number): Promise<void> {
  const seen = await rawRequest(port, GET('/ok'));
  const res = parse(seen.data);
  expect([res.status, res.body.toString()]).toEqual([200, 'ok']);
}

/** A JSON error answer with the given status and code; its message, returned. */
function expectError(seen: Seen, status: number, code: string): string {
  const res = parse(seen.data);
  expect(res.status, seen.data.toString('latin1')).toBe(status);
  expect(res.headers['content-type']).toBe('application/json');
  expect(res.complete).toBe(true);
  const body = JSON.parse(res.body.toString()) as { error: string; message: string };
  expect(body.error).toBe(code);
  return body.message;
}

/** A response cut short: the head as sent, part of the body, then the connection closed. */
function expectCut(seen: Seen, partial: string): Parsed {
  expect(seen.end).not.toBe('open');
  const res = parse(seen.data);
  expect(res.status).toBe(200);
  expect(res.complete).toBe(false);
  expect(res.body.toString()).toBe(partial);
  return res;
}

describe('a target that fails before its response head', () => {
  it('answers 504 UPSTREAM_TIMEOUT when the target accepts and never answers', async () => {
    const up = await rawUpstream(() => undefined);
    const { port, counts } = await proxyTo(up);
    const started = Date.now();
    const seen = await rawRequest(port, GET('/silent'));
    expectError(seen, 504, 'UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_500);
    await stillServes(port);
    expect(counts()).toMatchObject({ '2xx': 1, error: 1 });
  });

  it('answers 502 UPSTREAM_UNREACHABLE when the head is cut short by a close', async () => {
    const up = await rawUpstream((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/pl'));
    const { port, counts } = await proxyTo(up);
    expectError(await rawRequest(port, GET('/half')), 502, 'UPSTREAM_UNREACHABLE');
    await stillServes(port);
    expect(counts()).toMatchObject({ '2xx': 1, error: 1 });
  });

  const invalid: [string, string][] = [
    ['a status that is not a number', 'HTTP/1.1 abc OK\r\ncontent-length: 0\r\n\r\n'],
    ['HTTP/2 in the status line', 'HTTP/2 200\r\ncontent-length: 0\r\n\r\n'],
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\ncontent-length: 0\r\n\r\n'],
    ['status 000', 'HTTP/1.1 000 Zero\r\ncontent-length: 0\r\n\r\n'],
    ['status 099', 'HTTP/1.1 099 Low\r\ncontent-length: 0\r\n\r\n'],
    ['garbage', 'garbage\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nbad header line\r\ncontent-length: 0\r\n\r\n'],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!'],
    ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\ncontent-length: 5x\r\n\r\nhello'],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\nhello'],
    [
      'a 101 to a request that asked for no upgrade',
      'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n',
    ],
    ['a 70 kB header', `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70_000)}\r\ncontent-length: 0\r\n\r\n`],
    [
      'Transfer-Encoding gzip, chunked',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    ],
    [
      'Transfer-Encoding gzip in two lines',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    ],
    ['Transfer-Encoding gzip to the close', 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nhello'],
  ];
  it.each(invalid)('answers 502 to %s, with the target leaving its socket open', async (_what, response) => {
    const up = await rawUpstream((socket) => socket.write(response));
    const { port, counts } = await proxyTo(up);
    const message = expectError(await rawRequest(port, GET('/bad')), 502, 'UPSTREAM_UNREACHABLE');
    expect(message).toMatch(/^version 1 sent (an invalid response|a response that cannot be forwarded) \(/);
    await stillServes(port);
    expect(counts()).toMatchObject({ '2xx': 1, error: 1 });
  });

  it('answers 502 to a response framed by both Content-Length and Transfer-Encoding', async () => {
    const up = await rawUpstream((socket) =>
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-length: 50\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      ),
    );
    const { port, counts } = await proxyTo(up);
    expectError(await rawRequest(port, GET('/both')), 502, 'UPSTREAM_UNREACHABLE');
    await stillServes(port);
    expect(counts()).toMatchObject({ '2xx': 1, error: 1 });
  });

  it('answers 504 when the head trickles in a byte at a time past the headers timeout', async () => {
    const timers: NodeJS.Timeout[] = [];
    onTestFinished(() => timers.forEach(clearInterval));
    const up = await rawUpstream((socket) => {
      const head = 'HTTP/1.1 200 OK\r\n' + 'x-slow: 1\r\n'.repeat(1_000);
      let at = 0;
      timers.push(setInterval(() => socket.writable && socket.write(head[at++ % head.length]!), 20));
    });
    const { port, counts } = await proxyTo(up);
    expectError(await rawRequest(port, GET('/trickle')), 504, 'UPSTREAM_TIMEOUT');
    await stillServes(port);
    expect(counts()).toMatchObject({ '2xx': 1, error: 1 });
  });

  it('answers 502 when the target resets after an interim response', async () => {
    const up = await rawUpstream((socket) => {
      socket.write('HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n', () =>
        socket.resetAndDestroy(),
      );
    });
    const { port, counts } = await proxyTo(up);
    const seen = await rawRequest(port, GET('/hints'));
    expect(seen.data.toString('latin1')).not.toContain('103');
    expectError(seen, 502, 'UPSTREAM_UNREACHABLE');
    await stillServes(port);
    expect(counts()).toMatchObject({ '2xx': 1, error: 1 });
  });
});

describe('a target that fails after its response head', () => {
  let release: (() => void) | undefined;
  afterEach(() => breakOff());

  /** Lets the target break off, once. */
  function breakOff(): void {
    const r = release;
    release = undefined;
    r?.();
  }

  /** A target that sends `head` and `part`, then, once the client has `part`, `ends` its socket. */
  async function cutAfter(head: string, part: string, ends: (s: Socket) => void): Promise<RawUpstream> {
    const up = await rawUpstream((socket) => {
      socket.write(head + part);
      release = () => ends(socket);
    });
    return up;
  }

  const cuts = [
    ['a reset mid chunked body', 'transfer-encoding: chunked', '5\r\nhello\r\n', 'reset'],
    ['a close mid chunked body', 'transfer-encoding: chunked', '5\r\nhello\r\n', 'close'],
    ['a reset mid Content-Length body', 'content-length: 100', 'hello', 'reset'],
    ['a close before Content-Length is reached', 'content-length: 100', 'hello', 'close'],
  ] as const;
  it.each(cuts)('cuts the client connection on %s, with no terminating chunk', async (_what, framing, part, how) => {
    const up = await cutAfter(`HTTP/1.1 200 OK\r\n${framing}\r\n\r\n`, part, (s) =>
      how === 'reset' ? s.resetAndDestroy() : s.end(),
    );
    const { port, counts } = await proxyTo(up);
    const seen = rawRequest(port, GET('/cut'), (data) => {
      // Once the client holds the first part, the target breaks off.
      if (data.includes('hello')) breakOff();
      return false;
    });
    const res = expectCut(await seen, 'hello');
    if (framing.startsWith('content-length')) expect(res.headers['content-length']).toBe('100');
    else expect((await seen).data.toString('latin1')).not.toMatch(/\r\n0\r\n/);
    await stillServes(port);
    await until(counts, (c) => c.error === 1, 2_000, 10, 'the cut counted as an error');
    expect(counts()).toMatchObject({ '2xx': 1, error: 1 });
  });

  it('cuts the client connection when the chunked framing breaks after the head', async () => {
    const up = await rawUpstream((socket) =>
      socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n'),
    );
    const { port, counts } = await proxyTo(up);
    const seen = await rawRequest(port, GET('/framing'));
    expect(seen.data.toString('latin1')).not.toMatch(/\r\n0\r\n/);
    expect(parse(seen.data).complete).toBe(false);
    await stillServes(port);
    await until(counts, (c) => c.error === 1, 2_000, 10, 'the cut counted as an error');
    expect(counts()).toMatchObject({ '2xx': 1, error: 1 });
  });

  it('passes exactly the declared length of a longer body, and never reads the surplus as a response', async () => {
    const surplus = 'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nsmuggled';
    const up = await rawUpstream((socket, head) => {
      if (head.startsWith('GET /long ')) socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello${surplus}`);
      // A request that reached the same connection with the surplus still unread would get it as its answer.
      else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nright');
    });
    const { port, counts } = await proxyTo(up);
    const keepAlive = (path: string): string => `GET ${path} HTTP/1.1\r\nhost: web.test\r\n\r\n`;
    const first = await rawRequest(port, keepAlive('/long'), whole());
    const res = parse(first.data);
    expect([res.status, res.headers['content-length'], res.body.toString()]).toEqual([200, '5', 'hello']);
    expect(res.rest.length).toBe(0);
    for (let i = 0; i < 3; i++) {
      const next = parse((await rawRequest(port, keepAlive('/next'), whole())).data);
      expect(next.body.toString()).toBe('right');
    }
    // The connection that carried the surplus was dropped, and the next requests went on a new one.
    expect([up.connections, up.closed]).toEqual([2, 1]);
    await stillServes(port);
    expect(counts()).toMatchObject({ '2xx': 5 });
  });

  it('drops a connection on which the surplus arrives after the response, while it is idle', async () => {
    let late: Socket | undefined;
    const up = await rawUpstream((socket, head) => {
      if (!head.startsWith('GET /long ')) return void socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nright');
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello');
      late = socket;
    });
    const { port, counts } = await proxyTo(up);
    const keepAlive = (path: string): string => `GET ${path} HTTP/1.1\r\nhost: web.test\r\n\r\n`;
    expect(parse((await rawRequest(port, keepAlive('/long'), whole())).data).body.toString()).toBe('hello');
    late!.write('HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nsmuggled');
    await until(
      () => up.closed,
      (n) => n === 1,
      2_000,
      10,
      'the connection with the surplus dropped',
    );
    const next = parse((await rawRequest(port, keepAlive('/next'), whole())).data);
    expect(next.body.toString()).toBe('right');
    expect(up.connections).toBe(2);
    expect(counts()).toMatchObject({ '2xx': 2, error: 0 });
  });
});

describe('responses that have no body whatever their headers say', () => {
  /**
   * Sends `first` and then a plain GET on one keep-alive connection: the second answer arriving whole
   * and in place shows the first had no body and left nothing behind.
   */
  async function twoOnOneConnection(port: number, first: string): Promise<{ a: Parsed; b: Parsed }> {
    const text = `${first}GET /ok HTTP/1.1\r\nhost: web.test\r\nconnection: close\r\n\r\n`;
    const seen = await rawRequest(port, text);
    const a = parse(seen.data, first.startsWith('HEAD'));
    const b = parse(a.rest);
    return { a, b };
  }

  const cases = [
    ['204 with Content-Length and no body', 'GET', 'HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n'],
    ['204 with Content-Length and a body', 'GET', 'HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\nhello'],
    [
      '304 with Content-Length and no body',
      'GET',
      'HTTP/1.1 304 Not Modified\r\netag: "a"\r\ncontent-length: 5\r\n\r\n',
    ],
    [
      '304 with Content-Length and a body',
      'GET',
      'HTTP/1.1 304 Not Modified\r\netag: "a"\r\ncontent-length: 5\r\n\r\nhello',
    ],
    ['HEAD with Content-Length', 'HEAD', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n'],
    ['HEAD with Content-Length and a body', 'HEAD', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello'],
  ] as const;
  it.each(cases)('answers a %s without a body and keeps serving', async (_what, method, response) => {
    const up = await rawUpstream((socket) => socket.write(response));
    const { port, counts } = await proxyTo(up);
    const { a, b } = await twoOnOneConnection(port, `${method} /x HTTP/1.1\r\nhost: web.test\r\n\r\n`);
    const status = Number(response.slice(9, 12));
    expect(a.status).toBe(status);
    // RFC 9110 §8.6: no Content-Length on a 204; a 304 and a HEAD answer may state the length they stand for.
    expect(a.headers['content-length']).toBe(status === 204 ? undefined : '5');
    expect(a.headers['transfer-encoding']).toBeUndefined();
    expect([b.status, b.body.toString()]).toEqual([200, 'ok']);
    expect(b.rest.length).toBe(0);
    const done = status === 304 ? { '3xx': 1, '2xx': 1 } : { '2xx': 2 };
    expect(counts()).toMatchObject({ ...done, error: 0 });
  });
});

describe('a target whose responses are broken', () => {
  it('is ejected by outlier detection like one that refuses connections', async () => {
    const broken = [
      (socket: Socket) => socket.write('garbage\r\n\r\n'),
      (socket: Socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello'),
      (socket: Socket) => socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nhello'),
    ];
    const bad = await rawUpstream((socket, _head, n) => broken[n % broken.length]!(socket));
    const good = await rawUpstream((socket) => socket.write(OK));
    const sy = await startProxy({
      upstream: { outlierDetection: { consecutiveFailures: 3, ejectionTime: '30s', maxEjectionTime: '30s' } },
      services: [{ name: 'web', versions: { '1': { targets: [bad.url, good.url] } }, live: '1' }],
    });
    const port = sy.addresses['production']!.port;
    // Round robin: the broken target gets every other request, and its third failure ejects it.
    for (let i = 0; i < 6; i++) await rawRequest(port, GET(`/r${i}`));
    expect(bad.heads.length).toBe(3);
    for (let i = 0; i < 4; i++) await stillServes(port);
    expect(bad.heads.length).toBe(3);
    sy.stats.pull();
    const res = await request(`${sy.urls['control']}/v1/services/web`);
    const { health } = (await res.body.json()) as { health: Record<string, { state: string }[]> };
    expect(health['1']!.map((t) => t.state)).toEqual(['ejected', expect.not.stringMatching('ejected')]);
  });
});
