/**
 * @module lab/sim/draws
 * The simulator's seeded draws: counts of requests (binomial), normal deviates and stochastic rounding,
 * all from one Mulberry32 stream, so that a run's seed alone fixes every number it reports. The binomial
 * sampler is exact by inversion while the expected count of the rarer outcome is small, and the normal
 * approximation above that (where its error is far below the run-to-run spread).
 */
import { Mulberry32 } from '../../core/random.js';

/** Below this expected count of the rarer outcome, a binomial count is drawn exactly (by inversion). */
const EXACT_BELOW = 12;

/** Seeded draws for one run. */
export class Draws {
  readonly #rng: Mulberry32;
  #spare: number | undefined;

  constructor(seed: number) {
    this.#rng = new Mulberry32(seed);
  }

  /** A number in [0, 1). */
  uniform(): number {
    return this.#rng.next();
  }

  /** A standard normal deviate (Box-Muller, the second of each pair kept for the next call). */
  normal(): number {
    const spare = this.#spare;
    if (spare !== undefined) {
      this.#spare = undefined;
      return spare;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.#rng.next()));
    const theta = 2 * Math.PI * this.#rng.next();
    this.#spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** How many of `n` trials succeed, each with probability `p`. */
  binomial(n: number, p: number): number {
    if (n <= 0 || !(p > 0)) return 0;
    if (p >= 1) return n;
    const flip = p > 0.5;
    const q = flip ? 1 - p : p;
    const mean = n * q;
    let k: number;
    if (mean < EXACT_BELOW) {
      // Inversion: walk the distribution from 0 until it passes a uniform draw.
      const ratio = q / (1 - q);
      let pk = Math.exp(n * Math.log1p(-q));
      let cumulative = pk;
      const u = this.#rng.next();
      k = 0;
      while (u > cumulative && k < n) {
        pk *= ((n - k) / (k + 1)) * ratio;
        k++;
        cumulative += pk;
        // Rounding can leave the sum a hair under 1; a draw past it lands on the last value reached.
        if (pk < 1e-300) break;
      }
    } else {
      k = Math.round(mean + Math.sqrt(mean * (1 - q)) * this.normal());
      if (k < 0) k = 0;
      else if (k > n) k = n;
    }
    return flip ? n - k : k;
  }

  /** `x` rounded down or up at random, up with probability equal to its fraction: unbiased. */
  round(x: number): number {
    const whole = Math.floor(x);
    return this.#rng.next() < x - whole ? whole + 1 : whole;
  }
}
