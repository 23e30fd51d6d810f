/**
 * Graceful drain: on SIGTERM (the real CLI in a child process) and on close() (in process), listeners
 * stop accepting at once, in-flight requests finish within the drain timeout, and the process exits 0.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { stringify } from 'yaml';

import { serveChild, type ServedChild } from '../support/serve.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

let configDir: string;
beforeAll(async () => {
  configDir = await mkdtemp(join(tmpdir(), 'switchyard-drain-'));
}, 120_000);
afterAll(async () => {
  await rm(configDir, { recursive: true, force: true });
});

/** Runs `switchyard serve --config <file>` and resolves once it logs that it is serving. */
async function serve(upstream: TestUpstream, drainTimeout: string): Promise<ServedChild & { production: string }> {
  const file = join(configDir, `drain-${upstream.port}.yml`);
  await writeFile(
    file,
    stringify({
      listeners: { production: { host: '127.0.0.1', port: 0 } },
      control: { host: '127.0.0.1', port: 0 },
      drainTimeout,
      logLevel: 'info',
      services: [{ name: 'web', versions: { '1': { targets: [upstream.url] } }, live: '1' }],
    }),
  );
  const served = await serveChild(file, { LOG_LEVEL: 'info' });
  return { ...served, production: served.urls['production']! };
}

/** Whether a new TCP connection to `url` is refused. */
function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** An upstream that answers `slow` after `ms` and everything else at once. */
async function slowUpstream(ms: number): Promise<TestUpstream & { cut: number }> {
  const upstream = Object.assign(
    await startUpstream('slow', (req, res) => {
      if (req.url !== '/slow') {
        res.end('fast');
        return;
      }
      const timer = setTimeout(() => res.end('finally'), ms);
      res.once('close', () => {
        clearTimeout(timer);
        if (!res.writableFinished) upstream.cut++;
      });
    }),
    { cut: 0 },
  );
  return upstream;
}

/** A client of its own, so no connection outlives the test in a shared pool. */
function client(): Agent {
  const agent = new Agent();
  onTestFinished(() => agent.destroy());
  return agent;
}

describe('graceful drain of the CLI on SIGTERM', () => {
  it('finishes the request in flight, refuses new connections and exits 0', async () => {
    const upstream = await slowUpstream(700);
    const sy = await serve(upstream, '5s');
    const agent = client();
    // The proxy answers before the signal: it is serving for real.
    const warm = await request(`${sy.production}/fast`, { dispatcher: agent });
    expect(await warm.body.text()).toBe('fast');

    let answered = false;
    const inFlight = request(`${sy.production}/slow`, { dispatcher: agent }).then(async (res) => {
      const out = { status: res.statusCode, body: await res.body.text() };
      answered = true;
      return out;
    });
    await expect.poll(() => upstream.hits).toBe(2);
    sy.child.kill('SIGTERM');
    await expect.poll(() => refused(sy.production), { timeout: 1_000 }).toBe(true);
    // Refused while the slow request was still being served.
    expect(answered).toBe(false);

    expect(await inFlight).toEqual({ status: 200, body: 'finally' });
    expect(await sy.exit).toEqual({ code: 0, signal: null });
    expect(upstream.cut).toBe(0);
    const messages = sy.logs().map((l) => l.msg);
    expect(messages).toContain('stopping: draining in-flight requests');
    expect(messages).toContain('stopped');
  });

  it('cuts a request that outlasts the drain timeout and still exits 0', async () => {
    const upstream = await slowUpstream(5_000);
    const sy = await serve(upstream, '300ms');
    const agent = client();
    const inFlight = request(`${sy.production}/slow`, { dispatcher: agent }).then(
      async (res) => `status ${res.statusCode}: ${await res.body.text()}`,
      (err: Error) => `cut: ${err.message}`,
    );
    await expect.poll(() => upstream.hits).toBe(1);
    const signalled = Date.now();
    sy.child.kill('SIGTERM');
    expect(await inFlight).toMatch(/^cut: /);
    expect(await sy.exit).toEqual({ code: 0, signal: null });
    // Not the 5 s the upstream would have taken: the drain timeout bounds the stop.
    expect(Date.now() - signalled).toBeLessThan(3_000);
    await expect.poll(() => upstream.cut).toBe(1);
    expect(sy.logs().some((l) => /drain timeout/.test(String(l.msg)))).toBe(true);
  });

  it('exits at once with 0 when nothing is in flight, even with idle keep-alive clients', async () => {
    const upstream = await slowUpstream(500);
    const sy = await serve(upstream, '10s');
    const agent = client();
    const res = await request(`${sy.production}/fast`, { dispatcher: agent });
    expect(await res.body.text()).toBe('fast');
    const signalled = Date.now();
    sy.child.kill('SIGTERM');
    expect(await sy.exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(2_000);
  });

  it('exits 1 without waiting when a second signal comes during the drain', async () => {
    const upstream = await slowUpstream(5_000);
    const sy = await serve(upstream, '10s');
    const inFlight = request(`${sy.production}/slow`).catch(() => 'cut');
    await expect.poll(() => upstream.hits).toBe(1);
    sy.child.kill('SIGTERM');
    await expect.poll(() => refused(sy.production), { timeout: 1_000 }).toBe(true);
    const signalled = Date.now();
    sy.child.kill('SIGINT');
    expect(await sy.exit).toEqual({ code: 1, signal: null });
    expect(Date.now() - signalled).toBeLessThan(1_000);
    expect(await inFlight).toBe('cut');
  });
});

describe('graceful drain in process (close())', () => {
  it('refuses new connections at once, finishes the request in flight, then resolves', async () => {
    const upstream = await slowUpstream(400);
    const sy = await startProxy({ ...twoVersions(upstream.url, upstream.url), drainTimeout: '5s' });
    const agent = client();
    const inFlight = request(`${sy.urls['production']}/slow`, { dispatcher: agent }).then(async (res) => ({
      status: res.statusCode,
      body: await res.body.text(),
    }));
    await expect.poll(() => upstream.hits).toBe(1);
    expect(sy.dataPlane!.inFlight).toBe(1);
    let closed = false;
    const closing = sy.close().then(() => {
      closed = true;
    });
    expect(await refused(sy.urls['production']!)).toBe(true);
    expect(await refused(sy.urls['test']!)).toBe(true);
    expect(closed).toBe(false);
    expect(await inFlight).toEqual({ status: 200, body: 'finally' });
    await closing;
    expect(sy.dataPlane!.inFlight).toBe(0);
    expect(upstream.cut).toBe(0);
    // The control API closes last, after the drain.
    expect(await refused(sy.urls['control']!)).toBe(true);
    // A second close is the same close.
    await sy.close();
  });

  it('cuts what is left after the drain timeout', async () => {
    const upstream = await slowUpstream(5_000);
    const sy = await startProxy({ ...twoVersions(upstream.url, upstream.url), drainTimeout: '200ms' });
    const inFlight = request(`${sy.urls['production']}/slow`).then(
      (res) => `status ${res.statusCode}`,
      () => 'cut',
    );
    await expect.poll(() => upstream.hits).toBe(1);
    const started = Date.now();
    await sy.close();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(1_500);
    expect(await inFlight).toBe('cut');
    await expect.poll(() => upstream.cut).toBe(1);
    expect(sy.dataPlane!.inFlight).toBe(0);
  });

  it('closes a keep-alive connection once its response is done, while others still drain', async () => {
    const upstream = await startUpstream('timed', (req, res) => {
      setTimeout(() => res.end('done'), Number(new URL(req.url!, 'http://x').searchParams.get('ms')));
    });
    const sy = await startProxy({ ...twoVersions(upstream.url, upstream.url), drainTimeout: '5s' });
    const long = request(`${sy.urls['production']}/?ms=1000`).then((res) => res.body.text());
    const { hostname, port } = new URL(sy.urls['production']!);
    const socket = connect(Number(port), hostname);
    let got = '';
    let ended = 0;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      got += d;
    });
    socket.on('close', () => {
      ended = Date.now();
    });
    socket.write('GET /?ms=200 HTTP/1.1\r\nhost: test\r\n\r\n');
    await expect.poll(() => upstream.hits).toBe(2);
    const started = Date.now();
    const closing = sy.close();
    await expect.poll(() => got).toMatch(/\r\n\r\ndone$/);
    // The short request's connection is closed right after its answer, well before the long one ends.
    await expect.poll(() => ended, { timeout: 500 }).toBeGreaterThan(0);
    expect(ended - started).toBeLessThan(800);
    expect(await long).toBe('done');
    await closing;
  });

  it('does not wait for idle keep-alive connections', async () => {
    const upstream = await slowUpstream(5_000);
    const sy = await startProxy({ ...twoVersions(upstream.url, upstream.url), drainTimeout: '10s' });
    const agent = client();
    for (let i = 0; i < 3; i++) {
      const res = await request(`${sy.urls['production']}/fast`, { dispatcher: agent });
      expect(await res.body.text()).toBe('fast');
    }
    // A scraper's keep-alive connection to the control port must not hold the stop either.
    const metrics = await request(`${sy.urls['control']}/metrics`, { dispatcher: agent });
    expect(metrics.statusCode).toBe(200);
    await metrics.body.dump();
    const started = Date.now();
    await sy.close();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
