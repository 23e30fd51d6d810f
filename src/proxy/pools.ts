/**
 * @module proxy/pools
 * One undici Pool per target and connection settings, kept alive across route-table swaps so that
 * shifting weights never drops warm connections; a pool no table refers to any more is closed.
 */
import { Pool } from 'undici';
import type { UpstreamSettings } from '../core/route-table.js';

/** A target as the forwarder needs it: its pool and the path its URL puts in front of every request. */
export interface Upstream {
  readonly url: string;
  readonly origin: string;
  readonly basePath: string;
  readonly pool: Pool;
}

function keyOf(origin: string, s: UpstreamSettings): string {
  return `${origin}|${s.connections ?? ''}|${s.connectTimeout}|${s.headersTimeout}|${s.bodyTimeout}|${s.keepAliveTimeout}`;
}

/** Creates, shares and retires upstream pools. */
export class PoolRegistry {
  #pools = new Map<string, Upstream>();

  /** The upstream for a target URL with these settings, created on first use. */
  acquire(url: string, settings: UpstreamSettings, used: Map<string, Upstream>): Upstream {
    const parsed = new URL(url);
    const key = keyOf(parsed.origin, settings) + parsed.pathname;
    let upstream = this.#pools.get(key) ?? used.get(key);
    if (!upstream) {
      upstream = {
        url,
        origin: parsed.origin,
        basePath: parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/$/, ''),
        pool: new Pool(parsed.origin, {
          connections: settings.connections ?? null,
          pipelining: 1,
          connectTimeout: settings.connectTimeout,
          headersTimeout: settings.headersTimeout,
          bodyTimeout: settings.bodyTimeout,
          keepAliveTimeout: settings.keepAliveTimeout,
          keepAliveMaxTimeout: Math.max(settings.keepAliveTimeout, 600_000),
        }),
      };
    }
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
