/**
 * @module store/after-close
 * A store that takes nothing more once closed. Child processes and timers may end after switchyard has
 * stopped (a hook that outlives its SIGTERM, the grace of a leftover process, a start that failed): what
 * they would write then is what the next start finds out for itself, so their writes are dropped
 * instead of failing on a closed database.
 */
import type { DeploymentStore } from '../shifting/ports.js';

/** `store`, with writes after close() dropped and reads after it finding nothing. */
export function closingQuietly(store: DeploymentStore): DeploymentStore {
  let open = true;
  return {
    put: (kind, key, value) => {
      if (open) store.put(kind, key, value);
    },
    delete: (kind, key) => {
      if (open) store.delete(kind, key);
    },
    get: (kind, key) => (open ? store.get(kind, key) : undefined),
    list: (kind) => (open ? store.list(kind) : []),
    transaction: (fn) => {
      if (open) store.transaction(fn);
      else fn();
    },
    // What was written before close() is still committed (a server store flushes as it closes).
    durable: () => store.durable(),
    close: () => {
      if (!open) return;
      open = false;
      store.close();
    },
  };
}
