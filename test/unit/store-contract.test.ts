/**
 * One contract for every DeploymentStore: the in-memory one, SQLite (on a real file) and PostgreSQL (on a
 * throwaway server) must behave the same. The stores that persist must give back the same documents after a
 * reopen (PostgreSQL: once durable(), a new store on the same database that takes the lead); SQLite must
 * also be in WAL mode at its schema version.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { systemClock } from '../../src/core/clock.js';
import { isSwitchyardError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import type { DeploymentStore } from '../../src/shifting/ports.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { SCHEMA_VERSION, SqliteStore } from '../../src/store/sqlite-store.js';
import { POSTGRES_SKIP, postgresServer } from '../support/postgres.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const postgres = postgresServer();

/** A store under the contract: how to open a fresh one, and how to open it again on what it kept. */
interface Subject {
  readonly name: string;
  readonly skip: string | undefined;
  open(): Promise<DeploymentStore>;
  /** Closes `store` and opens the same data again (memory: the same store, it has nowhere else). */
  reopen(store: DeploymentStore): Promise<DeploymentStore>;
}

const sqliteFiles = new WeakMap<DeploymentStore, string>();
const pgUrls = new WeakMap<DeploymentStore, string>();

const pgStores: PostgresStore[] = [];
afterEach(async () => {
  for (const store of pgStores.splice(0)) {
    store.close();
    await store.closed();
  }
});

/** A PostgreSQL store on `url`, leading. */
async function leading(url: string): Promise<PostgresStore> {
  const log = createLogger({ level: 'silent' });
  const store = await PostgresStore.open(url, { log, clock: systemClock, name: 'contract', controlUrl: 'http://x' });
  pgStores.push(store);
  await store.lead();
  pgUrls.set(store, url);
  return store;
}

const subjects: Subject[] = [
  { name: 'memory', skip: undefined, open: async () => new MemoryStore(), reopen: async (store) => store },
  {
    name: 'sqlite',
    skip: undefined,
    open: async () => {
      const file = join(dir, `contract-${++n}`, 'switchyard.db');
      const store = new SqliteStore(file);
      sqliteFiles.set(store, file);
      return store;
    },
    reopen: async (store) => {
      const file = sqliteFiles.get(store)!;
      store.close();
      const again = new SqliteStore(file);
      sqliteFiles.set(again, file);
      return again;
    },
  },
  {
    name: 'postgres',
    skip: POSTGRES_SKIP,
    open: async () => leading(await postgres.server().createDatabase()),
    reopen: async (store) => {
      if (!(store instanceof PostgresStore)) throw new Error('not a PostgresStore');
      await store.durable();
      store.close();
      await store.closed();
      return leading(pgUrls.get(store)!);
    },
  },
];

for (const { name, skip, open, reopen } of subjects) {
  describe.skipIf(skip)(`DeploymentStore contract: ${name}`, () => {
    it('puts, gets, replaces and deletes documents by kind and key', async () => {
      let store = await open();
      expect(store.get('deployment', 'd-1')).toBeUndefined();
      store.put('deployment', 'd-1', { status: 'InProgress', weights: { '1': 90, '2': 10 } });
      store.put('application', 'd-1', { name: 'same key, other kind' });
      expect(store.get('deployment', 'd-1')).toEqual({ status: 'InProgress', weights: { '1': 90, '2': 10 } });
      store.put('deployment', 'd-1', { status: 'Succeeded' });
      expect(store.get('deployment', 'd-1')).toEqual({ status: 'Succeeded' });
      store.put('deployment', 'd-2', { status: 'Created' });
      store = await reopen(store);
      expect(store.get('deployment', 'd-1')).toEqual({ status: 'Succeeded' });
      store.delete('deployment', 'd-1');
      store.delete('deployment', 'never-there');
      expect(store.get('deployment', 'd-1')).toBeUndefined();
      expect(store.get('application', 'd-1')).toEqual({ name: 'same key, other kind' });
      store = await reopen(store);
      expect(store.get('deployment', 'd-1')).toBeUndefined();
      expect(store.get('deployment', 'd-2')).toEqual({ status: 'Created' });
      expect(store.get('application', 'd-1')).toEqual({ name: 'same key, other kind' });
      store.close();
    });

    it('lists a kind in the order keys were first written; a replaced key keeps its place', async () => {
      let store = await open();
      for (const id of ['d-C', 'd-A', 'd-B']) store.put('deployment', id, { id });
      store.put('deployment', 'd-C', { id: 'd-C', again: true });
      expect(store.list('deployment').map((d) => d.key)).toEqual(['d-C', 'd-A', 'd-B']);
      store.delete('deployment', 'd-A');
      store.put('deployment', 'd-A', { id: 'd-A' });
      const listed = [
        { key: 'd-C', value: { id: 'd-C', again: true } },
        { key: 'd-B', value: { id: 'd-B' } },
        { key: 'd-A', value: { id: 'd-A' } },
      ];
      expect(store.list('deployment')).toEqual(listed);
      expect(store.list('group')).toEqual([]);
      store = await reopen(store);
      expect(store.list('deployment')).toEqual(listed);
      expect(store.list('group')).toEqual([]);
      store.close();
    });

    it('keeps many writes made in a row, in their order', async () => {
      let store = await open();
      const keys = Array.from({ length: 300 }, (_, i) => `d-${(i * 7919) % 300}`);
      for (const key of keys) store.put('deployment', key, { key });
      for (const key of keys.slice(0, 100)) store.put('deployment', key, { key, again: true });
      for (const key of keys.slice(100, 150)) store.delete('deployment', key);
      const expected = store.list('deployment');
      expect(expected).toHaveLength(250);
      store = await reopen(store);
      expect(store.list('deployment')).toEqual(expected);
      store.close();
    });

    it('returns copies: changing what was written or read changes nothing stored', async () => {
      const store = await open();
      const value = { timeline: [1, 2] };
      store.put('deployment', 'd-1', value);
      value.timeline.push(3);
      const read = store.get('deployment', 'd-1') as { timeline: number[] };
      read.timeline.push(4);
      expect(store.get('deployment', 'd-1')).toEqual({ timeline: [1, 2] });
      store.close();
    });

    it('writes all of a transaction or none of it', async () => {
      let store = await open();
      store.put('service', 'web', { live: '1' });
      expect(() =>
        store.transaction(() => {
          store.put('service', 'web', { live: '2' });
          store.put('deployment', 'd-1', { status: 'Succeeded' });
          throw new Error('crash in the middle');
        }),
      ).toThrow('crash in the middle');
      expect(store.get('service', 'web')).toEqual({ live: '1' });
      expect(store.get('deployment', 'd-1')).toBeUndefined();
      store = await reopen(store);
      expect(store.get('service', 'web')).toEqual({ live: '1' });
      expect(store.get('deployment', 'd-1')).toBeUndefined();
      store.transaction(() => {
        store.put('service', 'web', { live: '2' });
        store.put('deployment', 'd-1', { status: 'Succeeded' });
      });
      expect(store.get('service', 'web')).toEqual({ live: '2' });
      expect(store.list('deployment')).toHaveLength(1);
      store = await reopen(store);
      expect(store.get('service', 'web')).toEqual({ live: '2' });
      expect(store.list('deployment')).toHaveLength(1);
      store.close();
    });

    it('undoes only a failed inner transaction, and all of an outer one; an undone delete keeps its place', async () => {
      let store = await open();
      for (const id of ['d-A', 'd-B', 'd-C']) store.put('deployment', id, { id });
      store.transaction(() => {
        store.put('service', 'web', { live: '2' });
        expect(() =>
          store.transaction(() => {
            store.delete('deployment', 'd-A');
            store.put('deployment', 'd-B', { id: 'd-B', changed: true });
            store.put('deployment', 'd-D', { id: 'd-D' });
            throw new Error('inner');
          }),
        ).toThrow('inner');
        store.transaction(() => store.put('alarm', 'a-1', { kept: true }));
      });
      expect(store.get('service', 'web')).toEqual({ live: '2' });
      const listed = [
        { key: 'd-A', value: { id: 'd-A' } },
        { key: 'd-B', value: { id: 'd-B' } },
        { key: 'd-C', value: { id: 'd-C' } },
      ];
      expect(store.list('deployment')).toEqual(listed);
      expect(() =>
        store.transaction(() => {
          store.transaction(() => store.delete('deployment', 'd-B'));
          store.put('service', 'web', { live: '3' });
          throw new Error('outer');
        }),
      ).toThrow('outer');
      expect(store.list('deployment').map((d) => d.key)).toEqual(['d-A', 'd-B', 'd-C']);
      expect(store.get('service', 'web')).toEqual({ live: '2' });
      store = await reopen(store);
      expect(store.list('deployment')).toEqual(listed);
      expect(store.get('service', 'web')).toEqual({ live: '2' });
      expect(store.get('alarm', 'a-1')).toEqual({ kept: true });
      store.close();
    });

    it('is durable at once when nothing is written, and after its writes', async () => {
      const store = await open();
      await store.durable();
      store.put('deployment', 'd-1', { status: 'Created' });
      await store.durable();
      store.close();
    });
  });
}

/** What `fn` throws (it must throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected it to throw');
}

describe('SqliteStore', () => {
  it('keeps everything across a reopen, in WAL mode, at its schema version', () => {
    const file = join(dir, 'reopen', 'state.db');
    const first = new SqliteStore(file);
    first.put('deployment', 'd-1', { status: 'InProgress' });
    first.put('deployment', 'd-2', { status: 'Created' });
    first.close();
    const again = new SqliteStore(file);
    expect(again.list('deployment').map((d) => d.key)).toEqual(['d-1', 'd-2']);
    again.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('refuses a file written by a newer switchyard, and a path it cannot create, with STORE_FAILED', () => {
    const file = join(dir, 'newer.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const newer = thrown(() => new SqliteStore(file));
    expect(isSwitchyardError(newer, 'STORE_FAILED')).toBe(true);
    expect((newer as Error).message).toMatch(/schema version \d+, newer than this switchyard's/);
    // A folder that cannot be made: its parent is a file.
    const parentIsAFile = join(file, 'sub', 'state.db');
    const blocked = thrown(() => new SqliteStore(parentIsAFile));
    expect(isSwitchyardError(blocked, 'STORE_FAILED')).toBe(true);
    expect((blocked as Error).message).toContain(`cannot open the store ${parentIsAFile}: `);
  });
});
