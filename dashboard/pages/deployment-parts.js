// @ts-check
/**
 * @module dashboard/pages/deployment-parts
 * The parts of a deployment's page that are drawn from its answers alone: the summary facts, the
 * lifecycle events, the timeline, and the alarms with the moment each fired. Pure DOM building; the
 * page decides when to redraw them.
 */
import {
  entryDetail,
  formatClock,
  formatDuration,
  formatMs,
  formatNumber,
  formatRatio,
  formatTime,
  valueText,
} from '../format.js';
import { h, link, table } from '../ui/dom.js';

/**
 * @typedef {import('../types.js').DeploymentDetail} DeploymentDetail
 * @typedef {import('../types.js').DeploymentSummary} DeploymentSummary
 * @typedef {import('../types.js').TimelineEntry} TimelineEntry
 * @typedef {import('../types.js').AlarmReading} AlarmReading
 */

/** A link to a deployment's page. */
export function deploymentLink(/** @type {string} */ id) {
  return link(`/deployments/${encodeURIComponent(id)}`, id);
}

/**
 * How long a deployment took (or has taken so far), in real time and, at a time scale, in deployment time.
 * @param {DeploymentSummary} d
 * @param {number} now epoch ms
 */
export function durationText(d, now) {
  const from = d.wallTimes.start ?? d.wallTimes.create;
  const real = (d.wallTimes.complete ?? now) - from;
  const running = d.wallTimes.complete === undefined ? ' so far' : '';
  if (d.timeScale === 1 || d.completeTime === undefined) return `${formatDuration(real)}${running}`;
  const scaled = d.completeTime - (d.startTime ?? d.createTime);
  return `${formatDuration(real)} (${formatDuration(scaled)} of deployment time)`;
}

/** The time scale in words. */
export function timeScaleText(/** @type {number} */ timeScale) {
  return timeScale === 1
    ? 'real time (time scale 1)'
    : `time scale ${formatNumber(timeScale, 3)}: deployment time runs ${formatNumber(timeScale, 3)} times as fast as real time`;
}

/** The rollback links of a deployment, both ways. */
export function rollbackLinks(/** @type {DeploymentSummary} */ d) {
  const info = d.rollbackInfo;
  return [
    info?.rollbackDeploymentId ? h('span', {}, 'rolled back by ', deploymentLink(info.rollbackDeploymentId)) : null,
    info?.rollbackTriggeringDeploymentId
      ? h('span', {}, 'rollback of ', deploymentLink(info.rollbackTriggeringDeploymentId))
      : null,
  ].filter((x) => x !== null);
}

/**
 * The summary facts as a description list.
 * @param {DeploymentSummary & Partial<DeploymentDetail>} d
 * @param {number} now
 */
export function facts(d, now) {
  /** @type {[string, import('../ui/dom.js').Child | import('../ui/dom.js').Child[]][]} */
  const rows = [
    ['Application / group', `${d.applicationName} / ${d.deploymentGroupName}`],
    ['Service', d.service],
    ['Versions', `${d.currentVersion} (blue) → ${d.targetVersion} (green)`],
    ['Configuration', d.deploymentConfigName],
    ['Time scale', timeScaleText(d.timeScale)],
    ['Created by', d.creator === 'user' ? 'user' : 'rollback'],
    ['Created', formatTime(d.wallTimes.create)],
    ['Started', formatTime(d.wallTimes.start)],
    ['Ended', d.wallTimes.complete === undefined ? 'not yet' : formatTime(d.wallTimes.complete)],
    ['Duration', durationText(d, now)],
  ];
  if (d.description) rows.push(['Description', d.description]);
  if (d.errorInformation) rows.push(['Error', `${d.errorInformation.code}: ${d.errorInformation.message}`]);
  if (d.rollbackInfo?.rollbackMessage) rows.push(['Rollback', d.rollbackInfo.rollbackMessage]);
  const links = rollbackLinks(d);
  if (links.length > 0) rows.push(['Rollback links', links.flatMap((l, i) => (i === 0 ? [l] : ['; ', l]))]);
  return h(
    'dl',
    { class: 'facts' },
    rows.map(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]),
  );
}

/** The lifecycle events table; diagnostics and log tail in a disclosure when there are any. */
export function lifecycleTable(/** @type {DeploymentDetail} */ d) {
  return table(
    'Lifecycle events',
    ['Event', 'Status', 'Started', 'Duration', 'Diagnostics'],
    d.lifecycleEvents.map((e) => [
      e.name,
      e.status,
      e.startTime === undefined ? '–' : formatClock(e.startTime),
      e.startTime === undefined ? '–' : e.endTime === undefined ? 'running' : formatDuration(e.endTime - e.startTime),
      // A hook that succeeded says only "Succeeded": worth a disclosure only with a log to show.
      e.diagnostics && (e.diagnostics.errorCode !== 'Success' || e.diagnostics.logTail)
        ? h(
            'details',
            {},
            h('summary', {}, `${e.diagnostics.errorCode}: ${e.diagnostics.message || 'see log'}`),
            h('p', {}, `Script: ${e.diagnostics.scriptName || '–'}`),
            e.diagnostics.logTail ? h('pre', { class: 'log' }, e.diagnostics.logTail) : null,
          )
        : '–',
    ]),
  );
}

/**
 * One timeline entry as a list item: when (real and deployment time since creation), the message, and
 * its detail (reason, code, alarm) as text, with a link to a rollback deployment it names.
 * @param {TimelineEntry} entry
 * @param {TimelineEntry | undefined} first the timeline's first entry
 */
export function timelineItem(entry, first) {
  const since = first ? entry.time - first.time : 0;
  const detail = entryDetail(entry);
  const rollback = entry.detail.rollbackDeploymentId;
  return h(
    'li',
    { class: `entry ${entry.level}` },
    h('time', { datetime: new Date(entry.wallTime).toISOString() }, formatClock(entry.wallTime)),
    h('span', { class: 'since' }, `+${formatDuration(since)}`),
    h('strong', { class: 'message' }, entry.message),
    detail ? h('span', { class: 'detail' }, detail) : null,
    typeof rollback === 'string' ? h('span', { class: 'detail' }, 'rollback: ', deploymentLink(rollback)) : null,
    entry.status ? h('span', { class: 'entry-status' }, entry.status) : null,
  );
}

/** Each alarm's first 'ALARM' entry and last state in a timeline. */
export function alarmHistory(/** @type {TimelineEntry[]} */ timeline) {
  /** @type {Map<string, { firedAt?: TimelineEntry, last: TimelineEntry }>} */
  const byAlarm = new Map();
  for (const entry of timeline) {
    if (entry.message !== 'alarm state changed' || typeof entry.detail.alarm !== 'string') continue;
    const known = byAlarm.get(entry.detail.alarm);
    const firedAt = known?.firedAt ?? (entry.detail.state === 'ALARM' ? entry : undefined);
    byAlarm.set(entry.detail.alarm, { firedAt, last: entry });
  }
  return byAlarm;
}

/** An alarm reading's value or threshold in its unit. */
export function readingText(/** @type {number | null | undefined} */ value, /** @type {AlarmReading['unit']} */ unit) {
  if (value == null) return '–';
  return unit === 'ratio' ? formatRatio(value) : unit === 'ms' ? formatMs(value) : formatNumber(value, 4);
}

/** An alarm's last value from the timeline, in its unit when its config tells it. */
function pastValue(
  /** @type {TimelineEntry | undefined} */ entry,
  /** @type {import('../types.js').AlarmConfig | undefined} */ config,
) {
  const value = entry?.detail.value;
  if (typeof value !== 'number') return value === undefined ? '–' : valueText(value);
  return readingText(value, config?.kind === 'error-rate' ? 'ratio' : config?.kind === 'latency' ? 'ms' : 'value');
}

/**
 * The alarms table: each watched alarm's state, value and threshold now (from the stats stream), and
 * when it fired (from the timeline).
 * @param {string[]} names
 * @param {AlarmReading[]} readings this deployment's
 * @param {TimelineEntry[]} timeline
 * @param {TimelineEntry | undefined} first
 * @param {Record<string, import('../types.js').AlarmConfig>} configs the alarms' configs, for the unit of a past value
 */
export function alarmsTable(names, readings, timeline, first, configs) {
  const history = alarmHistory(timeline);
  const all = [...new Set([...names, ...readings.map((r) => r.alarm), ...history.keys()])];
  return table(
    'Alarms watched',
    ['Alarm', 'Version judged', 'State', 'Value', 'Threshold', 'Fired'],
    all.map((name) => {
      const reading = readings.find((r) => r.alarm === name);
      const past = history.get(name);
      const state = reading
        ? (reading.state ?? 'not evaluated yet')
        : valueText(past?.last.detail.state ?? 'no reading');
      const fired = past?.firedAt;
      return [
        name,
        reading?.version ?? '–',
        reading?.reason ? h('span', {}, h('strong', {}, state), ` (${reading.reason})`) : h('strong', {}, state),
        reading ? readingText(reading.value, reading.unit) : pastValue(past?.last, configs[name]),
        reading ? `${reading.comparison} ${readingText(reading.threshold, reading.unit)}` : '–',
        fired
          ? `${formatClock(fired.wallTime)} (+${formatDuration(first ? fired.time - first.time : 0)})`
          : 'not fired',
      ];
    }),
    { class: 'alarms' },
  );
}
