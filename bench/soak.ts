/**
 * @module bench/soak
 * Long load with changes under it: open-loop GETs at a steady rate through switchyard while it runs a
 * full canary, a deployment stopped and rolled back, a redeployment, and hand-set weight flips every
 * 200 ms, with both versions healthy. Every request must succeed; the proxy's RSS is sampled to show
 * whether anything grows with traffic or with deployments.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort } from './http-util.js';
import { OpenLoop, type OpenLoopResponse } from './open-loop.js';
import { processTree, rssBytes } from './proc-stats.js';
import { codeDeploy, getDeployment, stopDeployment, waitForWeights } from './rollback-codedeploy.js';
import { APPLICATION, GROUP, LOAD_PATH, SERVICE, VERSION_HEADER } from './rollback-settings.js';
import { appSpecFor, startProxy } from './rollback-switchyard.js';
import { UpstreamPair } from './rollback-upstreams.js';
import type { TargetCheck } from './summary.js';
import type { Placement } from './targets.js';

/** How the soak is shaped. */
export interface SoakOptions {
  readonly rate: number;
  readonly requests: number;
  readonly connections: number;
}

/** One change made under load, and how long it took to complete. */
export interface SoakPhase {
  readonly name: string;
  /** When it began, in seconds from the start of the load. */
  readonly atS: number;
  readonly ms: number;
  readonly detail: string;
}

/** What the soak measured. */
export interface SoakReport {
  readonly rate: number;
  readonly sent: number;
  /** Answers other than 200, and requests with no answer. */
  readonly failed: number;
  readonly byStatus: Record<string, number>;
  readonly byVersion: Record<string, number>;
  /** Latencies of the answers after the warm-up. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly phases: readonly SoakPhase[];
  readonly weightFlips: number;
  /** RSS after the warm-up (the first 10% of the run), at the end, and the most seen. */
  readonly rssAfterWarmupMb: number;
  readonly rssEndMb: number;
  readonly rssPeakMb: number;
  readonly durationS: number;
}

/** A 10% canary for 5 minutes at time scale 60 lasts 5 s; no wait before the original is let go. */
const TIME_SCALE = 60;
const FLIP_MS = 200;
const SPLITS: readonly Record<string, number>[] = [
  { '1': 50, '2': 50 },
  { '1': 0, '2': 100 },
  { '1': 90, '2': 10 },
  { '1': 100, '2': 0 },
];

function configText(port: number, control: number, urls: readonly [string, string]): string {
  return `listeners: { production: { host: 127.0.0.1, port: ${port} } }
control: { host: 127.0.0.1, port: ${control} }
logLevel: warn
versionHeader: ${VERSION_HEADER}
timeScale: ${TIME_SCALE}
services:
  - name: ${SERVICE}
    versions: { "1": { targets: ["${urls[0]}"] }, "2": { targets: ["${urls[1]}"] } }
    live: "1"
applications:
  ${APPLICATION}:
    computePlatform: ECS
    deploymentGroups:
      ${GROUP}:
        ecsServices: [{ serviceName: ${SERVICE} }]
        deploymentConfigName: CodeDeployDefault.ECSCanary10Percent5Minutes
        autoRollbackConfiguration: { enabled: true, events: [DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_REQUEST] }
        blueGreenDeploymentConfiguration:
          terminateBlueInstancesOnDeploymentSuccess: { action: KEEP_ALIVE }
`;
}

/** Tallies every answer without keeping per-request objects. */
class Tally {
  readonly latencies: Float64Array;
  readonly byStatus = new Map<number, number>();
  readonly byVersion = new Map<string, number>();
  /** The slowest answer to a request sent in each second of the run. */
  readonly worstBySecond: Float64Array;
  count = 0;

  constructor(
    capacity: number,
    seconds: number,
    readonly startedAt: number,
  ) {
    this.latencies = new Float64Array(capacity);
    this.worstBySecond = new Float64Array(seconds + 60);
  }

  readonly note = (r: OpenLoopResponse): void => {
    const ms = r.doneAt - r.sentAt;
    this.latencies[this.count++] = ms;
    const second = Math.min(this.worstBySecond.length - 1, Math.floor((r.sentAt - this.startedAt) / 1000));
    if (ms > this.worstBySecond[second]!) this.worstBySecond[second] = ms;
    this.byStatus.set(r.status, (this.byStatus.get(r.status) ?? 0) + 1);
    const v = r.header ?? 'none';
    this.byVersion.set(v, (this.byVersion.get(v) ?? 0) + 1);
  };

  /** Answers in before this index came during the warm-up and are left out of the latency figures. */
  warmupCount = 0;

  quantile(q: number): number {
    const sorted = this.latencies.slice(this.warmupCount, this.count).sort();
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  }
}

type Control = Parameters<typeof getDeployment>[0];

async function setWeights(sy: Control, weights: Record<string, number>): Promise<void> {
  const res = await fetch(`${sy.control}/v1/services/${SERVICE}/weight`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ weights }),
    signal: AbortSignal.timeout(2_000),
  });
  if (!res.ok) throw new Error(`PUT weight ${JSON.stringify(weights)}: ${res.status} ${await res.text()}`);
}

async function deploy(sy: Control, version: string): Promise<string> {
  const body = {
    applicationName: APPLICATION,
    deploymentGroupName: GROUP,
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpecFor(version) } },
  };
  return (await codeDeploy<{ deploymentId: string }>(sy, 'CreateDeployment', body)).deploymentId;
}

async function until(sy: Control, id: string, statuses: readonly string[], timeoutMs = 60_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const info = await getDeployment(sy, id);
    if (statuses.includes(info.status)) return info.status;
    if (['Failed', 'Stopped', 'Succeeded'].includes(info.status))
      throw new Error(`deployment ${id} ended ${info.status}: ${info.errorInformation?.message ?? ''}`);
    if (performance.now() > deadline) throw new Error(`deployment ${id} still ${info.status}`);
    await sleep(50);
  }
}

/** Flips hand-set weights every 200 ms for `ms`, ending on all-`live`; returns the number of flips. */
async function flipWeights(sy: Control, ms: number, live: '1' | '2'): Promise<number> {
  const end = performance.now() + ms;
  let flips = 0;
  while (performance.now() < end) {
    await setWeights(sy, SPLITS[flips % SPLITS.length]!);
    flips++;
    await sleep(FLIP_MS);
  }
  await setWeights(sy, live === '1' ? { '1': 100, '2': 0 } : { '1': 0, '2': 100 });
  return flips + 1;
}

/** The changes made under load, in order; each phase's time is how long it took to complete. */
async function drive(sy: Control, phases: SoakPhase[], startedAt: number, plannedMs: number): Promise<number> {
  const timed = async (name: string, detail: string, step: () => Promise<unknown>) => {
    const t0 = performance.now();
    await step();
    phases.push({ name, atS: (t0 - startedAt) / 1000, ms: performance.now() - t0, detail });
  };
  let flips = 0;
  await timed('weight flips', `hand-set splits every ${FLIP_MS} ms for 5 s`, async () => {
    flips += await flipWeights(sy, 5_000, '1');
  });
  await timed('canary', 'ECSCanary10Percent5Minutes at time scale 60 to version 2, to success', async () => {
    await until(sy, await deploy(sy, '2'), ['Succeeded']);
  });
  await timed('rollback', 'a canary back to version 1, stopped at 10% and rolled back', async () => {
    const id = await deploy(sy, '1');
    await waitForWeights(sy, (w) => w['1'] === 10 && w['2'] === 90, 'the canary', 30_000);
    await stopDeployment(sy, id);
    await until(sy, id, ['Stopped']);
    await waitForWeights(sy, (w) => w['2'] === 100, 'all on version 2 after the rollback');
  });
  await timed('redeploy', 'the same canary to version 1 again, to success', async () => {
    await until(sy, await deploy(sy, '1'), ['Succeeded']);
  });
  const rest = plannedMs - (performance.now() - startedAt) - 500;
  if (rest > 0)
    await timed('weight flips', `hand-set splits every ${FLIP_MS} ms until the load ends`, async () => {
      flips += await flipWeights(sy, rest, '1');
    });
  return flips;
}

/** Runs the soak against a fresh switchyard; throws if it could not be run (not if requests failed). */
export async function runSoak(
  place: Placement,
  options: SoakOptions,
  progress: (s: string) => void,
): Promise<SoakReport> {
  const up = await UpstreamPair.start();
  const file = join(place.workDir, 'soak.yml');
  const port = await freePort();
  const control = await freePort();
  writeFileSync(file, configText(port, control, up.urls));
  const sy = await startProxy(place, file, port, control);
  const pids = processTree(sy.child.pid);
  const loop = new OpenLoop(sy.url, options.connections, {
    path: LOAD_PATH,
    method: 'GET',
    readHeader: VERSION_HEADER,
  });
  const phases: SoakPhase[] = [];
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pids))), 250);
  try {
    const plannedMs = (options.requests / options.rate) * 1000;
    progress(`soak: ${options.requests} requests at ${options.rate}/s (${(plannedMs / 1000).toFixed(0)} s)`);
    const tally = new Tally(options.requests, Math.ceil(options.requests / options.rate), performance.now());
    const started = tally.startedAt;
    const run = loop.start({ rate: options.rate, limit: options.requests, onResponse: tally.note });
    await sleep(plannedMs * 0.1);
    const afterWarmup = rssBytes(pids);
    tally.warmupCount = tally.count;
    const flips = await drive(sy, phases, started, plannedMs);
    for (const p of phases) progress(`  ${p.name} at ${p.atS.toFixed(1)} s: ${p.ms.toFixed(0)} ms`);
    const sent = await run.done;
    const seconds = Array.from(tally.worstBySecond.subarray(0, Math.ceil(plannedMs / 1000)), (n) => n.toFixed(0));
    progress(`  slowest answer (ms) to the requests of each second: ${seconds.join(' ')}`);
    const end = rssBytes(pids);
    peak = Math.max(peak, end);
    const byStatus = Object.fromEntries([...tally.byStatus].map(([s, n]) => [String(s), n]));
    return {
      rate: options.rate,
      sent,
      failed: sent - (tally.byStatus.get(200) ?? 0),
      byStatus,
      byVersion: Object.fromEntries(tally.byVersion),
      p50Ms: tally.quantile(0.5),
      p99Ms: tally.quantile(0.99),
      maxMs: tally.quantile(1),
      phases,
      weightFlips: flips,
      rssAfterWarmupMb: afterWarmup / 2 ** 20,
      rssEndMb: end / 2 ** 20,
      rssPeakMb: peak / 2 ** 20,
      durationS: (performance.now() - started) / 1000,
    };
  } finally {
    clearInterval(sampler);
    await loop.close();
    await sy.child.stop(15_000);
    await up.close();
  }
}

/** The soak's section of the markdown report. */
export function renderSoak(s: SoakReport): string {
  const growth = s.rssEndMb - s.rssAfterWarmupMb;
  const lines = [
    `### Soak: ${s.sent.toLocaleString('en')} requests at ${s.rate.toLocaleString('en')} req/s with deployments and weight flips under them`,
    '',
    `- Failed requests: **${s.failed}** (statuses: ${Object.entries(s.byStatus)
      .map(([k, n]) => `${k === '0' ? 'no answer' : k} ${n}`)
      .join(', ')}); served by version: ${Object.entries(s.byVersion)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    `- Latency after warm-up: p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms, max ${s.maxMs.toFixed(1)} ms`,
    `- RSS: ${s.rssAfterWarmupMb.toFixed(1)} MB after warm-up, ${s.rssEndMb.toFixed(1)} MB at the end (growth **${growth.toFixed(1)} MB**), peak ${s.rssPeakMb.toFixed(1)} MB`,
    `- Changes under load (${s.weightFlips} weight changes in all), in order:`,
    ...s.phases.map((p) => `  - at ${p.atS.toFixed(1)} s, ${p.name}: ${p.detail} — ${(p.ms / 1000).toFixed(1)} s`),
    '',
  ];
  return lines.join('\n');
}

/** The issue's goals for the soak: no failed request, and RSS growth after warm-up under 20 MB. */
export function soakChecks(s: SoakReport | null): TargetCheck[] {
  const goalFailed = 'soak: 0 failed requests through a canary, a rollback, a redeploy and weight flips';
  const goalRss = 'soak: RSS growth after warm-up < 20 MB';
  if (!s) return [goalFailed, goalRss].map((goal) => ({ goal, measured: '—', met: null, detail: 'needs soak' }));
  const growth = s.rssEndMb - s.rssAfterWarmupMb;
  return [
    {
      goal: goalFailed,
      measured: `${s.failed} of ${s.sent.toLocaleString('en')}`,
      met: s.failed === 0 && s.sent >= 100_000,
      detail: s.sent < 100_000 ? 'fewer than 100,000 requests: a shortened run' : `${s.phases.length} changes`,
    },
    {
      goal: goalRss,
      measured: `${growth.toFixed(1)} MB`,
      met: growth < 20,
      detail: `${s.rssAfterWarmupMb.toFixed(0)} → ${s.rssEndMb.toFixed(0)} MB, peak ${s.rssPeakMb.toFixed(0)} MB`,
    },
  ];
}
