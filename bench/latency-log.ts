/**
 * @module bench/latency-log
 * Response times kept exactly (as milliseconds in a growing typed array) so that percentiles are not
 * rounded: autocannon's own histogram keeps whole milliseconds, too coarse for sub-millisecond overheads.
 */

/** Response times in ms, appended without per-response allocation. */
export class LatencyLog {
  #values = new Float64Array(1 << 18);
  #n = 0;

  add(ms: number): void {
    if (this.#n === this.#values.length) {
      const bigger = new Float64Array(this.#values.length * 2);
      bigger.set(this.#values);
      this.#values = bigger;
    }
    this.#values[this.#n++] = ms;
  }

  /** A percentile function (nearest rank) over what was recorded so far. */
  percentiles(): (p: number) => number {
    const sorted = this.#values.slice(0, this.#n).sort();
    return (p) => (sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!);
  }
}
