/**
 * @module health/alarm-monitor
 * Evaluates the alarms of every running deployment on one interval (default 250 ms). Each tick first
 * pulls the data plane's counters, so an evaluation sees traffic up to that instant rather than up to the
 * last stats pull: a rollback is then at most one interval behind the traffic that caused it. An alarm
 * fires after its `datapointsToAlarm` consecutive breaches; insufficient data neither counts nor resets.
 * Each alarm's last evaluation is kept while its deployment is watched, for the live readings.
 */
import type { AlarmConfig, AlarmsConfig } from '../config/alarms.js';
import type { CancelTimer, Clock } from '../core/clock.js';
import type { AlarmReading } from '../core/live-stats.js';
import type { Logger } from '../core/logger.js';
import type { AlarmWatch, AlarmWatcher } from '../shifting/ports.js';
import { readingOf } from './alarm-readings.js';
import { type AlarmEvaluation, type AlarmState, judgeTraffic } from './alarm-rules.js';
import type { PrometheusClient } from './prometheus.js';
import type { StatsWindows } from './windows.js';

/** What the monitor is built from. */
export interface AlarmMonitorDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly windows: StatsWindows;
  /** Pulls the data plane's counters into the windows now. */
  readonly pullStats: () => void;
  /** The alarms a group may name. */
  readonly alarms: () => AlarmsConfig;
  readonly prometheus: PrometheusClient;
  readonly intervalMs: number;
  /** Hears every change of an alarm's state in a deployment, for its timeline. */
  readonly onStateChange?: (deploymentId: string, alarm: string, evaluation: AlarmEvaluation) => void;
}

interface AlarmTrack {
  readonly name: string;
  /** Undefined when the name is no longer declared: it cannot be read, a poll failure. */
  readonly config: AlarmConfig | undefined;
  state: AlarmState | undefined;
  breaches: number;
  /** The last evaluation applied (its state as applied), for the live readings. */
  last: AlarmEvaluation | undefined;
  /** A Prometheus query still in flight from an earlier tick: not asked twice at once. */
  polling: boolean;
}

interface Watched {
  readonly watch: AlarmWatch;
  /** Traffic before this instant belongs to no judgement of this deployment. */
  readonly since: number;
  readonly tracks: AlarmTrack[];
  readonly fire: (alarm: string, reason: string) => void;
  fired: boolean;
}

/** Watches deployments' alarms; the engine's AlarmWatcher. */
export class AlarmMonitor implements AlarmWatcher {
  readonly #deps: AlarmMonitorDeps;
  readonly #watched = new Map<string, Watched>();
  #timer: CancelTimer | undefined;

  constructor(deps: AlarmMonitorDeps) {
    this.#deps = deps;
  }

  watch(watch: AlarmWatch, fire: (alarm: string, reason: string) => void): void {
    const known = this.#deps.alarms();
    const tracks: AlarmTrack[] = [];
    for (const name of watch.alarms) {
      tracks.push({ name, config: known[name], state: undefined, breaches: 0, last: undefined, polling: false });
    }
    // Counts still in the data plane belong to the time before this deployment: taken now, they are
    // stamped no later than `since`, which the windows treat as exclusive.
    this.#deps.pullStats();
    this.#watched.set(watch.deploymentId, { watch, since: this.#deps.clock.now(), tracks, fire, fired: false });
    this.#deps.log.info({ deploymentId: watch.deploymentId, alarms: watch.alarms }, 'watching alarms');
    this.#schedule();
  }

  unwatch(deploymentId: string): void {
    this.#watched.delete(deploymentId);
    if (this.#watched.size === 0) {
      this.#timer?.();
      this.#timer = undefined;
    }
  }

  /**
   * The last evaluation of every alarm of every watched deployment, in watch order; an alarm no longer
   * declared has nothing to read and is left out (its POLL_FAILED is in the deployment's timeline).
   */
  readings(): AlarmReading[] {
    const out: AlarmReading[] = [];
    for (const { watch, tracks } of this.#watched.values()) {
      for (const track of tracks) {
        const config = track.config;
        if (config) out.push(readingOf(watch, { ...track, config }));
      }
    }
    return out;
  }

  /** Stops every watch. */
  close(): void {
    this.#watched.clear();
    this.#timer?.();
    this.#timer = undefined;
  }

  /** One evaluation of every watched deployment (the interval calls this; tests may too). */
  evaluate(): void {
    if (this.#watched.size === 0) return;
    this.#deps.pullStats();
    for (const watched of [...this.#watched.values()]) {
      for (const track of watched.tracks) {
        if (watched.fired) break;
        const config = track.config;
        if (!config) {
          // Names are checked when groups and deployments are created; one removed since cannot be read.
          this.#apply(watched, track, { state: 'POLL_FAILED', reason: `alarm "${track.name}" is not declared` });
          continue;
        }
        if (config.kind === 'prometheus') {
          if (track.polling) continue;
          track.polling = true;
          void this.#deps.prometheus.judge(config).then((evaluation) => {
            track.polling = false;
            if (this.#watched.get(watched.watch.deploymentId) === watched) this.#apply(watched, track, evaluation);
          });
          continue;
        }
        const evaluation = judgeTraffic(config, {
          totals: (role, windowMs) =>
            this.#deps.windows.totals(
              watched.watch.service,
              role === 'replacement' ? watched.watch.replacement : watched.watch.original,
              windowMs,
              watched.since,
            ),
        });
        this.#apply(watched, track, evaluation);
      }
    }
  }

  #apply(watched: Watched, track: AlarmTrack, evaluation: AlarmEvaluation): void {
    if (watched.fired) return;
    let state = evaluation.state;
    if (state === 'POLL_FAILED' && watched.watch.ignorePollAlarmFailure) state = 'INSUFFICIENT_DATA';
    track.last = { ...evaluation, state };
    if (state !== track.state) {
      track.state = state;
      this.#deps.onStateChange?.(watched.watch.deploymentId, track.name, { ...evaluation, state });
    }
    if (state === 'OK') track.breaches = 0;
    else if (state === 'ALARM' || state === 'POLL_FAILED') track.breaches++;
    const needed = track.config?.datapointsToAlarm ?? 1;
    if (track.breaches >= needed) {
      watched.fired = true;
      this.unwatch(watched.watch.deploymentId);
      const why = state === 'POLL_FAILED' ? `its state could not be read (${evaluation.reason})` : evaluation.reason;
      watched.fire(track.name, why);
    }
  }

  #schedule(): void {
    if (this.#timer) return;
    const tick = () => {
      this.#timer = undefined;
      try {
        this.evaluate();
      } catch (err) {
        this.#deps.log.error({ err }, 'alarm evaluation failed');
      }
      if (this.#watched.size > 0) this.#timer = this.#deps.clock.setTimer(this.#deps.intervalMs, tick);
    };
    this.#timer = this.#deps.clock.setTimer(this.#deps.intervalMs, tick);
  }
}
