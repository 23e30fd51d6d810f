/**
 * @module store/memory-store
 * The DeploymentStore in memory, for tests and `store: memory`: the same contract as SQLite, gone when
 * the process ends. A transaction keeps an undo log of what it changed (the first value of each document
 * it touched), so its cost follows what it writes, not the size of the store; nested transactions undo
 * only their own part, as SQLite's savepoints do.
 */
import { type DeploymentStore, type StoredDocument, type StoreKind } from '../shifting/ports.js';
import { toJson } from './json.js';

/** A document as kept: its JSON, and its place in its kind's order (first written, as SQLite's kind_order). */
interface Doc {
  readonly seq: number;
  readonly text: string;
}

/** What a transaction must put back: per document touched, what it held before (undefined: nothing). */
type UndoLog = Map<string, { readonly kind: StoreKind; readonly key: string; readonly before: Doc | undefined }>;

/** Documents in maps, serialised as SQLite would keep them. */
export class MemoryStore implements DeploymentStore {
  readonly #kinds = new Map<StoreKind, Map<string, Doc>>();
  #seq = 0;
  /** One undo log per open transaction, innermost last. */
  readonly #undo: UndoLog[] = [];

  put(kind: StoreKind, key: string, value: unknown): void {
    this.putJson(kind, key, toJson(value));
  }

  /** {@link put} with the value already as JSON (a store that keeps its documents here as a cache). */
  putJson(kind: StoreKind, key: string, text: string): void {
    let docs = this.#kinds.get(kind);
    if (!docs) this.#kinds.set(kind, (docs = new Map<string, Doc>()));
    const before = docs.get(key);
    this.#remember(kind, key, before);
    docs.set(key, { seq: before?.seq ?? ++this.#seq, text });
  }

  delete(kind: StoreKind, key: string): void {
    const docs = this.#kinds.get(kind);
    const before = docs?.get(key);
    if (!docs || !before) return;
    this.#remember(kind, key, before);
    docs.delete(key);
  }

  /** Whether a document is there, without reading it. */
  has(kind: StoreKind, key: string): boolean {
    return this.#kinds.get(kind)?.has(key) ?? false;
  }

  get(kind: StoreKind, key: string): unknown {
    const doc = this.#kinds.get(kind)?.get(key);
    return doc === undefined ? undefined : (JSON.parse(doc.text) as unknown);
  }

  list(kind: StoreKind): StoredDocument[] {
    // A document put back by an undone transaction is back at the end of its map: order by seq.
    return [...(this.#kinds.get(kind) ?? [])]
      .sort(([, a], [, b]) => a.seq - b.seq)
      .map(([key, doc]) => ({ key, value: JSON.parse(doc.text) as unknown }));
  }

  transaction(fn: () => void): void {
    const log: UndoLog = new Map();
    this.#undo.push(log);
    try {
      fn();
    } catch (err) {
      this.#undo.pop();
      for (const { kind, key, before } of [...log.values()].reverse()) {
        const docs = this.#kinds.get(kind)!;
        if (before === undefined) docs.delete(key);
        else docs.set(key, before);
      }
      throw err;
    }
    this.#undo.pop();
    // Committed into the enclosing transaction, which may still be undone: it takes over what it lacks.
    const parent = this.#undo.at(-1);
    if (parent) for (const [id, entry] of log) if (!parent.has(id)) parent.set(id, entry);
  }

  durable(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}

  #remember(kind: StoreKind, key: string, before: Doc | undefined): void {
    const log = this.#undo.at(-1);
    if (!log) return;
    const id = `${kind}\u0000${key}`;
    if (!log.has(id)) log.set(id, { kind, key, before });
  }
}
