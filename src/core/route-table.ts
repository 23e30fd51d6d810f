/**
 * @module core/route-table
 * The RouteTable message (control plane → data plane): plain, serialisable data that says, per service
 * and listener, which versions take which share of traffic. The data plane compiles it into pickers and
 * pools; the control plane only ever builds and publishes whole tables.
 */

/** The listeners a table routes for. */
export const LISTENERS = ['production', 'test'] as const;
export type ListenerName = (typeof LISTENERS)[number];

/** Full weight: weights are basis points, 10,000 = 100%. */
export const FULL_WEIGHT = 10_000;

/** Upstream connection options, in milliseconds. */
export interface UpstreamSettings {
  readonly connections: number | undefined;
  readonly connectTimeout: number;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  readonly keepAliveTimeout: number;
  /** Passive ejection of a target after consecutive failures; absent = off. Milliseconds. */
  readonly outlier:
    { readonly consecutiveFailures: number; readonly ejectionMs: number; readonly maxEjectionMs: number } | undefined;
}

/** One version of a service and the targets that run it (may be empty while it is not running). */
export interface VersionRoute {
  readonly label: string;
  readonly targets: readonly string[];
}

/** The routing of one service. */
export interface ServiceRoute {
  readonly name: string;
  readonly host: string | undefined;
  readonly pathPrefix: string;
  readonly versions: readonly VersionRoute[];
  /** The version live now (blue); sticky clients fall on it last, so they only ever move off it. */
  readonly live: string;
  /** Per listener, label → weight in basis points; absent labels weigh 0. Each adds up to 10,000. */
  readonly weights: Readonly<Record<ListenerName, Readonly<Record<string, number>>>>;
  readonly sticky: { readonly header: string } | { readonly cookie: string } | undefined;
  readonly overrideHeader: string | undefined;
  readonly upstream: UpstreamSettings;
  /**
   * While a deployment shifts this service: production requests with one of `methods` and no body that
   * fail on version `from` (5xx or no answer) are tried once more on version `to` before the client sees
   * anything. Absent otherwise.
   */
  readonly retry?: { readonly from: string; readonly to: string; readonly methods: readonly string[] };
  /**
   * While a deployment's replacement is ready: `weight` (basis points) of production requests answered
   * by another version are also sent to version `to`, answer discarded; bodies over `maxBodyBytes` are not.
   */
  readonly mirror?: { readonly to: string; readonly weight: number; readonly maxBodyBytes: number };
}

/** What the data plane routes by. Immutable; replaced whole. */
export interface RouteTable {
  /** Increases with every table published, so stale tables can be told apart. */
  readonly revision: number;
  readonly versionHeader: string | false;
  readonly services: readonly ServiceRoute[];
}

/** Checks the invariants a table must hold before a data plane accepts it; returns the problems found. */
export function validateRouteTable(table: RouteTable): string[] {
  const problems: string[] = [];
  for (const s of table.services) {
    const labels = new Set(s.versions.map((v) => v.label));
    if (!labels.has(s.live)) problems.push(`${s.name}: live version "${s.live}" is not among its versions`);
    for (const listener of LISTENERS) {
      let sum = 0;
      for (const [label, w] of Object.entries(s.weights[listener])) {
        if (!labels.has(label)) problems.push(`${s.name}: ${listener} weight names unknown version "${label}"`);
        if (!Number.isInteger(w) || w < 0 || w > FULL_WEIGHT) {
          problems.push(`${s.name}: ${listener} weight of "${label}" must be an integer 0..10000, got ${w}`);
        }
        sum += w;
      }
      if (sum !== FULL_WEIGHT) problems.push(`${s.name}: ${listener} weights add up to ${sum}, not 10000`);
    }
  }
  return problems;
}
