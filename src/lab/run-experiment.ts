/**
 * @module lab/run-experiment
 * Carries out an experiment: every policy × scenario × repeat in each mode asked for, one run at a time,
 * with progress and an estimate of the time left. A run that cannot be carried out is reported and the
 * others go on; an abort (Ctrl-C) stops after the run in progress gives up, and the runs done are kept.
 */
import { describeError } from '../core/describe-error.js';
import { deriveSeed } from '../core/random.js';
import { totalDurationMs } from '../shifting/schedule.js';
import type { Experiment } from './experiment.js';
import type { RunMode, RunResult, RunSpec } from './results.js';

/** Carries out one run in one mode. */
export type Runner = (experiment: Experiment, spec: RunSpec, signal: AbortSignal) => Promise<RunResult>;

/** Where the experiment stands, after each run and when one begins. */
export interface Progress {
  /** 1-based number of the run beginning or just done. */
  readonly index: number;
  readonly total: number;
  readonly mode: RunMode;
  readonly spec: RunSpec;
  readonly elapsedMs: number;
  /** Estimated real time left, in ms. */
  readonly etaMs: number;
  /** Set once the run is done. */
  readonly result?: RunResult;
}

/** A run that could not be carried out, and why. */
export interface RunFailure {
  readonly mode: RunMode;
  readonly policy: string;
  readonly scenario: string;
  readonly repeat: number;
  readonly reason: string;
}

export interface RunExperimentOptions {
  readonly modes: readonly RunMode[];
  readonly runners: Readonly<Record<RunMode, Runner>>;
  readonly signal: AbortSignal;
  /** Replaces the file's `repeat`. */
  readonly repeat?: number;
  readonly onProgress?: (progress: Progress) => void;
  /** Real time, for elapsed and estimates (the runs keep their own clocks). */
  readonly now?: () => number;
}

/** What came of the runs. */
export interface ExperimentRuns {
  readonly runs: RunResult[];
  readonly failures: RunFailure[];
  /** False when an abort ended it before every run was tried. */
  readonly complete: boolean;
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** The runs of an experiment in order: modes, then scenarios, then policies, then repeats. */
export function plannedRuns(experiment: Experiment, repeat = experiment.repeat): RunSpec[] {
  const specs: RunSpec[] = [];
  for (const scenario of experiment.scenarios) {
    for (const policy of experiment.policies) {
      for (let r = 0; r < repeat; r++) {
        // The same seed in both modes, so that a live run and its simulation draw the same users.
        specs.push({ policy, scenario, repeat: r, seed: deriveSeed(experiment.seed, policy.name, scenario.name, r) });
      }
    }
  }
  return specs;
}

/**
 * A first guess of a run's real duration, before any has been timed: a live run lasts its load, its
 * deployment (shift and bake, divided by the time scale) and a second of setting up.
 */
function guessMs(experiment: Experiment, mode: RunMode, spec: RunSpec): number {
  if (mode === 'sim') return 50;
  const shift = totalDurationMs(spec.policy.shift) ?? 0;
  return experiment.load.before + experiment.load.after + (shift + experiment.bake) / experiment.timeScale + 1_000;
}

/** Runs every planned run in every mode; never rejects for a run's own failure. */
export async function runExperiment(experiment: Experiment, options: RunExperimentOptions): Promise<ExperimentRuns> {
  const now = options.now ?? (() => performance.timeOrigin + performance.now());
  const specs = plannedRuns(experiment, options.repeat);
  // The simulation first: its table is there in seconds, before the live runs take their minutes.
  const modes = (['sim', 'live'] as const).filter((m) => options.modes.includes(m));
  const queue = modes.flatMap((mode) => specs.map((spec) => ({ mode, spec })));
  const guesses = queue.map(({ mode, spec }) => guessMs(experiment, mode, spec));
  // Per mode, how much longer runs took than guessed so far, to correct the guesses still ahead.
  const taken = { live: { guessed: 0, actual: 0 }, sim: { guessed: 0, actual: 0 } };
  const left = (from: number) => {
    let ms = 0;
    for (let i = from; i < queue.length; i++) {
      const t = taken[queue[i]!.mode];
      ms += guesses[i]! * (t.guessed > 0 ? t.actual / t.guessed : 1);
    }
    return ms;
  };
  const startedAt = now();
  const runs: RunResult[] = [];
  const failures: RunFailure[] = [];
  for (let i = 0; i < queue.length; i++) {
    if (options.signal.aborted) return { runs, failures, complete: false, startedAt, finishedAt: now() };
    const { mode, spec } = queue[i]!;
    const progress = { index: i + 1, total: queue.length, mode, spec };
    options.onProgress?.({ ...progress, elapsedMs: now() - startedAt, etaMs: left(i) });
    const began = now();
    try {
      const result = await options.runners[mode](experiment, spec, options.signal);
      runs.push(result);
      taken[mode].guessed += guesses[i]!;
      taken[mode].actual += now() - began;
      options.onProgress?.({ ...progress, elapsedMs: now() - startedAt, etaMs: left(i + 1), result });
    } catch (err) {
      if (options.signal.aborted) return { runs, failures, complete: false, startedAt, finishedAt: now() };
      failures.push({
        mode,
        policy: spec.policy.name,
        scenario: spec.scenario.name,
        repeat: spec.repeat,
        reason: describeError(err),
      });
    }
  }
  return { runs, failures, complete: true, startedAt, finishedAt: now() };
}
