/**
 * The lab reports shelf over a real temporary folder: the list (newest first, uploads marked, unreadable
 * folders left out), one report as its page's parts, uploads named from their experiment, and every
 * refusal: names that would leave the folder, unknown names, invalid and oversized reports.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { renderReportParts } from '../../src/lab/report/html.js';
import { labReportShelf, MAX_REPORT_BYTES, safeName } from '../../src/lab/report/shelf.js';
import { writeReport } from '../../src/lab/report/write.js';
import type { ExperimentReport } from '../../src/lab/results.js';
import { experimentOf, fullRuns, reportOf, simulatedReport } from '../support/lab-report.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir('lab-shelf');

/** The fixture report under another experiment name and start. */
function named(name: string, startedAt: string): ExperimentReport {
  const report = reportOf(fullRuns(['sim']));
  return { ...report, startedAt, experiment: { ...experimentOf(), name } };
}

const wire = (report: ExperimentReport): unknown => JSON.parse(JSON.stringify(report));

describe('labReportShelf', () => {
  it('lists nothing when the folder does not exist yet', async () => {
    expect(await labReportShelf(join(dir.path(), 'absent')).list()).toEqual([]);
  });

  it('lists the reports newest first, reads one as its page parts, and leaves out what is not a report', async () => {
    const root = join(dir.path(), 'listed');
    await writeReport(join(root, 'older'), named('older one', '2026-01-01T00:00:00.000Z'));
    const simulated = await simulatedReport();
    await writeReport(join(root, 'tiny sim'), simulated);
    await mkdir(join(root, 'empty'));
    await mkdir(join(root, 'broken'));
    await writeFile(join(root, 'broken', 'report.json'), '{"experiment": 1}');
    await writeFile(join(root, 'stray.json'), '{}');
    const shelf = labReportShelf(root);

    const list = await shelf.list();
    expect(list.map((r) => r.name)).toEqual(['tiny sim', 'older']);
    expect(list[0]).toEqual({
      name: 'tiny sim',
      title: 'Policy lab: tiny sim',
      experiment: 'tiny sim',
      startedAt: simulated.startedAt,
      finishedAt: simulated.finishedAt,
      complete: true,
      modes: ['sim'],
      runs: 6,
      uploaded: false,
    });

    const page = await shelf.read('tiny sim');
    const parts = renderReportParts(wire(simulated) as ExperimentReport);
    expect(page).toEqual({ name: 'tiny sim', ...parts });
    expect(page.markup).toContain('data-chart="timeline"');
    expect(page.markup).not.toMatch(/\sstyle\s*=|<script/);

    await expect(shelf.read('broken')).rejects.toMatchObject({
      code: 'LAB_REPORT_INVALID',
      message: expect.stringContaining('lab report "broken" is not a policy-lab report: experiment: '),
    });
    await expect(shelf.read('empty')).rejects.toMatchObject({ code: 'LAB_REPORT_NOT_FOUND' });
    await expect(shelf.read('nobody')).rejects.toMatchObject({
      code: 'LAB_REPORT_NOT_FOUND',
      message: 'no lab report named "nobody"',
    });
  });

  it('refuses names that would leave the folder', async () => {
    const root = join(dir.path(), 'escape');
    await writeReport(join(dir.path(), 'outside'), named('outside', '2026-01-01T00:00:00.000Z'));
    const shelf = labReportShelf(root);
    for (const name of ['..', '.', '', '../outside', 'a/b', 'a\\b', 'x\0y']) {
      await expect(shelf.read(name), name).rejects.toMatchObject({ code: 'ARGUMENTS_INVALID' });
    }
  });

  it('stores an upload under its experiment name made safe, -2 when taken, with report.md and .html, marked as uploaded', async () => {
    const root = join(dir.path(), 'uploads');
    const shelf = labReportShelf(root);
    const report = named('canary: 10%/5m', '2026-02-01T00:00:00.000Z');
    expect(await shelf.store(wire(report))).toEqual({ name: 'canary-10-5m' });
    expect(await shelf.store(wire(report))).toEqual({ name: 'canary-10-5m-2' });
    expect(await shelf.store(wire(report))).toEqual({ name: 'canary-10-5m-3' });
    expect((await readdir(join(root, 'canary-10-5m'))).sort()).toEqual([
      'report.html',
      'report.json',
      'report.md',
      'uploaded.json',
    ]);
    expect(JSON.parse(await readFile(join(root, 'canary-10-5m-2', 'report.json'), 'utf8'))).toEqual(wire(report));
    const list = await shelf.list();
    expect(list.map((r) => [r.name, r.uploaded])).toEqual([
      ['canary-10-5m', true],
      ['canary-10-5m-2', true],
      ['canary-10-5m-3', true],
    ]);
    expect((await shelf.read('canary-10-5m-3')).title).toBe('Policy lab: canary: 10%/5m');
  });

  it('makes any experiment name a folder name inside the shelf', () => {
    expect(safeName('policies')).toBe('policies');
    expect(safeName('a b:c+d%e')).toBe('a-b-c-d-e');
    expect(safeName('..')).toBe('report');
    expect(safeName('../../etc')).toBe('etc');
    expect(safeName('.hidden')).toBe('hidden');
    expect(safeName('x'.repeat(100))).toHaveLength(64);
    expect(safeName('---')).toBe('report');
  });

  it('refuses an invalid upload, naming the field, and writes nothing', async () => {
    const root = join(dir.path(), 'invalid');
    const shelf = labReportShelf(root);
    const report = wire(named('bad', '2026-01-01T00:00:00.000Z')) as { summary: Record<string, unknown>[] };
    report.summary[2]!['failed'] = { median: 'x' };
    await expect(shelf.store(report)).rejects.toMatchObject({
      code: 'LAB_REPORT_INVALID',
      message: expect.stringMatching(/^the uploaded report is not a policy-lab report: summary\[2\]\.failed\.median: /),
    });
    expect(existsSync(root)).toBe(false);
  });

  it('refuses a report.json over 32 MiB, on disk or uploaded', async () => {
    const root = join(dir.path(), 'large');
    await mkdir(join(root, 'huge'), { recursive: true });
    await writeFile(join(root, 'huge', 'report.json'), '');
    // Sparse: the size is all the shelf looks at before refusing.
    await truncate(join(root, 'huge', 'report.json'), MAX_REPORT_BYTES + 1);
    const shelf = labReportShelf(root);
    await expect(shelf.read('huge')).rejects.toMatchObject({
      code: 'LAB_REPORT_INVALID',
      message: `lab report "huge" is larger than the 32 MiB a lab report may have (${MAX_REPORT_BYTES + 1} bytes)`,
    });
    expect(await shelf.list()).toEqual([]);

    const big = named('big', '2026-01-01T00:00:00.000Z');
    const padded = { ...big, experiment: { ...big.experiment, file: 'x'.repeat(MAX_REPORT_BYTES) } };
    await expect(shelf.store(wire(padded))).rejects.toMatchObject({
      code: 'LAB_REPORT_INVALID',
      message: expect.stringMatching(/^the uploaded report \(as report\.json\) is larger than the 32 MiB a lab report/),
    });
    expect(await readdir(root)).toEqual(['huge']);
  });
});
