/**
 * @module store/store
 * The DeploymentStore: where everything the API returns is kept so that a restart forgets nothing.
 * Documents are plain JSON by kind and key; a kind lists in the order its keys were first written, which
 * is the order the API lists deployments, applications and groups in. Writes are synchronous: the
 * control plane's rate of change is small, and a write that returned is on disk (SQLite, WAL).
 */

/** The kinds of documents kept. */
export const STORE_KINDS = [
  'application',
  'group',
  'config',
  'deployment',
  'request',
  'service',
  'hookExecution',
  'process',
  'notification',
  'alarm',
] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** One stored document; what the value is, its reader checks (with the schema it was written from). */
export interface StoredDocument {
  readonly key: string;
  readonly value: unknown;
}

/** Keeps JSON documents by kind and key. */
export interface DeploymentStore {
  /** Inserts or replaces a document; a replaced one keeps its place in its kind's order. */
  put(kind: StoreKind, key: string, value: unknown): void;
  /** Removes a document; removing one that is not there is not an error. */
  delete(kind: StoreKind, key: string): void;
  /** One document's value, or undefined. */
  get(kind: StoreKind, key: string): unknown;
  /** Every document of a kind, in the order their keys were first written. */
  list(kind: StoreKind): StoredDocument[];
  /** Runs `fn` so that all of its writes happen or none do. */
  transaction(fn: () => void): void;
  /** Releases the store (closes the database). */
  close(): void;
}

/** Values go through JSON either way, so what a store returns never aliases what was written. */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}
