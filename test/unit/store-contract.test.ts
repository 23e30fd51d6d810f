/**
 * One contract for every DeploymentStore: the in-memory one and SQLite (on a real file) must behave the
 * same, and SQLite must also keep what it was given across a reopen, in WAL mode, at its schema version.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isSwitchyardError } from '../../src/core/errors.js';
import type { DeploymentStore } from '../../src/shifting/ports.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { SCHEMA_VERSION, SqliteStore } from '../../src/store/sqlite-store.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stores: [string, () => DeploymentStore][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore(join(dir, `contract-${++n}`, 'switchyard.db'))],
];

describe.each(stores)('DeploymentStore contract: %s', (_name, open) => {
  it('puts, gets, replaces and deletes documents by kind and key', () => {
    const store = open();
    expect(store.get('deployment', 'd-1')).toBeUndefined();
    store.put('deployment', 'd-1', { status: 'InProgress', weights: { '1': 90, '2': 10 } });
    store.put('application', 'd-1', { name: 'same key, other kind' });
    expect(store.get('deployment', 'd-1')).toEqual({ status: 'InProgress', weights: { '1': 90, '2': 10 } });
    store.put('deployment', 'd-1', { status: 'Succeeded' });
    expect(store.get('deployment', 'd-1')).toEqual({ status: 'Succeeded' });
    store.delete('deployment', 'd-1');
    store.delete('deployment', 'never-there');
    expect(store.get('deployment', 'd-1')).toBeUndefined();
    expect(store.get('application', 'd-1')).toEqual({ name: 'same key, other kind' });
    store.close();
  });

  it('lists a kind in the order keys were first written; a replaced key keeps its place', () => {
    const store = open();
    for (const id of ['d-C', 'd-A', 'd-B']) store.put('deployment', id, { id });
    store.put('deployment', 'd-C', { id: 'd-C', again: true });
    expect(store.list('deployment').map((d) => d.key)).toEqual(['d-C', 'd-A', 'd-B']);
    store.delete('deployment', 'd-A');
    store.put('deployment', 'd-A', { id: 'd-A' });
    expect(store.list('deployment')).toEqual([
      { key: 'd-C', value: { id: 'd-C', again: true } },
      { key: 'd-B', value: { id: 'd-B' } },
      { key: 'd-A', value: { id: 'd-A' } },
    ]);
    expect(store.list('group')).toEqual([]);
    store.close();
  });

  it('returns copies: changing what was written or read changes nothing stored', () => {
    const store = open();
    const value = { timeline: [1, 2] };
    store.put('deployment', 'd-1', value);
    value.timeline.push(3);
    const read = store.get('deployment', 'd-1') as { timeline: number[] };
    read.timeline.push(4);
    expect(store.get('deployment', 'd-1')).toEqual({ timeline: [1, 2] });
    store.close();
  });

  it('writes all of a transaction or none of it', () => {
    const store = open();
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
    store.transaction(() => {
      store.put('service', 'web', { live: '2' });
      store.put('deployment', 'd-1', { status: 'Succeeded' });
    });
    expect(store.get('service', 'web')).toEqual({ live: '2' });
    expect(store.list('deployment')).toHaveLength(1);
    store.close();
  });

  it('undoes only a failed inner transaction, and all of an outer one; an undone delete keeps its place', () => {
    const store = open();
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
    });
    expect(store.get('service', 'web')).toEqual({ live: '2' });
    expect(store.list('deployment')).toEqual([
      { key: 'd-A', value: { id: 'd-A' } },
      { key: 'd-B', value: { id: 'd-B' } },
      { key: 'd-C', value: { id: 'd-C' } },
    ]);
    expect(() =>
      store.transaction(() => {
        store.transaction(() => store.delete('deployment', 'd-B'));
        store.put('service', 'web', { live: '3' });
        throw new Error('outer');
      }),
    ).toThrow('outer');
    expect(store.list('deployment').map((d) => d.key)).toEqual(['d-A', 'd-B', 'd-C']);
    expect(store.get('service', 'web')).toEqual({ live: '2' });
    store.close();
  });
});

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
