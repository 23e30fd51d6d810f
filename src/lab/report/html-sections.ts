/**
 * @module lab/report/html-sections
 * The parts of report.html, each a string of markup with every value escaped: parameters, verdicts, the
 * comparison per mode, the charts of each scenario with their tables, speed against safety, live against
 * simulated, and how to read the figures.
 */
import type { ExperimentReport, RunMode, RunResult, SummaryRow } from '../results.js';
import { AGREEMENT_HEADERS, agreementCells } from './agreement.js';
import { durationOrDash, humanCount, humanDuration } from './format.js';
import { escapeHtml as e } from './html-escape.js';
import { HOW_TO_READ } from './notes.js';
import type { ParetoFront } from './pareto.js';
import { scenarioFaults, scenarioKind } from './scenarios.js';
import { COMPARISON_HEADERS, comparisonCells, spreadText } from './table.js';

/** A table row; `flag` marks it (a disagreement) in words and in style. */
interface Row {
  readonly cells: readonly string[];
  readonly flag?: boolean;
}

/** A table of escaped text cells, with a caption. */
export function htmlTable(caption: string, headers: readonly string[], rows: readonly Row[]): string {
  const head = headers.map((h) => `<th scope="col">${e(h)}</th>`).join('');
  const body = rows
    .map((row) => `<tr${row.flag ? ' class="flag"' : ''}>${row.cells.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><caption>${e(caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const modeName = (mode: RunMode) => (mode === 'live' ? 'live' : 'simulated');

/** The experiment's parameters, policies and scenarios. */
export function parametersHtml(report: ExperimentReport): string {
  const x = report.experiment;
  const facts: [string, string][] = [
    ['file', x.file || '(text)'],
    ['seed', String(x.seed)],
    ['repeats', String(x.repeat)],
    ['time scale', `${x.timeScale}×`],
    ['bake', humanDuration(x.bakeMs)],
    ['alarm evaluation', `every ${humanDuration(x.alarmEvaluationIntervalMs)} (real time)`],
    ['load', `${x.load.rate} requests/s, ${x.load.users} users, ${x.load.connections} connections`],
    ['versions', x.versions.kind === 'synthetic' ? 'synthetic' : `${x.versions.service} in ${x.versions.config}`],
  ];
  const dl = facts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('');
  const policies = x.policies.map((p) => ({
    cells: [p.name, p.configName, p.alarms.join(', ') || '(none)', p.retryOnOriginal ? 'yes' : 'no'],
  }));
  const scenarios = x.scenarios.map((s) => {
    const why = scenarioFaults(s, x.versions);
    return {
      cells: [s.name, scenarioKind(s, x.versions) + (why.length ? ` (${why.join(', ')})` : ''), s.description ?? ''],
    };
  });
  return [
    '<section><h2>Parameters</h2>',
    `<dl class="facts">${dl}</dl>`,
    '<div class="row">',
    htmlTable('Policies', ['policy', 'configuration', 'alarms', 'retry on original'], policies),
    htmlTable('Scenarios', ['scenario', 'kind', 'description'], scenarios),
    '</div></section>',
  ].join('\n');
}

/** The verdicts as a list, by mode. */
export function verdictsHtml(report: ExperimentReport): string {
  if (report.verdicts.length === 0) return '';
  const items = report.verdicts.map((v) => `<li><span class="tag">${e(v.mode)}</span> ${e(v.text)}</li>`);
  return `<section><h2>Verdicts</h2><ul class="verdicts">${items.join('\n')}</ul></section>`;
}

/** One mode's comparison table. */
export function comparisonHtml(report: ExperimentReport, mode: RunMode): string {
  const rows = report.summary.filter((r) => r.mode === mode);
  if (rows.length === 0) return '';
  const cells = rows.map((r: SummaryRow) => ({ cells: comparisonCells(r) }));
  const headers = COMPARISON_HEADERS;
  const caption = `Comparison (${modeName(mode)}): medians over the repeats, (min–max) when they differ`;
  return `<section><h2>Comparison, ${modeName(mode)}</h2>${htmlTable(caption, headers, cells)}</section>`;
}

/** Where each representative run sits in report.runs. */
export type RunIndex = ReadonlyMap<string, number>;

/** The key of a mode × policy × scenario in a {@link RunIndex}. */
export function runKey(mode: RunMode, policy: string, scenario: string): string {
  return JSON.stringify([mode, policy, scenario]);
}

/** One scenario: blast radius and time to 100% per mode, then the policies' timelines side by side. */
export function scenarioHtml(report: ExperimentReport, scenario: string, reps: RunIndex): string {
  const spec = report.experiment.scenarios.find((s) => s.name === scenario);
  const kind = spec ? scenarioKind(spec, report.experiment.versions) : 'other';
  const parts = [`<section class="scenario"><h2>Scenario ${e(scenario)} <span class="tag">${e(kind)}</span></h2>`];
  if (spec?.description) parts.push(`<p>${e(spec.description)}</p>`);
  for (const mode of report.modes) {
    const rows = report.summary.filter((r) => r.mode === mode && r.scenario === scenario);
    if (rows.length === 0) continue;
    parts.push(`<h3>${e(modeName(mode))}</h3><div class="row">`);
    parts.push(barChart(mode, scenario, 'failed', `Failed requests per policy, ${modeName(mode)}, ${scenario}`));
    // No bars to draw when no repeat got there: the table beside says "never".
    if (rows.some((r) => r.timeToFullTrafficMs !== null)) {
      parts.push(
        barChart(mode, scenario, 'timeToFullTrafficMs', `Time to 100% per policy, ${modeName(mode)}, ${scenario}`),
      );
    }
    const table = rows.map((r) => ({
      cells: [
        r.policy,
        spreadText(r.failed),
        r.timeToFullTrafficMs ? spreadText(r.timeToFullTrafficMs, humanDuration) : 'never',
      ],
    }));
    parts.push(htmlTable('Bars: median; whiskers: min–max', ['policy', 'failed', 'to 100%'], table), '</div>');
  }
  parts.push('<h3>Timelines</h3><div class="multiples">');
  for (const policy of report.experiment.policies.map((p) => p.name)) {
    const cells = report.modes
      .map((mode) => reps.get(runKey(mode, policy, scenario)))
      .filter((i): i is number => i !== undefined)
      .map((i) => timelineFigure(report.runs[i]!, i));
    if (cells.length)
      parts.push(`<div class="policy"><h4>${e(policy)}</h4><div class="side">${cells.join('')}</div></div>`);
  }
  parts.push('</div></section>');
  return parts.join('\n');
}

function barChart(mode: RunMode, scenario: string, figure: 'failed' | 'timeToFullTrafficMs', label: string): string {
  const attrs = `data-chart="bars" data-mode="${e(mode)}" data-scenario="${e(scenario)}" data-figure="${figure}"`;
  return `<div class="chart" role="img" aria-label="${e(label)}" ${attrs}></div>`;
}

function timelineFigure(run: RunResult, index: number): string {
  const caption =
    `${modeName(run.mode)}, repeat ${run.repeat + 1}: ${run.outcome}, ${run.failed} failed, ` +
    `${run.usersAffected} users affected, detection ${durationOrDash(run.detectionMs)}, ` +
    `100% ${run.timeToFullTrafficMs === null ? 'never' : `after ${humanDuration(run.timeToFullTrafficMs)}`}` +
    (run.alarm ? `; alarm ${run.alarm.name}: ${run.alarm.reason}` : '');
  const label = `${run.policy}, ${run.scenario}: replacement weight and failures per second over deployment time`;
  return (
    `<figure><div class="chart" role="img" aria-label="${e(label)}" data-chart="timeline" data-run="${index}"></div>` +
    `<figcaption>${e(caption)}</figcaption></figure>`
  );
}

/** Speed against safety for one mode: the scatter and its table. */
export function speedSafetyHtml(front: ParetoFront): string {
  const rows = front.points.map((p) => ({
    cells: [
      p.policy,
      p.incomplete ? 'not run everywhere' : p.neverFull ? 'never reached 100%' : durationOrDash(p.speedMs),
      p.failed === null ? '–' : humanCount(p.failed),
      p.incomplete ? '–' : p.pareto ? '★ yes' : `no (beaten by ${p.beatenBy.join(', ')})`,
    ],
  }));
  const basis =
    `Speed: median time to 100% summed over ${front.healthy.join(', ') || 'no healthy scenario'}; ` +
    `safety: median failed summed over ${front.bad.join(', ') || 'no bad scenario'}.`;
  return [
    `<section><h2>Speed against safety, ${e(modeName(front.mode))}</h2><p>${e(basis)}</p><div class="row">`,
    `<div class="chart" role="img" aria-label="${e(`Speed against safety, ${modeName(front.mode)}`)}" data-chart="scatter" data-mode="${e(front.mode)}"></div>`,
    htmlTable('★ Pareto: no other policy is both faster and safer', ['policy', 'to 100%', 'failed', 'Pareto'], rows),
    '</div></section>',
  ].join('\n');
}

/** Live against simulated, disagreements flagged. */
export function agreementHtml(report: ExperimentReport): string {
  if (!report.agreement) return '';
  const rows = report.agreement.map((a) => ({ flag: !a.agrees, cells: agreementCells(a, '⚠ disagrees') }));
  const flagged = report.agreement.filter((a) => !a.agrees).length;
  const headers = AGREEMENT_HEADERS;
  return (
    `<section><h2>Live against simulated</h2><p>${flagged} of ${report.agreement.length} pairs disagree.</p>` +
    `${htmlTable('Medians of both modes', headers, rows)}</section>`
  );
}

/** How to read each figure. */
export function howToReadHtml(): string {
  const items = HOW_TO_READ.map(([figure, meaning]) => `<dt>${e(figure)}</dt><dd>${e(meaning)}</dd>`);
  return `<section><h2>How to read</h2><dl class="notes">${items.join('\n')}</dl></section>`;
}
