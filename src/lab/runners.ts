/**
 * @module lab/runners
 * The two ways to carry out a run, and which of them an experiment allows: the simulation needs
 * synthetic versions (a user's own service has no model to simulate) and alarms it can judge itself.
 */
import { SwitchyardError } from '../core/errors.js';
import type { Experiment } from './experiment.js';
import { runLive } from './live/index.js';
import type { RunMode } from './results.js';
import type { Runner } from './run-experiment.js';
import { checkSimulable, simulateRun } from './sim/index.js';

/** The live runner and the simulator. */
export function labRunners(): Readonly<Record<RunMode, Runner>> {
  return { live: (e, spec, signal) => runLive(e, spec, signal), sim: simulateRun };
}

/**
 * The modes of `wanted` this experiment can run, and a note for each left out. A mode asked for by
 * name (`explicit`) that cannot run is an error rather than a note.
 */
export function usableModes(
  experiment: Experiment,
  wanted: readonly RunMode[],
  explicit: boolean,
): { usable: RunMode[]; skipped: string[] } {
  if (!wanted.includes('sim')) return { usable: [...wanted], skipped: [] };
  try {
    for (const policy of experiment.policies) checkSimulable(experiment, policy);
    return { usable: [...wanted], skipped: [] };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (explicit || !wanted.includes('live')) {
      throw new SwitchyardError('EXPERIMENT_INVALID', `cannot simulate this experiment: ${why}`);
    }
    return { usable: ['live'], skipped: [`live only: ${why}`] };
  }
}
