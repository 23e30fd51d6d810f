/**
 * @module store/memory-store
 * The DeploymentStore in memory, for tests and `store: memory`: the same contract as SQLite, gone when
 * the process ends.
 */
import { type DeploymentStore, type StoredDocument, type StoreKind, toJson } from './store.js';

/** Documents in maps, serialised as SQLite would keep them. */
export class MemoryStore implements DeploymentStore {
  readonly #kinds = new Map<StoreKind, Map<string, string>>();

  put(kind: StoreKind, key: string, value: unknown): void {
    let docs = this.#kinds.get(kind);
    if (!docs) this.#kinds.set(kind, (docs = new Map<string, string>()));
    docs.set(key, toJson(value));
  }

  delete(kind: StoreKind, key: string): void {
    this.#kinds.get(kind)?.delete(key);
  }

  get(kind: StoreKind, key: string): unknown {
    const text = this.#kinds.get(kind)?.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  }

  list(kind: StoreKind): StoredDocument[] {
    return [...(this.#kinds.get(kind) ?? [])].map(([key, text]) => ({ key, value: JSON.parse(text) as unknown }));
  }

  transaction(fn: () => void): void {
    // Copy-on-start, restore-on-throw: all or nothing, as SQLite's transaction is.
    const saved = new Map([...this.#kinds].map(([kind, docs]) => [kind, new Map(docs)]));
    try {
      fn();
    } catch (err) {
      this.#kinds.clear();
      for (const [kind, docs] of saved) this.#kinds.set(kind, docs);
      throw err;
    }
  }

  close(): void {}
}
