/**
 * @module proxy/pools
 * One undici Pool per target and connection settings, kept alive across route-table swaps so that
 * shifting weights never drops warm connections; a pool no table refers to any more is closed. Each
 * target also keeps its passive-ejection state, since that is about the target, not about a table.
 */
import { Pool } from 'undici';

import type { UpstreamSettings } from '../core/route-table.js';
import type { TargetEvent } from '../core/stats-delta.js';

/**
 * A target as the forwarder needs it: its pool, the path its URL puts in front of every request, and
 * whether it is ejected. With outlier detection, `consecutiveFailures` failures in a row eject it for an
 * ejection time that doubles with each ejection in a row; once that time is over, the next request probes
 * it: a success returns it to rotation, a failure ejects it again at once.
 */
export class Upstream {
  readonly origin: string;
  readonly basePath: string;
  readonly pool: Pool;
  /** How long after dispatch its final response head may come, interim responses or not; 0: no limit. */
  readonly headersTimeout: number;
  #failures = 0;
  /** Ejections in a row; more than 0 also means "on probation" once the ejection time is over. */
  #ejections = 0;
  #ejectedUntil = 0;

  constructor(
    readonly url: string,
    parsed: URL,
    settings: UpstreamSettings,
    readonly outlier: UpstreamSettings['outlier'],
    readonly events: TargetEvent[],
  ) {
    this.origin = parsed.origin;
    this.basePath = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/$/, '');
    this.headersTimeout = settings.headersTimeout;
    this.pool = new Pool(parsed.origin, {
      connections: settings.connections ?? null,
      pipelining: 1,
      connectTimeout: settings.connectTimeout,
      headersTimeout: settings.headersTimeout,
      bodyTimeout: settings.bodyTimeout,
      keepAliveTimeout: settings.keepAliveTimeout,
      keepAliveMaxTimeout: Math.max(settings.keepAliveTimeout, 600_000),
    });
  }

  /** Whether it may take a request at `now` (ms, performance clock). */
  available(now: number): boolean {
    return this.#ejectedUntil <= now;
  }

  /** Records how a request it served ended. */
  record(failed: boolean, now: number): void {
    const outlier = this.outlier;
    if (!outlier) return;
    if (!failed) {
      this.#failures = 0;
      if (this.#ejections > 0 && this.#ejectedUntil <= now) {
        this.#ejections = 0;
        this.events.push({ target: this.url, state: 'returned', ejectionMs: 0 });
      }
      return;
    }
    this.#failures++;
    const probing = this.#ejections > 0 && this.#ejectedUntil <= now;
    if (!probing && this.#failures < outlier.consecutiveFailures) return;
    if (this.#ejectedUntil > now) return; // already out; a request that was in flight failing says nothing new
    this.#failures = 0;
    this.#ejections++;
    const ejectionMs = Math.min(outlier.ejectionMs * 2 ** (this.#ejections - 1), outlier.maxEjectionMs);
    this.#ejectedUntil = now + ejectionMs;
    this.events.push({ target: this.url, state: 'ejected', ejectionMs });
  }
}

function keyOf(origin: string, s: UpstreamSettings): string {
  const o = s.outlier;
  const outlier = o ? `${o.consecutiveFailures}/${o.ejectionMs}/${o.maxEjectionMs}` : '';
  return `${origin}|${s.connections ?? ''}|${s.connectTimeout}|${s.headersTimeout}|${s.bodyTimeout}|${s.keepAliveTimeout}|${outlier}`;
}

/** Creates, shares and retires upstream pools. */
export class PoolRegistry {
  #pools = new Map<string, Upstream>();
  /** Ejections and returns since the last {@link takeEvents}. */
  readonly #events: TargetEvent[] = [];

  /** Target events since the last call. */
  takeEvents(): TargetEvent[] {
    return this.#events.splice(0);
  }

  /** The upstream for a target URL with these settings, created on first use. */
  acquire(url: string, settings: UpstreamSettings, used: Map<string, Upstream>): Upstream {
    const parsed = new URL(url);
    const key = keyOf(parsed.origin, settings) + parsed.pathname;
    let upstream = this.#pools.get(key) ?? used.get(key);
    upstream ??= new Upstream(url, parsed, settings, settings.outlier, this.#events);
    used.set(key, upstream);
    return upstream;
  }

  /** Makes `used` the live set and closes every pool left out of it (after its requests finish). */
  retain(used: Map<string, Upstream>): void {
    for (const [key, upstream] of this.#pools) {
      if (!used.has(key)) void upstream.pool.close().catch(() => undefined);
    }
    this.#pools = used;
  }

  /** Closes every pool; in-flight requests finish unless `force`, which destroys their sockets. */
  async closeAll(force = false): Promise<void> {
    const pools = [...this.#pools.values()].map((u) => u.pool);
    this.#pools = new Map();
    await Promise.all(pools.map((p) => (force ? p.destroy() : p.close()).catch(() => undefined)));
  }
}
