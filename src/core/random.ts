/**
 * @module core/random
 * Seeded randomness shared by everything that must draw the same numbers from the same seed: the fault
 * injector, the synthetic versions and the policy lab's simulator.
 */

/** The 99th percentile of the standard normal distribution. */
export const Z99 = 2.3263478740408408;

/**
 * mulberry32: a 32-bit state PRNG, fast, allocation-free and good enough to draw shares of requests;
 * the same seed gives the same sequence on every platform.
 */
export class Mulberry32 {
  #state: number;

  constructor(seed: number) {
    this.#state = seed | 0;
  }

  /** The next number in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
}

/** A lognormal distribution: ln(x) is normal with mean `mu` and standard deviation `sigma`. */
export interface Lognormal {
  readonly mu: number;
  readonly sigma: number;
}

/** The lognormal with median `p50` and 99th percentile `p99` (p99 ≥ p50 > 0). */
export function lognormalOf(p50: number, p99: number): Lognormal {
  return { mu: Math.log(p50), sigma: Math.log(p99 / p50) / Z99 };
}

/** The mean of a lognormal (above its median whenever sigma > 0). */
export function lognormalMean(l: Lognormal): number {
  return Math.exp(l.mu + (l.sigma * l.sigma) / 2);
}

/** A draw from `l` made of two uniform draws in [0, 1) (Box-Muller; 1 − u1 keeps the log finite). */
export function drawLognormal(l: Lognormal, u1: number, u2: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  return Math.exp(l.mu + l.sigma * z);
}

/** A 32-bit seed mixed from a base seed and the parts that name one draw stream (FNV-1a over the text). */
export function deriveSeed(base: number, ...parts: readonly (string | number)[]): number {
  let h = (0x811c9dc5 ^ base) >>> 0;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
