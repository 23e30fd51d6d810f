/**
 * @module notify/delivery
 * The delivery worker: posts outbox entries to their webhooks, a few at a time, off the deployment's
 * path. A 2xx answer delivers; anything else (another status, no answer within the timeout, a refused
 * connection) is retried with back-off until the give-up bound, and then recorded as failed. Every wait
 * is on the injectable clock. Closing aborts what is in flight and leaves it pending in the store, so
 * the next start sends it: delivery is at least once.
 */
import { Agent, request } from 'undici';

import type { NotificationEntry } from '../codedeploy/triggers.js';
import type { CancelTimer, Clock } from '../core/clock.js';
import { describeError } from '../core/describe-error.js';
import type { Logger } from '../core/logger.js';
import { pastGiveUp, retryDelay } from './backoff.js';
import type { Outbox } from './outbox.js';

/** Posts one notification; resolves on a 2xx answer, rejects otherwise. */
export type Post = (entry: NotificationEntry, signal: AbortSignal) => Promise<void>;

/** What a {@link DeliveryWorker} is built from. */
export interface DeliveryOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly outbox: Outbox;
  /** How long one attempt may take. */
  readonly timeoutMs: number;
  /** The first retry's delay (see notify/backoff). */
  readonly retryDelayMs: number;
  /** Since the entry was queued; a failed attempt whose retry would fall later is the last. */
  readonly giveUpAfterMs: number;
  /** Attempts in flight at once. */
  readonly concurrency?: number;
  /** Jitter source, in [0, 1). */
  readonly random?: () => number;
  /** Sends one attempt; by default an undici POST of the entry's body as JSON. */
  readonly post?: Post;
}

const DEFAULT_CONCURRENCY = 4;

/** Why an attempt was cut short by its own timeout (as opposed to by closing). */
class AttemptTimeout extends Error {}

/** Sends outbox entries until each is delivered or given up. */
export class DeliveryWorker {
  readonly #o: DeliveryOptions;
  readonly #concurrency: number;
  readonly #agent = new Agent({ keepAliveTimeout: 4_000 });
  readonly #post: Post;
  /** Entries not yet delivered nor given up, by key. */
  readonly #pending = new Map<string, NotificationEntry>();
  readonly #inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  #timer: CancelTimer | undefined;
  #pumpQueued = false;
  #started = false;
  #closed = false;

  constructor(options: DeliveryOptions) {
    this.#o = options;
    this.#concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.#post = options.post ?? ((entry, signal) => this.#postJson(entry, signal));
  }

  /** Resumes every entry the store still has pending (from before a restart). */
  start(): void {
    this.#started = true;
    for (const entry of this.#o.outbox.pending())
      if (!this.#pending.has(entry.key)) this.#pending.set(entry.key, entry);
    this.#schedulePump();
  }

  /**
   * Queues `entry` (unless its key was ever queued) and returns at once; sending happens later. Once
   * closed, it is only kept in the store, for the next start to send.
   */
  enqueue(entry: NotificationEntry): boolean {
    if (!this.#o.outbox.add(entry)) return false;
    if (this.#closed) return true;
    this.#pending.set(entry.key, entry);
    this.#schedulePump();
    return true;
  }

  /** Stops sending: aborts attempts in flight (they stay pending in the store) and cancels retries. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.();
    for (const { controller } of this.#inFlight.values()) controller.abort();
    await Promise.allSettled([...this.#inFlight.values()].map((f) => f.done));
    await this.#agent.destroy().catch(() => undefined);
  }

  /** One pump per turn however many entries were queued in it; never inside the caller's own turn. */
  #schedulePump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  /** Starts every due attempt there is room for, and sets a timer for the next one due later. */
  #pump(): void {
    // Queued before start: kept (in the store and here), sent once started.
    if (this.#closed || !this.#started) return;
    this.#timer?.();
    this.#timer = undefined;
    const now = this.#o.clock.now();
    let next = Infinity;
    for (const entry of this.#pending.values()) {
      if (this.#inFlight.has(entry.key)) continue;
      if (entry.nextAttemptAt > now) next = Math.min(next, entry.nextAttemptAt);
      else if (this.#inFlight.size < this.#concurrency) this.#attempt(entry);
      // Due but no room: the end of an attempt in flight pumps again.
    }
    if (next !== Infinity) this.#timer = this.#o.clock.setTimer(next - now, () => this.#pump());
  }

  #attempt(entry: NotificationEntry): void {
    const controller = new AbortController();
    const cancelTimeout = this.#o.clock.setTimer(this.#o.timeoutMs, () =>
      controller.abort(new AttemptTimeout(`no answer within ${this.#o.timeoutMs} ms`)),
    );
    const done = this.#post(entry, controller.signal).then(
      () => this.#settle(entry, undefined),
      (err: unknown) => {
        const reason: unknown = controller.signal.reason;
        this.#settle(entry, reason instanceof AttemptTimeout ? reason.message : describeError(err));
      },
    );
    this.#inFlight.set(entry.key, {
      controller,
      done: done.finally(() => {
        cancelTimeout();
        this.#inFlight.delete(entry.key);
        if (!this.#closed) this.#schedulePump();
      }),
    });
  }

  /**
   * Records how an attempt ended (`error` undefined: delivered). An attempt that failed because switchyard
   * is closing changes nothing; one that was delivered meanwhile is still recorded (the store closes
   * after the worker), so it is not sent again.
   */
  #settle(entry: NotificationEntry, error: string | undefined): void {
    if (this.#closed && error !== undefined) return;
    const { clock, log, outbox } = this.#o;
    const now = clock.now();
    const attempts = entry.attempts + 1;
    const where = originOf(entry.url);
    let next: NotificationEntry;
    if (error === undefined) {
      next = { ...entry, state: 'delivered', attempts, updatedAt: now };
      delete next.lastError;
      log.info({ key: entry.key, target: where, attempts }, 'notification delivered');
    } else {
      const retryAt = now + retryDelay(attempts, this.#o.retryDelayMs, this.#o.random);
      if (pastGiveUp(entry.createdAt, retryAt, this.#o.giveUpAfterMs)) {
        next = { ...entry, state: 'failed', attempts, lastError: error, updatedAt: now };
        log.warn({ key: entry.key, target: where, attempts, err: error }, 'notification given up');
      } else {
        next = { ...entry, attempts, nextAttemptAt: retryAt, lastError: error, updatedAt: now };
        log.debug(
          { key: entry.key, target: where, attempts, err: error, retryInMs: retryAt - now },
          'notification attempt failed',
        );
      }
    }
    if (next.state === 'pending') this.#pending.set(entry.key, next);
    else this.#pending.delete(entry.key);
    try {
      outbox.save(next);
    } catch (err) {
      log.error({ err, key: entry.key }, 'cannot record a notification attempt');
    }
  }

  async #postJson(entry: NotificationEntry, signal: AbortSignal): Promise<void> {
    const res = await request(entry.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(entry.body),
      signal,
      dispatcher: this.#agent,
      // The attempt's timeout, on switchyard's clock, bounds the wait.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`the webhook answered ${res.statusCode}`);
  }
}

/** Scheme, host and port only: a webhook URL's path often holds its secret (Slack's does), so logs get this. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '?';
  }
}
