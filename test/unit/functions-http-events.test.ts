/**
 * The HTTP front's mappings, without sockets: a request into each event format, a function's result into
 * the answer (or the reason it cannot be one), and the small readings both are made of.
 */
import { describe, expect, it } from 'vitest';

import type { EventFormat } from '../../src/config/functions.js';
import { type FrontRequest, requestEvent } from '../../src/functions/http-front/request-event.js';
import {
  derivedId,
  gatewayRequestId,
  isTextBody,
  queryParameters,
  requestTime,
  RequestTimes,
  sourceIp,
} from '../../src/functions/http-front/request-parts.js';
import {
  failureAnswer,
  type FrontAnswer,
  resultResponse,
  type Unmappable,
} from '../../src/functions/http-front/result-response.js';

const API = { accountId: '123456789012', apiId: 'abcdefghij', resourceId: 'abc123' };

function request(overrides: Partial<FrontRequest> = {}): FrontRequest {
  return {
    method: 'GET',
    target: '/',
    protocol: 'HTTP/1.1',
    rawHeaders: ['Host', 'api.example.test:8080'],
    socketAddress: '127.0.0.1',
    body: Buffer.alloc(0),
    requestId: 'id-1',
    extendedRequestId: 'ext-1',
    timeEpoch: 1_741_342_530_123,
    time: requestTime(1_741_342_530_123),
    ...overrides,
  };
}

function event(format: EventFormat, overrides: Partial<FrontRequest> = {}): Record<string, unknown> {
  return JSON.parse(JSON.stringify(requestEvent(format, request(overrides), API))) as Record<string, unknown>;
}

function answer(format: EventFormat, result: unknown): FrontAnswer {
  const out = resultResponse(format, Buffer.from(typeof result === 'string' ? result : JSON.stringify(result)));
  if ('problem' in out) throw new Error(out.problem);
  return out;
}

function problem(format: EventFormat, payload: string): string | undefined {
  return (resultResponse(format, Buffer.from(payload)) as Partial<Unmappable>).problem;
}

describe('payload 2.0 events', () => {
  it('lower-cases headers, joins repeated ones with commas, moves cookies out and drops the hop’s own lines', () => {
    const e = event('http-api-v2', {
      rawHeaders: [
        'Host',
        'api.example.test',
        'X-Multi',
        'a',
        'x-multi',
        'b',
        'Cookie',
        'a=1; b=2',
        'cookie',
        ' c=3 ;',
        'Connection',
        'keep-alive',
        'Transfer-Encoding',
        'chunked',
        '__proto__',
        'x',
      ],
    });
    // A header named __proto__ is a header like any other, not the map's prototype.
    expect(Object.entries(e['headers'] as object)).toEqual([
      ['host', 'api.example.test'],
      ['x-multi', 'a,b'],
      ['__proto__', 'x'],
    ]);
    expect(e['cookies']).toEqual(['a=1', 'b=2', 'c=3']);
  });

  it('reads the query: raw as sent, parameters decoded and repeated keys joined with commas', () => {
    const e = event('http-api-v2', { target: '/a%20b/c?x=1&x=2&y=hello+world&z=%7E&w&bad=%zz' });
    expect(e['rawPath']).toBe('/a%20b/c');
    expect(e['rawQueryString']).toBe('x=1&x=2&y=hello+world&z=%7E&w&bad=%zz');
    expect(e['queryStringParameters']).toEqual({ x: '1,2', y: 'hello world', z: '~', w: '', bad: '%zz' });
  });

  it('omits cookies, query parameters and body when there are none', () => {
    const e = event('http-api-v2');
    expect(e).not.toHaveProperty('cookies');
    expect(e).not.toHaveProperty('queryStringParameters');
    expect(e).not.toHaveProperty('body');
    expect(e).not.toHaveProperty('pathParameters');
    expect(e['rawQueryString']).toBe('');
    expect(e['isBase64Encoded']).toBe(false);
  });

  it('fills requestContext from the request, its ids and time', () => {
    const e = event('http-api-v2', {
      method: 'DELETE',
      target: '/orders/7?x=1',
      rawHeaders: ['Host', 'api.example.test:8080', 'User-Agent', 'ua/1', 'X-Forwarded-For', '10.0.0.1, 192.0.2.9'],
    });
    expect(e['requestContext']).toEqual({
      accountId: '123456789012',
      apiId: 'abcdefghij',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: { method: 'DELETE', path: '/orders/7', protocol: 'HTTP/1.1', sourceIp: '192.0.2.9', userAgent: 'ua/1' },
      requestId: 'id-1',
      routeKey: '$default',
      stage: '$default',
      time: '07/Mar/2025:10:15:30 +0000',
      timeEpoch: 1_741_342_530_123,
    });
  });

  it('a function URL event has its null path parameters, stage variables, authentication and authorizer', () => {
    const e = event('function-url');
    expect(e['pathParameters']).toBeNull();
    expect(e['stageVariables']).toBeNull();
    expect(e['requestContext']).toMatchObject({ authentication: null, authorizer: null });
    expect(event('http-api-v2')['requestContext']).not.toHaveProperty('authorizer');
  });

  it('a text body goes as is, anything else base64', () => {
    const json = event('http-api-v2', {
      rawHeaders: ['Content-Type', 'application/json; charset=utf-8'],
      body: Buffer.from('{"a":"é"}'),
    });
    expect(json).toMatchObject({ body: '{"a":"é"}', isBase64Encoded: false });
    const bytes = Buffer.from([0, 1, 2, 0xff]);
    const png = event('http-api-v2', { rawHeaders: ['Content-Type', 'image/png'], body: bytes });
    expect(png).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });
  });
});

describe('payload 1.0 events', () => {
  it('keeps the client’s spelling, the last value in headers and every value in multiValueHeaders', () => {
    const e = event('rest-v1', {
      rawHeaders: ['X-Custom', 'one', 'Accept', '*/*', 'x-custom', 'two', 'Cookie', 'a=1; b=2', 'Connection', 'close'],
    });
    expect(e['headers']).toEqual({ 'X-Custom': 'two', Accept: '*/*', Cookie: 'a=1; b=2' });
    expect(e['multiValueHeaders']).toEqual({ 'X-Custom': ['one', 'two'], Accept: ['*/*'], Cookie: ['a=1; b=2'] });
  });

  it('keeps the last value of a repeated parameter in queryStringParameters and all in the multi-value map', () => {
    const e = event('rest-v1', { target: '/a/b?x=1&y=2&x=3' });
    expect(e['queryStringParameters']).toEqual({ x: '3', y: '2' });
    expect(e['multiValueQueryStringParameters']).toEqual({ x: ['1', '3'], y: ['2'] });
    expect(e).toMatchObject({ resource: '/{proxy+}', path: '/a/b', pathParameters: { proxy: 'a/b' } });
  });

  it('states what is absent as null: query maps, body, stage variables', () => {
    const e = event('rest-v1');
    expect(e).toMatchObject({
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
    });
    expect(e['requestContext']).toMatchObject({
      extendedRequestId: 'ext-1',
      requestTime: '07/Mar/2025:10:15:30 +0000',
      requestTimeEpoch: 1_741_342_530_123,
      resourceId: 'abc123',
      identity: { sourceIp: '127.0.0.1', userAgent: '', caller: null },
    });
  });
});

describe('the readings an event is made of', () => {
  it('tells text from binary by type, and only valid UTF-8 is text', () => {
    const utf8 = Buffer.from('héllo');
    const broken = Buffer.from([0xc3, 0x28]);
    for (const type of [
      'text/plain',
      'TEXT/HTML; charset=utf-8',
      'application/json',
      'application/vnd.api+json',
      'application/xml',
      'application/javascript',
      'application/x-www-form-urlencoded',
      'application/yaml',
      undefined,
    ]) {
      expect(isTextBody(type, utf8), String(type)).toBe(true);
      expect(isTextBody(type, broken), String(type)).toBe(false);
    }
    for (const type of ['application/octet-stream', 'image/png', 'application/jsonx', 'multipart/form-data']) {
      expect(isTextBody(type, utf8), type).toBe(false);
    }
  });

  it('takes the client address from X-Forwarded-For’s last hop, else the socket', () => {
    expect(sourceIp('203.0.113.1, 10.0.0.2', '127.0.0.1')).toBe('10.0.0.2');
    expect(sourceIp(undefined, '::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(sourceIp('::1', '127.0.0.1')).toBe('::1');
    expect(sourceIp(' , ', '127.0.0.1')).toBe('127.0.0.1');
    expect(sourceIp(undefined, undefined)).toBe('');
  });

  it('parses queries, null for none', () => {
    expect(queryParameters('')).toBeNull();
    expect(queryParameters('&&')).toBeNull();
    expect([...queryParameters('a=1&a=&b')!]).toEqual([
      ['a', ['1', '']],
      ['b', ['']],
    ]);
  });

  it('formats API Gateway’s time, once per second', () => {
    expect(requestTime(Date.UTC(2020, 2, 12, 19, 3, 58, 390))).toBe('12/Mar/2020:19:03:58 +0000');
    expect(requestTime(Date.UTC(2021, 0, 2, 3, 4, 5))).toBe('02/Jan/2021:03:04:05 +0000');
    const times = new RequestTimes();
    const a = times.format(Date.UTC(2021, 0, 2, 3, 4, 5, 1));
    expect(times.format(Date.UTC(2021, 0, 2, 3, 4, 5, 999))).toBe(a);
    expect(times.format(Date.UTC(2021, 0, 2, 3, 4, 6))).toBe('02/Jan/2021:03:04:06 +0000');
  });

  it('makes ids of the documented forms', () => {
    expect(gatewayRequestId()).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(gatewayRequestId()).not.toBe(gatewayRequestId());
    expect(derivedId('orders', 10)).toMatch(/^[a-z0-9]{10}$/);
    expect(derivedId('orders', 32)).toMatch(/^[a-z0-9]{32}$/);
    expect(derivedId('orders', 10)).toBe(derivedId('orders', 10));
    expect(derivedId('orders', 10)).not.toBe(derivedId('payments', 10));
  });
});

describe('payload 2.0 results', () => {
  it('a result without statusCode is a 200 application/json answer of its own JSON text', () => {
    for (const text of ['{"message":"hi"}', '"Hello, world!"', '42', '[1,2]', 'null', 'true', '{"body":"x"}']) {
      const a = answer('http-api-v2', text);
      expect(a.status).toBe(200);
      expect(a.headers).toEqual(['content-type', 'application/json']);
      expect(a.body.toString()).toBe(text);
    }
  });

  it('the structured form: status, headers, cookies as Set-Cookie lines, application/json by default', () => {
    const a = answer('http-api-v2', {
      statusCode: 201,
      headers: { 'x-a': 'a', 'x-n': 7, 'x-b': true, 'Content-Length': '999', 'x-null': null },
      cookies: ['a=1; Path=/', 'b=2'],
      body: 'done',
    });
    expect(a.status).toBe(201);
    expect(a.headers).toEqual([
      'x-a',
      'a',
      'x-n',
      '7',
      'x-b',
      'true',
      'set-cookie',
      'a=1; Path=/',
      'set-cookie',
      'b=2',
      'content-type',
      'application/json',
    ]);
    expect(a.body.toString()).toBe('done');
  });

  it('decodes a base64 body; no body is an empty one', () => {
    const bytes = Buffer.from([0, 0xff, 0x10]);
    expect(
      answer('function-url', { statusCode: 200, body: bytes.toString('base64'), isBase64Encoded: true }).body,
    ).toEqual(bytes);
    expect(answer('http-api-v2', { statusCode: 204 }).body.length).toBe(0);
    expect(answer('http-api-v2', { statusCode: '404' }).status).toBe(404);
  });

  it('names what cannot be mapped', () => {
    expect(problem('http-api-v2', 'plain text')).toMatch(/not JSON/);
    expect(problem('http-api-v2', '')).toMatch(/not JSON/);
    expect(problem('http-api-v2', '{"statusCode":99}')).toMatch(/statusCode/);
    expect(problem('http-api-v2', '{"statusCode":200.5}')).toMatch(/statusCode/);
    expect(problem('http-api-v2', '{"statusCode":null}')).toMatch(/statusCode/);
    expect(problem('http-api-v2', '{"statusCode":200,"body":{"a":1}}')).toMatch(/body/);
    expect(problem('http-api-v2', '{"statusCode":200,"headers":{"x":{"a":1}}}')).toMatch(/header "x"/);
    expect(problem('http-api-v2', '{"statusCode":200,"headers":{"x":"a\\r\\nb: c"}}')).toMatch(/character/);
    expect(problem('http-api-v2', '{"statusCode":200,"headers":{"a b":"c"}}')).toMatch(/header name/);
    expect(problem('http-api-v2', '{"statusCode":200,"cookies":"a=1"}')).toMatch(/cookies/);
    expect(problem('http-api-v2', '{"statusCode":200,"isBase64Encoded":"yes"}')).toMatch(/isBase64Encoded/);
  });
});

describe('payload 1.0 results', () => {
  it('merges headers and multiValueHeaders; a pair in both is sent once', () => {
    const a = answer('rest-v1', {
      statusCode: 200,
      headers: { 'Content-Type': 'text/plain', 'X-A': 'two', 'x-b': '1' },
      multiValueHeaders: { 'X-A': ['one', 'two'], 'Set-Cookie': ['a=1', 'b=2'] },
      body: 'ok',
    });
    expect(a.headers).toEqual([
      'X-A',
      'one',
      'X-A',
      'two',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'Content-Type',
      'text/plain',
      'x-b',
      '1',
    ]);
  });

  it('accepts only the structured form with its own keys', () => {
    expect(problem('rest-v1', '{"message":"hi"}')).toMatch(/no statusCode/);
    expect(problem('rest-v1', '"text"')).toMatch(/no statusCode/);
    expect(problem('rest-v1', '{"statusCode":200,"cookies":["a=1"]}')).toMatch(/key "cookies"/);
    expect(problem('rest-v1', '{"statusCode":200,"multiValueHeaders":{"a":"b"}}')).toMatch(/not a list/);
    expect(answer('rest-v1', { statusCode: 200, body: null, isBase64Encoded: false }).body.length).toBe(0);
  });
});

describe('the front’s own answers', () => {
  it('are worded as API Gateway words them, per payload family', () => {
    expect(failureAnswer('http-api-v2', 'function-error')).toEqual({
      status: 502,
      body: Buffer.from('{"message":"Internal Server Error"}'),
    });
    expect(failureAnswer('rest-v1', 'function-error')).toEqual({
      status: 502,
      body: Buffer.from('{"message": "Internal server error"}'),
    });
    expect(failureAnswer('function-url', 'timeout').status).toBe(504);
    expect(failureAnswer('rest-v1', 'throttled')).toEqual({
      status: 429,
      body: Buffer.from('{"message":"Too Many Requests"}'),
    });
    expect(failureAnswer('http-api-v2', 'too-large').status).toBe(413);
  });
});
