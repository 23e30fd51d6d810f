/**
 * @module lab/assemble-report
 * The report of an experiment (report.json's shape) from what its runs gave: the experiment as it was
 * run, every run, and the figures derived from them.
 */
import type { Experiment } from './experiment.js';
import { reportFigures } from './report/figures.js';
import { representativeRun } from './report/summarize.js';
import type { ExperimentReport, RunMode, RunResult } from './results.js';
import type { ExperimentRuns } from './run-experiment.js';

/**
 * Repeats that keep their per-second timeline. Thousands of simulated repeats of a 20-minute deployment
 * would otherwise write hundreds of megabytes of report.json; the charted run of each pair keeps its own.
 */
export const TIMELINES_KEPT = 3;

/** The runs with the timelines of later repeats left out, but for the run charted for each pair. */
function withTimelinesKept(runs: readonly RunResult[]): { runs: RunResult[]; omitted: number } {
  const groups = new Map<string, RunResult[]>();
  for (const run of runs) {
    const key = JSON.stringify([run.mode, run.policy, run.scenario]);
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const charted = new Set([...groups.values()].map((group) => representativeRun(group)));
  let omitted = 0;
  const kept = runs.map((run) => {
    if (run.repeat < TIMELINES_KEPT || charted.has(run)) return run;
    omitted++;
    return { ...run, timeline: [] };
  });
  return { runs: kept, omitted };
}

/** The report of `done`, the runs of `experiment` in `modes`. */
export function assembleReport(
  experiment: Experiment,
  done: ExperimentRuns,
  modes: readonly RunMode[],
  repeat = experiment.repeat,
): ExperimentReport {
  const facts: ExperimentReport['experiment'] = {
    name: experiment.name,
    file: experiment.file,
    seed: experiment.seed,
    repeat,
    timeScale: experiment.timeScale,
    bakeMs: experiment.bake,
    alarmEvaluationIntervalMs: experiment.alarmEvaluationInterval,
    load: experiment.load,
    versions: experiment.versions,
    policies: experiment.policies,
    scenarios: experiment.scenarios,
    alarms: experiment.alarms,
  };
  const kept = withTimelinesKept(done.runs);
  return {
    experiment: facts,
    modes,
    startedAt: new Date(done.startedAt).toISOString(),
    finishedAt: new Date(done.finishedAt).toISOString(),
    complete: done.complete,
    runs: kept.runs,
    ...(kept.omitted > 0 && { timelinesOmitted: kept.omitted }),
    ...(done.failures.length > 0 && { failures: done.failures }),
    ...reportFigures(done.runs, facts, modes),
  };
}
