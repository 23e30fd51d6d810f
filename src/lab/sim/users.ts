/**
 * @module lab/sim/users
 * The load's users as the simulator needs them. Request k's user is a uniform draw from [0, users); its
 * id (the `userHeader` value) is the user's number in decimal. With a sticky split a user's requests go
 * where the proxy's sticky bucket of that id sends them (core/sticky), so the users on the replacement at
 * a weight of w basis points are exactly those whose bucket is below w: sorted by bucket once, that set
 * is a prefix of one array. Users who saw a failure are kept in a bitset per run.
 */
import { STICKY_BUCKETS, stickyBucket } from '../../core/sticky.js';
import type { Draws } from './draws.js';

/** The `userHeader` value of user `n`. */
export function userId(n: number): string {
  return String(n);
}

/** Users sorted by sticky bucket, and how many have a bucket below each bucket number. */
export interface StickyLayout {
  readonly users: number;
  /** User numbers in bucket order. */
  readonly byBucket: Int32Array;
  /** below[b]: how many users have a bucket below b (b = 0..10,000). */
  readonly below: Int32Array;
}

let cached: StickyLayout | undefined;

/** The layout of `users` users (computed once and kept for the next run of the same load). */
export function stickyLayout(users: number): StickyLayout {
  if (cached?.users === users) return cached;
  const bucketOfUser = new Int32Array(users);
  const count = new Int32Array(STICKY_BUCKETS + 1);
  for (let n = 0; n < users; n++) {
    const b = stickyBucket(userId(n));
    bucketOfUser[n] = b;
    count[b + 1]!++;
  }
  const below = new Int32Array(STICKY_BUCKETS + 1);
  for (let b = 1; b <= STICKY_BUCKETS; b++) below[b] = below[b - 1]! + count[b]!;
  const next = below.slice();
  const byBucket = new Int32Array(users);
  for (let n = 0; n < users; n++) byBucket[next[bucketOfUser[n]!]!++] = n;
  cached = { users, byBucket, below };
  return cached;
}

/** The distinct users who saw a failure in one run. */
export class AffectedUsers {
  readonly #seen: Uint8Array;
  readonly #users: number;
  #count = 0;

  constructor(users: number) {
    this.#users = users;
    this.#seen = new Uint8Array(Math.ceil(users / 8));
  }

  /** How many distinct users so far. */
  get count(): number {
    return this.#count;
  }

  /** Marks user `n`. */
  add(n: number): void {
    const byte = n >>> 3;
    const bit = 1 << (n & 7);
    const seen = this.#seen;
    if ((seen[byte]! & bit) === 0) {
      seen[byte] = seen[byte]! | bit;
      this.#count++;
    }
  }

  /**
   * Marks the users of `failures` failed requests, each a uniform draw from `byBucket[from, to)` (or from
   * [from, to) itself without a layout); stops drawing once every user of the load is marked.
   */
  addDrawn(failures: number, from: number, to: number, draws: Draws, byBucket?: Int32Array): void {
    const span = to - from;
    if (span <= 0) return;
    for (let i = 0; i < failures && this.#count < this.#users; i++) {
      const k = from + Math.floor(draws.uniform() * span);
      this.add(byBucket ? byBucket[k]! : k);
    }
  }
}
