/**
 * @module shifting/run
 * One in-flight deployment as the engine holds it: its record, its clock, and the one wait it may be in
 * (a hook, a shift step's hold, the ready or termination wait), which a user can end early (wake) and a
 * stop or failure elsewhere cuts short (abort, seen by the run as Halted).
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { DeploymentRecord } from './ports.js';

/** Thrown inside a run when the deployment was stopped or failed elsewhere; ends the run quietly. */
export class Halted extends Error {}

/** One in-flight deployment: its record, its clock and whatever it waits on. */
export class Run {
  readonly abort = new AbortController();
  #wake: (() => void) | undefined;
  /** Set when the run was taken back after a restart: its first timed wait counts from the persisted start. */
  resumed = false;

  constructor(
    readonly record: DeploymentRecord,
    readonly clock: Clock,
    readonly log: Logger,
  ) {}

  /**
   * Waits `ms` on this deployment's clock (null: until woken); resolves with what ended the wait, early
   * when woken; rejects with Halted when the deployment is halted meanwhile.
   */
  wait(ms: number | null): Promise<'elapsed' | 'woken'> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.reject(new Halted());
    return new Promise((resolve, reject) => {
      const done = () => {
        cancel?.();
        signal.removeEventListener('abort', onAbort);
        this.#wake = undefined;
      };
      const onAbort = () => {
        done();
        reject(new Halted());
      };
      const cancel =
        ms === null
          ? undefined
          : this.clock.setTimer(ms, () => {
              done();
              resolve('elapsed');
            });
      this.#wake = () => {
        done();
        resolve('woken');
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends the current wait now. */
  wake(): void {
    this.#wake?.();
  }

  /**
   * Waits `ms` (null: until woken) like {@link wait}, keeping when the wait began in the record (`save`
   * writes it); the first wait of a resumed run counts from the start its record kept, so a restart never
   * lengthens it.
   */
  async hold(ms: number | null, save: (record: DeploymentRecord) => void): Promise<'elapsed' | 'woken'> {
    const { record, clock } = this;
    const kept = this.resumed ? record.waitStartedAt : undefined;
    this.resumed = false;
    record.waitStartedAt = kept ?? clock.now();
    save(record);
    const left = ms === null ? null : Math.max(0, ms - (clock.now() - record.waitStartedAt));
    try {
      // A wait that ran out while switchyard was down is over now, not a timer later.
      if (left === 0 && kept !== undefined) return 'elapsed';
      return await this.wait(left);
    } finally {
      record.waitStartedAt = undefined;
    }
  }
}
