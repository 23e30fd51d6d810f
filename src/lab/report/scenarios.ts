/**
 * @module lab/report/scenarios
 * What a scenario is for the verdicts and the speed-vs-safety comparison, computed from its spec rather
 * than guessed from its name:
 * - `bad`: it injects faults (an abort or a delay on some requests), or the replacement it runs (its own
 *   `replacement:` or the experiment's) has errors — a release that a policy should stop, or at least
 *   contain;
 * - `cold`: a sound release on a replacement with a capacity limit or a warm-up and nothing else wrong —
 *   one a policy should carry through while costing its clients as little as possible, so its
 *   failures count for safety but a success is not a miss;
 * - `healthy`: no faults, no behaviour of its own, and the experiment's replacement is not bad either —
 *   the release a policy should carry to 100% quickly, where only speed is measured;
 * - `other`: a behaviour of its own that is none of these (a slower latency alone, say): neither a
 *   false alarm nor a missed bad release can be told there.
 */
import type { SyntheticConfig } from '../../config/synthetic.js';
import type { ScenarioSpec, VersionsSpec } from '../experiment.js';

export type ScenarioKind = 'bad' | 'cold' | 'healthy' | 'other';

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

const COLD = new Set(['capacity', 'warm-up']);

/** Bad, cold, healthy or other (see the module's comment). */
export function scenarioKind(scenario: ScenarioSpec, versions?: VersionsSpec): ScenarioKind {
  const why = scenarioFaults(scenario, versions);
  if (why.some((w) => !COLD.has(w))) return 'bad';
  if (why.length > 0) return 'cold';
  return scenario.replacement === undefined ? 'healthy' : 'other';
}

function behaviourFaults(behaviour: SyntheticConfig): string[] {
  const why: string[] = [];
  if (behaviour.errors && behaviour.errors.percent > 0) why.push('errors');
  if (behaviour.capacity) why.push('capacity');
  if (behaviour.warmup && behaviour.warmup.factor > 1) why.push('warm-up');
  return why;
}
