/**
 * @module app/launchers
 * The one launcher the engine sees: each version goes to the launcher of its kind, synthetic versions to
 * the synthetic launcher, function versions to the function launcher, and every other to the task sets
 * (which start versions run by command and health-check fixed targets). The adapters never know of each other; this is where they meet.
 */
import type { ServiceConfig } from '../config/schema.js';
import { describeError } from '../core/describe-error.js';
import type { Logger } from '../core/logger.js';
import type { ReplacementLauncher, TrafficPort } from '../shifting/ports.js';
import type { TaskSetLauncher } from '../tasksets/launcher.js';

/** What the launchers serve: the config's services and the traffic they carry now. */
export interface VersionLaunchersDeps {
  readonly services: readonly ServiceConfig[];
  readonly traffic: TrafficPort;
  readonly log: Logger;
}

/** A launcher of one kind of version, which says which versions are its own. */
export interface KindLauncher extends ReplacementLauncher {
  /** Whether `version` of `service` is of this launcher's kind. */
  serves(service: string, version: string): boolean;
}

/** Routes each version to the launcher of its kind. */
export class VersionLaunchers implements ReplacementLauncher {
  readonly #deps: VersionLaunchersDeps;
  readonly #taskSets: ReplacementLauncher;
  readonly #kinds: readonly KindLauncher[];

  /** `kinds` (synthetic versions, functions) take their own versions; the task sets every other. */
  constructor(deps: VersionLaunchersDeps, taskSets: TaskSetLauncher | ReplacementLauncher, ...kinds: KindLauncher[]) {
    this.#deps = deps;
    this.#taskSets = taskSets;
    this.#kinds = kinds;
  }

  /**
   * Starts every version switchyard runs (by command, synthetic or a function) that carries traffic now (the live
   * one, and any weighted one), all at once, and rejects when one with production traffic cannot
   * start; one that `optional` names, or that has only test traffic, is started too, but its failure is
   * only logged (a replacement whose deployment, resumed, makes it ready again or fails).
   */
  async startServing(
    signal: AbortSignal,
    optional: (service: string, version: string) => boolean = () => false,
  ): Promise<void> {
    const starts: Promise<void>[] = [];
    for (const service of this.#deps.services) {
      const view = this.#deps.traffic.service(service.name);
      for (const [label, spec] of Object.entries(service.versions)) {
        if (spec.kind === 'targets') continue;
        const production = label === view.live || (view.weights.production[label] ?? 0) > 0;
        if (!production && (view.weights.test[label] ?? 0) === 0) continue;
        const start = this.prepare(service.name, label, signal);
        // Only production traffic must be served for switchyard to start; test traffic is best effort.
        if (production && (label === view.live || !optional(service.name, label))) starts.push(start);
        else {
          // Its failing must not keep the live version down: a resumed deployment fails it and rolls
          // back; a version with only test traffic answers the test listener 503 until it is started.
          starts.push(
            start.catch((err: unknown) => {
              this.#deps.log.warn(
                { service: service.name, version: label, err: describeError(err) },
                'a weighted replacement did not start',
              );
            }),
          );
        }
      }
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  prepare(service: string, version: string, signal: AbortSignal): Promise<void> {
    return this.#of(service, version).prepare(service, version, signal);
  }

  retire(service: string, version: string): Promise<void> {
    return this.#of(service, version).retire(service, version);
  }

  #of(service: string, version: string): ReplacementLauncher {
    return this.#kinds.find((kind) => kind.serves(service, version)) ?? this.#taskSets;
  }
}
