/**
 * @module lab/report/pareto
 * Speed against safety: the policies no other policy beats on both. Speed is the time to full traffic
 * in the healthy scenarios, safety the requests failed in the bad ones (see ./scenarios.ts for which is
 * which). A policy beats another when it is at least as good on both and strictly better on one, so
 * policies with the very same figures are both kept.
 */
import type { ScenarioSpec, VersionsSpec } from '../experiment.js';
import type { RunMode, SummaryRow } from '../results.js';
import { scenarioKind } from './scenarios.js';

/** One policy's place on the speed-vs-safety plane of one mode. */
export interface ParetoPoint {
  readonly policy: string;
  /**
   * The median time to full traffic (deployment time) summed over the healthy scenarios; null when no
   * healthy scenario was run, or when the policy never reached 100% in one (`neverFull`).
   */
  readonly speedMs: number | null;
  /** It never reached 100% in some healthy scenario: slower than any policy that did. */
  readonly neverFull: boolean;
  /** The median failed requests summed over the bad scenarios; null when there is no bad scenario. */
  readonly failed: number | null;
  /** A healthy or bad scenario has no runs of this policy (an interrupted experiment): left out. */
  readonly incomplete: boolean;
  readonly pareto: boolean;
  /** The policies that beat this one on both. */
  readonly beatenBy: readonly string[];
}

/** The speed-vs-safety comparison of one mode. */
export interface ParetoFront {
  readonly mode: RunMode;
  readonly healthy: readonly string[];
  readonly bad: readonly string[];
  readonly points: readonly ParetoPoint[];
}

/** The Pareto comparison of `mode`'s rows, policies in the order given. */
export function paretoFront(
  mode: RunMode,
  summary: readonly SummaryRow[],
  scenarios: readonly ScenarioSpec[],
  policies: readonly string[],
  versions?: VersionsSpec,
): ParetoFront {
  const healthy = scenarios.filter((s) => scenarioKind(s, versions) === 'healthy').map((s) => s.name);
  const bad = scenarios.filter((s) => scenarioKind(s, versions) === 'bad').map((s) => s.name);
  const rows = summary.filter((r) => r.mode === mode);
  const rowOf = (policy: string, scenario: string) => rows.find((r) => r.policy === policy && r.scenario === scenario);
  const figures = policies.map((policy) => {
    const healthyRows = healthy.map((s) => rowOf(policy, s));
    const badRows = bad.map((s) => rowOf(policy, s));
    const incomplete = [...healthyRows, ...badRows].some((r) => r === undefined);
    const times = healthyRows.map((r) => r?.timeToFullTrafficMs?.median ?? null);
    const neverFull = !incomplete && times.some((t) => t === null);
    return {
      policy,
      incomplete,
      neverFull,
      speedMs: healthy.length === 0 || incomplete || neverFull ? null : sum(times as number[]),
      failed: bad.length === 0 || incomplete ? null : sum(badRows.map((r) => r!.failed.median)),
    };
  });
  const compared = figures.filter((f) => !f.incomplete);
  const points = figures.map((f): ParetoPoint => {
    const beatenBy = f.incomplete ? [] : compared.filter((g) => beats(g, f)).map((g) => g.policy);
    return { ...f, pareto: !f.incomplete && beatenBy.length === 0, beatenBy };
  });
  return { mode, healthy, bad, points };
}

interface Figures {
  readonly speedMs: number | null;
  readonly neverFull: boolean;
  readonly failed: number | null;
}

/** `a` beats `b`: no worse on either axis, better on one. */
function beats(a: Figures, b: Figures): boolean {
  const speed = compareAxis(speedOf(a), speedOf(b));
  const safety = compareAxis(a.failed, b.failed);
  return speed <= 0 && safety <= 0 && (speed < 0 || safety < 0);
}

// Never reaching 100% is slower than any time; no healthy scenario at all leaves speed out (null, a tie).
function speedOf(f: Figures): number | null {
  return f.neverFull ? Number.POSITIVE_INFINITY : f.speedMs;
}

/** Negative when `a` is better (smaller); an axis nobody has (null on both) is a tie. */
function compareAxis(a: number | null, b: number | null): number {
  if (a === null || b === null) return 0;
  return a === b ? 0 : a < b ? -1 : 1;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
