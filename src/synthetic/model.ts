/**
 * @module synthetic/model
 * The arithmetic of a synthetic version (config/synthetic), apart from sockets and timers so that it is
 * tested, and can be reused, on numbers alone: what one request draws (its latency and status), and the
 * capacity's admission (in flight, then a FIFO queue with a deadline).
 */
import { type SyntheticConfig, warmupFactor } from '../config/synthetic.js';
import { drawLognormal, type Lognormal, lognormalOf, Mulberry32 } from '../core/random.js';

/** What one request served draws: how long it takes and what it is answered. */
export interface Draw {
  /** Milliseconds of service, the warm-up factor applied (queueing not included). */
  latencyMs: number;
  /** 200, or the configured error status. */
  status: number;
}

/**
 * One synthetic server's draws, in a fixed order so that a seed gives the same answers whatever the
 * config: every request that begins service takes three uniform draws, the first deciding its error and
 * the other two its lognormal latency (taken, and unused, when the latency is fixed).
 */
export class SyntheticModel {
  readonly #config: SyntheticConfig;
  readonly #rng: Mulberry32;
  readonly #lognormal: Lognormal | undefined;
  readonly #errorPercent: number;
  readonly #errorStatus: number;

  constructor(config: SyntheticConfig, seed: number) {
    this.#config = config;
    this.#rng = new Mulberry32(seed);
    const latency = config.latency;
    this.#lognormal = 'fixedMs' in latency ? undefined : lognormalOf(latency.p50Ms, latency.p99Ms);
    this.#errorPercent = config.errors?.percent ?? 0;
    this.#errorStatus = config.errors?.status ?? 500;
  }

  /**
   * Draws the next request's answer into `into` (reused, so that serving allocates nothing here):
   * `elapsedMs` since the server started listening and `served` requests begun before this one.
   */
  draw(elapsedMs: number, served: number, into: Draw): Draw {
    const error = this.#rng.next() * 100 < this.#errorPercent;
    const u1 = this.#rng.next();
    const u2 = this.#rng.next();
    const base = this.#lognormal
      ? drawLognormal(this.#lognormal, u1, u2)
      : (this.#config.latency as { fixedMs: number }).fixedMs;
    into.latencyMs = base * warmupFactor(this.#config.warmup, elapsedMs, served);
    into.status = error ? this.#errorStatus : 200;
    return into;
  }
}

/** Where a request stands with the capacity. */
export type Admitted = 'serve' | 'queued' | 'full';

/** One place in the queue; `waiting` goes false when it leaves it (served, timed out or withdrawn). */
interface Place<T> {
  readonly item: T;
  readonly deadline: number;
  waiting: boolean;
}

/**
 * The capacity: at most `inFlight` served at once, then a FIFO queue of `queue` places in which a request
 * waits at most `queueTimeoutMs`. Time is given by the caller; the server arms one timer for
 * {@link nextDeadline}, since the oldest waiter always expires first.
 */
export class Admission<T> {
  readonly #inFlight: number;
  readonly #places: number;
  readonly #timeoutMs: number;
  #serving = 0;
  #waiting = 0;
  /** FIFO from `#head`; places withdrawn stay until they reach the head (compacted when they pile up). */
  #queue: Place<T>[] = [];
  #head = 0;

  constructor(capacity: { readonly inFlight: number; readonly queue: number; readonly queueTimeoutMs: number }) {
    this.#inFlight = capacity.inFlight;
    this.#places = capacity.queue;
    this.#timeoutMs = capacity.queueTimeoutMs;
  }

  /** Requests being served. */
  get serving(): number {
    return this.#serving;
  }

  /** Requests waiting in the queue. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Lets `item` in at `now`: to be served at once, to wait in the queue, or refused because the queue is full. */
  admit(item: T, now: number): Admitted {
    if (this.#serving < this.#inFlight) {
      this.#serving++;
      return 'serve';
    }
    if (this.#waiting >= this.#places) return 'full';
    this.#queue.push({ item, deadline: now + this.#timeoutMs, waiting: true });
    this.#waiting++;
    return 'queued';
  }

  /** A request served has ended (answered or gone): the oldest waiter, now being served, or undefined. */
  release(): T | undefined {
    const place = this.#shift();
    if (place) return place.item;
    this.#serving = Math.max(0, this.#serving - 1);
    return undefined;
  }

  /** Takes `item` out of the queue (its client left); false when it was not waiting. */
  withdraw(item: T): boolean {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const place = this.#queue[i]!;
      if (place.item === item && place.waiting) {
        place.waiting = false;
        this.#waiting--;
        this.#compact();
        return true;
      }
    }
    return false;
  }

  /** Takes out every waiter whose deadline is at or before `now`, oldest first, and calls `expired` with each. */
  expire(now: number, expired: (item: T) => void): void {
    for (;;) {
      this.#skipWithdrawn();
      const place = this.#queue[this.#head];
      if (!place || place.deadline > now) return;
      this.#shift();
      expired(place.item);
    }
  }

  /** When the oldest waiter's wait ends, or undefined when none waits. */
  nextDeadline(): number | undefined {
    this.#skipWithdrawn();
    return this.#queue[this.#head]?.deadline;
  }

  /** Empties the queue (the server closes), calling `each` with every waiter. */
  drain(each: (item: T) => void): void {
    for (let place = this.#shift(); place; place = this.#shift()) each(place.item);
  }

  /** The oldest waiter, out of the queue; a served place passes to it, so `serving` is unchanged. */
  #shift(): Place<T> | undefined {
    this.#skipWithdrawn();
    const place = this.#queue[this.#head];
    if (!place) return undefined;
    place.waiting = false;
    this.#head++;
    this.#waiting--;
    this.#compact();
    return place;
  }

  #skipWithdrawn(): void {
    while (this.#head < this.#queue.length && !this.#queue[this.#head]!.waiting) this.#head++;
  }

  /** Drops the places before the head, and withdrawn ones, once they outnumber the waiters. */
  #compact(): void {
    const stale = this.#queue.length - this.#waiting;
    if (stale < 64 || stale < this.#waiting) return;
    this.#queue = this.#queue.filter((p) => p.waiting);
    this.#head = 0;
  }
}
