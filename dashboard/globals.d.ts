/** The globals the dashboard's classic scripts define: uPlot (vendor) and the lab report's chart drawing. */
import type UPlot from '../node_modules/uplot/dist/uPlot.js';

declare global {
  /** uPlot, from /ui/vendor/uPlot.iife.min.js. */
  const uPlot: typeof UPlot;

  namespace uPlot {
    type Options = UPlot.Options;
    type AlignedData = UPlot.AlignedData;
    type Series = UPlot.Series;
  }
  type uPlot = UPlot;

  interface Window {
    /** Draws every `[data-chart]` element of a lab report inside `root` (dashboard/lab-charts.js). */
    drawLabCharts?: (root: ParentNode, report: unknown, view: unknown) => void;
  }
}
