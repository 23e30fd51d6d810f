/**
 * A function version's HTTP front with a real pool of Node handler processes: each event format against
 * the documented examples field by field, binary bodies both ways, cookies, multi-value headers and query
 * strings, the shapes of results API Gateway maps back, and the answers for a throwing handler, a
 * timeout, throttling and a body over the payload limit.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';

import pino from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';

import type { EventFormat } from '../../src/config/functions.js';
import { systemClock } from '../../src/core/clock.js';
import { ExecutionEnvironment } from '../../src/functions/environment.js';
import { type FunctionFront, startFunctionFront } from '../../src/functions/http-front/front-server.js';
import { requestTime } from '../../src/functions/http-front/request-parts.js';
import { EnvironmentPool } from '../../src/functions/pool.js';
import { logSink } from '../support/log-sink.js';
import { alive } from '../support/processes.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { until } from '../support/until.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'functions');
const TASK_ROOT = join(FIXTURES, 'http-echo');

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, 'events', name), 'utf8')) as Record<string, unknown>;
}

interface Running {
  readonly front: FunctionFront;
  readonly pool: EnvironmentPool;
  /** Invocations the front asked for. */
  invocations: number;
  readonly lines: Record<string, unknown>[];
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});

/** A front for `index.<handler>` of the http-echo fixture, in `format`. */
async function front(
  handler: string,
  format: EventFormat,
  settings: { concurrency?: number; timeoutSeconds?: number; env?: Record<string, string> } = {},
): Promise<Running> {
  const pool = new EnvironmentPool({
    clock: systemClock,
    concurrency: settings.concurrency ?? 4,
    idleMs: 60_000,
    create: () =>
      new ExecutionEnvironment(
        {
          functionName: 'orders',
          version: '3',
          runtime: 'nodejs',
          handler: `index.${handler}`,
          taskRoot: TASK_ROOT,
          timeoutSeconds: settings.timeoutSeconds ?? 5,
          memorySizeMb: 128,
          region: 'us-east-1',
          accountId: '123456789012',
          env: settings.env ?? {},
        },
        {
          clock: systemClock,
          nodeBootstrap: join(dirname(dirname(inject('cliMain'))), 'functions', 'node-runtime', 'bootstrap.js'),
        },
      ),
  });
  const sink = logSink();
  const running = { pool, invocations: 0, lines: sink.lines } as { -readonly [K in keyof Running]: Running[K] };
  running.front = await startFunctionFront({
    functionName: 'orders',
    version: '3',
    eventFormat: format,
    clock: systemClock,
    log: pino({ level: 'info' }, sink.stream),
    invoke: (event, requestId) => {
      running.invocations++;
      return pool.invoke(event, { requestId });
    },
  });
  cleanups.push(async () => {
    await running.front.close(0);
    await pool.close();
  });
  return running;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/**
 * One request with exactly these header lines (raw: name, value, …; a Host line is added when none is
 * given), on a connection of its own.
 */
function send(url: string, method: string, path: string, lines: string[] = [], body?: Buffer): Promise<Answer> {
  const hasHost = lines.some((name, i) => i % 2 === 0 && name.toLowerCase() === 'host');
  const headers = hasHost ? lines : ['Host', new URL(url).host, ...lines];
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function json(answer: Answer): Record<string, unknown> {
  return JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
}

/** A field whose value varies per request: checked by form, in the fixture and in the event alike. */
type Form = RegExp | ((value: unknown) => boolean);

const CLF = /^\d\d\/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/\d{4}:\d\d:\d\d:\d\d \+0000$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const GATEWAY_ID = /^[A-Za-z0-9_-]{15}=$/;
const EPOCH_MS = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 1.5e12 && (v as number) < 4e12;

function fits(form: Form, value: unknown): boolean {
  return form instanceof RegExp ? typeof value === 'string' && form.test(value) : form(value);
}

/** Every difference between the event and the documented example: missing or extra keys, other values. */
function differences(actual: unknown, expected: unknown, forms: Record<string, Form>, path = ''): string[] {
  const form = forms[path];
  if (form) {
    const out: string[] = [];
    if (!fits(form, expected)) out.push(`${path}: the example's ${JSON.stringify(expected)} is not of the form`);
    if (!fits(form, actual)) out.push(`${path}: ${JSON.stringify(actual)} is not of the form ${String(form)}`);
    return out;
  }
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isMap(actual) && isMap(expected) && Array.isArray(actual) === Array.isArray(expected)) {
    const out: string[] = [];
    const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
    for (const key of keys) {
      const at = path === '' ? key : `${path}.${key}`;
      if (!(key in expected)) out.push(`${at}: not in the example`);
      else if (!(key in actual)) out.push(`${at}: missing`);
      else out.push(...differences(actual[key], expected[key], forms, at));
    }
    return out;
  }
  return Object.is(actual, expected) ? [] : [`${path}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`];
}

const V2_FORMS: Record<string, Form> = {
  'requestContext.apiId': /^[a-z0-9]{10}$/,
  'requestContext.requestId': GATEWAY_ID,
  'requestContext.time': CLF,
  'requestContext.timeEpoch': EPOCH_MS,
};

/** The request the payload 2.0 examples stand for. */
function v2Request(host: string): string[] {
  return [
    'Host',
    host,
    'User-Agent',
    'switchyard-test/1.0',
    'Content-Type',
    'text/plain',
    'Header1',
    'value1',
    'Header2',
    'value1',
    'Header2',
    'value2',
    'Cookie',
    'cookie1=one; cookie2=two',
    'X-Forwarded-For',
    '198.51.100.7',
    'Content-Length',
    '18',
  ];
}

const V2_PATH = '/my/path?parameter1=value1&parameter1=value2&parameter2=value';

describe('the events a function is handed', () => {
  it('http-api-v2: the event is the documented payload 2.0 example field by field', async () => {
    const running = await front('echo', 'http-api-v2');
    const before = Date.now();
    const answer = await send(
      running.front.url,
      'POST',
      V2_PATH,
      v2Request('shop.example.test:8080'),
      Buffer.from('Hello from client!'),
    );
    expect(answer.status).toBe(200);
    const event = json(answer);
    expect(differences(event, fixture('http-api-v2.json'), V2_FORMS)).toEqual([]);
    const context = event['requestContext'] as Record<string, unknown>;
    expect(context['timeEpoch']).toBeGreaterThanOrEqual(before);
    expect(context['time']).toBe(requestTime(context['timeEpoch'] as number));
    // An HTTP API answers with its own request id; Lambda's is another.
    expect(answer.headers['apigw-requestid']).toBe(context['requestId']);
    expect(answer.headers['x-aws-request-id']).toMatch(UUID);
  });

  it('function-url: the event is the documented function URL example field by field', async () => {
    const running = await front('echo', 'function-url');
    const host = 'k7d2w9q4m1x8c5v3b6n0z2l4p8r1t7y3.lambda-url.eu-west-1.localhost';
    const answer = await send(running.front.url, 'POST', V2_PATH, v2Request(host), Buffer.from('Hello from client!'));
    expect(answer.status).toBe(200);
    const event = json(answer);
    const forms = { ...V2_FORMS, 'requestContext.apiId': /^[a-z0-9]{32}$/, 'requestContext.requestId': UUID };
    expect(differences(event, fixture('function-url.json'), forms)).toEqual([]);
    const context = event['requestContext'] as Record<string, unknown>;
    // A function URL's request id is Lambda's own, and the answer names it.
    expect(answer.headers['x-amzn-requestid']).toBe(context['requestId']);
    expect(answer.headers['x-aws-request-id']).toBe(context['requestId']);
  });

  it('rest-v1: the event is the documented payload 1.0 example field by field, multi-value maps included', async () => {
    const running = await front('echo', 'rest-v1');
    const headers = [
      'Accept',
      'application/json',
      'Host',
      'shop.example.test:8080',
      'User-Agent',
      'switchyard-test/1.0',
      'X-Custom',
      'one',
      'Cookie',
      'session=abc123; theme=dark',
      'X-Custom',
      'two',
      'Content-Type',
      'application/json',
      'X-Forwarded-For',
      '198.51.100.7',
      'Content-Length',
      '9',
    ];
    const path = '/orders/42?expand=items&dryRun=true&expand=totals';
    const answer = await send(running.front.url, 'POST', path, headers, Buffer.from('{"qty":2}'));
    expect(answer.status).toBe(200);
    const event = json(answer);
    const forms: Record<string, Form> = {
      'requestContext.apiId': /^[a-z0-9]{10}$/,
      'requestContext.extendedRequestId': GATEWAY_ID,
      'requestContext.requestId': UUID,
      'requestContext.requestTime': CLF,
      'requestContext.requestTimeEpoch': EPOCH_MS,
      'requestContext.resourceId': /^[a-z0-9]{6}$/,
    };
    expect(differences(event, fixture('rest-v1.json'), forms)).toEqual([]);
    const context = event['requestContext'] as Record<string, unknown>;
    expect(answer.headers['x-amzn-requestid']).toBe(context['requestId']);
    expect(answer.headers['x-aws-request-id']).toBe(context['requestId']);
    expect(answer.headers['x-amz-apigw-id']).toBe(context['extendedRequestId']);
  });

  it('rest-v1: a request to the root has no proxy parameter and no query maps; no body is a null body', async () => {
    const running = await front('echo', 'rest-v1');
    const event = json(await send(running.front.url, 'GET', '/', ['Host', 'shop.example.test']));
    expect(event).toMatchObject({
      resource: '/',
      path: '/',
      pathParameters: null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      body: null,
      isBase64Encoded: false,
    });
  });

  it('binary bodies go to the function and come back byte for byte, in both payload formats', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]), randomBytes(256 * 1024)]);
    const digest = createHash('sha256').update(bytes).digest('hex');
    for (const format of ['http-api-v2', 'rest-v1'] as const) {
      const running = await front('binary', format);
      for (const type of ['application/octet-stream', 'text/plain']) {
        // Text that is not UTF-8 is sent base64 as well, or it would not come back unchanged.
        const answer = await send(running.front.url, 'POST', '/upload', ['Content-Type', type], bytes);
        expect(answer.status).toBe(200);
        expect(answer.headers['x-event-base64']).toBe('true');
        expect(answer.headers['x-body-sha256']).toBe(digest);
        expect(answer.headers['content-type']).toBe('application/octet-stream');
        expect(answer.body.equals(bytes)).toBe(true);
      }
      const text = Buffer.from('{"naïve":"café ☕"}');
      const answer = await send(running.front.url, 'POST', '/upload', ['Content-Type', 'application/json'], text);
      expect(answer.headers['x-event-base64']).toBe('false');
      expect(answer.body.equals(text)).toBe(true);
    }
  });

  it('cookies: several in (cookies in 2.0, the Cookie header in 1.0), several Set-Cookie lines out', async () => {
    const setCookies = ['session=s1; Path=/; HttpOnly', 'theme=dark; Max-Age=3600', 'lang=en'];
    const v2 = await front('cookies', 'http-api-v2');
    const a = await send(v2.front.url, 'GET', '/', ['Cookie', 'a=1; b=2', 'Cookie', 'c=3']);
    expect(json(a)).toEqual(['a=1', 'b=2', 'c=3']);
    expect(a.headers['set-cookie']).toEqual(setCookies);
    const v1 = await front('cookies', 'rest-v1');
    const b = await send(v1.front.url, 'GET', '/', ['Cookie', 'a=1; b=2', 'Cookie', 'c=3']);
    expect(json(b)).toEqual(['a=1; b=2', 'c=3']);
    expect(b.headers['set-cookie']).toEqual(setCookies);
  });
});

describe('the answers made of a function’s result', () => {
  it('2.0: a plain object, a string and a number are 200 application/json answers of their JSON text', async () => {
    for (const [handler, body] of [
      ['plain', '{"message":"hi","n":1}'],
      ['text', '"Hello, world!"'],
      ['number', '42'],
    ] as const) {
      const running = await front(handler, 'http-api-v2');
      const answer = await send(running.front.url, 'GET', '/');
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json');
      expect(answer.body.toString()).toBe(body);
    }
  });

  it('1.0: a result without statusCode is a malformed proxy response, a 502', async () => {
    const running = await front('plain', 'rest-v1');
    const answer = await send(running.front.url, 'GET', '/');
    expect(answer.status).toBe(502);
    expect(answer.body.toString()).toBe('{"message": "Internal server error"}');
    expect(running.lines.some((l) => l['msg'] === 'function result cannot be an HTTP answer')).toBe(true);
  });

  it('statusCode, headers and multi-value headers come from the result; a pair in both is sent once', async () => {
    for (const format of ['http-api-v2', 'rest-v1'] as const) {
      const running = await front('custom', format);
      const answer = await send(running.front.url, 'GET', '/');
      expect(answer.status).toBe(201);
      expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(answer.headers['x-single']).toBe('one');
      expect(answer.headers['x-multi']).toBe('a, b');
      expect(answer.body.toString()).toBe('created');
    }
  });

  it('the documented example responses are answered as they say', async () => {
    const v2 = await front('documented', 'http-api-v2', { env: { RESPONSE_FIXTURE: 'http-api-v2-response.json' } });
    const a = await send(v2.front.url, 'POST', '/orders');
    expect(a.status).toBe(201);
    expect(a.headers['content-type']).toBe('application/json');
    expect(a.headers['x-order-id']).toBe('42');
    expect(a.headers['set-cookie']).toEqual(['session=abc123; Path=/; HttpOnly', 'theme=dark; Max-Age=3600']);
    expect(json(a)).toEqual({ orderId: '42', status: 'created' });
    const v1 = await front('documented', 'rest-v1', { env: { RESPONSE_FIXTURE: 'rest-v1-response.json' } });
    const b = await send(v1.front.url, 'GET', '/orders/42');
    expect(b.status).toBe(200);
    expect(b.headers['x-order-id']).toBe('42');
    expect(b.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(json(b)).toEqual({ ok: true });
  });

  it('a throwing handler is a 502 with API Gateway’s body, logged with function, version and error type', async () => {
    const running = await front('throws', 'http-api-v2');
    const answer = await send(running.front.url, 'GET', '/');
    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.body.toString()).toBe('{"message":"Internal Server Error"}');
    expect(answer.headers['apigw-requestid']).toMatch(GATEWAY_ID);
    const line = running.lines.find((l) => l['msg'] === 'function error');
    expect(line).toMatchObject({ level: 40, function: 'orders', version: '3', errorType: 'TypeError' });
    expect(JSON.stringify(line)).not.toContain('no such order');
    const rest = await front('throws', 'rest-v1');
    expect((await send(rest.front.url, 'GET', '/')).body.toString()).toBe('{"message": "Internal server error"}');
  });

  it('a result that cannot be mapped is a 502', async () => {
    const running = await front('malformed', 'http-api-v2');
    const answer = await send(running.front.url, 'GET', '/');
    expect(answer.status).toBe(502);
    expect(answer.body.toString()).toBe('{"message":"Internal Server Error"}');
  });
});

describe('the answers the front gives itself', () => {
  it('a timeout is a 504 and the environment is replaced', async () => {
    const running = await front('slow', 'http-api-v2', { concurrency: 1, timeoutSeconds: 1 });
    const first = await send(running.front.url, 'GET', '/?ms=0');
    const pid = Number(first.body.toString());
    expect(alive(pid)).toBe(true);
    const answer = await send(running.front.url, 'GET', '/?ms=3000');
    expect(answer.status).toBe(504);
    expect(answer.body.toString()).toBe('{"message":"Endpoint request timed out"}');
    expect(alive(pid)).toBe(false);
    const next = await send(running.front.url, 'GET', '/?ms=0');
    expect(next.status).toBe(200);
    expect(Number(next.body.toString())).not.toBe(pid);
    expect(running.lines.find((l) => l['msg'] === 'function timed out')).toMatchObject({ level: 40, version: '3' });
  });

  it('beyond concurrency one of two concurrent requests is a 429', async () => {
    const running = await front('slow', 'http-api-v2', { concurrency: 1 });
    const answers = await Promise.all([
      send(running.front.url, 'GET', '/?ms=500'),
      send(running.front.url, 'GET', '/?ms=500'),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 429]);
    const throttled = answers.find((a) => a.status === 429)!;
    expect(throttled.body.toString()).toBe('{"message":"Too Many Requests"}');
  });

  it('a body over the payload limit is a 413 and the function is not invoked', async () => {
    const running = await front('binary', 'http-api-v2');
    const big = await send(
      running.front.url,
      'POST',
      '/',
      ['Content-Type', 'application/octet-stream'],
      randomBytes(7 << 20),
    );
    expect(big.status).toBe(413);
    expect(big.body.toString()).toBe('{"message":"Request Entity Too Large"}');
    // 5 MB is under the limit, but not once base64-encoded into the event.
    const grown = await send(running.front.url, 'POST', '/', ['Content-Type', 'image/png'], randomBytes(5 << 20));
    expect(grown.status).toBe(413);
    expect(running.invocations).toBe(0);
    const small = await send(running.front.url, 'POST', '/', ['Content-Type', 'image/png'], randomBytes(1024));
    expect(small.status).toBe(200);
    expect(running.invocations).toBe(1);
  });
});

describe('closing', () => {
  it('an answer under way is still sent; a new connection is refused', async () => {
    const running = await front('slow', 'http-api-v2');
    await send(running.front.url, 'GET', '/?ms=0');
    const pending = send(running.front.url, 'GET', '/?ms=300');
    await until(
      () => running.invocations,
      (n) => n === 2,
      3_000,
    );
    await running.front.close();
    expect((await pending).status).toBe(200);
    await expect(send(running.front.url, 'GET', '/?ms=0')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('behind switchyard’s proxy', () => {
  it('the source IP is the address the proxy took the request from, not one the client claims', async () => {
    const running = await front('echo', 'http-api-v2');
    const sy = await startProxy(twoVersions(running.front.url, running.front.url));
    const answer = await send(sy.urls['production']!, 'GET', '/orders?id=7', [
      'X-Forwarded-For',
      '203.0.113.9',
      'Cookie',
      'a=1',
    ]);
    expect(answer.status).toBe(200);
    const event = json(answer);
    expect(event['requestContext']).toMatchObject({ http: { sourceIp: '127.0.0.1', path: '/orders' } });
    expect(event['headers']).toMatchObject({
      'x-forwarded-for': '203.0.113.9, 127.0.0.1',
      'x-forwarded-proto': 'http',
    });
    expect(event['cookies']).toEqual(['a=1']);
    expect(answer.headers['apigw-requestid']).toMatch(GATEWAY_ID);
  });
});
