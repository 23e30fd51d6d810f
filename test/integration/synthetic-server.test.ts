/**
 * A synthetic version's server on real sockets: drawn latencies and errors as configured, the warm-up
 * by requests and by time, and the capacity (in flight, FIFO queue, 503 when full or waited too long, a
 * client that leaves frees its place). Every server is closed when its test ends.
 */
import { performance } from 'node:perf_hooks';

import { Agent, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';

import { SyntheticConfig } from '../../src/config/synthetic.js';
import { type Draw, SyntheticModel } from '../../src/synthetic/model.js';
import { startSyntheticServer, type SyntheticServer } from '../../src/synthetic/server.js';
import { until } from '../support/until.js';

/** A server for `input` (the config's YAML shape), closed when the test ends. */
async function serve(input: Record<string, unknown>, label?: string): Promise<SyntheticServer> {
  const server = await startSyntheticServer(SyntheticConfig.parse(input), label === undefined ? {} : { label });
  onTestFinished(() => server.close());
  return server;
}

/** An agent with enough connections for `n` requests at once, closed when the test ends. */
function agentFor(n: number): Agent {
  const agent = new Agent({ connections: n });
  onTestFinished(() => agent.close());
  return agent;
}

interface Answer {
  status: number;
  body: string;
  ms: number;
  headers: Record<string, string | string[] | undefined>;
}

/** One GET, timed from sending to the end of the body. */
async function get(url: string, agent?: Agent, signal?: AbortSignal): Promise<Answer> {
  const start = performance.now();
  const res = await request(url, { ...(agent && { dispatcher: agent }), ...(signal && { signal }) });
  const body = await res.body.text();
  return { status: res.statusCode, body, ms: performance.now() - start, headers: res.headers };
}

/** `total` GETs, `concurrency` at a time. */
async function many(url: string, total: number, concurrency: number): Promise<Answer[]> {
  const agent = agentFor(concurrency);
  const answers: Answer[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent++;
        answers.push(await get(url, agent));
      }
    }),
  );
  return answers;
}

const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
};

describe('synthetic server', () => {
  it('answers with lognormal latencies whose p50 and p99 are the configured ones', async () => {
    const server = await serve({ latency: { p50: '20ms', p99: '80ms' }, seed: 11, bodyBytes: 100 }, 'green');
    const answers = await many(server.url, 1_000, 10);
    expect(answers.every((a) => a.status === 200 && a.body === 'x'.repeat(100))).toBe(true);
    expect(answers[0]!.headers['x-synthetic-version']).toBe('green');
    const ms = answers.map((a) => a.ms);
    // The 1,000 draws served are exactly the seed's first 1,000 (in whatever order the requests came), so
    // what is measured is them plus this machine's overhead: never less (but for rounding to whole ms).
    const model = new SyntheticModel(SyntheticConfig.parse({ latency: { p50: '20ms', p99: '80ms' } }), 11);
    const into: Draw = { latencyMs: 0, status: 0 };
    const drawn = Array.from({ length: 1_000 }, (_, i) => model.draw(0, i, into).latencyMs);
    expect(quantile(drawn, 0.5)).toBeGreaterThan(20 * 0.9);
    expect(quantile(drawn, 0.5)).toBeLessThan(20 * 1.1);
    expect(quantile(drawn, 0.99)).toBeGreaterThan(80 * 0.8);
    expect(quantile(drawn, 0.99)).toBeLessThan(80 * 1.2);
    expect(quantile(ms, 0.5)).toBeGreaterThan(quantile(drawn, 0.5) - 0.5);
    expect(quantile(ms, 0.5)).toBeLessThan(quantile(drawn, 0.5) + 10);
    expect(quantile(ms, 0.99)).toBeGreaterThan(quantile(drawn, 0.99) - 0.5);
    expect(quantile(ms, 0.99)).toBeLessThan(quantile(drawn, 0.99) + 30);
    expect(server.served).toBe(1_000);
  });

  it('answers exactly the seed draws error share with the configured status and a JSON body', async () => {
    const input = { latency: { fixed: '1ms' }, errors: { percent: 20, status: 502 }, seed: 5 };
    const server = await serve(input);
    const answers = await many(server.url, 1_000, 20);
    const failed = answers.filter((a) => a.status === 502);
    // Whatever order the requests arrived in, the first 1,000 draws decide how many fail.
    const model = new SyntheticModel(SyntheticConfig.parse(input), 5);
    const into: Draw = { latencyMs: 0, status: 0 };
    const expected = Array.from({ length: 1_000 }, (_, i) => model.draw(0, i, into).status).filter((s) => s === 502);
    expect(failed.length).toBe(expected.length);
    expect(failed.length).toBeGreaterThan(150);
    expect(failed.length).toBeLessThan(250);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1_000 - failed.length);
    expect(JSON.parse(failed[0]!.body)).toEqual({ error: 'SYNTHETIC_ERROR', message: expect.any(String) });
    expect(failed[0]!.headers['content-type']).toBe('application/json');
  });

  it('is slower by the warm-up factor for its first requests, and not after them', async () => {
    const server = await serve({ latency: { fixed: '20ms' }, warmup: { requests: 10, factor: 5 } });
    const answers: Answer[] = [];
    for (let i = 0; i < 20; i++) answers.push(await get(server.url));
    const ms = answers.map((a) => a.ms);
    expect(ms[0]).toBeGreaterThanOrEqual(99);
    expect(ms[0]).toBeLessThan(150);
    // Halfway, the factor has fallen halfway: 3 × 20 ms.
    expect(ms[5]).toBeGreaterThanOrEqual(59);
    expect(ms[5]).toBeLessThan(100);
    expect(quantile(ms.slice(10), 0.5)).toBeLessThan(35);
    expect(Math.min(...ms.slice(10))).toBeGreaterThanOrEqual(19);
  });

  it('is slower by the warm-up factor for its first moments, and not after them', async () => {
    const server = await serve({ latency: { fixed: '20ms' }, warmup: { duration: '400ms', factor: 4 } });
    const listening = performance.now();
    const first = await get(server.url);
    // It ran (this is what a warm-up by time needs), not a handshake: requests go on until 500 ms passed.
    let later = first;
    while (performance.now() - listening < 500) later = await get(server.url);
    const settled = [await get(server.url), await get(server.url), await get(server.url)];
    expect(first.ms).toBeGreaterThanOrEqual(65);
    expect(first.ms).toBeLessThan(120);
    expect(later.ms).toBeLessThan(60);
    expect(
      quantile(
        settled.map((a) => a.ms),
        0.5,
      ),
    ).toBeLessThan(35);
  });
});

describe('synthetic server capacity', () => {
  it('serves inFlight at once, queues queue more, and refuses one more at once with 503', async () => {
    const server = await serve({
      latency: { fixed: '200ms' },
      capacity: { inFlight: 2, queue: 3, queueTimeout: '5s' },
    });
    const agent = agentFor(6);
    const admitted = Array.from({ length: 5 }, () => get(server.url, agent));
    await until(
      () => [server.serving, server.waiting],
      ([s, w]) => s === 2 && w === 3,
      5_000,
      5,
      'two served and three waiting',
    );
    const refused = await get(server.url, agent);
    expect(refused.status).toBe(503);
    expect(refused.ms).toBeLessThan(100);
    expect(JSON.parse(refused.body)).toEqual({ error: 'SYNTHETIC_QUEUE_FULL', message: expect.any(String) });
    const answers = await Promise.all(admitted);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    // Latency climbs with queueing: two at 200 ms, two more behind them, the last behind those.
    const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
    expect(ms[0]).toBeGreaterThanOrEqual(199);
    expect(ms[1]).toBeLessThan(350);
    expect(ms[2]).toBeGreaterThanOrEqual(399);
    expect(ms[4]).toBeGreaterThanOrEqual(599);
    expect([server.serving, server.waiting]).toEqual([0, 0]);
  });

  it('answers 503 to a request that waited longer than queueTimeout, its wait counted as latency', async () => {
    const server = await serve({
      latency: { fixed: '600ms' },
      capacity: { inFlight: 1, queue: 1, queueTimeout: '100ms' },
    });
    const agent = agentFor(2);
    const served = get(server.url, agent);
    await until(
      () => server.serving,
      (n) => n === 1,
    );
    const waited = await get(server.url, agent);
    expect(waited.status).toBe(503);
    expect(JSON.parse(waited.body)).toEqual({ error: 'SYNTHETIC_QUEUE_TIMEOUT', message: expect.any(String) });
    expect(waited.ms).toBeGreaterThanOrEqual(99);
    expect(waited.ms).toBeLessThan(400);
    expect((await served).status).toBe(200);
    // The timed-out request never began service.
    expect(server.served).toBe(1);
  });

  it('frees the place of a client that leaves, served or waiting', async () => {
    // The first request served takes 100 × 20 ms; every later one 20 ms.
    const server = await serve({
      latency: { fixed: '20ms' },
      warmup: { requests: 1, factor: 100 },
      capacity: { inFlight: 1, queue: 1 },
    });
    const agent = agentFor(3);
    const leaving = new AbortController();
    const slow = get(server.url, agent, leaving.signal).catch((err: unknown) => err);
    await until(
      () => server.serving,
      (n) => n === 1,
    );
    const waiting = new AbortController();
    const queued = get(server.url, agent, waiting.signal).catch((err: unknown) => err);
    await until(
      () => server.waiting,
      (n) => n === 1,
    );
    waiting.abort();
    await queued;
    await until(
      () => server.waiting,
      (n) => n === 0,
    );
    leaving.abort();
    await slow;
    await until(
      () => server.serving,
      (n) => n === 0,
    );
    const next = await get(server.url, agent);
    expect(next.status).toBe(200);
    expect(next.ms).toBeLessThan(500);
  });
});
