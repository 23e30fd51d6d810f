/**
 * @module bench/functions
 * Function versions: a trivial Node handler behind switchyard's HTTP front, next to the same logic served
 * as a plain HTTP version, through one switchyard's production listener (functions-rig.ts):
 * - closed loop, 4 connections (the function's concurrency), as fast as it answers: invocations/s, p50,
 *   p99 and CPU per request, for both;
 * - open loop, 500 req/s evenly paced: p50 and p99 of both, and what the function adds;
 * - cold start: the Init of a fresh environment, and the first request as the client saw it.
 * The variants alternate within each round (and which goes first alternates between rounds), so a busy
 * moment on the shared machine does not fall on one of them only.
 */
import {
  type ColdStartResult,
  CONCURRENCY,
  FUNCTION_PATH,
  measureColdStarts,
  PLAIN_PATH,
  runtimePids,
  startMeasured,
  startPlainVersion,
} from './functions-rig.js';
import type { LoadJob } from './loadgen.js';
import type { LoadGenerator } from './measure.js';
import { coreBusy, type CoreTimes, coreTimes, cpuSeconds, HAS_PROC } from './proc-stats.js';
import type { TargetCheck } from './summary.js';
import type { Placement } from './targets.js';

export type { ColdSample, ColdStartResult } from './functions-rig.js';

/** How long and how often. */
export interface FunctionsOptions {
  readonly rounds: number;
  /** Seconds per closed-loop run. */
  readonly closedS: number;
  /** Seconds per open-loop run (after the generator's unrecorded 1.5 s lead-in). */
  readonly openS: number;
  readonly coldRuns: number;
}

/** Which version answered: the function behind the HTTP front, or the plain HTTP version. */
export type FunctionVariant = 'function' | 'http';
/** Closed loop (as fast as answers come, 4 connections) or open loop (paced at the rate). */
export type FunctionLoadMode = 'closed' | 'open';

/** One measured run. */
export interface FunctionsRun {
  readonly variant: FunctionVariant;
  readonly mode: FunctionLoadMode;
  readonly round: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Errors, timeouts and non-2xx answers. */
  readonly failed: number;
  /** switchyard's own process (listener, proxy, HTTP front, Runtime APIs): user+system µs per request. */
  readonly proxyCpuUs: number | null;
  /** What answered behind it: the runtime processes (function), or the plain server's process (http). */
  readonly behindCpuUs: number | null;
  readonly coreBusyPct: readonly number[];
}

/** Medians over rounds of one variant in one mode. */
export interface FunctionsSummary {
  readonly variant: FunctionVariant;
  readonly mode: FunctionLoadMode;
  readonly rounds: number;
  readonly requests: number;
  readonly failed: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly proxyCpuUs: number | null;
  readonly behindCpuUs: number | null;
  readonly coreBusyPct: readonly number[];
}

/** What the functions scenario measured. */
export interface FunctionsReport {
  readonly concurrency: number;
  readonly rate: number;
  readonly options: FunctionsOptions;
  /** The core switchyard (and so its runtime processes) and the plain version were pinned to, if any. */
  readonly proxyCore: number | null;
  readonly summaries: readonly FunctionsSummary[];
  /** Open loop: function minus HTTP version, medians over rounds. */
  readonly p50AddedMs: number | null;
  readonly p99AddedMs: number | null;
  readonly cold: ColdStartResult;
  readonly runs: readonly FunctionsRun[];
  readonly notes: readonly string[];
}

/** The open loop's rate: the issue's 500 req/s. */
export const OPEN_RATE = 500;
const AIM_RPS = 2_000;
const AIM_P50_ADDED_MS = 1;

/** Median of the finite values, or null when there are none. */
export function median(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** CPU seconds per process, so the runtimes started mid-run and switchyard itself can be told apart. */
function cpuByPid(pids: readonly number[]): Map<number, number> {
  return new Map(pids.map((p) => [p, cpuSeconds([p])]));
}

/** One run of `variant` in `mode` with the CPU of switchyard and of what answers behind it. */
async function oneRun(
  gen: LoadGenerator,
  sy: { url: string; pid: number },
  plainPid: number,
  variant: FunctionVariant,
  mode: FunctionLoadMode,
  round: number,
  options: FunctionsOptions,
): Promise<FunctionsRun> {
  const job: LoadJob = {
    url: sy.url + (variant === 'function' ? FUNCTION_PATH : PLAIN_PATH),
    connections: CONCURRENCY,
    durationS: mode === 'closed' ? options.closedS : options.openS,
    method: 'GET',
    ...(mode === 'open' && { paced: true, overallRate: OPEN_RATE }),
  };
  const behind = () => (variant === 'function' ? runtimePids(sy.pid) : [plainPid]);
  let before = new Map<number, number>();
  let coresBefore: CoreTimes[] = [];
  const load = await gen.run(job, () => {
    before = cpuByPid([sy.pid, ...behind()]);
    coresBefore = coreTimes();
  });
  const cores = coreBusy(coresBefore, coreTimes());
  // A runtime started during the run counts from zero; one that ended during it is lost (none should).
  const after = cpuByPid([sy.pid, ...behind()]);
  const used = (pid: number) => (after.get(pid) ?? 0) - (before.get(pid) ?? 0);
  const behindS = [...after.keys()].filter((p) => p !== sy.pid).reduce((a, p) => a + used(p), 0);
  const perReq = (s: number) => (HAS_PROC && load.requests > 0 ? (s * 1e6) / load.requests : null);
  return {
    variant,
    mode,
    round,
    requests: load.requests,
    rps: load.rps,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    maxMs: load.maxMs,
    failed: load.errors + load.timeouts + load.non2xx,
    proxyCpuUs: perReq(used(sy.pid)),
    behindCpuUs: perReq(behindS),
    coreBusyPct: cores.map((b) => 100 * b),
  };
}

function summarise(runs: readonly FunctionsRun[], variant: FunctionVariant, mode: FunctionLoadMode): FunctionsSummary {
  const mine = runs.filter((r) => r.variant === variant && r.mode === mode);
  const cores = Math.max(0, ...mine.map((r) => r.coreBusyPct.length));
  return {
    variant,
    mode,
    rounds: mine.length,
    requests: mine.reduce((a, r) => a + r.requests, 0),
    failed: mine.reduce((a, r) => a + r.failed, 0),
    rps: median(mine.map((r) => r.rps)) ?? 0,
    p50Ms: median(mine.map((r) => r.p50Ms)) ?? 0,
    p99Ms: median(mine.map((r) => r.p99Ms)) ?? 0,
    maxMs: Math.max(0, ...mine.map((r) => r.maxMs)),
    proxyCpuUs: median(mine.map((r) => r.proxyCpuUs)),
    behindCpuUs: median(mine.map((r) => r.behindCpuUs)),
    coreBusyPct: Array.from({ length: cores }, (_, i) => median(mine.map((r) => r.coreBusyPct[i] ?? null)) ?? 0),
  };
}

const describe = (r: FunctionsRun) =>
  `  r${r.round} ${r.mode.padEnd(6)} ${r.variant.padEnd(8)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)}  p99 ${r.p99Ms.toFixed(2)} ms  cpu ${r.proxyCpuUs?.toFixed(0) ?? '—'} + ${r.behindCpuUs?.toFixed(0) ?? '—'} µs/req${r.failed ? `  ${r.failed} failed` : ''}`;

/** Runs the whole functions scenario; throws if it could not be run (not if requests failed). */
export async function runFunctions(
  place: Placement,
  gen: LoadGenerator,
  options: FunctionsOptions,
  progress: (text: string) => void,
): Promise<FunctionsReport> {
  progress(
    `\n== functions: a trivial Node handler behind the HTTP front vs a plain HTTP version; ${CONCURRENCY} connections closed loop, ${OPEN_RATE} req/s open loop, ${options.coldRuns} cold starts`,
  );
  const notes: string[] = [];
  const runs: FunctionsRun[] = [];
  const plain = await startPlainVersion(place);
  try {
    const sy = await startMeasured(place, plain.url);
    const target = { url: sy.url, pid: sy.child.pid };
    try {
      // Unmeasured: JIT on every path, and all four environments started (their cold starts kept out).
      for (const variant of ['function', 'http'] as const)
        await oneRun(gen, target, plain.child.pid, variant, 'closed', 0, { ...options, closedS: 1 });
      for (const mode of ['closed', 'open'] as const) {
        for (let round = 1; round <= options.rounds; round++) {
          const order: FunctionVariant[] = round % 2 ? ['function', 'http'] : ['http', 'function'];
          for (const variant of order) {
            const r = await oneRun(gen, target, plain.child.pid, variant, mode, round, options);
            runs.push(r);
            progress(describe(r));
          }
        }
      }
      const envs = runtimePids(sy.child.pid).length;
      if (envs !== CONCURRENCY)
        notes.push(`${envs} runtime processes ran at the end of the load, not the ${CONCURRENCY} expected.`);
    } finally {
      await sy.child.stop(15_000);
    }
  } finally {
    await plain.child.stop();
  }
  let cold: ColdStartResult;
  try {
    cold = await measureColdStarts(place, options.coldRuns);
  } catch (err) {
    // The load figures are still worth reporting.
    cold = {
      samples: [],
      startupInitMs: null,
      notes: [`cold starts not measured: ${(err as Error).message.split('\n')[0]}`],
    };
    progress(`  cold starts failed: ${(err as Error).stack ?? String(err)}`);
  }
  const initMs = median(cold.samples.map((s) => s.initMs));
  progress(
    `  cold start: Init ${initMs?.toFixed(1) ?? '—'} ms, first request ${median(cold.samples.map((s) => s.firstMs))?.toFixed(1)} ms (median of ${cold.samples.length})`,
  );
  const summaries = (['closed', 'open'] as const).flatMap((mode) =>
    (['function', 'http'] as const).map((variant) => summarise(runs, variant, mode)),
  );
  const open = (v: FunctionVariant) => summaries.find((s) => s.mode === 'open' && s.variant === v);
  const [fnOpen, httpOpen] = [open('function'), open('http')];
  const added = (k: 'p50Ms' | 'p99Ms') => (fnOpen?.rounds && httpOpen?.rounds ? fnOpen[k] - httpOpen[k] : null);
  return {
    concurrency: CONCURRENCY,
    rate: OPEN_RATE,
    options,
    proxyCore: place.proxyCore ?? null,
    summaries,
    p50AddedMs: added('p50Ms'),
    p99AddedMs: added('p99Ms'),
    cold,
    runs,
    notes: [...notes, ...cold.notes],
  };
}

const find = (r: FunctionsReport, variant: FunctionVariant, mode: FunctionLoadMode) =>
  r.summaries.find((s) => s.variant === variant && s.mode === mode && s.rounds > 0);

/** The issue's aims for function versions: invocations/s at concurrency 4, and p50 added at 500 req/s. */
export function functionsChecks(r: FunctionsReport | null): TargetCheck[] {
  const goalRps = `functions: invocations/s through the HTTP front at concurrency ${CONCURRENCY} ≥ ${AIM_RPS.toLocaleString('en-US')}, none failed`;
  const goalAdded = `functions: p50 added over a plain HTTP version at ${OPEN_RATE} req/s ≤ ${AIM_P50_ADDED_MS} ms`;
  if (!r) return [goalRps, goalAdded].map((goal) => ({ goal, measured: '—', met: null, detail: 'needs functions' }));
  const checks: TargetCheck[] = [];
  const fn = find(r, 'function', 'closed');
  const http = find(r, 'http', 'closed');
  if (!fn) checks.push({ goal: goalRps, measured: '—', met: null, detail: 'no runs' });
  else
    checks.push({
      goal: goalRps,
      measured: `${Math.round(fn.rps).toLocaleString('en-US')}/s (plain HTTP version ${http ? Math.round(http.rps).toLocaleString('en-US') : '—'}/s), ${fn.failed} failed of ${fn.requests.toLocaleString('en-US')}`,
      met: fn.rps >= AIM_RPS && fn.failed === 0,
      detail:
        fn.failed > 0
          ? `${fn.failed} failed`
          : fn.rps >= AIM_RPS
            ? `${(fn.rps / AIM_RPS).toFixed(2)}× the aim`
            : `short by ${Math.round(AIM_RPS - fn.rps)}/s`,
    });
  const failedOpen = (find(r, 'function', 'open')?.failed ?? 0) + (find(r, 'http', 'open')?.failed ?? 0);
  if (r.p50AddedMs === null) checks.push({ goal: goalAdded, measured: '—', met: null, detail: 'no runs' });
  else
    checks.push({
      goal: goalAdded,
      measured: `${r.p50AddedMs.toFixed(3)} ms (p99 added ${r.p99AddedMs?.toFixed(3) ?? '—'} ms)`,
      met: r.p50AddedMs <= AIM_P50_ADDED_MS && failedOpen === 0,
      detail:
        failedOpen > 0
          ? `${failedOpen} failed`
          : r.p50AddedMs <= AIM_P50_ADDED_MS
            ? `${(AIM_P50_ADDED_MS - r.p50AddedMs).toFixed(3)} ms to spare`
            : `over by ${(r.p50AddedMs - AIM_P50_ADDED_MS).toFixed(3)} ms`,
    });
  return checks;
}

const num = (n: number | null, digits: number) => (n === null ? '—' : n.toFixed(digits));

function summaryRow(s: FunctionsSummary): string {
  const total = s.proxyCpuUs !== null && s.behindCpuUs !== null ? s.proxyCpuUs + s.behindCpuUs : null;
  const cells = [
    s.mode === 'closed' ? `closed, ${CONCURRENCY} connections` : `open, ${OPEN_RATE} req/s`,
    s.variant === 'function' ? 'function (HTTP front)' : 'plain HTTP version',
    Math.round(s.rps).toLocaleString('en-US'),
    num(s.p50Ms, 3),
    num(s.p99Ms, 3),
    num(s.proxyCpuUs, 1),
    num(s.behindCpuUs, 1),
    num(total, 1),
    s.coreBusyPct.map((c) => c.toFixed(0)).join(' / ') || '—',
    `${s.failed} of ${s.requests.toLocaleString('en-US')}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

/** The functions section of the bench report. */
export function functionsSection(r: FunctionsReport): string[] {
  const o = r.options;
  const samples = r.cold.samples;
  const coldInit = median(samples.map((s) => s.initMs));
  const coldFirst = median(samples.map((s) => s.firstMs));
  const coldWarm = median(samples.map((s) => s.warmMs));
  const placed =
    r.proxyCore === null
      ? 'Nothing pinned.'
      : `switchyard on core ${r.proxyCore}, and with it its runtime processes (they inherit its core) and the plain HTTP version's process; the load generator on the other core.`;
  const lines = [
    '### (k) Function versions: a trivial Node handler behind the HTTP front',
    '',
    `One switchyard from its CLI serving two services on its production listener: a function version (\`lambda: { handler: …/index.handler, concurrency: ${r.concurrency} }\`, the handler \`async () => ({ statusCode: 200, body: 'ok' })\`, API Gateway HTTP API 2.0 events) and a plain HTTP version (a node:http server answering the same 200 \`ok\`). ${placed} Closed loop: ${r.concurrency} connections as fast as answers come (autocannon), ${o.closedS} s per run; open loop: ${r.rate} GET/s evenly paced over up to ${r.concurrency} connections, ${o.openS} s per run after an unrecorded 1.5 s lead-in. ${o.rounds} rounds, the two versions alternating, medians reported; 1 s of unmeasured load on each first (it also starts all ${r.concurrency} environments).`,
    '',
    'CPU µs/req: user+system time over the run divided by responses; "switchyard" is its own process (listener, proxy, HTTP front, Runtime API servers), "behind" is what answered: the function\'s runtime processes (switchyard\'s Node bootstrap with the handler) or the plain server\'s process.',
    '',
    '| load | version | req/s | p50 ms | p99 ms | switchyard CPU µs/req | behind CPU µs/req | total CPU µs/req | core busy % (0 / 1) | failed |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.summaries.filter((s) => s.rounds > 0).map(summaryRow),
    '',
    `Added by the function at ${r.rate} req/s (function minus plain HTTP version): p50 ${num(r.p50AddedMs, 3)} ms (aim ≤ ${AIM_P50_ADDED_MS} ms), p99 ${num(r.p99AddedMs, 3)} ms. Invocations/s at concurrency ${r.concurrency}: ${Math.round(find(r, 'function', 'closed')?.rps ?? 0).toLocaleString('en-US')} (aim ≥ ${AIM_RPS.toLocaleString('en-US')}).`,
    '',
    `Cold start (median of ${samples.length}; a switchyard of its own with one function version whose idle environment is reaped after 300 ms, each request sent once the runtime process was gone): Init ${num(coldInit, 1)} ms (the REPORT line's Init Duration: from starting the runtime process to its first \`next\`), first request ${num(coldFirst, 1)} ms as the client saw it through the production listener, against ${num(coldWarm, 2)} ms for the next (warm) one.${r.cold.startupInitMs === null ? '' : ` The environment made ready when switchyard started took ${r.cold.startupInitMs} ms ('function version ready').`} All: ${samples.map((s) => `${num(s.initMs, 0)}/${num(s.firstMs, 0)}`).join(', ')} ms (Init/first request).`,
  ];
  for (const n of r.notes) lines.push('', `Note: ${n}`);
  return lines;
}
