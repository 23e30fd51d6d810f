/**
 * The compiled fault on its own: seeded draws (the same for the same seed, the share asked for), the
 * lognormal delay's median and 99th percentile, and a held request dropped when its client leaves.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { Mulberry32 } from '../../src/core/random.js';
import type { FaultSpec, RouteTable } from '../../src/core/route-table.js';
import { StatsRecorder, VersionStats } from '../../src/core/stats-recorder.js';
import { type CompiledTable, compileTable, PoolRegistry } from '../../src/proxy/compiled-table.js';
import { CompiledFault, sameDraws, sameFault } from '../../src/proxy/faults.js';

const REQ = new IncomingMessage(new Socket());

/** A response with no socket: what it writes stays with it, and its status is readable. */
function fakeResponse(): ServerResponse {
  return new ServerResponse(REQ);
}

/** Which of `n` requests the fault aborted (true) or let go on. */
function aborts(spec: FaultSpec, n: number): boolean[] {
  return abortsOf(new CompiledFault(spec, '2', new VersionStats('web', '2')), n);
}

/** Which of the next `n` requests a compiled fault aborts (true) or lets go on. */
function abortsOf(fault: CompiledFault, n: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) {
    let passed = false;
    fault.intercept(REQ, fakeResponse(), false, undefined, () => {
      passed = true;
    });
    out.push(!passed);
  }
  return out;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('compiled fault', () => {
  it('draws the same aborts for the same seed, other ones for another, in the share asked for', () => {
    const spec: FaultSpec = { abort: { percent: 10, status: 503 }, seed: 1 };
    const first = aborts(spec, 10_000);
    expect(aborts(spec, 10_000)).toEqual(first);
    expect(aborts({ ...spec, seed: 2 }, 10_000)).not.toEqual(first);
    const share = first.filter(Boolean).length;
    expect(share).toBeGreaterThan(900);
    expect(share).toBeLessThan(1_100);
    expect(aborts({ abort: { percent: 0, status: 503 }, seed: 1 }, 1_000).some(Boolean)).toBe(false);
    expect(aborts({ abort: { percent: 100, status: 503 }, seed: 1 }, 1_000).every(Boolean)).toBe(true);
  });

  it('counts an abort as the version outcome of its status', () => {
    const stats = new VersionStats('web', '2');
    const fault = new CompiledFault({ abort: { percent: 100, status: 429 }, seed: 5 }, '2', stats);
    const res = fakeResponse();
    fault.intercept(REQ, res, false, undefined, () => {});
    expect(res.statusCode).toBe(429);
    expect(Array.from(stats.counts)).toEqual([0, 0, 1, 0, 0]);
  });

  it('draws lognormal delays with the median and 99th percentile given', () => {
    vi.useFakeTimers();
    const spec: FaultSpec = { delay: { percent: 100, p50Ms: 50, p99Ms: 800 }, seed: 9 };
    const fault = new CompiledFault(spec, '2', new VersionStats('web', '2'));
    const delays: number[] = [];
    const spy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 20_000; i++) fault.intercept(REQ, fakeResponse(), false, undefined, () => {});
    for (const call of spy.mock.calls) delays.push(call[1] as number);
    vi.clearAllTimers();
    // A draw under half a millisecond rounds to no delay, and holds nothing.
    expect(delays.length).toBeGreaterThan(19_990);
    while (delays.length < 20_000) delays.push(0);
    delays.sort((a, b) => a - b);
    expect(delays[10_000]).toBeGreaterThan(45);
    expect(delays[10_000]).toBeLessThan(55);
    expect(delays[19_800]).toBeGreaterThan(650);
    expect(delays[19_800]).toBeLessThan(950);
  });

  it('drops a held request whose client leaves: its timer goes and it never resumes', () => {
    vi.useFakeTimers();
    const stats = new VersionStats('web', '2');
    const fault = new CompiledFault({ delay: { percent: 100, fixedMs: 60_000 }, seed: 1 }, '2', stats);
    const res = fakeResponse();
    let resumed = 0;
    fault.intercept(REQ, res, false, undefined, () => resumed++);
    expect(vi.getTimerCount()).toBe(1);
    res.emit('close');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(120_000);
    expect(resumed).toBe(0);
    expect(Array.from(stats.counts)).toEqual([0, 0, 0, 0, 0]);
  });

  it('goes on with the same draws when a recompiled table changes only the percents', () => {
    const registry = new PoolRegistry();
    const stats = new StatsRecorder();
    let compiled: CompiledTable | undefined;
    const faultOf = () => compiled!.services[0]!.versions[0]!.fault!;
    const spec = (percent: number, status = 503): FaultSpec => ({ abort: { percent, status }, seed: 11 });
    const observed: boolean[] = [];
    const percents = [10, 35, 35, 80, 5];
    for (const percent of percents) {
      compiled = compileTable(tableWith(spec(percent)), registry, stats, compiled);
      observed.push(...abortsOf(faultOf(), 200));
    }
    // What one continuous stream gives with the percents in force for each request.
    const stream = new Mulberry32(11);
    const expected = percents.flatMap((percent) => Array.from({ length: 200 }, () => stream.next() * 100 < percent));
    expect(observed).toEqual(expected);
    expect(observed.filter(Boolean).length).toBeGreaterThan(200);

    // Another status is another fault: its draws start over from the seed.
    const before = faultOf().draws;
    compiled = compileTable(tableWith(spec(5, 500)), registry, stats, compiled);
    expect(faultOf().draws).not.toBe(before);
    const fresh = new Mulberry32(11);
    expect(abortsOf(faultOf(), 200)).toEqual(Array.from({ length: 200 }, () => fresh.next() * 100 < 5));
  });

  it('tells a changed spec from the same one', () => {
    const a: FaultSpec = { abort: { percent: 10, status: 503 }, delay: { percent: 5, p50Ms: 10, p99Ms: 90 }, seed: 1 };
    expect(sameFault(a, { ...a })).toBe(true);
    expect(sameFault(a, { ...a, seed: 2 })).toBe(false);
    expect(sameFault(a, { ...a, abort: { percent: 10, status: 500 } })).toBe(false);
    expect(sameFault(a, { ...a, abort: { percent: 10, reset: true } })).toBe(false);
    expect(sameFault(a, { ...a, delay: { percent: 5, fixedMs: 10 } })).toBe(false);
    // Percents alone: another fault, the same draws.
    const b: FaultSpec = { ...a, abort: { percent: 20, status: 503 }, delay: { percent: 1, p50Ms: 10, p99Ms: 90 } };
    expect(sameFault(a, b)).toBe(false);
    expect(sameDraws(a, b)).toBe(true);
    expect(sameDraws(a, { ...a, abort: { percent: 10, reset: true } })).toBe(false);
    expect(sameDraws(a, { seed: 1, delay: a.delay! })).toBe(false);
    expect(sameDraws(a, { ...a, delay: { percent: 5, p50Ms: 10, p99Ms: 91 } })).toBe(false);
  });
});

/** A table with one service whose one version (no targets) has `fault`. */
function tableWith(fault: FaultSpec): RouteTable {
  return {
    revision: 1,
    versionHeader: false,
    services: [
      {
        name: 'web',
        host: undefined,
        pathPrefix: '/',
        versions: [{ label: '2', targets: [], fault }],
        live: '2',
        weights: { production: { '2': 10_000 }, test: { '2': 10_000 } },
        sticky: undefined,
        overrideHeader: undefined,
        upstream: {
          connections: undefined,
          connectTimeout: 1_000,
          headersTimeout: 1_000,
          bodyTimeout: 1_000,
          keepAliveTimeout: 1_000,
          outlier: undefined,
        },
      },
    ],
  };
}
