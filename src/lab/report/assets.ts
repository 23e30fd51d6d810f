/**
 * @module lab/report/assets
 * What report.html carries inline so that it opens from disk with no network: the chart library's script
 * and stylesheet, read from the installed package, and the report's own drawing script and stylesheet,
 * the dashboard's files (dashboard/lab-charts.js and lab-report.css) read from the package folder, so
 * that the page and the dashboard draw with the same code. Resolved from this module (not from the
 * working directory), so that it works from the built files and from the sources alike.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { describeError } from '../../core/describe-error.js';
import { SwitchyardError } from '../../core/errors.js';
import { packageRoot } from '../../core/package-root.js';

/** uPlot's minified browser build (it defines the global `uPlot`) and its stylesheet. */
export interface ChartAssets {
  readonly script: string;
  readonly css: string;
}

let cached: ChartAssets | undefined;

/** The uPlot script and stylesheet, read once. */
export function chartAssets(): ChartAssets {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = {
      script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  } catch (cause) {
    throw new SwitchyardError('INTERNAL', `cannot read the chart library (uplot): ${describeError(cause)}`, { cause });
  }
  return cached;
}

/** The report's drawing script (it defines `drawLabCharts`) and its stylesheet (scoped under `.lab-report`). */
export interface ReportAssets {
  readonly script: string;
  readonly css: string;
}

let cachedReport: ReportAssets | undefined;

/** dashboard/lab-charts.js and dashboard/lab-report.css, read once. */
export function reportAssets(): ReportAssets {
  if (cachedReport) return cachedReport;
  try {
    const dashboard = join(packageRoot(), 'dashboard');
    cachedReport = {
      script: readFileSync(join(dashboard, 'lab-charts.js'), 'utf8'),
      css: readFileSync(join(dashboard, 'lab-report.css'), 'utf8'),
    };
  } catch (cause) {
    throw new SwitchyardError(
      'INTERNAL',
      `cannot read the lab report's script and stylesheet: ${describeError(cause)}`,
      {
        cause,
      },
    );
  }
  return cachedReport;
}
