/**
 * @module bench/report
 * Renders a BenchReport as markdown (printed and written to bench/results/latest.md) and writes the
 * full report, every run included, as JSON (bench/results/latest.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { fleetSection } from './fleet.js';
import { functionsSection } from './functions.js';
import type { FuzzReport } from './fuzz.js';
import { labSection } from './lab.js';
import type { RollbackReport, RollbackRow } from './rollback.js';
import { renderSoak } from './soak.js';
import type { BenchReport, ScenarioSummary, TargetSummary } from './summary.js';
import { workersSection } from './workers.js';

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

const pair = (a: number | null, b: number | null) => (a === null || b === null ? '—' : `${int(a)} / ${int(b)}`);

function rollbackRow(r: RollbackRow): string[] {
  const head = [r.failure === '5xx' ? '100% 5xx' : '+200 ms latency', r.alarm ? 'yes' : 'no', r.retry ? 'on' : 'off'];
  const reaction = (n: number | null) =>
    !r.alarm || n === null
      ? 'never'
      : `${n.toFixed(0)} ms${r.stopped < r.runs ? ` (${r.stopped} of ${r.runs} stopped)` : ''}`;
  return [
    ...head,
    String(r.runs),
    reaction(r.reactionP50Ms),
    reaction(r.reactionMaxMs),
    pair(r.failedMedian, r.failedMax),
    pair(r.slowMedian, r.slowMax),
    r.requestsMedian === null ? '—' : int(r.requestsMedian),
  ];
}

function rollbackSection(r: RollbackReport): string[] {
  const lines = [
    '### (g) A failing canary under load: rollback reaction and failed responses',
    '',
    `switchyard with two alarms on the replacement (error rate > 5% and p99 > 100 ms, 5 s windows, at least 20 requests, evaluated every ${r.alarmIntervalMs} ms) and \`DEPLOYMENT_STOP_ON_ALARM\` rollback. Each run: a CodeDeploy canary to 10% on version 2, ${int(r.rate)} GET/s evenly paced over up to ${r.connections} connections, ${r.leadMs / 1000} s healthy, then green fails (every answer 500, or every answer 200 ms late) until the deployment is seen stopped plus ${r.tailMs / 1000} s; without alarms (\`overrideAlarmConfiguration: { enabled: false }\`) for ${r.observeMs / 1000} s, after which it is stopped with rollback. ${r.runs} runs per line with alarms, ${r.plainRuns} without. ${r.proxyCore === null ? 'Nothing pinned.' : `switchyard on core ${r.proxyCore}; the load generator and both upstreams in the bench process, on the other core.`}`,
    '',
    `Reaction: from the instant green was switched to failing to the last request green received, both timed by the upstream; the runs switch green at evenly spread points of the ${r.alarmIntervalMs} ms alarm tick. Failed responses: non-2xx or no answer, as clients saw them over the whole run. Responses > 100 ms: sent to answered, as clients saw them. A run whose deployment an alarm stopped before green failed is left out (see the notes).`,
    '',
    ...table(
      [
        'failure',
        'alarm',
        'retry on original',
        'runs',
        'reaction p50',
        'reaction max',
        'failed responses (median / max)',
        'responses > 100 ms (median / max)',
        'responses per run',
      ],
      r.rows.map(rollbackRow),
    ),
    '',
    'Targets: reaction ≤ 500 ms max with the error-rate alarm at the default interval; 0 client-visible failures for GET with retry on original on.',
  ];
  for (const n of r.notes) lines.push('', `Note: ${n}`);
  return lines;
}

function fuzzSection(r: FuzzReport): string[] {
  const lines = [
    '### (h) Fuzzing: config file, AppSpec, CodeDeploy API, REST API, `switchyard validate`',
    '',
    `test/fuzz with FUZZ_RUNS=${int(r.runsPerTarget)}: each target's property over that many generated cases (mutated valid documents and requests, junk, alias bombs, odd Unicode and numbers), each case bounded in time; the API targets against one real switchyard each. Wall time of the whole run ${num(r.wallS, 0)} s.`,
    '',
    ...table(
      ['target', 'cases', 'failures', 'seconds', 'cases per second', 'seed'],
      r.targets.map((t) => [
        t.target,
        int(t.cases),
        String(t.failures),
        num(t.seconds, 1),
        t.seconds > 0 ? int(t.cases / t.seconds) : '—',
        String(t.seed),
      ]),
    ),
  ];
  for (const t of r.targets) if (t.failure) lines.push('', `Failure in ${t.target}:`, '', '```', t.failure, '```');
  for (const n of r.notes) lines.push('', `Note: ${n}`);
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
      r.checks.map((c) => [c.goal, c.measured, c.met === null ? 'not measured' : c.met ? 'yes' : '**no**', c.detail]),
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
  if (r.rollback) lines.push('', ...rollbackSection(r.rollback));
  if (r.soak) lines.push('', renderSoak(r.soak));
  if (r.fuzz) lines.push('', ...fuzzSection(r.fuzz));
  if (r.lab) lines.push('', ...labSection(r.lab));
  if (r.functions) lines.push('', ...functionsSection(r.functions));
  if (r.workers) lines.push('', ...workersSection(r.workers));
  if (r.fleet) lines.push('', ...fleetSection(r.fleet));
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
