/**
 * @module lab/report/figures
 * Everything report.json derives from the runs: the summary, live against simulated (with both modes)
 * and the verdicts, in the experiment's order of modes, scenarios and policies.
 */
import type { ExperimentReport, RunMode, RunResult } from '../results.js';
import { agreement } from './agreement.js';
import { summarize } from './summarize.js';
import { verdicts } from './verdicts.js';

type Derived = Pick<ExperimentReport, 'summary' | 'agreement' | 'verdicts'>;
type ExperimentFacts = Pick<ExperimentReport['experiment'], 'scenarios' | 'policies' | 'versions' | 'timeScale'>;

/** The summary, agreement (only when both modes ran) and verdicts of `runs`. */
export function reportFigures(
  runs: readonly RunResult[],
  experiment: ExperimentFacts,
  modes: readonly RunMode[],
): Derived {
  const summary = summarize(runs, {
    modes,
    scenarios: experiment.scenarios.map((s) => s.name),
    policies: experiment.policies.map((p) => p.name),
  });
  const both = modes.includes('live') && modes.includes('sim');
  return {
    summary,
    ...(both && { agreement: agreement(runs, experiment.timeScale) }),
    verdicts: verdicts(summary, experiment),
  };
}
