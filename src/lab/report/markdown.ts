/**
 * @module lab/report/markdown
 * report.md: the experiment's parameters, the comparison per mode, speed against safety, live against
 * simulated, the verdicts, and how to read each figure.
 */
import type { ExperimentReport, SummaryRow } from '../results.js';
import { AGREEMENT_HEADERS, agreementCells } from './agreement.js';
import { durationOrDash, humanCount, humanDuration } from './format.js';
import { HOW_TO_READ } from './notes.js';
import { paretoFront } from './pareto.js';
import { scenarioFaults, scenarioKind } from './scenarios.js';
import { COMPARISON_HEADERS, comparisonCells } from './table.js';

/** The whole report as Markdown. */
export function renderMarkdown(report: ExperimentReport): string {
  const sections = [
    header(report),
    parameters(report),
    ...report.modes.map((mode) => comparison(report, mode)),
    ...report.modes.map((mode) => speedVsSafety(report, mode)),
    agreementSection(report),
    verdictSection(report),
    howToRead(),
  ];
  return sections.filter((s) => s !== '').join('\n\n') + '\n';
}

/** A Markdown table: cells escaped so that no value can break the row. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(headers), `|${headers.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

function cell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .replace(/</g, '&lt;');
}

function header(report: ExperimentReport): string {
  const lines = [`# Policy lab: ${cell(report.experiment.name)}`, ''];
  lines.push(`Started ${report.startedAt}, finished ${report.finishedAt}; modes: ${report.modes.join(', ')}.`);
  if (!report.complete)
    lines.push('', '**Interrupted:** not every run was done; the figures cover the runs that were.');
  return lines.join('\n');
}

function parameters(report: ExperimentReport): string {
  const e = report.experiment;
  const load = e.load;
  const facts = [
    ['file', e.file || '(text)'],
    ['seed', String(e.seed)],
    ['repeats', String(e.repeat)],
    ['time scale', `${e.timeScale}× (deployment durations divided by ${e.timeScale})`],
    ['bake (termination wait)', humanDuration(e.bakeMs)],
    ['alarm evaluation interval', `${humanDuration(e.alarmEvaluationIntervalMs)} (real time)`],
    [
      'load',
      `${load.rate} requests/s open loop, ${load.users} users, ${load.connections} connections, ` +
        `${humanDuration(load.before)} before, ${humanDuration(load.after)} after, timeout ${humanDuration(load.timeout)}`,
    ],
    ['versions', e.versions.kind === 'synthetic' ? 'synthetic' : `${e.versions.service} in ${e.versions.config}`],
  ];
  const policies = e.policies.map((p) => [
    p.name,
    p.configName,
    p.alarms.join(', ') || '(none)',
    p.retryOnOriginal ? 'yes' : 'no',
  ]);
  const scenarios = e.scenarios.map((s) => {
    const kind = scenarioKind(s, e.versions);
    const why = scenarioFaults(s, e.versions);
    return [s.name, kind + (why.length ? ` (${why.join(', ')})` : ''), s.description ?? ''];
  });
  return [
    '## Parameters',
    markdownTable(['parameter', 'value'], facts),
    markdownTable(['policy', 'configuration', 'alarms', 'retry on original'], policies),
    markdownTable(['scenario', 'kind', 'description'], scenarios),
  ].join('\n\n');
}

function comparison(report: ExperimentReport, mode: string): string {
  const rows = report.summary.filter((r) => r.mode === mode);
  if (rows.length === 0) return '';
  const cells = rows.map((r: SummaryRow) => comparisonCells(r));
  return [
    `## Comparison (${mode === 'live' ? 'live' : 'simulated'})`,
    'Medians over the repeats, (min–max) when they differ.',
    markdownTable(COMPARISON_HEADERS, cells),
  ].join('\n\n');
}

function speedVsSafety(report: ExperimentReport, mode: 'live' | 'sim'): string {
  const e = report.experiment;
  const front = paretoFront(
    mode,
    report.summary,
    e.scenarios,
    e.policies.map((p) => p.name),
    e.versions,
  );
  if (!report.summary.some((r) => r.mode === mode)) return '';
  const rows = front.points.map((p) => [
    p.policy,
    p.incomplete ? 'not run everywhere' : p.neverFull ? 'never reached 100%' : durationOrDash(p.speedMs),
    p.failed === null ? '–' : humanCount(p.failed),
    p.incomplete ? '–' : p.pareto ? '**yes**' : `no (beaten by ${p.beatenBy.join(', ')})`,
  ]);
  const basis =
    `Speed: median time to 100% over ${front.healthy.length ? front.healthy.join(', ') : 'no healthy scenario'}; ` +
    `safety: median failed summed over ${front.bad.length ? front.bad.join(', ') : 'no bad scenario'}.`;
  return [
    `## Speed against safety (${mode === 'live' ? 'live' : 'simulated'})`,
    basis,
    markdownTable(['policy', 'time to 100%', 'failed in bad scenarios', 'Pareto'], rows),
  ].join('\n\n');
}

function agreementSection(report: ExperimentReport): string {
  if (!report.agreement) return '';
  const rows = report.agreement.map((a) => agreementCells(a, '**⚠ disagrees**'));
  const flagged = report.agreement.filter((a) => !a.agrees).length;
  return [
    '## Live against simulated',
    `${flagged} of ${report.agreement.length} pairs disagree.`,
    markdownTable(AGREEMENT_HEADERS, rows),
  ].join('\n\n');
}

function verdictSection(report: ExperimentReport): string {
  if (report.verdicts.length === 0) return '';
  const lines = report.verdicts.map((v) => `- **${v.mode}** ${cell(v.text)}`);
  return ['## Verdicts', lines.join('\n')].join('\n\n');
}

function howToRead(): string {
  return ['## How to read', HOW_TO_READ.map(([figure, meaning]) => `- **${figure}**: ${meaning}`).join('\n')].join(
    '\n\n',
  );
}
