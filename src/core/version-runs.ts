/**
 * @module core/version-runs
 * The versions a launcher runs in process (synthetic servers, function fronts), by service and version:
 * one start at a time for each, a run kept from before reused as it is, a stopped one forgotten. Each
 * launcher keeps what its runs hold; this keeps the bookkeeping they would each write.
 */

/** What every run has: the start under way, if any, and whether it is being stopped. */
export interface VersionRun {
  starting: Promise<void> | undefined;
  retiring: boolean;
}

/** How {@link VersionRuns.prepare} makes a run, starts it, and takes one kept from before. */
export interface RunStart<R extends VersionRun> {
  readonly fresh: () => R;
  readonly start: (run: R) => Promise<void>;
  readonly reuse: (run: R) => void;
}

/** The runs of one launcher. */
export class VersionRuns<R extends VersionRun> {
  readonly #runs = new Map<string, R>();

  /** The run of `version` of `service`, if there is one. */
  get(service: string, version: string): R | undefined {
    return this.#runs.get(keyOf(service, version));
  }

  /** Joins a start under way, hands a run kept from before to `reuse`, or starts a fresh run. */
  async prepare(service: string, version: string, how: RunStart<R>): Promise<void> {
    const key = keyOf(service, version);
    const running = this.#runs.get(key);
    if (running?.starting) return running.starting;
    if (running && !running.retiring) return how.reuse(running);
    const run = how.fresh();
    this.#runs.set(key, run);
    run.starting = how.start(run);
    try {
      await run.starting;
    } finally {
      run.starting = undefined;
    }
  }

  /** Marks `run` as stopping and forgets it (unless a newer run of the version took its place). */
  forget(service: string, version: string, run: R): void {
    run.retiring = true;
    const key = keyOf(service, version);
    if (this.#runs.get(key) === run) this.#runs.delete(key);
  }

  /** Every run with its service and version, for shutdown. */
  all(): [service: string, version: string, run: R][] {
    return [...this.#runs].map(([key, run]) => [...(key.split('\u0000') as [string, string]), run]);
  }
}

const keyOf = (service: string, version: string) => `${service}\u0000${version}`;
