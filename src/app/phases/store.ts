/**
 * @module app/phases/store
 * The first phase: the store, and the processes a killed run left running. A store several switchyards
 * share (PostgreSQL) is led by one of them: this phase waits until this process leads it.
 */
import { hostname } from 'node:os';

import type { Config } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import { describeError } from '../../core/describe-error.js';
import type { Logger } from '../../core/logger.js';
import type { DeploymentStore } from '../../shifting/ports.js';
import { closingQuietly } from '../../store/after-close.js';
import { openStore } from '../../store/open.js';
import { PostgresStore } from '../../store/postgres-store.js';
import { keepOrGoOnWith } from '../keep-or-go-on.js';
import { stopLeftoverProcesses, storeLedger } from '../leftover-processes.js';
import { standBy } from '../standby.js';
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

/**
 * Opens the store (closed last of all), waits to lead it when it is shared, and stops the processes an
 * earlier, killed run left running.
 */
export async function openTheStore({ config, log, clock, store: given, teardown }: StoreSetting): Promise<Ground> {
  const controlUrl = `http://${config.control.host}:${config.control.port}`;
  const name = `${hostname()} pid ${process.pid}`;
  const opened =
    given ??
    (await openStore(config.store, {
      log: log.child({ component: 'store' }),
      clock,
      name,
      controlUrl,
    }));
  const store = closingQuietly(opened);
  // Registered first, so closed last: what closes before it may still write its end down. A shared store
  // commits what it was given before its session (and with it the lead) ends.
  teardown.add('store', async () => {
    store.close();
    if (opened instanceof PostgresStore) await opened.closed();
  });
  if (opened instanceof PostgresStore) await leadTheStore(opened, name, config, log);
  stopLeftoverProcesses(store, clock, log);
  return {
    config,
    log,
    clock,
    store,
    processes: storeLedger(store),
    keepOrGoOn: keepOrGoOnWith(log),
    teardown,
    announce: (url) => {
      // The configured address may be port 0 or every interface: standbys forward to the bound one.
      if (opened instanceof PostgresStore) opened.announce(url);
    },
    later: {
      engine: undefined,
      registry: undefined,
      controlUrl,
      serviceHealthChanged: undefined,
    },
  };
}

/**
 * Waits until this process leads the shared store (the store logs that it stands by, and whom for),
 * answering on the control address meanwhile by forwarding to the leader, and stops the process when that
 * lead is lost.
 */
async function leadTheStore(store: PostgresStore, name: string, config: Config, log: Logger): Promise<void> {
  store.onLost((err) => {
    // Another switchyard may lead already: one that goes on would move traffic by a state it can no longer
    // write, beside the one that can. Ending the process at once stops its writes, its shifts and its hooks.
    log.fatal({ err: describeError(err) }, 'the lead of the store is lost: stopping');
    process.exit(1);
  });
  const front = await standBy({
    host: config.control.host,
    port: config.control.port,
    name,
    leader: () => store.leader(),
    log: log.child({ component: 'standby' }),
  });
  try {
    await store.lead();
  } finally {
    await front.close();
  }
  log.info({ store: store.where }, 'leading the store');
}
