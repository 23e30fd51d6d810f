/**
 * HTTP/1.1 semantics through the proxy, checked on both sides: what the upstream received (its raw
 * headers) and what the client got back (exact bytes from a raw socket where framing matters).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';

import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { exchange } from '../support/raw-exchange.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

type Handler = (req: IncomingMessage, res: ServerResponse, upstream: TestUpstream) => void;

/** A proxy whose only routable version is an upstream running `handler`. */
async function proxied(
  handler: Handler,
  extra: Record<string, unknown> = {},
): Promise<{ sy: Switchyard; up: TestUpstream; port: number }> {
  const up = await startUpstream('green', handler);
  const unused = await startUpstream('blue');
  const config = twoVersions(unused.url, up.url, { weights: { '1': 0, '2': 100 } });
  const sy = await startProxy({ ...config, ...extra });
  return { sy, up, port: sy.addresses['production']!.port };
}

interface RawResponse {
  readonly statusLine: string;
  readonly headers: [string, string][];
  readonly body: Buffer;
  /** The body exactly as framed on the wire (chunk sizes included). */
  readonly wireBody: Buffer;
}

/** Values of one header, by case-insensitive name, in order. */
function all(res: RawResponse, name: string): string[] {
  return res.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/**
 * Splits a byte stream into responses. `bodiless[i]` says that the i-th final (non-1xx) response has no
 * body whatever its headers say (HEAD, 204, 304), which is exactly what a proxy that framed it wrongly would get wrong.
 */
function parseResponses(data: Buffer, bodiless: boolean[]): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  let finals = 0;
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at);
    if (headEnd < 0) throw new Error(`truncated head: ${data.subarray(at).toString('latin1')}`);
    const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const statusLine = lines.shift()!;
    const headers = lines.map((l): [string, string] => {
      const colon = l.indexOf(':');
      return [l.slice(0, colon), l.slice(colon + 1).trim()];
    });
    const res: { -readonly [K in keyof RawResponse]: RawResponse[K] } = {
      statusLine,
      headers,
      body: Buffer.alloc(0),
      wireBody: Buffer.alloc(0),
    };
    at = headEnd + 4;
    const start = at;
    const te = all(res, 'transfer-encoding');
    const cl = all(res, 'content-length');
    const informational = /^HTTP\/1\.1 1\d\d/.test(statusLine);
    if (informational || bodiless[finals]) {
      // no body
    } else if (te.length) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf('\r\n', at);
        const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
        at = lineEnd + 2;
        if (size === 0) {
          at = data.indexOf('\r\n\r\n', at - 2) + 4;
          break;
        }
        parts.push(data.subarray(at, at + size));
        at += size + 2;
      }
      res.body = Buffer.concat(parts);
    } else if (cl.length) {
      res.body = data.subarray(at, at + Number(cl[0]));
      at += res.body.length;
    } else {
      res.body = data.subarray(at);
      at = data.length;
    }
    res.wireBody = data.subarray(start, at);
    out.push(res);
    if (!informational) finals++;
  }
  return out;
}

/** Upstream handler that answers with what it received, as JSON. */
const echo: Handler = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        body: body.toString(),
        bodySha1: createHash('sha1').update(body).digest('hex'),
      }),
    );
  });
};

interface Echoed {
  method: string;
  url: string;
  rawHeaders: string[];
  body: string;
  bodySha1: string;
}

function names(raw: readonly string[]): string[] {
  return raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

describe('request line, status and headers', () => {
  it('keeps method, path and query byte for byte', async () => {
    const { sy } = await proxied(echo);
    const path = '/a%20b/c;p=1/%E2%9C%93//d?x=1&y=%2F&x=2&empty=&flag#';
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND']) {
      const res = await request(`${sy.urls['production']}${path.slice(0, -1)}`, {
        method,
        body: method === 'POST' || method === 'PUT' ? `body of ${method}` : null,
      });
      expect(res.statusCode).toBe(200);
      const got = (await res.body.json()) as Echoed;
      expect(got.method).toBe(method);
      expect(got.url).toBe(path.slice(0, -1));
      if (method === 'POST' || method === 'PUT') expect(got.body).toBe(`body of ${method}`);
    }
  });

  it('keeps the status code and reason phrase, known or not', async () => {
    const { port } = await proxied((req, res) => {
      const [code, reason] = req.url!.slice(1).split('/');
      res.statusCode = Number(code);
      res.statusMessage = decodeURIComponent(reason!);
      res.end('x');
    });
    for (const [code, reason] of [
      [200, 'Fine Thanks'],
      [201, 'Created'],
      [418, "I'm a teapot"],
      [451, 'Unavailable For Legal Reasons'],
      [599, 'Network Connect Timeout'],
      [503, 'Back Soon'],
    ] as const) {
      const data = await exchange(
        port,
        `GET /${code}/${encodeURIComponent(reason)} HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n`,
      );
      const [res] = parseResponses(data, [false]);
      expect(res!.statusLine).toBe(`HTTP/1.1 ${code} ${reason}`);
      expect(res!.body.toString()).toBe('x');
    }
  });

  it('passes repeated response headers as separate fields, in order and with their case', async () => {
    const { sy, port } = await proxied((_req, res) => {
      res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; HttpOnly', 'c=3, with comma; Secure']);
      res.setHeader('X-Multi', ['one', 'two']);
      res.setHeader('X-Mixed-Case', 'yes');
      res.setHeader('WWW-Authenticate', ['Basic realm="a"', 'Bearer']);
      res.end('ok');
    });
    const [raw] = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n'), [
      false,
    ]);
    expect(all(raw!, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; HttpOnly', 'c=3, with comma; Secure']);
    expect(all(raw!, 'x-multi')).toEqual(['one', 'two']);
    expect(all(raw!, 'www-authenticate')).toEqual(['Basic realm="a"', 'Bearer']);
    expect(raw!.headers.map(([n]) => n)).toContain('X-Mixed-Case');

    const res = await request(`${sy.urls['production']}/`);
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly', 'c=3, with comma; Secure']);
    await res.body.dump();
  });

  it('passes repeated request headers as separate fields, in order and with their case', async () => {
    const { port, up } = await proxied(echo);
    await exchange(
      port,
      'GET /dup HTTP/1.1\r\nHost: example.test\r\nX-Dup: a\r\nCookie: s=1\r\nx-dup: b\r\n' +
        'Cookie: t=2\r\nAccept: text/html\r\nAccept: application/json\r\nX-Camel-Case: v\r\nconnection: close\r\n\r\n',
    );
    const raw = up.lastRawHeaders!;
    const pairs = (name: string) =>
      raw.flatMap((n, i) => (i % 2 === 0 && n.toLowerCase() === name ? [`${n}: ${raw[i + 1]}`] : []));
    expect(pairs('x-dup')).toEqual(['X-Dup: a', 'x-dup: b']);
    expect(pairs('accept')).toEqual(['Accept: text/html', 'Accept: application/json']);
    expect(pairs('x-camel-case')).toEqual(['X-Camel-Case: v']);
    expect(up.lastHeaders?.cookie).toBe('s=1; t=2');
    expect(up.lastHeaders?.host).toBe('example.test');
  });

  it('keeps the upstream Date and Server headers and adds no second Date', async () => {
    const date = 'Tue, 01 Jan 2030 00:00:00 GMT';
    const { port } = await proxied((_req, res) => {
      res.setHeader('Date', date);
      res.setHeader('Server', 'upstream/1.0');
      res.end();
    });
    const [raw] = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n'), [
      false,
    ]);
    expect(all(raw!, 'date')).toEqual([date]);
    expect(all(raw!, 'server')).toEqual(['upstream/1.0']);
  });

  it('names the serving version in x-switchyard-version, or not at all when turned off', async () => {
    const on = await proxied(answerOk);
    const res = await request(`${on.sy.urls['production']}/`);
    expect(res.headers['x-switchyard-version']).toBe('2');
    await res.body.dump();

    // An upstream cannot claim to be another version.
    const spoofing = await proxied((_req, r) => {
      r.setHeader('X-Switchyard-Version', 'spoofed');
      r.end();
    });
    const [spoofed] = parseResponses(
      await exchange(spoofing.port, 'GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n'),
      [false],
    );
    expect(all(spoofed!, 'x-switchyard-version')).toEqual(['2']);

    const renamed = await proxied(answerOk, { versionHeader: 'X-Served-By' });
    const res2 = await request(`${renamed.sy.urls['production']}/`);
    expect(res2.headers['x-served-by']).toBe('2');
    expect(res2.headers['x-switchyard-version']).toBeUndefined();
    await res2.body.dump();

    const off = await proxied(answerOk, { versionHeader: false });
    const [raw] = parseResponses(await exchange(off.port, 'GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n'), [
      false,
    ]);
    expect(raw!.statusLine).toBe('HTTP/1.1 200 OK');
    expect(raw!.headers.map(([n]) => n.toLowerCase())).not.toContain('x-switchyard-version');
  });
});

const answerOk: Handler = (_req, res) => {
  res.end('ok');
};

describe('hop-by-hop headers', () => {
  it('removes them from the request, including the ones Connection lists, and re-frames the body', async () => {
    const { port, up } = await proxied(echo);
    const body = 'hello, chunked world';
    const data = await exchange(
      port,
      'POST /hop HTTP/1.1\r\nHost: example.test\r\n' +
        'Connection: keep-alive, X-Secret-Hop , x-other-HOP\r\n' +
        'Connection: X-Third\r\n' +
        'X-Secret-Hop: 1\r\nX-Other-Hop: 2\r\nX-Third: 3\r\nX-Kept: 4\r\n' +
        'Keep-Alive: timeout=99\r\nTE: trailers\r\nTrailer: X-Checksum\r\nUpgrade: h2c\r\n' +
        'Proxy-Authorization: Basic c2VjcmV0\r\nProxy-Connection: keep-alive\r\n' +
        'Transfer-Encoding: chunked\r\n\r\n',
      `5\r\n${body.slice(0, 5)}\r\n${(body.length - 5).toString(16)}\r\n${body.slice(5)}\r\n`,
      '0\r\nX-Checksum: abc\r\n\r\n',
      'GET /last HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
    );
    const [first] = parseResponses(data, [false, false]);
    const got = JSON.parse(first!.body.toString()) as Echoed;
    expect(got.body).toBe(body);
    const sent = names(got.rawHeaders);
    for (const hop of [
      'x-secret-hop',
      'x-other-hop',
      'x-third',
      'keep-alive',
      'te',
      'trailer',
      'upgrade',
      'proxy-authorization',
      'proxy-connection',
    ]) {
      expect(sent, hop).not.toContain(hop);
    }
    expect(sent).toContain('x-kept');
    // The upstream hop has its own framing (see the chunked-body test) and connection handling.
    expect(sent.filter((n) => n === 'transfer-encoding' || n === 'content-length')).toHaveLength(1);
    const connection = got.rawHeaders[got.rawHeaders.findIndex((n) => n.toLowerCase() === 'connection') + 1];
    expect(connection ?? '').not.toMatch(/secret|other|third/i);
    expect(up.hits).toBe(2);
  });

  it('removes them from the response, including the ones Connection lists, and re-frames the body', async () => {
    // The upstream answers with hand-written bytes so that every hop-by-hop field is really on the wire.
    const { port } = await proxied((_req, res) => {
      res.socket!.end(
        'HTTP/1.1 200 OK\r\n' +
          'Connection: close, X-Hop-Resp\r\nX-Hop-Resp: secret\r\nX-End-To-End: kept\r\n' +
          'Keep-Alive: timeout=99, max=7\r\nTrailer: X-Digest\r\nUpgrade: h2c\r\n' +
          'Proxy-Authenticate: Basic realm="proxy"\r\nProxy-Connection: close\r\nTE: trailers\r\n' +
          'Transfer-Encoding: chunked\r\n\r\n' +
          '3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Digest: 123\r\n\r\n',
      );
    });
    const data = await exchange(port, 'GET /a HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n');
    const [res] = parseResponses(data, [false]);
    expect(res!.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res!.body.toString()).toBe('abcdefg');
    const got = res!.headers.map(([n]) => n.toLowerCase());
    for (const hop of ['x-hop-resp', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-connection', 'te']) {
      expect(got, hop).not.toContain(hop);
    }
    expect(all(res!, 'x-end-to-end')).toEqual(['kept']);
    // Framing and connection fields are the proxy's own, one each.
    expect(all(res!, 'transfer-encoding')).toEqual(['chunked']);
    expect(all(res!, 'connection')).toEqual(['close']);
    expect(all(res!, 'keep-alive')).toEqual([]);
    // The trailer the upstream sent is not copied either: the chunked body ends with an empty trailer.
    expect(res!.wireBody.toString('latin1').endsWith('0\r\n\r\n')).toBe(true);
    expect(res!.wireBody.toString('latin1')).not.toContain('X-Digest');
  });

  it('keeps the client connection alive when the upstream says Connection: close', async () => {
    const { port } = await proxied((_req, res) => {
      res.setHeader('Connection', 'close');
      res.setHeader('Keep-Alive', 'timeout=1');
      res.end('bye');
    });
    const data = await exchange(
      port,
      'GET /1 HTTP/1.1\r\nhost: h\r\n\r\nGET /2 HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n',
    );
    const [a, b] = parseResponses(data, [false, false]);
    expect(a!.body.toString()).toBe('bye');
    expect(all(a!, 'connection')).toEqual(['keep-alive']);
    expect(all(a!, 'keep-alive')).not.toContain('timeout=1');
    expect(b!.body.toString()).toBe('bye');
  });
});

describe('X-Forwarded-*', () => {
  function value(raw: readonly string[], name: string): string[] {
    return raw.flatMap((n, i) => (i % 2 === 0 && n.toLowerCase() === name ? [raw[i + 1]!] : []));
  }

  it('sets For, Proto and Host when the client sent none', async () => {
    const { port, up } = await proxied(answerOk);
    await exchange(port, 'GET / HTTP/1.1\r\nHost: shop.example:8443\r\nconnection: close\r\n\r\n');
    const raw = up.lastRawHeaders!;
    expect(value(raw, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(value(raw, 'x-forwarded-proto')).toEqual(['http']);
    expect(value(raw, 'x-forwarded-host')).toEqual(['shop.example:8443']);
    expect(value(raw, 'host')).toEqual(['shop.example:8443']);
  });

  it('appends to an existing X-Forwarded-For (one field or several) and keeps an earlier hop’s Proto and Host', async () => {
    const { port, up } = await proxied(answerOk);
    await exchange(
      port,
      'GET / HTTP/1.1\r\nHost: internal:80\r\nX-Forwarded-For: 203.0.113.7\r\n' +
        'X-Forwarded-For: 198.51.100.1, 10.0.0.1\r\nX-Forwarded-Proto: https\r\n' +
        'X-Forwarded-Host: shop.example\r\nconnection: close\r\n\r\n',
    );
    const raw = up.lastRawHeaders!;
    expect(value(raw, 'x-forwarded-for')).toEqual(['203.0.113.7, 198.51.100.1, 10.0.0.1, 127.0.0.1']);
    expect(value(raw, 'x-forwarded-proto')).toEqual(['https']);
    expect(value(raw, 'x-forwarded-host')).toEqual(['shop.example']);
  });
});

describe('bodies that are not there, and bodies that come in pieces', () => {
  it('answers HEAD with the upstream’s Content-Length and no body', async () => {
    const { port, up } = await proxied((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' });
      res.end(req.method === 'HEAD' ? undefined : 'hello world');
    });
    // A second request on the same connection shows that no stray body bytes followed the HEAD answer.
    const data = await exchange(
      port,
      'HEAD /h HTTP/1.1\r\nhost: h\r\n\r\nGET /h HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n',
    );
    const [head, get] = parseResponses(data, [true, false]);
    expect(head!.statusLine).toBe('HTTP/1.1 200 OK');
    expect(all(head!, 'content-length')).toEqual(['11']);
    expect(all(head!, 'transfer-encoding')).toEqual([]);
    expect(head!.wireBody.length).toBe(0);
    expect(get!.statusLine).toBe('HTTP/1.1 200 OK');
    expect(get!.body.toString()).toBe('hello world');
    expect(up.hits).toBe(2);
  });

  it('passes 204 and 304 with no body and keeps 304 validators', async () => {
    const { port } = await proxied((req, res) => {
      if (req.url === '/204') {
        res.writeHead(204, { 'x-kind': 'none' });
        res.end();
      } else {
        res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=60', 'content-length': '1234' });
        res.end();
      }
    });
    const data = await exchange(
      port,
      'DELETE /204 HTTP/1.1\r\nhost: h\r\n\r\n' +
        'GET /304 HTTP/1.1\r\nhost: h\r\nif-none-match: "v1"\r\n\r\n' +
        'GET /204 HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n',
    );
    const [a, b, c] = parseResponses(data, [true, true, true]);
    expect(a!.statusLine).toBe('HTTP/1.1 204 No Content');
    expect(all(a!, 'x-kind')).toEqual(['none']);
    expect(all(a!, 'transfer-encoding')).toEqual([]);
    expect(b!.statusLine).toBe('HTTP/1.1 304 Not Modified');
    expect(all(b!, 'etag')).toEqual(['"v1"']);
    expect(all(b!, 'content-length')).toEqual(['1234']);
    expect(all(b!, 'transfer-encoding')).toEqual([]);
    expect(c!.statusLine).toBe('HTTP/1.1 204 No Content');
    expect(c!.wireBody.length).toBe(0);
  });

  it('answers Expect: 100-continue with 100 Continue, then sends the body upstream and the final answer back', async () => {
    const { port, up } = await proxied(echo);
    const body = Buffer.alloc(200_000, 'z');
    const socket = connect(port, '127.0.0.1');
    try {
      socket.write(
        'PUT /upload HTTP/1.1\r\nhost: h\r\nexpect: 100-continue\r\n' +
          `content-length: ${body.length}\r\nconnection: close\r\n\r\n`,
      );
      const got: Buffer[] = [];
      const interim = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no 100 Continue')), 2_000);
        socket.on('data', (c: Buffer) => {
          got.push(c);
          const text = Buffer.concat(got).toString('latin1');
          if (text.includes('\r\n\r\n')) {
            clearTimeout(timer);
            resolve(text);
          }
        });
      });
      expect(interim).toBe('HTTP/1.1 100 Continue\r\n\r\n');
      // The upstream has not been asked yet: the body was never sent.
      expect(up.hits).toBe(0);
      const ended = new Promise<void>((resolve) => socket.once('end', resolve));
      socket.write(body);
      await ended;
      const [cont, final] = parseResponses(Buffer.concat(got), [false]);
      expect(cont!.statusLine).toBe('HTTP/1.1 100 Continue');
      expect(final!.statusLine).toBe('HTTP/1.1 200 OK');
      const echoed = JSON.parse(final!.body.toString()) as Echoed;
      expect(echoed.bodySha1).toBe(createHash('sha1').update(body).digest('hex'));
      expect(names(echoed.rawHeaders)).not.toContain('expect');
      expect(up.lastHeaders?.['content-length']).toBe(String(body.length));
    } finally {
      socket.destroy();
    }
  });

  it('sends a chunked request body upstream whole, framed anew', async () => {
    const { port } = await proxied(echo);
    const data = await exchange(
      port,
      'POST /c HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n',
      '4\r\nWiki\r\n',
      '5\r\npedia\r\n',
      'E\r\n in\r\n\r\nchunks.\r\n',
      '0\r\n\r\n',
    );
    const [res] = parseResponses(data, [false]);
    const got = JSON.parse(res!.body.toString()) as Echoed;
    expect(got.body).toBe('Wikipedia in\r\n\r\nchunks.');
    // undici frames a body that has fully arrived with its length, one still arriving as chunked: either
    // way one framing header of the upstream hop's own, never the client's copied next to it.
    const framing = got.rawHeaders.flatMap((n, i) =>
      i % 2 === 0 && /^(transfer-encoding|content-length)$/i.test(n)
        ? [`${n.toLowerCase()}: ${got.rawHeaders[i + 1]}`]
        : [],
    );
    expect(framing).toHaveLength(1);
    expect(['transfer-encoding: chunked', `content-length: ${got.body.length}`]).toContain(framing[0]);
  });

  it('sends a chunked response to the client chunked, with the same bytes', async () => {
    const { port } = await proxied((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first,');
      setTimeout(() => res.end('second'), 20);
    });
    const [res] = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n'), [
      false,
    ]);
    expect(all(res!, 'transfer-encoding')).toEqual(['chunked']);
    expect(all(res!, 'content-length')).toEqual([]);
    expect(res!.body.toString()).toBe('first,second');
  });

  it('frames a body the upstream delimits by closing the connection', async () => {
    const { port } = await proxied((_req, res) => {
      res.socket!.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
    });
    const [res] = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n'), [
      false,
    ]);
    expect(res!.statusLine).toBe('HTTP/1.1 200 OK');
    expect(all(res!, 'transfer-encoding')).toEqual(['chunked']);
    expect(res!.body.toString()).toBe('until the end');
  });

  it('does not pass 103 Early Hints on, and delivers the final response', async () => {
    const { port } = await proxied((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.end('final');
    });
    const data = await exchange(port, 'GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n');
    const responses = parseResponses(data, [false]);
    expect(responses.map((r) => r.statusLine)).toEqual(['HTTP/1.1 200 OK']);
    expect(responses[0]!.body.toString()).toBe('final');
  });

  it('keeps an upstream Content-Length and does not chunk a sized body', async () => {
    const payload = Buffer.alloc(100_000, 'q');
    const { port } = await proxied((_req, res) => {
      res.writeHead(200, { 'content-length': String(payload.length) });
      res.end(payload);
    });
    const [res] = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n'), [
      false,
    ]);
    expect(all(res!, 'content-length')).toEqual([String(payload.length)]);
    expect(all(res!, 'transfer-encoding')).toEqual([]);
    expect(res!.body.equals(payload)).toBe(true);
  });
});
