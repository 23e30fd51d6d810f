/**
 * @module tasksets/launcher
 * Makes versions ready to serve, as ECS does with a replacement task set. A version with fixed targets
 * is only health-checked; a version with a `command` is started `instances` times on free ports, and its
 * targets are published to the route table only once every instance passes its health check, so no
 * request reaches a process that is still booting. Retiring a version unpublishes it first, then stops
 * its processes.
 */
import type { ServiceConfig, VersionSpec } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { SwitchyardError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ProcessLedger } from '../core/process-ledger.js';
import {
  type ReadinessCheck,
  type ReplacementLauncher,
  ReplacementNotReady,
  stillCarriesTraffic,
  type TrafficPort,
} from '../shifting/ports.js';
import { describeExit, freePort, Task } from './task.js';

/** What the launcher needs. */
export interface LauncherDeps {
  readonly services: readonly ServiceConfig[];
  readonly traffic: TrafficPort;
  readonly readiness: ReadinessCheck;
  readonly clock: Clock;
  readonly log: Logger;
  /** Between SIGTERM and SIGKILL when a version is retired. */
  readonly killGraceMs?: number;
  /** Hears every process started and ended, so a later run can stop what a crash left running. */
  readonly processes?: ProcessLedger;
}

/** The running instances of one version, and the start in progress if any. */
interface TaskSet {
  readonly tasks: Task[];
  starting: Promise<void> | undefined;
  retiring: boolean;
}

const DEFAULT_KILL_GRACE_MS = 10_000;

/** Starts, health-checks and retires the versions of the config's services. */
export class TaskSetLauncher implements ReplacementLauncher {
  readonly #deps: LauncherDeps;
  readonly #sets = new Map<string, TaskSet>();
  #closed = false;

  constructor(deps: LauncherDeps) {
    this.#deps = deps;
  }

  async prepare(service: string, version: string, signal: AbortSignal): Promise<void> {
    const spec = this.#spec(service, version);
    if (spec.kind === 'targets') {
      await this.#allHealthy(spec.targets, spec, signal);
      return;
    }
    // Synthetic versions and functions are served in process, each by a launcher of their own.
    if (spec.kind === 'synthetic' || spec.kind === 'lambda') return;
    const key = keyOf(service, version);
    const set = this.#sets.get(key);
    if (set?.starting) return set.starting;
    if (set && !set.retiring && set.tasks.length > 0 && set.tasks.every((t) => !t.done)) {
      // Still running from before (kept alive after an earlier deployment): ready once it answers.
      await this.#allHealthy(
        set.tasks.map((t) => t.url),
        spec,
        signal,
      );
      this.#deps.traffic.setTargets(
        service,
        version,
        set.tasks.map((t) => t.url),
      );
      return;
    }
    // Some of its processes died: start the version afresh.
    if (set) await this.#stop(service, version, set);
    for (let attempt = 1; ; attempt++) {
      const fresh: TaskSet = { tasks: [], starting: undefined, retiring: false };
      this.#sets.set(key, fresh);
      const starting = this.#start(service, version, spec, fresh, signal);
      fresh.starting = starting;
      try {
        await starting;
        return;
      } catch (err) {
        // The port was free when picked and taken before the task bound it: pick others and start again.
        if (attempt >= PORT_ATTEMPTS || !lostPortRace(err)) throw err;
        this.#deps.log.warn({ service, version, attempt }, 'a task found its port taken; starting on another');
      } finally {
        fresh.starting = undefined;
      }
    }
  }

  async retire(service: string, version: string): Promise<void> {
    const key = keyOf(service, version);
    const set = this.#sets.get(key);
    if (!set || set.retiring) return;
    if (stillCarriesTraffic(this.#deps.traffic, this.#deps.log, service, version)) return;
    await this.#stop(service, version, set);
  }

  /** Unpublishes a task set and stops its processes, whatever traffic it has. */
  async #stop(service: string, version: string, set: TaskSet): Promise<void> {
    set.retiring = true;
    const key = keyOf(service, version);
    if (this.#sets.get(key) === set) this.#sets.delete(key);
    if (!this.#closed) this.#deps.traffic.setTargets(service, version, []);
    const grace = this.#deps.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const exits = await Promise.all(set.tasks.map((t) => t.stop(this.#deps.clock, grace)));
    if (exits.length)
      this.#deps.log.info({ service, version, tasks: exits.length }, 'version retired: its processes stopped');
  }

  /** Stops every process it started; for shutdown. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#sets].map(([key, set]) => this.#stop(...splitKey(key), set)));
  }

  async #start(
    service: string,
    version: string,
    spec: Extract<VersionSpec, { kind: 'command' }>,
    set: TaskSet,
    signal: AbortSignal,
  ): Promise<void> {
    const log = this.#deps.log.child({ service, version });
    for (let i = 0; i < spec.instances; i++) {
      const port = await freePort();
      const env = { SWITCHYARD_SERVICE: service, SWITCHYARD_VERSION: version, SWITCHYARD_INSTANCE: String(i) };
      const task = new Task(spec, port, env, log.child({ instance: i, port }), this.#deps.processes);
      set.tasks.push(task);
      log.info({ instance: i, port, pid: task.pid }, 'task started');
    }
    // A task that dies after it was ready leaves the rotation; the others keep serving.
    for (const task of set.tasks) {
      void task.exited.then((exit) => {
        if (set.retiring) return;
        log.warn({ url: task.url, tail: exit.tail }, `task ${describeExit(exit)}`);
        if (set.starting === undefined && this.#sets.get(keyOf(service, version)) === set) {
          this.#deps.traffic.setTargets(
            service,
            version,
            set.tasks.filter((t) => !t.done).map((t) => t.url),
          );
        }
      });
    }
    try {
      await Promise.all(
        set.tasks.map((task) =>
          Promise.race([
            this.#deps.readiness.untilHealthy(task.url, spec.healthCheck, spec.readyTimeoutMs, signal),
            task.exited.then((exit) => {
              throw new ReplacementNotReady(`task on ${task.url} ${describeExit(exit)} before it was ready`, exit.tail);
            }),
          ]),
        ),
      );
    } catch (err) {
      await this.#stop(service, version, set);
      throw err;
    }
    this.#deps.traffic.setTargets(
      service,
      version,
      set.tasks.map((t) => t.url),
    );
    log.info({ targets: set.tasks.map((t) => t.url) }, 'version ready');
  }

  async #allHealthy(targets: readonly string[], spec: VersionSpec, signal: AbortSignal): Promise<void> {
    await Promise.all(
      targets.map((t) => this.#deps.readiness.untilHealthy(t, spec.healthCheck, spec.readyTimeoutMs, signal)),
    );
  }

  #spec(service: string, version: string): VersionSpec {
    const config = this.#deps.services.find((s) => s.name === service);
    const spec = config?.versions[version];
    if (!spec) throw new SwitchyardError('VERSION_NOT_FOUND', `service ${service} has no version "${version}"`);
    return spec;
  }
}

/** Starts of a version whose task lost its port to another program before binding it, before giving up. */
const PORT_ATTEMPTS = 3;

/** Whether a start failed only because a task's port was taken between picking it and binding it. */
function lostPortRace(err: unknown): boolean {
  return err instanceof ReplacementNotReady && err.logTail.includes('EADDRINUSE');
}

const keyOf = (service: string, version: string) => `${service}\u0000${version}`;
const splitKey = (key: string) => key.split('\u0000') as [string, string];
