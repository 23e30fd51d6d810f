/**
 * Who a failed upstream attempt is charged to: only what the target did (refused, reset, timed out) may
 * count for its health, ejection, retries and alarms; a request undici will not build is the client's
 * (400), and a resource this process ran out of is no one's (503). The forwarder is driven through a
 * pool that fails the way a process out of descriptors does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { OUTCOMES, REFUSALS } from '../../src/core/stats-delta.js';
import { VersionStats } from '../../src/core/stats-recorder.js';
import { CompiledVersion } from '../../src/proxy/compiled-version.js';
import { forward } from '../../src/proxy/forwarder.js';
import { Upstream } from '../../src/proxy/pools.js';
import { chargedToTarget, failureCode } from '../../src/proxy/proxy-error.js';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('failureCode', () => {
  it('charges the target with what it did, and nothing else', () => {
    const cases: [Error, string, boolean][] = [
      [withCode('ECONNREFUSED'), 'UPSTREAM_UNREACHABLE', true],
      [withCode('ECONNRESET'), 'UPSTREAM_UNREACHABLE', true],
      [withCode('UND_ERR_SOCKET', 'other side closed'), 'UPSTREAM_UNREACHABLE', true],
      [withCode('UND_ERR_CONNECT_TIMEOUT'), 'UPSTREAM_TIMEOUT', true],
      [withCode('UND_ERR_HEADERS_TIMEOUT'), 'UPSTREAM_TIMEOUT', true],
      [new Error('no code at all'), 'UPSTREAM_UNREACHABLE', true],
      [withCode('UND_ERR_INVALID_ARG', 'duplicate host header'), 'REQUEST_INVALID', false],
      [withCode('UND_ERR_NOT_SUPPORTED', 'expect header not supported'), 'REQUEST_INVALID', false],
      [withCode('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'), 'REQUEST_INVALID', false],
      [withCode('EMFILE', 'connect EMFILE'), 'PROXY_OVERLOADED', false],
      [withCode('ENFILE'), 'PROXY_OVERLOADED', false],
      [withCode('ENOMEM'), 'PROXY_OVERLOADED', false],
      [withCode('ENOBUFS'), 'PROXY_OVERLOADED', false],
      [withCode('EADDRNOTAVAIL'), 'PROXY_OVERLOADED', false],
      [withCode('UND_ERR_DESTROYED'), 'PROXY_OVERLOADED', false],
      [withCode('UND_ERR_CLOSED'), 'PROXY_OVERLOADED', false],
    ];
    for (const [err, code, charged] of cases) {
      expect([err.message, failureCode(err), chargedToTarget(failureCode(err))]).toEqual([err.message, code, charged]);
    }
  });
});

describe('forwarding through a process out of descriptors', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it('answers 503 PROXY_OVERLOADED and counts nothing against the version or its target', async () => {
    const outlier = { consecutiveFailures: 1, ejectionMs: 30_000, maxEjectionMs: 30_000 };
    const settings = {
      connections: undefined,
      connectTimeout: 1_000,
      headersTimeout: 1_000,
      bodyTimeout: 1_000,
      keepAliveTimeout: 1_000,
      outlier,
    };
    const upstream = new Upstream('http://127.0.0.1:9', new URL('http://127.0.0.1:9'), settings, outlier, []);
    // What undici hands the handler when the socket for a new connection cannot be opened.
    upstream.pool.dispatch = (_opts, handler) => {
      // The forwarder's handler speaks undici's original interface, whose onError undici marks deprecated.
      (handler as { onError(err: Error): void }).onError(
        withCode('EMFILE', 'connect EMFILE 127.0.0.1:9 - Local (undefined:undefined)'),
      );
      return false;
    };
    const stats = new VersionStats('web', '1');
    const version = new CompiledVersion('1', [upstream], stats);
    server = createServer((req, res) => forward(req, res, version, upstream, 'x-version', 'http', undefined));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    for (let i = 0; i < 3; i++) {
      const res = await request(`http://127.0.0.1:${port}/`);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(await res.body.json()).toEqual({
        error: 'PROXY_OVERLOADED',
        message: 'switchyard cannot forward the request now (EMFILE)',
      });
    }
    expect(Object.fromEntries(OUTCOMES.map((o, i) => [o, stats.counts[i]]))).toEqual({
      '2xx': 0,
      '3xx': 0,
      '4xx': 0,
      '5xx': 0,
      error: 0,
    });
    // Counted apart, as the data plane's own refusal, for /metrics.
    expect(stats.refused[REFUSALS.indexOf('local_resources')]).toBe(3);
    expect(upstream.available(performance.now())).toBe(true);
    expect(version.nextUpstream()).toBe(upstream);
    await upstream.pool.close();
  });
});
