/**
 * @module app/acknowledgements
 * What both fleets of data planes (workers over IPC, remote ones over the network) keep about route
 * tables in flight: which revisions are still waited for, a deadline per revision after which the fleet
 * deals with whoever has not acknowledged, and the time from publishing to the last acknowledgement.
 */
import { performance } from 'node:perf_hooks';

import type { Clock } from '../core/clock.js';

/** How a fleet judges its data planes. */
export interface AcknowledgementRules {
  readonly clock: Clock;
  /** How long a revision may wait for its acknowledgements before `overdue` is called. */
  readonly timeoutMs: number;
  /** Whether every serving data plane routes by `revision` or later. */
  readonly settled: (revision: number) => boolean;
  /** Deals with the data planes that have not acknowledged `revision` in time (replaced, marked lost). */
  readonly overdue: (revision: number) => void;
}

/** Revisions waited for, their deadlines, and their propagation times. */
export class Acknowledgements {
  readonly #rules: AcknowledgementRules;
  readonly #pending = new Map<number, number>();
  readonly #waiters: { readonly revision: number; readonly resolve: () => void }[] = [];
  readonly #deadlines = new Map<number, () => void>();
  #propagations: number[] = [];

  /** Judges by `rules`. */
  constructor(rules: AcknowledgementRules) {
    this.#rules = rules;
  }

  /** The table of `revision` went to at least one serving data plane just now. */
  published(revision: number): void {
    this.#pending.set(revision, performance.now());
  }

  /** Resolves once every serving data plane routes by `revision` or later. */
  wait(revision: number): Promise<void> {
    if (this.#rules.settled(revision)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push({ revision, resolve });
      if (this.#deadlines.has(revision)) return;
      this.#deadlines.set(
        revision,
        this.#rules.clock.setTimer(this.#rules.timeoutMs, () => {
          this.#deadlines.delete(revision);
          this.#rules.overdue(revision);
          this.settle();
        }),
      );
    });
  }

  /** Resolves the waits and records the propagation times that the latest acknowledgements (or departures) complete. */
  settle(): void {
    for (const [revision, at] of this.#pending) {
      if (!this.#rules.settled(revision)) continue;
      this.#propagations.push(performance.now() - at);
      this.#pending.delete(revision);
    }
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (!this.#rules.settled(w.revision)) continue;
      this.#waiters.splice(i, 1);
      w.resolve();
    }
    for (const [revision, cancel] of this.#deadlines) {
      if (this.#waiters.some((w) => w.revision === revision)) continue;
      cancel();
      this.#deadlines.delete(revision);
    }
  }

  /** Propagation times (ms, publish to the last acknowledgement) since the previous call. */
  takePropagations(): number[] {
    const out = this.#propagations;
    this.#propagations = [];
    return out;
  }

  /** Stops every deadline (the fleet is closing). */
  stopDeadlines(): void {
    for (const cancel of this.#deadlines.values()) cancel();
    this.#deadlines.clear();
  }

  /** Resolves every wait: no data plane will acknowledge them any more. */
  releaseWaits(): void {
    for (const w of this.#waiters.splice(0)) w.resolve();
  }
}
