/**
 * The control API on its own port: health, the services' state and weight changes, which take effect
 * on the data plane at once; errors are small JSON bodies with stable codes and never a stack trace.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

interface Reply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

async function call(sy: Switchyard, method: 'GET' | 'PUT', path: string, body?: unknown): Promise<Reply> {
  const res = await request(`${sy.urls['control']}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          headers: { 'content-type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    contentType: res.headers['content-type'] as string | undefined,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    text,
  };
}

/** Versions that answered `n` production requests in a row, in order. */
async function served(sy: Switchyard, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await request(`${sy.urls['production']}/`);
    out.push(await res.body.text());
  }
  return out;
}

async function setup(): Promise<Switchyard> {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  return startProxy(twoVersions(blue.url, green.url));
}

/** An error reply: JSON, the code, a message, and nothing of the server's insides. */
function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status).toBe(status);
  expect(reply.contentType).toMatch(/^application\/json/);
  expect(reply.body['error']).toBe(code);
  expect(typeof reply.body['message']).toBe('string');
  expect(reply.text).not.toMatch(/\bat .+\.(ts|js):\d+|stack/i);
}

describe('control API', () => {
  it('GET /healthz answers ok', async () => {
    const sy = await setup();
    const reply = await call(sy, 'GET', '/healthz');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'ok' });
  });

  it('GET /v1/services lists every service with versions, targets and weights', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy({
      services: [
        {
          name: 'web',
          versions: { '1': { targets: [blue.url] }, '2': { targets: [green.url] } },
          live: '1',
          weights: { '1': 90, '2': 10 },
        },
        {
          name: 'api',
          match: { host: 'api.example', pathPrefix: '/api' },
          versions: { v7: { targets: [green.url] } },
          live: 'v7',
        },
      ],
    });
    const reply = await call(sy, 'GET', '/v1/services');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      services: [
        {
          name: 'web',
          match: { pathPrefix: '/' },
          live: '1',
          versions: [
            { label: '1', targets: [blue.url] },
            { label: '2', targets: [green.url] },
          ],
          weights: { production: { '1': 90, '2': 10 }, test: { '1': 100, '2': 0 } },
          // No health checks configured and nothing ejected.
          health: {
            '1': [{ target: blue.url, state: 'unchecked', since: 0 }],
            '2': [{ target: green.url, state: 'unchecked', since: 0 }],
          },
        },
        {
          name: 'api',
          match: { host: 'api.example', pathPrefix: '/api' },
          live: 'v7',
          versions: [{ label: 'v7', targets: [green.url] }],
          weights: { production: { v7: 100 }, test: { v7: 100 } },
          health: { v7: [{ target: green.url, state: 'unchecked', since: 0 }] },
        },
      ],
    });
  });

  it('GET /v1/services/:name shows one service, 404 SERVICE_NOT_FOUND for an unknown one', async () => {
    const sy = await setup();
    const web = await call(sy, 'GET', '/v1/services/web');
    expect(web.status).toBe(200);
    expect(web.body).toMatchObject({ name: 'web', live: '1', weights: { production: { '1': 100, '2': 0 } } });
    const missing = await call(sy, 'GET', '/v1/services/nope');
    expectError(missing, 404, 'SERVICE_NOT_FOUND');
    expect(missing.body['message']).toMatch(/nope/);
  });

  it('PUT /v1/services/:name/weight with {weights} moves production traffic at once', async () => {
    const sy = await setup();
    expect(await served(sy, 4)).toEqual(['blue', 'blue', 'blue', 'blue']);
    const reply = await call(sy, 'PUT', '/v1/services/web/weight', { weights: { '1': 50, '2': 50 } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ name: 'web', weights: { production: { '1': 50, '2': 50 } } });
    const after = await served(sy, 10);
    expect(after.filter((v) => v === 'green')).toHaveLength(5);
    expect(after.filter((v) => v === 'blue')).toHaveLength(5);
    // What GET shows is what was set.
    expect((await call(sy, 'GET', '/v1/services/web')).body['weights']).toEqual({
      production: { '1': 50, '2': 50 },
      test: { '1': 100, '2': 0 },
    });
  });

  it('PUT with {version, percent} gives that share to the version and the rest to live', async () => {
    const sy = await setup();
    const reply = await call(sy, 'PUT', '/v1/services/web/weight', { version: '2', percent: 10 });
    expect(reply.status).toBe(200);
    expect(reply.body['weights']).toMatchObject({ production: { '1': 90, '2': 10 } });
    const got = await served(sy, 10);
    expect(got.filter((v) => v === 'green')).toHaveLength(1);
    const all = await call(sy, 'PUT', '/v1/services/web/weight', { version: '2', percent: 100 });
    expect(all.body['weights']).toMatchObject({ production: { '1': 0, '2': 100 } });
    expect(await served(sy, 3)).toEqual(['green', 'green', 'green']);
    // Rolling back: all of it on the live version.
    const back = await call(sy, 'PUT', '/v1/services/web/weight', { version: '1', percent: 100 });
    expect(back.body['weights']).toMatchObject({ production: { '1': 100, '2': 0 } });
    expect(await served(sy, 3)).toEqual(['blue', 'blue', 'blue']);
  });

  it('PUT can set the test listener without touching production', async () => {
    const sy = await setup();
    const reply = await call(sy, 'PUT', '/v1/services/web/weight', {
      version: '2',
      percent: 100,
      listener: 'test',
    });
    expect(reply.status).toBe(200);
    expect(reply.body['weights']).toEqual({ production: { '1': 100, '2': 0 }, test: { '1': 0, '2': 100 } });
    const test = await request(`${sy.urls['test']}/`);
    expect(await test.body.text()).toBe('green');
    expect(await served(sy, 2)).toEqual(['blue', 'blue']);
  });

  it('rejects invalid bodies with 400 and every issue, and changes nothing', async () => {
    const sy = await setup();
    const cases: [unknown, RegExp][] = [
      [{ version: '2', percent: 130 }, /^percent: .*100/],
      [{ version: '2', percent: -1 }, /^percent: /],
      [{ version: '2' }, /^percent: /],
      [{ weights: { '1': '50' } }, /^weights\.1: .*number/],
      [{ weights: { '1': 50, '2': 50 }, listener: 'staging' }, /^listener: /],
      [{ foo: 1 }, /foo/],
      [[1, 2], /object/],
    ];
    for (const [body, issue] of cases) {
      const reply = await call(sy, 'PUT', '/v1/services/web/weight', body);
      expectError(reply, 400, 'ARGUMENTS_INVALID');
      const issues = reply.body['issues'] as string[];
      expect(Array.isArray(issues), JSON.stringify(body)).toBe(true);
      expect(issues.length, JSON.stringify(body)).toBeGreaterThan(0);
      expect(
        issues.some((i) => issue.test(i)),
        `${JSON.stringify(body)} -> ${issues.join('; ')}`,
      ).toBe(true);
      expect(issues).not.toContain('Invalid input');
    }
    expect((await call(sy, 'GET', '/v1/services/web')).body['weights']).toMatchObject({
      production: { '1': 100, '2': 0 },
    });
  });

  it('rejects bodies that are not JSON objects with 400 and no stack trace', async () => {
    const sy = await setup();
    expectError(await call(sy, 'PUT', '/v1/services/web/weight', '{bad json'), 400, 'ARGUMENTS_INVALID');
    expectError(await call(sy, 'PUT', '/v1/services/web/weight', ''), 400, 'ARGUMENTS_INVALID');
    const res = await request(`${sy.urls['control']}/v1/services/web/weight`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: 'fifty',
    });
    const text = await res.body.text();
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(text)).toMatchObject({ error: 'ARGUMENTS_INVALID' });
  });

  it('rejects weights the traffic state refuses, with their own codes', async () => {
    const sy = await setup();
    const sum = await call(sy, 'PUT', '/v1/services/web/weight', { weights: { '1': 50, '2': 40 } });
    expectError(sum, 400, 'WEIGHTS_INVALID');
    expect(sum.body['message']).toMatch(/add up to 100/);
    const decimals = await call(sy, 'PUT', '/v1/services/web/weight', {
      weights: { '1': 50.001, '2': 49.999 },
    });
    expectError(decimals, 400, 'WEIGHTS_INVALID');
    expectError(
      await call(sy, 'PUT', '/v1/services/web/weight', { weights: { '1': 50, '3': 50 } }),
      404,
      'VERSION_NOT_FOUND',
    );
    expectError(
      await call(sy, 'PUT', '/v1/services/web/weight', { version: '9', percent: 5 }),
      404,
      'VERSION_NOT_FOUND',
    );
    expectError(
      await call(sy, 'PUT', '/v1/services/nope/weight', { version: '2', percent: 5 }),
      404,
      'SERVICE_NOT_FOUND',
    );
    // A share for the live version has no "rest" to give to live: refused rather than guessed.
    const live = await call(sy, 'PUT', '/v1/services/web/weight', { version: '1', percent: 30 });
    expectError(live, 400, 'WEIGHTS_INVALID');
    expect(live.body['message']).toMatch(/live/);
    expect((await call(sy, 'GET', '/v1/services/web')).body['weights']).toMatchObject({
      production: { '1': 100, '2': 0 },
    });
    expect(await served(sy, 2)).toEqual(['blue', 'blue']);
  });

  it('answers unknown routes with 404 JSON in the same shape', async () => {
    const sy = await setup();
    expectError(await call(sy, 'GET', '/v1/nothing'), 404, 'NO_ROUTE');
  });

  it('answers an unexpected failure with 500 INTERNAL and no details', async () => {
    const sy = await setup();
    sy.traffic.setWeights = () => {
      throw new TypeError('secret internal detail');
    };
    const reply = await call(sy, 'PUT', '/v1/services/web/weight', { weights: { '1': 100 } });
    expectError(reply, 500, 'INTERNAL');
    expect(reply.text).not.toContain('secret internal detail');
    expect(reply.text).not.toContain('TypeError');
    // The API keeps serving.
    expect((await call(sy, 'GET', '/healthz')).status).toBe(200);
  });
});
