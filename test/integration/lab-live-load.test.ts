/**
 * The live runner's open-loop load on real sockets: it keeps its rate whatever the answers take, counts
 * latency from when each request was due, and turns a request without an answer in time into a timeout.
 */
import type { ServerResponse } from 'node:http';

import { describe, expect, it } from 'vitest';

import { parseExperiment } from '../../src/lab/experiment.js';
import { CONNECTION_ERROR, type LoadRecord, REPLACEMENT, startLoad, TIMED_OUT } from '../../src/lab/live/load.js';
import { startUpstream } from '../support/upstream.js';

/** The experiment's `load:` with these settings over a minimal experiment. */
function loadOf(load: Record<string, unknown>) {
  const text = JSON.stringify({
    load,
    versions: { synthetic: { original: {}, replacement: {} } },
    policies: [{ name: 'p', config: 'CodeDeployDefault.ECSAllAtOnce' }],
    scenarios: [{ name: 's' }],
  });
  return parseExperiment(text, '', {}).load;
}

const target = (url: string) => ({
  url,
  seed: 7,
  versionHeader: 'x-switchyard-version',
  original: 'blue',
  replacement: 'green',
});

function statuses(r: LoadRecord): number[] {
  return Array.from(r.status.subarray(0, r.count));
}

describe('open-loop load', () => {
  it('keeps 500 req/s for 2 s, evenly spaced from t=0, users drawn from the seed', async () => {
    const up = await startUpstream('green', (_req, res) => {
      res.writeHead(200, { 'x-switchyard-version': 'green' }).end('ok');
    });
    const load = startLoad(loadOf({ rate: 500, connections: 16, users: 50 }), target(up.url));
    await new Promise((r) => setTimeout(r, 2_000));
    const r = await load.stop();
    // 2 s at 500/s is 1000 requests due (one more at t=0); timers on a busy machine may be a little late.
    expect(r.count).toBeGreaterThanOrEqual(970);
    expect(r.count).toBeLessThanOrEqual(1010);
    expect(r.due[0]).toBe(0);
    expect(r.due[10]).toBeCloseTo(20, 9);
    expect(up.hits).toBe(r.count);
    expect(statuses(r).every((s) => s === 200)).toBe(true);
    expect(Array.from(r.version.subarray(0, r.count)).every((v) => v === REPLACEMENT)).toBe(true);
    const users = new Set(r.user.subarray(0, r.count));
    expect(Math.max(...users)).toBeLessThan(50);
    expect(users.size).toBeGreaterThan(40);
    // The same seed draws the same users.
    const again = startLoad(loadOf({ rate: 500, users: 50 }), target(up.url));
    await new Promise((res) => setTimeout(res, 100));
    const r2 = await again.stop();
    expect(Array.from(r2.user.subarray(0, 20))).toEqual(Array.from(r.user.subarray(0, 20)));
  });

  it('counts latency from the due time: a server that answers one at a time makes it grow', async () => {
    // 20 ms per answer, one connection, 200 requests due per second: a queue builds up client-side.
    const up = await startUpstream('slow', (_req, res) => {
      setTimeout(() => res.writeHead(200).end('ok'), 20);
    });
    const load = startLoad(loadOf({ rate: 200, connections: 1 }), target(up.url));
    await new Promise((r) => setTimeout(r, 600));
    const r = await load.stop();
    expect(r.count).toBeGreaterThanOrEqual(110);
    const first = r.latency[0]!;
    const last = r.latency[r.count - 1]!;
    expect(first).toBeLessThan(100);
    // Request k waits for k answers of 20 ms less its own 5 ms of spacing: ≈ 15 ms × k.
    expect(last).toBeGreaterThan(1_000);
    expect(r.latency[Math.floor(r.count / 2)]!).toBeGreaterThan(first + 300);
  });

  it('fails a request without an answer after the timeout, and a reset as a connection error', async () => {
    const held: ServerResponse[] = [];
    const up = await startUpstream('stuck', (req, res) => {
      if (req.url === '/reset') req.socket.destroy();
      else held.push(res);
    });
    const load = startLoad(
      loadOf({
        rate: 100,
        connections: 64,
        timeout: '200ms',
        requests: [
          { path: '/hang', weight: 1 },
          { path: '/reset', weight: 1 },
        ],
      }),
      target(up.url),
    );
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const r = await load.stop();
    // Stop waits only for what is in flight, each bounded by its own timeout.
    expect(Date.now() - started).toBeLessThan(1_000);
    for (const res of held) res.destroy();
    const s = statuses(r);
    expect(s.filter((x) => x === TIMED_OUT).length).toBeGreaterThan(5);
    expect(s.filter((x) => x === CONNECTION_ERROR).length).toBeGreaterThan(5);
    expect(s.filter((x) => x === TIMED_OUT).length + s.filter((x) => x === CONNECTION_ERROR).length).toBe(r.count);
    for (let k = 0; k < r.count; k++) {
      if (r.status[k] === TIMED_OUT) expect(r.latency[k]!).toBeGreaterThanOrEqual(195);
    }
  });
});
