/**
 * @module lab/sim/simulate
 * One simulated run: the real deployment engine, traffic state, alarm monitor and statistics windows on
 * a virtual clock, with the load and the versions' behaviour drawn per tick from a seeded stream instead
 * of sockets. The engine creates and walks the deployment as live; its weights reach the load through
 * the route tables the traffic state publishes; the monitor pulls the simulated counts and judges them
 * every alarm evaluation interval of real time, as live.
 */
import { pino } from 'pino';

import { TERMINAL_STATUSES } from '../../codedeploy/lifecycle.js';
import type { FaultConfig } from '../../config/faults.js';
import { scheduledPercent } from '../../config/faults.js';
import type { SyntheticConfig } from '../../config/synthetic.js';
import type { Clock } from '../../core/clock.js';
import { SwitchyardError } from '../../core/errors.js';
import { lognormalOf } from '../../core/random.js';
import { FULL_WEIGHT, type RouteTable } from '../../core/route-table.js';
import { LATENCY_BOUNDS_MS, type StatsEntry } from '../../core/stats-delta.js';
import { AlarmMonitor } from '../../health/alarm-monitor.js';
import type { PrometheusClient } from '../../health/prometheus.js';
import { histogramQuantile } from '../../health/statistics.js';
import { StatsWindows } from '../../health/windows.js';
import { DeploymentEngine } from '../../shifting/engine.js';
import type { AlarmWatcher, DeploymentRecord, HookRunner, ReplacementLauncher } from '../../shifting/ports.js';
import { totalDurationMs } from '../../shifting/schedule.js';
import { TrafficState } from '../../shifting/traffic.js';
import type { Experiment } from '../experiment.js';
import type { RunOutcome, RunResult, RunSpec } from '../results.js';
import { settle, VirtualClock } from './clock.js';
import { checkSimulable, configOf, ORIGINAL, planOf, REPLACEMENT, SERVICE } from './deployment.js';
import { Draws } from './draws.js';
import { LoadModel } from './load.js';
import { stickyLayout } from './users.js';
import { abortOutcomeOf, NO_FAULTS, type TickFaults, VersionModel } from './version.js';

/** The virtual clock's reading when the load starts (any instant will do; this one reads well). */
const EPOCH = Date.UTC(2026, 0, 1);

/** The longest injected delay a drawn delay gives, as the proxy cuts it. */
const MAX_DRAWN_DELAY_MS = 300_000;

/** How far past its schedule (in real time) a run may go before the simulator calls it stuck. */
const OVERRUN_MS = 3_600_000;

const SILENT = pino({ level: 'silent' });

/** No hook is named by a simulated deployment's AppSpec, so none is ever run. */
const NO_HOOKS: HookRunner = {
  run: () => Promise.reject(new Error('a simulated deployment runs no hooks')),
};

/** Prometheus alarms are refused before a run starts (checkSimulable); this is never asked. */
const NO_PROMETHEUS = {
  judge: () => Promise.resolve({ state: 'POLL_FAILED' as const, reason: 'Prometheus is not simulated' }),
} as unknown as PrometheusClient;

/** Simulates one run of an experiment; throws EXPERIMENT_INVALID when it cannot be simulated. */
export async function simulateRun(experiment: Experiment, spec: RunSpec, signal?: AbortSignal): Promise<RunResult> {
  const run = new SimulatedRun(experiment, spec);
  return run.carryOut(signal);
}

const NO_BREAKS: readonly number[] = [];

/** The faults of a scenario at a deployment time since AllowTraffic, for one tick. */
function faultsOf(faults: FaultConfig | undefined): (elapsedMs: number | undefined) => TickFaults {
  if (!faults || (!faults.abort && !faults.delay)) return () => NO_FAULTS;
  const { abort, delay, schedule } = faults;
  const abortOutcome = abort ? abortOutcomeOf(abort) : 3;
  let draw: ((z: number) => number) | undefined;
  if (delay && 'fixedMs' in delay) {
    const fixed = delay.fixedMs ?? 0;
    draw = () => fixed;
  } else if (delay) {
    const l = lognormalOf(delay.p50Ms, delay.p99Ms);
    draw = (z) => Math.min(Math.exp(l.mu + l.sigma * z), MAX_DRAWN_DELAY_MS);
  }
  let last: TickFaults = NO_FAULTS;
  return (elapsed) => {
    const abortPercent = abort ? scheduledPercent(abort.percent, schedule, elapsed) : 0;
    const delayPercent = delay ? scheduledPercent(delay.percent, schedule, elapsed) : 0;
    if (abortPercent !== last.abortPercent || delayPercent !== last.delayPercent || last === NO_FAULTS) {
      last = { abortPercent, abortOutcome, delayPercent, delay: draw };
    }
    return last;
  };
}

/** The state of one simulated run. */
class SimulatedRun {
  readonly #experiment: Experiment;
  readonly #spec: RunSpec;
  readonly #clock = new VirtualClock(EPOCH);
  readonly #load: LoadModel;
  readonly #original: VersionModel;
  readonly #replacement: VersionModel;
  readonly #traffic: TrafficState;
  readonly #windows: StatsWindows;
  readonly #monitor: AlarmMonitor;
  readonly #engine: DeploymentEngine;
  /** Real time (virtual clock) of AllowTraffic's start, of 100% on the replacement, of the watch. */
  #allowAt: number | undefined;
  #fullAt: number | undefined;
  #watchAt: number | undefined;
  #watching = false;
  #fired: { name: string; reason: string; at: number } | undefined;

  constructor(experiment: Experiment, spec: RunSpec) {
    checkSimulable(experiment, spec.policy);
    this.#experiment = experiment;
    this.#spec = spec;
    const versions = experiment.versions as Extract<Experiment['versions'], { kind: 'synthetic' }>;
    const { load } = experiment;
    const draws = new Draws(spec.seed);
    // Latency histograms go to the windows only when an alarm of the run judges latency.
    const latency = spec.policy.alarms.some((name) => {
      const kind = experiment.alarms[name]?.kind;
      return kind === 'latency' || kind === 'compare';
    });
    this.#original = new VersionModel(versions.original, load.timeout, draws, 0, latency, load.connections);
    const green: SyntheticConfig = spec.scenario.replacement ?? versions.replacement;
    this.#replacement = new VersionModel(green, load.timeout, draws, 0, latency, load.connections);
    const faultsAt = faultsOf(spec.scenario.faults);
    this.#load = new LoadModel({
      rate: load.rate,
      users: load.users,
      sticky: load.sticky ? stickyLayout(load.users) : undefined,
      before: load.before,
      timeScale: experiment.timeScale,
      draws,
      original: this.#original,
      replacement: this.#replacement,
      faultsAt: (at) => faultsAt(this.#allowAt === undefined ? undefined : (at - this.#allowAt) * experiment.timeScale),
      faultBreaks: () => {
        const schedule = spec.scenario.faults?.schedule;
        if (!schedule || this.#allowAt === undefined) return NO_BREAKS;
        const start = this.#allowAt + schedule.afterMs / experiment.timeScale;
        return [start, start + (schedule.rampMs ?? 0) / experiment.timeScale];
      },
    });
    const clock = this.#clock;
    this.#traffic = new TrafficState(configOf(experiment, spec.policy.retryOnOriginal));
    this.#traffic.attach({ publish: (table) => this.#published(table) });
    const horizon = Math.max(
      0,
      ...spec.policy.alarms.map((name) => {
        const alarm = experiment.alarms[name];
        return alarm && 'window' in alarm ? alarm.window : 0;
      }),
    );
    this.#windows = new StatsWindows(clock, horizon + 2 * experiment.alarmEvaluationInterval);
    // The monitor's own interval timer is replaced by the run's loop, which evaluates on the same cadence.
    const monitorClock: Clock = { now: () => clock.now(), setTimer: () => () => undefined };
    this.#monitor = new AlarmMonitor({
      clock: monitorClock,
      log: SILENT,
      windows: this.#windows,
      pullStats: () => this.#pull(),
      alarms: () => experiment.alarms,
      prometheus: NO_PROMETHEUS,
      intervalMs: experiment.alarmEvaluationInterval,
    });
    const launcher: ReplacementLauncher = {
      prepare: (_service, version) => {
        // A synthetic replacement starts at Install: its warm-up counts from here.
        if (version === REPLACEMENT) {
          this.#replacement.startedAt = this.#real();
          this.#replacement.served = 0;
        }
        return Promise.resolve();
      },
      retire: () => Promise.resolve(),
    };
    this.#engine = new DeploymentEngine({
      clock,
      log: SILENT,
      traffic: this.#traffic,
      hooks: NO_HOOKS,
      launcher,
      alarms: this.#watcher(),
    });
  }

  /** Real ms since the load started. */
  #real(): number {
    return this.#clock.now() - EPOCH;
  }

  /** The engine's alarm watcher: the monitor, with the run noting when it watches and what fired. */
  #watcher(): AlarmWatcher {
    return {
      watch: (watch, fire) => {
        this.#watching = true;
        this.#watchAt = this.#clock.now();
        this.#monitor.watch(watch, (name, reason) => {
          this.#fired = { name, reason, at: this.#clock.now() };
          fire(name, reason);
        });
      },
      unwatch: (id) => {
        this.#watching = false;
        this.#monitor.unwatch(id);
      },
    };
  }

  /** A new route table: the load runs to now under the old one, then follows the new. */
  #published(table: RouteTable): void {
    const route = table.services.find((s) => s.name === SERVICE)!;
    this.#load.advanceTo(this.#real());
    const replacementBp = route.weights.production[REPLACEMENT] ?? 0;
    this.#load.route({ replacementBp, retry: route.retry !== undefined });
    if (this.#allowAt === undefined && this.#traffic.isShifting(SERVICE)) this.#allowAt = this.#real();
    if (replacementBp >= FULL_WEIGHT && this.#fullAt === undefined && this.#allowAt !== undefined) {
      this.#fullAt = this.#real();
    }
  }

  /** The data plane's counters as of now, into the windows (the monitor's pullStats). */
  #pull(): void {
    this.#load.advanceTo(this.#real());
    const blue = this.#original.stats;
    const green = this.#replacement.stats;
    if (blue.requests === 0 && green.requests === 0) return;
    const entries: StatsEntry[] = [];
    if (blue.requests > 0) entries.push({ service: SERVICE, version: ORIGINAL, failedOver: 0, ...blue.take() });
    if (green.requests > 0) entries.push({ service: SERVICE, version: REPLACEMENT, failedOver: 0, ...green.take() });
    this.#windows.record({ entries });
  }

  /** Runs the load, creates the deployment after `load.before`, and steps the clock until it ends. */
  async carryOut(signal: AbortSignal | undefined): Promise<RunResult> {
    const { load, alarmEvaluationInterval: interval } = this.#experiment;
    const clock = this.#clock;
    this.#load.advanceTo(load.before);
    await clock.advanceTo(EPOCH + load.before);
    const record = this.#engine.create(planOf(this.#experiment, this.#spec.policy));
    await settle();
    const limit = EPOCH + load.before + this.#scheduledMs() + OVERRUN_MS;
    let nextEval = this.#watchAt === undefined ? Infinity : this.#watchAt + interval;
    let steps = 0;
    while (!TERMINAL_STATUSES.has(record.status)) {
      if ((++steps & 1023) === 0) signal?.throwIfAborted();
      const next = Math.min(nextEval, clock.nextDue);
      if (next > limit) {
        throw new SwitchyardError('INTERNAL', `the simulated deployment did not end (status ${record.status})`);
      }
      if (clock.wouldFire(next)) await clock.advanceTo(next);
      else clock.moveTo(next);
      if (next === nextEval) {
        nextEval = this.#watching ? nextEval + interval : Infinity;
        if (this.#watching) {
          this.#monitor.evaluate();
          if (TERMINAL_STATUSES.has(record.status)) await settle();
        }
      }
    }
    this.#monitor.close();
    const end = (record.wallTimes.complete ?? clock.now()) - EPOCH;
    this.#load.finish(end + load.after);
    return this.#result(record);
  }

  /** Real ms the deployment takes by its schedule and bake (the run's overrun guard counts from it). */
  #scheduledMs(): number {
    const e = this.#experiment;
    return ((totalDurationMs(this.#spec.policy.shift) ?? 0) + e.bake) / e.timeScale;
  }

  #result(record: DeploymentRecord): RunResult {
    const e = this.#experiment;
    const load = this.#load;
    const created = record.createTime;
    const createdAt = EPOCH + e.load.before;
    const deploymentTime = (at: number) => (at - createdAt) * e.timeScale;
    const allow = record.lifecycleEvents.find((ev) => ev.name === 'AllowTraffic')?.startTime;
    const allowMs = allow === undefined ? 0 : allow - created;
    const onset = allowMs + (this.#spec.scenario.faults?.schedule?.afterMs ?? 0);
    const fired = this.#fired;
    const quantile = (q: number) => histogramQuantile(load.client, LATENCY_BOUNDS_MS, q) ?? 0;
    return {
      mode: 'sim',
      policy: this.#spec.policy.name,
      scenario: this.#spec.scenario.name,
      repeat: this.#spec.repeat,
      outcome: outcomeOf(record),
      requests: load.requests,
      failed: load.failed,
      servedByReplacement: load.servedByReplacement,
      failedOnReplacement: load.failedOnReplacement,
      usersAffected: load.affected.count,
      detectionMs: fired ? deploymentTime(fired.at) - onset : null,
      timeToFullTrafficMs: this.#fullAt === undefined ? null : deploymentTime(EPOCH + this.#fullAt) - allowMs,
      durationMs: (record.completeTime ?? created) - created,
      latency: { p50: quantile(0.5), p99: quantile(0.99) },
      ...(fired && { alarm: { name: fired.name, reason: fired.reason } }),
      timeline: load.timeline,
    };
  }
}

/** How a deployment ended, a rollback told apart from a plain stop or failure. */
function outcomeOf(record: DeploymentRecord): RunOutcome {
  if (record.status === 'Succeeded') return 'Succeeded';
  if (record.rollbackInfo?.rollbackDeploymentId !== undefined) return 'RolledBack';
  return record.status === 'Stopped' ? 'Stopped' : 'Failed';
}
