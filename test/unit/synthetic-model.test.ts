/**
 * A synthetic version's arithmetic without sockets: the draws (latency, errors, warm-up, the seed's
 * order) and the capacity's admission (in flight, FIFO queue, deadlines, withdrawals) on given times.
 */
import { describe, expect, it } from 'vitest';

import { SyntheticConfig } from '../../src/config/synthetic.js';
import { Mulberry32, Z99 } from '../../src/core/random.js';
import { Admission, type Draw, SyntheticModel } from '../../src/synthetic/model.js';

const draw = (): Draw => ({ latencyMs: 0, status: 0 });

/** `n` draws at `elapsedMs` with no warm-up progress beyond what `served` says. */
function drawMany(model: SyntheticModel, n: number, at: (i: number) => [number, number] = (i) => [0, i]): Draw[] {
  return Array.from({ length: n }, (_, i) => ({ ...model.draw(...at(i), draw()) }));
}

const quantile = (sorted: readonly number[], q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;

describe('synthetic model', () => {
  it('draws a lognormal latency whose p50 and p99 are the configured ones', () => {
    const model = new SyntheticModel(SyntheticConfig.parse({ latency: { p50: '20ms', p99: '200ms' } }), 42);
    const latencies = drawMany(model, 20_000)
      .map((d) => d.latencyMs)
      .sort((a, b) => a - b);
    expect(quantile(latencies, 0.5)).toBeGreaterThan(20 * 0.95);
    expect(quantile(latencies, 0.5)).toBeLessThan(20 * 1.05);
    expect(quantile(latencies, 0.99)).toBeGreaterThan(200 * 0.85);
    expect(quantile(latencies, 0.99)).toBeLessThan(200 * 1.15);
  });

  it('gives a fixed latency exactly, and the default model is lognormal 2 ms / 10 ms', () => {
    const fixed = new SyntheticModel(SyntheticConfig.parse({ latency: { fixed: '15ms' } }), 1);
    expect(new Set(drawMany(fixed, 50).map((d) => d.latencyMs))).toEqual(new Set([15]));
    expect(SyntheticConfig.parse({})).toEqual({ latency: { p50Ms: 2, p99Ms: 10 }, bodyBytes: 64 });
  });

  it('answers the configured share with the error status, the same requests for the same seed', () => {
    const config = SyntheticConfig.parse({ errors: { percent: 25, status: 502 }, latency: { fixed: 0 } });
    const a = drawMany(new SyntheticModel(config, 7), 4_000).map((d) => d.status);
    const b = drawMany(new SyntheticModel(config, 7), 4_000).map((d) => d.status);
    const c = drawMany(new SyntheticModel(config, 8), 4_000).map((d) => d.status);
    expect(new Set(a)).toEqual(new Set([200, 502]));
    const share = a.filter((s) => s === 502).length / a.length;
    expect(share).toBeGreaterThan(0.23);
    expect(share).toBeLessThan(0.27);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('takes three uniform draws per request whatever the config: the error, then the lognormal pair', () => {
    const rng = new Mulberry32(99);
    const u = Array.from({ length: 6 }, () => rng.next());
    const model = new SyntheticModel(
      SyntheticConfig.parse({ errors: { percent: 50 }, latency: { p50: '10ms', p99: '50ms' } }),
      99,
    );
    const sigma = Math.log(5) / Z99;
    for (let i = 0; i < 2; i++) {
      const d = model.draw(0, i, draw());
      const [ue, u1, u2] = [u[3 * i]!, u[3 * i + 1]!, u[3 * i + 2]!];
      expect(d.status).toBe(ue * 100 < 50 ? 500 : 200);
      const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
      expect(d.latencyMs).toBeCloseTo(10 * Math.exp(sigma * z), 9);
    }
    // A fixed latency takes the same three draws, so errors fall on the same requests.
    const fixed = new SyntheticModel(SyntheticConfig.parse({ errors: { percent: 50 }, latency: { fixed: 1 } }), 99);
    const varied = new SyntheticModel(SyntheticConfig.parse({ errors: { percent: 50 } }), 99);
    expect(drawMany(fixed, 100).map((d) => d.status)).toEqual(drawMany(varied, 100).map((d) => d.status));
  });

  it('multiplies the latency by the warm-up factor, by requests begun, falling linearly to 1', () => {
    const model = new SyntheticModel(
      SyntheticConfig.parse({ latency: { fixed: '10ms' }, warmup: { requests: 10, factor: 5 } }),
      1,
    );
    const latencies = drawMany(model, 12).map((d) => d.latencyMs);
    expect(latencies[0]).toBe(50);
    expect(latencies[5]).toBeCloseTo(30, 9);
    expect(latencies.slice(10)).toEqual([10, 10]);
  });

  it('multiplies the latency by the warm-up factor, by time since the start', () => {
    const model = new SyntheticModel(
      SyntheticConfig.parse({ latency: { fixed: '10ms' }, warmup: { duration: '1s' } }),
      1,
    );
    const at = [0, 250, 999, 1_000, 5_000];
    const latencies = drawMany(model, at.length, (i) => [at[i]!, 0]).map((d) => d.latencyMs);
    expect(latencies).toEqual([50, 40, expect.closeTo(10.04, 5), 10, 10]);
  });
});

describe('synthetic admission', () => {
  const capacity = (inFlight: number, queue: number, queueTimeoutMs = 100) =>
    new Admission<string>({ inFlight, queue, queueTimeoutMs });

  it('serves inFlight at once, queues the next queue requests and refuses one more', () => {
    const a = capacity(2, 3);
    expect(['a', 'b', 'c', 'd', 'e', 'f'].map((x) => a.admit(x, 0))).toEqual([
      'serve',
      'serve',
      'queued',
      'queued',
      'queued',
      'full',
    ]);
    expect([a.serving, a.waiting]).toEqual([2, 3]);
  });

  it('passes a freed place to the oldest waiter, and frees it when none waits', () => {
    const a = capacity(1, 2);
    a.admit('a', 0);
    a.admit('b', 0);
    a.admit('c', 0);
    expect(a.release()).toBe('b');
    expect(a.release()).toBe('c');
    expect([a.serving, a.waiting]).toEqual([1, 0]);
    expect(a.release()).toBeUndefined();
    expect(a.serving).toBe(0);
    expect(a.admit('d', 0)).toBe('serve');
  });

  it('expires the waiters past their deadline, oldest first, and says when the next one ends', () => {
    const a = capacity(1, 5, 100);
    a.admit('served', 0);
    a.admit('w1', 10);
    a.admit('w2', 20);
    a.admit('w3', 50);
    expect(a.nextDeadline()).toBe(110);
    const expired: string[] = [];
    a.expire(120, (x) => expired.push(x));
    expect(expired).toEqual(['w1', 'w2']);
    expect(a.nextDeadline()).toBe(150);
    expect([a.serving, a.waiting]).toEqual([1, 1]);
    a.expire(150, (x) => expired.push(x));
    expect(a.nextDeadline()).toBeUndefined();
  });

  it('takes a withdrawn waiter out of the line, and skips it when places pass on', () => {
    const a = capacity(1, 2);
    a.admit('a', 0);
    a.admit('b', 0);
    a.admit('c', 0);
    expect(a.withdraw('b')).toBe(true);
    expect(a.withdraw('b')).toBe(false);
    expect(a.waiting).toBe(1);
    expect(a.admit('d', 1)).toBe('queued');
    expect(a.release()).toBe('c');
    expect(a.release()).toBe('d');
    expect(a.nextDeadline()).toBeUndefined();
  });

  it('refuses at once with no queue, and stays FIFO across many withdrawals (compaction)', () => {
    const none = capacity(1, 0);
    expect([none.admit('a', 0), none.admit('b', 0)]).toEqual(['serve', 'full']);
    const a = capacity(1, 1_000);
    a.admit('served', 0);
    for (let i = 0; i < 500; i++) a.admit(`w${i}`, i);
    for (let i = 0; i < 500; i += 2) a.withdraw(`w${i}`);
    const order: string[] = [];
    for (let next = a.release(); next; next = a.release()) order.push(next);
    expect(order).toEqual(Array.from({ length: 250 }, (_, k) => `w${2 * k + 1}`));
    expect([a.serving, a.waiting]).toEqual([0, 0]);
  });

  it('empties the queue on drain', () => {
    const a = capacity(1, 3);
    ['a', 'b', 'c'].forEach((x) => a.admit(x, 0));
    const drained: string[] = [];
    a.drain((x) => drained.push(x));
    expect(drained).toEqual(['b', 'c']);
    expect(a.waiting).toBe(0);
  });
});
