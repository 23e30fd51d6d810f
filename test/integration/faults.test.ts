/**
 * Fault injection through the real proxy on real sockets: seeded shares of aborts, aborts by status and by
 * reset without reaching the target, fixed delays, faults set and cleared over the control API, and every
 * injected failure counted as the version's outcome.
 */
import { connect } from 'node:net';

import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { watchCounts } from '../support/stats-watch.js';
import { startProxy } from '../support/switchyard.js';
import { until } from '../support/until.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** A service "web" with one version "1" on `target`, and `faults` as the config gives them. */
function oneVersion(target: TestUpstream, faults?: Record<string, unknown>) {
  return {
    services: [{ name: 'web', versions: { '1': { targets: [target.url] } }, live: '1', ...(faults && { faults }) }],
  };
}

/** Statuses of `n` GETs, sent `concurrency` at a time. */
async function statuses(sy: Switchyard, n: number, concurrency = 8): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next++ < n) {
      const res = await request(`${sy.urls['production']}/`);
      await res.body.text();
      out.push(res.statusCode);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

function control(sy: Switchyard, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown) {
  return request(`${sy.urls['control']}${path}`, {
    method,
    ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
}

describe('fault injection', () => {
  it('aborts a seeded share of requests, the same on every fresh start, without reaching the target', async () => {
    const target = await startUpstream('v1');
    const aborted: number[] = [];
    for (let run = 0; run < 2; run++) {
      const sy = await startProxy(oneVersion(target, { '1': { abort: { percent: 20 }, seed: 42 } }), {
        autoClose: false,
      });
      try {
        const counts = watchCounts(sy);
        const hitsBefore = target.hits;
        const got = await statuses(sy, 1000);
        const n503 = got.filter((s) => s === 503).length;
        expect(n503 + got.filter((s) => s === 200).length).toBe(1000);
        expect(n503).toBeGreaterThanOrEqual(170);
        expect(n503).toBeLessThanOrEqual(230);
        // Only the requests let through reached the target.
        expect(target.hits - hitsBefore).toBe(1000 - n503);
        // Injected failures are the version's own 5xx, as alarms read them.
        expect(counts()['1']).toMatchObject({ '2xx': 1000 - n503, '5xx': n503, error: 0 });
        aborted.push(n503);
      } finally {
        await sy.close();
      }
    }
    expect(aborted[1]).toBe(aborted[0]);
  });

  it('answers an abort with its status, the JSON error and the version header', async () => {
    const target = await startUpstream('v1');
    const sy = await startProxy(oneVersion(target, { '1': { abort: { percent: 100, status: 418 } } }));
    const res = await request(`${sy.urls['production']}/x`);
    expect(res.statusCode).toBe(418);
    expect(res.headers['x-switchyard-version']).toBe('1');
    expect(await res.body.json()).toEqual({
      error: 'FAULT_INJECTED',
      message: 'fault injected into version 1: aborted with 418',
    });
    expect(target.hits).toBe(0);
  });

  it('resets the connection for an abort by reset, counted as no answer', async () => {
    const target = await startUpstream('v1');
    const sy = await startProxy(oneVersion(target, { '1': { abort: { percent: 100, reset: true } } }));
    const counts = watchCounts(sy);
    const err = await request(`${sy.urls['production']}/`).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(err?.code).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
    expect(target.hits).toBe(0);
    expect(counts()['1']).toMatchObject({ error: 1, '2xx': 0 });
  });

  it('holds a request for a fixed delay before forwarding it', async () => {
    const target = await startUpstream('v1');
    const sy = await startProxy(oneVersion(target, { '1': { delay: { percent: 100, fixed: '300ms' } } }));
    const started = performance.now();
    const res = await request(`${sy.urls['production']}/`);
    expect(await res.body.text()).toBe('v1');
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(295);
    expect(took).toBeLessThan(2_000);
    expect(target.hits).toBe(1);
  });

  it('drops a held request whose client leaves: the target never sees it and nothing is counted', async () => {
    const target = await startUpstream('v1');
    const sy = await startProxy(oneVersion(target, { '1': { delay: { percent: 100, fixed: '1m' } } }));
    const counts = watchCounts(sy);
    const { port } = sy.addresses['production']!;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(
      () => sy.dataPlane!.inFlight,
      (n) => n === 1,
    );
    socket.destroy();
    await until(
      () => sy.dataPlane!.inFlight,
      (n) => n === 0,
    );
    expect(target.hits).toBe(0);
    expect(counts()['1']).toBeUndefined();
  });

  it('delays, then aborts, when a version has both', async () => {
    const target = await startUpstream('v1');
    const sy = await startProxy(
      oneVersion(target, { '1': { delay: { percent: 100, fixed: '200ms' }, abort: { percent: 100, status: 500 } } }),
    );
    const started = performance.now();
    const res = await request(`${sy.urls['production']}/`);
    await res.body.text();
    expect(res.statusCode).toBe(500);
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    expect(target.hits).toBe(0);
  });

  it('sets, shows and clears a fault over the control API, and the data plane follows', async () => {
    const target = await startUpstream('v1');
    const sy = await startProxy(oneVersion(target));
    const counts = watchCounts(sy);
    expect((await statuses(sy, 5, 1)).every((s) => s === 200)).toBe(true);

    const put = await control(sy, 'PUT', '/v1/services/web/faults/1', {
      abort: { percent: 100, status: 502 },
      seed: 3,
    });
    expect(put.statusCode).toBe(200);
    const set = { '1': { abort: { percent: 100, status: 502 }, seed: 3, active: { abort: 100, delay: 0 } } };
    expect(((await put.body.json()) as { faults?: unknown }).faults).toEqual(set);
    const shown = (await (await control(sy, 'GET', '/v1/services/web')).body.json()) as { faults?: unknown };
    expect(shown.faults).toEqual(set);
    expect(await statuses(sy, 5, 1)).toEqual([502, 502, 502, 502, 502]);

    const del = await control(sy, 'DELETE', '/v1/services/web/faults/1');
    expect(del.statusCode).toBe(200);
    expect(((await del.body.json()) as { faults?: unknown }).faults).toBeUndefined();
    expect(await statuses(sy, 5, 1)).toEqual([200, 200, 200, 200, 200]);
    expect(target.hits).toBe(10);
    expect(counts()['1']).toMatchObject({ '2xx': 10, '5xx': 5 });
  });

  it('refuses a fault for an unknown version or with a bad body', async () => {
    const target = await startUpstream('v1');
    const sy = await startProxy(oneVersion(target));
    const unknown = await control(sy, 'PUT', '/v1/services/web/faults/9', { abort: { percent: 10 } });
    expect(unknown.statusCode).toBe(404);
    expect(((await unknown.body.json()) as { error: string }).error).toBe('VERSION_NOT_FOUND');
    const bad = await control(sy, 'PUT', '/v1/services/web/faults/1', { abort: { percent: 120 } });
    expect(bad.statusCode).toBe(400);
    const body = (await bad.body.json()) as { error: string; issues: string[] };
    expect(body.error).toBe('ARGUMENTS_INVALID');
    expect(body.issues.join(' ')).toMatch(/abort\.percent/);
  });
});
