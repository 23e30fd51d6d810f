/**
 * @module lab/report/assets
 * The chart library's script and stylesheet, read from the installed package when a page is rendered
 * so that report.html carries them inline and opens from disk with no network. Resolved from this module
 * (not from the working directory), so that it works from the built files and from the sources alike.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { describeError } from '../../core/describe-error.js';
import { SwitchyardError } from '../../core/errors.js';

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
