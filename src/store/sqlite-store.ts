/**
 * @module store/sqlite-store
 * The DeploymentStore on SQLite (better-sqlite3, synchronous): one file, WAL journal so readers never
 * block the writer and a crash loses no committed write, and migrations applied in order against
 * SQLite's `user_version`, so a newer switchyard opens an older file and an older one refuses a newer file.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';

import { describeError } from '../core/describe-error.js';
import { SwitchyardError } from '../core/errors.js';
import { type DeploymentStore, type StoredDocument, type StoreKind } from '../shifting/ports.js';
import { toJson } from './json.js';

/** Schema changes in order; the file's user_version says how many have been applied. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE documents (
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (kind, key)
   );
   CREATE TABLE kind_order (
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     UNIQUE (kind, key)
   );`,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Documents in a SQLite file. */
export class SqliteStore implements DeploymentStore {
  readonly #db: Database.Database;
  readonly #put: Database.Statement<[string, string, string]>;
  readonly #order: Database.Statement<[string, string]>;
  readonly #delete: Database.Statement<[string, string]>;
  readonly #unorder: Database.Statement<[string, string]>;
  readonly #get: Database.Statement<[string, string], { value: string }>;
  readonly #list: Database.Statement<[string], { key: string; value: string }>;

  /** Opens (creating it and its folder when needed) and migrates the database at `file`. */
  constructor(readonly file: string) {
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      this.#db = new Database(file);
      this.#db.pragma('journal_mode = WAL');
      // With WAL, NORMAL syncs at checkpoints: a power cut may lose the last commits, a process crash none.
      this.#db.pragma('synchronous = NORMAL');
      this.#db.pragma('busy_timeout = 5000');
      this.#migrate();
    } catch (err) {
      if (err instanceof SwitchyardError) throw err;
      throw new SwitchyardError('STORE_FAILED', `cannot open the store ${file}: ${describeError(err)}`, { cause: err });
    }
    this.#put = this.#db.prepare(
      'INSERT INTO documents (kind, key, value) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value',
    );
    this.#order = this.#db.prepare('INSERT OR IGNORE INTO kind_order (kind, key) VALUES (?, ?)');
    this.#delete = this.#db.prepare('DELETE FROM documents WHERE kind = ? AND key = ?');
    this.#unorder = this.#db.prepare('DELETE FROM kind_order WHERE kind = ? AND key = ?');
    this.#get = this.#db.prepare('SELECT value FROM documents WHERE kind = ? AND key = ?');
    this.#list = this.#db.prepare(
      'SELECT d.key AS key, d.value AS value FROM documents d JOIN kind_order o ON o.kind = d.kind AND o.key = d.key WHERE d.kind = ? ORDER BY o.seq',
    );
  }

  #migrate(): void {
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new SwitchyardError(
        'STORE_FAILED',
        `the store ${this.file} has schema version ${version}, newer than this switchyard's ${SCHEMA_VERSION}`,
      );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[v]!);
        this.#db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  put(kind: StoreKind, key: string, value: unknown): void {
    this.#write(() => {
      this.#put.run(kind, key, toJson(value));
      this.#order.run(kind, key);
    });
  }

  delete(kind: StoreKind, key: string): void {
    this.#write(() => {
      this.#delete.run(kind, key);
      this.#unorder.run(kind, key);
    });
  }

  get(kind: StoreKind, key: string): unknown {
    const row = this.#get.get(kind, key);
    return row === undefined ? undefined : (JSON.parse(row.value) as unknown);
  }

  list(kind: StoreKind): StoredDocument[] {
    return this.#list.all(kind).map((row) => ({ key: row.key, value: JSON.parse(row.value) as unknown }));
  }

  transaction(fn: () => void): void {
    try {
      this.#db.transaction(fn)();
    } catch (err) {
      // The database's own failure (a full disk at COMMIT, say) is the store's; what `fn` threw is passed on.
      if (err instanceof Database.SqliteError) {
        throw new SwitchyardError('STORE_FAILED', `cannot write to the store ${this.file}: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  /** Every write is committed before it returns: nothing is ever pending. */
  durable(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  /** Both statements of a write in one transaction (nested in the caller's, when there is one). */
  #write(fn: () => void): void {
    try {
      this.#db.transaction(fn)();
    } catch (err) {
      throw new SwitchyardError('STORE_FAILED', `cannot write to the store ${this.file}: ${describeError(err)}`, {
        cause: err,
      });
    }
  }
}
