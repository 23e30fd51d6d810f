/**
 * @module proxy/compiled-version
 * One version of a compiled table: its upstreams, picked round robin past ejected ones, its counters,
 * and where a failed request may be retried.
 */
import { performance } from 'node:perf_hooks';

import type { VersionStats } from '../core/stats-recorder.js';
import type { CompiledFault } from './faults.js';
import type { Upstream } from './pools.js';

/** Where a failed request on a version may be tried once more, and which methods may be. */
export interface RetryRoute {
  readonly version: CompiledVersion;
  readonly methods: ReadonlySet<string>;
}

/** A version ready to serve: its upstreams used round robin and its counters. */
export class CompiledVersion {
  #next = 0;
  /** Whether any upstream can be ejected: only then is availability checked per request. */
  readonly #ejectable: boolean;
  /** Set on the replacement while a deployment shifts with retry on the original (production only). */
  retry: RetryRoute | undefined;
  /** Faults injected into this version's requests; undefined (the common case) costs one check. */
  fault: CompiledFault | undefined;

  constructor(
    readonly label: string,
    readonly upstreams: readonly Upstream[],
    readonly stats: VersionStats,
  ) {
    this.#ejectable = upstreams.some((u) => u.outlier !== undefined);
    this.retry = undefined;
    this.fault = undefined;
  }

  /** The next upstream in round-robin order that is not ejected, or undefined when there is none. */
  nextUpstream(): Upstream | undefined {
    const n = this.upstreams.length;
    if (n === 0) return undefined;
    if (!this.#ejectable) {
      if (n === 1) return this.upstreams[0];
      const u = this.upstreams[this.#next]!;
      this.#next = (this.#next + 1) % n;
      return u;
    }
    const now = performance.now();
    for (let tried = 0; tried < n; tried++) {
      const u = this.upstreams[this.#next]!;
      this.#next = (this.#next + 1) % n;
      if (u.available(now)) return u;
    }
    return undefined;
  }
}
