// @ts-check
/**
 * @module dashboard/format
 * The dashboard's words for numbers: percents, durations, rates and times, and the split text the
 * services page shows (and end-to-end tests read), all pure functions.
 */

/**
 * @typedef {import('./types.js').ServiceAnswer} ServiceAnswer
 * @typedef {import('./types.js').DeploymentSummary} DeploymentSummary
 */

/**
 * A number with at most `digits` decimals and no trailing zeros ("10", "0.5", "12.25").
 * @param {number} value
 * @param {number} [digits]
 */
export function trimmed(value, digits = 2) {
  const text = Number(value.toFixed(digits)).toString();
  return text === '-0' ? '0' : text;
}

/** A percent as the API gives it (0–100), up to 2 decimals: "10%", "0.5%". */
export function formatPercent(/** @type {number} */ percent) {
  return `${trimmed(percent)}%`;
}

/** A ratio (0–1) as a percent, up to 2 decimals; a dash for null. */
export function formatRatio(/** @type {number | null | undefined} */ ratio) {
  return ratio == null || !Number.isFinite(ratio) ? '–' : formatPercent(ratio * 100);
}

/** A count or rate with at most `digits` decimals; a dash for null. */
export function formatNumber(/** @type {number | null | undefined} */ value, digits = 1) {
  return value == null || !Number.isFinite(value) ? '–' : trimmed(value, digits);
}

/** Milliseconds of latency: "12 ms", "0.35 ms"; a dash for null. */
export function formatMs(/** @type {number | null | undefined} */ ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  return `${trimmed(ms, ms < 10 ? 2 : ms < 100 ? 1 : 0)} ms`;
}

/** Zero-pads to two digits. */
const two = (/** @type {number} */ n) => String(n).padStart(2, '0');

/**
 * A duration, short and exact enough to read: "850ms", "1.5s", "12.3s", "2m05s", "1h03m"; a dash for
 * null or a non-finite value.
 */
export function formatDuration(/** @type {number | null | undefined} */ ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a < 1000) return `${sign}${Math.round(a)}ms`;
  if (a < 60_000) return `${sign}${trimmed(a / 1000, a < 10_000 ? 2 : 1)}s`;
  const seconds = Math.round(a / 1000);
  const minutes = Math.floor(seconds / 60);
  if (a < 3_600_000) return `${sign}${minutes}m${seconds % 60 ? two(seconds % 60) + 's' : ''}`;
  const hours = Math.floor(minutes / 60);
  return `${sign}${hours}h${minutes % 60 ? two(minutes % 60) + 'm' : ''}`;
}

/** An instant (epoch ms) in local time: "2026-12-07 04:21:09"; a dash for none. */
export function formatTime(/** @type {number | null | undefined} */ epochMs) {
  if (epochMs == null || !Number.isFinite(epochMs)) return '–';
  const d = new Date(epochMs);
  const date = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  return `${date} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The time of day (local) of an instant: "04:21:09.250". */
export function formatClock(/** @type {number} */ epochMs) {
  const d = new Date(epochMs);
  const ms = String(d.getMilliseconds()).padStart(3, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${ms}`;
}

/**
 * @typedef {object} SplitPart
 * @property {string} label the version label
 * @property {'blue' | 'green' | null} colour blue: live/original; green: the one shifted to; null: any other
 * @property {number} percent its share of production traffic (0–100)
 */

/**
 * Each version of a service with its colour and production percent, blue first, then green, then the
 * rest in the service's order. Blue is the deployment's original version (else the live one); green is
 * its replacement (else the first other version with traffic, else the first other version).
 * @param {ServiceAnswer} service
 * @param {Pick<DeploymentSummary, 'currentVersion' | 'targetVersion'> | undefined} active the versions of the deployment that gives the colours (state.rolesOn)
 * @returns {SplitPart[]}
 */
export function splitParts(service, active) {
  const weights = service.weights.production ?? {};
  const labels = service.versions.map((v) => v.label);
  const percentOf = (/** @type {string} */ label) => weights[label] ?? 0;
  const blue = active && labels.includes(active.currentVersion) ? active.currentVersion : service.live;
  const others = labels.filter((l) => l !== blue);
  const green =
    active && others.includes(active.targetVersion)
      ? active.targetVersion
      : (others.find((l) => percentOf(l) > 0) ?? others[0]);
  /** @type {SplitPart[]} */
  const parts = [{ label: blue, colour: 'blue', percent: percentOf(blue) }];
  if (green !== undefined) parts.push({ label: green, colour: 'green', percent: percentOf(green) });
  for (const label of others) {
    if (label !== green) parts.push({ label, colour: null, percent: percentOf(label) });
  }
  return parts;
}

/** One part's words: "1 (blue) 90%", or "3 5%" for a version that is neither. */
export function partText(/** @type {SplitPart} */ part) {
  return `${part.label}${part.colour ? ` (${part.colour})` : ''} ${formatPercent(part.percent)}`;
}

/** The split as text: "1 (blue) 90% · 2 (green) 10%". */
export function splitText(/** @type {SplitPart[]} */ parts) {
  return parts.map(partText).join(' · ');
}

/** A version label with its colour in words when it has one: "2 (green)". */
export function versionName(/** @type {string} */ label, /** @type {SplitPart[]} */ parts) {
  const colour = parts.find((p) => p.label === label)?.colour;
  return colour ? `${label} (${colour})` : label;
}

/** A detail value as text (numbers trimmed, objects as JSON). */
export function valueText(/** @type {unknown} */ value) {
  if (typeof value === 'number') return trimmed(value, 4);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/**
 * The words of a timeline entry beside its message: what happened and why (the reason, the code, the
 * alarm), or "" when it has no detail.
 * @param {import('./types.js').TimelineEntry} entry
 * @returns {string}
 */
export function entryDetail(entry) {
  const d = entry.detail;
  const s = (/** @type {string} */ key) => (d[key] === undefined ? '' : valueText(d[key]));
  switch (entry.message) {
    case 'deployment created':
      return `${s('application')} / ${s('group')}: version ${s('from')} → ${s('to')} with ${s('config')}, time scale ${s('timeScale')}`;
    case 'lifecycle event finished':
      return `${s('event')} ${s('status')}${d.reason !== undefined ? `: ${s('reason')}` : ''}`;
    case 'weight changed':
      return `${typeof d.weight === 'number' ? formatPercent(d.weight) : s('weight')} of production traffic on the replacement`;
    case 'alarm state changed':
      return `alarm ${s('alarm')} ${s('state')}${d.reason !== undefined ? `: ${s('reason')}` : ''}${
        d.value !== undefined ? ` (value ${s('value')})` : ''
      }`;
    case 'deployment stopped':
    case 'deployment failed':
      return `${s('code')}: ${s('message')}${d.rollback === true ? '; rolling back' : ''}`;
    default:
      return Object.entries(d)
        .map(([key, value]) => `${key}: ${valueText(value)}`)
        .join(', ');
  }
}

/** An instant given as epoch ms or as an ISO string, as epoch ms (NaN when neither). */
export function epochOf(/** @type {number | string | null | undefined} */ value) {
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
}
