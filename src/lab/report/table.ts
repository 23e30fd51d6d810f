/**
 * @module lab/report/table
 * The summary as an aligned plain-text table for the terminal: one line per mode × scenario × policy.
 */
import type { ExperimentReport, RunOutcome, Spread, SummaryRow } from '../results.js';
import { durationOrDash, humanCount } from './format.js';

const HEADERS = ['mode', 'scenario', 'policy', 'outcomes', 'failed', 'users', 'detection', 'to 100%'] as const;
/** Columns of figures, aligned right so that digits line up. */
const NUMERIC = new Set([4, 5, 6, 7]);

/** `3/3 RolledBack`, or `2/3 RolledBack, 1/3 Succeeded`, most frequent first. */
export function outcomesText(row: SummaryRow): string {
  return (Object.entries(row.outcomes) as [RunOutcome, number][])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([outcome, n]) => `${n}/${row.runs} ${outcome}`)
    .join(', ');
}

/** The cells of one summary row (medians; a dash where no run gave the figure). */
export function rowCells(row: SummaryRow): string[] {
  return [
    row.mode,
    row.scenario,
    row.policy,
    outcomesText(row),
    humanCount(row.failed.median),
    humanCount(row.usersAffected.median),
    durationOrDash(row.detectionMs?.median),
    durationOrDash(row.timeToFullTrafficMs?.median),
  ];
}

/** A spread as its median, with (min–max) when the repeats differ. */
export function spreadText(s: Spread, format: (n: number) => string = humanCount): string {
  return s.min === s.max ? format(s.median) : `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
}

/** The columns of the comparison tables of report.md and report.html. */
export const COMPARISON_HEADERS = [
  'scenario',
  'policy',
  'outcomes',
  'failed',
  'failed p95',
  'users affected',
  'replacement failed of served',
  'detection',
  'to 100%',
  'p99 latency',
] as const;

/** One row of a comparison table: medians with their spread, and the outcomes. */
export function comparisonCells(r: SummaryRow): string[] {
  return [
    r.scenario,
    r.policy,
    outcomesText(r),
    spreadText(r.failed),
    humanCount(r.failed.p95),
    spreadText(r.usersAffected),
    `${humanCount(r.failedOnReplacement.median)} of ${humanCount(r.servedByReplacement.median)}`,
    durationOrDash(r.detectionMs?.median),
    durationOrDash(r.timeToFullTrafficMs?.median),
    `${humanCount(r.latencyP99.median)} ms`,
  ];
}

/** The report's summary as aligned columns, medians over the repeats, durations in deployment time. */
export function renderTable(report: Pick<ExperimentReport, 'summary'>): string {
  const lines = [[...HEADERS], ...report.summary.map(rowCells)];
  const widths = HEADERS.map((_, i) => Math.max(...lines.map((cells) => cells[i]!.length)));
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (NUMERIC.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [format(lines[0]!), rule, ...lines.slice(1).map(format)].join('\n') + '\n';
}
