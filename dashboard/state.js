// @ts-check
/**
 * @module dashboard/state
 * The services and deployments as the page knows them. The event stream (`services,deployments`)
 * keeps them current and the stats stream brings the live figures: no polling. On each (re)connection
 * of the event stream the page reads both lists once, since a switchyard that restarted may have kept
 * fewer events than were missed. The reducers are pure functions of the state and one event, tested alone.
 */

/**
 * @typedef {import('./types.js').ServiceAnswer} ServiceAnswer
 * @typedef {import('./types.js').DeploymentSummary} DeploymentSummary
 * @typedef {import('./types.js').TimelineEntry} TimelineEntry
 * @typedef {import('./types.js').StreamedEvent} StreamedEvent
 * @typedef {import('./types.js').StatsSnapshot} StatsSnapshot
 * @typedef {import('./types.js').AlarmReading} AlarmReading
 */

/** How much live history the charts keep: five minutes. */
export const STATS_WINDOW_MS = 5 * 60_000;

/** Statuses a deployment never leaves. */
export const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped']);

/**
 * @typedef {object} State
 * @property {Map<string, ServiceAnswer>} services by name, in the API's order
 * @property {Map<string, DeploymentSummary>} deployments by id
 * @property {Map<string, TimelineEntry[]>} timelines of the deployments whose timeline was read, oldest first
 * @property {StatsSnapshot[]} stats the last {@link STATS_WINDOW_MS} of snapshots, oldest first
 * @property {AlarmReading[]} alarms the latest alarm readings
 */

/** An empty state. */
export function emptyState() {
  /** @type {State} */
  const state = { services: new Map(), deployments: new Map(), timelines: new Map(), stats: [], alarms: [] };
  return state;
}

/** A key that tells a timeline entry from every other (entries carry no id of their own). */
export function entryKey(/** @type {TimelineEntry} */ entry) {
  return `${entry.time}|${entry.wallTime}|${entry.message}|${JSON.stringify(entry.detail)}`;
}

/**
 * Adds entries to a timeline that it lacks (a replay after a reconnection repeats some), keeping time order.
 * @param {TimelineEntry[]} timeline
 * @param {TimelineEntry[]} entries
 * @returns {TimelineEntry[]}
 */
export function mergeTimeline(timeline, entries) {
  const seen = new Set(timeline.map(entryKey));
  const added = entries.filter((e) => !seen.has(entryKey(e)));
  if (added.length === 0) return timeline;
  // Stable: entries of one instant keep the order they came in.
  return [...timeline, ...added].sort((a, b) => a.wallTime - b.wallTime);
}

/**
 * Applies one `deployment` event to the deployment it is about; returns false when that deployment is
 * unknown here (the caller reads it from the API).
 * @param {State} state
 * @param {StreamedEvent} event
 * @returns {boolean}
 */
export function applyDeploymentEvent(state, event) {
  const { deploymentId, ...entry } = event;
  const timeline = state.timelines.get(deploymentId);
  if (timeline) state.timelines.set(deploymentId, mergeTimeline(timeline, [entry]));
  const known = state.deployments.get(deploymentId);
  if (!known) return false;
  /** @type {DeploymentSummary} */
  const next = { ...known };
  if (event.status) next.status = event.status;
  const detail = event.detail;
  switch (event.message) {
    case 'deployment started':
      next.startTime ??= event.time;
      next.wallTimes = { ...next.wallTimes, start: next.wallTimes.start ?? event.wallTime };
      break;
    case 'weight changed':
      if (typeof detail.weight === 'number') next.trafficWeight = detail.weight;
      break;
    case 'deployment succeeded':
      next.trafficWeight = 100;
      next.completeTime ??= event.time;
      next.wallTimes = { ...next.wallTimes, complete: next.wallTimes.complete ?? event.wallTime };
      break;
    case 'deployment stopped':
    case 'deployment failed':
      next.completeTime ??= event.time;
      next.wallTimes = { ...next.wallTimes, complete: next.wallTimes.complete ?? event.wallTime };
      if (typeof detail.code === 'string' && typeof detail.message === 'string') {
        next.errorInformation = { code: detail.code, message: detail.message };
      }
      if (typeof detail.rollbackDeploymentId === 'string') {
        next.rollbackInfo = { ...next.rollbackInfo, rollbackDeploymentId: detail.rollbackDeploymentId };
      }
      break;
    default:
  }
  state.deployments.set(deploymentId, next);
  return true;
}

/** Replaces one service's view with the one an event carries (the whole view, health included). */
export function applyServiceEvent(/** @type {State} */ state, /** @type {ServiceAnswer} */ service) {
  state.services.set(service.name, service);
}

/**
 * Adds a stats snapshot, drops those older than the window, and takes its alarm readings.
 * @param {State} state
 * @param {StatsSnapshot} snapshot
 * @param {number} [windowMs]
 */
export function applyStats(state, snapshot, windowMs = STATS_WINDOW_MS) {
  if (typeof snapshot.at !== 'number') return;
  const last = state.stats.at(-1);
  // A restarted server's clock may be behind the last snapshot: start the window again.
  if (last && snapshot.at <= last.at) state.stats = [];
  state.stats.push(snapshot);
  const from = snapshot.at - windowMs;
  const first = state.stats.findIndex((s) => s.at >= from);
  if (first > 0) state.stats.splice(0, first);
  state.alarms = snapshot.alarms ?? [];
}

/** The deployments, newest first. */
export function newestFirst(/** @type {Iterable<DeploymentSummary>} */ deployments) {
  return [...deployments].sort((a, b) => b.wallTimes.create - a.wallTimes.create);
}

/**
 * The deployment under way on a service (the newest that has not ended), if any.
 * @param {State} state
 * @param {string} service
 * @returns {DeploymentSummary | undefined}
 */
export function activeOn(state, service) {
  return newestFirst(state.deployments.values()).find((d) => d.service === service && !TERMINAL.has(d.status));
}

/**
 * The latest deployment of a service when it is worth showing (running, or the last one), if any.
 * @param {State} state
 * @param {string} service
 * @returns {DeploymentSummary | undefined}
 */
export function latestOn(state, service) {
  return newestFirst(state.deployments.values()).find((d) => d.service === service);
}

/**
 * Which of a service's versions are blue and green: the original and the replacement of its latest
 * deployment (a rollback's the other way round, so that it keeps the colours of the deployment it
 * undoes). The colours stay after the deployment ends, so that a finished shift still reads "(green)
 * 100%"; undefined before any deployment (the live version is blue then).
 * @param {State} state
 * @param {string} service
 * @returns {{ currentVersion: string, targetVersion: string } | undefined}
 */
export function rolesOn(state, service) {
  const latest = latestOn(state, service);
  if (!latest) return undefined;
  return latest.creator === 'codeDeployRollback'
    ? { currentVersion: latest.targetVersion, targetVersion: latest.currentVersion }
    : { currentVersion: latest.currentVersion, targetVersion: latest.targetVersion };
}

/**
 * @typedef {'services' | 'deployments' | 'timeline' | 'stats' | 'connection'} Topic
 * @typedef {(topic: Topic, id?: string) => void} StoreListener
 */

/** The page's state kept current from the streams, with listeners told what changed. */
export class Store {
  state = emptyState();
  /** Which streams are connected now. */
  connected = { events: false, stats: false };
  /** @type {Set<StoreListener>} */
  #listeners = new Set();
  /** @type {{ close(): void }[]} */
  #streams = [];
  /** Deployments being read after an event about one the page did not know. */
  #reading = new Set();

  /**
   * @param {{ call: typeof import('./api.js').api, open: typeof import('./stream.js').openStream, headers: () => Record<string, string>, onUnauthorized: (message: string) => Promise<void> }} deps
   */
  constructor(deps) {
    this.deps = deps;
  }

  /** Calls `listener` with each change; returns an unsubscribe. */
  subscribe(/** @type {StoreListener} */ listener) {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Tells every listener. */
  emit(/** @type {Topic} */ topic, /** @type {string} */ id = '') {
    for (const listener of this.#listeners) listener(topic, id || undefined);
  }

  /** Whether every stream is connected. */
  get live() {
    return this.connected.events && this.connected.stats;
  }

  /** Opens both streams (for the page's life). */
  start() {
    const { open, headers, onUnauthorized } = this.deps;
    const state = (/** @type {'events' | 'stats'} */ which) => (/** @type {boolean} */ up) => {
      if (this.connected[which] === up) return;
      this.connected[which] = up;
      this.emit('connection');
    };
    this.#streams.push(
      open({
        url: '/v1/events?topics=deployments,services',
        headers,
        onUnauthorized,
        onOpen: () => void this.refreshLists(),
        onState: state('events'),
        onEvent: (e) => this.#onEvent(e.event, e.data),
      }),
      open({
        url: '/v1/stats/stream',
        headers,
        onUnauthorized,
        onState: state('stats'),
        onEvent: (e) => this.#onEvent(e.event, e.data),
      }),
    );
  }

  /** Closes the streams. */
  stop() {
    for (const stream of this.#streams.splice(0)) stream.close();
  }

  /**
   * Takes one streamed event.
   * @param {string} type
   * @param {string} data
   */
  #onEvent(type, data) {
    /** @type {unknown} */
    let value;
    try {
      value = JSON.parse(data);
    } catch {
      return;
    }
    if (type === 'deployment') {
      const event = /** @type {StreamedEvent} */ (value);
      const known = applyDeploymentEvent(this.state, event);
      if (!known && !this.#reading.has(event.deploymentId))
        void this.readDeployment(event.deploymentId).catch(() => {});
      this.emit('deployments', event.deploymentId);
      if (this.state.timelines.has(event.deploymentId)) this.emit('timeline', event.deploymentId);
    } else if (type === 'service') {
      applyServiceEvent(this.state, /** @type {ServiceAnswer} */ (value));
      this.emit('services');
    } else if (type === 'stats') {
      applyStats(this.state, /** @type {StatsSnapshot} */ (value));
      this.emit('stats');
    }
  }

  /** Reads the services and the latest deployments again (on each connection of the event stream). */
  async refreshLists() {
    const [services, deployments] = await Promise.allSettled([
      this.deps.call('/v1/services'),
      this.deps.call('/v1/deployments'),
    ]);
    if (services.status === 'fulfilled') {
      const list = /** @type {{ services: ServiceAnswer[] }} */ (services.value).services;
      this.state.services = new Map(list.map((s) => [s.name, s]));
      this.emit('services');
    }
    if (deployments.status === 'fulfilled') {
      this.addDeployments(/** @type {{ deployments: DeploymentSummary[] }} */ (deployments.value).deployments);
    }
  }

  /** Puts deployment summaries in (newer answers replace older ones). */
  addDeployments(/** @type {DeploymentSummary[]} */ list) {
    for (const d of list) this.state.deployments.set(d.deploymentId, d);
    this.emit('deployments');
  }

  /**
   * Reads one deployment (its summary goes into the list); resolves with the full answer.
   * @param {string} id
   * @returns {Promise<import('./types.js').DeploymentDetail>}
   */
  async readDeployment(id) {
    this.#reading.add(id);
    try {
      /** @type {import('./types.js').DeploymentDetail} */
      const detail = await this.deps.call(`/v1/deployments/${encodeURIComponent(id)}`);
      this.state.deployments.set(id, detail);
      this.emit('deployments', id);
      return detail;
    } finally {
      this.#reading.delete(id);
    }
  }

  /** Reads a deployment's timeline and keeps it current from the stream from now on. */
  async loadTimeline(/** @type {string} */ id) {
    /** @type {{ events: TimelineEntry[] }} */
    const answer = await this.deps.call(`/v1/deployments/${encodeURIComponent(id)}/events`);
    this.state.timelines.set(id, mergeTimeline(this.state.timelines.get(id) ?? [], answer.events));
    this.emit('timeline', id);
  }
}
