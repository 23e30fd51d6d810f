/**
 * @module lab/report/write
 * Writes a report's three files: report.json (the contract), report.md and report.html.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describeError } from '../../core/describe-error.js';
import { SwitchyardError } from '../../core/errors.js';
import type { ExperimentReport } from '../results.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

/** The paths of the files written. */
export interface WrittenReport {
  readonly json: string;
  readonly markdown: string;
  readonly html: string;
}

/** Writes report.json, report.md and report.html into `dir`, making it (and its parents) when missing. */
export async function writeReport(dir: string, report: ExperimentReport): Promise<WrittenReport> {
  const paths = { json: join(dir, 'report.json'), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  // Rendered before anything is written, so that a rendering problem leaves no half-written report.
  const files: [string, string][] = [
    [paths.json, JSON.stringify(report, null, 2) + '\n'],
    [paths.markdown, renderMarkdown(report)],
    [paths.html, renderHtml(report)],
  ];
  try {
    await mkdir(dir, { recursive: true });
    for (const [path, text] of files) await writeFile(path, text, 'utf8');
  } catch (cause) {
    throw new SwitchyardError('EXPERIMENT_FAILED', `cannot write the report into ${dir}: ${describeError(cause)}`, {
      cause,
    });
  }
  return paths;
}
