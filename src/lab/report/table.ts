/**
 * @module lab/report/table
 * The summary as an aligned plain-text table for the terminal: one line per mode × scenario × policy.
 */
import type { ExperimentReport, RunOutcome, SummaryRow } from '../results.js';
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
