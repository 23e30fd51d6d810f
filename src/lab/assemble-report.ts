/**
 * @module lab/assemble-report
 * The report of an experiment (report.json's shape) from what its runs gave: the experiment as it was
 * run, every run, and the figures derived from them.
 */
import type { Experiment } from './experiment.js';
import { reportFigures } from './report/figures.js';
import type { ExperimentReport, RunMode } from './results.js';
import type { ExperimentRuns } from './run-experiment.js';

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
  return {
    experiment: facts,
    modes,
    startedAt: new Date(done.startedAt).toISOString(),
    finishedAt: new Date(done.finishedAt).toISOString(),
    complete: done.complete,
    runs: done.runs,
    ...(done.failures.length > 0 && { failures: done.failures }),
    ...reportFigures(done.runs, facts, modes),
  };
}
