import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/app/config.js';
import { isSwitchyardError } from '../../src/core/errors.js';
import { type RouteTable, validateRouteTable } from '../../src/core/route-table.js';
import { toBasisPoints, TrafficState } from '../../src/shifting/traffic.js';

const YAML = `
listeners:
  production: { port: 0 }
upstream: { connectTimeout: 1s }
services:
  - name: web
    versions:
      "1": { targets: ["http://127.0.0.1:9001"] }
      "2": { targets: ["http://127.0.0.1:9002", "http://127.0.0.1:9003"] }
    live: "1"
    weights: { "1": 90, "2": 10 }
    routing: { sticky: { cookie: sid }, overrideHeader: X-Pin }
    upstream: { headersTimeout: 2s }
  - name: api
    match: { host: api.local, pathPrefix: /v1 }
    versions:
      blue: { targets: ["http://127.0.0.1:9011"] }
      green: { targets: ["http://127.0.0.1:9012"] }
      canary: { targets: ["http://127.0.0.1:9013"] }
    live: blue
`;

function setup() {
  const traffic = new TrafficState(parseConfig(YAML, 'traffic.yml', {}));
  const published: RouteTable[] = [];
  traffic.attach({ publish: (t) => published.push(t) });
  return { traffic, published };
}

function serviceOf(table: RouteTable, name: string) {
  const s = table.services.find((x) => x.name === name);
  if (!s) throw new Error(`no ${name} in table`);
  return s;
}

/** Runs `fn` and returns the code of the SwitchyardError it throws. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isSwitchyardError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a SwitchyardError');
}

describe('toBasisPoints', () => {
  const labels = ['1', '2', '3'];

  it('converts percent to basis points, dropping zero weights', () => {
    expect(toBasisPoints({ '1': 87.66, '2': 12.34, '3': 0 }, labels)).toEqual({ '1': 8766, '2': 1234 });
    expect(toBasisPoints({ '1': 100 }, labels)).toEqual({ '1': 10_000 });
    expect(toBasisPoints({ '1': 33.33, '2': 33.33, '3': 33.34 }, labels)).toEqual({
      '1': 3333,
      '2': 3333,
      '3': 3334,
    });
  });

  it.each([
    [{ '9': 100 }, 'VERSION_NOT_FOUND'],
    [{ '1': 90, '2': 20 }, 'WEIGHTS_INVALID'],
    [{ '1': 50 }, 'WEIGHTS_INVALID'],
    [{}, 'WEIGHTS_INVALID'],
    [{ '1': 110, '2': -10 }, 'WEIGHTS_INVALID'],
    [{ '1': 87.655, '2': 12.345 }, 'WEIGHTS_INVALID'],
    [{ '1': Number.NaN, '2': 100 }, 'WEIGHTS_INVALID'],
    [{ '1': Number.POSITIVE_INFINITY }, 'WEIGHTS_INVALID'],
    [{ '1': '100' as unknown as number }, 'WEIGHTS_INVALID'],
  ])('%j → %s', (weights, code) => {
    expect(codeOf(() => toBasisPoints(weights, labels))).toBe(code);
  });

  it('says what the weights add up to', () => {
    expect(() => toBasisPoints({ '1': 90, '2': 20 }, labels)).toThrow('weights must add up to 100, got 110');
  });
});

describe('TrafficState', () => {
  it('builds the first table from the config, with the test listener on the live version', () => {
    const { traffic, published } = setup();
    expect(published).toHaveLength(1);
    const table = traffic.table;
    expect(published[0]).toBe(table);
    expect(table.revision).toBe(1);
    expect(table.versionHeader).toBe('x-switchyard-version');
    expect(validateRouteTable(table)).toEqual([]);
    const web = serviceOf(table, 'web');
    expect(web.weights).toEqual({ production: { '1': 9000, '2': 1000 }, test: { '1': 10_000 } });
    expect(web.versions).toEqual([
      { label: '1', targets: ['http://127.0.0.1:9001'] },
      { label: '2', targets: ['http://127.0.0.1:9002', 'http://127.0.0.1:9003'] },
    ]);
    expect(web.sticky).toEqual({ cookie: 'sid' });
    expect(web.overrideHeader).toBe('x-pin');
    expect(web.pathPrefix).toBe('/');
    expect(web.host).toBeUndefined();
    // Per-service upstream settings override the top-level ones field by field.
    expect(web.upstream).toEqual({
      connections: undefined,
      connectTimeout: 1000,
      headersTimeout: 2000,
      bodyTimeout: 30_000,
      keepAliveTimeout: 4000,
    });
    const api = serviceOf(table, 'api');
    expect(api.weights.production).toEqual({ blue: 10_000 });
    expect(api.host).toBe('api.local');
    expect(api.pathPrefix).toBe('/v1');
    expect(api.sticky).toBeUndefined();
  });

  it('setWeights publishes a new table with a higher revision, leaving the old one untouched', () => {
    const { traffic, published } = setup();
    const before = traffic.table;
    const view = traffic.setWeights('api', { blue: 50, green: 37.5, canary: 12.5 });
    expect(published).toHaveLength(2);
    expect(traffic.table).toBe(published[1]);
    expect(traffic.table.revision).toBeGreaterThan(before.revision);
    expect(serviceOf(traffic.table, 'api').weights.production).toEqual({
      blue: 5000,
      green: 3750,
      canary: 1250,
    });
    expect(serviceOf(before, 'api').weights.production).toEqual({ blue: 10_000 });
    expect(view.weights.production).toEqual({ blue: 50, green: 37.5, canary: 12.5 });
    expect(view.weights.test).toEqual({ blue: 100, green: 0, canary: 0 });
    expect(validateRouteTable(traffic.table)).toEqual([]);
  });

  it('setWeights on the test listener leaves production alone', () => {
    const { traffic } = setup();
    traffic.setWeights('web', { '2': 100 }, 'test');
    const web = serviceOf(traffic.table, 'web');
    expect(web.weights.test).toEqual({ '2': 10_000 });
    expect(web.weights.production).toEqual({ '1': 9000, '2': 1000 });
  });

  it('setVersionPercent gives the rest to the live version', () => {
    const { traffic } = setup();
    traffic.setVersionPercent('web', '2', 12.34);
    expect(serviceOf(traffic.table, 'web').weights.production).toEqual({ '1': 8766, '2': 1234 });
    traffic.setVersionPercent('web', '2', 100);
    expect(serviceOf(traffic.table, 'web').weights.production).toEqual({ '2': 10_000 });
    traffic.setVersionPercent('web', '2', 0);
    expect(serviceOf(traffic.table, 'web').weights.production).toEqual({ '1': 10_000 });
    traffic.setVersionPercent('api', 'green', 25, 'test');
    expect(serviceOf(traffic.table, 'api').weights.test).toEqual({ blue: 7500, green: 2500 });
    expect(traffic.table.revision).toBe(5);
  });

  it('setLive moves both listeners wholly to the new live version', () => {
    const { traffic } = setup();
    const view = traffic.setLive('web', '2');
    expect(view.live).toBe('2');
    const web = serviceOf(traffic.table, 'web');
    expect(web.live).toBe('2');
    expect(web.weights).toEqual({ production: { '2': 10_000 }, test: { '2': 10_000 } });
    // The former live version is now the one setVersionPercent gives the rest away from.
    traffic.setVersionPercent('web', '1', 10);
    expect(serviceOf(traffic.table, 'web').weights.production).toEqual({ '1': 1000, '2': 9000 });
  });

  it('setTargets replaces one version’s targets; an empty list is allowed', () => {
    const { traffic, published } = setup();
    traffic.setTargets('web', '2', ['http://127.0.0.1:9100']);
    expect(serviceOf(traffic.table, 'web').versions[1]).toEqual({
      label: '2',
      targets: ['http://127.0.0.1:9100'],
    });
    traffic.setTargets('web', '2', []);
    expect(serviceOf(traffic.table, 'web').versions[1]?.targets).toEqual([]);
    expect(published.map((t) => t.revision)).toEqual([1, 2, 3]);
    expect(traffic.service('web').versions[1]?.targets).toEqual([]);
  });

  it('rejects a target that is not an http(s) URL without changing or publishing anything', () => {
    const { traffic, published } = setup();
    expect(codeOf(() => traffic.setTargets('web', '2', ['http://127.0.0.1:1', 'not a url']))).toBe('ARGUMENTS_INVALID');
    expect(codeOf(() => traffic.setTargets('web', '2', ['ftp://127.0.0.1:1']))).toBe('ARGUMENTS_INVALID');
    expect(published).toHaveLength(1);
    expect(serviceOf(traffic.table, 'web').versions[1]?.targets).toHaveLength(2);
  });

  it('reports unknown services, unknown versions and bad weights without publishing', () => {
    const { traffic, published } = setup();
    expect(codeOf(() => traffic.setWeights('nope', { '1': 100 }))).toBe('SERVICE_NOT_FOUND');
    expect(codeOf(() => traffic.setVersionPercent('nope', '1', 10))).toBe('SERVICE_NOT_FOUND');
    expect(codeOf(() => traffic.setLive('nope', '1'))).toBe('SERVICE_NOT_FOUND');
    expect(codeOf(() => traffic.setTargets('nope', '1', []))).toBe('SERVICE_NOT_FOUND');
    expect(codeOf(() => traffic.service('nope'))).toBe('SERVICE_NOT_FOUND');
    expect(codeOf(() => traffic.setWeights('web', { '3': 100 }))).toBe('VERSION_NOT_FOUND');
    expect(codeOf(() => traffic.setVersionPercent('web', '3', 10))).toBe('VERSION_NOT_FOUND');
    expect(codeOf(() => traffic.setLive('web', '3'))).toBe('VERSION_NOT_FOUND');
    expect(codeOf(() => traffic.setTargets('web', '3', []))).toBe('VERSION_NOT_FOUND');
    expect(codeOf(() => traffic.setWeights('web', { '1': 60, '2': 60 }))).toBe('WEIGHTS_INVALID');
    expect(codeOf(() => traffic.setVersionPercent('web', '2', 101))).toBe('WEIGHTS_INVALID');
    expect(codeOf(() => traffic.setVersionPercent('web', '2', 0.001))).toBe('WEIGHTS_INVALID');
    expect(published).toHaveLength(1);
    expect(serviceOf(traffic.table, 'web').weights.production).toEqual({ '1': 9000, '2': 1000 });
  });

  it('gives a new publisher the current table at once and every later one', () => {
    const { traffic } = setup();
    traffic.setVersionPercent('web', '2', 50);
    const late: number[] = [];
    traffic.attach({ publish: (t) => late.push(t.revision) });
    traffic.setVersionPercent('web', '2', 60);
    expect(late).toEqual([2, 3]);
  });

  it('lists every service as the API shows it', () => {
    const { traffic } = setup();
    const views = traffic.services();
    expect(views.map((v) => v.name)).toEqual(['web', 'api']);
    expect(views[1]).toEqual({
      name: 'api',
      match: { host: 'api.local', pathPrefix: '/v1' },
      live: 'blue',
      versions: [
        { label: 'blue', targets: ['http://127.0.0.1:9011'] },
        { label: 'green', targets: ['http://127.0.0.1:9012'] },
        { label: 'canary', targets: ['http://127.0.0.1:9013'] },
      ],
      weights: {
        production: { blue: 100, green: 0, canary: 0 },
        test: { blue: 100, green: 0, canary: 0 },
      },
    });
  });
});
