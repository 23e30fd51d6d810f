/**
 * @module lab/report/scenarios
 * What a scenario is for the verdicts and the speed-vs-safety comparison, computed from its spec rather
 * than guessed from its name:
 * - `bad`: it injects faults (an abort or a delay on some requests), or the replacement it runs (its own
 *   `replacement:` or the experiment's) has errors, a capacity limit or a warm-up — a release that a
 *   policy should stop, or at least contain;
 * - `healthy`: no faults, no behaviour of its own, and the experiment's replacement is not bad either —
 *   the release a policy should carry to 100% quickly, where only speed is measured;
 * - `other`: a behaviour of its own that is none of these (a slower latency alone, say): neither a
 *   false alarm nor a missed bad release can be told there.
 */
import type { SyntheticConfig } from '../../config/synthetic.js';
import type { ScenarioSpec, VersionsSpec } from '../experiment.js';

export type ScenarioKind = 'bad' | 'healthy' | 'other';

/** How the scenario's replacement departs from a sound release, for words; empty when it does not. */
export function scenarioFaults(scenario: ScenarioSpec, versions?: VersionsSpec): string[] {
  const why: string[] = [];
  const faults = scenario.faults;
  if (faults?.abort && faults.abort.percent > 0) why.push('aborts');
  if (faults?.delay && faults.delay.percent > 0) why.push('delays');
  const replacement = scenario.replacement ?? (versions?.kind === 'synthetic' ? versions.replacement : undefined);
  if (replacement) why.push(...behaviourFaults(replacement));
  return why;
}

/** Bad, healthy or other (see the module's comment). */
export function scenarioKind(scenario: ScenarioSpec, versions?: VersionsSpec): ScenarioKind {
  if (scenarioFaults(scenario, versions).length > 0) return 'bad';
  return scenario.replacement === undefined ? 'healthy' : 'other';
}

function behaviourFaults(behaviour: SyntheticConfig): string[] {
  const why: string[] = [];
  if (behaviour.errors && behaviour.errors.percent > 0) why.push('errors');
  if (behaviour.capacity) why.push('capacity');
  if (behaviour.warmup && behaviour.warmup.factor > 1) why.push('warm-up');
  return why;
}
