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

/**
 * Faults injected into a version's requests (the policy lab): of every request routed to it, `delay.percent`
 * are held for a drawn delay before going on, then `abort.percent` are answered with `status` (or have
 * their connection reset) without reaching a target. Draws come from a PRNG seeded with `seed`, so one
 * seed and one request order give the same faults. The percents are those in force now: the control plane
 * steps a scheduled fault's and publishes a table at each step, and leaves a fault out while both are 0.
 * Percentages 0–100, milliseconds.
 */
export interface FaultSpec {
  readonly abort?:
    { readonly percent: number; readonly status: number } | { readonly percent: number; readonly reset: true };
  /** A fixed delay, or one drawn from a lognormal with that median and 99th percentile. */
  readonly delay?:
    | { readonly percent: number; readonly fixedMs: number }
    | { readonly percent: number; readonly p50Ms: number; readonly p99Ms: number };
  readonly seed: number;
}

/** One version of a service and the targets that run it (may be empty while it is not running). */
export interface VersionRoute {
  readonly label: string;
  readonly targets: readonly string[];
  /** Faults injected into its requests; absent = none. */
  readonly fault?: FaultSpec;
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
    for (const v of s.versions)
      if (v.fault) problems.push(...faultProblems(v.fault).map((p) => `${s.name}: ${v.label} fault ${p}`));
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

const isPercent = (p: unknown): boolean => typeof p === 'number' && p >= 0 && p <= 100;
const isMs = (ms: unknown): boolean => Number.isSafeInteger(ms) && (ms as number) >= 0;

/** The problems of one fault spec (the data plane compiles only well-formed ones). */
function faultProblems(f: FaultSpec): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(f.seed)) problems.push(`seed must be an integer, got ${f.seed}`);
  const { abort, delay } = f;
  if (abort) {
    if (!isPercent(abort.percent)) problems.push(`abort percent must be 0..100, got ${abort.percent}`);
    const status = 'status' in abort ? abort.status : 200;
    if (!Number.isInteger(status) || status < 200 || status > 599 || status === 204 || status === 304) {
      problems.push(`abort status must be 200..599 but 204 and 304, got ${status}`);
    }
  }
  if (delay) {
    if (!isPercent(delay.percent)) problems.push(`delay percent must be 0..100, got ${delay.percent}`);
    if (
      'fixedMs' in delay
        ? !isMs(delay.fixedMs)
        : !(isMs(delay.p50Ms) && isMs(delay.p99Ms) && delay.p50Ms > 0 && delay.p99Ms >= delay.p50Ms)
    ) {
      problems.push('delay must be a fixed duration, or a p50 above 0 and a p99 at least as long');
    }
  }
  return problems;
}
