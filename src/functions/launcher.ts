/**
 * @module functions/launcher
 * Makes function versions ready and retires them, as the task sets do with versions run by command: one
 * environment initialised (so a version whose Init fails fails its deployment, and the first request is
 * warm), then an HTTP front on 127.0.0.1 published as the version's one target, so that the proxy's
 * split, stickiness, retries, mirroring, faults and metrics treat it as any other version.
 */
import type { EventFormat } from '../config/functions.js';
import { DEFAULT_EVENT_FORMAT } from '../config/functions.js';
import type { ServiceConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { type VersionRun, VersionRuns } from '../core/version-runs.js';
import {
  type ReadinessCheck,
  type ReplacementLauncher,
  ReplacementNotReady,
  stillCarriesTraffic,
  type TrafficPort,
} from '../shifting/ports.js';
import type { InvokeOutcome } from './environment.js';
import type { FunctionHost } from './host.js';
import { type FunctionFront, startFunctionFront } from './http-front/front-server.js';

/** What the launcher needs. */
export interface FunctionLauncherDeps {
  readonly services: readonly ServiceConfig[];
  readonly traffic: TrafficPort;
  readonly host: FunctionHost;
  readonly clock: Clock;
  readonly log: Logger;
  /** Used only for versions that declare `healthCheck` (it is sent through the front, as a request). */
  readonly readiness?: ReadinessCheck;
}

/** A version's front, and the start in progress if any. */
interface Running extends VersionRun {
  front: FunctionFront | undefined;
}

/** Runs the function versions of the config's services behind their HTTP fronts. */
export class FunctionLauncher implements ReplacementLauncher {
  readonly #deps: FunctionLauncherDeps;
  readonly #runs = new VersionRuns<Running>();
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
    await this.#runs.prepare(service, version, {
      fresh: (): Running => ({ front: undefined, starting: undefined, retiring: false }),
      start: (run) => this.#start(service, version, run, signal),
      // Still running from before (kept after an earlier deployment): it stays as warm as it is.
      reuse: (run) => this.#deps.traffic.setTargets(service, version, run.front ? [run.front.url] : []),
    });
  }

  async retire(service: string, version: string): Promise<void> {
    const running = this.#runs.get(service, version);
    if (!running || running.retiring) return;
    if (stillCarriesTraffic(this.#deps.traffic, this.#deps.log, service, version)) return;
    await this.#stop(service, version, running);
    this.#deps.log.info({ service, version }, 'function version retired');
  }

  /** Closes every front it started (the host closes the environments); for shutdown. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#runs.all().map(([service, version, running]) => this.#stop(service, version, running)));
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
    this.#runs.forget(service, version, running);
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
