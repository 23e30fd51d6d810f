/**
 * @module cli/until-signal
 * How a long-running command ends: on SIGINT or SIGTERM it drains and stops switchyard, then resolves.
 */
import type { Switchyard } from '../app/start.js';

/** Runs until SIGINT/SIGTERM, then drains and resolves; a second signal exits at once. */
export function untilSignal(sy: Switchyard, cleanup: () => Promise<void> = async () => undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        sy.log.warn({ signal }, 'second signal: exiting without draining');
        process.exit(1);
      }
      stopping = true;
      sy.log.info({ signal, drainTimeoutMs: sy.config.drainTimeout }, 'stopping: draining in-flight requests');
      // A failed stop is reported by main's error mapping (exit 1), not left as an unhandled rejection.
      sy.close()
        .then(cleanup)
        .then(() => {
          sy.log.info('stopped');
          resolve();
        }, reject);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
