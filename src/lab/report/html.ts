/**
 * @module lab/report/html
 * report.html: one self-contained page that opens from disk with no network. The chart library, its
 * stylesheet, the drawing script and the report's data are all inline; every chart sits beside a table or
 * a caption with its figures, and policies are named on every chart, so that colour is never the only
 * signal and nothing is lost without a canvas. The page's parts ({@link renderReportParts}) are also what
 * the control API hands the dashboard, which draws them with the same script.
 */
import type { ExperimentReport, RunResult } from '../results.js';
import { chartAssets, reportAssets } from './assets.js';
import { escapeHtml, jsonForScript, scriptText, styleText } from './html-escape.js';
import {
  agreementHtml,
  comparisonHtml,
  howToReadHtml,
  parametersHtml,
  type RunIndex,
  runKey,
  scenarioHtml,
  speedSafetyHtml,
  verdictsHtml,
} from './html-sections.js';
import { type ParetoFront, paretoFront } from './pareto.js';
import { representativeRun } from './summarize.js';

/** What the drawing script needs beside the report: the Pareto front of each mode. */
export interface ReportView {
  readonly pareto: readonly ParetoFront[];
}

/**
 * A report as a page shows it: its title, its body markup (sections with tables and `data-chart`
 * placeholders; no script, no style attribute, no event handler), and the report (trimmed to the runs
 * drawn) and view that `drawLabCharts(root, report, view)` draws the placeholders from.
 */
export interface ReportParts {
  readonly title: string;
  readonly markup: string;
  readonly report: ExperimentReport;
  readonly view: ReportView;
}

/** The report's title, markup, trimmed copy and view: what the page and the dashboard both show. */
export function renderReportParts(report: ExperimentReport): ReportParts {
  const shown = withRepresentativesOnly(report);
  const reps = representatives(shown.runs);
  const policies = report.experiment.policies.map((p) => p.name);
  const fronts = report.modes.map((mode) =>
    paretoFront(mode, report.summary, report.experiment.scenarios, policies, report.experiment.versions),
  );
  const scenarios = report.experiment.scenarios
    .map((s) => s.name)
    .filter((name) => report.summary.some((r) => r.scenario === name));
  const title = reportTitle(report);
  const body = [
    `<header><h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${escapeHtml(meta(report))}</p>`,
    report.complete
      ? ''
      : '<p class="warn">Interrupted: not every run was done; the figures cover the runs that were.</p>',
    '</header>',
    verdictsHtml(report),
    ...report.modes.map((mode) => comparisonHtml(report, mode)),
    ...fronts.map(speedSafetyHtml),
    agreementHtml(report),
    ...scenarios.map((s) => scenarioHtml(shown, s, reps)),
    parametersHtml(report),
    howToReadHtml(),
  ];
  return { title, markup: body.filter((part) => part !== '').join('\n'), report: shown, view: { pareto: fronts } };
}

/** The title of a report's page. */
export function reportTitle(report: ExperimentReport): string {
  return `Policy lab: ${report.experiment.name}`;
}

/** The one line of script the page runs of its own: draw the charts from the embedded data. */
const DRAW =
  "drawLabCharts(document, JSON.parse(document.getElementById('report-data').textContent), " +
  "JSON.parse(document.getElementById('view-data').textContent));";

/** The whole report as one HTML page. */
export function renderHtml(report: ExperimentReport): string {
  const chart = chartAssets();
  const own = reportAssets();
  const parts = renderReportParts(report);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(parts.title)}</title>`,
    `<style>${styleText(chart.css)}</style>`,
    `<style>${styleText(own.css)}</style>`,
    '</head><body class="lab-report">',
    parts.markup,
    `<script type="application/json" id="report-data">${jsonForScript(parts.report)}</script>`,
    `<script type="application/json" id="view-data">${jsonForScript(parts.view)}</script>`,
    `<script>${scriptText(chart.script)}</script>`,
    // The drawing script as the dashboard serves it, then the call: one element, so that the page's
    // scripts stay the data, the library and the drawing.
    `<script>${scriptText(own.script)}\n${DRAW}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** The median-failed run of each mode × policy × scenario, by its index in `runs`. */
function representatives(runs: readonly RunResult[]): RunIndex {
  const groups = new Map<string, RunResult[]>();
  for (const run of runs) {
    const key = runKey(run.mode, run.policy, run.scenario);
    const group = groups.get(key);
    if (group) group.push(run);
    else groups.set(key, [run]);
  }
  const index = new Map<string, number>();
  for (const [key, group] of groups) index.set(key, runs.indexOf(representativeRun(group)!));
  return index;
}

/**
 * The report as the page carries it: every figure of the summary, but of the runs only the one drawn for
 * each mode × policy × scenario (its median-failed repeat), so that thousands of simulated repeats do not
 * make the page heavy. report.json beside it has them all.
 */
function withRepresentativesOnly(report: ExperimentReport): ExperimentReport {
  const keep = new Set(representatives(report.runs).values());
  return { ...report, runs: report.runs.filter((_, i) => keep.has(i)) };
}

function meta(report: ExperimentReport): string {
  return (
    `Started ${report.startedAt}, finished ${report.finishedAt}; modes: ${report.modes.join(', ')}; ` +
    `${report.runs.length} runs, of which the page carries the one drawn per mode × policy × scenario ` +
    '(report.json beside it has them all).'
  );
}
