/**
 * @module bench/report
 * Renders a BenchReport as markdown (printed and written to bench/results/latest.md) and writes the
 * full report, every run included, as JSON (bench/results/latest.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport, ScenarioSummary, TargetSummary } from './summary.js';

const num = (n: number | null, digits: number) => (n === null ? '—' : n.toFixed(digits));
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const times = (n: number | null) => (n === null ? '—' : `${n.toFixed(2)}×`);

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** A markdown table; the first column is left-aligned, the rest right-aligned unless `text`. */
function table(head: readonly string[], rows: readonly (readonly string[])[], text = false): string[] {
  const align = head.map((_, i) => (i === 0 || text ? '---' : '---:'));
  return [row(head), row(align), ...rows.map(row)];
}

function targetRow(t: TargetSummary): string[] {
  return [
    t.target,
    int(t.rps),
    num(t.p50Ms, 3),
    num(t.p99Ms, 3),
    t.p99AddedMs === null ? '—' : `${t.p99AddedMs >= 0 ? '+' : ''}${t.p99AddedMs.toFixed(3)}`,
    num(t.cpuUsPerReq, 1),
    num(t.cpuPct, 0),
    t.coreBusyPct.map((c) => c.toFixed(0)).join(' / ') || '—',
    num(t.foreignPct, 0),
    num(t.rssPeakMb, 1),
    `${t.errors + t.timeouts} / ${t.non2xx}`,
    t.greenShare === null ? '—' : (100 * t.greenShare).toFixed(1),
    times(t.rpsVsDirect),
  ];
}

function scenarioSection(s: ScenarioSummary): string[] {
  const rate = s.overallRate === null ? '' : `, target ${int(s.overallRate)} req/s`;
  const lines = [
    `### (${s.letter}) ${s.title}`,
    '',
    `${s.connections} connections${rate}, ${s.durationS} s per run, medians of ${s.targets[0]?.rounds ?? 0} rounds.`,
    '',
    ...table(
      [
        'proxy',
        'req/s',
        'p50 ms',
        'p99 ms',
        'p99 vs direct ms',
        'CPU µs/req',
        'CPU % of a core',
        'core busy % (0 / 1)',
        'other load on proxy core %',
        'RSS MB',
        'errors / non-2xx',
        'green %',
        'req/s ÷ direct',
      ],
      s.targets.map(targetRow),
    ),
  ];
  if (s.ratios.length) {
    lines.push(
      '',
      ...table(
        ['pair', 'req/s ratio', 'CPU/req ratio', 'p99 ratio'],
        s.ratios.map((r) => [`${r.a} ÷ ${r.b}`, times(r.rps), times(r.cpuPerReq), times(r.p99)]),
      ),
    );
  }
  for (const n of s.notes) lines.push('', `Note: ${n}`);
  return lines;
}

/** The report as markdown. */
export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const lines = [
    '# switchyard benchmark',
    '',
    `- Date: ${r.date}`,
    `- Machine: ${m.cpuModel}, ${m.cores} cores, Linux ${m.kernel}`,
    `- Versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    ...r.setup.map((s) => `- ${s}`),
    `- Run time: ${(r.runTimeS / 60).toFixed(1)} min`,
    '',
    '## Targets',
    '',
    ...table(
      ['goal', 'measured', 'met', 'margin'],
      r.checks.map((c) => [
        c.goal,
        c.measured,
        c.met === null ? 'not measured' : c.met ? 'yes' : '**no**',
        c.detail,
      ]),
      true,
    ),
    '',
    '## Results',
    '',
    "CPU µs/req: the process's user+system CPU time over the run divided by the responses it served (direct: the",
    "upstream process's). CPU % of a core: the same CPU time over the run's wall time; near 100 means the proxy",
    'was the bottleneck, lower means the load generator and upstreams (sharing the other core) were.',
    'RSS: peak VmRSS sampled every 100 ms (nginx: master plus worker). green %: share of upstream hits on the',
    "second upstream (the 90/10 split makes it 10). Latencies are autocannon's per-response times.",
  ];
  for (const s of r.scenarios) lines.push('', ...scenarioSection(s));
  if (r.stream) {
    lines.push(
      '',
      '### (f) 1 GiB streamed through switchyard',
      '',
      ...table(
        ['direction', 'MB/s', 'seconds', 'RSS baseline MB', 'RSS peak MB', 'growth MB', 'intact'],
        r.stream.map((t) => [
          t.direction,
          num(t.mbPerS, 0),
          num(t.seconds, 1),
          num(t.rssBeforeMb, 1),
          num(t.rssPeakMb, 1),
          num(t.rssGrowthMb, 1),
          t.complete ? 'yes' : '**no**',
        ]),
      ),
    );
  }
  if (r.profile) {
    lines.push(
      '',
      '### switchyard CPU profile under the headline load (top self time)',
      '',
      ...table(
        ['function', 'where', 'self %'],
        r.profile.map((p) => [p.fn, p.where || '(native)', p.selfPct.toFixed(1)]),
      ),
    );
  }
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

/** Writes latest.json and latest.md into `dir`. */
export function writeReport(dir: string, report: BenchReport, markdown: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), markdown);
}
