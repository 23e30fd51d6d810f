/**
 * The data plane's own limits as clients and operators see them: a request past `maxRequestsInFlight`
 * gets `503 PROXY_OVERLOADED` with `Retry-After` at once, reaches no target and counts for no version;
 * every refusal (requests in flight, connections past `maxConnections`) shows in `/metrics`.
 */
import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';

import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { until } from '../support/until.js';
import { startUpstream } from '../support/upstream.js';

/** The value of `switchyard_refused_total{reason}` in a scrape of the control port. */
async function refused(sy: Switchyard, reason: string): Promise<number> {
  const text = await (await request(`${sy.urls['control']}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`switchyard_refused_total{reason="${reason}"}`));
  if (line === undefined) throw new Error(`no switchyard_refused_total series for ${reason}`);
  return Number(line.split(' ').pop());
}

/** Requests per version and class from `/metrics`, summed: what health and alarms saw. */
async function requestsCounted(sy: Switchyard): Promise<number> {
  const text = await (await request(`${sy.urls['control']}/metrics`)).body.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('switchyard_requests_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('requests in flight are bounded by maxRequestsInFlight', () => {
  it('answers the one past the limit 503 with Retry-After, without a target, and serves again after', async () => {
    const held: ServerResponse[] = [];
    const up = await startUpstream('green', (_req, res) => held.push(res));
    const sy = await startProxy({
      ...twoVersions(up.url, up.url),
      listeners: { production: { host: '127.0.0.1', port: 0 }, limits: { maxRequestsInFlight: 2 } },
    });
    const url = sy.urls['production']!;
    const first = request(`${url}/a`);
    const second = request(`${url}/b`);
    await until(
      () => held.length,
      (n) => n === 2,
    );
    const third = await request(`${url}/c`);
    expect(third.statusCode).toBe(503);
    expect(third.headers['retry-after']).toBe('1');
    expect(await third.body.json()).toMatchObject({ error: 'PROXY_OVERLOADED' });
    expect(up.hits).toBe(2);
    expect(await refused(sy, 'in_flight_limit')).toBe(1);

    for (const res of held) res.end('ok');
    expect((await first).statusCode).toBe(200);
    expect((await second).statusCode).toBe(200);
    await (await first).body.text();
    await (await second).body.text();
    // The slots are given back when responses end, so the listener serves at its full limit again.
    held.length = 0;
    const again = [request(`${url}/d`), request(`${url}/e`)];
    await until(
      () => held.length,
      (n) => n === 2,
    );
    for (const res of held) res.end('ok');
    for (const r of await Promise.all(again)) expect(r.statusCode).toBe(200);
    // The refusal is no version's: only the four served requests count for health and alarms.
    expect(await requestsCounted(sy)).toBe(4);
  });

  it('bounds a pipelined burst: past the limit each request is answered 503 in its turn, none reaches a target', async () => {
    const held: ServerResponse[] = [];
    const up = await startUpstream('green', (_req, res) => held.push(res));
    const sy = await startProxy({
      ...twoVersions(up.url, up.url),
      listeners: { production: { host: '127.0.0.1', port: 0 }, limits: { maxRequestsInFlight: 2 } },
    });
    const client = connect(sy.addresses['production']!.port, '127.0.0.1');
    const got: Buffer[] = [];
    client.on('data', (chunk: Buffer) => got.push(chunk));
    client.on('error', () => {});
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    try {
      client.write('GET /r HTTP/1.1\r\nhost: web.test\r\n\r\n'.repeat(10));
      await until(
        () => held.length,
        (n) => n === 1,
      );
      // The first is with the target, the second waits its turn, the other eight are over the limit.
      await until(
        () => refused(sy, 'in_flight_limit'),
        (n) => n === 8,
      );
      held.shift()!.end('one');
      await until(
        () => held.length,
        (n) => n === 1,
      );
      held.shift()!.end('two');
      const text = await until(
        () => Buffer.concat(got).toString('latin1'),
        (t) => t.split('HTTP/1.1 ').length - 1 === 10,
      );
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      expect(statuses).toEqual([200, 200, 503, 503, 503, 503, 503, 503, 503, 503]);
      expect(up.hits).toBe(2);
    } finally {
      client.destroy();
    }
  });

  it('counts a connection closed past maxConnections', async () => {
    const up = await startUpstream('green');
    const sy = await startProxy({
      ...twoVersions(up.url, up.url),
      listeners: { production: { host: '127.0.0.1', port: 0 }, limits: { maxConnections: 1 } },
    });
    const port = sy.addresses['production']!.port;
    const keep = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => keep.once('connect', () => resolve()));
    try {
      // Node closes the extra connection as soon as it accepts it; the count follows.
      const extra = connect(port, '127.0.0.1');
      extra.on('error', () => {});
      await new Promise<void>((resolve) => extra.once('close', () => resolve()));
      await until(
        () => refused(sy, 'connection_limit'),
        (n) => n === 1,
      );
    } finally {
      keep.destroy();
    }
  });

  it('shows every refusal reason at 0 before anything was refused', async () => {
    const up = await startUpstream('green');
    const sy = await startProxy(twoVersions(up.url, up.url));
    for (const reason of ['in_flight_limit', 'connection_limit', 'local_resources']) {
      expect(await refused(sy, reason)).toBe(0);
    }
  });
});
