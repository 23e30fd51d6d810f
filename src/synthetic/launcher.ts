/**
 * @module synthetic/launcher
 * Starts and retires synthetic versions, as the task sets do with versions run by command: `instances`
 * servers per version, started at Install (so that a replacement is cold when its shift begins) or at
 * start for a version that carries traffic, published to the route table once they listen (and, with a
 * `healthCheck`, pass it), unpublished before they close.
 */
import type { ServiceConfig, VersionSpec } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import { deriveSeed } from '../core/random.js';
import { type VersionRun, VersionRuns } from '../core/version-runs.js';
import {
  type ReadinessCheck,
  type ReplacementLauncher,
  ReplacementNotReady,
  stillCarriesTraffic,
  type TrafficPort,
} from '../shifting/ports.js';
import { startSyntheticServer, type SyntheticServer } from './server.js';

/** What the synthetic launcher needs. */
export interface SyntheticLauncherDeps {
  readonly services: readonly ServiceConfig[];
  readonly traffic: TrafficPort;
  readonly log: Logger;
  /** Used only for versions that declare `healthCheck`; the others are ready once they listen. */
  readonly readiness?: ReadinessCheck;
}

/** The servers of one version, and the start in progress if any. */
interface Running extends VersionRun {
  servers: SyntheticServer[];
}

type SyntheticSpec = Extract<VersionSpec, { kind: 'synthetic' }>;

/** Runs the synthetic versions of the config's services. */
export class SyntheticLauncher implements ReplacementLauncher {
  readonly #deps: SyntheticLauncherDeps;
  readonly #runs = new VersionRuns<Running>();
  #closed = false;

  constructor(deps: SyntheticLauncherDeps) {
    this.#deps = deps;
  }

  /** Whether `version` of `service` is synthetic (this launcher's to run). */
  serves(service: string, version: string): boolean {
    return this.#spec(service, version) !== undefined;
  }

  async prepare(service: string, version: string, signal: AbortSignal): Promise<void> {
    const spec = this.#spec(service, version);
    if (!spec) throw new ReplacementNotReady(`version ${version} of ${service} is not synthetic`);
    await this.#runs.prepare(service, version, {
      fresh: (): Running => ({ servers: [], starting: undefined, retiring: false }),
      start: (run) => this.#start(service, version, spec, run, signal),
      // Still running from before (a version kept after an earlier deployment): it stays as warm as it is.
      reuse: (run) => this.#deps.traffic.setTargets(service, version, urlsOf(run)),
    });
  }

  async retire(service: string, version: string): Promise<void> {
    const running = this.#runs.get(service, version);
    if (!running || running.retiring) return;
    if (stillCarriesTraffic(this.#deps.traffic, this.#deps.log, service, version)) return;
    await this.#stop(service, version, running);
    this.#deps.log.info({ service, version }, 'synthetic version retired');
  }

  /** Closes every server it started; for shutdown. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#runs.all().map(([service, version, running]) => this.#stop(service, version, running)));
  }

  async #start(service: string, version: string, spec: SyntheticSpec, running: Running, signal: AbortSignal) {
    const seed = spec.synthetic.seed;
    try {
      for (let i = 0; i < spec.instances; i++) {
        // Instance 0 draws from the config's seed itself; the others from seeds derived from it.
        const instanceSeed = seed === undefined || i === 0 ? seed : deriveSeed(seed, 'instance', i);
        running.servers.push(
          await startSyntheticServer(spec.synthetic, {
            label: version,
            ...(instanceSeed !== undefined && { seed: instanceSeed }),
          }),
        );
        if (signal.aborted || running.retiring) throw new ReplacementNotReady(`the start of ${version} was stopped`);
      }
      const readiness = this.#deps.readiness;
      if (spec.healthCheck && readiness) {
        await Promise.all(
          urlsOf(running).map((url) => readiness.untilHealthy(url, spec.healthCheck, spec.readyTimeoutMs, signal)),
        );
      }
    } catch (err) {
      await this.#stop(service, version, running);
      throw err;
    }
    this.#deps.traffic.setTargets(service, version, urlsOf(running));
    this.#deps.log.info(
      { service, version, targets: urlsOf(running), seeds: running.servers.map((s) => s.seed) },
      'synthetic version ready',
    );
  }

  /** Unpublishes a version's servers and closes them, whatever traffic it has. */
  async #stop(service: string, version: string, running: Running): Promise<void> {
    this.#runs.forget(service, version, running);
    if (!this.#closed) this.#deps.traffic.setTargets(service, version, []);
    await Promise.all(running.servers.map((s) => s.close()));
  }

  #spec(service: string, version: string): SyntheticSpec | undefined {
    const spec = this.#deps.services.find((s) => s.name === service)?.versions[version];
    return spec?.kind === 'synthetic' ? spec : undefined;
  }
}

const urlsOf = (running: Running) => running.servers.map((s) => s.url);
