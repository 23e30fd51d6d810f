/**
 * @module store/postgres-commits
 * The PostgreSQL store's writes on their way to the server: batches (one put, one delete, or all of a
 * transaction's writes) committed strictly in order, each whole in one PostgreSQL transaction. Batches
 * queued while a commit is under way go together in the next one (order and atomicity kept, round trips
 * saved). durable() waits for the batches queued before it.
 */
import type { SwitchyardError } from '../core/errors.js';
import type { Write } from './postgres-schema.js';

/**
 * How many writes at most go into one PostgreSQL transaction when several batches wait: a bound on how long
 * one commit holds the session. A single larger batch still goes whole.
 */
const MOST_WRITES_PER_COMMIT = 1_000;

/** Batches in order, committed one PostgreSQL transaction at a time. */
export class CommitQueue {
  readonly #commit: (writes: readonly Write[]) => Promise<void>;
  readonly #failed: (err: unknown) => void;
  readonly #batches: (readonly Write[])[] = [];
  #queued = 0;
  #committed = 0;
  readonly #waiters: { readonly upTo: number; resolve(): void; reject(err: unknown): void }[] = [];
  #running = false;
  #failure: SwitchyardError | undefined;

  /** `commit` sends writes as one transaction; `failed` hears of the first commit that fails (none is tried after). */
  constructor(commit: (writes: readonly Write[]) => Promise<void>, failed: (err: unknown) => void) {
    this.#commit = commit;
    this.#failed = failed;
  }

  /** Whether a commit is under way or waiting. */
  get busy(): boolean {
    return this.#running || this.#batches.length > 0;
  }

  /** Queues one batch, committed after every batch queued before it; an empty batch is nothing. */
  add(batch: readonly Write[]): void {
    if (this.#failure) throw this.#failure;
    if (batch.length === 0) return;
    this.#batches.push(batch);
    this.#queued++;
    if (!this.#running) void this.#run();
  }

  /** Resolves once every batch queued so far is committed; rejects with the failure when one cannot be. */
  durable(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const upTo = this.#queued;
    if (this.#committed >= upTo) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ upTo, resolve, reject }));
  }

  /** Stops for good: nothing queued is committed, waiters and later calls get `err`. */
  fail(err: SwitchyardError): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#batches.length = 0;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(err);
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#batches.length > 0 && !this.#failure) {
        const taken = this.#take();
        await this.#commit(taken.flat());
        this.#committed += taken.length;
        this.#settle();
      }
    } catch (err) {
      if (!this.#failure) this.#failed(err);
    } finally {
      this.#running = false;
    }
  }

  /** The next batches to commit together: at least one, whole, up to the bound on writes. */
  #take(): (readonly Write[])[] {
    let writes = this.#batches[0]!.length;
    let n = 1;
    while (n < this.#batches.length && writes + this.#batches[n]!.length <= MOST_WRITES_PER_COMMIT) {
      writes += this.#batches[n]!.length;
      n++;
    }
    return this.#batches.splice(0, n);
  }

  #settle(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!;
      if (waiter.upTo > this.#committed) continue;
      this.#waiters.splice(i, 1);
      waiter.resolve();
    }
  }
}
