/**
 * @module bench/workers
 * Scenario (l), `serve --workers`: what the cluster machinery costs and what it buys. The same 100-byte
 * GET load (autocannon, 50 connections) against switchyard as one process and with 2 workers, each
 * placed on the proxy core alone (the same CPU budget: the machinery's own cost per request) and on the
 * whole machine (what a second core gives); then, with 2 workers under load, how long a route change
 * takes to reach both (decision to the last acknowledgement, from switchyard's own histogram, and the
 * API call around it), and how fast a failing canary is rolled back (the rollback scenario's run, 5xx
 * with an error-rate alarm).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { request } from 'undici';

import { freePort, get, waitFor200 } from './http-util.js';
import { measure, type Rig, type RunSample } from './measure.js';
import { processTree } from './proc-stats.js';
import { startChild } from './procs.js';
import { runSeries, withRecordedLoad } from './rollback.js';
import type { RollbackSample } from './rollback-run.js';
import { median, ms, type RollbackRow, rowOf } from './rollback-stats.js';
import { startProxy, writeConfig } from './rollback-switchyard.js';
import { UpstreamPair } from './rollback-upstreams.js';
import { type LoadScenario, SCENARIOS } from './scenarios.js';
import type { TargetCheck } from './summary.js';
import { exitedMessage, type Placement, SWITCHYARD_MAIN, type Target } from './targets.js';

/** The cluster machinery's own cost per request may be at most this much over one process's. */
const AIM_OVERHEAD = 1.1;
/** Decision to the last worker's acknowledgement, p99. */
const AIM_PROPAGATION_MS = 5;
const ROLLBACK_AIM_MS = 500;
/** Weight changes timed under load. */
const CHANGES = 200;
/** The load (req/s) the weight changes are timed under. */
export const PROPAGATION_RATE = 5_000;

type Placed = 'proxy-core' | 'machine';

/** One process; the data plane in one worker under a primary; two workers. */
type Workers = 1 | 'cluster-of-one' | 2;

const LABELS: Record<Workers, string> = { 1: 'one process', 'cluster-of-one': 'one worker', 2: '2 workers' };

const CLUSTER_OF_ONE = fileURLToPath(new URL('./cluster-of-one.js', import.meta.url));

/** One placement and worker count, over its rounds (medians). */
export interface WorkersRow {
  readonly workers: Workers;
  readonly placement: Placed;
  readonly rps: number;
  readonly p99Ms: number;
  readonly cpuUsPerReq: number | null;
  readonly rssMb: number | null;
  /** Requests that got no answer or a non-2xx, summed over the rounds. */
  readonly failed: number;
}

/** What the workers scenario measured. */
export interface WorkersReport {
  readonly connections: number;
  readonly durationS: number;
  readonly rounds: number;
  readonly proxyCore: number | null;
  readonly rows: readonly WorkersRow[];
  readonly propagation: Propagation | null;
  readonly rollback: RollbackRow | null;
  /** The smaller worker's share of the requests in each short trial, per scheduling policy. */
  readonly shares: { readonly rr: readonly number[]; readonly none: readonly number[] } | null;
  readonly notes: readonly string[];
}

const headline = SCENARIOS.find((s): s is LoadScenario => s.kind === 'load' && s.id === 'get-100')!;

/** switchyard from its CLI on a 90/10 config like the other targets', with `workers` data plane processes. */
async function startWorkersTarget(
  place: Placement,
  urls: readonly string[],
  workers: Workers,
  policy?: 'rr' | 'none',
): Promise<Target & { readonly control: string }> {
  const port = await freePort();
  const control = await freePort();
  const file = join(place.workDir, `workers-${workers}-${place.proxyCore ?? 'machine'}.yml`);
  writeFileSync(
    file,
    `listeners: { production: { host: 127.0.0.1, port: ${port} } }
control: { host: 127.0.0.1, port: ${control} }
logLevel: warn
workers: ${workers === 2 ? 2 : 1}
services:
  - name: bench
    versions: { "1": { targets: ["${urls[0]}"] }, "2": { targets: ["${urls[1]}"] } }
    live: "1"
    weights: { "1": 90, "2": 10 }
`,
  );
  const args = workers === 'cluster-of-one' ? [CLUSTER_OF_ONE, file] : [SWITCHYARD_MAIN, 'serve', '--config', file];
  const env = policy ? { ...process.env, NODE_CLUSTER_SCHED_POLICY: policy } : process.env;
  const child = startChild(`switchyard (${LABELS[workers]})`, process.execPath, args, { core: place.proxyCore, env });
  const url = `http://127.0.0.1:${port}`;
  await waitFor200(`http://127.0.0.1:${control}/healthz`, 20_000, exitedMessage(child));
  await waitFor200(`${url}/bytes/1`, 20_000, exitedMessage(child));
  // The primary and its workers: CPU and memory are all of theirs together.
  return {
    name: 'switchyard',
    url,
    control: `http://127.0.0.1:${control}`,
    pids: processTree(child.pid),
    stop: () => child.stop(15_000),
  };
}

function rowOfRuns(workers: Workers, placement: Placed, runs: readonly RunSample[]): WorkersRow {
  const m = (f: (r: RunSample) => number | null) => median(runs.map(f).filter((x): x is number => x !== null));
  return {
    workers,
    placement,
    rps: m((r) => r.rps) ?? 0,
    p99Ms: m((r) => r.p99Ms) ?? 0,
    cpuUsPerReq: m((r) => r.cpuUsPerReq),
    rssMb: m((r) => r.rssPeakMb),
    failed: runs.reduce((a, r) => a + r.errors + r.non2xx, 0),
  };
}

/** One process and 2 workers on each placement, rounds interleaved. */
async function measureCost(rig: Rig, rounds: number, durationS: number, warmupS: number): Promise<WorkersRow[]> {
  const setups: { workers: Workers; placement: Placed; place: Placement }[] = [];
  for (const placement of ['proxy-core', 'machine'] as const)
    for (const workers of placement === 'machine' ? ([1, 2] as const) : ([1, 'cluster-of-one', 2] as const))
      setups.push({
        workers,
        placement,
        place: placement === 'machine' ? { ...rig.place, proxyCore: undefined } : rig.place,
      });
  const targets: Target[] = [];
  try {
    for (const s of setups) targets.push(await startWorkersTarget(s.place, rig.up.urls, s.workers));
    for (const t of targets) await measure(t, headline, warmupS, rig, 0);
    const runs: RunSample[][] = setups.map(() => []);
    for (let round = 1; round <= rounds; round++)
      for (const [i, t] of targets.entries()) runs[i]!.push(await measure(t, headline, durationS, rig, round));
    return setups.map((s, i) => rowOfRuns(s.workers, s.placement, runs[i]!));
  } finally {
    for (const t of targets) await t.stop();
  }
}

/** Short trials per scheduling policy. */
const SHARE_TRIALS = 5;

/**
 * How 50 keep-alive connections spread over 2 workers under each of Node's scheduling policies: per
 * trial a fresh switchyard, 2 s of load, and the smaller worker's share of the requests.
 */
async function measureShares(rig: Rig): Promise<WorkersReport['shares']> {
  const place = { ...rig.place, proxyCore: undefined };
  const out: { rr: number[]; none: number[] } = { rr: [], none: [] };
  for (let trial = 0; trial < SHARE_TRIALS; trial++)
    for (const policy of ['rr', 'none'] as const) {
      const target = await startWorkersTarget(place, rig.up.urls, 2, policy);
      try {
        const job = { url: target.url + headline.path, connections: 50, durationS: 2, method: 'GET' as const };
        await rig.gen.run(job, () => undefined);
        // Workers send their counts every 100 ms.
        await sleep(300);
        const text = (await get(`${target.control}/metrics`)).body;
        const a = series(text, 'switchyard_worker_requests_total{worker="1"}');
        const b = series(text, 'switchyard_worker_requests_total{worker="2"}');
        out[policy].push(a + b > 0 ? Math.min(a, b) / (a + b) : 0);
      } finally {
        await target.stop();
      }
    }
  return out;
}

/** The value of one /metrics series (0 when absent). */
function series(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

/** Route changes timed under load: their share acknowledged within 5 ms, the mean, and the API call's p50/p99. */
export interface Propagation {
  readonly changes: number;
  /** From the histogram named: share of changes acknowledged by every data plane within 5 ms, and the mean. */
  readonly within5msShare: number;
  readonly meanMs: number;
  /** The PUT /weight call, which answers once every data plane acknowledged. */
  readonly apiP50Ms: number;
  readonly apiP99Ms: number;
}

/**
 * Warms `url` for 3 s, then flips the bench service's weight CHANGES times through `control`'s API while
 * PROPAGATION_RATE GET/s (50 connections) go to `url`; `histogram` is the metric that times each change
 * from decision to the last acknowledgement.
 */
export async function timeWeightChanges(
  rig: Rig,
  url: string,
  control: string,
  histogram: string,
): Promise<Propagation> {
  const times: number[] = [];
  let flipping: Promise<void> | undefined;
  // Below saturation: on a saturated core every message waits for whole scheduler slices.
  const job = { url, connections: 50, durationS: 8, method: 'GET' as const, overallRate: PROPAGATION_RATE };
  // Warm first: a fresh data plane's first seconds under load are spent compiling, not serving.
  await rig.gen.run({ ...job, durationS: 3 }, () => undefined);
  await rig.gen.run(job, () => {
    flipping = (async () => {
      await sleep(500);
      for (let i = 0; i < CHANGES; i++) {
        const started = performance.now();
        const res = await request(`${control}/v1/services/bench/weight`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ version: '2', percent: i % 2 === 0 ? 20 : 10 }),
        });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`PUT weight answered ${res.statusCode}`);
        times.push(performance.now() - started);
        await sleep(10);
      }
    })();
  });
  await flipping;
  const text = (await get(`${control}/metrics`)).body;
  const count = series(text, `${histogram}_count`);
  const sorted = [...times].sort((a, b) => a - b);
  return {
    changes: times.length,
    within5msShare: count ? series(text, `${histogram}_bucket{le="0.005"}`) / count : 0,
    meanMs: count ? (1000 * series(text, `${histogram}_sum`)) / count : 0,
    apiP50Ms: sorted[Math.floor(sorted.length * 0.5)] ?? 0,
    apiP99Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0,
  };
}

/** CHANGES weight flips on 2 workers (whole machine) while the headline load runs. */
async function measurePropagation(rig: Rig): Promise<Propagation> {
  const place = { ...rig.place, proxyCore: undefined };
  const target = await startWorkersTarget(place, rig.up.urls, 2);
  try {
    return await timeWeightChanges(
      rig,
      target.url + headline.path,
      target.control,
      'switchyard_route_propagation_seconds',
    );
  } finally {
    await target.stop();
  }
}

/** The rollback scenario's alarm run (every answer 500, error-rate alarm, retry off) with 2 workers. */
async function measureRollback(place: Placement, runs: number, progress: (t: string) => void): Promise<RollbackRow> {
  const up = await UpstreamPair.start();
  const samples: RollbackSample[] = [];
  try {
    const file = join(place.workDir, 'rollback-workers.yml');
    const { port, control } = await writeConfig(file, up, false);
    const sy = await startProxy({ ...place, proxyCore: undefined }, file, port, control, ['--workers', '2']);
    await withRecordedLoad(sy, up, false, (load) =>
      runSeries({ sy, up, load, failure: '5xx', alarm: true, retry: false }, runs, samples, progress),
    );
  } finally {
    await up.close();
  }
  return rowOf('5xx', true, false, samples);
}

/** Options for {@link runWorkers}. */
export interface WorkersOptions {
  readonly rounds: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly rollbackRuns: number;
}

/** Runs the whole workers scenario. */
export async function runWorkers(
  rig: Rig,
  options: WorkersOptions,
  progress: (text: string) => void,
): Promise<WorkersReport> {
  progress('\n== workers: one process and --workers 2, on the proxy core and on the whole machine');
  const notes: string[] = [];
  const rows = await measureCost(rig, options.rounds, options.durationS, options.warmupS);
  for (const r of rows)
    progress(
      `  ${LABELS[r.workers].padEnd(14)} ${r.placement.padEnd(10)} ${Math.round(r.rps)} req/s, ${r.cpuUsPerReq?.toFixed(1) ?? '—'} µs/req, p99 ${r.p99Ms.toFixed(2)} ms, RSS ${r.rssMb?.toFixed(0) ?? '—'} MB`,
    );
  let propagation: WorkersReport['propagation'] = null;
  try {
    const measured = await measurePropagation(rig);
    propagation = measured;
    if (measured)
      progress(
        `  propagation: ${(100 * measured.within5msShare).toFixed(1)}% within 5 ms, mean ${measured.meanMs.toFixed(2)} ms`,
      );
  } catch (err) {
    notes.push(`route-change propagation could not be measured: ${(err as Error).message.split('\n')[0]}`);
  }
  let shares: WorkersReport['shares'] = null;
  try {
    shares = await measureShares(rig);
    progress(`  smaller worker's share: rr ${shares!.rr.map(pct).join(' ')}; none ${shares!.none.map(pct).join(' ')}`);
  } catch (err) {
    notes.push(`the connection distribution could not be measured: ${(err as Error).message.split('\n')[0]}`);
  }
  let rollback: RollbackRow | null = null;
  try {
    rollback = await measureRollback(rig.place, options.rollbackRuns, progress);
  } catch (err) {
    notes.push(`the rollback with 2 workers failed: ${(err as Error).message.split('\n')[0]}`);
  }
  return {
    connections: headline.connections,
    durationS: options.durationS,
    rounds: options.rounds,
    proxyCore: rig.place.proxyCore ?? null,
    rows,
    propagation,
    rollback,
    shares,
    notes,
  };
}

function find(r: WorkersReport, workers: Workers, placement: Placed): WorkersRow | undefined {
  return r.rows.find((x) => x.workers === workers && x.placement === placement);
}

const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a != null && b != null && b > 0 ? a / b : null;
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const times = (x: number | null) => (x === null ? '—' : `${x.toFixed(2)}×`);

/** The workers goals, checked against what the scenario measured. */
export function workersChecks(r: WorkersReport | null): TargetCheck[] {
  const goalOverhead = `workers: CPU per request with the data plane in one worker under a primary ≤ ${AIM_OVERHEAD}× one process's (the cluster's own cost), same core`;
  const goalPropagation = `workers: route change to the last worker's acknowledgement, p99 < ${AIM_PROPAGATION_MS} ms`;
  const goalRollback = `workers: rollback reaction with 2 workers ≤ ${ROLLBACK_AIM_MS} ms max`;
  if (!r)
    return [goalOverhead, goalPropagation, goalRollback].map((goal) => ({
      goal,
      measured: '—',
      met: null,
      detail: 'needs workers',
    }));
  const cpu = (w: Workers) => find(r, w, 'proxy-core')?.cpuUsPerReq;
  const overhead = ratio(cpu('cluster-of-one'), cpu(1));
  const checks: TargetCheck[] = [
    {
      goal: goalOverhead,
      measured: times(overhead),
      met: overhead === null ? null : overhead <= AIM_OVERHEAD,
      detail:
        overhead === null
          ? 'no CPU figures'
          : `${cpu('cluster-of-one')!.toFixed(1)} vs ${cpu(1)!.toFixed(1)} µs; 2 workers on that core ${times(ratio(cpu(2), cpu(1)))}`,
    },
  ];
  const p = r.propagation;
  checks.push(
    p
      ? {
          goal: goalPropagation,
          measured: `${(100 * p.within5msShare).toFixed(1)}% within 5 ms, mean ${p.meanMs.toFixed(2)} ms (API call p99 ${p.apiP99Ms.toFixed(1)} ms)`,
          met: p.within5msShare >= 0.99,
          detail: `${p.changes} changes under load`,
        }
      : { goal: goalPropagation, measured: '—', met: null, detail: 'not measured' },
  );
  const rb = r.rollback;
  checks.push(
    rb && rb.runs > 0
      ? {
          goal: goalRollback,
          measured: `p50 ${ms(rb.reactionP50Ms)}, max ${ms(rb.reactionMaxMs)}`,
          met: rb.stopped === rb.runs && rb.reactionMaxMs !== null && rb.reactionMaxMs <= ROLLBACK_AIM_MS,
          detail: `${rb.stopped} of ${rb.runs} runs stopped`,
        }
      : { goal: goalRollback, measured: '—', met: null, detail: 'not measured' },
  );
  return checks;
}

/** The report's section for scenario (l). */
export function workersSection(r: WorkersReport): string[] {
  const row = (x: WorkersRow) =>
    `| ${LABELS[x.workers]} | ${x.placement === 'machine' ? 'whole machine' : `core ${r.proxyCore ?? '—'}`} | ${Math.round(x.rps).toLocaleString('en-US')} | ${x.p99Ms.toFixed(2)} | ${x.cpuUsPerReq?.toFixed(1) ?? '—'} | ${x.rssMb?.toFixed(0) ?? '—'} | ${x.failed} |`;
  const lines = [
    '### (l) Workers: one process, one worker under a primary, and `--workers 2`',
    '',
    `100-byte GET, ${r.connections} connections, ${r.durationS} s per run, ${r.rounds} interleaved rounds, medians. CPU µs/req and RSS are the primary's and its workers' together. "core ${r.proxyCore ?? '—'}": every switchyard process pinned to the proxy core (the same CPU budget); "one worker" is the data plane in one worker under a primary (\`bench/cluster-of-one.ts\`), which prices the cluster's own machinery; "whole machine": unpinned, sharing both cores with the load generator and the upstreams.`,
    '',
    '| switchyard | placement | req/s | p99 ms | CPU µs/req | RSS MB | failed |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map(row),
    '',
    `CPU per request on one core, ÷ one process: one worker under a primary ${times(ratio(find(r, 'cluster-of-one', 'proxy-core')?.cpuUsPerReq, find(r, 1, 'proxy-core')?.cpuUsPerReq))} (the cluster's own cost), 2 workers ${times(ratio(find(r, 2, 'proxy-core')?.cpuUsPerReq, find(r, 1, 'proxy-core')?.cpuUsPerReq))}; ${times(ratio(find(r, 2, 'machine')?.cpuUsPerReq, find(r, 1, 'machine')?.cpuUsPerReq))} on the whole machine; req/s on the whole machine ${times(ratio(find(r, 2, 'machine')?.rps, find(r, 1, 'machine')?.rps))}.`,
  ];
  const p = r.propagation;
  if (p)
    lines.push(
      '',
      `Route changes with 2 workers on the whole machine under ${PROPAGATION_RATE.toLocaleString('en-US')} GET/s (autocannon, 50 connections; ${p.changes} weight changes through \`PUT /v1/services/bench/weight\`): ${(100 * p.within5msShare).toFixed(1)}% acknowledged by both workers within 5 ms of the decision, mean ${p.meanMs.toFixed(2)} ms (\`switchyard_route_propagation_seconds\`); the API call, which answers after both acknowledged, p50 ${p.apiP50Ms.toFixed(1)} ms, p99 ${p.apiP99Ms.toFixed(1)} ms.`,
    );
  const sh = r.shares;
  if (sh)
    lines.push(
      '',
      `Connections over 2 workers (50 keep-alive connections, ${sh.rr.length} short trials per policy, a fresh switchyard each): the smaller worker's share of the requests with round robin through the primary (Node's default, switchyard's choice) ${sh.rr.map(pct).join(', ')}; with workers accepting for themselves (\`NODE_CLUSTER_SCHED_POLICY=none\`) ${sh.none.map(pct).join(', ')}.`,
    );
  const rb = r.rollback;
  if (rb)
    lines.push(
      '',
      `Rollback with 2 workers (the rollback scenario's run: every answer 500, error-rate alarm, retry off, ${rb.runs} runs): reaction p50 ${ms(rb.reactionP50Ms)}, max ${ms(rb.reactionMaxMs)}; failed client responses median ${rb.failedMedian ?? '—'}, max ${rb.failedMax ?? '—'}.`,
    );
  for (const n of r.notes) lines.push('', `Note: ${n}`);
  return lines;
}
