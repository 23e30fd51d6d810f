/**
 * @module app/launchers
 * The one launcher the engine sees: each version goes to the launcher of its kind, synthetic versions to
 * the synthetic launcher and every other to the task sets (which start versions run by command and
 * health-check fixed targets). The adapters never know of each other; this is where they meet.
 */
import type { ReplacementLauncher } from '../shifting/ports.js';
import type { SyntheticLauncher } from '../synthetic/launcher.js';
import type { TaskSetLauncher } from '../tasksets/launcher.js';

/** Routes each version to the launcher of its kind. */
export class VersionLaunchers implements ReplacementLauncher {
  readonly #taskSets: TaskSetLauncher;
  readonly #synthetic: SyntheticLauncher;

  constructor(taskSets: TaskSetLauncher, synthetic: SyntheticLauncher) {
    this.#taskSets = taskSets;
    this.#synthetic = synthetic;
  }

  /**
   * Starts every version switchyard runs that carries traffic now, of both kinds at once, and rejects
   * as the first of them that must start and cannot (see TaskSetLauncher.startServing).
   */
  async startServing(signal: AbortSignal, optional?: (service: string, version: string) => boolean): Promise<void> {
    const [taskSets, synthetic] = await Promise.allSettled([
      this.#taskSets.startServing(signal, optional),
      this.#synthetic.startServing(signal, optional),
    ]);
    if (taskSets.status === 'rejected') throw taskSets.reason;
    if (synthetic.status === 'rejected') throw synthetic.reason;
  }

  prepare(service: string, version: string, signal: AbortSignal): Promise<void> {
    return this.#of(service, version).prepare(service, version, signal);
  }

  retire(service: string, version: string): Promise<void> {
    return this.#of(service, version).retire(service, version);
  }

  #of(service: string, version: string): ReplacementLauncher {
    return this.#synthetic.serves(service, version) ? this.#synthetic : this.#taskSets;
  }
}
