/**
 * The simulator's seeded draws: binomial counts with the right mean and spread on both sides of the
 * switch from exact inversion to the normal approximation, within their bounds, and reproducible.
 */
import { describe, expect, it } from 'vitest';

import { Draws } from '../../src/lab/sim/draws.js';

function moments(draw: () => number, times: number): { mean: number; variance: number } {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < times; i++) {
    const x = draw();
    sum += x;
    squares += x * x;
  }
  const mean = sum / times;
  return { mean, variance: squares / times - mean * mean };
}

describe('Draws', () => {
  it.each([
    [20, 0.05],
    [250, 0.01],
    [250, 0.1],
    [250, 0.97],
    [12_500, 0.3],
  ])('binomial(%d, %d) has mean np and variance np(1-p), and stays in [0, n]', (n, p) => {
    const draws = new Draws(9);
    let outside = 0;
    const { mean, variance } = moments(() => {
      const k = draws.binomial(n, p);
      if (k < 0 || k > n || !Number.isInteger(k)) outside++;
      return k;
    }, 20_000);
    expect(outside).toBe(0);
    expect(mean).toBeCloseTo(n * p, n * p > 100 ? -0.5 : 0);
    expect(variance / (n * p * (1 - p))).toBeGreaterThan(0.9);
    expect(variance / (n * p * (1 - p))).toBeLessThan(1.1);
  });

  it('has the edge cases right, and the same seed draws the same numbers', () => {
    const draws = new Draws(1);
    expect(draws.binomial(0, 0.5)).toBe(0);
    expect(draws.binomial(10, 0)).toBe(0);
    expect(draws.binomial(10, 1)).toBe(10);
    const a = new Draws(77);
    const b = new Draws(77);
    const seq = (d: Draws) => [d.binomial(100, 0.2), d.normal(), d.round(2.5), d.uniform()];
    expect(seq(a)).toEqual(seq(b));
    const rounded = moments(() => a.round(2.25), 20_000);
    expect(rounded.mean).toBeCloseTo(2.25, 1);
  });
});
