/**
 * @module app/phases/store
 * The first phase: the store, and the processes a killed run left running.
 */
import type { Config } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { DeploymentStore } from '../../shifting/ports.js';
import { closingQuietly } from '../../store/after-close.js';
import { openStore } from '../../store/open.js';
import { keepOrGoOnWith } from '../keep-or-go-on.js';
import { stopLeftoverProcesses, storeLedger } from '../leftover-processes.js';
import type { Teardown } from '../teardown.js';
import type { Ground } from './ground.js';

/** What the store phase starts from. */
export interface StoreSetting {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  /** A store to use instead of opening the config's; it is closed all the same. */
  readonly store: DeploymentStore | undefined;
  readonly teardown: Teardown;
}

/** Opens the store (closed last of all) and stops the processes an earlier, killed run left running. */
export function openTheStore({ config, log, clock, store: given, teardown }: StoreSetting): Ground {
  const store = closingQuietly(given ?? openStore(config.store));
  // Registered first, so closed last: what closes before it may still write its end down.
  teardown.add('store', () => store.close());
  stopLeftoverProcesses(store, clock, log);
  return {
    config,
    log,
    clock,
    store,
    processes: storeLedger(store),
    keepOrGoOn: keepOrGoOnWith(log),
    teardown,
    later: {
      engine: undefined,
      registry: undefined,
      controlUrl: `http://${config.control.host}:${config.control.port}`,
      serviceHealthChanged: undefined,
    },
  };
}
