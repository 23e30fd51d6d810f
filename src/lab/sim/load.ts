/**
 * @module lab/sim/load
 * The load of one simulated run, as the live load generator sends it: an open loop of `rate` requests per
 * second of real time, request k due k/rate s after the load starts (so a tick's arrivals are an exact
 * count), each from a uniform user. The arrivals of each tick are split as the proxy splits them: by the
 * published weights exactly (its smooth weighted round robin gives exact shares, so the count carries its
 * fraction to the next tick and starts afresh when the weights change, as the proxy's picker does), or
 * with a sticky split by the users' buckets. It counts what the run reports: requests, client-visible
 * failures, the replacement's share, the users affected, client latencies and a timeline per second.
 */
import { FULL_WEIGHT } from '../../core/route-table.js';
import type { TimelinePoint } from '../results.js';
import type { Draws } from './draws.js';
import { BUCKETS } from './latency.js';
import { AffectedUsers, type StickyLayout } from './users.js';
import { NO_FAULTS, type TickFaults, type VersionModel } from './version.js';

/** The longest stretch simulated as one tick when nothing else cuts it shorter. */
export const MAX_TICK_MS = 250;

/** Where production traffic goes now, as the last published route table says. */
export interface Routing {
  /** The replacement's weight in basis points. */
  readonly replacementBp: number;
  /** Whether the replacement's target failures are retried on the original (during a shift with retryOnOriginal). */
  readonly retry: boolean;
}

/** What the load is made of. */
export interface LoadSetup {
  readonly rate: number;
  readonly users: number;
  /** The sticky layout of the users, when the split is sticky. */
  readonly sticky: StickyLayout | undefined;
  /** Real ms from the load's start to the deployment's creation. */
  readonly before: number;
  readonly timeScale: number;
  readonly draws: Draws;
  readonly original: VersionModel;
  readonly replacement: VersionModel;
  /** The faults injected into the replacement's requests at real time `at` (ms since the load started). */
  readonly faultsAt: (at: number) => TickFaults;
  /** Real times where the faults' schedule bends (its onset, the end of its ramp): ticks are cut there. */
  readonly faultBreaks: () => readonly number[];
}

interface Bucket {
  originalRequests: number;
  originalFailed: number;
  replacementRequests: number;
  replacementFailed: number;
}

/** The load of one run; times are real ms since the load started. */
export class LoadModel {
  requests = 0;
  failed = 0;
  servedByReplacement = 0;
  failedOnReplacement = 0;
  /** Client-seen latencies, bucketed like a StatsDelta histogram. */
  readonly client = new Array<number>(BUCKETS).fill(0);
  readonly timeline: TimelinePoint[] = [];
  readonly affected: AffectedUsers;
  readonly #setup: LoadSetup;
  #routing: Routing = { replacementBp: 0, retry: false };
  /** The fraction of a request owed to the replacement by the exact split. */
  #carry = 0.5;
  #at = 0;
  #bucket: Bucket = { originalRequests: 0, originalFailed: 0, replacementRequests: 0, replacementFailed: 0 };

  constructor(setup: LoadSetup) {
    this.#setup = setup;
    this.affected = new AffectedUsers(setup.users);
  }

  /** Real time simulated so far. */
  get at(): number {
    return this.#at;
  }

  /** Takes new routing from now on (the caller has simulated up to now with the old). */
  route(routing: Routing): void {
    if (routing.replacementBp !== this.#routing.replacementBp) this.#carry = 0.5;
    this.#routing = routing;
  }

  /** Simulates the load up to real time `to`, in ticks cut at every second (for the timeline). */
  advanceTo(to: number): void {
    while (this.#at < to) {
      const from = this.#at;
      const second = Math.floor(from / 1000) * 1000 + 1000;
      let end = Math.min(to, second, from + MAX_TICK_MS);
      // A tick takes the faults at its middle: one that straddled an onset would start the fault early.
      for (const at of this.#setup.faultBreaks()) if (at > from && at < end) end = at;
      this.#tick(from, end);
      this.#at = end;
      if (end === second) this.#closeSecond(second - 1000);
    }
  }

  /** Ends the load at real time `to`: the last, partial second goes into the timeline. */
  finish(to: number): void {
    this.advanceTo(to);
    const start = Math.floor(to / 1000) * 1000;
    if (start < to) this.#closeSecond(start);
  }

  #tick(from: number, to: number): void {
    const s = this.#setup;
    const n = arrivals(to, s.rate) - arrivals(from, s.rate);
    if (n === 0) return;
    const dt = to - from;
    const mid = from + dt / 2;
    const { replacementBp, retry } = this.#routing;
    const users = s.users;
    const layout = replacementBp > 0 && replacementBp < FULL_WEIGHT ? s.sticky : undefined;
    let onReplacement: number;
    if (replacementBp >= FULL_WEIGHT) onReplacement = n;
    else if (replacementBp <= 0) onReplacement = 0;
    else if (layout) onReplacement = s.draws.binomial(n, layout.below[replacementBp]! / users);
    else {
      const owed = (n * replacementBp) / FULL_WEIGHT + this.#carry;
      onReplacement = Math.floor(owed);
      this.#carry = owed - onReplacement;
    }
    const onOriginal = n - onReplacement;
    const client = this.client;
    const green = s.replacement.serve(
      onReplacement,
      dt,
      mid,
      onReplacement > 0 ? s.faultsAt(mid) : NO_FAULTS,
      retry,
      client,
    );
    const retried = retry ? green.retryable : 0;
    const blue = s.original.serve(onOriginal + retried, dt, mid, NO_FAULTS, false, client);
    const blueFailed = blue.retryable + blue.final;
    // Which of the original's failures were retried requests: a draw without replacement from its batch.
    const retriedFailed =
      retried > 0 && blueFailed > 0 ? s.draws.binomial(blueFailed, retried / (onOriginal + retried)) : 0;
    const greenFailed = green.final + (retry ? retriedFailed : green.retryable);
    const originalFailed = blueFailed - retriedFailed;
    this.requests += n;
    this.failed += greenFailed + originalFailed;
    this.servedByReplacement += onReplacement;
    this.failedOnReplacement += green.final + green.retryable;
    const b = this.#bucket;
    b.originalRequests += onOriginal;
    b.originalFailed += originalFailed;
    b.replacementRequests += onReplacement;
    b.replacementFailed += greenFailed;
    // Who saw the failures: users on the replacement's side of a sticky split, or anyone.
    if (layout) {
      const split = layout.below[replacementBp]!;
      this.affected.addDrawn(greenFailed, 0, split, s.draws, layout.byBucket);
      this.affected.addDrawn(originalFailed, split, users, s.draws, layout.byBucket);
    } else this.affected.addDrawn(greenFailed + originalFailed, 0, users, s.draws);
  }

  #closeSecond(start: number): void {
    const s = this.#setup;
    const b = this.#bucket;
    this.timeline.push({
      t: (start - s.before) * s.timeScale,
      weight: this.#routing.replacementBp / 100,
      original: { requests: b.originalRequests, failed: b.originalFailed },
      replacement: { requests: b.replacementRequests, failed: b.replacementFailed },
    });
    this.#bucket = { originalRequests: 0, originalFailed: 0, replacementRequests: 0, replacementFailed: 0 };
  }
}

/** How many requests are due before real time `t` (ms since the load started): request k is due at k/rate s. */
export function arrivals(t: number, rate: number): number {
  return t <= 0 ? 0 : Math.ceil((t * rate) / 1000 - 1e-9);
}
