/**
 * Request smuggling and ambiguous framing, on raw sockets at both ends: every probe's bytes are the
 * test's, and the upstream is a raw server that keeps exactly what it received. For each probe the
 * proxy either refuses (a 4xx or 501 with the JSON error, then a close) and the upstream receives not a
 * byte, or it forwards exactly one unambiguous request and the upstream receives that request whole and
 * nothing after it. node:http's parser (llhttp, strict: switchyard never sets insecureHTTPParser) does
 * most of the refusing; what it lets through, switchyard refuses or normalises itself. Related refusals
 * (two Hosts, 1,001 header lines, gzip codings, CONNECT) are in hostile-requests.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { headerValues, rawClient, type RawMessage, type RawUpstream, startRawUpstream } from '../support/raw-http.js';
import { startProxy } from '../support/switchyard.js';
import { until } from '../support/until.js';

const HOST = 'Host: web.test\r\n';
const CLOSE = 'Connection: close\r\n';
const HELLO_CHUNKED = '5\r\nhello\r\n0\r\n\r\n';

/** A POST with `headers` (each line with its CRLF) and `body`, closing the connection after it. */
function post(headers: string, body: string): string {
  return `POST /in HTTP/1.1\r\n${HOST}${headers}${CLOSE}\r\n${body}`;
}

/** A GET with `headers`, closing the connection after it. */
function get(headers: string, target = '/in'): string {
  return `GET ${target} HTTP/1.1\r\n${HOST}${headers}${CLOSE}\r\n`;
}

function statusOf(m: RawMessage): number {
  return Number(m.start.slice(9, 12));
}

/** A response's status and, when its body is JSON, its error code. */
function answerOf(m: RawMessage): [number, unknown] {
  return [statusOf(m), m.body.startsWith('{') ? (JSON.parse(m.body) as { error: unknown }).error : m.body];
}

/** A refusal: `[name, bytes, status, error]`. */
type Refusal = [string, string, number, string];

const REFUSALS: Refusal[] = [
  // Two lengths: llhttp refuses both orders (RFC 9112 §6.1 allows a server to).
  ['CL.TE', post('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\nX'), 400, 'BAD_REQUEST'],
  [
    'TE.CL',
    post('Transfer-Encoding: chunked\r\nContent-Length: 3\r\n', '8\r\nSMUGGLED\r\n0\r\n\r\n'),
    400,
    'BAD_REQUEST',
  ],
  ['TE xchunked with CL', post('Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n', 'hello'), 400, 'BAD_REQUEST'],
  // Obfuscated Transfer-Encoding.
  ['TE xchunked', post('Transfer-Encoding: xchunked\r\n', HELLO_CHUNKED), 501, 'CODING_UNSUPPORTED'],
  ['TE "chunked" quoted', post('Transfer-Encoding: "chunked"\r\n', HELLO_CHUNKED), 501, 'CODING_UNSUPPORTED'],
  ['TE empty', post('Transfer-Encoding: \r\n', HELLO_CHUNKED), 501, 'CODING_UNSUPPORTED'],
  ['TE chunked;q=1', post('Transfer-Encoding: chunked;q=1\r\n', HELLO_CHUNKED), 501, 'CODING_UNSUPPORTED'],
  ['TE identity, chunked', post('Transfer-Encoding: identity, chunked\r\n', HELLO_CHUNKED), 501, 'CODING_UNSUPPORTED'],
  ['TE chunked, identity', post('Transfer-Encoding: chunked, identity\r\n', HELLO_CHUNKED), 400, 'BAD_REQUEST'],
  ['TE chunked, chunked', post('Transfer-Encoding: chunked, chunked\r\n', HELLO_CHUNKED), 400, 'BAD_REQUEST'],
  [
    'TE twice: chunked, chunked',
    post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', HELLO_CHUNKED),
    400,
    'BAD_REQUEST',
  ],
  [
    'TE twice: chunked, x',
    post('Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n', HELLO_CHUNKED),
    400,
    'BAD_REQUEST',
  ],
  [
    'TE twice: x, chunked',
    post('Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n', HELLO_CHUNKED),
    501,
    'CODING_UNSUPPORTED',
  ],
  ['TE with a vertical tab', post('Transfer-Encoding: \x0bchunked\r\n', HELLO_CHUNKED), 400, 'BAD_REQUEST'],
  ['TE, space before the colon', post('Transfer-Encoding : chunked\r\n', HELLO_CHUNKED), 400, 'BAD_REQUEST'],
  ['TE, tab before the colon', post('Transfer-Encoding\t: chunked\r\n', HELLO_CHUNKED), 400, 'BAD_REQUEST'],
  ['TE folded onto the line before', post(' Transfer-Encoding: chunked\r\n', HELLO_CHUNKED), 400, 'BAD_REQUEST'],
  // Malformed or conflicting Content-Length.
  ['CL +5', post('Content-Length: +5\r\n', 'hello'), 400, 'BAD_REQUEST'],
  ['CL -1', post('Content-Length: -1\r\n', 'hello'), 400, 'BAD_REQUEST'],
  ['CL 5, 5', post('Content-Length: 5, 5\r\n', 'hello'), 400, 'BAD_REQUEST'],
  ['CL 5, 6', post('Content-Length: 5, 6\r\n', 'hello!'), 400, 'BAD_REQUEST'],
  ['CL twice: 5 and 5', post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello'), 400, 'BAD_REQUEST'],
  ['CL twice: 5 and 6', post('Content-Length: 5\r\nContent-Length: 6\r\n', 'hello!'), 400, 'BAD_REQUEST'],
  ['CL 0x5', post('Content-Length: 0x5\r\n', 'hello'), 400, 'BAD_REQUEST'],
  ['CL 5 5', post('Content-Length: 5 5\r\n', 'hello'), 400, 'BAD_REQUEST'],
  ['CL 1e1', post('Content-Length: 1e1\r\n', 'hellohello'), 400, 'BAD_REQUEST'],
  ['CL past 2^64', post('Content-Length: 99999999999999999999999\r\n', 'hello'), 400, 'BAD_REQUEST'],
  ['CL empty', post('Content-Length: \r\n', 'hello'), 400, 'BAD_REQUEST'],
  // Bad chunks.
  ['chunk size 0x5', post('Transfer-Encoding: chunked\r\n', '0x5\r\nhello\r\n0\r\n\r\n'), 400, 'BAD_REQUEST'],
  ['chunk size -1', post('Transfer-Encoding: chunked\r\n', '-1\r\nhello\r\n0\r\n\r\n'), 400, 'BAD_REQUEST'],
  [
    'chunk size past 2^64',
    post('Transfer-Encoding: chunked\r\n', `${'f'.repeat(18)}\r\nhello\r\n0\r\n\r\n`),
    400,
    'BAD_REQUEST',
  ],
  ['chunk without its CRLF', post('Transfer-Encoding: chunked\r\n', '5\r\nhelloX0\r\n\r\n'), 400, 'BAD_REQUEST'],
  ['chunk size, then a space', post('Transfer-Encoding: chunked\r\n', '5 \r\nhello\r\n0\r\n\r\n'), 400, 'BAD_REQUEST'],
  [
    'chunk extension with spaces',
    post('Transfer-Encoding: chunked\r\n', '5 ; a = b\r\nhello\r\n0\r\n\r\n'),
    400,
    'BAD_REQUEST',
  ],
  ['chunk extension, bare ;', post('Transfer-Encoding: chunked\r\n', '5;\r\nhello\r\n0\r\n\r\n'), 400, 'BAD_REQUEST'],
  [
    'chunk extension, LF in quotes',
    post('Transfer-Encoding: chunked\r\n', '5;a="x\ny"\r\nhello\r\n0\r\n\r\n'),
    400,
    'BAD_REQUEST',
  ],
  [
    'chunk extension of 20,000 bytes',
    post('Transfer-Encoding: chunked\r\n', `5;a=${'x'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`),
    413,
    'BODY_TOO_LARGE',
  ],
  ['chunks with bare LF', post('Transfer-Encoding: chunked\r\n', '5\nhello\n0\n\n'), 400, 'BAD_REQUEST'],
  // Line endings and header syntax.
  ['bare LF line endings', 'GET /in HTTP/1.1\nHost: web.test\nConnection: close\n\n', 400, 'BAD_REQUEST'],
  ['one header ended by bare LF', get('X-A: 1\n'), 400, 'BAD_REQUEST'],
  ['bare CR in the head', get('X-A: 1\rX-B: 2\r\n'), 400, 'BAD_REQUEST'],
  ['obs-fold with SP', get('X-A: b\r\n c\r\n'), 400, 'BAD_REQUEST'],
  ['obs-fold with HTAB', get('X-A: b\r\n\tc\r\n'), 400, 'BAD_REQUEST'],
  ['NUL in a value', get('X-A: b\x00c\r\n'), 400, 'BAD_REQUEST'],
  ['CR in a value', get('X-A: b\rc\r\n'), 400, 'BAD_REQUEST'],
  ['DEL in a value', get('X-A: b\x7fc\r\n'), 400, 'BAD_REQUEST'],
  ['space before a colon', get('X-A : b\r\n'), 400, 'BAD_REQUEST'],
  ['tab before a colon', get('X-A\t: b\r\n'), 400, 'BAD_REQUEST'],
  ['empty header name', get(': b\r\n'), 400, 'BAD_REQUEST'],
  // Request lines and targets.
  ['HTTP/1.1 without Host', `GET /in HTTP/1.1\r\n${CLOSE}\r\n`, 400, 'REQUEST_INVALID'],
  ['HTTP/1.2', `GET /in HTTP/1.2\r\n${HOST}${CLOSE}\r\n`, 400, 'BAD_REQUEST'],
  ['HTTP/2.0 in an HTTP/1 request line', `GET /in HTTP/2.0\r\n${HOST}${CLOSE}\r\n`, 400, 'REQUEST_INVALID'],
  [
    'HTTP/1.0 with Transfer-Encoding',
    `POST /in HTTP/1.0\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n${HELLO_CHUNKED}`,
    400,
    'REQUEST_INVALID',
  ],
  [
    'HTTP/1.0 with Transfer-Encoding and CL',
    `POST /in HTTP/1.0\r\n${HOST}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n${HELLO_CHUNKED}`,
    400,
    'BAD_REQUEST',
  ],
  ['target with a #fragment', get('', '/in#frag'), 400, 'REQUEST_INVALID'],
  ['target not starting with /', get('', 'in'), 400, 'BAD_REQUEST'],
  ['asterisk-form GET', get('', '*'), 400, 'REQUEST_INVALID'],
  ['authority-form GET', get('', 'web.test:80'), 400, 'BAD_REQUEST'],
  ['absolute-form, ftp scheme', get('', 'ftp://web.test/in'), 400, 'REQUEST_INVALID'],
  ['absolute-form with userinfo', get('', 'http://user@web.test/in'), 400, 'REQUEST_INVALID'],
  ['absolute-form without host', get('', 'http:///in'), 400, 'REQUEST_INVALID'],
  ['absolute-form with two Hosts', get('Host: other.test\r\n', 'http://web.test/in'), 400, 'REQUEST_INVALID'],
  ['absolute-form, HTTP/1.1 without Host', `GET http://web.test/in HTTP/1.1\r\n${CLOSE}\r\n`, 400, 'REQUEST_INVALID'],
];

/** A forward: `[name, bytes, the one request the upstream must get (request line, body)]`. */
type Forward = [string, string, { start: string; body: string }];

const POSTED = { start: 'POST /in HTTP/1.1', body: 'hello' };

const FORWARDS: Forward[] = [
  ['TE chunked, then a space', post('Transfer-Encoding: chunked \r\n', HELLO_CHUNKED), POSTED],
  ['TE after a tab', post('Transfer-Encoding:\tchunked\r\n', HELLO_CHUNKED), POSTED],
  ['TE CHUNKED', post('Transfer-Encoding: CHUNKED\r\n', HELLO_CHUNKED), POSTED],
  ['CL 005', post('Content-Length: 005\r\n', 'hello'), POSTED],
  ['CL among spaces', post('Content-Length:   5  \r\n', 'hello'), POSTED],
  ['chunk extension', post('Transfer-Encoding: chunked\r\n', '5;a=b\r\nhello\r\n0\r\n\r\n'), POSTED],
  ['quoted chunk extension', post('Transfer-Encoding: chunked\r\n', '5;a="b;c"\r\nhello\r\n0\r\n\r\n'), POSTED],
  [
    'chunk extension of 8,000 bytes',
    post('Transfer-Encoding: chunked\r\n', `5;a=${'x'.repeat(8_000)}\r\nhello\r\n0\r\n\r\n`),
    POSTED,
  ],
  ['chunked body with a trailer', post('Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n'), POSTED],
  [
    'GET with a body',
    `GET /in HTTP/1.1\r\n${HOST}Content-Length: 5\r\n${CLOSE}\r\nhello`,
    { start: 'GET /in HTTP/1.1', body: 'hello' },
  ],
  ['two spaces after the method', `GET  /in HTTP/1.1\r\n${HOST}${CLOSE}\r\n`, { start: 'GET /in HTTP/1.1', body: '' }],
  ['absolute-form', get('', 'http://web.test/in?q=1'), { start: 'GET /in?q=1 HTTP/1.1', body: '' }],
  [
    'absolute-form, HTTP/1.0 without Host',
    'GET http://web.test/in HTTP/1.0\r\n\r\n',
    { start: 'GET /in HTTP/1.1', body: '' },
  ],
  ['HTTP/1.0 without keep-alive', `GET /in HTTP/1.0\r\n${HOST}\r\n`, { start: 'GET /in HTTP/1.1', body: '' }],
  ['HTTP/1.0 without Host', 'GET /in HTTP/1.0\r\n\r\n', { start: 'GET /in HTTP/1.1', body: '' }],
  ['Expect: 100-continue, body sent at once', post('Expect: 100-continue\r\nContent-Length: 5\r\n', 'hello'), POSTED],
];

describe('smuggling probes', () => {
  let up: RawUpstream & { close(): Promise<void> };
  let sy: Switchyard;
  let port: number;
  beforeAll(async () => {
    up = await startRawUpstream(undefined, false);
    sy = await startProxy(
      { services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }] },
      { autoClose: false },
    );
    port = sy.addresses['production']!.port;
  });
  afterAll(async () => {
    await sy.close();
    await up.close();
  });

  it.each(REFUSALS)('%s: refused, nothing reaches the upstream', async (_name, bytes, status, error) => {
    const before = up.all().length;
    const client = rawClient(port);
    client.write(bytes);
    const got = await client.closed();
    expect(got.responses.map(answerOf)).toEqual([[status, error]]);
    expect(got.rest).toBe('');
    expect(up.all().length - before).toBe(0);
  });

  it.each(FORWARDS)('%s: forwarded as one request', async (_name, bytes, want) => {
    const before = up.requests().length;
    const client = rawClient(port);
    client.write(bytes);
    const got = await client.closed();
    expect(got.responses.map(answerOf)).toEqual([[200, 'ok']]);
    expect(got.rest).toBe('');
    const seen = up.requests().slice(before);
    expect(seen.map((r) => ({ start: r.start, body: r.body }))).toEqual([want]);
    // One framing header when there is a body, none without (parseMessages leaves any other framing in rest).
    const framing = ['content-length', 'transfer-encoding'].flatMap((name) => headerValues(seen[0]!, name));
    expect(framing.length).toBe(want.body === '' ? 0 : 1);
    expect(headerValues(seen[0]!, 'expect')).toEqual([]);
    expect(up.rest()).toBe('');
  });

  it('forwards only the Content-Length bytes; the rest is a next request, refused, and the upstream sees one', async () => {
    const before = up.requests().length;
    const client = rawClient(port);
    client.write(`POST /in HTTP/1.1\r\n${HOST}Content-Length: 2\r\n\r\nhello`);
    const got = await client.closed();
    expect(got.responses.map(answerOf)).toEqual([
      [200, 'ok'],
      [400, 'BAD_REQUEST'],
    ]);
    expect(
      up
        .requests()
        .slice(before)
        .map((r) => [r.start, r.body]),
    ).toEqual([['POST /in HTTP/1.1', 'he']]);
    expect(up.rest()).toBe('');
  });

  it('answers the pipelined requests before a malformed one, then refuses it; the upstream sees the good ones', async () => {
    const before = up.requests().length;
    const client = rawClient(port);
    client.write(
      `GET /one HTTP/1.1\r\n${HOST}\r\n` +
        `POST /two HTTP/1.1\r\n${HOST}Content-Length: 3\r\n\r\nabc` +
        `POST /three HTTP/1.1\r\n${HOST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${HELLO_CHUNKED}` +
        `GET /four HTTP/1.1\r\n${HOST}\r\n`,
    );
    const got = await client.closed();
    expect(got.responses.map(answerOf)).toEqual([
      [200, 'ok'],
      [200, 'ok'],
      [400, 'BAD_REQUEST'],
    ]);
    expect(
      up
        .requests()
        .slice(before)
        .map((r) => [r.start, r.body]),
    ).toEqual([
      ['GET /one HTTP/1.1', ''],
      ['POST /two HTTP/1.1', 'abc'],
    ]);
    expect(up.rest()).toBe('');
  });

  it('keeps an HTTP/1.0 keep-alive connection open for a next request', async () => {
    const before = up.requests().length;
    const client = rawClient(port);
    client.write(`GET /a HTTP/1.0\r\n${HOST}Connection: keep-alive\r\n\r\n`);
    const first = await client.responses(1);
    expect(first.closed).toBe(false);
    expect(headerValues(first.responses[0]!, 'connection')).toEqual(['keep-alive']);
    client.write(`GET /b HTTP/1.0\r\n${HOST}\r\n`);
    const got = await client.closed();
    expect(got.responses.map(answerOf)).toEqual([
      [200, 'ok'],
      [200, 'ok'],
    ]);
    expect(
      up
        .requests()
        .slice(before)
        .map((r) => r.start),
    ).toEqual(['GET /a HTTP/1.1', 'GET /b HTTP/1.1']);
  });

  it('answers Expect: 100-continue itself, then forwards the body without the Expect', async () => {
    const before = up.requests().length;
    const client = rawClient(port);
    client.write(`POST /in HTTP/1.1\r\n${HOST}Expect: 100-continue\r\nContent-Length: 5\r\n${CLOSE}\r\n`);
    const interim = await client.interim(1);
    expect(interim.interim.map((m) => m.start)).toEqual(['HTTP/1.1 100 Continue']);
    expect(up.requests().length).toBe(before);
    client.write('hello');
    const got = await client.closed();
    expect(got.responses.map(answerOf)).toEqual([[200, 'ok']]);
    const seen = up.requests().slice(before);
    expect(seen.map((r) => [r.start, r.body])).toEqual([['POST /in HTTP/1.1', 'hello']]);
    expect(headerValues(seen[0]!, 'expect')).toEqual([]);
  });

  it('answers OPTIONS * itself with an empty 200', async () => {
    const before = up.all().length;
    const client = rawClient(port);
    client.write(`OPTIONS * HTTP/1.1\r\n${HOST}${CLOSE}\r\n`);
    const got = await client.closed();
    expect(got.responses.map((r) => [statusOf(r), r.body, headerValues(r, 'content-length')])).toEqual([
      [200, '', ['0']],
    ]);
    expect(up.all().length).toBe(before);
  });
});

/** A proxy with one service per `[name, match]`, each served by its own raw upstream. */
async function services(
  matches: [string, Record<string, string>][],
  extra: Record<string, unknown> = {},
): Promise<{ port: number; up: Record<string, RawUpstream>; sy: Switchyard }> {
  const up: Record<string, RawUpstream> = {};
  for (const [name] of matches) up[name] = await startRawUpstream();
  const sy = await startProxy({
    ...extra,
    services: matches.map(([name, match]) => ({
      name,
      match,
      versions: { '1': { targets: [up[name]!.url] } },
      live: '1',
    })),
  });
  return { port: sy.addresses['production']!.port, up, sy };
}

/** Sends `bytes` on a fresh connection and resolves with the answers once it closes. */
async function send(port: number, bytes: string): Promise<[number, unknown][]> {
  const client = rawClient(port);
  client.write(bytes);
  return (await client.closed()).responses.map(answerOf);
}

describe('absolute-form targets and Host matching', () => {
  it('routes an absolute-form target by its authority, and forwards origin-form with that Host', async () => {
    const { port, up } = await services([
      ['web', { host: 'web.test' }],
      ['other', { host: 'other.test' }],
    ]);
    // RFC 9112 §3.2.2: the authority wins over the Host header, which is replaced, not kept.
    expect(await send(port, `GET http://OTHER.test:8080/p?q=1 HTTP/1.1\r\nHost: x.test\r\n${CLOSE}\r\n`)).toEqual([
      [200, 'ok'],
    ]);
    expect(await send(port, `GET https://other.test?q=2 HTTP/1.1\r\n${HOST}${CLOSE}\r\n`)).toEqual([[200, 'ok']]);
    expect(up['web']!.all()).toBe('');
    const seen = up['other']!.requests();
    expect(seen.map((r) => [r.start, headerValues(r, 'host'), headerValues(r, 'x-forwarded-host')])).toEqual([
      ['GET /p?q=1 HTTP/1.1', ['OTHER.test:8080'], ['OTHER.test:8080']],
      ['GET /?q=2 HTTP/1.1', ['other.test'], ['other.test']],
    ]);
  });

  it('matches a host with a trailing dot, in any case, with or without a port, and IPv6 literals', async () => {
    const { port, up } = await services([
      ['api', { host: 'api.example.com' }],
      ['dotted', { host: 'dotted.example.' }],
      ['v6', { host: '[::1]' }],
      ['rest', { pathPrefix: '/' }],
    ]);
    const hosts: [string, string][] = [
      ['api.example.com.', 'api'],
      ['API.Example.COM.:8080', 'api'],
      ['api.example.com:80', 'api'],
      ['dotted.example', 'dotted'],
      ['dotted.example.', 'dotted'],
      ['[::1]:8080', 'v6'],
      ['[::1]', 'v6'],
      ['api.example.com..', 'rest'],
      ['[::2]:8080', 'rest'],
    ];
    for (const [host, service] of hosts) {
      expect(await send(port, `GET /${service} HTTP/1.1\r\nHost: ${host}\r\n${CLOSE}\r\n`), host).toEqual([
        [200, 'ok'],
      ]);
    }
    const served = Object.fromEntries(Object.entries(up).map(([name, u]) => [name, u.requests().length]));
    expect(served).toEqual({ api: 3, dotted: 2, v6: 2, rest: 2 });
  });
});

describe('raw path matching', () => {
  it('matches prefixes against the target as sent: no decoding, no dot segments removed, case kept', async () => {
    const { port, up } = await services([
      ['api', { pathPrefix: '/api' }],
      ['rest', { pathPrefix: '/' }],
    ]);
    const targets: [string, string][] = [
      ['/api/../admin', 'api'],
      ['/api/./x', 'api'],
      ['/API/x', 'rest'],
      ['/%61pi/x', 'rest'],
      ['/api%2Fx', 'rest'],
      ['/x/../api/y', 'rest'],
      ['/api?x=1', 'api'],
    ];
    for (const [target] of targets) expect(await send(port, get('', target)), target).toEqual([[200, 'ok']]);
    const forwarded = (name: string) => up[name]!.requests().map((r) => r.start.split(' ')[1]);
    const want = (name: string) => targets.filter(([, s]) => s === name).map(([t]) => t);
    // Forwarded exactly as written, too: an upstream that normalises may see another path.
    expect(forwarded('api')).toEqual(want('api'));
    expect(forwarded('rest')).toEqual(want('rest'));
  });
});

describe('pipelined requests', () => {
  it('reach the upstream one at a time and in order: the second only once the first is answered', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const up = await startRawUpstream((r) => (r.start.startsWith('POST /first') ? released : undefined));
    const sy = await startProxy({ services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }] });
    const port = sy.addresses['production']!.port;
    const client = rawClient(port);
    client.write(
      `POST /first HTTP/1.1\r\n${HOST}Content-Length: 1\r\n\r\nx` + `DELETE /second HTTP/1.1\r\n${HOST}${CLOSE}\r\n`,
    );
    await until(
      () => up.requests().length,
      (n) => n === 1,
    );
    // A request on another connection, sent after both were read, gets through while the second waits.
    expect(await send(port, get('', '/marker'))).toEqual([[200, 'ok']]);
    expect(up.requests().map((r) => r.start)).toEqual(['POST /first HTTP/1.1', 'GET /marker HTTP/1.1']);
    release();
    const got = await client.closed();
    expect(got.responses.map(answerOf)).toEqual([
      [200, 'ok'],
      [200, 'ok'],
    ]);
    expect(up.requests().map((r) => r.start)).toEqual([
      'POST /first HTTP/1.1',
      'GET /marker HTTP/1.1',
      'DELETE /second HTTP/1.1',
    ]);
  });

  it('sends a burst of pipelined requests in order and answers each whole, in order', async () => {
    const up = await startRawUpstream();
    const sy = await startProxy({ services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }] });
    const methods = ['POST', 'DELETE', 'GET', 'PUT', 'PATCH', 'GET', 'POST', 'DELETE'];
    const client = rawClient(sy.addresses['production']!.port);
    client.write(
      methods
        .map(
          (m, i) =>
            `${m} /${i} HTTP/1.1\r\n${HOST}Content-Length: 1\r\n${i === methods.length - 1 ? CLOSE : ''}\r\n${i}`,
        )
        .join(''),
    );
    const got = await client.closed();
    expect(got.responses.map(answerOf)).toEqual(methods.map(() => [200, 'ok']));
    expect(got.rest).toBe('');
    expect(up.requests().map((r) => [r.start, r.body])).toEqual(methods.map((m, i) => [`${m} /${i} HTTP/1.1`, `${i}`]));
  });

  it('counts a pipelined request done when its client leaves before it is routed', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const up = await startRawUpstream((r) => (r.start.startsWith('GET /first') ? released : undefined));
    const sy = await startProxy({ services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }] });
    const client = rawClient(sy.addresses['production']!.port);
    client.write(`GET /first HTTP/1.1\r\n${HOST}\r\nGET /second HTTP/1.1\r\n${HOST}\r\n`);
    await until(
      () => sy.dataPlane!.inFlight,
      (n) => n === 2,
    );
    client.destroy();
    await until(
      () => sy.dataPlane!.inFlight,
      (n) => n === 0,
    );
    release();
    expect(up.requests().map((r) => r.start)).toEqual(['GET /first HTTP/1.1']);
  });
});

describe('forwarded headers', () => {
  const spoofed =
    'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.test\r\n' +
    'Forwarded: for=203.0.113.9\r\nX-Forwarded-For: 198.51.100.7\r\n';

  /** The forwarding headers the upstream got for one GET carrying the spoofed ones. */
  async function forwardedSeen(forwardedHeaders: string | undefined, upgrade = false): Promise<string[][]> {
    const up = await startRawUpstream();
    const listeners = {
      production: { host: '127.0.0.1', port: 0 },
      ...(forwardedHeaders === undefined ? {} : { forwardedHeaders }),
    };
    const sy = await startProxy({
      listeners,
      services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }],
    });
    const upgradeHeaders = upgrade
      ? 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
      : CLOSE;
    const client = rawClient(sy.addresses['production']!.port);
    client.write(`GET /in HTTP/1.1\r\n${HOST}${spoofed}${upgradeHeaders}\r\n`);
    await client.closed();
    const [seen] = up.requests();
    return ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded'].map((name) =>
      headerValues(seen!, name),
    );
  }

  it('appends to what the client sent by default', async () => {
    expect(await forwardedSeen(undefined)).toEqual([
      ['203.0.113.9, 198.51.100.7, 127.0.0.1'],
      ['https'],
      ['evil.test'],
      ['for=203.0.113.9'],
    ]);
  });

  it('with forwardedHeaders: overwrite, replaces what the client sent with what switchyard saw', async () => {
    expect(await forwardedSeen('overwrite')).toEqual([['127.0.0.1'], ['http'], ['web.test'], []]);
  });

  it('with forwardedHeaders: overwrite, replaces them on WebSocket upgrades too', async () => {
    // The tunnel's own X-Forwarded-For and -Proto (ws) are http-proxy's, which sets no X-Forwarded-Host.
    expect(await forwardedSeen('overwrite', true)).toEqual([['127.0.0.1'], ['ws'], [], []]);
  });
});
