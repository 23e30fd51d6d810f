/**
 * The canary statistics against known answers. Unless a test says otherwise, the expected numbers were
 * computed once with scipy 1.17.1 (scipy.stats) and pasted here as literals; the calls are named at each.
 */
import { describe, expect, it } from 'vitest';

import { LATENCY_BOUNDS_MS } from '../../src/core/stats-delta.js';
import {
  histogramQuantile,
  mannWhitney,
  mannWhitneyBinned,
  normalCdf,
  normalQuantile,
  normalSf,
  twoProportionTest,
} from '../../src/health/statistics.js';

/** Asserts |actual − expected| ≤ rel·|expected| (or ≤ rel when expected is 0). */
function expectClose(actual: number, expected: number, rel: number): void {
  const tolerance = expected === 0 ? rel : rel * Math.abs(expected);
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

/** A latency histogram on the real bucket layout from {bucket index: count}. */
function histogram(sparse: Record<number, number>): number[] {
  const out = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for (const [i, c] of Object.entries(sparse)) out[Number(i)] = c;
  return out;
}

/** The raw sample a histogram stands for, with the bucket index as the value (only the order matters). */
function expand(buckets: readonly number[]): number[] {
  return buckets.flatMap((c, i) => new Array<number>(c).fill(i));
}

describe('normalCdf / normalSf', () => {
  // scipy.stats.norm.cdf(z)
  const CDF: [number, number][] = [
    [0, 0.5],
    [1, 0.8413447460685429],
    [-1, 0.15865525393145707],
    [1.96, 0.9750021048517795],
    [-1.96, 0.024997895148220435],
    [3, 0.9986501019683699],
    [-3, 0.0013498980316300933],
    [6, 0.9999999990134123],
    [-5, 2.866515718791933e-7],
    [-7.5, 3.1908916729108844e-14],
    [-10, 7.61985302416047e-24],
    [-20, 2.7536241186061556e-89],
    [-37, 5.7255712225239266e-300],
  ];

  it.each(CDF)('Φ(%s) matches scipy.stats.norm.cdf to 1e-13 relative', (z, p) => {
    expectClose(normalCdf(z), p, 1e-12);
  });

  it('keeps relative precision in the upper tail (scipy.stats.norm.sf)', () => {
    expectClose(normalSf(6), 9.865876450376946e-10, 1e-12);
    expectClose(normalSf(7.5), 3.1908916729108844e-14, 1e-12);
    expectClose(normalSf(1.96), 0.024997895148220435, 1e-12);
  });

  it('is symmetric and saturates at the infinities', () => {
    for (const z of [0.3, 1.5, 2.7, 8]) expectClose(normalCdf(z) + normalCdf(-z), 1, 1e-15);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(normalCdf(Number.NEGATIVE_INFINITY)).toBe(0);
  });
});

describe('normalQuantile', () => {
  // scipy.stats.norm.ppf(p)
  const PPF: [number, number][] = [
    [0.5, 0],
    [0.975, 1.959963984540054],
    [0.025, -1.9599639845400545],
    [0.8, 0.8416212335729143],
    [0.3, -0.5244005127080409],
    [0.01, -2.3263478740408408],
    [0.02425, -1.972961051311885],
    [1e-6, -4.753424308822899],
    [1 - 1e-6, 4.753424308817087],
    [1e-12, -7.034483825301131],
    [1e-100, -21.273453560965322],
    [1e-300, -37.0470962993612],
  ];

  it.each(PPF)('Φ⁻¹(%s) matches scipy.stats.norm.ppf to 1e-12 relative', (p, z) => {
    expectClose(normalQuantile(p), z, 1e-12);
  });

  it('gives the textbook 97.5% point 1.96 of every z-table', () => {
    expect(normalQuantile(0.975).toFixed(2)).toBe('1.96');
  });

  it('round-trips with normalCdf', () => {
    for (const p of [1e-15, 1e-9, 0.001, 0.1, 0.25, 0.5, 0.6, 0.9, 0.999])
      expectClose(normalCdf(normalQuantile(p)), p, 1e-12);
    // Not far into the upper tail: Φ(6) = 1 − 1e-9 keeps only 7 digits of the tail in a double.
    for (const z of [-30, -8, -3, -0.5, 0, 0.5, 3]) expectClose(normalQuantile(normalCdf(z)), z, 1e-12);
  });

  it('maps the ends to ±∞ and anything outside [0, 1] to NaN', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.1)).toBeNaN();
    expect(normalQuantile(Number.NaN)).toBeNaN();
  });
});

describe('histogramQuantile', () => {
  // Bounds 1, 2, 5, 10 ms and 10, 20, 40, 20 observations in them, 10 beyond: 100 in all.
  const bounds = [1, 2, 5, 10];
  const buckets = [10, 20, 40, 20, 10];

  it('interpolates linearly inside the bucket, from 0 in the first one', () => {
    expect(histogramQuantile(buckets, bounds, 0.05)).toBe(0.5); // rank 5 of the first 10 in [0, 1]
    expect(histogramQuantile(buckets, bounds, 0.1)).toBe(1);
    expect(histogramQuantile(buckets, bounds, 0.5)).toBe(3.5); // rank 50: 20 of 40 into [2, 5]
    expect(histogramQuantile(buckets, bounds, 0.8)).toBe(7.5); // rank 80: 10 of 20 into [5, 10]
    expect(histogramQuantile(buckets, bounds, 0.9)).toBe(10);
  });

  it('returns the last finite bound when the quantile falls in the overflow bucket', () => {
    expect(histogramQuantile(buckets, bounds, 0.99)).toBe(10);
    expect(histogramQuantile(buckets, bounds, 1)).toBe(10);
  });

  it('starts q = 0 at the lower edge of the first observed bucket', () => {
    expect(histogramQuantile(buckets, bounds, 0)).toBe(0);
    expect(histogramQuantile([0, 0, 4, 0, 0], bounds, 0)).toBe(2);
  });

  it('works on the real latency layout', () => {
    const at10ms = LATENCY_BOUNDS_MS.indexOf(10); // the bucket (7.5, 10]
    expect(LATENCY_BOUNDS_MS[at10ms - 1]).toBe(7.5);
    const h = histogram({ [at10ms]: 100 });
    expect(histogramQuantile(h, LATENCY_BOUNDS_MS, 0.5)).toBe(8.75);
    expect(histogramQuantile(h, LATENCY_BOUNDS_MS, 0.99)).toBeCloseTo(9.975, 12);
    const overflow = histogram({ [LATENCY_BOUNDS_MS.length]: 3 });
    expect(histogramQuantile(overflow, LATENCY_BOUNDS_MS, 0.5)).toBe(60_000);
  });

  it('is undefined for an empty histogram', () => {
    expect(histogramQuantile([0, 0, 0, 0, 0], bounds, 0.5)).toBeUndefined();
    expect(histogramQuantile(histogram({}), LATENCY_BOUNDS_MS, 0.99)).toBeUndefined();
  });

  it('rejects a bucket layout that does not fit the bounds, and q outside [0, 1]', () => {
    expect(() => histogramQuantile([1, 2, 3, 4], bounds, 0.5)).toThrow(RangeError);
    expect(() => histogramQuantile(buckets, bounds, 1.5)).toThrow(RangeError);
    expect(() => histogramQuantile([1, -1, 0, 0, 0], bounds, 0.5)).toThrow(RangeError);
  });
});

describe('mannWhitney on raw samples', () => {
  const A = [12, 15, 15, 18, 20, 20, 20, 25, 30, 31];
  const B = [14, 15, 20, 22, 25, 25, 28, 33, 35, 40, 41];

  it('matches scipy with ties, in both directions and two-sided', () => {
    const r = mannWhitney(A, B);
    // scipy.stats.mannwhitneyu(b, a, alternative='greater', method='asymptotic', use_continuity=True)
    // reports U_b = 78.5; with (a, b) it reports U_a = 31.5 = 10·11 − 78.5.
    expect(r.u).toBe(78.5);
    expect(r.nA).toBe(10);
    expect(r.nB).toBe(11);
    expectClose(r.effect, 0.7136363636363636, 1e-12);
    // scipy.stats.mannwhitneyu(a, b, alternative='less', method='asymptotic', use_continuity=True).pvalue
    expectClose(r.pGreater, 0.0516395476589963, 1e-6);
    // ... alternative='greater' ...
    expectClose(r.pLess, 0.9554339093924691, 1e-6);
    // ... alternative='two-sided' ...
    expectClose(r.pTwoSided, 0.1032790953179926, 1e-6);
    expect(r.z).toBeGreaterThan(0);
    expectClose(2 * normalSf(r.z), r.pTwoSided, 1e-12);
  });

  it('swapping the samples mirrors the result', () => {
    const r = mannWhitney(B, A);
    expect(r.u).toBe(31.5);
    expectClose(r.pGreater, 0.9554339093924691, 1e-6);
    expectClose(r.pLess, 0.0516395476589963, 1e-6);
    expectClose(r.pTwoSided, 0.1032790953179926, 1e-6);
    expect(r.z).toBeLessThan(0);
  });

  it("gives the textbook W = 35 for Hollander & Wolfe's chorioamnion data", () => {
    // Hollander & Wolfe (1973), p. 69, the two-sample example of R's ?wilcox.test:
    // wilcox.test(x, y, alternative = "g") reports W = 35 (U of x). x is B here, y is A.
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const r = mannWhitney(y, x);
    expect(r.u).toBe(35);
    expect(r.effect).toBe(0.7);
    // scipy.stats.mannwhitneyu(y, x, alternative='less' | 'greater' | 'two-sided', method='asymptotic',
    // use_continuity=True).pvalue
    expectClose(r.pGreater, 0.12231180256349167, 1e-6);
    expectClose(r.pLess, 0.9007753482039937, 1e-6);
    expectClose(r.pTwoSided, 0.24462360512698333, 1e-6);
  });

  it('rejects NaN samples', () => {
    expect(() => mannWhitney([1, Number.NaN], [2])).toThrow(RangeError);
  });
});

describe('mannWhitneyBinned on latency histograms', () => {
  const blue = histogram({ 26: 40, 27: 120, 28: 300, 29: 420, 30: 310, 31: 150, 32: 60, 33: 15, 34: 5 });
  const green = histogram({ 26: 30, 27: 100, 28: 270, 29: 400, 30: 340, 31: 190, 32: 80, 33: 30, 34: 10 });
  // blue moved up two buckets
  const slow = histogram({ 28: 40, 29: 120, 30: 300, 31: 420, 32: 310, 33: 150, 34: 60, 35: 15, 36: 5 });

  it('matches scipy on a slightly slower replacement, heavy ties included', () => {
    const r = mannWhitneyBinned(blue, green);
    // scipy.stats.mannwhitneyu(np.repeat(idx, blue), np.repeat(idx, green), alternative=...,
    // method='asymptotic', use_continuity=True) with idx = np.arange(56); U_a = 938450.
    expect(r.u).toBe(1420 * 1450 - 938450);
    expectClose(r.effect, 0.5442204953861097, 1e-12);
    expectClose(r.pGreater, 1.3473148562318409e-5, 1e-6); // alternative='less'
    expectClose(r.pLess, 0.9999865295934132, 1e-6); // alternative='greater'
    expectClose(r.pTwoSided, 2.6946297124636817e-5, 1e-6); // alternative='two-sided'
  });

  it('equals mannWhitney on the samples the bins stand for', () => {
    for (const [a, b] of [
      [blue, green],
      [green, blue],
      [blue, slow],
      [histogram({ 3: 1, 9: 2 }), histogram({ 3: 2, 5: 1, 9: 1 })],
    ] as const)
      expect(mannWhitneyBinned(a, b)).toEqual(mannWhitney(expand(a), expand(b)));
  });

  it('flags a clearly slower replacement, down to scipy in the far tail', () => {
    const r = mannWhitneyBinned(blue, slow);
    expect(r.pGreater).toBeLessThan(0.01);
    expect(r.effect).toBeGreaterThan(0.8);
    // scipy as above: U_a = 332525, p('less') = 1.6554333695704548e-216, p('greater') = 1.0
    expect(r.u).toBe(1420 * 1420 - 332525);
    expectClose(r.effect, 0.8350897639357271, 1e-12);
    expectClose(r.pGreater, 1.6554333695704548e-216, 1e-6);
    expectClose(r.pTwoSided, 3.3108667391409097e-216, 1e-6);
    expect(r.pLess).toBe(1);
  });

  it('sees no difference between identical distributions', () => {
    const r = mannWhitneyBinned(blue, blue);
    expect(r.effect).toBe(0.5);
    expect(r.z).toBe(0);
    expect(r.pTwoSided).toBe(1);
    // scipy as above, alternative='less' and 'greater' alike
    expectClose(r.pGreater, 0.5000093548076244, 1e-9);
    expectClose(r.pLess, 0.5000093548076244, 1e-9);
  });

  it('claims nothing for an empty side or when everything ties', () => {
    const none = { z: 0, pGreater: 1, pLess: 1, pTwoSided: 1, effect: 0.5 };
    expect(mannWhitneyBinned(histogram({}), green)).toMatchObject({ ...none, nA: 0, nB: 1450 });
    expect(mannWhitneyBinned(blue, histogram({}))).toMatchObject({ ...none, nA: 1420, nB: 0 });
    expect(mannWhitneyBinned(histogram({}), histogram({}))).toMatchObject(none);
    expect(mannWhitneyBinned(histogram({ 30: 500 }), histogram({ 30: 7 }))).toMatchObject({ ...none, u: 1750 });
    expect(mannWhitney([], [])).toMatchObject(none);
    expect(mannWhitney([5, 5], [5])).toMatchObject(none);
  });

  it('rejects bins that do not line up or negative counts', () => {
    expect(() => mannWhitneyBinned([1, 2], [1, 2, 3])).toThrow(RangeError);
    expect(() => mannWhitneyBinned([1, -2], [1, 2])).toThrow(RangeError);
  });
});

describe('twoProportionTest', () => {
  // Pooled z by hand in python: p = (eA + eB)/(nA + nB), z = (eB/nB − eA/nA) / sqrt(p(1 − p)(1/nA + 1/nB)),
  // p-values from scipy.stats.norm.sf(z), norm.cdf(z) and 2·norm.sf(|z|) (what statsmodels'
  // proportions_ztest computes by default).
  it.each([
    [12, 1000, 25, 1000, 2.1572344060855686, 0.0154937024640225, 0.9845062975359775, 0.030987404928045],
    [50, 10000, 48, 9000, 0.3202652976394433, 0.37438361364223244, 0.6256163863577675, 0.7487672272844649],
    [3, 200, 0, 150, -1.5064701953798234, 0.9340267436615615, 0.06597325633843855, 0.1319465126768771],
    [1, 100000, 40, 100000, 6.091401114272021, 5.596335718467234e-10, 0.9999999994403664, 1.1192671436934467e-9],
  ])('%d/%d against %d/%d', (eA, nA, eB, nB, z, pGreater, pLess, pTwoSided) => {
    const r = twoProportionTest(eA, nA, eB, nB);
    expectClose(r.z, z, 1e-12);
    expectClose(r.pGreater, pGreater, 1e-9);
    expectClose(r.pLess, pLess, 1e-9);
    expectClose(r.pTwoSided, pTwoSided, 1e-9);
    expect(r.rateA).toBe(eA / nA);
    expect(r.rateB).toBe(eB / nB);
    expect(r.diff).toBe(eB / nB - eA / nA);
  });

  it('claims nothing without requests on a side or when the pooled rate is 0 or 1', () => {
    const none = { z: 0, pGreater: 1, pLess: 1, pTwoSided: 1 };
    expect(twoProportionTest(0, 0, 5, 10)).toEqual({ ...none, rateA: 0, rateB: 0.5, diff: 0.5 });
    expect(twoProportionTest(5, 10, 0, 0)).toEqual({ ...none, rateA: 0.5, rateB: 0, diff: -0.5 });
    expect(twoProportionTest(0, 0, 0, 0)).toEqual({ ...none, rateA: 0, rateB: 0, diff: 0 });
    expect(twoProportionTest(0, 500, 0, 700)).toEqual({ ...none, rateA: 0, rateB: 0, diff: 0 });
    expect(twoProportionTest(500, 500, 700, 700)).toEqual({ ...none, rateA: 1, rateB: 1, diff: 0 });
  });

  it('rejects impossible counts', () => {
    expect(() => twoProportionTest(11, 10, 0, 10)).toThrow(RangeError);
    expect(() => twoProportionTest(-1, 10, 0, 10)).toThrow(RangeError);
    expect(() => twoProportionTest(0, Number.POSITIVE_INFINITY, 0, 10)).toThrow(RangeError);
  });
});
