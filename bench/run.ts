/**
 * @module bench/run
 * `npm run bench`: switchyard against direct, node-http-proxy and nginx on loopback, each splitting 90/10
 * between the same two upstreams, in interleaved rounds with the proxy under test pinned to its own core,
 * and (rollback.ts) how fast switchyard's alarms roll back a failing canary and what clients see meanwhile,
 * (soak.ts) long load through deployments and weight flips, and (fuzz.ts) the fuzz tests at 10,000 cases
 * per target, and (functions.ts) a trivial function version behind the HTTP front next to a plain HTTP
 * version. With BENCH_BASELINE (baseline.ts) another revision runs beside this one, for before/after.
 * Prints a markdown report and writes bench/results/latest.{json,md}. See scenarios.ts for the BENCH_*
 * variables that shorten or narrow a run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Baseline, buildBaseline } from './baseline.js';
import { newestProfile, type SelfTime, topSelfTime } from './cpu-profile.js';
import { fleetChecks, type FleetReport, runFleet } from './fleet.js';
import { functionsChecks, type FunctionsReport, runFunctions } from './functions.js';
import { fuzzChecks, type FuzzReport, runFuzz } from './fuzz.js';
import { labChecks, type LabReport, runLabBench } from './lab.js';
import { LoadGenerator, measure, type Rig, type RunSample } from './measure.js';
import { nginxVersion } from './nginx.js';
import { HAS_PROC, machineBusy, machineInfo } from './proc-stats.js';
import { hasCommand, installCleanup, pinSelf, stopAll } from './procs.js';
import { renderMarkdown, writeReport } from './report.js';
import { rollbackChecks, type RollbackReport, runRollback } from './rollback.js';
import { type BenchOptions, type LoadScenario, readOptions, type TargetName, USAGE } from './scenarios.js';
import { runSoak, soakChecks, type SoakReport } from './soak.js';
import { streamThrough, type TransferResult } from './stream.js';
import { type BenchReport, checkTargets, type ScenarioSummary, summariseScenario } from './summary.js';
import {
  directTarget,
  type Placement,
  startHttpProxy,
  startNginx,
  startNodeFloor,
  startSwitchyard,
  startUpstreams,
  type Target,
  type Upstreams,
} from './targets.js';
import { runWorkers, workersChecks, type WorkersReport } from './workers.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = join(PACKAGE_ROOT, 'bench', 'results');

const progress = (text: string) => process.stderr.write(`${text}\n`);

function describe(s: RunSample): string {
  const cpu = s.cpuUsPerReq === null ? '' : `  ${s.cpuUsPerReq.toFixed(1)} µs/req  ${s.cpuPct?.toFixed(0)}% cpu`;
  const bad = s.errors + s.timeouts + s.non2xx;
  return `${s.target.padEnd(10)} ${Math.round(s.rps).toString().padStart(7)} req/s  p50 ${s.p50Ms.toFixed(2)}  p99 ${s.p99Ms.toFixed(2)} ms${cpu}  rss ${s.rssPeakMb?.toFixed(0) ?? '—'} MB${bad ? `  ${bad} failed` : ''}`;
}

/** The commit the proxy was built from, marked when the working tree had changes. */
function sourceVersion(): string {
  const git = (args: string[]) => execFileSync('git', args, { cwd: PACKAGE_ROOT, encoding: 'utf8' }).trim();
  try {
    const dirty = git(['status', '--porcelain', '--', 'src']) !== '';
    return `${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' with uncommitted changes in src/' : ''}`;
  } catch {
    return 'unknown';
  }
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** The other revision's build when BENCH_BASELINE asked for one. */
let baseline: Baseline | undefined;

async function startTarget(name: TargetName, place: Placement, up: Upstreams): Promise<Target> {
  switch (name) {
    case 'direct':
      return directTarget(up);
    case 'switchyard':
      return startSwitchyard(place, up);
    case 'faults-armed':
      return startSwitchyard(place, up, undefined, undefined, true);
    case 'baseline':
      if (!baseline) throw new Error('no baseline was built');
      return startSwitchyard(place, up, undefined, baseline.main);
    case 'http-proxy':
      return startHttpProxy(place, up);
    case 'node-floor':
      return startNodeFloor(place, up);
    case 'nginx':
      return startNginx(place, up);
  }
}

/** A run is contended when other programs took this much of the proxy core (percent of one core). */
const FOREIGN_LIMIT_PCT = 10;
/**
 * Contended runs are repeated once each, up to this many per bench, so that a busy machine flags its
 * figures instead of stretching the bench without bound.
 */
let retriesLeft = 12;
const contended = (s: RunSample) => (s.foreignPct ?? 0) > FOREIGN_LIMIT_PCT;

/**
 * Waits up to `maxMs` for the machine to be nearly idle (other programs may share it), so that a run
 * does not start in the middle of someone's compile. False if it never was.
 */
async function waitForQuiet(maxMs = 15_000): Promise<boolean> {
  if (!HAS_PROC) return true;
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) if ((await machineBusy(500)) < 0.1) return true;
  return false;
}

/** Fresh proxies per scenario, so memory one scenario leaves behind does not count in the next. */
async function startTargets(
  names: readonly TargetName[],
  place: Placement,
  up: Upstreams,
  notes: string[],
): Promise<Target[]> {
  const out: Target[] = [];
  for (const name of names) {
    try {
      out.push(await startTarget(name, place, up));
    } catch (err) {
      notes.push(`${name} did not start and was skipped: ${(err as Error).message.split('\n')[0]}`);
      progress(`${name} did not start: ${(err as Error).message}`);
    }
  }
  return out;
}

/** The functions scenario's figures, or null with a note saying why it could not run. */
async function functionsOrNote(rig: Rig, options: BenchOptions, notes: string[]): Promise<FunctionsReport | null> {
  if (!(await waitForQuiet())) notes.push('the machine never became idle before the functions scenario started.');
  try {
    const closedS = options.durationS ?? 2;
    const run = { rounds: options.rounds, closedS, openS: 4, coldRuns: options.functionsColdRuns };
    return await runFunctions(rig.place, rig.gen, run, progress);
  } catch (err) {
    notes.push(`the functions scenario failed to run: ${(err as Error).message.split('\n')[0]}`);
    progress(`functions failed: ${(err as Error).stack ?? String(err)}`);
    return null;
  }
}

/** The workers scenario's figures, or null with a note saying why it could not run. */
async function workersOrNote(rig: Rig, options: BenchOptions, notes: string[]): Promise<WorkersReport | null> {
  if (!(await waitForQuiet())) notes.push('the machine never became idle before the workers scenario started.');
  try {
    const run = {
      rounds: options.rounds,
      durationS: options.durationS ?? 5,
      warmupS: options.warmupS,
      rollbackRuns: options.workersRollbackRuns,
    };
    return await runWorkers(rig, run, progress);
  } catch (err) {
    notes.push(`the workers scenario failed to run: ${(err as Error).message.split('\n')[0]}`);
    progress(`workers failed: ${(err as Error).stack ?? String(err)}`);
    return null;
  }
}

/** The fleet scenario's figures, or null with a note saying why it could not run. */
async function fleetOrNote(rig: Rig, notes: string[]): Promise<FleetReport | null> {
  if (!(await waitForQuiet())) notes.push('the machine never became idle before the fleet scenario started.');
  try {
    return await runFleet(rig, progress);
  } catch (err) {
    notes.push(`the fleet scenario failed to run: ${(err as Error).message.split('\n')[0]}`);
    progress(`fleet failed: ${(err as Error).stack ?? String(err)}`);
    return null;
  }
}

/** The soak's figures, or null with a note saying why it could not run. */
async function soakOrNote(place: Placement, options: BenchOptions, notes: string[]): Promise<SoakReport | null> {
  if (!(await waitForQuiet())) notes.push('the machine never became idle before the soak started.');
  try {
    return await runSoak(place, { rate: options.soakRate, requests: options.soakRequests, connections: 64 }, progress);
  } catch (err) {
    notes.push(`the soak failed to run: ${(err as Error).message.split('\n')[0]}`);
    progress(`soak failed: ${(err as Error).stack ?? String(err)}`);
    return null;
  }
}

async function runLoadScenario(
  scenario: LoadScenario,
  options: BenchOptions,
  names: readonly TargetName[],
  rig: Rig,
): Promise<ScenarioSummary> {
  const notes: string[] = [];
  const durationS = options.durationS ?? scenario.durationS;
  progress(`\n== ${scenario.id}: ${scenario.title}`);
  const targets = await startTargets(names, rig.place, rig.up, notes);
  const samples: RunSample[] = [];
  let repeated = 0;
  let stillContended = 0;
  if (!(await waitForQuiet())) notes.push('the machine never became idle before this scenario started.');
  try {
    if (options.warmupS > 0) {
      // The upstreams and the load generator warm up at this load first, straight to the upstream, so the
      // first target's warm-up does not pay for theirs: a proxy behind a cold upstream holds requests
      // longer, and at 500 connections grows a heap it keeps, which put the first target's RSS ~80 MB up.
      await measure(directTarget(rig.up), scenario, options.warmupS, rig, 0);
      for (const t of targets) await measure(t, scenario, options.warmupS, rig, 0);
    }
    for (let round = 1; round <= options.rounds; round++) {
      for (const t of targets) {
        try {
          let s = await measure(t, scenario, durationS, rig, round);
          if (contended(s) && retriesLeft > 0) {
            progress(`  r${round} ${t.name}: other work took ${s.foreignPct?.toFixed(0)}% of the proxy core; again`);
            retriesLeft--;
            repeated++;
            await waitForQuiet(5_000);
            s = await measure(t, scenario, durationS, rig, round);
          }
          if (contended(s)) stillContended++;
          samples.push(s);
          progress(`  r${round} ${describe(s)}`);
        } catch (err) {
          notes.push(`round ${round} against ${t.name} failed: ${(err as Error).message.split('\n')[0]}`);
          progress(`  r${round} ${t.name} failed: ${(err as Error).message}`);
        }
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
  if (repeated)
    notes.push(
      `${repeated} run(s) were repeated because other programs used more than ${FOREIGN_LIMIT_PCT}% of the proxy core.`,
    );
  if (stillContended)
    notes.push(
      `${stillContended} run(s) still had more than ${FOREIGN_LIMIT_PCT}% of the proxy core used by other programs (foreignPct in latest.json); treat this scenario's figures with care.`,
    );
  const summary = summariseScenario(scenario, durationS, samples, names, notes);
  for (const t of summary.targets) {
    if (t.target !== 'direct' && t.greenShare !== null && Math.abs(t.greenShare - 0.1) > 0.01)
      notes.push(`${t.target} sent ${(100 * t.greenShare).toFixed(1)}% to the second upstream, not 10%.`);
  }
  return summary;
}

async function runStreamScenario(place: Placement, up: Upstreams, bytes: number): Promise<TransferResult[]> {
  progress(`\n== stream-1g: ${bytes / 2 ** 30} GiB up and down through switchyard`);
  const sy = await startSwitchyard(place, up);
  await waitForQuiet();
  try {
    const results = await streamThrough(sy, bytes);
    for (const t of results)
      progress(
        `  ${t.direction.padEnd(8)} ${t.mbPerS.toFixed(0)} MB/s  rss ${t.rssBeforeMb.toFixed(0)} → peak ${t.rssPeakMb.toFixed(0)} MB (+${t.rssGrowthMb.toFixed(1)})${t.complete ? '' : '  INCOMPLETE'}`,
      );
    return results;
  } finally {
    await sy.stop();
  }
}

/** A separate, unmeasured switchyard run under the headline load with --cpu-prof (it slows the process). */
async function profileSwitchyard(
  dir: string,
  scenario: LoadScenario,
  options: BenchOptions,
  rig: Rig,
): Promise<SelfTime[] | null> {
  progress(`\n== profiling switchyard under ${scenario.id} into ${dir}`);
  mkdirSync(dir, { recursive: true });
  const sy = await startSwitchyard(rig.place, rig.up, dir);
  await waitForQuiet();
  try {
    await measure(sy, scenario, options.durationS ?? scenario.durationS, rig, 0);
  } finally {
    await sy.stop();
  }
  const file = newestProfile(dir);
  if (!file) return null;
  progress(`  profile: ${file}`);
  return topSelfTime(file, PACKAGE_ROOT);
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`usage: npm run bench [-- --help]\n\n${USAGE}\n`);
    return;
  }
  let options: BenchOptions;
  try {
    options = readOptions();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const started = performance.now();
  const workDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  installCleanup(() => rmSync(workDir, { recursive: true, force: true }));
  const machine = machineInfo();
  const notes: string[] = [];
  const setup: string[] = [];

  const canPin = HAS_PROC && machine.cores >= 2 && hasCommand('taskset', ['-V']) && pinSelf(0);
  const place: Placement = { proxyCore: canPin ? 1 : undefined, loadCore: canPin ? 0 : undefined, workDir };
  if (canPin)
    setup.push(
      'Placement: the proxy under test on core 1 (taskset -c 1); the load generator (its own process: autocannon, or the paced open-loop generator), the upstreams and the bench script on core 0.',
    );
  else notes.push('taskset, /proc or a second core is missing: nothing is pinned, so figures are noisier.');
  if (!HAS_PROC) notes.push('No /proc: CPU per request and RSS are not measured.');

  const versions: Record<string, string> = {
    switchyard: sourceVersion(),
    node: process.version,
    autocannon: packageVersion('autocannon'),
    'http-proxy': packageVersion('http-proxy'),
    undici: packageVersion('undici'),
  };
  let names = options.targets;
  if (options.baseline && names.includes('baseline')) {
    progress(`building the baseline ${options.baseline}`);
    try {
      baseline = buildBaseline(PACKAGE_ROOT, options.baseline, join(workDir, 'baseline'));
      installCleanup(() => baseline?.remove());
      versions['baseline'] = baseline.label;
      setup.push(
        `Baseline: switchyard built from ${baseline.label}, run as one more target with the same config, interleaved with this tree's build: ratios switchyard/baseline are the before/after of the change.`,
      );
    } catch (err) {
      names = names.filter((n) => n !== 'baseline');
      notes.push((err as Error).message);
    }
  }
  if (names.includes('nginx')) {
    const v = nginxVersion();
    if (v) versions['nginx'] = v;
    else {
      names = names.filter((n) => n !== 'nginx');
      notes.push('nginx is not on PATH: it was skipped.');
      progress('nginx is not on PATH: skipping it');
    }
  }
  setup.push(
    `Method: ${options.rounds} interleaved rounds per scenario (${names.join(', ')} in turn), medians reported; ${options.warmupS} s unmeasured warm-up per target and scenario, after one straight to the upstream (so upstreams and load generator are warm before any proxy is); fresh proxy processes per scenario.`,
  );

  setup.push(
    'Peers: switchyard from its CLI (`serve --config`, logLevel warn, one service at 90/10, default upstream settings); node-http-proxy with a keep-alive http.Agent (its default closes every upstream connection, which would be slower); node-floor, the least a Node proxy built from the parts switchyard uses does (node:http front, an undici Pool per upstream, dispatch() with a plain handler, hop-by-hop headers dropped, nothing else: bench/node-floor-peer.ts); nginx with one worker, weights 9 and 1, 1024 keep-alive upstream connections, access_log off, request bodies streamed, responses buffered in memory only. Upstreams: two node:http servers in one process.',
  );
  const up = await startUpstreams(place);
  const rig: Rig = { up, place, gen: new LoadGenerator(place.loadCore) };
  const scenarios: ScenarioSummary[] = [];
  let stream: TransferResult[] | null = null;
  let rollback: RollbackReport | null = null;
  let soak: SoakReport | null = null;
  let fuzz: FuzzReport | null = null;
  let lab: LabReport | null = null;
  let functions: FunctionsReport | null = null;
  let workers: WorkersReport | null = null;
  let fleet: FleetReport | null = null;
  for (const scenario of options.scenarios) {
    if (scenario.kind === 'fuzz') {
      // No proxy under load: it needs neither the targets nor a quiet machine to mean something.
      fuzz = await runFuzz(PACKAGE_ROOT, options.fuzzRuns ?? scenario.runs, workDir, progress);
      continue;
    }
    if (scenario.kind === 'lab') {
      try {
        lab = await runLabBench(PACKAGE_ROOT, options.simRuns ?? scenario.runs, progress);
      } catch (err) {
        notes.push(`the lab scenario failed: ${(err as Error).message.split('\n')[0]}`);
      }
      continue;
    }
    if (scenario.kind === 'stream') {
      if (names.includes('switchyard')) stream = await runStreamScenario(place, up, scenario.bytes);
      continue;
    }
    if (scenario.kind === 'rollback') {
      if (names.includes('switchyard')) {
        if (!(await waitForQuiet())) notes.push('the machine never became idle before the rollback scenario started.');
        try {
          rollback = await runRollback(
            place,
            { runs: options.rollbackRuns, plainRuns: options.rollbackPlainRuns },
            progress,
          );
        } catch (err) {
          // The other scenarios' figures are still worth writing out.
          notes.push(`the rollback scenario failed: ${(err as Error).message.split('\n')[0]}`);
          progress(`rollback failed: ${(err as Error).stack ?? String(err)}`);
        }
      }
      continue;
    }
    if (scenario.kind === 'functions') {
      if (names.includes('switchyard')) functions = await functionsOrNote(rig, options, notes);
      continue;
    }
    if (scenario.kind === 'workers') {
      if (names.includes('switchyard')) workers = await workersOrNote(rig, options, notes);
      continue;
    }
    if (scenario.kind === 'fleet') {
      if (names.includes('switchyard')) fleet = await fleetOrNote(rig, notes);
      continue;
    }
    if (scenario.kind === 'soak') {
      if (names.includes('switchyard')) soak = await soakOrNote(place, options, notes);
      continue;
    }
    // The armed fault injector is measured on the headline scenario only.
    const here = scenario.id === 'get-100' ? names : names.filter((n) => n !== 'faults-armed');
    scenarios.push(await runLoadScenario(scenario, options, here, rig));
    if (scenario.overallRate !== undefined && !scenario.paced)
      notes.push(
        `(${scenario.letter}) autocannon's overallRate is a per-second budget per connection: each connection sends back to back until its share of the second is used, then waits for the next second. The load therefore arrives in bursts at full speed, not evenly spaced, and latency percentiles reflect those bursts; paced-5k measures the same rate evenly spaced.`,
      );
  }

  let profile: SelfTime[] | null = null;
  if (options.cpuProfDir && names.includes('switchyard')) {
    const loads = options.scenarios.filter((s): s is LoadScenario => s.kind === 'load');
    const scenario = loads.find((s) => s.id === 'get-100') ?? loads[0];
    if (scenario) profile = await profileSwitchyard(options.cpuProfDir, scenario, options, rig);
  }

  await rig.gen.stop();
  await up.child.stop();
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine,
    versions,
    setup,
    runTimeS: (performance.now() - started) / 1000,
    scenarios,
    stream,
    rollback,
    soak,
    fuzz,
    lab,
    functions,
    workers,
    fleet,
    profile,
    checks: [
      ...checkTargets(scenarios, stream),
      ...rollbackChecks(rollback),
      ...soakChecks(soak),
      ...fuzzChecks(fuzz),
      ...labChecks(lab),
      ...functionsChecks(functions),
      ...workersChecks(workers),
      ...fleetChecks(fleet),
    ],
    notes,
  };
  const markdown = renderMarkdown(report);
  writeReport(options.resultsDir ?? RESULTS_DIR, report, markdown);
  process.stdout.write(`\n${markdown}`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
