/**
 * Fuzzes the REST API on a real switchyard: every route that takes a body, a path parameter or a query
 * string (a service's weights, alarms, a deployment's timeline and promotion, custom deployment
 * configurations, notifications), with mutated valid bodies, bodies that are not JSON, odd names in the
 * path (percent-encoded bytes of odd Unicode, very long ones) and odd query strings. Every answer is a
 * 2xx, or a 4xx in the one REST error form (`{error, message, issues?}` with a stable code), never a 5xx
 * or a stack trace; the API still answers afterwards; and a refused call changes nothing.
 */
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ErrorBody } from '../../src/api/rest/wire.js';
import type { Switchyard } from '../../src/app/start.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { ECS_APPSPEC, ECS_GROUP } from '../support/appspecs.js';
import { CASE_BUDGET_MS, fuzz, fuzzTimeout, mutated, oddString, STACK_TRACE } from '../support/fuzz.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

let sy: Switchyard;
let upstreams: TestUpstream[] = [];
/** A stopped deployment, for the routes that name one. */
let deploymentId = '';

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

/** One fuzz case: a request to the control API. */
interface Case {
  readonly route: string;
  readonly method: Method;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: string | Buffer | undefined;
}

/** Percent-encodes the UTF-8 bytes of `s` (a lone surrogate becomes U+FFFD, as a client would send it). */
function encodeBytes(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** A path segment: a known name, an odd one encoded, or a malformed or very long escape. */
function segment(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...known), weight: 3 },
    { arbitrary: oddString.filter((s) => s.length < 20_000).map(encodeBytes), weight: 3 },
    {
      arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '..%2F..%2Fetc', '%2F', 'a%20b', '%C0%AF', '%FF'),
      weight: 1,
    },
    { arbitrary: fc.constantFrom(101, 2_000, 8_000).map((n) => 'x'.repeat(n)), weight: 1 },
  );
}

async function send(c: Case): Promise<{ status: number; type: string | undefined; text: string }> {
  const res = await request(`${sy.urls['control']}${c.path}`, {
    method: c.method,
    headers: c.contentType === undefined ? {} : { 'content-type': c.contentType },
    ...(c.body !== undefined && { body: c.body }),
    headersTimeout: CASE_BUDGET_MS,
    bodyTimeout: CASE_BUDGET_MS,
  });
  const type = res.headers['content-type'];
  return { status: res.statusCode, type: Array.isArray(type) ? type[0] : type, text: await res.body.text() };
}

/** What a refused call must leave as it was: traffic, alarms, configurations, deployments. */
function state(): string {
  return JSON.stringify({
    traffic: sy.traffic.services(),
    alarms: sy.alarms.all(),
    configs: sy.registry.configNames().map((c) => sy.registry.config(c)),
    deployments: sy.engine.list().map((d) => [d.id, d.status]),
  });
}

const ALARMS: readonly object[] = [
  { kind: 'error-rate', version: 'replacement', threshold: 0.05, window: '5s', minRequests: 20 },
  { kind: 'latency', version: 'replacement', quantile: 0.99, threshold: '250ms', window: '10s' },
  { kind: 'compare', confidence: 0.95, minEffect: 0.1, window: '30s' },
  { kind: 'prometheus', address: 'http://127.0.0.1:9', query: 'up', threshold: 0.05 },
];

const CONFIGS: readonly object[] = [
  {
    name: 'fz-canary',
    computePlatform: 'ECS',
    trafficRouting: { type: 'TimeBasedCanary', percent: 0.5, interval: '90s' },
  },
  {
    name: 'fz-steps',
    computePlatform: 'ECS',
    trafficRouting: { steps: [{ weight: 1, pause: '30s' }, { weight: 100 }] },
  },
  {
    name: 'fz-linear',
    computePlatform: 'Lambda',
    trafficRouting: { type: 'TimeBasedLinear', percent: 10, interval: 60_000 },
  },
];

const WEIGHTS: readonly object[] = [
  { weights: { '1': 90, '2': 10 } },
  { weights: { '1': 87.66, '2': 12.34 }, listener: 'test' },
  { version: '2', percent: 10 },
  { version: '2', percent: 100, listener: 'production' },
];

/** A JSON body: a valid one mutated, or text that is no JSON object at all. */
function body(bases: readonly object[]): fc.Arbitrary<string> {
  const fromDoc = fc
    .nat({ max: bases.length - 1 })
    .chain((i) => mutated(bases[i]))
    .map(({ doc }) => {
      try {
        return JSON.stringify(doc) ?? '';
      } catch {
        return `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
      }
    });
  const raw = fc.oneof(
    fc.constantFrom(
      '',
      'null',
      '[]',
      '"x"',
      '1e308',
      '{',
      '{"weights":',
      '{"a":1,}',
      '\u0000',
      '{"__proto__":{"x":1}}',
    ),
    fc.constantFrom(64, 65, 1_000).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
    fc.constant(`{"name":"${'x'.repeat(1_100_000)}"}`),
    fc.string({ unit: 'binary', maxLength: 100 }),
  );
  return fc.oneof({ arbitrary: fromDoc, weight: 5 }, { arbitrary: raw, weight: 1 });
}

const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 8 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/json; charset=latin1',
      'application/x-www-form-urlencoded',
      '',
    ),
    weight: 1,
  },
);

function cases(): fc.Arbitrary<Case> {
  const services = segment(['web', 'api']);
  const alarms = segment(['fz-alarm', 'green-errors']);
  const ids = segment([deploymentId, 'd-AAAAAAAAA']);
  const jsonCase = (route: string, method: Method, path: fc.Arbitrary<string>, bases: readonly object[]) =>
    fc
      .tuple(path, body(bases), contentType)
      .map(([p, b, t]): Case => ({ route, method, path: p, body: b, contentType: t }));
  const bare = (route: string, method: Method, path: fc.Arbitrary<string>) =>
    path.map((p): Case => ({ route, method, path: p, body: undefined, contentType: undefined }));
  const query = fc
    .array(
      fc.tuple(
        fc.constantFrom('deploymentId', 'state', 'x', '__proto__', 'deploymentId[]', ''),
        fc.oneof(
          fc.constantFrom(deploymentId, 'pending', 'delivered', 'failed'),
          oddString.filter((s) => s.length < 4_000),
        ),
      ),
      { maxLength: 3 },
    )
    .map((pairs) => pairs.map(([k, v]) => `${encodeBytes(k)}=${encodeBytes(v)}`).join('&'));
  return fc.oneof(
    jsonCase(
      'PUT weight',
      'PUT',
      services.map((s) => `/v1/services/${s}/weight`),
      WEIGHTS,
    ),
    bare(
      'GET service',
      'GET',
      services.map((s) => `/v1/services/${s}`),
    ),
    jsonCase(
      'PUT alarm',
      'PUT',
      alarms.map((a) => `/v1/alarms/${a}`),
      ALARMS,
    ),
    bare(
      'GET alarm',
      'GET',
      alarms.map((a) => `/v1/alarms/${a}`),
    ),
    bare(
      'DELETE alarm',
      'DELETE',
      alarms.map((a) => `/v1/alarms/${a}`),
    ),
    bare(
      'GET events',
      'GET',
      ids.map((id) => `/v1/deployments/${id}/events`),
    ),
    bare(
      'POST promote',
      'POST',
      ids.map((id) => `/v1/deployments/${id}/promote`),
    ),
    jsonCase('POST config', 'POST', fc.constant('/v1/deployment-configs'), CONFIGS),
    bare(
      'GET notifications',
      'GET',
      query.map((q) => `/v1/notifications?${q}`),
    ),
    // A body where none is expected, and an unknown method on a known path.
    jsonCase(
      'POST service',
      'POST',
      services.map((s) => `/v1/services/${s}`),
      WEIGHTS,
    ),
    fc.constant<Case>({
      route: 'long path',
      method: 'GET',
      path: `/v1/services/${'a'.repeat(12_000)}`,
      body: undefined,
      contentType: undefined,
    }),
  );
}

beforeAll(async () => {
  upstreams = [
    await startUpstream('blue', undefined, { autoClose: false }),
    await startUpstream('green', undefined, { autoClose: false }),
  ];
  const web = twoVersions(upstreams[0]!.url, upstreams[1]!.url).services[0] as Record<string, unknown>;
  sy = await startProxy(
    {
      services: [web, { ...web, name: 'api', match: { pathPrefix: '/api' } }],
      alarms: { 'green-errors': ALARMS[0] },
    },
    { autoClose: false },
  );
  // A deployment to name: created through the engine's own API, then stopped.
  const call = async (operation: string, payload: object) => {
    const res = await request(`${sy.urls['control']}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `CodeDeploy_20141006.${operation}` },
      body: JSON.stringify(payload),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${operation}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  await call('CreateApplication', { applicationName: 'web', computePlatform: 'ECS' });
  await call('CreateDeploymentGroup', {
    applicationName: 'web',
    deploymentGroupName: 'web-prod',
    ...ECS_GROUP,
    blueGreenDeploymentConfiguration: {
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
    },
  });
  const created = await call('CreateDeployment', {
    applicationName: 'web',
    deploymentGroupName: 'web-prod',
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ECS_APPSPEC } },
  });
  deploymentId = created['deploymentId'] as string;
  await call('StopDeployment', { deploymentId, autoRollbackEnabled: true });
}, 60_000);

afterAll(async () => {
  await sy?.close();
  await Promise.all(upstreams.map((u) => u.close()));
});

const KNOWN_CODES = new Set(Object.keys(ERROR_CODES));

describe('fuzz: the REST API', () => {
  it(
    'rest: every hostile request is answered 2xx, or 4xx in the REST error form, and changes nothing when refused',
    async () => {
      await fuzz(
        'rest',
        cases(),
        async (c) => {
          const before = state();
          const answer = await send(c);
          const what = `${c.method} ${c.path.slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 500)}`;
          expect(answer.status, what).toBeLessThan(500);
          expect(STACK_TRACE.test(answer.text), what).toBe(false);
          if (answer.status >= 400) {
            expect(answer.type, what).toMatch(/^application\/json/);
            const parsed = ErrorBody.safeParse(JSON.parse(answer.text));
            expect(parsed.success, what).toBe(true);
            expect(KNOWN_CODES.has(parsed.data!.error), what).toBe(true);
            expect(state(), `${what}: refused but changed state`).toBe(before);
          }
          // Still serving: a valid call right after works.
          const after = await send({
            route: '',
            method: 'GET',
            path: '/v1/services/web',
            body: undefined,
            contentType: undefined,
          });
          expect(after.status).toBe(200);
        },
        { label: (c) => c.route },
      );
    },
    fuzzTimeout(),
  );
});
