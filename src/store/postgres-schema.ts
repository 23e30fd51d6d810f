/**
 * @module store/postgres-schema
 * The tables of the PostgreSQL store and their migrations: documents by kind and key with their first-write
 * order (as SQLite keeps them), the leader row, and a schema-version row so that a newer switchyard migrates
 * an older database and an older one refuses a newer database. Names carry a `switchyard_` prefix: the
 * database may hold other things.
 */
import pg from 'pg';

import { SwitchyardError } from '../core/errors.js';
import type { StoreKind } from '../shifting/ports.js';

/** Schema changes in order; switchyard_schema.version says how many have been applied. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE switchyard_documents (
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     -- First-write order: an update keeps it, a delete and a new put moves the key to the end.
     seq BIGSERIAL NOT NULL,
     PRIMARY KEY (kind, key)
   );
   CREATE INDEX switchyard_documents_order ON switchyard_documents (kind, seq);
   CREATE TABLE switchyard_leader (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     name TEXT NOT NULL,
     control_url TEXT NOT NULL,
     since TIMESTAMPTZ NOT NULL
   );`,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The advisory lock keys (one bigint space per database): the leader's, held for as long as its session
 * lives, and the one that keeps two processes from migrating at once. Arbitrary, but fixed forever.
 */
export const LEADER_LOCK = 0x5359_4c45_4144; // "SYLEAD"
const MIGRATION_LOCK = 0x5359_4d49_4752; // "SYMIGR"

/** Creates or migrates the tables, in one transaction; refuses a database a newer switchyard wrote. */
export async function migrate(client: pg.Client, where: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS switchyard_schema (version INTEGER NOT NULL)');
    const rows = (await client.query<{ version: number }>('SELECT version FROM switchyard_schema')).rows;
    const version = rows[0]?.version ?? 0;
    if (version > SCHEMA_VERSION) {
      throw new SwitchyardError(
        'STORE_FAILED',
        `the store ${where} has schema version ${version}, newer than this switchyard's ${SCHEMA_VERSION}`,
      );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) await client.query(MIGRATIONS[v]!);
    if (rows.length === 0) await client.query('INSERT INTO switchyard_schema (version) VALUES ($1)', [SCHEMA_VERSION]);
    else if (version < SCHEMA_VERSION)
      await client.query('UPDATE switchyard_schema SET version = $1', [SCHEMA_VERSION]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** One document as committed, its value as JSON text. */
export interface DocumentRow {
  readonly kind: StoreKind;
  readonly key: string;
  readonly value: string;
}

/** Every document, each kind in first-write order. */
export async function loadDocuments(client: pg.Client): Promise<DocumentRow[]> {
  return (await client.query<DocumentRow>('SELECT kind, key, value FROM switchyard_documents ORDER BY seq')).rows;
}

/** The process that leads (or last led) the database. */
export interface LeaderRow {
  readonly name: string;
  readonly controlUrl: string;
  /** When it took the lead, in ms since the epoch of its clock. */
  readonly since: number;
}

/** The leader row, or undefined when no switchyard has led this database yet. */
export async function readLeader(client: pg.Client): Promise<LeaderRow | undefined> {
  const { rows } = await client.query<{ name: string; control_url: string; since: Date }>(
    'SELECT name, control_url, since FROM switchyard_leader WHERE id = 1',
  );
  const row = rows[0];
  return row && { name: row.name, controlUrl: row.control_url, since: row.since.getTime() };
}

/** One write: a document put (its JSON) or deleted (no text), or the leader row (re)written. */
export type Write =
  | { readonly kind: StoreKind; readonly key: string; readonly text: string | undefined }
  | { readonly leader: LeaderRow };

/**
 * Writes as one SQL text, one transaction (a single write is one already), its values inlined and escaped
 * as libpq escapes them: the whole commit is one round trip to the server, where one statement per
 * write would wait for each in turn.
 */
export function commitSql(writes: readonly Write[]): string {
  const statements = writes.map(writeSql);
  return statements.length === 1 ? statements[0]! : ['BEGIN', ...statements, 'COMMIT'].join(';\n');
}

function writeSql(write: Write): string {
  if ('leader' in write) {
    const { name, controlUrl, since } = write.leader;
    return `INSERT INTO switchyard_leader (id, name, control_url, since)
      VALUES (1, ${pg.escapeLiteral(name)}, ${pg.escapeLiteral(controlUrl)}, to_timestamp(${Math.round(since)} / 1000.0))
      ON CONFLICT (id) DO UPDATE SET name = excluded.name, control_url = excluded.control_url, since = excluded.since`;
  }
  const [kind, key] = [pg.escapeLiteral(write.kind), pg.escapeLiteral(write.key)];
  if (write.text === undefined) return `DELETE FROM switchyard_documents WHERE kind = ${kind} AND key = ${key}`;
  return `INSERT INTO switchyard_documents (kind, key, value) VALUES (${kind}, ${key}, ${pg.escapeLiteral(write.text)})
      ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value`;
}
