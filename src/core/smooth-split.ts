/**
 * @module core/smooth-split
 * Smooth weighted round robin: exact shares (10% is exactly 1 pick in every 10) with an even spread. The
 * data plane's split and the Lambda API's alias-qualified Invoke pick with it, so both are exact alike.
 */

/** Smooth weighted round robin (the nginx algorithm) over integer weights. */
export class SmoothWeightedPicker {
  readonly #weights: Int32Array;
  readonly #current: Float64Array;
  readonly #total: number;
  readonly #single: number;

  /** `weights[i]` is the weight of choice i; choices of weight 0 are never picked. */
  constructor(weights: readonly number[]) {
    this.#weights = Int32Array.from(weights);
    this.#current = new Float64Array(weights.length);
    this.#total = weights.reduce((a, b) => a + b, 0);
    const positive = weights.filter((w) => w > 0).length;
    this.#single = positive === 1 ? weights.findIndex((w) => w > 0) : -1;
  }

  /** The index of the next choice, or -1 when every weight is 0. */
  pick(): number {
    if (this.#single >= 0) return this.#single;
    if (this.#total === 0) return -1;
    const w = this.#weights;
    const cur = this.#current;
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < w.length; i++) {
      const wi = w[i]!;
      if (wi === 0) continue;
      const v = cur[i]! + wi;
      cur[i] = v;
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
    cur[best] = bestValue - this.#total;
    return best;
  }
}
