/**
 * @module functions/launcher
 * Makes function versions ready and retires them, as the task sets do with versions run by command: one
 * environment initialised (so a version whose Init fails fails its deployment, and the first request is
 * warm), then an HTTP front on 127.0.0.1 published as the version's one target, so that the proxy's
 * split, stickiness, retries, mirroring, faults and metrics treat it as any other version.
 */
import type { EventFormat } from '../config/functions.js';
import { DEFAULT_EVENT_FORMAT } from '../config/functions.js';
import type { HealthCheckConfig, ServiceConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { type ReplacementLauncher, ReplacementNotReady, type TrafficPort } from '../shifting/ports.js';
import type { InvokeOutcome } from './environment.js';
import type { FunctionHost } from './host.js';
import { type FunctionFront, startFunctionFront } from './http-front/front-server.js';

/** Waits until a target passes its health check (the app's prober). */
export interface FunctionReadiness {
  /** Resolves once `target` passes `check`; rejects after `deadlineMs`, or on abort. */
  untilHealthy(
    target: string,
    check: HealthCheckConfig | undefined,
    deadlineMs: number,
    signal: AbortSignal,
  ): Promise<void>;
}

/** What the launcher needs. */
export interface FunctionLauncherDeps {
  readonly services: readonly ServiceConfig[];
  readonly traffic: TrafficPort;
  readonly host: FunctionHost;
  readonly clock: Clock;
  readonly log: Logger;
  /** Used only for versions that declare `healthCheck` (it is sent through the front, as a request). */
  readonly readiness?: FunctionReadiness;
}

/** A version's front, and the start in progress if any. */
interface Running {
  front: FunctionFront | undefined;
  starting: Promise<void> | undefined;
  retiring: boolean;
}

/** Runs the function versions of the config's services behind their HTTP fronts. */
export class FunctionLauncher implements ReplacementLauncher {
  readonly #deps: FunctionLauncherDeps;
  readonly #running = new Map<string, Running>();
  #closed = false;

  constructor(deps: FunctionLauncherDeps) {
    this.#deps = deps;
  }

  /** Whether `version` of `service` is a function (this launcher's to run). */
  serves(service: string, version: string): boolean {
    return this.#deps.host.spec(service, version) !== undefined;
  }

  async prepare(service: string, version: string, signal: AbortSignal): Promise<void> {
    if (!this.serves(service, version)) {
      throw new ReplacementNotReady(`version ${version} of ${service} is not a function`);
    }
    const key = keyOf(service, version);
    const running = this.#running.get(key);
    if (running?.starting) return running.starting;
    if (running && !running.retiring && running.front) {
      // Still running from before (kept after an earlier deployment): it stays as warm as it is.
      this.#deps.traffic.setTargets(service, version, [running.front.url]);
      return;
    }
    const fresh: Running = { front: undefined, starting: undefined, retiring: false };
    this.#running.set(key, fresh);
    fresh.starting = this.#start(service, version, fresh, signal);
    try {
      await fresh.starting;
    } finally {
      fresh.starting = undefined;
    }
  }

  async retire(service: string, version: string): Promise<void> {
    const running = this.#running.get(keyOf(service, version));
    if (!running || running.retiring) return;
    const view = this.#deps.traffic.service(service);
    if (Object.values(view.weights).some((w) => (w[version] ?? 0) > 0)) {
      // Never take away a version that still has traffic: that would turn a stop into an outage.
      this.#deps.log.warn(
        { service, version, weights: view.weights },
        'not retiring a version that still carries traffic',
      );
      return;
    }
    await this.#stop(service, version, running);
    this.#deps.log.info({ service, version }, 'function version retired');
  }

  /** Closes every front it started (the host closes the environments); for shutdown. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#running].map(([key, running]) => this.#stop(...splitKey(key), running)));
  }

  async #start(service: string, version: string, running: Running, signal: AbortSignal): Promise<void> {
    const { host, log } = this.#deps;
    try {
      const warmed = await host.warm(service, version);
      if (warmed.kind === 'failed') throw new ReplacementNotReady(initFailure(service, version, warmed.outcome));
      if (signal.aborted || running.retiring) throw new ReplacementNotReady(`the start of ${version} was stopped`);
      running.front = await startFunctionFront({
        functionName: service,
        version,
        eventFormat: this.#eventFormat(service),
        clock: this.#deps.clock,
        log: log.child({ function: service, version }),
        invoke: (event, requestId) => host.run(service, version, event, { requestId }),
      });
      const spec = this.#deps.services.find((s) => s.name === service)?.versions[version];
      const readiness = this.#deps.readiness;
      if (spec?.healthCheck && readiness) {
        await readiness.untilHealthy(running.front.url, spec.healthCheck, spec.readyTimeoutMs, signal);
      }
      if (signal.aborted || running.retiring) throw new ReplacementNotReady(`the start of ${version} was stopped`);
    } catch (err) {
      await this.#stop(service, version, running);
      throw err;
    }
    this.#deps.traffic.setTargets(service, version, [running.front.url]);
    log.info({ service, version, target: running.front.url }, 'function version ready');
  }

  /** Unpublishes a version's front, closes it and stops its environments, whatever traffic it has. */
  async #stop(service: string, version: string, running: Running): Promise<void> {
    running.retiring = true;
    const key = keyOf(service, version);
    if (this.#running.get(key) === running) this.#running.delete(key);
    if (!this.#closed) this.#deps.traffic.setTargets(service, version, []);
    await running.front?.close();
    await this.#deps.host.stop(service, version);
  }

  #eventFormat(service: string): EventFormat {
    return this.#deps.services.find((s) => s.name === service)?.eventFormat ?? DEFAULT_EVENT_FORMAT;
  }
}

/** Why a version did not become ready, in the words Lambda reports an Init failure with. */
function initFailure(service: string, version: string, outcome: InvokeOutcome): string {
  const what = `function ${service} version ${version} failed its Init`;
  if (outcome.kind === 'error') return `${what}: ${outcome.errorType}: ${outcome.errorMessage}`;
  if (outcome.kind === 'response') return what;
  return `${what}: ${outcome.errorMessage}`;
}

const keyOf = (service: string, version: string) => `${service}\u0000${version}`;
const splitKey = (key: string) => key.split('\u0000') as [string, string];
