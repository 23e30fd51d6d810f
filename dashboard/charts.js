// @ts-check
/**
 * @module dashboard/charts
 * The deployment page's uPlot charts: planned against actual weight (a step chart in deployment time
 * since AllowTraffic began), and per version live requests/s, error rate, p50 and p99 over the stats
 * window with each alarm's threshold as a horizontal line. The data is made by pure functions (tested
 * alone); the drawing keeps one uPlot per chart and redraws it in place, rebuilding only when the
 * series change. Every chart has a text alternative beside it, made by the page.
 */
import { formatDuration, formatMs, formatNumber, formatRatio } from './format.js';

/**
 * @typedef {import('./types.js').ScheduleAnswer} ScheduleAnswer
 * @typedef {import('./types.js').TimelineEntry} TimelineEntry
 * @typedef {import('./types.js').StatsSnapshot} StatsSnapshot
 * @typedef {import('./types.js').AlarmReading} AlarmReading
 * @typedef {import('./types.js').AlarmConfig} AlarmConfig
 */

/** Colours: each always comes with its version's label in words (legends, tables, text). */
export const COLOURS = {
  blue: '#1d4ed8',
  green: '#047857',
  other: '#7c3aed',
  planned: '#6b7280',
  threshold: '#b91c1c',
};

/**
 * @typedef {object} WeightSeries
 * @property {number[]} xs seconds of deployment time since AllowTraffic began
 * @property {number[]} planned the planned percent on the replacement at each x
 * @property {(number | null)[]} actual the actual percent at each x (null past what has happened)
 * @property {{ atMs: number, percent: number }[]} changes the actual weight changes
 */

/**
 * A step function's value at `x`: the last point at or before it (`before` when there is none).
 * @param {[number, number][]} points sorted by x
 * @param {number} x
 * @param {number} before
 */
function stepAt(points, x, before) {
  let value = before;
  for (const [px, py] of points) {
    if (px > x) break;
    value = py;
  }
  return value;
}

/**
 * Planned and actual weight on one time axis; null before AllowTraffic has begun.
 * @param {ScheduleAnswer} schedule
 * @param {TimelineEntry[]} timeline
 * @param {number} endMs the deployment time (ms since AllowTraffic) the chart runs to: its end or now
 * @returns {WeightSeries | null}
 */
export function weightSeries(schedule, timeline, endMs) {
  const start = schedule.allowTrafficStartedAt;
  if (start === null) return null;
  /** @type {[number, number][]} */
  const planned = [];
  for (const step of schedule.steps) if (step.atMs !== null) planned.push([step.atMs, step.percent]);
  const changes = timeline
    .filter((e) => e.message === 'weight changed' && typeof e.detail.weight === 'number')
    .map((e) => ({ atMs: Math.max(0, e.time - start), percent: /** @type {number} */ (e.detail.weight) }));
  /** @type {[number, number][]} */
  const actual = changes.map((c) => [c.atMs, c.percent]);
  const lastPlanned = planned.at(-1)?.[0] ?? 0;
  const end = Math.max(endMs, lastPlanned, actual.at(-1)?.[0] ?? 0, schedule.totalMs ?? 0);
  // The actual line runs to now (or the end), the planned one to its last step if that is later.
  const happened = Math.max(endMs, actual.at(-1)?.[0] ?? 0);
  const xsMs = [...new Set([0, ...planned.map((p) => p[0]), ...actual.map((p) => p[0]), happened, end])].sort(
    (a, b) => a - b,
  );
  return {
    xs: xsMs.map((x) => x / 1000),
    planned: xsMs.map((x) => stepAt(planned, x, 0)),
    actual: xsMs.map((x) => (x <= happened ? stepAt(actual, x, 0) : null)),
    changes,
  };
}

/** The live figures a chart can show, with their words and units. */
export const METRICS = /** @type {const} */ ({
  rps: {
    title: 'Requests per second',
    unit: 'requests/s',
    format: (/** @type {number | null} */ v) => formatNumber(v),
  },
  errorRate: { title: 'Error rate', unit: '%', format: formatRatio },
  p50Ms: { title: 'Latency p50', unit: 'ms', format: formatMs },
  p99Ms: { title: 'Latency p99', unit: 'ms', format: formatMs },
});

/** @typedef {keyof typeof METRICS} Metric */

/**
 * The chart an alarm's threshold belongs on: error-rate alarms on the error rate, latency alarms on the
 * p50 chart when their quantile is at most 0.5 and on the p99 chart otherwise; other kinds on none.
 * @param {AlarmReading} reading
 * @param {AlarmConfig | undefined} config
 * @returns {Metric | null}
 */
export function metricOfAlarm(reading, config) {
  if (reading.kind === 'error-rate') return 'errorRate';
  if (reading.kind === 'latency') return (config?.quantile ?? 0.99) <= 0.5 ? 'p50Ms' : 'p99Ms';
  return null;
}

/**
 * @typedef {object} LiveSeries
 * @property {number[]} xs epoch seconds of each snapshot
 * @property {{ label: string, name: string, colour: 'blue' | 'green' | 'other', values: (number | null)[] }[]} versions
 * @property {{ label: string, value: number }[]} thresholds
 */

/**
 * One metric of one service's versions over the snapshots, with the thresholds of its alarms.
 * @param {StatsSnapshot[]} stats
 * @param {string} service
 * @param {{ label: string, name: string, colour: 'blue' | 'green' | 'other' }[]} versions
 * @param {Metric} metric
 * @param {{ reading: AlarmReading, config: AlarmConfig | undefined }[]} alarms the deployment's alarm readings
 * @returns {LiveSeries}
 */
export function liveSeries(stats, service, versions, metric, alarms) {
  const xs = stats.map((s) => s.at / 1000);
  return {
    xs,
    versions: versions.map((v) => ({
      ...v,
      values: stats.map((s) => {
        const figures = s.services.find((x) => x.service === service)?.versions.find((x) => x.version === v.label);
        return figures ? figures[metric] : null;
      }),
    })),
    thresholds: alarms
      .filter((a) => a.reading.threshold !== null && metricOfAlarm(a.reading, a.config) === metric)
      .map((a) => ({
        label: `alarm ${a.reading.alarm} threshold`,
        value: /** @type {number} */ (a.reading.threshold),
      })),
  };
}

/** A chart's width: its container's, within bounds. */
function widthOf(/** @type {HTMLElement} */ el) {
  return Math.max(280, Math.min(900, el.clientWidth || 600));
}

/** One uPlot kept in a container: redrawn with new data, rebuilt when its series change. */
export class Chart {
  /** @type {uPlot | null} */
  #plot = null;
  #shape = '';
  /** @type {ResizeObserver | null} */
  #resize = null;

  /** @param {HTMLElement} el the container (the chart's canvas goes inside) */
  constructor(el) {
    this.el = el;
    if (typeof ResizeObserver === 'function') {
      this.#resize = new ResizeObserver(() => this.#plot?.setSize({ width: widthOf(el), height: this.#plot.height }));
      this.#resize.observe(el);
    }
  }

  /**
   * Draws `data` with the options `make` builds (called only when `shape` differs from the last).
   * @param {string} shape what identifies the series (labels, scales)
   * @param {(width: number) => uPlot.Options} make
   * @param {uPlot.AlignedData} data
   */
  draw(shape, make, data) {
    if (typeof uPlot !== 'function') return;
    if (this.#plot && shape === this.#shape) {
      this.#plot.setData(data);
      return;
    }
    this.#plot?.destroy();
    this.#shape = shape;
    this.#plot = new uPlot(make(widthOf(this.el)), data, this.el);
  }

  /** Removes the chart. */
  destroy() {
    this.#resize?.disconnect();
    this.#plot?.destroy();
    this.#plot = null;
  }
}

/** Axis values as durations of deployment time. */
const durationTicks = (/** @type {uPlot} */ _u, /** @type {number[]} */ values) =>
  values.map((v) => formatDuration(v * 1000));

/**
 * Draws planned against actual weight.
 * @param {Chart} chart
 * @param {WeightSeries} series
 * @param {string} target the replacement's name in words ("2 (green)")
 */
export function drawWeightChart(chart, series, target) {
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  chart.draw(
    `weight|${target}`,
    (width) => ({
      width,
      height: 220,
      scales: { x: { time: false }, pct: { range: [0, 100] } },
      series: [
        { label: 'deployment time since AllowTraffic', value: (_u, v) => (v == null ? '–' : formatDuration(v * 1000)) },
        {
          label: `planned % on ${target}`,
          scale: 'pct',
          stroke: COLOURS.planned,
          width: 2,
          dash: [8, 4],
          paths: stepped,
        },
        {
          label: `actual % on ${target}`,
          scale: 'pct',
          stroke: COLOURS.green,
          width: 2.5,
          paths: stepped,
          fill: 'rgba(4,120,87,0.10)',
        },
      ],
      axes: [
        { values: durationTicks, label: 'deployment time since AllowTraffic', labelSize: 20 },
        { scale: 'pct', values: (_u, vals) => vals.map((v) => `${v}%`), size: 50 },
      ],
    }),
    [series.xs, series.planned, series.actual],
  );
}

/**
 * Draws one live metric of a service's versions with its alarm thresholds.
 * @param {Chart} chart
 * @param {Metric} metric
 * @param {LiveSeries} series
 */
export function drawLiveChart(chart, metric, series) {
  const { format } = METRICS[metric];
  const scale = metric === 'errorRate' ? (/** @type {number} */ v) => v * 100 : (/** @type {number} */ v) => v;
  const shape = [metric, ...series.versions.map((v) => v.name), ...series.thresholds.map((t) => t.label)].join('|');
  /** @type {uPlot.AlignedData} */
  const data = [
    series.xs,
    ...series.versions.map((v) => v.values.map((x) => (x === null ? null : scale(x)))),
    ...series.thresholds.map((t) => series.xs.map(() => scale(t.value))),
  ];
  chart.draw(
    shape,
    (width) => ({
      width,
      height: 170,
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, Math.max(metric === 'errorRate' ? 1 : 1, (max ?? 0) * 1.15)] },
      },
      series: [
        {},
        ...series.versions.map((v) => ({
          label: v.name,
          stroke: COLOURS[v.colour],
          width: 2,
          // Green dashed as well as green: the two are told apart without colour.
          ...(v.colour === 'green' && { dash: [6, 3] }),
          value: (/** @type {uPlot} */ _u, /** @type {number | null} */ x) =>
            x == null ? '–' : format(metric === 'errorRate' ? x / 100 : x),
        })),
        ...series.thresholds.map((t) => ({
          label: t.label,
          stroke: COLOURS.threshold,
          width: 1.5,
          dash: [2, 4],
          points: { show: false },
          value: () => format(t.value),
        })),
      ],
      axes: [
        {},
        {
          size: 56,
          values: (_u, vals) =>
            vals.map((v) => (metric === 'errorRate' ? `${formatNumber(v, 2)}%` : formatNumber(v, 1))),
        },
      ],
    }),
    data,
  );
}
