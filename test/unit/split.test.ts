import type { IncomingMessage } from 'node:http';

import { afterEach, describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/app/config.js';
import { StatsRecorder } from '../../src/core/stats-recorder.js';
import { type CompiledTable, compileTable, PoolRegistry } from '../../src/proxy/compiled-table.js';
import {
  cookieValue,
  SmoothWeightedPicker,
  STICKY_BUCKETS,
  stickyBucket,
  StickyPicker,
} from '../../src/proxy/split.js';
import { TrafficState } from '../../src/shifting/traffic.js';

function picks(picker: SmoothWeightedPicker, n: number): number[] {
  return Array.from({ length: n }, () => picker.pick());
}

/** Counts of `choice` in every window of `size` consecutive picks (sliding by one). */
function windowCounts(seq: readonly number[], choice: number, size: number): Set<number> {
  const seen = new Set<number>();
  let count = 0;
  for (let i = 0; i < seq.length; i++) {
    if (seq[i] === choice) count++;
    if (i >= size && seq[i - size] === choice) count--;
    if (i >= size - 1) seen.add(count);
  }
  return seen;
}

describe('SmoothWeightedPicker', () => {
  it('gives 10% as exactly 1 pick in every window of 10', () => {
    const seq = picks(new SmoothWeightedPicker([1000, 9000]), 1000);
    expect(windowCounts(seq, 0, 10)).toEqual(new Set([1]));
    expect(seq.filter((c) => c === 0)).toHaveLength(100);
  });

  it('gives 50% as strict alternation', () => {
    const seq = picks(new SmoothWeightedPicker([5000, 5000]), 1000);
    expect(windowCounts(seq, 0, 2)).toEqual(new Set([1]));
    expect(seq.filter((c) => c === 1)).toHaveLength(500);
  });

  it('keeps 12.34% within one request of exact over every prefix of 10,000 picks', () => {
    const picker = new SmoothWeightedPicker([1234, 8766]);
    let green = 0;
    let worst = 0;
    for (let n = 1; n <= 10_000; n++) {
      if (picker.pick() === 0) green++;
      worst = Math.max(worst, Math.abs(green - n * 0.1234));
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(green).toBe(1234);
  });

  it('keeps 12.34% within one of exact in every sliding window, not only prefixes', () => {
    const seq = picks(new SmoothWeightedPicker([1234, 8766]), 20_000);
    for (const size of [10, 100, 1000, 10_000]) {
      for (const count of windowCounts(seq, 0, size)) {
        expect(Math.abs(count - size * 0.1234)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('never picks a choice of weight 0', () => {
    const seq = picks(new SmoothWeightedPicker([2500, 0, 7500, 0]), 4000);
    expect(seq.filter((c) => c === 1 || c === 3)).toHaveLength(0);
    expect(seq.filter((c) => c === 0)).toHaveLength(1000);
    expect(seq.filter((c) => c === 2)).toHaveLength(3000);
  });

  it('splits three versions exactly and evenly', () => {
    const picker = new SmoothWeightedPicker([2000, 3000, 5000]);
    const counts = [0, 0, 0];
    for (let n = 1; n <= 10_000; n++) {
      counts[picker.pick()]!++;
      if (n % 10 === 0) expect(counts).toEqual([n * 0.2, n * 0.3, n * 0.5]);
    }
  });

  it('always picks the one positive choice and returns -1 when all weights are 0', () => {
    expect(new Set(picks(new SmoothWeightedPicker([0, 10_000, 0]), 50))).toEqual(new Set([1]));
    expect(new SmoothWeightedPicker([0, 0]).pick()).toBe(-1);
    expect(new SmoothWeightedPicker([]).pick()).toBe(-1);
  });
});

describe('stickyBucket', () => {
  it('is stable and within 0..9999', () => {
    for (const key of ['', 'a', 'user-1', 'ünïcödé', 'x'.repeat(1000)]) {
      const b = stickyBucket(key);
      expect(b).toBe(stickyBucket(key));
      expect(Number.isInteger(b)).toBe(true);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(STICKY_BUCKETS);
    }
    expect(stickyBucket('user-1')).not.toBe(stickyBucket('user-2'));
  });

  it('spreads similar keys roughly uniformly', () => {
    const tenths = new Array<number>(10).fill(0);
    const hundredths = new Array<number>(100).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const b = stickyBucket(`user-${i}`);
      tenths[Math.floor(b / 1000)]!++;
      hundredths[Math.floor(b / 100)]!++;
    }
    for (const count of tenths) expect(count).toBeGreaterThan(850);
    for (const count of tenths) expect(count).toBeLessThan(1150);
    // Chi-square over 100 cells (99 degrees of freedom): a value far above ~150 means clumping.
    const chi = hundredths.reduce((sum, c) => sum + (c - 100) ** 2 / 100, 0);
    expect(chi).toBeLessThan(150);
  });
});

describe('StickyPicker', () => {
  it('gives each choice the buckets its weight says, in the given order', () => {
    // Replacement (index 1) first, live (index 0) last, as the compiled table orders them.
    const picker = new StickyPicker([1, 0], [9000, 1000]);
    expect(picker.pick(0)).toBe(1);
    expect(picker.pick(999)).toBe(1);
    expect(picker.pick(1000)).toBe(0);
    expect(picker.pick(9999)).toBe(0);
  });

  it('skips weight-0 choices and returns -1 when nothing has weight', () => {
    const picker = new StickyPicker([2, 1, 0], [10_000, 0, 0]);
    expect(picker.pick(0)).toBe(0);
    expect(picker.pick(9999)).toBe(0);
    expect(new StickyPicker([1, 0], [0, 0]).pick(5)).toBe(-1);
  });

  it('moves a key only from live to replacement as the replacement weight rises 1% → 100%', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `client-${i}`);
    const buckets = keys.map(stickyBucket);
    const LIVE = 0;
    const REPLACEMENT = 1;
    let previous = buckets.map(() => LIVE);
    let movedBack = 0;
    for (let percent = 1; percent <= 100; percent++) {
      const weights = [10_000 - percent * 100, percent * 100];
      const picker = new StickyPicker([REPLACEMENT, LIVE], weights);
      const now = buckets.map((b) => picker.pick(b));
      now.forEach((side, i) => {
        if (previous[i] === REPLACEMENT && side === LIVE) movedBack++;
      });
      // Share on the replacement tracks the weight (1,000 keys, so a few percent of noise).
      const onReplacement = now.filter((s) => s === REPLACEMENT).length;
      expect(Math.abs(onReplacement - percent * 10)).toBeLessThan(50);
      previous = now;
    }
    expect(movedBack).toBe(0);
    expect(previous.every((s) => s === REPLACEMENT)).toBe(true);
  });

  it('keeps every key on its side while the weights stay the same', () => {
    const a = new StickyPicker([1, 0], [7000, 3000]);
    const b = new StickyPicker([1, 0], [7000, 3000]);
    for (let i = 0; i < 500; i++) {
      const bucket = stickyBucket(`k${i}`);
      expect(a.pick(bucket)).toBe(b.pick(bucket));
    }
  });
});

describe('cookieValue', () => {
  it.each([
    ['session=abc', 'session', 'abc'],
    ['a=1; session=abc; b=2', 'session', 'abc'],
    ['a=1;session=abc', 'session', 'abc'],
    ['a=1;   session=abc', 'session', 'abc'],
    ['a=1;\tsession=abc', 'session', 'abc'],
    ['session=abc ; b=2', 'session', 'abc'],
    ['xsession=1; session=2', 'session', '2'],
    ['sessionx=1; session=2', 'session', '2'],
    ['session=a=b; x=1', 'session', 'a=b'],
    ['session=first; session=second', 'session', 'first'],
    ['session=', 'session', ''],
    ['a=1;', 'session', undefined],
    ['', 'session', undefined],
    ['session', 'session', undefined],
    ['a=session=1', 'session', undefined],
  ])('%j, %s → %j', (header, name, expected) => {
    expect(cookieValue(header, name)).toBe(expected);
  });
});

describe('compiled table', () => {
  const pools: PoolRegistry[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.closeAll(true)));
  });

  /** A traffic state and a compiler that, like the data plane, compiles each table it publishes. */
  function compiled(services: string) {
    const config = parseConfig(`listeners:\n  production: { port: 0 }\nservices:\n${services}`, 't.yml', {});
    const traffic = new TrafficState(config);
    const registry = new PoolRegistry();
    pools.push(registry);
    const stats = new StatsRecorder();
    let current: CompiledTable | undefined;
    traffic.attach({
      publish: (table) => {
        current = compileTable(table, registry, stats, current);
      },
    });
    return { traffic, table: () => current! };
  }

  const req = (headers: Record<string, string> = {}) => ({ headers }) as unknown as IncomingMessage;
  const PRODUCTION = 0;
  const TEST = 1;

  const WEB = `  - name: web
    versions:
      "1": { targets: ["http://127.0.0.1:9001"] }
      "2": { targets: ["http://127.0.0.1:9002"] }
    live: "1"
    weights: { "1": 90, "2": 10 }
    routing: { sticky: { cookie: sid }, overrideHeader: x-pin }
  - name: other
    match: { pathPrefix: /other }
    versions: { a: { targets: ["http://127.0.0.1:9003"] } }
    live: a
`;

  /** The two things match() reads of a request: its URL and, only if needed, its Host header. */
  function request(url: string, host?: string): IncomingMessage {
    return { url, headers: host === undefined ? {} : { host } } as unknown as IncomingMessage;
  }

  function pickLabel(table: CompiledTable, headers: Record<string, string> = {}, listener = PRODUCTION) {
    return table.match(request('/'))!.pick(req(headers), listener)?.label;
  }

  it('prefers the override header, then the sticky key, then the exact split', () => {
    const { table } = compiled(WEB);
    const t = table();
    const onReplacement = Array.from({ length: 500 }, (_, i) => `k${i}`).find((k) => stickyBucket(k) < 1000)!;
    const onLive = Array.from({ length: 500 }, (_, i) => `k${i}`).find((k) => stickyBucket(k) >= 1000)!;
    expect(pickLabel(t, { cookie: `sid=${onReplacement}` })).toBe('2');
    expect(pickLabel(t, { cookie: `a=b; sid=${onLive}` })).toBe('1');
    expect(pickLabel(t, { 'x-pin': '1', cookie: `sid=${onReplacement}` })).toBe('1');
    expect(pickLabel(t, { 'x-pin': '2' })).toBe('2');
    const keyless = Array.from({ length: 20 }, () => pickLabel(t, { 'x-pin': 'unknown', cookie: 'sid=' }));
    expect(keyless.filter((l) => l === '2')).toHaveLength(2);
    expect(pickLabel(t, {}, TEST)).toBe('1');
  });

  it('keeps the exact sequence across tables published for other reasons', () => {
    const { traffic, table } = compiled(WEB);
    const seq: string[] = [];
    for (let i = 0; i < 500; i++) {
      // A table swap every 7 requests that leaves this service's weights alone.
      if (i % 7 === 3) traffic.setTargets('other', 'a', [`http://127.0.0.1:${9100 + (i % 50)}`]);
      seq.push(pickLabel(table())!);
    }
    for (let i = 0; i + 10 <= seq.length; i++) {
      expect(seq.slice(i, i + 10).filter((l) => l === '2')).toHaveLength(1);
    }
  });

  it('starts a new sequence when the weights change', () => {
    const { traffic, table } = compiled(WEB);
    pickLabel(table());
    traffic.setWeights('web', { '1': 50, '2': 50 });
    const seq = Array.from({ length: 10 }, () => pickLabel(table()));
    expect(seq.filter((l) => l === '2')).toHaveLength(5);
    traffic.setWeights('web', { '2': 100 });
    expect(pickLabel(table())).toBe('2');
  });

  it('matches the longest prefix on a path-segment boundary, host-bound before any host', () => {
    const { table } = compiled(`  - name: root
    versions: { "1": { targets: ["http://127.0.0.1:9001"] } }
    live: "1"
  - name: api
    match: { pathPrefix: /api }
    versions: { "1": { targets: ["http://127.0.0.1:9002"] } }
    live: "1"
  - name: admin
    match: { host: admin.local, pathPrefix: /api }
    versions: { "1": { targets: ["http://127.0.0.1:9003"] } }
    live: "1"
  - name: v6
    match: { host: "[::1]", pathPrefix: /api }
    versions: { "1": { targets: ["http://127.0.0.1:9004"] } }
    live: "1"
`);
    const t = table();
    const name = (host: string | undefined, url: string) => t.match(request(url, host))?.name;
    expect(name(undefined, '/')).toBe('root');
    expect(name(undefined, '/api')).toBe('api');
    expect(name(undefined, '/api/x')).toBe('api');
    expect(name(undefined, '/api?x=1')).toBe('api');
    expect(name(undefined, '/apix')).toBe('root');
    expect(name('admin.local', '/api/x')).toBe('admin');
    expect(name('ADMIN.LOCAL:8080', '/api')).toBe('admin');
    expect(name('admin.local', '/apix')).toBe('root');
    expect(name('[::1]:8080', '/api')).toBe('v6');
    expect(name('elsewhere', '/api')).toBe('api');
  });
});
