/**
 * @module lab/sim/latency
 * Latencies without a draw per request: a version's latency in one tick is its model's (fixed, or
 * lognormal by p50 and p99) times the warm-up factor plus the time spent queued, so the share of a tick's
 * requests in each histogram bucket follows from the model's CDF at the bucket bounds. A tick's count is
 * spread over the buckets by systematic sampling (one uniform draw places the whole cumulative count), so
 * the counts sum exactly to the requests, each bucket gets its expected share, and the cost is one pass
 * over the few buckets the distribution covers.
 */
import type { LatencySpec } from '../../config/synthetic.js';
import { lognormalMean, lognormalOf } from '../../core/random.js';
import { LATENCY_BOUNDS_MS } from '../../core/stats-delta.js';
import { normalCdf } from '../../health/statistics.js';

/** Buckets of a StatsDelta latency histogram: one per bound and the overflow. */
export const BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** Beyond this many standard deviations a normal tail holds less than 1e-16: nothing to count. */
const TAIL_SIGMAS = 8.3;

/** The histogram bucket of a latency in ms (a value on a bound belongs to that bound's bucket). */
export function bucketOf(ms: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ms <= LATENCY_BOUNDS_MS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A distribution over the buckets as a CDF: 0 below `lo`, 1 from `hi` on. */
export class BucketCdf {
  readonly values = new Float64Array(BUCKETS);
  lo = 0;
  hi = BUCKETS - 1;
  /** The share of requests not answered within the timeout (left out of the CDF). */
  pTimeout = 0;

  /** All of it in one bucket. */
  point(bucket: number): void {
    this.lo = bucket;
    this.hi = bucket;
  }

  /** Adds `count` requests spread over the buckets by systematic sampling with offset `u` in [0, 1). */
  sampleInto(count: number, u: number, into: number[]): void {
    if (count <= 0) return;
    const v = this.values;
    let prev = 0;
    for (let i = this.lo; i < this.hi; i++) {
      const cur = Math.floor(count * v[i]! + u);
      into[i]! += cur - prev;
      prev = cur;
    }
    into[this.hi]! += count - prev;
  }
}

/** A latency model: its mean, single draws, and the bucket CDF of a tick (scaled, shifted, cut at a timeout). */
export class LatencyShape {
  readonly meanMs: number;
  readonly #fixedMs: number | undefined;
  readonly #mu: number;
  readonly #sigma: number;
  readonly #timeoutMs: number;
  /** The CDF with no warm-up and no queue, by far the most common tick: computed once. */
  #steady: BucketCdf | undefined;

  constructor(spec: LatencySpec, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    if ('fixedMs' in spec) {
      this.#fixedMs = spec.fixedMs;
      this.#mu = 0;
      this.#sigma = 0;
      this.meanMs = spec.fixedMs;
    } else if (spec.p99Ms === spec.p50Ms) {
      this.#fixedMs = spec.p50Ms;
      this.#mu = 0;
      this.#sigma = 0;
      this.meanMs = spec.p50Ms;
    } else {
      const l = lognormalOf(spec.p50Ms, spec.p99Ms);
      this.#fixedMs = undefined;
      this.#mu = l.mu;
      this.#sigma = l.sigma;
      this.meanMs = lognormalMean(l);
    }
  }

  /** One latency: the model's draw (from standard normal `z`) times `factor` plus `shiftMs`. */
  draw(z: number, factor: number, shiftMs: number): number {
    const base = this.#fixedMs ?? Math.exp(this.#mu + this.#sigma * z);
    return base * factor + shiftMs;
  }

  /**
   * The bucket CDF of `base × factor + shiftMs` among the requests answered within the timeout, and the
   * share that is not: into `out`, or for the steady case a CDF computed once, which is returned instead.
   */
  cdf(factor: number, shiftMs: number, out: BucketCdf): BucketCdf {
    if (factor === 1 && shiftMs === 0) {
      if (!this.#steady) {
        this.#steady = new BucketCdf();
        this.#steady.pTimeout = this.#fill(1, 0, this.#steady);
      }
      return this.#steady;
    }
    out.pTimeout = this.#fill(factor, shiftMs, out);
    return out;
  }

  #fill(factor: number, shiftMs: number, out: BucketCdf): number {
    const timeout = this.#timeoutMs;
    if (this.#fixedMs !== undefined) {
      const ms = this.#fixedMs * factor + shiftMs;
      out.point(bucketOf(Math.min(ms, timeout)));
      return ms > timeout ? 1 : 0;
    }
    const mu = this.#mu + Math.log(factor);
    const sigma = this.#sigma;
    const below = (ms: number) => (ms <= shiftMs ? 0 : normalCdf((Math.log(ms - shiftMs) - mu) / sigma));
    const within = below(timeout);
    if (within <= 0) {
      out.point(bucketOf(timeout));
      return 1;
    }
    const from = Math.exp(mu - TAIL_SIGMAS * sigma) + shiftMs;
    const to = Math.min(Math.exp(mu + TAIL_SIGMAS * sigma) + shiftMs, timeout);
    const lo = bucketOf(from);
    const hi = bucketOf(to);
    const v = out.values;
    for (let i = lo; i < hi; i++) v[i] = Math.min(1, below(LATENCY_BOUNDS_MS[i]!) / within);
    v[hi] = 1;
    out.lo = lo;
    out.hi = hi;
    return 1 - within;
  }
}
