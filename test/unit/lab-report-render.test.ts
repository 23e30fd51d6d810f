import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Script } from 'node:vm';

import { describe, expect, it } from 'vitest';

import { chartAssets, reportAssets } from '../../src/lab/report/assets.js';
import { renderHtml, renderReportParts } from '../../src/lab/report/html.js';
import { renderMarkdown } from '../../src/lab/report/markdown.js';
import { renderTable } from '../../src/lab/report/table.js';
import { writeReport } from '../../src/lab/report/write.js';
import type { ExperimentReport } from '../../src/lab/results.js';
import { fullRuns, reportOf, run } from '../support/lab-report.js';
import { tempDir } from '../support/temp-dir.js';

const report = reportOf(fullRuns());

/** The JSON of the page's `<script type="application/json" id=…>`. */
function embeddedJson(html: string, id: string): unknown {
  const match = new RegExp(`<script type="application/json" id="${id}">(.*?)</script>`, 's').exec(html);
  expect(match).not.toBeNull();
  return JSON.parse(match![1]!);
}

describe('renderTable', () => {
  it('aligns one line per mode × scenario × policy, figures right-aligned, durations readable', () => {
    const lines = renderTable(report).trimEnd().split('\n');
    expect(lines).toHaveLength(2 + report.summary.length);
    expect(lines[0]).toMatch(/^mode\s+scenario\s+policy\s+outcomes\s+failed\s+users\s+detection\s+to 100%$/);
    const row = lines.find((l) => l.includes('errors-10pct') && l.includes('canary-10 ') && l.startsWith('live'))!;
    expect(row).toMatch(/3\/3 RolledBack\s+10\s+5\s+1\.26s\s+–$/);
    expect(lines.find((l) => l.includes('linear-10') && l.includes('healthy'))).toMatch(/4m30s$/);
    // Padded to the same widths, the last column right-aligned: every line ends at the same place.
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });

  it('counts mixed outcomes most frequent first', () => {
    const mixed = reportOf([
      run({ mode: 'sim', policy: 'p', scenario: 'healthy', outcome: 'RolledBack', repeat: 0 }),
      run({ mode: 'sim', policy: 'p', scenario: 'healthy', outcome: 'Succeeded', repeat: 1 }),
      run({ mode: 'sim', policy: 'p', scenario: 'healthy', outcome: 'Succeeded', repeat: 2 }),
    ]);
    expect(renderTable(mixed)).toContain('2/3 Succeeded, 1/3 RolledBack');
  });
});

describe('renderMarkdown', () => {
  const md = renderMarkdown(report);

  it('gives the parameters, a comparison per mode, agreement, verdicts and how to read', () => {
    for (const heading of [
      '## Parameters',
      '## Comparison (live)',
      '## Comparison (simulated)',
      '## Speed against safety (live)',
      '## Live against simulated',
      '## Verdicts',
      '## How to read',
    ]) {
      expect(md).toContain(heading);
    }
    expect(md).toContain('| time scale | 60× (deployment durations divided by 60) |');
    expect(md).toContain('| errors-10pct | bad (aborts) | the replacement fails 10% of its requests |');
    expect(md).toContain(
      '| errors-10pct | canary-10 | 3/3 RolledBack | 10 (9–11) | 11 | 5 (5–6) | 10 of 5000 | 1.26s | – | 8 ms |',
    );
    expect(md).toContain('| canary-10-retry | 5m | 2 | **yes** |');
  });

  it('marks a disagreeing pair and says why', () => {
    const runs = fullRuns().map((r) =>
      r.mode === 'sim' && r.policy === 'all-at-once' && r.scenario === 'errors-10pct' ? { ...r, failed: 200 } : r,
    );
    const flagged = renderMarkdown(reportOf(runs));
    expect(flagged).toContain('1 of 16 pairs disagree.');
    expect(flagged).toMatch(
      /\| \*\*⚠ disagrees\*\* \| errors-10pct \| all-at-once \| 62 \| 200 \| .*The simulation failed 200 requests/,
    );
  });

  it('keeps a table row whole whatever a description holds', () => {
    const x = report.experiment;
    const odd = {
      ...report,
      experiment: { ...x, scenarios: [{ ...x.scenarios[0]!, description: 'a | b\nc' }, ...x.scenarios.slice(1)] },
    };
    expect(renderMarkdown(odd)).toContain('| healthy | healthy | a \\| b c |');
  });
});

describe('renderHtml', () => {
  const html = renderHtml(report);

  it('is one page that needs no network: no remote src or href, the chart library inline', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain(chartAssets().script.slice(0, 200));
    expect(html).toContain('.uplot');
    expect(html).toContain('data-chart="scatter"');
    expect(html.match(/data-chart="timeline"/g)).toHaveLength(4 * 4 * 2);
  });

  it('embeds the report with the runs it draws alone, and the Pareto front', () => {
    const embedded = embeddedJson(html, 'report-data') as ExperimentReport;
    expect(embedded.summary).toEqual(report.summary);
    // One run per mode × policy × scenario, its median-failed repeat, with its timeline.
    expect(embedded.runs).toHaveLength(4 * 4 * 2);
    expect(embedded.runs.every((r) => r.timeline.length > 0)).toBe(true);
    const canary = embedded.runs.filter((r) => r.policy === 'canary-10' && r.scenario === 'errors-10pct');
    expect(canary.map((r) => [r.mode, r.repeat])).toEqual([
      ['live', 1],
      ['sim', 1],
    ]);
    const view = embeddedJson(html, 'view-data') as { pareto: { points: { policy: string; pareto: boolean }[] }[] };
    expect(view.pareto[0]!.points.filter((p) => p.pareto).map((p) => p.policy)).toEqual([
      'all-at-once',
      'linear-10',
      'canary-10-retry',
    ]);
  });

  it('puts a table or caption beside every chart, policies named in words', () => {
    expect(html).toContain('<caption>Bars: median; whiskers: min–max</caption>');
    expect(html).toContain('<td>canary-10-retry</td><td>5m</td><td>2</td><td>★ yes</td>');
    expect(html).toMatch(/<figcaption>live, repeat 2: RolledBack, 10 failed/);
  });

  it('cannot be broken out of by a policy named with </script>', () => {
    const hostile = '</script><script>alert(1)</script>';
    const runs = fullRuns(['sim']).map((r) => (r.policy === 'linear-10' ? { ...r, policy: hostile } : r));
    const x = report.experiment;
    const experiment = {
      ...x,
      policies: x.policies.map((p) => (p.name === 'linear-10' ? { ...p, name: hostile } : p)),
    };
    const page = renderHtml(reportOf(runs, experiment, ['sim']));
    expect(page).not.toContain('<script>alert(1)');
    // The page's own script elements are the only ones: two JSON blocks, the library and the drawing.
    expect(page.match(/<script\b/gi)).toHaveLength(4);
    expect(page.match(/<\/script>/gi)).toHaveLength(4);
    const embedded = embeddedJson(page, 'report-data') as ExperimentReport;
    expect(embedded.experiment.policies.map((p) => p.name)).toContain(hostile);
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;alert(1)');
  });

  it('carries a drawing script that parses', () => {
    // Parsed, not run: it draws in a browser. A syntax error here would leave every chart blank.
    const script = reportAssets().script;
    expect(() => new Script(script)).not.toThrow();
    expect(html).toContain(script.slice(0, 200));
    expect(html).toContain('drawLabCharts(document, JSON.parse(');
  });

  it('is styled by the dashboard stylesheet scoped under .lab-report, on the body', () => {
    expect(html).toContain('<body class="lab-report">');
    expect(html).toContain(reportAssets().css.slice(0, 200));
    const rules = reportAssets()
      .css.replace(/\/\*[\s\S]*?\*\//g, '')
      .split('}');
    for (const selectors of rules.map((r) => r.split('{')[0]!.trim()).filter(Boolean)) {
      for (const selector of selectors.split(',')) expect(selector).toMatch(/\.lab-report\b/);
    }
  });

  it('gives markup the dashboard can insert under its CSP: no script, style attribute or event handler', () => {
    const parts = renderReportParts(report);
    expect(parts.markup).not.toMatch(/<script|<style|\sstyle\s*=|\son[a-z]+\s*=/i);
    expect(parts.markup).toContain('data-chart="scatter"');
    expect(html).toContain(parts.markup);
    expect(parts.report.runs).toHaveLength(4 * 4 * 2);
  });

  it('says so when the experiment was interrupted', () => {
    expect(renderHtml({ ...report, complete: false })).toContain('Interrupted: not every run was done');
  });
});

describe('writeReport', () => {
  const dir = tempDir('lab-report');

  it('writes report.json, report.md and report.html, making the folder', async () => {
    const out = join(dir.path(), 'nested', 'out');
    const paths = await writeReport(out, report);
    expect((await readdir(out)).sort()).toEqual(['report.html', 'report.json', 'report.md']);
    expect(JSON.parse(await readFile(paths.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(await readFile(paths.markdown, 'utf8')).toBe(renderMarkdown(report));
    expect(await readFile(paths.html, 'utf8')).toBe(renderHtml(report));
  });

  it('fails with EXPERIMENT_FAILED when the folder cannot be made (a file is in the way)', async () => {
    await writeReport(join(dir.path(), 'x'), report);
    await expect(writeReport(join(dir.path(), 'x', 'report.json', 'below'), report)).rejects.toMatchObject({
      code: 'EXPERIMENT_FAILED',
    });
  });
});
