/**
 * @module bench/functions
 * Function versions: a trivial Node handler behind switchyard's HTTP front, next to the same logic served
 * as a plain HTTP version, through one switchyard's production listener (functions-rig.ts):
 * - closed loop, 4 connections (the function's concurrency), as fast as it answers: invocations/s, p50,
 *   p99 and CPU per request, for both, in two placements: switchyard with its runtime processes on the
 *   proxy core (they inherit its pinning), as every other scenario places the proxy, and on the whole
 *   machine (nothing pinned but the load generator), which is what running `switchyard serve` gives;
 * - open loop, 500 req/s evenly paced, on the proxy core: p50 and p99 of both, and what the function adds;
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
  unpinTree,
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
/** switchyard (with its runtimes) and the plain version pinned to the proxy core, or nothing of theirs pinned. */
export type FunctionPlacement = 'proxy-core' | 'machine';

/** One measured run. */
export interface FunctionsRun {
  readonly variant: FunctionVariant;
  readonly mode: FunctionLoadMode;
  readonly placement: FunctionPlacement;
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
  /**
   * Pinned runs: busy percent of the proxy core not explained by switchyard and what answers behind it
   * (other programs on the machine). Null when nothing of theirs is pinned.
   */
  readonly foreignPct: number | null;
}

/** Medians over rounds of one variant in one mode and placement. */
export interface FunctionsSummary {
  readonly variant: FunctionVariant;
  readonly mode: FunctionLoadMode;
  readonly placement: FunctionPlacement;
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
  readonly foreignPct: number | null;
}

/** What the functions scenario measured. */
export interface FunctionsReport {
  readonly concurrency: number;
  readonly rate: number;
  readonly options: FunctionsOptions;
  /** The proxy core of the pinned placement (switchyard, its runtimes, the plain version), if any. */
  readonly proxyCore: number | null;
  /** The core the load generator was pinned to, if any. */
  readonly loadCore: number | null;
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

/** One switchyard and plain version, started in one placement. */
interface Setup {
  readonly url: string;
  readonly pid: number;
  readonly plainPid: number;
  readonly placement: FunctionPlacement;
  /** The core it is pinned to, in the proxy-core placement. */
  readonly core: number | undefined;
}

/** One run of `variant` in `mode` with the CPU of switchyard and of what answers behind it. */
async function oneRun(
  gen: LoadGenerator,
  setup: Setup,
  variant: FunctionVariant,
  mode: FunctionLoadMode,
  round: number,
  options: FunctionsOptions,
): Promise<FunctionsRun> {
  const job: LoadJob = {
    url: setup.url + (variant === 'function' ? FUNCTION_PATH : PLAIN_PATH),
    connections: CONCURRENCY,
    durationS: mode === 'closed' ? options.closedS : options.openS,
    method: 'GET',
    ...(mode === 'open' && { paced: true, overallRate: OPEN_RATE }),
  };
  const { pid } = setup;
  const behind = () => (variant === 'function' ? runtimePids(pid) : [setup.plainPid]);
  let before = new Map<number, number>();
  let coresBefore: CoreTimes[] = [];
  const load = await gen.run(job, () => {
    before = cpuByPid([pid, ...behind()]);
    coresBefore = coreTimes();
  });
  const cores = coreBusy(coresBefore, coreTimes());
  // A runtime started during the run counts from zero; one that ended during it is lost (none should).
  const after = cpuByPid([pid, ...behind()]);
  const used = (p: number) => (after.get(p) ?? 0) - (before.get(p) ?? 0);
  const behindS = [...after.keys()].filter((p) => p !== pid).reduce((a, p) => a + used(p), 0);
  const perReq = (s: number) => (HAS_PROC && load.requests > 0 ? (s * 1e6) / load.requests : null);
  const ownPct = (100 * (used(pid) + behindS)) / load.durationS;
  const coreBusyPct = cores.map((b) => 100 * b);
  const pinnedBusy = setup.core === undefined ? undefined : coreBusyPct[setup.core];
  return {
    variant,
    mode,
    placement: setup.placement,
    round,
    requests: load.requests,
    rps: load.rps,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    maxMs: load.maxMs,
    failed: load.errors + load.timeouts + load.non2xx,
    proxyCpuUs: perReq(used(pid)),
    behindCpuUs: perReq(behindS),
    coreBusyPct,
    foreignPct: HAS_PROC && pinnedBusy !== undefined ? Math.max(0, pinnedBusy - ownPct) : null,
  };
}

function summarise(
  runs: readonly FunctionsRun[],
  variant: FunctionVariant,
  mode: FunctionLoadMode,
  placement: FunctionPlacement,
): FunctionsSummary {
  const mine = runs.filter((r) => r.variant === variant && r.mode === mode && r.placement === placement);
  const cores = Math.max(0, ...mine.map((r) => r.coreBusyPct.length));
  return {
    variant,
    mode,
    placement,
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
    foreignPct: median(mine.map((r) => r.foreignPct)),
  };
}

const describe = (r: FunctionsRun) =>
  `  r${r.round} ${r.placement.padEnd(10)} ${r.mode.padEnd(6)} ${r.variant.padEnd(8)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)}  p99 ${r.p99Ms.toFixed(2)} ms  cpu ${r.proxyCpuUs?.toFixed(0) ?? '—'} + ${r.behindCpuUs?.toFixed(0) ?? '—'} µs/req${r.failed ? `  ${r.failed} failed` : ''}`;

/** A pinned run is contended when other programs took this much of its core (percent of one core). */
const FOREIGN_LIMIT_PCT = 10;

/** Repeats left for contended runs (each repeated once at most), and how many stayed contended. */
interface RetryBudget {
  retries: number;
  contended: number;
}

/**
 * Unmeasured load first: the runtimes take thousands of invocations to be JIT-compiled (each gets a
 * quarter of them), the rest far fewer. It also starts all four environments, their cold starts kept out.
 */
const WARMUP_S: Readonly<Record<FunctionVariant, number>> = { function: 8, http: 1 };

/** Every round of `mode` in one placement, the two versions alternating; contended pinned runs once more. */
async function rounds(
  gen: LoadGenerator,
  setup: Setup,
  mode: FunctionLoadMode,
  options: FunctionsOptions,
  budget: RetryBudget,
  progress: (text: string) => void,
): Promise<FunctionsRun[]> {
  const runs: FunctionsRun[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const order: FunctionVariant[] = round % 2 ? ['function', 'http'] : ['http', 'function'];
    for (const variant of order) {
      let r = await oneRun(gen, setup, variant, mode, round, options);
      if ((r.foreignPct ?? 0) > FOREIGN_LIMIT_PCT && budget.retries > 0) {
        progress(`${describe(r)}: other work took ${r.foreignPct?.toFixed(0)}% of the core; again`);
        budget.retries--;
        r = await oneRun(gen, setup, variant, mode, round, options);
      }
      if ((r.foreignPct ?? 0) > FOREIGN_LIMIT_PCT) budget.contended++;
      runs.push(r);
      progress(describe(r));
    }
  }
  return runs;
}

/**
 * Starts switchyard and the plain version pinned as the bench places the proxy, warms them up, runs the
 * pinned rounds (closed, then open loop), then lets the same processes run on every core (warm runtimes
 * stay warm) for the whole-machine closed loop, and stops them.
 */
async function measure(
  place: Placement,
  gen: LoadGenerator,
  options: FunctionsOptions,
  budget: RetryBudget,
  progress: (text: string) => void,
): Promise<{ runs: FunctionsRun[]; notes: string[] }> {
  const runs: FunctionsRun[] = [];
  const notes: string[] = [];
  const plain = await startPlainVersion(place);
  try {
    const sy = await startMeasured(place, plain.url);
    try {
      const pinned: Setup = {
        url: sy.url,
        pid: sy.child.pid,
        plainPid: plain.child.pid,
        placement: place.proxyCore === undefined ? 'machine' : 'proxy-core',
        core: place.proxyCore,
      };
      for (const variant of ['function', 'http'] as const)
        await oneRun(gen, pinned, variant, 'closed', 0, { ...options, closedS: WARMUP_S[variant] });
      runs.push(...(await rounds(gen, pinned, 'closed', options, budget, progress)));
      runs.push(...(await rounds(gen, pinned, 'open', options, budget, progress)));
      if (place.proxyCore !== undefined) {
        // What the bench starts inherits its own pinning (the load core) unless told otherwise.
        if (unpinTree(plain.child.pid) && unpinTree(sy.child.pid)) {
          const machine: Setup = { ...pinned, placement: 'machine', core: undefined };
          runs.push(...(await rounds(gen, machine, 'closed', options, budget, progress)));
        } else notes.push('taskset could not unpin switchyard: the whole-machine placement was not measured.');
      }
      const envs = runtimePids(sy.child.pid).length;
      if (envs !== CONCURRENCY) notes.push(`${envs} runtime processes ran at the end of the load, not ${CONCURRENCY}.`);
    } finally {
      await sy.child.stop(15_000);
    }
  } finally {
    await plain.child.stop();
  }
  return { runs, notes };
}

/** Cold starts, or none with a note: the load figures are worth reporting without them. */
async function coldOrNote(
  place: Placement,
  options: FunctionsOptions,
  progress: (text: string) => void,
): Promise<ColdStartResult> {
  try {
    const cold = await measureColdStarts(place, options.coldRuns);
    const initMs = median(cold.samples.map((s) => s.initMs));
    const firstMs = median(cold.samples.map((s) => s.firstMs));
    progress(
      `  cold start: Init ${initMs?.toFixed(1) ?? '—'} ms, first request ${firstMs?.toFixed(1) ?? '—'} ms (median of ${cold.samples.length})`,
    );
    return cold;
  } catch (err) {
    progress(`  cold starts failed: ${(err as Error).stack ?? String(err)}`);
    const why = (err as Error).message.split('\n')[0];
    return { samples: [], startupInitMs: null, notes: [`cold starts not measured: ${why}`] };
  }
}

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
  // Bounded, so that a busy machine flags its figures instead of stretching the scenario.
  const budget: RetryBudget = { retries: 4, contended: 0 };
  const { runs, notes } = await measure(place, gen, options, budget, progress);
  if (budget.contended)
    notes.push(
      `${budget.contended} pinned run(s) had more than ${FOREIGN_LIMIT_PCT}% of the core used by other programs (other load %); treat their figures with care.`,
    );
  const cold = await coldOrNote(place, options, progress);
  const placements: FunctionPlacement[] = ['proxy-core', 'machine'];
  const summaries = placements
    .flatMap((placement) =>
      (['closed', 'open'] as const).flatMap((mode) =>
        (['function', 'http'] as const).map((variant) => summarise(runs, variant, mode, placement)),
      ),
    )
    .filter((x) => x.rounds > 0);
  const open = (v: FunctionVariant) => summaries.find((x) => x.mode === 'open' && x.variant === v);
  const [fnOpen, httpOpen] = [open('function'), open('http')];
  const added = (k: 'p50Ms' | 'p99Ms') => (fnOpen && httpOpen ? fnOpen[k] - httpOpen[k] : null);
  return {
    concurrency: CONCURRENCY,
    rate: OPEN_RATE,
    options,
    proxyCore: place.proxyCore ?? null,
    loadCore: place.loadCore ?? null,
    summaries,
    p50AddedMs: added('p50Ms'),
    p99AddedMs: added('p99Ms'),
    cold,
    runs,
    notes: [...notes, ...cold.notes],
  };
}

const find = (r: FunctionsReport, variant: FunctionVariant, mode: FunctionLoadMode, placement?: FunctionPlacement) =>
  r.summaries.find(
    (x) => x.variant === variant && x.mode === mode && (placement === undefined || x.placement === placement),
  );

const rate = (x: FunctionsSummary | undefined) => (x ? `${Math.round(x.rps).toLocaleString('en-US')}/s` : '—');

/** The closed-loop figure the throughput aim is held to: the whole machine's, as the aim is the machine's. */
function throughputFigure(r: FunctionsReport): FunctionsSummary | undefined {
  return find(r, 'function', 'closed', 'machine') ?? find(r, 'function', 'closed', 'proxy-core');
}

/** The issue's aims for function versions: invocations/s at concurrency 4, and p50 added at 500 req/s. */
export function functionsChecks(r: FunctionsReport | null): TargetCheck[] {
  const goalRps = `functions: invocations/s through the HTTP front at concurrency ${CONCURRENCY} on the 2-core machine ≥ ${AIM_RPS.toLocaleString('en-US')}, none failed`;
  const goalAdded = `functions: p50 added over a plain HTTP version at ${OPEN_RATE} req/s ≤ ${AIM_P50_ADDED_MS} ms`;
  if (!r) return [goalRps, goalAdded].map((goal) => ({ goal, measured: '—', met: null, detail: 'needs functions' }));
  const checks: TargetCheck[] = [];
  const fn = throughputFigure(r);
  const failedClosed = r.summaries.filter((x) => x.mode === 'closed').reduce((a, x) => a + x.failed, 0);
  if (!fn) checks.push({ goal: goalRps, measured: '—', met: null, detail: 'no runs' });
  else {
    const pinned = find(r, 'function', 'closed', 'proxy-core');
    const alsoPinned =
      fn.placement === 'machine' && pinned
        ? `; with its runtimes on switchyard's one core ${rate(pinned)} (plain ${rate(find(r, 'http', 'closed', 'proxy-core'))})`
        : '';
    checks.push({
      goal: goalRps,
      measured: `${rate(fn)} (plain HTTP version ${rate(find(r, 'http', 'closed', fn.placement))})${alsoPinned}; ${failedClosed} failed`,
      met: fn.rps >= AIM_RPS && failedClosed === 0,
      detail:
        failedClosed > 0
          ? `${failedClosed} failed`
          : fn.rps >= AIM_RPS
            ? `${(fn.rps / AIM_RPS).toFixed(2)}× the aim`
            : `short by ${Math.round(AIM_RPS - fn.rps)}/s`,
    });
  }
  const failedOpen = r.summaries.filter((x) => x.mode === 'open').reduce((a, x) => a + x.failed, 0);
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

function summaryRow(x: FunctionsSummary, proxyCore: number | null): string {
  const total = x.proxyCpuUs !== null && x.behindCpuUs !== null ? x.proxyCpuUs + x.behindCpuUs : null;
  const cells = [
    x.mode === 'closed' ? `closed, ${CONCURRENCY} connections` : `open, ${OPEN_RATE} req/s`,
    x.placement === 'machine' || proxyCore === null ? 'whole machine' : `core ${proxyCore}`,
    x.variant === 'function' ? 'function (HTTP front)' : 'plain HTTP version',
    Math.round(x.rps).toLocaleString('en-US'),
    num(x.p50Ms, 3),
    num(x.p99Ms, 3),
    num(x.proxyCpuUs, 1),
    num(x.behindCpuUs, 1),
    num(total, 1),
    x.coreBusyPct.map((c) => c.toFixed(0)).join(' / ') || '—',
    num(x.foreignPct, 0),
    `${x.failed} of ${x.requests.toLocaleString('en-US')}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

function coldText(r: FunctionsReport): string {
  const samples = r.cold.samples;
  if (samples.length === 0) return 'Cold start: not measured (see the notes).';
  const init = median(samples.map((x) => x.initMs));
  const first = median(samples.map((x) => x.firstMs));
  const warm = median(samples.map((x) => x.warmMs));
  const startup =
    r.cold.startupInitMs === null
      ? ''
      : ` The environment made ready when switchyard started took ${r.cold.startupInitMs} ms (its 'function version ready' line).`;
  return `Cold start, median of ${samples.length}: **Init ${num(init, 1)} ms** (the REPORT line's Init Duration: from starting the runtime process to its first \`next\`, i.e. Node's start, switchyard's bootstrap and the handler's import), **first request ${num(first, 1)} ms** as the client saw it through the production listener, against ${num(warm, 2)} ms for the request right after it (the same environment, initialised but its code not yet JIT-compiled, on a fresh connection, with info logging). Measured on a switchyard of its own with one function version (concurrency 1, \`idleTimeout: 300ms\`, logLevel info for its REPORT lines), pinned as above: each request sent once the previous environment had been reaped (its runtime process gone), on a fresh connection.${startup} Each (Init / first request, ms): ${samples.map((x) => `${num(x.initMs, 0)} / ${num(x.firstMs, 0)}`).join(', ')}.`;
}

/** The functions section of the bench report. */
export function functionsSection(r: FunctionsReport): string[] {
  const o = r.options;
  const placed =
    r.proxyCore === null
      ? 'Nothing pinned.'
      : `Two placements: **core ${r.proxyCore}**, switchyard pinned there as in every other scenario, and with it its runtime processes (they inherit its pinning) and the plain version's process; then the **whole machine**: the same processes (the runtimes warm) let run on every core, as \`switchyard serve\` runs, closed loop only. The load generator is on core ${r.loadCore ?? '—'} in both.`;
  const fn = throughputFigure(r);
  const lines = [
    '### (k) Function versions: a trivial Node handler behind the HTTP front',
    '',
    `One switchyard from its CLI serving two services on its production listener: a function version (\`lambda: { handler: …/index.handler, concurrency: ${r.concurrency} }\`, the handler \`async () => ({ statusCode: 200, body: 'ok' })\`, API Gateway HTTP API 2.0 events) and a plain HTTP version (a node:http server answering the same 200 \`ok\`). ${placed} Closed loop: ${r.concurrency} connections as fast as answers come (autocannon), ${o.closedS} s per run; open loop: ${r.rate} GET/s evenly paced over up to ${r.concurrency} connections, ${o.openS} s per run after an unrecorded 1.5 s lead-in. ${o.rounds} rounds per placement and load, the two versions alternating, medians reported; first unmeasured load, ${WARMUP_S.function} s on the function (its runtimes take thousands of invocations to be JIT-compiled; it also starts all ${r.concurrency} environments) and ${WARMUP_S.http} s on the plain version.`,
    '',
    'CPU µs/req: user+system time over the run divided by responses; "switchyard" is its own process (listener, proxy, HTTP front, Runtime API servers), "behind" is what answered: the function\'s runtime processes (switchyard\'s Node bootstrap with the handler) or the plain server\'s process. Other load: busy percent of the pinned core that neither explains (other programs).',
    '',
    '| load | placement | version | req/s | p50 ms | p99 ms | switchyard CPU µs/req | behind CPU µs/req | total CPU µs/req | core busy % (0 / 1) | other load % | failed |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.summaries.map((x) => summaryRow(x, r.proxyCore)),
    '',
    `Invocations/s at concurrency ${r.concurrency}: **${rate(fn)}** on the ${fn?.placement === 'machine' ? 'whole machine' : 'pinned core'} (aim ≥ ${AIM_RPS.toLocaleString('en-US')}/s on this 2-core machine). Added by the function at ${r.rate} req/s (function minus plain HTTP version, pinned): **p50 ${num(r.p50AddedMs, 3)} ms** (aim ≤ ${AIM_P50_ADDED_MS} ms), p99 ${num(r.p99AddedMs, 3)} ms.`,
    '',
    coldText(r),
  ];
  for (const n of r.notes) lines.push('', `Note: ${n}`);
  return lines;
}
