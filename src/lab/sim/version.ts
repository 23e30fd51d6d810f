/**
 * @module lab/sim/version
 * One version's behaviour in one tick, from the requests routed to it to what the proxy's statistics,
 * the client and the timeline see of them. The order is the data plane's and the synthetic server's:
 * the proxy's injected faults first (a delay held before forwarding, then an abort answered without the
 * target, never retried); then the target: a FIFO with `capacity.inFlight` served at once and
 * `capacity.queue` places for at most `capacity.queueTimeout` (a fluid queue per tick: throughput
 * inFlight / mean latency, the backlog beyond the queue answered 503, the wait added to the latency),
 * latency from the model × the warm-up factor, `errors.percent` answered `errors.status`; last the
 * client, which gives up after the load's timeout (a request it gave up on is counted for no version,
 * as the proxy counts a client that left).
 */
import { type SyntheticConfig, warmupFactor } from '../../config/synthetic.js';
import { OUTCOME_ERROR, outcomeOf, OUTCOMES } from '../../core/stats-delta.js';
import type { Draws } from './draws.js';
import { BucketCdf, bucketOf, BUCKETS, LatencyShape } from './latency.js';

/** At most this many draws place a tick's delayed requests in the histogram, each standing for a share. */
const DELAY_DRAWS = 32;

/** The faults injected into a version's requests in one tick (percents already scheduled). */
export interface TickFaults {
  readonly abortPercent: number;
  /** The outcome class of an abort: its status's, or a reset's ('error'). */
  readonly abortOutcome: number;
  readonly delayPercent: number;
  /** A delay in ms from a standard normal deviate. */
  readonly delay: ((z: number) => number) | undefined;
}

export const NO_FAULTS: TickFaults = { abortPercent: 0, abortOutcome: 3, delayPercent: 0, delay: undefined };

/** What one tick of a version came to. */
export interface TickOutcome {
  /** Failures the client would see unless a retry on the original saved them: the target's 5xx. */
  retryable: number;
  /** Failures no retry saves: failing aborts and timeouts. */
  final: number;
}

/**
 * Counts since the last pull of statistics, in StatsDelta's shape. Without `latency` the histogram is not
 * kept (no alarm of the run reads it): counted into a scratch array and handed over empty.
 */
export class PendingStats {
  counts = new Array<number>(OUTCOMES.length).fill(0);
  buckets = new Array<number>(BUCKETS).fill(0);
  latencySumMs = 0;
  requests = 0;

  constructor(readonly latency: boolean) {}

  /** Hands over what was counted and starts again. */
  take(): { counts: number[]; latencyBuckets: number[]; latencySumMs: number } {
    const taken = {
      counts: this.counts,
      latencyBuckets: this.latency ? this.buckets : NO_BUCKETS,
      latencySumMs: this.latencySumMs,
    };
    this.counts = new Array<number>(OUTCOMES.length).fill(0);
    if (this.latency) this.buckets = new Array<number>(BUCKETS).fill(0);
    this.latencySumMs = 0;
    this.requests = 0;
    return taken;
  }
}

/** The histogram handed over when none is kept: the windows read a missing bucket as 0. */
const NO_BUCKETS: number[] = [];

/** One version of the simulated service. */
export class VersionModel {
  readonly stats: PendingStats;
  /** What {@link serve} returns, reused: the caller reads it before the next tick. */
  readonly #out: TickOutcome = { retryable: 0, final: 0 };
  readonly #behaviour: SyntheticConfig;
  readonly #shape: LatencyShape;
  readonly #timeoutMs: number;
  readonly #draws: Draws;
  readonly #scratch = new BucketCdf();
  readonly #errorOutcome: number;
  /** Real time its warm-up counts from. */
  startedAt: number;
  /** Requests served so far, for a warm-up over requests. */
  served = 0;
  /** Requests waiting in its queue (fluid). */
  #queue = 0;

  constructor(behaviour: SyntheticConfig, timeoutMs: number, draws: Draws, startedAt: number, latency: boolean) {
    this.stats = new PendingStats(latency);
    this.#behaviour = behaviour;
    this.#shape = new LatencyShape(behaviour.latency, timeoutMs);
    this.#timeoutMs = timeoutMs;
    this.#draws = draws;
    this.startedAt = startedAt;
    this.#errorOutcome = outcomeOf(behaviour.errors?.status ?? 500);
  }

  /**
   * Serves `n` requests arriving over `dtMs` around real time `at`; counts them into {@link stats} and
   * their client-seen latencies into `client` (leaving out the target's failures when `retried`, as the
   * original answers those).
   */
  serve(n: number, dtMs: number, at: number, faults: TickFaults, retried: boolean, client: number[]): TickOutcome {
    const out = this.#out;
    out.retryable = 0;
    out.final = 0;
    if (n <= 0) return out;
    const draws = this.#draws;
    const stats = this.stats;
    stats.requests += n;
    const nAbort = faults.abortPercent > 0 ? draws.binomial(n, faults.abortPercent / 100) : 0;
    const nPass = n - nAbort;
    const delayP = faults.delay ? faults.delayPercent / 100 : 0;
    if (nAbort > 0) this.#aborts(nAbort, delayP, faults, client, out);
    if (nPass === 0) return out;

    const b = this.#behaviour;
    const factor = warmupFactor(b.warmup, at - this.startedAt, this.served);
    const serviceMs = this.#shape.meanMs * factor;
    let rejected = 0;
    let waitMs = 0;
    let rejectMs = 0;
    const cap = b.capacity;
    if (cap) {
      const rate = cap.inFlight / Math.max(serviceMs, 1e-3);
      const backlog = this.#queue + nPass;
      const left = backlog - Math.min(backlog, rate * dtMs);
      const byTimeout = rate * cap.queueTimeoutMs;
      const room = Math.min(cap.queue, byTimeout);
      const queued = Math.min(left, room);
      rejected = Math.min(nPass, draws.round(left - queued));
      waitMs = (this.#queue + queued) / 2 / rate;
      this.#queue = queued;
      rejectMs = byTimeout < cap.queue ? cap.queueTimeoutMs : 0;
    }
    const served = nPass - rejected;
    this.served += served;
    if (rejected > 0) {
      if (rejectMs > this.#timeoutMs) out.final += rejected;
      else {
        out.retryable += rejected;
        stats.counts[3]! += rejected;
        const bucket = bucketOf(rejectMs);
        stats.buckets[bucket]! += rejected;
        stats.latencySumMs += rejected * rejectMs;
        if (!retried) client[bucket]! += rejected;
      }
    }
    const errorP = (b.errors?.percent ?? 0) / 100;
    const delayed = delayP > 0 ? draws.binomial(served, delayP) : 0;
    this.#plain(served - delayed, factor, waitMs, errorP, retried, client, out);
    if (delayed > 0) this.#delayed(delayed, factor, waitMs, errorP, faults, client, out);
    return out;
  }

  /** Served requests without an injected delay: placed by the latency CDF. */
  #plain(
    count: number,
    factor: number,
    waitMs: number,
    errorP: number,
    retried: boolean,
    client: number[],
    out: TickOutcome,
  ): void {
    if (count <= 0) return;
    const draws = this.#draws;
    const stats = this.stats;
    const cdf = this.#shape.cdf(factor, waitMs, this.#scratch);
    const pTimeout = cdf.pTimeout;
    const timedOut = pTimeout > 0 ? draws.binomial(count, pTimeout) : 0;
    const answered = count - timedOut;
    const errors = errorP > 0 ? draws.binomial(answered, errorP) : 0;
    out.final += timedOut;
    out.retryable += errors;
    stats.counts[0]! += answered - errors;
    stats.counts[this.#errorOutcome]! += errors;
    const u = draws.uniform();
    if (stats.latency) cdf.sampleInto(answered, u, stats.buckets);
    cdf.sampleInto(retried ? answered - errors : answered, u, client);
    if (timedOut > 0) client[bucketOf(this.#timeoutMs)]! += timedOut;
    stats.latencySumMs += answered * (this.#shape.meanMs * factor + waitMs);
  }

  /** Served requests held by an injected delay first: placed by a few draws, each for a share of them. */
  #delayed(
    count: number,
    factor: number,
    waitMs: number,
    errorP: number,
    faults: TickFaults,
    client: number[],
    out: TickOutcome,
  ): void {
    const draws = this.#draws;
    const stats = this.stats;
    const k = Math.min(count, DELAY_DRAWS);
    let answered = 0;
    for (let j = 0; j < k; j++) {
      const share = Math.floor(((j + 1) * count) / k) - Math.floor((j * count) / k);
      const ms = faults.delay!(draws.normal()) + this.#shape.draw(draws.normal(), factor, waitMs);
      if (ms > this.#timeoutMs) {
        out.final += share;
        client[bucketOf(this.#timeoutMs)]! += share;
        continue;
      }
      answered += share;
      const bucket = bucketOf(ms);
      stats.buckets[bucket]! += share;
      client[bucket]! += share;
      stats.latencySumMs += share * ms;
    }
    const errors = errorP > 0 ? draws.binomial(answered, errorP) : 0;
    out.retryable += errors;
    stats.counts[0]! += answered - errors;
    stats.counts[this.#errorOutcome]! += errors;
  }

  /** Requests aborted by an injected fault (after their delay, when one held them). */
  #aborts(count: number, delayP: number, faults: TickFaults, client: number[], out: TickOutcome): void {
    const draws = this.#draws;
    const stats = this.stats;
    const fails = faults.abortOutcome >= 3;
    const delayed = delayP > 0 ? draws.binomial(count, delayP) : 0;
    const now = count - delayed;
    let recorded = now;
    stats.buckets[0]! += now;
    client[0]! += now;
    const k = Math.min(delayed, DELAY_DRAWS);
    for (let j = 0; j < k; j++) {
      const share = Math.floor(((j + 1) * delayed) / k) - Math.floor((j * delayed) / k);
      const ms = faults.delay!(draws.normal());
      if (ms > this.#timeoutMs) {
        // The client left while the request was held: counted for no version.
        out.final += share;
        client[bucketOf(this.#timeoutMs)]! += share;
        continue;
      }
      recorded += share;
      const bucket = bucketOf(ms);
      stats.buckets[bucket]! += share;
      client[bucket]! += share;
      stats.latencySumMs += share * ms;
    }
    stats.counts[faults.abortOutcome]! += recorded;
    if (fails) out.final += recorded;
  }
}

/** The outcome class of an injected abort. */
export function abortOutcomeOf(abort: { status: number } | { reset: true }): number {
  return 'status' in abort ? outcomeOf(abort.status) : OUTCOME_ERROR;
}
