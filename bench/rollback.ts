/**
 * @module bench/rollback
 * How fast switchyard stops and rolls back a canary whose replacement starts failing under steady load,
 * and how many failed responses clients see meanwhile (the blast radius), with `routing.retryOnOriginal`
 * off and on, next to a plain deployment with no alarm, which never rolls back. Two failure kinds,
 * measured separately: every response of the replacement a 500, and every one 200 ms late.
 *
 * Everything the figures come from is timed in this process on one clock: the two upstreams (blue,
 * green) are node:http servers here, and green notes when it was switched to failing and when each
 * request reached it; the open-loop load generator here notes for every response when it arrived, its
 * status and the version that answered (`x-switchyard-version`). switchyard runs from its CLI on the
 * proxy core and is driven through its CodeDeploy API, as a pipeline would.
 *
 * The alarms are evaluated on a fixed tick, so how long a rollback takes depends on where in the tick the
 * failure starts: run k of n switches green (k-1)/n of an interval later than run 1, so the runs spread
 * over the whole tick instead of all hitting the same phase. A run whose deployment was already stopped
 * when green was switched (a false alarm) is left out of the figures and reported in a note.
 *
 * The parts: rollback-settings.ts (the scenario's fixed shape), rollback-upstreams.ts (blue and green),
 * rollback-switchyard.ts (config, AppSpec, process), rollback-codedeploy.ts (the API client),
 * rollback-load.ts (the recorded load), rollback-run.ts (one deployment) and rollback-stats.ts (rows
 * and notes). This module runs them all and checks the goals.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { RecordedLoad } from './rollback-load.js';
import { oneRun, type RollbackSample, type RunSetup } from './rollback-run.js';
import { ALARM_INTERVAL_MS, CONNECTIONS, FAILURES, LEAD_MS, OBSERVE_MS, RATE, TAIL_MS } from './rollback-settings.js';
import { anomalies, describe, maxOf, ms, type RollbackRow, rowOf } from './rollback-stats.js';
import { type RollbackProxy, startProxy, writeConfig } from './rollback-switchyard.js';
import { UpstreamPair } from './rollback-upstreams.js';
import type { TargetCheck } from './summary.js';
import type { Placement } from './targets.js';

export type { RollbackSample } from './rollback-run.js';
export type { FailureKind } from './rollback-settings.js';
export type { RollbackRow } from './rollback-stats.js';

/** How many deployments to measure. */
export interface RollbackOptions {
  /** Runs per failure kind and retry setting with the alarms on. */
  readonly runs: number;
  /** Runs per failure kind and retry setting of the plain deployment (its figures barely vary). */
  readonly plainRuns: number;
}

/** What the rollback scenario measured, for the report. */
export interface RollbackReport {
  readonly rate: number;
  readonly connections: number;
  readonly leadMs: number;
  readonly tailMs: number;
  readonly observeMs: number;
  readonly alarmIntervalMs: number;
  /** The core switchyard was pinned to (load and upstreams share the bench's core), if any. */
  readonly proxyCore: number | null;
  readonly runs: number;
  readonly plainRuns: number;
  readonly rows: readonly RollbackRow[];
  readonly samples: readonly RollbackSample[];
  readonly notes: readonly string[];
}

/** Every run with one retry setting, on a switchyard of its own; the samples are appended to `samples`. */
async function measureRetrySetting(
  place: Placement,
  up: UpstreamPair,
  retry: boolean,
  options: RollbackOptions,
  samples: RollbackSample[],
  progress: (text: string) => void,
): Promise<void> {
  const file = join(place.workDir, `rollback-retry-${retry ? 'on' : 'off'}.yml`);
  const { port, control } = await writeConfig(file, up, retry);
  const sy = await startProxy(place, file, port, control);
  progress(`  retry on original ${retry ? 'on' : 'off'}: switchyard pid ${sy.child.pid}, ${file}`);
  await withRecordedLoad(sy, up, retry, async (load) => {
    for (const failure of FAILURES)
      for (const alarm of [true, false]) {
        const n = alarm ? options.runs : options.plainRuns;
        await runSeries({ sy, up, load, failure, alarm, retry }, n, samples, progress);
      }
  });
}

/**
 * Runs `measure` with a recorded load on `sy` after an unrecorded warm-up (JIT for switchyard's data and
 * control paths and for the generator), then stops the load and `sy`.
 */
export async function withRecordedLoad(
  sy: RollbackProxy,
  up: UpstreamPair,
  retry: boolean,
  measure: (load: RecordedLoad) => Promise<void>,
): Promise<void> {
  // Room for the longest run (lead, observation, tail) with a second to spare.
  const capacity = Math.ceil((RATE * (LEAD_MS + OBSERVE_MS + TAIL_MS + 1_000)) / 1000);
  const load = new RecordedLoad(sy.url, RATE, CONNECTIONS, capacity);
  try {
    load.start();
    await sleep(1_000);
    await load.stop();
    await oneRun({ sy, up, load, failure: '5xx', alarm: true, retry, run: 0, phaseMs: 0 });
    await measure(load);
  } finally {
    await load.close();
    await sy.child.stop();
  }
}

/** `n` deployments of one setting, their phases spread over the alarm tick; samples appended to `samples`. */
export async function runSeries(
  setting: Omit<RunSetup, 'run' | 'phaseMs'>,
  n: number,
  samples: RollbackSample[],
  progress: (text: string) => void,
): Promise<void> {
  for (let run = 1; run <= n; run++) {
    const sample = await oneRun({ ...setting, run, phaseMs: ((run - 1) / n) * ALARM_INTERVAL_MS });
    samples.push(sample);
    progress(describe(sample));
  }
}

/** Runs the whole rollback scenario: retry off, then on, each failure kind. */
export async function runRollback(
  place: Placement,
  options: RollbackOptions,
  progress: (text: string) => void,
): Promise<RollbackReport> {
  progress(
    `\n== rollback: a 10% canary whose replacement fails under ${RATE} req/s; ${options.runs} runs with alarms, ${options.plainRuns} without, per failure kind and retry setting`,
  );
  const samples: RollbackSample[] = [];
  const up = await UpstreamPair.start();
  try {
    for (const retry of [false, true]) await measureRetrySetting(place, up, retry, options, samples, progress);
  } finally {
    await up.close();
  }
  const rows: RollbackRow[] = [];
  for (const failure of FAILURES)
    for (const alarm of [true, false]) {
      // BENCH_ROLLBACK_PLAIN_RUNS=0 leaves the plain deployment out altogether.
      if ((alarm ? options.runs : options.plainRuns) === 0) continue;
      for (const retry of [false, true]) rows.push(rowOf(failure, alarm, retry, samples));
    }
  return {
    rate: RATE,
    connections: CONNECTIONS,
    leadMs: LEAD_MS,
    tailMs: TAIL_MS,
    observeMs: OBSERVE_MS,
    alarmIntervalMs: ALARM_INTERVAL_MS,
    proxyCore: place.proxyCore ?? null,
    runs: options.runs,
    plainRuns: options.plainRuns,
    rows,
    samples,
    notes: anomalies(samples),
  };
}

/** The rollback goals, checked against what the scenario measured (or why it could not). */
export function rollbackChecks(r: RollbackReport | null): TargetCheck[] {
  const goalReaction = 'rollback: reaction ≤ 500 ms max, error-rate alarm at the default 250 ms interval (100% 5xx)';
  const goalRetry = 'rollback: 0 client-visible failures for GET with retryOnOriginal on (100% 5xx)';
  if (!r)
    return [goalReaction, goalRetry].map((goal) => ({ goal, measured: '—', met: null, detail: 'needs rollback' }));
  const checks: TargetCheck[] = [];
  const rows5xx = r.rows.filter((x) => x.failure === '5xx' && x.runs > 0);
  const alarmRows = rows5xx.filter((x) => x.alarm);
  const runs = alarmRows.reduce((a, x) => a + x.runs, 0);
  const stopped = alarmRows.reduce((a, x) => a + x.stopped, 0);
  const max = maxOf(alarmRows.map((x) => x.reactionMaxMs).filter((x): x is number => x !== null));
  if (runs === 0) checks.push({ goal: goalReaction, measured: '—', met: null, detail: 'no runs' });
  else
    checks.push({
      goal: goalReaction,
      measured: `max ${ms(max)} (${alarmRows.map((x) => `retry ${x.retry ? 'on' : 'off'}: p50 ${ms(x.reactionP50Ms)}, max ${ms(x.reactionMaxMs)}`).join('; ')})`,
      met: stopped === runs && max !== null && max <= 500,
      detail:
        stopped < runs
          ? `${runs - stopped} of ${runs} runs never stopped`
          : max! <= 500
            ? `${(500 - max!).toFixed(0)} ms to spare`
            : `over by ${(max! - 500).toFixed(0)} ms`,
    });
  const retryRows = rows5xx.filter((x) => x.retry);
  if (retryRows.length === 0) checks.push({ goal: goalRetry, measured: '—', met: null, detail: 'no runs' });
  else {
    const worst = Math.max(...retryRows.map((x) => x.failedMax ?? 0));
    checks.push({
      goal: goalRetry,
      measured: retryRows
        .map((x) => `${x.alarm ? 'alarm' : 'no alarm'}: max ${x.failedMax} of ~${x.requestsMedian} per run`)
        .join('; '),
      met: worst === 0,
      detail: worst === 0 ? 'none' : `${worst} failed in the worst run`,
    });
  }
  return checks;
}
