/**
 * @module lab/report/html
 * report.html: one self-contained page that opens from disk with no network. The chart library, its
 * stylesheet, the drawing script and the report's data are all inline; every chart sits beside a table or
 * a caption with its figures, and policies are named on every chart, so that colour is never the only
 * signal and nothing is lost without a canvas.
 */
import type { ExperimentReport, RunResult } from '../results.js';
import { chartAssets } from './assets.js';
import { CLIENT_SCRIPT } from './client.js';
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
import { paretoFront } from './pareto.js';
import { representativeRun } from './summarize.js';

const CSS = `
:root { color-scheme: light; --ink: #111827; --muted: #4b5563; --line: #e5e7eb; --flag: #fef3c7; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0 auto;
  max-width: 1120px; padding: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; color: var(--muted); } h4 { margin: .6rem 0 .2rem; }
.meta, figcaption, caption { color: var(--muted); font-size: 12px; }
caption { text-align: left; padding: .2rem 0; }
table { border-collapse: collapse; margin: .4rem 0; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { font-weight: 600; } tr.flag td { background: var(--flag); font-weight: 600; }
.row { display: flex; flex-wrap: wrap; gap: 1rem 1.5rem; align-items: flex-start; }
.side { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: .75rem; }
.chart { min-width: 280px; } .row > .chart { flex: 1 1 340px; max-width: 560px; } figure { margin: 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
.facts dt, .notes dt { font-weight: 600; } .facts dd { margin: 0; } .notes dd { margin: 0 0 .4rem 1rem; }
.tag { display: inline-block; font-size: 11px; border: 1px solid var(--line); border-radius: 4px; padding: 0 .3rem;
  color: var(--muted); font-weight: 500; }
.verdicts li { margin: .25rem 0; } .warn { background: var(--flag); padding: .4rem .6rem; }
.scenario { border-top: 1px solid var(--line); }
`;

/** The whole report as one HTML page. */
export function renderHtml(report: ExperimentReport): string {
  const assets = chartAssets();
  const shown = withRepresentativesOnly(report);
  const reps = representatives(shown.runs);
  const policies = report.experiment.policies.map((p) => p.name);
  const fronts = report.modes.map((mode) =>
    paretoFront(mode, report.summary, report.experiment.scenarios, policies, report.experiment.versions),
  );
  const scenarios = report.experiment.scenarios
    .map((s) => s.name)
    .filter((name) => report.summary.some((r) => r.scenario === name));
  const title = `Policy lab: ${report.experiment.name}`;
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
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${styleText(assets.css)}</style>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    ...body.filter((part) => part !== ''),
    `<script type="application/json" id="report-data">${jsonForScript(shown)}</script>`,
    `<script type="application/json" id="view-data">${jsonForScript({ pareto: fronts })}</script>`,
    `<script>${scriptText(assets.script)}</script>`,
    `<script>${scriptText(CLIENT_SCRIPT)}</script>`,
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
