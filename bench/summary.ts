/**
 * @module bench/summary
 * Turns runs into the figures the report quotes: per target the median over rounds of each measure,
 * ratios to direct and between proxies, and the targets checked against them.
 */
import type { SelfTime } from './cpu-profile.js';
import type { FleetReport } from './fleet.js';
import type { FunctionsReport } from './functions.js';
import type { FuzzReport } from './fuzz.js';
import type { LabReport } from './lab.js';
import type { RunSample } from './measure.js';
import type { MachineInfo } from './proc-stats.js';
import type { RollbackReport } from './rollback.js';
import type { LoadScenario, TargetName } from './scenarios.js';
import type { SoakReport } from './soak.js';
import type { TransferResult } from './stream.js';
import type { WorkersReport } from './workers.js';

/** Medians over rounds for one target in one scenario. */
export interface TargetSummary {
  readonly target: TargetName;
  readonly rounds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** Median p99 minus direct's median p99. */
  readonly p99AddedMs: number | null;
  readonly cpuUsPerReq: number | null;
  readonly cpuPct: number | null;
  readonly coreBusyPct: readonly number[];
  /** Median busy percent of the proxy core not explained by the target (other programs). */
  readonly foreignPct: number | null;
  /** Median over rounds of each round's peak. */
  readonly rssPeakMb: number | null;
  /** Highest peak of any round. */
  readonly rssMaxMb: number | null;
  /** Totals over all rounds. */
  readonly requests: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly greenShare: number | null;
  readonly rpsVsDirect: number | null;
}

/** How proxy `a` compares with proxy `b` (a ÷ b). */
export interface PairRatio {
  readonly a: TargetName;
  readonly b: TargetName;
  readonly rps: number;
  readonly cpuPerReq: number | null;
  readonly p99: number;
}

export interface ScenarioSummary {
  readonly id: string;
  readonly letter: string;
  readonly title: string;
  readonly connections: number;
  readonly overallRate: number | null;
  readonly durationS: number;
  readonly targets: readonly TargetSummary[];
  readonly ratios: readonly PairRatio[];
  readonly samples: readonly RunSample[];
  readonly notes: readonly string[];
}

/** One of the targets. */
export interface TargetCheck {
  readonly goal: string;
  readonly measured: string;
  /** null when it could not be measured in this run. */
  readonly met: boolean | null;
  readonly detail: string;
}

export interface BenchReport {
  readonly date: string;
  readonly machine: MachineInfo;
  readonly versions: Readonly<Record<string, string>>;
  readonly setup: readonly string[];
  readonly runTimeS: number;
  readonly scenarios: readonly ScenarioSummary[];
  readonly stream: readonly TransferResult[] | null;
  /** The rollback scenario's figures, when it ran. */
  readonly rollback: RollbackReport | null;
  /** The soak's figures, when it ran. */
  readonly soak: SoakReport | null;
  /** The fuzz scenario's figures, when it ran. */
  readonly fuzz: FuzzReport | null;
  /** The lab scenario's figures, when it ran. */
  readonly lab: LabReport | null;
  /** The functions scenario's figures, when it ran. */
  readonly functions: FunctionsReport | null;
  /** The workers scenario's figures, when it ran. */
  readonly workers: WorkersReport | null;
  /** The fleet scenario's figures, when it ran. */
  readonly fleet: FleetReport | null;
  /** switchyard's top functions by self time under the headline load, when BENCH_CPU_PROF asked for it. */
  readonly profile: readonly SelfTime[] | null;
  readonly checks: readonly TargetCheck[];
  readonly notes: readonly string[];
}

/** Median of the finite values, or null when there are none. */
function median(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function summarise(target: TargetName, runs: readonly RunSample[]): Omit<TargetSummary, 'p99AddedMs' | 'rpsVsDirect'> {
  const cores = Math.max(0, ...runs.map((r) => r.coreBusyPct.length));
  return {
    target,
    rounds: runs.length,
    rps: median(runs.map((r) => r.rps)) ?? 0,
    p50Ms: median(runs.map((r) => r.p50Ms)) ?? 0,
    p90Ms: median(runs.map((r) => r.p90Ms)) ?? 0,
    p99Ms: median(runs.map((r) => r.p99Ms)) ?? 0,
    cpuUsPerReq: median(runs.map((r) => r.cpuUsPerReq)),
    cpuPct: median(runs.map((r) => r.cpuPct)),
    coreBusyPct: Array.from({ length: cores }, (_, i) => median(runs.map((r) => r.coreBusyPct[i] ?? null)) ?? 0),
    foreignPct: median(runs.map((r) => r.foreignPct)),
    rssPeakMb: median(runs.map((r) => r.rssPeakMb)),
    rssMaxMb: runs.some((r) => r.rssPeakMb !== null) ? Math.max(...runs.map((r) => r.rssPeakMb ?? 0)) : null,
    requests: sum(runs.map((r) => r.requests)),
    errors: sum(runs.map((r) => r.errors)),
    timeouts: sum(runs.map((r) => r.timeouts)),
    non2xx: sum(runs.map((r) => r.non2xx)),
    greenShare: median(runs.map((r) => r.greenShare)),
  };
}

/** Medians per target, in the order targets were run, and ratios between every pair of proxies. */
export function summariseScenario(
  scenario: LoadScenario,
  durationS: number,
  samples: readonly RunSample[],
  order: readonly TargetName[],
  notes: readonly string[],
): ScenarioSummary {
  const base = order
    .map((t) => samples.filter((s) => s.target === t))
    .filter((runs) => runs.length > 0)
    .map((runs) => summarise(runs[0]!.target, runs));
  const direct = base.find((t) => t.target === 'direct');
  const targets: TargetSummary[] = base.map((t) => ({
    ...t,
    p99AddedMs: direct && t.target !== 'direct' ? t.p99Ms - direct.p99Ms : null,
    rpsVsDirect: direct && t.target !== 'direct' ? t.rps / direct.rps : null,
  }));
  const proxies = targets.filter((t) => t.target !== 'direct');
  const ratios: PairRatio[] = [];
  // Each pair once, the earlier-run proxy (switchyard first) over the later one.
  proxies.forEach((a, i) =>
    proxies.slice(i + 1).forEach((b) =>
      ratios.push({
        a: a.target,
        b: b.target,
        rps: a.rps / b.rps,
        cpuPerReq: a.cpuUsPerReq !== null && b.cpuUsPerReq !== null ? a.cpuUsPerReq / b.cpuUsPerReq : null,
        p99: a.p99Ms / b.p99Ms,
      }),
    ),
  );
  return {
    id: scenario.id,
    letter: scenario.letter,
    title: scenario.title,
    connections: scenario.connections,
    overallRate: scenario.overallRate ?? null,
    durationS,
    targets,
    ratios,
    samples,
    notes,
  };
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

/** The targets, checked against whatever this run measured. */
export function checkTargets(
  scenarios: readonly ScenarioSummary[],
  stream: readonly TransferResult[] | null,
): TargetCheck[] {
  const find = (id: string, t: TargetName) => scenarios.find((s) => s.id === id)?.targets.find((x) => x.target === t);
  const checks: TargetCheck[] = [];
  const unmeasured = (goal: string, why: string) => checks.push({ goal, measured: '—', met: null, detail: why });

  const goalCpu = 'switchyard CPU per request ≤ 2.0× nginx (100-byte GET)';
  const syA = find('get-100', 'switchyard');
  const ngA = find('get-100', 'nginx');
  if (syA?.cpuUsPerReq != null && ngA?.cpuUsPerReq != null) {
    const r = syA.cpuUsPerReq / ngA.cpuUsPerReq;
    checks.push({
      goal: goalCpu,
      measured: `${fmt(r)}× (${fmt(syA.cpuUsPerReq, 1)} vs ${fmt(ngA.cpuUsPerReq, 1)} µs)`,
      met: r <= 2,
      detail: r <= 2 ? `${fmt(2 - r)}× to spare` : `over by ${fmt(r - 2)}× (${fmt((r / 2 - 1) * 100, 0)}%)`,
    });
  } else unmeasured(goalCpu, 'needs get-100 with switchyard and nginx');

  const goalRps = 'switchyard req/s ≥ 2.0× node-http-proxy (100-byte GET)';
  const hpA = find('get-100', 'http-proxy');
  if (syA && hpA) {
    const r = syA.rps / hpA.rps;
    checks.push({
      goal: goalRps,
      measured: `${fmt(r)}× (${fmt(syA.rps, 0)} vs ${fmt(hpA.rps, 0)} req/s)`,
      met: r >= 2,
      detail: r >= 2 ? `${fmt(r - 2)}× to spare` : `short by ${fmt(2 - r)}× (${fmt((1 - r / 2) * 100, 0)}%)`,
    });
  } else unmeasured(goalRps, 'needs get-100 with switchyard and http-proxy');

  const p99Check = (goal: string, id: string) => {
    const t = find(id, 'switchyard');
    if (t?.p99AddedMs == null) {
      unmeasured(goal, `needs ${id} with direct and switchyard`);
      return;
    }
    const added = t.p99AddedMs;
    checks.push({
      goal,
      measured: `${fmt(added, 3)} ms (p99 ${fmt(t.p99Ms, 3)} ms at ${fmt(t.rps, 0)} req/s)`,
      met: added <= 2.5,
      detail: added <= 2.5 ? `${fmt(2.5 - added, 3)} ms to spare` : `over by ${fmt(added - 2.5, 3)} ms`,
    });
  };
  p99Check('p99 added over direct at ~5k req/s, autocannon overallRate (bursty) ≤ 2.5 ms', 'rate-5k');
  p99Check('p99 added over direct at 5k req/s, evenly paced open loop ≤ 2.5 ms', 'paced-5k');

  const syE = find('conn-500', 'switchyard');
  const goalErr = '500 connections: zero errors and non-2xx (switchyard)';
  const goalRss = '500 connections: RSS ≤ 150 MB (switchyard)';
  if (syE) {
    const bad = syE.errors + syE.timeouts + syE.non2xx;
    checks.push({
      goal: goalErr,
      measured: `${syE.errors} errors, ${syE.timeouts} timeouts, ${syE.non2xx} non-2xx of ${syE.requests}`,
      met: bad === 0,
      detail: bad === 0 ? 'none' : `${bad} failed`,
    });
    if (syE.rssMaxMb !== null)
      checks.push({
        goal: goalRss,
        measured: `${fmt(syE.rssMaxMb, 1)} MB (highest peak of ${syE.rounds} rounds)`,
        met: syE.rssMaxMb <= 150,
        detail:
          syE.rssMaxMb <= 150
            ? `${fmt(150 - syE.rssMaxMb, 1)} MB to spare`
            : `over by ${fmt(syE.rssMaxMb - 150, 1)} MB`,
      });
    else unmeasured(goalRss, 'no /proc');
  } else {
    unmeasured(goalErr, 'needs conn-500 with switchyard');
    unmeasured(goalRss, 'needs conn-500 with switchyard');
  }

  const goalStream = '1 GiB streamed up and down: RSS growth ≤ 64 MB (switchyard)';
  if (stream?.length) {
    const worst = Math.max(...stream.map((t) => t.rssGrowthMb));
    const complete = stream.every((t) => t.complete);
    checks.push({
      goal: goalStream,
      measured: stream.map((t) => `${t.direction} +${fmt(t.rssGrowthMb, 1)} MB`).join(', '),
      met: worst <= 64 && complete,
      detail: !complete
        ? 'a transfer did not complete intact'
        : worst <= 64
          ? `${fmt(64 - worst, 1)} MB to spare`
          : `over by ${fmt(worst - 64, 1)} MB`,
    });
  } else unmeasured(goalStream, 'needs stream-1g');
  const goalFaults = 'fault injector armed on every request (a 0.0001% abort) ≤ 1.05× the CPU per request of none';
  const armed = find('get-100', 'faults-armed');
  if (armed?.cpuUsPerReq != null && syA?.cpuUsPerReq != null) {
    const r = armed.cpuUsPerReq / syA.cpuUsPerReq;
    checks.push({
      goal: goalFaults,
      measured: `${fmt(r)}× (${fmt(armed.cpuUsPerReq, 1)} vs ${fmt(syA.cpuUsPerReq, 1)} µs)`,
      met: r <= 1.05,
      // Off is no fault in the table at all: the forwarder's path is the one switchyard measured.
      detail: 'off (no fault set, 0%, or before its schedule) puts nothing in the table: the plain switchyard figure',
    });
  } else unmeasured(goalFaults, 'needs get-100 with switchyard and faults-armed');

  return checks;
}
