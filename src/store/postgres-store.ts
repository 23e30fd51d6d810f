/**
 * @module store/postgres-store
 * The DeploymentStore on PostgreSQL, shared by several switchyards of which one leads. The contract stays
 * synchronous: every document is kept in memory (loaded when opening and when taking the lead), a write is
 * applied there at once and committed behind it, in order, on one dedicated session; durable() says when.
 *
 * Leadership is an advisory lock held by that same session, and every write goes over it: a leader whose
 * session ended (its host died, the server ended it) cannot commit anything more, and the store never
 * reconnects that session behind its back. It says so once (onLost); from then on writes are refused.
 * A standby waits on the lock (pg_advisory_lock blocks until the leader's session ends), then reloads what
 * the last leader committed.
 */
import type pg from 'pg';

import type { Clock } from '../core/clock.js';
import { describeError } from '../core/describe-error.js';
import { SwitchyardError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { DeploymentStore, StoredDocument, StoreKind } from '../shifting/ports.js';
import { toJson } from './json.js';
import { MemoryStore } from './memory-store.js';
import { CommitQueue } from './postgres-commits.js';
import {
  commitSql,
  type DocumentRow,
  LEADER_LOCK,
  type LeaderRow,
  loadDocuments,
  migrate,
  readLeader,
  type Write,
} from './postgres-schema.js';
import { connect, destroy, redactUrl } from './postgres-session.js';
import { type SessionWatch, watchSession } from './postgres-watch.js';

export type { LeaderRow } from './postgres-schema.js';
export { SCHEMA_VERSION } from './postgres-schema.js';

/** What {@link PostgresStore.open} needs. */
export interface PostgresStoreOptions {
  readonly log: Logger;
  readonly clock: Clock;
  /** This process as the leader row names it (host and pid, say). */
  readonly name: string;
  /** Where this process's control API answers, written in the leader row for standbys to name. */
  readonly controlUrl: string;
  /** How often a leader checks its session when idle, in ms (default 1 s). */
  readonly pingEveryMs?: number;
  /** How long the server may take to answer a commit or a check before the session counts as lost (default 5 s). */
  readonly answerWithinMs?: number;
}

/** Whether this store may write: it leads, stands by, or has lost the lead for good. */
export type StoreRole = 'standby' | 'leader' | 'lost';

/** The longest wait between attempts to reach the server while standing by. */
const MOST_RETRY_WAIT_MS = 5_000;

/** Documents in PostgreSQL, kept in memory, written by the one leader. */
export class PostgresStore implements DeploymentStore {
  readonly #url: string;
  readonly #where: string;
  readonly #options: PostgresStoreOptions;
  readonly #log: Logger;
  #memory = new MemoryStore();
  /** The dedicated session: the lock and every write go over it. */
  #session: pg.Client | undefined;
  /** A second connection for a standby's reads, while the session waits on the lock. */
  #reads: Promise<pg.Client> | undefined;
  #role: StoreRole = 'standby';
  #lostWith: SwitchyardError | undefined;
  readonly #lostListeners: ((err: SwitchyardError) => void)[] = [];
  #self: LeaderRow | undefined;
  #knownLeader: LeaderRow | undefined;
  #leading: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #watch: SessionWatch | undefined;
  /** The writes of each open transaction, innermost last. */
  readonly #frames: Write[][] = [];
  readonly #commits: CommitQueue;

  private constructor(url: string, options: PostgresStoreOptions) {
    this.#url = url;
    this.#where = redactUrl(url);
    this.#options = options;
    this.#log = options.log;
    this.#commits = new CommitQueue(
      (writes) => this.#commit(writes),
      (err) => this.#lose(`a commit failed: ${describeError(err)}`),
    );
  }

  /** Connects, migrates and loads every document, standing by: writes wait for {@link lead}. */
  static async open(url: string, options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(url, options);
    try {
      const session = await store.#connect();
      await migrate(session, store.#where);
      store.#memory = fromRows(await loadDocuments(session));
      store.#knownLeader = await readLeader(session);
    } catch (err) {
      destroy(store.#session);
      if (err instanceof SwitchyardError) throw err;
      throw new SwitchyardError('STORE_FAILED', `cannot open the store ${store.#where}: ${describeError(err)}`, {
        cause: err,
      });
    }
    return store;
  }

  /** Standing by, leading, or lost for good. */
  get role(): StoreRole {
    return this.#role;
  }

  /** The store as logs name it: its URL without a password. */
  get where(): string {
    return this.#where;
  }

  /** The process that leads (or last led) the database; this one's row when it leads. */
  async leader(): Promise<LeaderRow | undefined> {
    if (this.#role === 'leader') return this.#self;
    this.#knownLeader = await readLeader(await this.#reader());
    return this.#knownLeader;
  }

  /** A standby reloads every document the leader has committed; a leader already has them all. */
  async refresh(): Promise<void> {
    if (this.#role !== 'standby') return;
    const reads = await this.#reader();
    const rows = await loadDocuments(reads);
    const leader = await readLeader(reads);
    // Taking the lead meanwhile loaded newer documents than these.
    if (this.#role !== 'standby') return;
    this.#memory = fromRows(rows);
    this.#knownLeader = leader;
  }

  /** Calls `listener` once, when the lead is lost (the session ended or a commit failed). */
  onLost(listener: (err: SwitchyardError) => void): void {
    if (this.#lostWith) listener(this.#lostWith);
    else this.#lostListeners.push(listener);
  }

  /**
   * Resolves once this process leads: it holds the lock (waiting for as long as another session does,
   * reconnecting with back-off when the connection fails), has reloaded every document and written the
   * leader row. Rejects when the store is closed meanwhile or had lost the lead.
   */
  lead(): Promise<void> {
    if (this.#role === 'leader') return Promise.resolve();
    if (this.#lostWith) return Promise.reject(this.#lostWith);
    this.#leading ??= this.#takeTheLead().finally(() => (this.#leading = undefined));
    return this.#leading;
  }

  /**
   * Rewrites the leader row with where this process's control API answers, once that is known (it listens
   * on port 0, say); committed in order with the writes. Only the leader may.
   */
  announce(controlUrl: string): void {
    this.#writable();
    this.#self = { ...this.#self!, controlUrl };
    this.#commits.add([{ leader: this.#self }]);
  }

  put(kind: StoreKind, key: string, value: unknown): void {
    this.#writable();
    const text = toJson(value);
    // JSON has no undefined (nor does a function or a symbol become any): nothing that could be read back.
    if (typeof text !== 'string') throw new SwitchyardError('STORE_FAILED', `cannot store ${kind} ${key}: not JSON`);
    this.#memory.putJson(kind, key, text);
    this.#written({ kind, key, text });
  }

  delete(kind: StoreKind, key: string): void {
    this.#writable();
    if (!this.#memory.has(kind, key)) return;
    this.#memory.delete(kind, key);
    this.#written({ kind, key, text: undefined });
  }

  get(kind: StoreKind, key: string): unknown {
    return this.#memory.get(kind, key);
  }

  list(kind: StoreKind): StoredDocument[] {
    return this.#memory.list(kind);
  }

  transaction(fn: () => void): void {
    this.#writable();
    const writes: Write[] = [];
    this.#frames.push(writes);
    try {
      this.#memory.transaction(fn);
    } finally {
      this.#frames.pop();
    }
    // Reached only when `fn` returned: its writes join the enclosing transaction, or go as one commit.
    const outer = this.#frames.at(-1);
    if (outer) outer.push(...writes);
    else this.#commits.add(writes);
  }

  durable(): Promise<void> {
    if (this.#lostWith) return Promise.reject(this.#lostWith);
    return this.#commits.durable();
  }

  /**
   * Stops taking writes, commits those already taken, then ends the session (a standby waiting for the
   * lead stops waiting; a leader's lock is released, so a standby takes over at once). {@link closed} says when.
   */
  close(): void {
    this.#closing ??= this.#shutDown();
  }

  /** Resolves once {@link close} has committed what it could and ended the connections. */
  closed(): Promise<void> {
    return this.#closing ?? Promise.resolve();
  }

  async #shutDown(): Promise<void> {
    this.#watch?.stop();
    // What was written before close() is committed (or fails with the session): nothing to do about either.
    if (this.#role === 'leader') await this.#commits.durable().catch(() => undefined);
    const reads = this.#reads;
    this.#reads = undefined;
    const session = this.#session;
    this.#session = undefined;
    await Promise.all([
      reads?.then(
        (client) => this.#endGently(client),
        () => undefined,
      ),
      session && (this.#role === 'lost' ? destroy(session) : this.#endGently(session)),
    ]);
  }

  /** Throws unless this process may write now. */
  #writable(): void {
    if (this.#closing) throw new SwitchyardError('STORE_FAILED', `the store ${this.#where} is closed`);
    if (this.#lostWith) throw new SwitchyardError('STORE_LEADERSHIP_LOST', this.#lostWith.message);
    if (this.#role === 'standby') {
      const leader = this.#knownLeader;
      const who = leader
        ? `${leader.name} leads it (its control API at ${leader.controlUrl})`
        : 'another switchyard leads it, or none does yet';
      throw new SwitchyardError(
        'STORE_NOT_LEADER',
        `this switchyard stands by and does not write to the store ${this.#where}: ${who}`,
      );
    }
  }

  /** A write applied in memory goes with its transaction, or on its own. */
  #written(write: Write): void {
    const frame = this.#frames.at(-1);
    if (frame) frame.push(write);
    else this.#commits.add([write]);
  }

  async #commit(writes: readonly Write[]): Promise<void> {
    const session = this.#session;
    if (!session || this.#role !== 'leader') throw new Error('the session is gone');
    const sql = commitSql(writes);
    await this.#watch!.answered('a commit', async () => {
      // A text of several statements answers with one result for each.
      const results = [await session.query(sql)].flat() as pg.QueryResult[];
      // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error.
      const last = results.at(-1)?.command;
      if (writes.length > 1 && last !== 'COMMIT') throw new Error(`the transaction ended with ${last}`);
    });
  }

  async #takeTheLead(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const session = this.#session ?? (await this.#connect());
        await this.#acquire(session);
        await session.query('BEGIN');
        const rows = await loadDocuments(session);
        const self: LeaderRow = {
          name: this.#options.name,
          controlUrl: this.#options.controlUrl,
          since: this.#options.clock.now(),
        };
        await session.query(commitSql([{ leader: self }]));
        await session.query('COMMIT');
        if (this.#closing) throw this.#closedWhileWaiting();
        this.#memory = fromRows(rows);
        this.#self = self;
        this.#role = 'leader';
        this.#watch = watchSession(session, this.#options, this.#commits, (reason) => this.#lose(reason));
        this.#dropReads();
        this.#log.info({ store: this.#where, documents: rows.length }, 'leading the store');
        return;
      } catch (err) {
        destroy(this.#session);
        this.#session = undefined;
        if (this.#closing) throw this.#closedWhileWaiting();
        const waitMs = Math.min(100 * 2 ** attempt, MOST_RETRY_WAIT_MS);
        this.#log.warn(
          { store: this.#where, err: describeError(err), retryInMs: waitMs },
          'cannot reach PostgreSQL to wait for the lead; trying again',
        );
        await new Promise<void>((resolve) => this.#options.clock.setTimer(waitMs, resolve));
      }
    }
  }

  /** Takes the lock on `session`, waiting for the leader's session to end when there is one. */
  async #acquire(session: pg.Client): Promise<void> {
    const tried = await session.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS got', [
      LEADER_LOCK,
    ]);
    if (tried.rows[0]?.got) return;
    const leader = (this.#knownLeader = await readLeader(session));
    this.#log.info(
      { store: this.#where, leader: leader?.name, leaderControlUrl: leader?.controlUrl },
      `standing by: ${leader ? `${leader.name} at ${leader.controlUrl}` : 'another switchyard'} leads`,
    );
    await session.query('SELECT pg_advisory_lock($1::bigint)', [LEADER_LOCK]);
  }

  #closedWhileWaiting(): SwitchyardError {
    return new SwitchyardError('STORE_FAILED', `the store ${this.#where} was closed while waiting for the lead`);
  }

  /** The dedicated session, with its end watched: for a leader, that end is the end of its lead. */
  async #connect(): Promise<pg.Client> {
    const session = await connect(this.#url, this.#options.name, (client, err) => {
      if (client !== this.#session) return;
      if (this.#role === 'leader' && !this.#closing) {
        this.#lose(`its PostgreSQL session ended: ${describeError(err)}`);
      } else if (this.#role === 'standby') {
        // A standby reconnects (lead() does, on its next attempt): it holds nothing that could be lost.
        this.#session = undefined;
        destroy(client);
      }
    });
    this.#session = session;
    return session;
  }

  /** A standby's reading connection, opened on first use and again after it fails. */
  #reader(): Promise<pg.Client> {
    if (this.#closing) return Promise.reject(new SwitchyardError('STORE_FAILED', `the store ${this.#where} is closed`));
    const reads = (this.#reads ??= connect(this.#url, `${this.#options.name} reads`, (client) => {
      if (this.#reads === reads) this.#reads = undefined;
      destroy(client);
    }));
    reads.catch(() => {
      if (this.#reads === reads) this.#reads = undefined;
    });
    return reads;
  }

  #dropReads(): void {
    const reads = this.#reads;
    this.#reads = undefined;
    void reads?.then(
      (client) => this.#endGently(client),
      () => undefined,
    );
  }

  /** Ends a connection with a goodbye; one that does not end in time is cut. */
  async #endGently(client: pg.Client): Promise<void> {
    const cut = this.#options.clock.setTimer(2_000, () => destroy(client));
    await client.end().catch(() => undefined);
    cut();
  }

  /** The lead is lost for good: nothing more is committed, writes are refused, listeners hear it once. */
  #lose(reason: string): void {
    if (this.#lostWith) return;
    const err = new SwitchyardError(
      'STORE_LEADERSHIP_LOST',
      `this switchyard no longer leads the store ${this.#where}: ${reason}`,
    );
    this.#lostWith = err;
    this.#role = 'lost';
    this.#watch?.stop();
    this.#commits.fail(err);
    destroy(this.#session);
    this.#log.error({ store: this.#where, reason }, 'lost the lead of the store');
    for (const listener of this.#lostListeners.splice(0)) {
      try {
        listener(err);
      } catch (thrown) {
        this.#log.error({ err: describeError(thrown) }, 'a listener to the loss of the lead failed');
      }
    }
  }
}

/** An in-memory copy of committed documents, each kind in its order. */
function fromRows(rows: readonly DocumentRow[]): MemoryStore {
  const memory = new MemoryStore();
  for (const row of rows) memory.putJson(row.kind, row.key, row.value);
  return memory;
}
