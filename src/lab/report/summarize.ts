/**
 * @module lab/report/summarize
 * The runs' figures summarised per mode × policy × scenario: the spread of each over the repeats.
 */
import type { RunMode, RunOutcome, RunResult, Spread, SummaryRow } from '../results.js';
import { spreadOf } from './spread.js';

/** The order of the rows: modes, then scenarios, then policies; names not listed follow in order of appearance. */
export interface SummaryOrder {
  readonly modes?: readonly RunMode[];
  readonly scenarios?: readonly string[];
  readonly policies?: readonly string[];
}

/**
 * One row per mode × policy × scenario that has runs. Detection is spread over the runs where an alarm
 * fired and time to full traffic over those that reached 100%, null when there are none: a run that never
 * got there has no time to average in, and counting it as 0 or as the run's length would mislead.
 */
export function summarize(runs: readonly RunResult[], order: SummaryOrder = {}): SummaryRow[] {
  const groups = new Map<string, RunResult[]>();
  for (const run of runs) {
    const key = JSON.stringify([run.mode, run.policy, run.scenario]);
    const group = groups.get(key);
    if (group) group.push(run);
    else groups.set(key, [run]);
  }
  const rank = ranking(runs, order);
  return [...groups.values()]
    .sort(
      (a, b) =>
        rank.mode(a[0]!.mode) - rank.mode(b[0]!.mode) ||
        rank.scenario(a[0]!.scenario) - rank.scenario(b[0]!.scenario) ||
        rank.policy(a[0]!.policy) - rank.policy(b[0]!.policy),
    )
    .map(rowOf);
}

function rowOf(group: readonly RunResult[]): SummaryRow {
  const first = group[0]!;
  const outcomes: Partial<Record<RunOutcome, number>> = {};
  for (const run of group) outcomes[run.outcome] = (outcomes[run.outcome] ?? 0) + 1;
  const spread = (pick: (run: RunResult) => number): Spread => spreadOf(group.map(pick))!;
  const spreadOrNull = (pick: (run: RunResult) => number | null): Spread | null =>
    spreadOf(group.map(pick).filter((v): v is number => v !== null)) ?? null;
  return {
    mode: first.mode,
    policy: first.policy,
    scenario: first.scenario,
    runs: group.length,
    outcomes,
    failed: spread((r) => r.failed),
    usersAffected: spread((r) => r.usersAffected),
    servedByReplacement: spread((r) => r.servedByReplacement),
    failedOnReplacement: spread((r) => r.failedOnReplacement),
    detectionMs: spreadOrNull((r) => r.detectionMs),
    timeToFullTrafficMs: spreadOrNull((r) => r.timeToFullTrafficMs),
    durationMs: spread((r) => r.durationMs),
    latencyP99: spread((r) => r.latency.p99),
  };
}

type Rank = (name: string) => number;

function ranking(runs: readonly RunResult[], order: SummaryOrder) {
  const rankOf = (listed: readonly string[] | undefined, seen: readonly string[]): Rank => {
    const names = [...new Set([...(listed ?? []), ...seen])];
    return (name) => names.indexOf(name);
  };
  return {
    mode: rankOf(
      order.modes ?? ['live', 'sim'],
      runs.map((r) => r.mode),
    ),
    scenario: rankOf(
      order.scenarios,
      runs.map((r) => r.scenario),
    ),
    policy: rankOf(
      order.policies,
      runs.map((r) => r.policy),
    ),
  };
}

/** The run whose figures stand for its repeats in charts: the median-failed one (the lower of the middle two). */
export function representativeRun(runs: readonly RunResult[]): RunResult | undefined {
  const sorted = [...runs].sort((a, b) => a.failed - b.failed || a.repeat - b.repeat);
  return sorted[(sorted.length - 1) >> 1];
}
