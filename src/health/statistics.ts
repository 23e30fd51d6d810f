/**
 * @module health/statistics
 * The statistics behind the alarms that judge a replacement version ("green", sample B) against the
 * original ("blue", sample A) from live traffic, in the manner of Kayenta's canary judge: latency compared
 * as whole distributions with the Mann-Whitney U test over histogram buckets, error rates with the pooled
 * two-proportion z-test. Pure functions without dependencies, so the judgement is reproducible from the
 * counts alone. Inputs that no traffic can produce (negative counts, mismatched bucket layouts) throw
 * RangeError; inputs traffic can produce (no requests, all alike) give p = 1 rather than NaN.
 */

/** Result of a Mann-Whitney U test; B is the replacement, A the original. */
export interface MannWhitneyResult {
  readonly nA: number;
  readonly nB: number;
  /**
   * U_b: over all n_a·n_b pairs (x from A, y from B), the number with y > x plus half the number with
   * y = x. Large when B tends to be larger (slower); U_a = n_a·n_b − U_b.
   */
  readonly u: number;
  /** (U_b − n_a·n_b/2) / σ, corrected by 0.5 towards 0; positive when B tends to be larger. */
  readonly z: number;
  /** One-sided p-value for "B tends to be larger than A". */
  readonly pGreater: number;
  /** One-sided p-value for "B tends to be smaller than A". */
  readonly pLess: number;
  readonly pTwoSided: number;
  /** P(B > A) + 0.5·P(B = A) = U_b / (n_a·n_b), in [0, 1]; 0.5 means no difference. */
  readonly effect: number;
}

/** Result of the pooled two-proportion z-test; B is the replacement, A the original. */
export interface TwoProportionResult {
  /** (rateB − rateA) / pooled standard error; positive when B's rate is higher. */
  readonly z: number;
  /** One-sided p-value for "B's rate is higher than A's". */
  readonly pGreater: number;
  /** One-sided p-value for "B's rate is lower than A's". */
  readonly pLess: number;
  readonly pTwoSided: number;
  /** errorsA / totalA, or 0 without requests. */
  readonly rateA: number;
  /** errorsB / totalB, or 0 without requests. */
  readonly rateB: number;
  /** rateB − rateA. */
  readonly diff: number;
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);

// Cody's rational Chebyshev coefficients from R's pnorm.c (W. J. Cody, Math. Comp. 1969), rounded to doubles.
const CODY_A = [
  2.2352520354606837, 161.02823106855587, 1067.6894854603709, 18154.98125334356, 0.06568233791820745,
] as const;
const CODY_B = [47.202581904688245, 976.0985517377767, 10260.932208618979, 45507.78933502673] as const;
const CODY_C = [
  0.39894151208813466, 8.883149794388377, 93.50665613217785, 597.2702763948002, 2494.5375852903726, 6848.190450536283,
  11602.65143764735, 9842.714838383978, 1.0765576773720192e-8,
] as const;
const CODY_D = [
  22.266688044328117, 235.387901782625, 1519.3775994075547, 6485.558298266761, 18615.571640885097, 34900.95272114598,
  38912.00328609327, 19685.429676859992,
] as const;
const CODY_P = [
  0.215898534057957, 0.12740116116024736, 0.022235277870649807, 0.0014216191932278934, 2.9112874951168793e-5,
  0.023073441764940174,
] as const;
const CODY_Q = [
  1.284260096144911, 0.4682382124808651, 0.06598813786892856, 0.0037823963320275824, 7.297515550839662e-5,
] as const;

/** exp(−y²/2) with y² split at a multiple of 1/16, which keeps the far tail accurate to the last bits. */
function gaussianKernel(y: number): number {
  const head = Math.trunc(y * 16) / 16;
  const del = (y - head) * (y + head);
  return Math.exp(-0.5 * head * head) * Math.exp(-0.5 * del);
}

/** Φ(−y) for y > 0.67448975 (so the result is below 1/4 and never comes from a subtraction). */
function lowerTail(y: number): number {
  // Φ(−40) ≈ 4e-350 is below the smallest double; stopping here also keeps Infinity out of the arithmetic.
  if (y >= 40) return 0;
  if (y <= Math.SQRT2 * 4) {
    let num = CODY_C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + CODY_C[i]!) * y;
      den = (den + CODY_D[i]!) * y;
    }
    return gaussianKernel(y) * ((num + CODY_C[7]) / (den + CODY_D[7]));
  }
  const r = 1 / (y * y);
  let num = CODY_P[5] * r;
  let den = r;
  for (let i = 0; i < 4; i++) {
    num = (num + CODY_P[i]!) * r;
    den = (den + CODY_Q[i]!) * r;
  }
  return gaussianKernel(y) * ((1 / SQRT_2PI - (r * (num + CODY_P[4])) / (den + CODY_Q[4])) / y);
}

/** Standard normal CDF Φ(z) by Cody's algorithm (as R's pnorm): near machine precision, tails included. */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const y = Math.abs(z);
  if (y <= 0.67448975) {
    const sq = z * z;
    let num = CODY_A[4] * sq;
    let den = sq;
    for (let i = 0; i < 3; i++) {
      num = (num + CODY_A[i]!) * sq;
      den = (den + CODY_B[i]!) * sq;
    }
    return 0.5 + (z * (num + CODY_A[3])) / (den + CODY_B[3]);
  }
  // The lower tail is computed directly, so small p-values keep their relative precision.
  const tail = lowerTail(y);
  return z > 0 ? 1 - tail : tail;
}

/** Upper tail 1 − Φ(z), computed without cancellation so tiny p-values stay accurate. */
export function normalSf(z: number): number {
  return normalCdf(-z);
}

// Acklam's coefficients, highest power first; each denominator ends in its constant term 1.
const ACKLAM_A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
];
const ACKLAM_B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572, 1];
const ACKLAM_C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const ACKLAM_D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416, 1];

/** The polynomial with coefficients `c` (highest power first) at x. */
function horner(c: readonly number[], x: number): number {
  return c.reduce((acc, k) => acc * x + k, 0);
}

/** Inverse standard normal CDF Φ⁻¹(p) by Acklam's algorithm plus one Halley step: full double precision. */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  // 1 − p is exact for p ≥ 0.5, and working in the lower tail keeps the refinement free of cancellation.
  if (p > 0.5) return -normalQuantile(1 - p);
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = horner(ACKLAM_C, q) / horner(ACKLAM_D, q);
  } else {
    const q = p - 0.5;
    x = (q * horner(ACKLAM_A, q * q)) / horner(ACKLAM_B, q * q);
  }
  // Acklam alone is good to ~1e-9 relative; one Halley step on Φ(x) − p brings it to machine precision.
  const u = (normalCdf(x) - p) * SQRT_2PI * Math.exp(0.5 * x * x);
  if (Number.isFinite(u)) x -= u / (1 + 0.5 * x * u);
  return x;
}

/** Rejects counts that no traffic produces, which would otherwise surface as NaN far from their cause. */
function checkCounts(counts: readonly number[], what: string): void {
  for (const c of counts)
    if (!(c >= 0) || !Number.isFinite(c)) throw new RangeError(`${what}: counts must be finite and non-negative`);
}

/**
 * The q-quantile of a histogram as Prometheus' histogram_quantile estimates it: linear inside the bucket
 * (the first bucket starts at 0), the last finite bound when it falls in the overflow bucket; undefined
 * when empty. `buckets` has one count per bound plus the overflow count, like StatsEntry.latencyBuckets.
 */
export function histogramQuantile(
  buckets: readonly number[],
  bounds: readonly number[],
  q: number,
): number | undefined {
  if (buckets.length !== bounds.length + 1)
    throw new RangeError('histogramQuantile: need one count per bound plus an overflow count');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`histogramQuantile: q must be in [0, 1], got ${q}`);
  checkCounts(buckets, 'histogramQuantile');
  const total = buckets.reduce((s, c) => s + c, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i]!;
    // Skipping empty buckets makes q = 0 land on the first observed bucket rather than dividing 0 by 0.
    if (count > 0 && below + count >= rank) {
      if (i === bounds.length) return bounds[i - 1];
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + (upper - lower) * ((rank - below) / count);
    }
    below += count;
  }
  // Only rounding in the running sum can get here; the answer is then the top of the last observed bucket.
  return bounds[bounds.length - 1];
}

/** A result that claims nothing, for inputs with nothing to compare. */
function noDifference(nA: number, nB: number): MannWhitneyResult {
  return { nA, nB, u: (nA * nB) / 2, z: 0, pGreater: 1, pLess: 1, pTwoSided: 1, effect: 0.5 };
}

/**
 * Mann-Whitney U test for two samples given as counts over the same ordered bins, each bin one tie group,
 * which is exactly a latency histogram. Normal approximation with tie-corrected variance and continuity
 * correction 0.5: pGreater is R's wilcox.test(b, a, alternative = "greater", exact = FALSE, correct = TRUE)
 * and scipy's mannwhitneyu(b, a, alternative='greater', method='asymptotic', use_continuity=True), whose
 * statistic is U_b ({@link MannWhitneyResult}).
 */
export function mannWhitneyBinned(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  if (a.length !== b.length) throw new RangeError('mannWhitneyBinned: both samples need the same bins');
  checkCounts(a, 'mannWhitneyBinned');
  checkCounts(b, 'mannWhitneyBinned');
  let nA = 0;
  let nB = 0;
  let uB = 0;
  let ties = 0;
  for (let i = 0; i < a.length; i++) {
    const ca = a[i]!;
    const cb = b[i]!;
    // Each B value here beats every A value in lower bins and ties with the A values in this one.
    uB += cb * (nA + 0.5 * ca);
    nA += ca;
    nB += cb;
    const t = ca + cb;
    ties += t * (t * t - 1);
  }
  if (nA === 0 || nB === 0) return noDifference(nA, nB);
  const n = nA + nB;
  // Written as a ratio so that one single tie group gives exactly 1, hence variance exactly 0.
  const variance = ((nA * nB * (n + 1)) / 12) * (1 - ties / (n * (n * n - 1)));
  if (!(variance > 0)) return noDifference(nA, nB);
  const sigma = Math.sqrt(variance);
  const d = uB - (nA * nB) / 2;
  return {
    nA,
    nB,
    u: uB,
    z: (Math.sign(d) * Math.max(Math.abs(d) - 0.5, 0)) / sigma,
    pGreater: normalSf((d - 0.5) / sigma),
    pLess: normalCdf((d + 0.5) / sigma),
    // U is a multiple of 0.5, so clamping |d| − 0.5 at 0 agrees with both R's and scipy's conventions.
    pTwoSided: Math.min(1, 2 * normalSf(Math.max(Math.abs(d) - 0.5, 0) / sigma)),
    effect: uB / (nA * nB),
  };
}

/** The Mann-Whitney U test on raw samples; binning by distinct value is the same as average ranks for ties. */
export function mannWhitney(samplesA: readonly number[], samplesB: readonly number[]): MannWhitneyResult {
  for (const v of [...samplesA, ...samplesB])
    if (Number.isNaN(v)) throw new RangeError('mannWhitney: samples must not be NaN');
  const values = [...new Set([...samplesA, ...samplesB])].sort((x, y) => x - y);
  const index = new Map(values.map((v, i) => [v, i]));
  const binsOf = (samples: readonly number[]): number[] => {
    const bins = new Array<number>(values.length).fill(0);
    for (const v of samples) {
      const i = index.get(v)!;
      bins[i] = bins[i]! + 1;
    }
    return bins;
  };
  return mannWhitneyBinned(binsOf(samplesA), binsOf(samplesB));
}

/**
 * Pooled two-proportion z-test of B's error rate against A's, without continuity correction (as
 * statsmodels' proportions_ztest). Without requests on a side, or when the pooled rate is 0 or 1, p = 1.
 */
export function twoProportionTest(
  errorsA: number,
  totalA: number,
  errorsB: number,
  totalB: number,
): TwoProportionResult {
  for (const [e, t] of [
    [errorsA, totalA],
    [errorsB, totalB],
  ] as const)
    if (!(e >= 0 && e <= t) || !Number.isFinite(t))
      throw new RangeError('twoProportionTest: need finite counts with 0 ≤ errors ≤ total');
  const rateA = totalA > 0 ? errorsA / totalA : 0;
  const rateB = totalB > 0 ? errorsB / totalB : 0;
  const diff = rateB - rateA;
  const none = { z: 0, pGreater: 1, pLess: 1, pTwoSided: 1, rateA, rateB, diff };
  if (totalA === 0 || totalB === 0) return none;
  const pooled = (errorsA + errorsB) / (totalA + totalB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / totalA + 1 / totalB));
  if (!(se > 0)) return none;
  const z = diff / se;
  const pTwoSided = Math.min(1, 2 * normalSf(Math.abs(z)));
  return { z, pGreater: normalSf(z), pLess: normalCdf(z), pTwoSided, rateA, rateB, diff };
}
