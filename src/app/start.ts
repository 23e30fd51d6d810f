/**
 * @module app/start
 * The composition root: the only place that builds concrete pieces and wires the planes together.
 * Config → logger → traffic state → data plane → stats hub → metrics → deployment engine and
 * CodeDeploy registry → control API.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server.js';
import { callerEnv, warnWhenExposed } from '../api/auth/exposure.js';
import type { Config } from '../config/schema.js';
import { type Clock, systemClock } from '../core/clock.js';
import { createLogger, type Logger } from '../core/logger.js';
import { StatsHub } from '../health/stats-hub.js';
import { AlarmCatalog } from '../health/alarm-catalog.js';
import { AlarmMonitor } from '../health/alarm-monitor.js';
import { PrometheusClient } from '../health/prometheus.js';
import { StatsWindows } from '../health/windows.js';
import { Prober } from '../health/probe.js';
import { TargetHealth } from '../health/target-health.js';
import { closingQuietly } from '../store/after-close.js';
import { openStore } from '../store/open.js';
import { type ProcessLedger, type StartedProcess, startedProcess, stopLeftovers } from '../core/process-ledger.js';
import { fromStore, keptAlarms, keptDeployments, keptHookExecutions, restoreRegistry, restoreTraffic } from './recovery.js';
import { EventStream } from '../api/event-stream.js';
import type { DeploymentStore } from '../shifting/ports.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import { DataPlane } from '../proxy/data-plane.js';
import { HookExecutor } from '../hooks/runner.js';
import { DeploymentEngine } from '../shifting/engine.js';
import { ReplacementNotReady } from '../shifting/ports.js';
import { applyDeclarations } from '../shifting/declarations.js';
import { TaskSetLauncher } from '../tasksets/launcher.js';
import { isSwitchyardError, SwitchyardError } from '../core/errors.js';
import { Registry } from '../shifting/registry.js';
import { startNotifications } from '../notify/notifications.js';
import { TrafficState } from '../shifting/traffic.js';
import { describeError } from '../core/describe-error.js';

/** Options for {@link startSwitchyard}. */
export interface StartOptions {
  readonly log?: Logger;
  readonly clock?: Clock;
  /** A store to use instead of opening the config's (tests); it is closed with switchyard. */
  readonly store?: DeploymentStore;
}

/** A running switchyard. */
export interface Switchyard {
  readonly config: Config;
  readonly log: Logger;
  readonly traffic: TrafficState;
  readonly dataPlane: DataPlane;
  readonly stats: StatsHub;
  readonly metrics: MetricsRecorder;
  readonly engine: DeploymentEngine;
  /** CodeDeploy's applications, deployment groups and custom configurations. */
  readonly registry: Registry;
  /** Where everything the API returns is kept. */
  readonly store: DeploymentStore;
  /** The alarms deployment groups may name. */
  readonly alarms: AlarmCatalog;
  readonly api: FastifyInstance;
  /** Bound addresses: `production`, `test` (when configured) and `control`. */
  readonly addresses: Readonly<Record<string, AddressInfo>>;
  /** Base URLs for the same, e.g. `http://127.0.0.1:8080`. */
  readonly urls: Readonly<Record<string, string>>;
  /** Drains and stops everything; safe to call more than once. */
  close(): Promise<void>;
}

/** Between SIGTERM and SIGKILL for processes an earlier, killed run left running. */
const LEFTOVER_KILL_GRACE_MS = 5_000;

/** How far back traffic is kept for alarms to judge: longer than any sensible alarm window. */
const ALARM_HORIZON_MS = 15 * 60_000;

function urlOf(a: AddressInfo): string {
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}`;
}

/** Starts listeners, the control API and the stats pump from a validated config. */
export async function startSwitchyard(config: Config, options: StartOptions = {}): Promise<Switchyard> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const store = closingQuietly(options.store ?? openStore(config.store));
  try {
    return await assemble(config, store, log, clock);
  } catch (err) {
    // Whatever failed (a declaration the registry refuses, a kept document it cannot read, a listener
    // that cannot bind), the store file is not left open.
    store.close();
    throw err;
  }
}

/** Builds and starts everything on an open store, which close() closes last. */
async function assemble(config: Config, store: DeploymentStore, log: Logger, clock: Clock): Promise<Switchyard> {
  // What the engine and the traffic state write on their own (a timer, a rollback) has no caller to refuse
  // it to: when the store cannot take it (a full disk), traffic and deployments go on in memory, the
  // error is logged, and a later start resumes from what the store last took. Not writing a rollback
  // down must never stop it from reaching the data plane.
  const keepOrGoOn = (what: string, write: () => void): void => {
    try {
      write();
    } catch (err) {
      if (!isSwitchyardError(err) || err.code !== 'STORE_FAILED') throw err;
      log.error({ err: err.message }, `the store could not keep ${what}; going on in memory`);
    }
  };
  // Processes a killed run started (versions run by command, command hooks) are still running: stop them.
  // Each stays written down until its SIGKILL is due, so a second crash meanwhile still finds it.
  const kept = store.list('process').map((d) => d.value as StartedProcess);
  const leftovers = stopLeftovers(kept, clock, LEFTOVER_KILL_GRACE_MS, (p) => {
    // Unless the pid has since been written down again for a process of this run.
    if ((store.get('process', String(p.pid)) as StartedProcess | undefined)?.startTime === p.startTime) store.delete('process', String(p.pid));
  });
  if (leftovers.length > 0) log.warn({ processes: leftovers }, 'stopping processes left running by an earlier run');
  for (const p of kept) if (!leftovers.includes(p)) store.delete('process', String(p.pid));
  const processes: ProcessLedger = {
    started: (pid, what) => store.put('process', String(pid), startedProcess(pid, what)),
    ended: (pid) => store.delete('process', String(pid)),
  };
  const traffic = new TrafficState(config);
  // What the last run left, before anything routes: after a restart traffic is never split by defaults.
  restoreTraffic(store, traffic, log.child({ component: 'store' }));
  // Every table published is the traffic state to come back to: its live versions and weights are kept.
  traffic.attach({
    publish: (table) =>
      keepOrGoOn('the traffic', () => {
        for (const s of table.services) store.put('service', s.name, { live: s.live, weights: s.weights });
      }),
  });
  const dataPlane = new DataPlane(traffic.table, log.child({ component: 'proxy' }));
  traffic.attach({ publish: (table) => dataPlane.apply(table) });

  const stats = new StatsHub(clock, 250, (err) => log.error({ err }, 'a stats consumer failed'));
  stats.addSource(dataPlane);
  // Health changes go into the timeline of the deployment shifting that service; the engine comes later.
  let annotateHealth: (service: string, change: object, level: 'info' | 'warn') => void = () => undefined;
  const prober = new Prober(clock);
  const health = new TargetHealth({
    clock,
    log: log.child({ component: 'health' }),
    services: config.services,
    traffic,
    prober,
    onChange: (change) => annotateHealth(change.service, change, change.state === 'healthy' ? 'info' : 'warn'),
  });
  stats.subscribe(health.record);
  const metrics = new MetricsRecorder(
    () =>
      traffic.services().flatMap((s) =>
        Object.entries(s.weights.production).map(([version, percent]) => ({
          service: s.name,
          version,
          percent,
        })),
      ),
    () => stats.pull(),
    () => health.readings(),
  );
  stats.subscribe(metrics.record);
  const windows = new StatsWindows(clock, ALARM_HORIZON_MS);
  stats.subscribe(windows.record);

  // Command hooks get the control API's address to report back to; it is known once the API listens.
  let controlUrl = `http://${config.control.host}:${config.control.port}`;
  const hooks = new HookExecutor({
    hooks: config.hooks,
    clock,
    logger: log.child({ component: 'hooks' }),
    endpoint: () => controlUrl,
    processes,
    observer: {
      put: (execution) => store.put('hookExecution', execution.executionId, execution),
      forget: (executionId) => store.delete('hookExecution', executionId),
    },
    // With control.auth set, a hook that reports back needs the credentials too.
    env: callerEnv(config.control.auth),
  });
  fromStore('hook executions', () => hooks.restore(keptHookExecutions(store)));
  // Task sets wait for readiness on a prober of their own, so their checks never queue behind health's.
  const readiness = new Prober(clock);
  const launcher = new TaskSetLauncher({
    services: config.services,
    traffic,
    readiness,
    clock,
    log: log.child({ component: 'tasks' }),
    processes,
  });
  const events = new EventStream(clock);
  const alarms = new AlarmCatalog(config.alarms, (name, alarm) =>
    alarm === undefined ? store.delete('alarm', name) : store.put('alarm', name, alarm),
  );
  fromStore('alarms', () => alarms.restore(keptAlarms(store)));
  const prometheus = new PrometheusClient(clock);
  // Deployment group triggers, looked up when they fire (the registry is built after the engine).
  const notifications = startNotifications({
    clock,
    log: log.child({ component: 'notify' }),
    store,
    config: config.notifications,
    triggersOf: (application, group) => {
      try {
        return registry.group(application, group).settings.triggerConfigurations ?? [];
      } catch {
        return [];
      }
    },
  });
  // The engine is built after the monitor that reports into its timelines; the indirection breaks the knot.
  let annotate: DeploymentEngine['annotate'] = () => undefined;
  const monitor = new AlarmMonitor({
    clock,
    log: log.child({ component: 'alarms' }),
    windows,
    pullStats: () => stats.pull(),
    alarms: () => alarms.all(),
    prometheus,
    intervalMs: config.alarmEvaluationInterval,
    onStateChange: (id, alarm, evaluation) =>
      annotate(id, evaluation.state === 'OK' || evaluation.state === 'INSUFFICIENT_DATA' ? 'info' : 'warn', 'alarm state changed', {
        alarm,
        state: evaluation.state,
        reason: evaluation.reason,
        ...(evaluation.value !== undefined && { value: evaluation.value }),
      }),
  });
  const engine = new DeploymentEngine({
    clock,
    log: log.child({ component: 'shifting' }),
    traffic,
    hooks,
    launcher,
    alarms: monitor,
    journal: {
      // A record and the notifications its change queues are kept together, or neither.
      save: (record) =>
        keepOrGoOn(`deployment ${record.id}`, () =>
          store.transaction(() => {
            store.put('deployment', record.id, record);
            notifications.observe(record);
          }),
        ),
      atomically: (fn) => keepOrGoOn('a deployment step', () => store.transaction(fn)),
    },
    onEvent: events.publish,
  });
  annotate = (...args) => engine.annotate(...args);
  annotateHealth = (service, change, level) => {
    const active = engine.activeOn(service);
    if (active) engine.annotate(active.id, level, 'target health changed', { ...change });
  };
  const registry = new Registry(clock, {
    alarmDeclared: alarms.has,
    onChange: (change) => (change.value === undefined ? store.delete(change.kind, change.key) : store.put(change.kind, change.key, change.value)),
  });
  fromStore('applications, groups and configurations', () => restoreRegistry(store, registry));
  applyDeclarations(registry, config);
  const api = buildApi({
    log,
    traffic,
    metrics,
    alarms,
    health,
    events,
    notifications,
    auth: config.control.auth,
    clock,
    codedeploy: {
      engine,
      registry,
      traffic,
      reporter: hooks,
      testListener: config.listeners.test !== undefined,
      // A CreateDeployment may still ask for its own (switchyardTimeScale).
      timeScale: config.timeScale,
      log,
    },
  });
  let addresses: Record<string, AddressInfo>;
  try {
    // Deployments the recovery policy rolls back end before anything starts or listens; the rest are readied.
    fromStore('deployments', () => engine.restore(keptDeployments(store), config.recovery));
    // Versions run by command that carry traffic start (and pass their checks) before any listener opens.
    const resumedTarget = (service: string, version: string) => engine.activeOn(service)?.plan.targetVersion === version;
    await launcher.startServing(new AbortController().signal, resumedTarget).catch((err: unknown) => {
      const tail = err instanceof ReplacementNotReady && err.logTail ? `; its last output:\n${err.logTail}` : '';
      throw new SwitchyardError('VERSION_NOT_READY', `a live version cannot start: ${describeError(err)}${tail}`, { cause: err });
    });
    addresses = await dataPlane.listen(config.listeners);
    await api.listen({ host: config.control.host, port: config.control.port });
    addresses['control'] = api.server.address() as AddressInfo;
    controlUrl = urlOf(addresses['control']);
    warnWhenExposed(config.control, controlUrl, log);
  } catch (err) {
    engine.close();
    await notifications.close();
    monitor.close();
    await prometheus.close();
    await api.close();
    await dataPlane.close(0);
    await launcher.close();
    await readiness.close();
    throw err;
  }
  stats.start();
  health.start();
  // Notifications (kept ones, and those the recovery queued) are sent once switchyard is surely up.
  notifications.start();
  // Restored deployments go on once the API listens, so that a hook started again can report to it.
  engine.resumeRestored();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      engine.close();
      // In-flight deliveries are aborted and stay pending in the store, for the next start.
      await notifications.close();
      monitor.close();
      health.stop();
      await prometheus.close();
      await dataPlane.close(config.drainTimeout);
      stats.stop();
      events.close();
      await api.close();
      await launcher.close();
      await readiness.close();
      await prober.close();
      store.close();
    })();
    return closing;
  };
  const urls = Object.fromEntries(Object.entries(addresses).map(([k, a]) => [k, urlOf(a)]));
  return { config, log, traffic, dataPlane, stats, metrics, engine, registry, store, alarms, api, addresses, urls, close };
}
