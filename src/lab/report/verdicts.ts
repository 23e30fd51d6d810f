/**
 * @module lab/report/verdicts
 * One or two plain sentences per scenario and mode, drawn from the summary: how the policies ended,
 * which contained a bad release best and by how much, what retry on the original hid, and — called out
 * because they are what a policy is for — false alarms (a healthy release rolled back) and missed bad
 * releases (a bad one carried to the end), with their share of the repeats.
 */
import type { ExperimentReport, RunOutcome, SummaryRow } from '../results.js';
import { humanCount, humanDuration } from './format.js';
import { scenarioFaults, type ScenarioKind, scenarioKind } from './scenarios.js';

type Verdict = ExperimentReport['verdicts'][number];
type ExperimentFacts = Pick<ExperimentReport['experiment'], 'scenarios' | 'policies' | 'versions'>;

/** Below this time to full traffic (deployment time) a policy is said to reach 100% "at once". */
export const AT_ONCE_MS = 1000;

/** The verdicts of every mode × scenario with rows, in the summary's order. */
export function verdicts(summary: readonly SummaryRow[], experiment: ExperimentFacts): Verdict[] {
  const groups = new Map<string, SummaryRow[]>();
  for (const row of summary) {
    const key = JSON.stringify([row.mode, row.scenario]);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()].map((rows) => {
    const { mode, scenario } = rows[0]!;
    const spec = experiment.scenarios.find((s) => s.name === scenario);
    const kind: ScenarioKind = spec ? scenarioKind(spec, experiment.versions) : 'other';
    const retrying = new Set(experiment.policies.filter((p) => p.retryOnOriginal).map((p) => p.name));
    const parts = [`${scenario}: ${outcomesSentence(rows)}.`];
    if (kind === 'healthy') parts.push(...healthySentences(rows));
    else parts.push(...containmentSentences(rows, retrying));
    if (kind === 'bad') parts.push(...missedSentences(rows, spec ? scenarioFaults(spec, experiment.versions) : []));
    return { mode, scenario, text: parts.join(' ') };
  });
}

const VERB: Record<RunOutcome, string> = {
  Succeeded: 'succeeded',
  RolledBack: 'rolled back',
  Stopped: 'stopped',
  Failed: 'failed',
};

function outcomesSentence(rows: readonly SummaryRow[]): string {
  const only = (row: SummaryRow): RunOutcome | undefined => {
    const seen = Object.entries(row.outcomes).filter(([, n]) => (n ?? 0) > 0);
    return seen.length === 1 ? (seen[0]![0] as RunOutcome) : undefined;
  };
  const first = only(rows[0]!);
  if (first && rows.every((r) => only(r) === first)) {
    return rows.length === 1
      ? `${rows[0]!.policy} ${VERB[first]}`
      : `${rows.length === 2 ? 'both' : `all ${rows.length}`} policies ${VERB[first]}`;
  }
  return rows.map((r) => `${r.policy} ${tally(r)}`).join(', ');
}

/** `rolled back 2/3, succeeded 1/3`. */
function tally(row: SummaryRow): string {
  return (Object.entries(row.outcomes) as [RunOutcome, number][])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([outcome, n]) => `${VERB[outcome]} ${n}/${row.runs}`)
    .join(', ');
}

function healthySentences(rows: readonly SummaryRow[]): string[] {
  const sentences: string[] = [];
  const reached = rows.filter((r) => r.timeToFullTrafficMs !== null);
  if (reached.length > 0) {
    const sorted = [...reached].sort((a, b) => a.timeToFullTrafficMs!.median - b.timeToFullTrafficMs!.median);
    const when = (r: SummaryRow) => {
      const ms = r.timeToFullTrafficMs!.median;
      return ms < AT_ONCE_MS ? 'at once' : `after ${humanDuration(ms)}`;
    };
    const fast = sorted[0]!;
    // Of policies tied for slowest, the first listed.
    const slow = sorted.find(
      (r) => r.timeToFullTrafficMs!.median === sorted[sorted.length - 1]!.timeToFullTrafficMs!.median,
    )!;
    sentences.push(
      fast === slow
        ? `${fast.policy} reached 100% ${when(fast)}.`
        : `${fast.policy} reached 100% ${when(fast)}, ${slow.policy} ${when(slow)}.`,
    );
  }
  const never = rows.filter((r) => r.timeToFullTrafficMs === null).map((r) => r.policy);
  if (never.length > 0) sentences.push(`${list(never)} never reached 100%.`);
  const alarms = rows.filter((r) => (r.outcomes.RolledBack ?? 0) > 0);
  if (alarms.length > 0) {
    const each = alarms.map((r) => `${r.policy} in ${share(r.outcomes.RolledBack!, r.runs)}`);
    sentences.push(`False alarms: the healthy release was rolled back by ${list(each)}.`);
  }
  return sentences;
}

function containmentSentences(rows: readonly SummaryRow[], retrying: ReadonlySet<string>): string[] {
  const sentences: string[] = [];
  const sorted = [...rows].sort((a, b) => a.failed.median - b.failed.median);
  const best = sorted[0]!;
  const worst = sorted[sorted.length - 1]!;
  if (rows.length > 1 && worst.failed.median > best.failed.median) {
    const ratio =
      best.failed.median === 0 ? 'none at all' : `${+(worst.failed.median / best.failed.median).toFixed(1)}× fewer`;
    sentences.push(
      `${best.policy} failed ${requests(best.failed.median)} (median) against ` +
        `${worst.policy}'s ${humanCount(worst.failed.median)}, ${ratio}.`,
    );
  } else if (best.failed.median === 0) {
    sentences.push(rows.length > 1 ? 'No policy failed a request (median).' : 'No request failed (median).');
  } else {
    const who = rows.length > 1 ? 'Every policy' : best.policy;
    sentences.push(`${who} failed ${requests(best.failed.median)} (median).`);
  }
  for (const row of rows) {
    if (!retrying.has(row.policy) || row.failedOnReplacement.median === 0) continue;
    sentences.push(
      `${row.policy}'s replacement failed ${humanCount(row.failedOnReplacement.median)} (median); retry on the ` +
        `original hid all but ${humanCount(row.failed.median)} from clients.`,
    );
  }
  return sentences;
}

function missedSentences(rows: readonly SummaryRow[], faults: readonly string[]): string[] {
  const missed = rows.filter((r) => (r.outcomes.Succeeded ?? 0) > 0);
  if (missed.length === 0) return [];
  const each = missed.map((r) => `${r.policy} in ${share(r.outcomes.Succeeded!, r.runs)}`);
  const what = faults.length > 0 ? ` despite its ${list(faults)}` : '';
  return [`Missed: the bad release went through${what} with ${list(each)}.`];
}

/** `1 request`, `9 requests`, `2.5 requests`. */
function requests(n: number): string {
  return `${humanCount(n)} request${n === 1 ? '' : 's'}`;
}

/** `2 of 3 repeats (67%)`. */
function share(n: number, of: number): string {
  return `${n} of ${of} repeat${of === 1 ? '' : 's'} (${Math.round((100 * n) / of)}%)`;
}

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;
}
