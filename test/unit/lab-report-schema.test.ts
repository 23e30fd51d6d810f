/**
 * report.json's schema: reports the lab makes validate as they are, and a broken one is refused with the
 * path of its first bad field.
 */
import { describe, expect, it } from 'vitest';

import { isSwitchyardError } from '../../src/core/errors.js';
import { parseExperimentReport } from '../../src/lab/report-schema.js';
import type { ExperimentReport } from '../../src/lab/results.js';
import { fullRuns, reportOf, simulatedReport } from '../support/lab-report.js';

/** The report as it travels: through JSON, as report.json and an upload have it. */
const wire = (report: ExperimentReport): Record<string, unknown> =>
  JSON.parse(JSON.stringify(report)) as Record<string, unknown>;

/** The LAB_REPORT_INVALID `parse` throws. */
function refusal(value: unknown): { message: string; issues: readonly { path: string }[] } {
  try {
    parseExperimentReport(value);
  } catch (err) {
    if (isSwitchyardError(err, 'LAB_REPORT_INVALID')) return err;
    throw err;
  }
  throw new Error('the report was taken');
}

describe('parseExperimentReport', () => {
  it('takes a simulated experiment assembled by the lab, unchanged', async () => {
    const report = await simulatedReport();
    expect(report.runs).toHaveLength(6);
    expect(report.experiment.scenarios.find((s) => s.name === 'bad')?.faults?.schedule).toEqual({ afterMs: 5000 });
    expect(parseExperimentReport(wire(report))).toEqual(wire(report));
  });

  it('takes a report with both modes and agreement rows', () => {
    const report = reportOf(fullRuns());
    expect(report.agreement?.length).toBeGreaterThan(0);
    expect(parseExperimentReport(wire(report))).toEqual(wire(report));
  });

  it('names the path of the first bad field', () => {
    const report = wire(reportOf(fullRuns()));
    const runs = report['runs'] as Record<string, unknown>[];
    runs[3] = { ...runs[3], failed: 'many' };
    const refused = refusal(report);
    expect(refused.message).toMatch(/^report\.json is not a policy-lab report: runs\[3\]\.failed: .*number/);
    expect(refused.issues[0]!.path).toBe('runs[3].failed');
  });

  it('names a missing field deep in the experiment, and a timeline point', () => {
    const report = wire(reportOf(fullRuns()));
    const experiment = report['experiment'] as { policies: Record<string, unknown>[] };
    delete experiment.policies[1]!['shift'];
    expect(refusal(report).message).toContain('experiment.policies[1].shift: ');
    const other = wire(reportOf(fullRuns()));
    const run = (other['runs'] as { timeline: Record<string, unknown>[] }[])[0]!;
    run.timeline[2] = { ...run.timeline[2], weight: null };
    expect(refusal(other).issues[0]!.path).toBe('runs[0].timeline[2].weight');
  });

  it('refuses a run of a policy the experiment does not have, at its field', () => {
    const report = wire(reportOf(fullRuns()));
    (report['runs'] as Record<string, unknown>[])[5]!['policy'] = 'nobody';
    expect(refusal(report).message).toContain(`runs[5].policy: "nobody" is not one of the experiment's policies`);
  });

  it('refuses what is not a report at all', () => {
    expect(refusal([]).message).toMatch(/^report\.json is not a policy-lab report: .*expected object, received array/);
    expect(refusal({}).issues[0]!.path).toBe('experiment');
  });
});
