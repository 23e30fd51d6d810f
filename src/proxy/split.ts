/**
 * @module proxy/split
 * How a request picks a version. Pure and allocation-free per pick.
 * - Smooth weighted round robin: exact shares (10% is exactly 1 request in every 10) and an even spread.
 * - Sticky buckets: a key hashes to one of 10,000 buckets; buckets are laid out replacement-first, so as
 *   a replacement's weight only rises a client only ever moves onto it, never back.
 */
export { SmoothWeightedPicker } from '../core/smooth-split.js';
export { STICKY_BUCKETS, stickyBucket } from '../core/sticky.js';

/**
 * Maps buckets to choices by cumulative weight in the given order: `order[0]` owns buckets
 * [0, w0), `order[1]` owns [w0, w0 + w1), and so on.
 */
export class StickyPicker {
  readonly #bounds: Int32Array;
  readonly #choices: Int32Array;

  constructor(order: readonly number[], weights: readonly number[]) {
    const positive = order.filter((i) => (weights[i] ?? 0) > 0);
    this.#bounds = new Int32Array(positive.length);
    this.#choices = Int32Array.from(positive);
    let acc = 0;
    positive.forEach((choice, n) => {
      acc += weights[choice]!;
      this.#bounds[n] = acc;
    });
  }

  /** The choice owning `bucket`, or -1 when every weight is 0. */
  pick(bucket: number): number {
    const b = this.#bounds;
    for (let n = 0; n < b.length; n++) if (bucket < b[n]!) return this.#choices[n]!;
    return -1;
  }
}

/** The value of cookie `name` in a Cookie header, without allocating a parsed map. */
export function cookieValue(header: string, name: string): string | undefined {
  let from = 0;
  while (from < header.length) {
    // Browsers put one space after each `;`; other clients may put several, or a tab.
    let c = header.charCodeAt(from);
    while (c === 32 || c === 9) c = header.charCodeAt(++from);
    const end = header.indexOf(';', from);
    const stop = end === -1 ? header.length : end;
    if (header.startsWith(name, from) && header.charCodeAt(from + name.length) === 61 /* = */) {
      return header.slice(from + name.length + 1, stop).trim();
    }
    from = stop + 1;
  }
  return undefined;
}
