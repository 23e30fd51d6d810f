/**
 * @module app/teardown
 * What a start has built, closed newest first. Each piece registers its close as soon as it exists, so
 * a running switchyard's close() and a start that fails part way run the same steps, over exactly what
 * was built.
 */
import { describeError } from '../core/describe-error.js';
import type { Logger } from '../core/logger.js';

/** Why a teardown runs: a running switchyard stopping, or a start that failed part way. */
export type Ending = 'stop' | 'failed start';

/** One closing step; `ending` lets it hurry when the start failed (nothing was served to drain). */
export type TeardownStep = (ending: Ending) => void | Promise<void>;

/** A stack of named closing steps, run once, the last registered first. */
export class Teardown {
  readonly #log: Logger;
  readonly #steps: { readonly name: string; readonly run: TeardownStep }[] = [];
  #closing: Promise<void> | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Registers `run`: it runs before every step registered earlier, after every step registered later. */
  add(name: string, run: TeardownStep): void {
    this.#steps.push({ name, run });
  }

  /**
   * Runs the steps in reverse order of registration, one at a time; a step that throws is logged and the
   * rest still run. Never rejects; a second call returns the first one's promise.
   */
  close(ending: Ending = 'stop'): Promise<void> {
    this.#closing ??= this.#run(ending);
    return this.#closing;
  }

  async #run(ending: Ending): Promise<void> {
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        await step.run(ending);
      } catch (err) {
        this.#log.error(
          { step: step.name, ending, err: describeError(err) },
          'a closing step failed; closing the rest',
        );
      }
    }
  }
}
