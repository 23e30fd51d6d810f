/**
 * The report assembled from the runs: every run kept, the summary over all of them, and the per-second
 * timelines of later repeats left out (but for the run each pair's charts draw) so that thousands of
 * simulated repeats do not write hundreds of megabytes.
 */
import { describe, expect, it } from 'vitest';

import { assembleReport, TIMELINES_KEPT } from '../../src/lab/assemble-report.js';
import { parseExperiment } from '../../src/lab/experiment.js';
import { run, timeline } from '../support/lab-report.js';
import { EXPERIMENT_TEXT } from '../support/lab-report.js';

describe('assembled report', () => {
  it('keeps every run and its figures, and the timelines of the first repeats and of the charted run', () => {
    const experiment = parseExperiment(EXPERIMENT_TEXT, 'x.yml', {});
    const policy = experiment.policies[0]!.name;
    const scenario = experiment.scenarios[0]!.name;
    // 25 repeats; the median by failed is repeat 17 (failed 0, 1, ... with repeat 17 in the middle).
    const failed = (r: number) => (r === 17 ? 12 : r < 12 ? r : r + 1);
    const runs = Array.from({ length: 25 }, (_, r) =>
      run({ mode: 'sim', policy, scenario, repeat: r, failed: failed(r), timeline: timeline(3) }),
    );
    const report = assembleReport(
      experiment,
      { runs, failures: [], complete: true, startedAt: 0, finishedAt: 1 },
      ['sim'],
      25,
    );
    expect(report.runs).toHaveLength(25);
    const withTimeline = report.runs.filter((r) => r.timeline.length > 0).map((r) => r.repeat);
    expect(withTimeline).toEqual([...Array.from({ length: TIMELINES_KEPT }, (_, r) => r), 17]);
    expect(report.timelinesOmitted).toBe(25 - TIMELINES_KEPT - 1);
    expect(report.summary[0]!.runs).toBe(25);
    expect(report.summary[0]!.failed.median).toBe(12);
    expect(report.experiment.repeat).toBe(25);
  });
});
