/**
 * @module proxy/compiled-table
 * A RouteTable compiled for the hot path: services in match order, per listener a weighted picker and a
 * sticky picker, per version its upstreams and counters. Built once per table swap; a request reads
 * one compiled table from start to end.
 */
import type { IncomingMessage } from 'node:http';

import { LISTENERS, type RouteTable, type ServiceRoute } from '../core/route-table.js';
import type { StatsRecorder } from '../core/stats-recorder.js';
import { CompiledVersion } from './compiled-version.js';
import { CompiledFault, sameDraws, sameFault } from './faults.js';
import { CompiledMirror } from './mirror.js';
import { PoolRegistry, type Upstream } from './pools.js';
import { cookieValue, SmoothWeightedPicker, stickyBucket, StickyPicker } from './split.js';

interface ListenerSplit {
  readonly weighted: SmoothWeightedPicker;
  readonly sticky: StickyPicker;
}

/** One service, compiled. */
export class CompiledService {
  readonly name: string;
  readonly host: string | undefined;
  readonly pathPrefix: string;
  readonly versions: readonly CompiledVersion[];
  readonly #byLabel: Map<string, CompiledVersion>;
  readonly #splits: readonly ListenerSplit[];
  readonly #stickyHeader: string | undefined;
  readonly #stickyCookie: string | undefined;
  readonly #overrideHeader: string | undefined;

  /** The route this service was compiled from. */
  readonly route: ServiceRoute;
  /** Where copies of production requests go while a deployment's replacement is ready. */
  mirror: CompiledMirror | undefined;

  /**
   * `previous` is this service as the table before compiled it: where a listener's weights are unchanged,
   * its round-robin state carries over, so that a table published for another reason (another service,
   * new targets) does not restart the sequence and break "exactly 1 in every 10" across the swap.
   */
  constructor(route: ServiceRoute, versions: CompiledVersion[], previous?: CompiledService) {
    this.route = route;
    this.name = route.name;
    // Compared with hostOnly's reading of the Host header, so a configured trailing dot goes too.
    this.host = route.host?.endsWith('.') ? route.host.slice(0, -1) : route.host;
    this.pathPrefix = route.pathPrefix;
    this.versions = versions;
    this.#byLabel = new Map(versions.map((v) => [v.label, v]));
    // Sticky buckets: replacement versions first, the live version last (see split.ts).
    const liveIndex = versions.findIndex((v) => v.label === route.live);
    const order = versions.map((_, i) => i).filter((i) => i !== liveIndex);
    if (liveIndex >= 0) order.push(liveIndex);
    this.#splits = LISTENERS.map((listener, n) => {
      const weights = versions.map((v) => route.weights[listener][v.label] ?? 0);
      const kept = previous ? previous.#sameSplit(versions, weights, n) : undefined;
      return {
        weighted: kept ?? new SmoothWeightedPicker(weights),
        sticky: new StickyPicker(order, weights),
      };
    });
    const sticky = route.sticky;
    this.#stickyHeader = sticky && 'header' in sticky ? sticky.header : undefined;
    this.#stickyCookie = sticky && 'cookie' in sticky ? sticky.cookie : undefined;
    this.#overrideHeader = route.overrideHeader;
  }

  /** Whether the request names a version with the override header (such a pin is never failed over). */
  pinned(req: IncomingMessage): boolean {
    return this.#overrideHeader !== undefined && typeof req.headers[this.#overrideHeader] === 'string';
  }

  /**
   * Where a request picked for `version` goes when that version has no routable target: another version
   * that has one, those with weight on this listener first (the original during a termination wait has
   * none, yet is the right place); undefined when none has.
   */
  failover(version: CompiledVersion, listener: number): { version: CompiledVersion; upstream: Upstream } | undefined {
    const weights = this.route.weights[LISTENERS[listener]!];
    for (const weighted of [true, false]) {
      for (const other of this.versions) {
        if (other === version || (weights[other.label] ?? 0) > 0 !== weighted) continue;
        const upstream = other.nextUpstream();
        if (upstream) return { version: other, upstream };
      }
    }
    return undefined;
  }

  /** The version a request goes to on a listener: override header, then sticky key, then the exact split. */
  pick(req: IncomingMessage, listener: number): CompiledVersion | undefined {
    if (this.#overrideHeader !== undefined) {
      const named = req.headers[this.#overrideHeader];
      if (typeof named === 'string') {
        const v = this.#byLabel.get(named);
        if (v) return v;
      }
    }
    const split = this.#splits[listener]!;
    if (this.#stickyHeader !== undefined || this.#stickyCookie !== undefined) {
      const key = this.#stickyKey(req);
      if (key) return this.versions[split.sticky.pick(stickyBucket(key))];
    }
    return this.versions[split.weighted.pick()];
  }

  /** This service's weighted picker of `listener` when it splits the same labels by the same weights. */
  #sameSplit(
    versions: readonly CompiledVersion[],
    weights: readonly number[],
    listener: number,
  ): SmoothWeightedPicker | undefined {
    const mine = this.versions;
    if (mine.length !== versions.length) return undefined;
    const before = this.route.weights[LISTENERS[listener]!];
    for (let i = 0; i < mine.length; i++) {
      const label = mine[i]!.label;
      if (label !== versions[i]!.label || (before[label] ?? 0) !== weights[i]) return undefined;
    }
    return this.#splits[listener]!.weighted;
  }

  #stickyKey(req: IncomingMessage): string | undefined {
    if (this.#stickyHeader !== undefined) {
      const v = req.headers[this.#stickyHeader];
      return typeof v === 'string' ? v : v?.[0];
    }
    const cookie = req.headers.cookie;
    return cookie ? cookieValue(cookie, this.#stickyCookie!) : undefined;
  }
}

/** Whether `url` lies under `prefix`, on a path-segment boundary. */
function underPrefix(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  if (url.length === prefix.length || prefix.endsWith('/')) return true;
  const next = url.charCodeAt(prefix.length);
  return next === 47 /* / */ || next === 63; /* ? */
}

/** The compiled form of one RouteTable. */
export class CompiledTable {
  readonly services: readonly CompiledService[];

  constructor(
    readonly source: RouteTable,
    services: CompiledService[],
  ) {
    // Longest prefix first; at equal length a service bound to a host before one for any host.
    this.services = [...services].sort(
      (a, b) => b.pathPrefix.length - a.pathPrefix.length || (a.host ? 0 : 1) - (b.host ? 0 : 1),
    );
  }

  /** The service a request belongs to, by host and longest path prefix. */
  match(req: IncomingMessage): CompiledService | undefined {
    const url = req.url!;
    // The Host header is read only when some service needs it: req.headers is built lazily by node:http.
    let host: string | undefined;
    for (const s of this.services) {
      if (s.host !== undefined) {
        host ??= hostOnly(req.headers.host);
        if (s.host !== host) continue;
      }
      if (underPrefix(url, s.pathPrefix)) return s;
    }
    return undefined;
  }
}

/**
 * The host of a Host value, lower-cased, without its port, and without the trailing dot of a fully
 * qualified name (`API.example.com.:8080` is `api.example.com`, `[::1]:8080` is `[::1]`): a name with and
 * without the dot is the same name to DNS, and a client may send either.
 */
function hostOnly(header: string | undefined): string {
  if (!header) return '';
  const end = header.startsWith('[') ? header.indexOf(']') + 1 : header.indexOf(':');
  const host = end > 0 ? header.slice(0, end) : header;
  return (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
}

/**
 * Compiles a table, acquiring pools from (and retiring them to) the registry. Pass the table compiled
 * before it as `previous` so that services whose weights did not change keep their exact sequence.
 */
export function compileTable(
  table: RouteTable,
  pools: PoolRegistry,
  stats: StatsRecorder,
  previous?: CompiledTable,
): CompiledTable {
  const used = new Map<string, Upstream>();
  const before = new Map(previous?.services.map((s) => [s.name, s]));
  const services = table.services.map(
    (route) =>
      new CompiledService(
        route,
        route.versions.map(
          (v) =>
            new CompiledVersion(
              v.label,
              v.targets.map((t) => pools.acquire(t, route.upstream, used)),
              stats.for(route.name, v.label),
            ),
        ),
        before.get(route.name),
      ),
  );
  for (const service of services) {
    compileFaults(service, before.get(service.name));
    const { retry, mirror } = service.route;
    if (retry) {
      const from = service.versions.find((v) => v.label === retry.from);
      const to = service.versions.find((v) => v.label === retry.to);
      if (from && to) from.retry = { version: to, methods: new Set(retry.methods) };
    }
    const target = mirror && service.versions.find((v) => v.label === mirror.to);
    if (mirror && target) {
      service.mirror = new CompiledMirror(
        target,
        stats.for(service.name, mirror.to, true),
        mirror.weight,
        mirror.maxBodyBytes,
      );
    }
  }
  pools.retain(used);
  return new CompiledTable(table, services);
}

/**
 * Gives each version of `service` its fault, if it has one: the previous table's when the spec is the
 * same, so that a table published for another reason does not restart the seeded sequence, and one with
 * the previous fault's draw streams when only its percents changed (a schedule's step).
 */
function compileFaults(service: CompiledService, previous: CompiledService | undefined): void {
  service.route.versions.forEach((route, i) => {
    const spec = route.fault;
    if (spec === undefined) return;
    const version = service.versions[i]!;
    const kept = previous?.versions.find((v) => v.label === route.label)?.fault;
    if (kept && sameFault(kept.spec, spec)) version.fault = kept;
    else {
      const draws = kept && sameDraws(kept.spec, spec) ? kept.draws : undefined;
      version.fault = new CompiledFault(spec, route.label, version.stats, draws);
    }
  });
}

export { PoolRegistry };
