// @ts-check
/**
 * @module dashboard/pages/deployment
 * `/deployments/<id>`: a deployment's status, controls, summary, planned against actual weight, live
 * per-version traffic with its alarms' thresholds, the alarms, the lifecycle events and the timeline.
 * Kept current by the streams: each event about this deployment reads its detail and schedule again
 * (once at a time), each stats snapshot redraws the live parts. Readable after the deployment ended.
 */
import { api } from '../api.js';
import { Chart, drawLiveChart, drawWeightChart, liveSeries, METRICS, weightSeries } from '../charts.js';
import { formatDuration, formatMs, formatNumber, formatPercent, formatRatio } from '../format.js';
import { TERMINAL } from '../state.js';
import { confirmAction } from '../ui/dialog.js';
import { h, replace, showAlert, table } from '../ui/dom.js';
import { alarmsTable, facts, lifecycleTable, timelineItem, timeScaleText } from './deployment-parts.js';

/**
 * @typedef {import('../types.js').DeploymentDetail} DeploymentDetail
 * @typedef {import('../types.js').ScheduleAnswer} ScheduleAnswer
 * @typedef {import('../types.js').AlarmConfig} AlarmConfig
 * @typedef {import('../types.js').TimelineEntry} TimelineEntry
 * @typedef {import('../app.js').PageContext} PageContext
 */

/**
 * Which controls apply to a deployment now.
 * @param {DeploymentDetail} d
 */
export function applicableControls(d) {
  const running = !TERMINAL.has(d.status);
  const shifting =
    running &&
    d.status === 'InProgress' &&
    d.lifecycleEvents.some((e) => e.name === 'AllowTraffic' && e.status === 'InProgress');
  return {
    stop: running,
    continue: running && (d.waitingFor === 'READY_WAIT' || d.waitingFor === 'TERMINATION_WAIT'),
    promote: shifting && d.promoted !== true,
  };
}

/** What a deployment waits for, in words, or "". */
function waitingText(/** @type {DeploymentDetail} */ d) {
  switch (d.waitingFor) {
    case 'READY_WAIT':
      return 'waiting in Ready for Continue';
    case 'TERMINATION_WAIT':
      return 'waiting before the original version is retired (Continue ends the wait)';
    case 'CONTINUE_STEP':
      return 'holding at this weight until Promote';
    default:
      return d.promoted ? 'promoted: skipping the remaining waits' : '';
  }
}

/**
 * The controls, each behind a confirmation; a refusal shows the API's message.
 * @param {string} id
 * @param {() => DeploymentDetail | undefined} current
 * @param {() => void} refresh
 */
function controls(id, current, refresh) {
  const place = h('div', { class: 'controls' });
  const path = `/v1/deployments/${encodeURIComponent(id)}`;
  /**
   * @param {string} name
   * @param {(d: DeploymentDetail | undefined) => string} text what the action does, in words
   * @param {string} action
   * @param {object} body
   */
  const button = (name, text, action, body) => {
    const b = h('button', { type: 'button', disabled: true }, name);
    b.addEventListener('click', () => {
      void (async () => {
        if (!(await confirmAction(`${name}: deployment ${id}`, text(current())))) return;
        try {
          await api(`${path}/${action}`, { method: 'POST', body });
          showAlert(place, null);
        } catch (err) {
          showAlert(place, err instanceof Error ? err.message : String(err));
        }
        refresh();
      })();
    });
    return b;
  };
  const blue = (/** @type {DeploymentDetail | undefined} */ d) =>
    d ? `version ${d.currentVersion} (blue)` : 'the original version';
  const green = (/** @type {DeploymentDetail | undefined} */ d) =>
    d ? `version ${d.targetVersion} (green)` : 'the replacement';
  const stop = button('Stop', () => 'Stop the deployment where it is, without rolling back.', 'stop', {
    rollback: false,
  });
  const rollback = button(
    'Stop and roll back',
    (d) => `Stop the deployment and roll back: production traffic returns to ${blue(d)}.`,
    'stop',
    { rollback: true },
  );
  const cont = button(
    'Continue',
    (d) =>
      d?.waitingFor === 'READY_WAIT'
        ? `End the ready wait: the deployment goes on to shift production traffic to ${green(d)}.`
        : `End the termination wait: the deployment finishes and ${blue(d)} is retired.`,
    'continue',
    {},
  );
  const promote = button(
    'Promote',
    (d) => `Skip the rest of the shift schedule: ${green(d)} gets all production traffic now.`,
    'promote',
    {},
  );
  place.append(h('div', { class: 'buttons' }, stop, rollback, cont, promote));
  /** Enables what applies. */
  const update = (/** @type {DeploymentDetail} */ detail) => {
    const can = applicableControls(detail);
    stop.disabled = !can.stop;
    rollback.disabled = !can.stop;
    cont.disabled = !can.continue;
    promote.disabled = !can.promote;
  };
  return { place, update };
}

/** A chart's figure: the canvas's container and a caption. */
function figure(/** @type {string} */ title, /** @type {HTMLElement} */ caption) {
  const plot = h('div', { class: 'plot' });
  return { el: h('figure', { class: 'chart' }, h('figcaption', {}, h('strong', {}, title), caption), plot), plot };
}

/**
 * Renders a deployment's page.
 * @type {import('../app.js').Page}
 */
export function render(main, ctx, id = '') {
  ctx.setTitle(`Deployment ${id}`);
  const store = ctx.store;
  const status = h('span', { 'data-testid': 'deployment-status' }, '…');
  const waiting = h('span', { class: 'waiting' });
  const weight = h('span', {});
  const summary = h('div', {});
  const lifecycle = h('div', { class: 'table-wrap' });
  const timeline = h('ol', { 'aria-label': 'Timeline', class: 'timeline' });
  const alarms = h('div', { class: 'table-wrap' });
  const latest = h('div', { class: 'table-wrap' });
  const scheduleCaption = h('p', {});
  const scheduleFigure = figure('Planned and actual weight', scheduleCaption);
  const liveFigures = /** @type {const} */ (['rps', 'errorRate', 'p50Ms', 'p99Ms']).map((metric) => ({
    metric,
    ...figure(METRICS[metric].title, h('span', {})),
  }));
  const problem = h('div', {});
  /** @type {DeploymentDetail | undefined} */
  let detail;
  /** @type {ScheduleAnswer | undefined} */
  let schedule;
  /** @type {Record<string, AlarmConfig>} */
  let alarmConfigs = {};
  const weightChart = new Chart(scheduleFigure.plot);
  const liveCharts = liveFigures.map((f) => ({ metric: f.metric, chart: new Chart(f.plot) }));
  const ctl = controls(
    id,
    () => detail,
    () => refresh(),
  );

  main.append(
    h('h1', { tabindex: -1 }, `Deployment ${id}`),
    problem,
    h(
      'p',
      { class: 'status-line', 'aria-live': 'polite' },
      'Status: ',
      status,
      ' ',
      waiting,
      h('span', { class: 'sep' }, ' · '),
      weight,
    ),
    ctl.place,
    h('section', { 'aria-labelledby': 'd-summary' }, h('h2', { id: 'd-summary' }, 'Summary'), summary),
    h('section', { 'aria-labelledby': 'd-shift' }, h('h2', { id: 'd-shift' }, 'Traffic shift'), scheduleFigure.el),
    h(
      'section',
      { 'aria-labelledby': 'd-live' },
      h('h2', { id: 'd-live' }, 'Live traffic'),
      h(
        'div',
        { class: 'chart-grid' },
        liveFigures.map((f) => f.el),
      ),
      latest,
    ),
    h('section', { 'aria-labelledby': 'd-alarms' }, h('h2', { id: 'd-alarms' }, 'Alarms'), alarms),
    h('section', { 'aria-labelledby': 'd-lifecycle' }, h('h2', { id: 'd-lifecycle' }, 'Lifecycle events'), lifecycle),
    h('section', { 'aria-labelledby': 'd-timeline' }, h('h2', { id: 'd-timeline' }, 'Timeline'), timeline),
  );

  const entries = () => store.state.timelines.get(id) ?? [];
  const versions = () => {
    const d = detail;
    if (!d) return [];
    return [
      { label: d.currentVersion, name: `${d.currentVersion} (blue)`, colour: /** @type {const} */ ('blue') },
      { label: d.targetVersion, name: `${d.targetVersion} (green)`, colour: /** @type {const} */ ('green') },
    ];
  };

  /** The deployment time (ms since AllowTraffic began) the weight chart runs to: the end, or about now. */
  const chartEnd = () => {
    const d = store.state.deployments.get(id) ?? detail;
    const start = schedule?.allowTrafficStartedAt;
    if (!d || start == null) return 0;
    if (d.completeTime !== undefined) return d.completeTime - start;
    const last = entries().at(-1);
    if (!last) return 0;
    return last.time + (Date.now() - last.wallTime) * d.timeScale - start;
  };

  const drawShift = () => {
    if (!schedule || !detail) return;
    const series = weightSeries(schedule, entries(), chartEnd());
    const target = `${detail.targetVersion} (green)`;
    const plan = schedule.steps
      .map(
        (s) =>
          `${formatPercent(s.percent)}${s.atMs === null ? ' after a manual continue' : ` at ${formatDuration(s.atMs)}`}`,
      )
      .join(', then ');
    const actual = series?.changes
      .map((c) => `${formatPercent(c.percent)} at ${formatDuration(c.atMs)}`)
      .join(', then ');
    replace(
      scheduleCaption,
      `Percent of production traffic on ${target}, against deployment time since AllowTraffic began; ${timeScaleText(schedule.timeScale)}. `,
      `Planned: ${plan || 'all at once'}. `,
      series ? `Actual: ${actual || 'no change yet'}.` : 'AllowTraffic has not begun.',
    );
    if (series) drawWeightChart(weightChart, series, target);
  };

  const drawLive = () => {
    const d = detail;
    if (!d) return;
    const readings = store.state.alarms
      .filter((a) => a.deploymentId === id)
      .map((reading) => ({ reading, config: alarmConfigs[reading.alarm] }));
    liveCharts.forEach(({ metric, chart }, i) => {
      const series = liveSeries(store.state.stats, d.service, versions(), metric, readings);
      drawLiveChart(chart, metric, series);
      const thresholds = series.thresholds.map((t) => `${t.label} ${METRICS[metric].format(t.value)}`).join(', ');
      const caption = liveFigures[i]?.el.querySelector('figcaption span');
      if (caption) {
        caption.textContent = ` of ${d.service} by version, last 5 minutes${
          thresholds ? ` (dotted red: ${thresholds})` : ''
        }; the table below has the latest figures.`;
      }
    });
    const figures = store.state.stats.at(-1)?.services.find((s) => s.service === d.service)?.versions ?? [];
    replace(
      latest,
      table(
        `Latest second of ${d.service}`,
        ['Version', 'Requests/s', 'Error rate', 'p50', 'p99'],
        versions().map((v) => {
          const f = figures.find((x) => x.version === v.label);
          return [v.name, formatNumber(f?.rps), formatRatio(f?.errorRate), formatMs(f?.p50Ms), formatMs(f?.p99Ms)];
        }),
      ),
    );
    drawAlarms();
  };

  const drawAlarms = () => {
    const d = detail;
    if (!d) return;
    const names = d.alarms?.names ?? [];
    const readings = store.state.alarms.filter((a) => a.deploymentId === id);
    const first = entries()[0];
    if (names.length === 0 && readings.length === 0) {
      replace(alarms, h('p', {}, 'No alarms are watched for this deployment.'));
    } else replace(alarms, alarmsTable(names, readings, entries(), first, alarmConfigs));
  };

  const drawTimeline = () => {
    const list = entries();
    const shown = timeline.children.length;
    // Entries only ever arrive in order at the end, except after a reconnection's merge: redraw then.
    if (shown > list.length || shown === 0)
      replace(
        timeline,
        list.map((e) => timelineItem(e, list[0])),
      );
    else for (const e of list.slice(shown)) timeline.append(timelineItem(e, list[0]));
  };

  const drawStatus = () => {
    const d = store.state.deployments.get(id) ?? detail;
    if (!d) return;
    status.textContent = d.status;
    weight.textContent = `${formatPercent(d.trafficWeight)} of production traffic on ${d.targetVersion} (green)`;
    if (detail) {
      const merged = { ...detail, ...d };
      waiting.textContent = TERMINAL.has(merged.status) ? '' : waitingText(merged);
      ctl.update(merged);
      replace(summary, facts(merged, Date.now()));
    }
  };

  let reading = false;
  let again = false;
  /** Reads the detail and schedule again; once at a time, once more if asked meanwhile. */
  const refresh = () => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    void Promise.all([
      store.readDeployment(id),
      api(`/v1/deployments/${encodeURIComponent(id)}/schedule`).catch(() => undefined),
    ])
      .then(([d, s]) => {
        detail = d;
        schedule = /** @type {ScheduleAnswer | undefined} */ (s) ?? schedule;
        showAlert(problem, null);
        drawStatus();
        replace(lifecycle, lifecycleTable(d));
        drawShift();
        drawLive();
      })
      .catch((/** @type {unknown} */ err) => {
        showAlert(problem, err instanceof Error ? err.message : String(err));
      })
      .finally(() => {
        reading = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  };

  refresh();
  void store.loadTimeline(id).catch(() => {});
  void api('/v1/alarms')
    .then((answer) => {
      alarmConfigs = /** @type {{ alarms: Record<string, AlarmConfig> }} */ (answer).alarms;
      drawLive();
    })
    .catch(() => {});

  let wasLive = store.live;
  const unsubscribe = store.subscribe((topic, about) => {
    if (topic === 'timeline' && about === id) {
      drawTimeline();
      drawShift();
      drawAlarms();
      refresh();
    } else if (topic === 'deployments' && (about === id || about === undefined)) drawStatus();
    else if (topic === 'stats') {
      drawLive();
      // A running deployment's actual weight line reaches the present, and its duration counts on (the
      // summary is left alone while focus is in it, so a reader on one of its links keeps their place).
      if (detail && !TERMINAL.has(detail.status)) {
        drawShift();
        if (!summary.contains(document.activeElement)) drawStatus();
      }
    } else if (topic === 'connection') {
      if (store.live && !wasLive) {
        void store.loadTimeline(id).catch(() => {});
        refresh();
      }
      wasLive = store.live;
    }
  });
  return () => {
    unsubscribe();
    weightChart.destroy();
    for (const { chart } of liveCharts) chart.destroy();
  };
}
