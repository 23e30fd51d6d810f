/**
 * @module store/open
 * Opens the store a config names.
 */
import type { Config } from '../config/schema.js';
import type { DeploymentStore } from '../shifting/ports.js';
import { MemoryStore } from './memory-store.js';
import { SqliteStore } from './sqlite-store.js';

/** The store of `config.store`: SQLite at its file, or in memory. */
export function openStore(spec: Config['store']): DeploymentStore {
  return spec === 'memory' ? new MemoryStore() : new SqliteStore(spec.sqlite);
}
