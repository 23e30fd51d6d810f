/**
 * @module store/open
 * Opens the store a config names.
 */
import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { DeploymentStore } from '../shifting/ports.js';
import { MemoryStore } from './memory-store.js';
import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';

/** What a store shared by several switchyards needs to know of this one. */
export interface StoreOpening {
  readonly log: Logger;
  readonly clock: Clock;
  /** This process, as the leader row names it. */
  readonly name: string;
  /** Where this process's control API answers, for standbys to name. */
  readonly controlUrl: string;
}

/**
 * The store of `config.store`: in memory, SQLite at its file, or PostgreSQL, connected and migrated but
 * standing by (its lead() makes it the one that writes).
 */
export async function openStore(spec: Config['store'], opening: StoreOpening): Promise<DeploymentStore> {
  if (spec === 'memory') return new MemoryStore();
  if ('sqlite' in spec) return new SqliteStore(spec.sqlite);
  return PostgresStore.open(spec.postgres, opening);
}
