/**
 * Fabricated policy-lab runs and reports, for the report's unit tests: an experiment parsed from real
 * experiment text, and runs with every figure defaulted so that each test states only what it checks.
 */
import { assembleReport } from '../../src/lab/assemble-report.js';
import { parseExperiment } from '../../src/lab/experiment.js';
import { reportFigures } from '../../src/lab/report/figures.js';
import type { ExperimentReport, RunMode, RunResult, TimelinePoint } from '../../src/lab/results.js';
import { runExperiment, type Runner } from '../../src/lab/run-experiment.js';
import { simulateRun } from '../../src/lab/sim/index.js';

/** Four policies, a healthy scenario and three bad ones (faults, late faults, a cold replacement). */
export const EXPERIMENT_TEXT = `
name: policies
seed: 7
repeat: 3
timeScale: 60
bake: 1m
load: { rate: 1000, users: 2000 }
versions:
  synthetic:
    original: { latency: { p50: 2ms, p99: 8ms } }
    replacement: { latency: { p50: 2ms, p99: 8ms } }
alarms:
  errors: { kind: error-rate, threshold: 0.05, minRequests: 20 }
policies:
  - { name: all-at-once, config: CodeDeployDefault.ECSAllAtOnce }
  - { name: canary-10, config: CodeDeployDefault.ECSCanary10Percent5Minutes }
  - { name: linear-10, config: { type: TimeBasedLinear, percent: 10, interval: 30s } }
  - { name: canary-10-retry, config: CodeDeployDefault.ECSCanary10Percent5Minutes, retryOnOriginal: true }
scenarios:
  - name: healthy
  - name: errors-10pct
    description: the replacement fails 10% of its requests
    faults: { abort: { percent: 10, status: 500 } }
  - name: slower
    replacement: { latency: { p50: 4ms, p99: 16ms } }
  - name: cold-green
    replacement:
      warmup: { duration: 2s, factor: 20 }
      capacity: { inFlight: 20 }
`;

/** The experiment part of a report, from experiment text. */
export function experimentOf(text: string = EXPERIMENT_TEXT): ExperimentReport['experiment'] {
  const x = parseExperiment(text, '', {});
  return {
    name: x.name,
    file: x.file,
    seed: x.seed,
    repeat: x.repeat,
    timeScale: x.timeScale,
    bakeMs: x.bake,
    alarmEvaluationIntervalMs: x.alarmEvaluationInterval,
    load: x.load,
    versions: x.versions,
    policies: x.policies,
    scenarios: x.scenarios,
    alarms: x.alarms,
  };
}

/** A run: what the test gives, the rest a plain successful run. */
export function run(fields: Partial<RunResult> & Pick<RunResult, 'mode' | 'policy' | 'scenario'>): RunResult {
  return {
    repeat: 0,
    outcome: 'Succeeded',
    requests: 10_000,
    failed: 0,
    servedByReplacement: 5_000,
    failedOnReplacement: 0,
    usersAffected: 0,
    detectionMs: null,
    timeToFullTrafficMs: 60_000,
    durationMs: 120_000,
    latency: { p50: 2, p99: 8 },
    timeline: [],
    ...fields,
  };
}

/** A timeline of `seconds` buckets, weight rising to `to` percent, `failedPerSecond` failures on the replacement. */
export function timeline(seconds: number, to = 100, failedPerSecond = 0): TimelinePoint[] {
  return Array.from({ length: seconds }, (_, i) => ({
    t: i * 60_000,
    weight: Math.min(to, Math.round((to * (i + 1)) / seconds)),
    original: { requests: 900, failed: 0 },
    replacement: { requests: 100, failed: failedPerSecond },
  }));
}

/** A whole report of `runs`, its summary, agreement and verdicts computed as the lab would. */
export function reportOf(
  runs: readonly RunResult[],
  experiment: ExperimentReport['experiment'] = experimentOf(),
  modes: readonly RunMode[] = [...new Set(runs.map((r) => r.mode))],
): ExperimentReport {
  return {
    experiment,
    modes,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:05:00.000Z',
    complete: true,
    runs,
    ...reportFigures(runs, experiment, modes),
  };
}

/** A plausible full experiment: every policy × scenario × repeat in the modes given. */
export function fullRuns(modes: readonly RunMode[] = ['live', 'sim']): RunResult[] {
  const runs: RunResult[] = [];
  const failedBy: Record<string, number> = { 'all-at-once': 61, 'canary-10': 9, 'linear-10': 14, 'canary-10-retry': 0 };
  const ttf: Record<string, number> = {
    'all-at-once': 0,
    'canary-10': 300_000,
    'linear-10': 270_000,
    'canary-10-retry': 300_000,
  };
  for (const mode of modes)
    for (const scenario of ['healthy', 'errors-10pct', 'slower', 'cold-green'])
      for (const policy of Object.keys(failedBy))
        for (let repeat = 0; repeat < 3; repeat++) {
          const bad = scenario === 'errors-10pct' || scenario === 'cold-green';
          const failed = bad ? failedBy[policy]! + repeat + (mode === 'sim' ? 1 : 0) : 0;
          runs.push(
            run({
              mode,
              policy,
              scenario,
              repeat,
              outcome: bad ? 'RolledBack' : 'Succeeded',
              failed,
              failedOnReplacement: bad ? (policy === 'canary-10-retry' ? 12 : failed) : 0,
              usersAffected: Math.ceil(failed / 2),
              detectionMs: bad ? 1200 + repeat * 60 : null,
              timeToFullTrafficMs: bad ? null : ttf[policy]!,
              timeline: timeline(bad ? 3 : 6, bad ? 10 : 100, bad ? 3 : 0),
            }),
          );
        }
  return runs;
}

/** A tiny experiment whose runs the simulator carries out in well under a second: faults, a cold replacement. */
export const TINY_EXPERIMENT_TEXT = `
name: tiny sim
seed: 3
timeScale: 600
bake: 0m
load: { rate: 50, users: 20, before: 500ms }
versions:
  synthetic:
    original: { latency: { p50: 2ms, p99: 8ms } }
    replacement: { latency: { fixed: 3ms } }
alarms:
  errors: { kind: error-rate, threshold: 0.05, minRequests: 5 }
policies:
  - { name: all-at-once, config: CodeDeployDefault.ECSAllAtOnce }
  - { name: linear, config: { type: TimeBasedLinear, percent: 50, interval: 1m }, retryOnOriginal: true }
scenarios:
  - name: healthy
  - name: bad
    description: aborts and delays after a while
    faults: { abort: { percent: 30, status: 500 }, delay: { percent: 5, fixed: 10ms }, schedule: { after: 5s } }
  - name: cold
    replacement: { warmup: { duration: 1s, factor: 5 }, capacity: { inFlight: 5 } }
`;

/** A real report: the tiny experiment simulated and assembled by the lab's own functions. */
export async function simulatedReport(): Promise<ExperimentReport> {
  const experiment = parseExperiment(TINY_EXPERIMENT_TEXT, '', {});
  const refuse: Runner = () => Promise.reject(new Error('no live runs here'));
  const done = await runExperiment(experiment, {
    modes: ['sim'],
    runners: { sim: simulateRun, live: refuse },
    signal: new AbortController().signal,
  });
  return assembleReport(experiment, done, ['sim']);
}
