/**
 * The split through the real proxy on real sockets: exact counts, runtime weight changes, sticky keys,
 * the override header, host and path routing, and the test listener's own weights.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { stickyBucket } from '../../src/proxy/split.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

interface Sent {
  readonly status: number;
  readonly version: string | undefined;
  readonly body: string;
}

async function send(url: string, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await request(url, { headers });
  const version = res.headers['x-switchyard-version'];
  return {
    status: res.statusCode,
    version: typeof version === 'string' ? version : undefined,
    body: await res.body.text(),
  };
}

/** The version that served each of `n` requests, sent one after another. */
async function sequence(url: string, n: number, headers: Record<string, string> = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await send(url, headers);
    expect(r.status).toBe(200);
    out.push(r.version ?? '?');
  }
  return out;
}

/** Runs `task(i)` for i in 0..n-1, at most `concurrency` at a time; results in index order. */
async function pooled<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

/**
 * Counts of versions over `n` requests sent several at a time. Totals stay exact under concurrency:
 * the picker decides per request, in arrival order, whatever the interleaving.
 */
async function counts(url: string, n: number): Promise<Record<string, number>> {
  const sent = await pooled(n, CONCURRENCY, () => send(url));
  expect(sent.filter((r) => r.status !== 200)).toEqual([]);
  return tally(sent.map((r) => r.version ?? '?'));
}

const CONCURRENCY = 16;

function tally(versions: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of versions) out[v] = (out[v] ?? 0) + 1;
  return out;
}

async function blueGreen(extra: Record<string, unknown> = {}) {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  const sy = await startProxy(twoVersions(blue.url, green.url, extra));
  return { blue, green, sy, prod: `${sy.urls['production']}/split` };
}

describe('exact split through the proxy', () => {
  it('sends exactly 1 request in every 10 to a 10% version', async () => {
    const { blue, green, prod } = await blueGreen({ weights: { '1': 90, '2': 10 } });
    const seq = await sequence(prod, 1000);
    expect(tally(seq)).toEqual({ '1': 900, '2': 100 });
    for (let i = 0; i + 10 <= seq.length; i++) {
      expect(seq.slice(i, i + 10).filter((v) => v === '2')).toHaveLength(1);
    }
    expect(green.hits).toBe(100);
    expect(blue.hits).toBe(900);
  });

  it('alternates at 50%', async () => {
    const { blue, green, prod } = await blueGreen({ weights: { '1': 50, '2': 50 } });
    const seq = await sequence(prod, 1000);
    expect(tally(seq)).toEqual({ '1': 500, '2': 500 });
    for (let i = 1; i < seq.length; i++) expect(seq[i]).not.toBe(seq[i - 1]);
    expect([blue.hits, green.hits]).toEqual([500, 500]);
  });

  it('sends exactly 1234 of 10,000 requests to a 12.34% version', async () => {
    const { blue, green, prod } = await blueGreen({ weights: { '1': 87.66, '2': 12.34 } });
    expect(await counts(prod, 10_000)).toEqual({ '1': 8766, '2': 1234 });
    expect(green.hits).toBe(1234);
    expect(blue.hits).toBe(8766);
  });

  it('applies weights changed at runtime from the next request on', async () => {
    const { green, sy, prod } = await blueGreen();
    expect(await sequence(prod, 5)).toEqual(['1', '1', '1', '1', '1']);
    sy.traffic.setVersionPercent('web', '2', 100);
    expect(await sequence(prod, 3)).toEqual(['2', '2', '2']);
    sy.traffic.setWeights('web', { '1': 50, '2': 50 });
    expect(tally(await sequence(prod, 10))).toEqual({ '1': 5, '2': 5 });
    sy.traffic.setVersionPercent('web', '2', 10);
    expect(tally(await sequence(prod, 20))).toEqual({ '1': 18, '2': 2 });
    sy.traffic.setLive('web', '2');
    expect(await sequence(prod, 3)).toEqual(['2', '2', '2']);
    expect(green.hits).toBe(3 + 5 + 2 + 3);
  });

  it('never routes to a version of weight 0 among three', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const canary = await startUpstream('canary');
    const sy = await startProxy({
      services: [
        {
          name: 'web',
          versions: {
            '1': { targets: [blue.url] },
            '2': { targets: [green.url] },
            '3': { targets: [canary.url] },
          },
          live: '1',
          weights: { '1': 70, '2': 0, '3': 30 },
        },
      ],
    });
    const prod = `${sy.urls['production']}/`;
    expect(tally(await sequence(prod, 100))).toEqual({ '1': 70, '3': 30 });
    sy.traffic.setWeights('web', { '1': 20, '2': 30, '3': 50 });
    expect(tally(await sequence(prod, 100))).toEqual({ '1': 20, '2': 30, '3': 50 });
    expect([blue.hits, green.hits, canary.hits]).toEqual([90, 30, 80]);
  });
});

describe('sticky routing through the proxy', () => {
  it('keeps each x-user-id on one version and splits keyless requests exactly', async () => {
    const { sy, prod } = await blueGreen({
      weights: { '1': 50, '2': 50 },
      routing: { sticky: { header: 'x-user-id' } },
    });
    const first = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (let u = 0; u < 100; u++) {
        const r = await send(prod, { 'x-user-id': `user-${u}` });
        if (round === 0) first.set(`user-${u}`, r.version!);
        else expect(r.version).toBe(first.get(`user-${u}`));
      }
    }
    const sides = tally([...first.values()]);
    expect(sides['1']).toBeGreaterThan(25);
    expect(sides['2']).toBeGreaterThan(25);
    sy.traffic.setVersionPercent('web', '2', 10);
    expect(tally(await sequence(prod, 100))).toEqual({ '1': 90, '2': 10 });
  });

  it('keeps each session cookie on one version, whichever cookies surround it', async () => {
    const { prod } = await blueGreen({
      weights: { '1': 50, '2': 50 },
      routing: { sticky: { cookie: 'session' } },
    });
    const seen = new Map<string, string>();
    for (let s = 0; s < 60; s++) {
      const key = `s${s.toString(36)}x${(s * 7919).toString(16)}`;
      const variants = [`session=${key}`, `theme=dark; session=${key}`, `session=${key}; lang=en`];
      for (const cookie of variants) {
        const r = await send(prod, { cookie });
        expect(r.status).toBe(200);
        const before = seen.get(key);
        if (before === undefined) seen.set(key, r.version!);
        else expect(r.version).toBe(before);
      }
    }
    expect(new Set(seen.values())).toEqual(new Set(['1', '2']));
    // A cookie header without the sticky cookie falls back to the exact split.
    expect(tally(await sequence(prod, 10, { cookie: 'theme=dark' }))).toEqual({ '1': 5, '2': 5 });
  });

  it('only ever moves a key from live to replacement as the weight rises 1% → 100%', async () => {
    const { sy, prod } = await blueGreen({ routing: { sticky: { header: 'x-user-id' } } });
    const keys = Array.from({ length: 100 }, (_, i) => `client-${i}`);
    const onReplacement = new Set<string>();
    const movedBack: string[] = [];
    const wrongSide: string[] = [];
    const shares: number[] = [];
    for (let percent = 1; percent <= 100; percent++) {
      sy.traffic.setVersionPercent('web', '2', percent);
      const versions = await pooled(keys.length, CONCURRENCY, async (i) => {
        const r = await send(prod, { 'x-user-id': keys[i]! });
        return r.version;
      });
      versions.forEach((version, i) => {
        const key = keys[i]!;
        if (version === '2') onReplacement.add(key);
        else if (onReplacement.has(key)) movedBack.push(`${key}@${percent}%`);
        // The documented rule: bucket < weight in basis points → replacement.
        const expected = stickyBucket(key) < percent * 100 ? '2' : '1';
        if (version !== expected) wrongSide.push(`${key}@${percent}%`);
      });
      shares.push(onReplacement.size);
    }
    expect(movedBack).toEqual([]);
    expect(wrongSide).toEqual([]);
    expect(onReplacement.size).toBe(keys.length);
    // The replacement's share grows with the weight, not all at once at the end.
    expect(shares[49]).toBeGreaterThan(30);
    expect(shares[49]).toBeLessThan(70);
  });
});

describe('override header', () => {
  it('pins a request to the named version and ignores unknown labels', async () => {
    const { blue, green, sy, prod } = await blueGreen({
      weights: { '1': 100 },
      routing: { overrideHeader: 'x-switchyard-version', sticky: { header: 'x-user-id' } },
    });
    const pinned = await send(prod, { 'x-switchyard-version': '2' });
    expect(pinned).toEqual({ status: 200, version: '2', body: 'green' });
    // Pinning beats the sticky key.
    for (let i = 0; i < 5; i++) {
      expect((await send(prod, { 'x-switchyard-version': '2', 'x-user-id': `u${i}` })).version).toBe('2');
    }
    const unknown = await send(prod, { 'x-switchyard-version': 'nope' });
    expect(unknown).toEqual({ status: 200, version: '1', body: 'blue' });
    expect(green.hits).toBe(6);
    expect(blue.hits).toBe(1);
    // It pins on the test listener too.
    const viaTest = await send(`${sy.urls['test']}/`, { 'x-switchyard-version': '2' });
    expect(viaTest.version).toBe('2');
  });

  it('is not honoured when the service names no override header', async () => {
    const { green, prod } = await blueGreen();
    expect((await send(prod, { 'x-switchyard-version': '2' })).version).toBe('1');
    expect(green.hits).toBe(0);
  });
});

describe('routing by host and path prefix', () => {
  async function routed(): Promise<{ sy: Switchyard; ups: Record<string, TestUpstream> }> {
    const names = ['root', 'api', 'apiV2', 'admin', 'adminApi'];
    const ups: Record<string, TestUpstream> = {};
    for (const n of names) ups[n] = await startUpstream(n);
    const svc = (name: string, match: Record<string, string>) => ({
      name,
      match,
      versions: { '1': { targets: [ups[name]!.url] } },
      live: '1',
    });
    const sy = await startProxy({
      services: [
        svc('root', { pathPrefix: '/' }),
        svc('api', { pathPrefix: '/api' }),
        svc('apiV2', { pathPrefix: '/api/v2' }),
        svc('admin', { host: 'Admin.Local', pathPrefix: '/' }),
        svc('adminApi', { host: 'admin.local', pathPrefix: '/api' }),
      ],
    });
    return { sy, ups };
  }

  it('picks the longest matching prefix on a segment boundary, host-bound first', async () => {
    const { sy } = await routed();
    const base = sy.urls['production']!;
    const cases: [string, string | undefined, string][] = [
      ['/', undefined, 'root'],
      ['/apix', undefined, 'root'],
      ['/api', undefined, 'api'],
      ['/api?q=1', undefined, 'api'],
      ['/api/', undefined, 'api'],
      ['/api/users', undefined, 'api'],
      ['/api/v2', undefined, 'apiV2'],
      ['/api/v2/orders', undefined, 'apiV2'],
      ['/api/v20', undefined, 'api'],
      ['/', 'admin.local', 'admin'],
      ['/api/x', 'ADMIN.local:8080', 'adminApi'],
      ['/apix', 'admin.local', 'admin'],
      ['/api/v2/x', 'admin.local', 'apiV2'],
      ['/api/x', 'other.local', 'api'],
    ];
    for (const [path, host, expected] of cases) {
      const r = await send(`${base}${path}`, host ? { host } : {});
      expect({ path, host, body: r.body }).toEqual({ path, host, body: expected });
    }
  });

  it('answers 404 NO_ROUTE in JSON when nothing matches', async () => {
    const api = await startUpstream('api');
    const sy = await startProxy({
      services: [
        { name: 'api', match: { pathPrefix: '/api' }, versions: { '1': { targets: [api.url] } }, live: '1' },
        {
          name: 'shop',
          match: { host: 'shop.local', pathPrefix: '/' },
          versions: { '1': { targets: [api.url] } },
          live: '1',
        },
      ],
    });
    const base = sy.urls['production']!;
    for (const [path, host] of [
      ['/apix', undefined],
      ['/', undefined],
      ['/ap', 'other.local'],
    ] as const) {
      const res = await request(`${base}${path}`, { headers: host ? { host } : {} });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.headers['x-switchyard-version']).toBeUndefined();
      expect(await res.body.json()).toMatchObject({ error: 'NO_ROUTE' });
    }
    expect(api.hits).toBe(0);
    expect((await send(`${base}/anything`, { host: 'shop.local' })).status).toBe(200);
  });
});

describe('test listener', () => {
  it('routes by its own weights: all on live by default, then as set for it', async () => {
    const { blue, green, sy, prod } = await blueGreen({ weights: { '1': 90, '2': 10 } });
    const test = `${sy.urls['test']}/t`;
    expect(tally(await sequence(test, 20))).toEqual({ '1': 20 });
    sy.traffic.setWeights('web', { '2': 100 }, 'test');
    expect(tally(await sequence(test, 20))).toEqual({ '2': 20 });
    expect(tally(await sequence(prod, 20))).toEqual({ '1': 18, '2': 2 });
    sy.traffic.setWeights('web', { '1': 50, '2': 50 }, 'test');
    expect(tally(await sequence(test, 20))).toEqual({ '1': 10, '2': 10 });
    expect(tally(await sequence(prod, 10))).toEqual({ '1': 9, '2': 1 });
    expect(blue.hits).toBe(20 + 18 + 10 + 9);
    expect(green.hits).toBe(20 + 2 + 10 + 1);
  });
});
