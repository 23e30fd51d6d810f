/**
 * @module app/keep-or-go-on
 * What the engine and the traffic state write on their own (a timer, a rollback) has no caller to refuse
 * it to: when the store cannot take it (a full disk), traffic and deployments go on in memory, the error
 * is logged, and a later start resumes from what the store last took. Not writing a rollback down must
 * never stop it from reaching the data plane.
 */
import { describeError } from '../core/describe-error.js';
import { isSwitchyardError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** Runs a store write about `what`; a STORE_FAILED is logged and swallowed, any other error thrown. */
export type KeepOrGoOn = (what: string, write: () => void) => void;

/** A {@link KeepOrGoOn} that logs what the store could not keep to `log`. */
export function keepOrGoOnWith(log: Logger): KeepOrGoOn {
  return (what, write) => {
    try {
      write();
    } catch (err) {
      if (!isSwitchyardError(err, 'STORE_FAILED')) throw err;
      log.error({ err: describeError(err) }, `the store could not keep ${what}; going on in memory`);
    }
  };
}
