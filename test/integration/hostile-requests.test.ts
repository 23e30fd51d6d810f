/**
 * Requests the proxy cannot or must not forward, and upstreams that never finish their answer, on real
 * sockets: a request with two Hosts (or one that is no host) is answered 400 and charged to no target,
 * so it ejects nothing and trips no alarm during a canary; a request with more header lines than node:http
 * keeps is answered 431 rather than forwarded cut short; an upstream that sends interim responses forever
 * is answered 504 once `upstream.headersTimeout` has passed since dispatch.
 */
import type { ServerResponse } from 'node:http';

import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { deployWatchedCanary, sdkClient, until } from '../support/codedeploy.js';
import { exchange as rawExchange } from '../support/raw-exchange.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

/** Sends one raw request on a fresh connection and resolves with all the server sent until it closed. */
async function exchange(port: number, head: string): Promise<string> {
  return (await rawExchange(port, head)).toString('latin1');
}

/** The status code and JSON error code of a raw response. */
function answer(raw: string): { status: number; error: unknown } {
  const status = Number(raw.slice(9, 12));
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return { status, error: body.startsWith('{') ? (JSON.parse(body) as { error: unknown }).error : body };
}

/** A GET with `lines` header lines in all: a Host and `lines - 2` of its own, then Connection: close. */
function manyHeaders(lines: number): string {
  let head = 'GET / HTTP/1.1\r\nHost: web.test\r\n';
  for (let i = 0; i < lines - 2; i++) head += `h${i}:v\r\n`;
  return `${head}connection: close\r\n\r\n`;
}

const OUTLIERS = { outlierDetection: { consecutiveFailures: 3, ejectionTime: '30s', maxEjectionTime: '30s' } };

async function healthOf(sy: Switchyard): Promise<Record<string, { state: string }[]>> {
  const res = await request(`${sy.urls['control']}/v1/services/web`);
  return ((await res.body.json()) as { health: Record<string, { state: string }[]> }).health;
}

describe('requests the proxy will not forward', () => {
  it('answers two Hosts or an invalid Host 400, and ten of them leave the target routable', async () => {
    const up = await startUpstream('a');
    const sy = await startProxy({
      upstream: OUTLIERS,
      services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }],
    });
    const port = sy.addresses['production']!.port;
    for (let i = 0; i < 10; i++) {
      const raw = await exchange(port, 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n');
      expect(answer(raw)).toEqual({ status: 400, error: 'REQUEST_INVALID' });
      expect(raw.toLowerCase()).toContain('connection: close');
    }
    for (const host of ['a b', 'a/b', 'user@a.test', 'a.test:80x']) {
      const raw = await exchange(port, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      expect(answer(raw), host).toEqual({ status: 400, error: 'REQUEST_INVALID' });
    }
    expect(up.hits).toBe(0);
    const ok = await request(`${sy.urls['production']}/`);
    expect([ok.statusCode, await ok.body.text()]).toEqual([200, 'a']);
    sy.stats.pull();
    expect((await healthOf(sy))['1']![0]!.state).not.toBe('ejected');
    const metrics = await (await request(`${sy.urls['control']}/metrics`)).body.text();
    expect(metrics).toContain('switchyard_requests_total{service="web",version="1",code="4xx"} 14');
    expect(metrics).not.toMatch(/switchyard_requests_total\{service="web",version="1",code="error"\} [1-9]/);
  });

  it('trips no alarm and rolls nothing back when a canary replacement gets two-Host requests', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy({
      ...twoVersions(blue.url, green.url, { routing: { overrideHeader: 'x-version' } }),
      alarms: { 'green-errors': { kind: 'error-rate', threshold: 0.05, window: '5s', minRequests: 5 } },
    });
    const cd = sdkClient(sy);
    const deploymentId = await deployWatchedCanary(cd, sy);
    // Ten malformed requests pinned to the replacement, and nothing else.
    const greenHits = green.hits;
    const port = sy.addresses['production']!.port;
    for (let i = 0; i < 10; i++) {
      const raw = await exchange(
        port,
        'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nx-version: 2\r\nconnection: close\r\n\r\n',
      );
      expect(answer(raw).status).toBe(400);
    }
    // The alarm's first judgement with enough requests in its window is the signal: OK, not ALARM.
    const change = await until(
      async () => {
        const res = await request(`${sy.urls['control']}/v1/deployments/${deploymentId}/events`);
        const { events } = (await res.body.json()) as {
          events: { message: string; detail: { alarm?: string; state?: string } }[];
        };
        return events.find((e) => e.message === 'alarm state changed' && e.detail.state !== 'INSUFFICIENT_DATA');
      },
      (e) => e !== undefined,
      5_000,
      20,
      'the alarm judged',
    );
    expect(change!.detail).toMatchObject({ alarm: 'green-errors', state: 'OK' });
    const info = (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!;
    expect(info.status).toBe('InProgress');
    expect(sy.traffic.service('web').weights.production['2']).toBe(10);
    expect(green.hits).toBe(greenHits);
  });

  it('answers 431 to more header lines than it keeps, rather than forwarding them cut short', async () => {
    const up = await startUpstream('a');
    const sy = await startProxy({ services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }] });
    const port = sy.addresses['production']!.port;
    expect(answer(await exchange(port, manyHeaders(1000))).status).toBe(200);
    expect(up.hits).toBe(1);
    for (const lines of [1001, 1033, 1500]) {
      expect(answer(await exchange(port, manyHeaders(lines))), `${lines} lines`).toEqual({
        status: 431,
        error: 'HEADERS_TOO_LARGE',
      });
    }
    expect(up.hits).toBe(1);
  });
  it('answers 501 to a transfer coding other than chunked instead of forwarding the body without it', async () => {
    const up = await startUpstream('a');
    const sy = await startProxy({ services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }] });
    const port = sy.addresses['production']!.port;
    const body = '5\r\nhello\r\n0\r\n\r\n';
    const post = (coding: string) =>
      `POST / HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: ${coding}\r\nConnection: close\r\n\r\n${body}`;
    expect(answer(await exchange(port, post('gzip, chunked')))).toEqual({ status: 501, error: 'CODING_UNSUPPORTED' });
    expect(up.hits).toBe(0);
    expect(answer(await exchange(port, post('Chunked'))).status).toBe(200);
    expect(up.hits).toBe(1);
  });

  it('answers CONNECT 501 with the JSON error and closes, without reaching any target', async () => {
    const up = await startUpstream('a');
    const sy = await startProxy({ services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }] });
    const raw = await exchange(
      sy.addresses['production']!.port,
      'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n',
    );
    expect(answer(raw)).toEqual({ status: 501, error: 'CONNECT_UNSUPPORTED' });
    expect(up.hits).toBe(0);
  });
});

describe('upstreams that never finish their answer', () => {
  it('answers 504 when only interim responses come for the whole headers timeout', async () => {
    const timers = new Set<NodeJS.Timeout>();
    const up = await startUpstream('a', (_req, res: ServerResponse) => {
      // 102 Processing every 50 ms, forever: each one restarts undici's own headers timer.
      const timer = setInterval(() => res.writeProcessing(), 50);
      timers.add(timer);
      res.once('close', () => clearInterval(timer));
    });
    const sy = await startProxy({
      upstream: { headersTimeout: '400ms' },
      services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }],
    });
    try {
      const started = Date.now();
      const res = await request(`${sy.urls['production']}/`, { headersTimeout: 5_000 });
      const elapsed = Date.now() - started;
      expect(res.statusCode).toBe(504);
      expect(await res.body.json()).toMatchObject({
        error: 'UPSTREAM_TIMEOUT',
        message: 'version 1 timed out (no final response within 400 ms, only interim ones)',
      });
      expect(elapsed).toBeGreaterThanOrEqual(390);
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
  });
});
