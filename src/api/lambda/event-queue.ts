/**
 * @module api/lambda/event-queue
 * `Event` invocations: accepted at once (202), run in the background. Each function has a bounded queue
 * (EVENT_QUEUE_CAPACITY events, running, waiting or between attempts); beyond it the invocation is refused
 * (429), never accepted and then lost. Events start in the order accepted, never more of a version at once
 * than its concurrency; one the version cannot take yet (its environments busy with synchronous calls, or
 * not ready) is put back in its place and tried again when one of the function's own invocations ends, or
 * after a short backoff; an event that fails in the function is tried twice more, after 1 and
 * 2 minutes, as Lambda retries asynchronous invocations; one older than 6 hours (Lambda's maximum event
 * age) or refused for good (too large, no such version) is dropped with a warning in the log.
 */
import type { CancelTimer, Clock } from '../../core/clock.js';
import { describeError } from '../../core/describe-error.js';
import { isSwitchyardError } from '../../core/errors.js';
import type { FunctionInvocationRequest, FunctionInvoker } from '../../core/function-invoker.js';
import type { Logger } from '../../core/logger.js';

/** Events each function holds at most (running, waiting to run, or waiting to be tried again). */
export const EVENT_QUEUE_CAPACITY = 1_000;
/** Delays before the second and third attempt of an event whose function failed (Lambda's own). */
export const EVENT_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];
/** How old an event may get before it is dropped (Lambda's default maximum event age). */
export const EVENT_MAX_AGE_MS = 6 * 3_600_000;
/** First and longest wait before trying a throttled event again when none of the function's invocations runs. */
const THROTTLE_BACKOFF_MS = { first: 50, max: 2_000 };

interface QueuedEvent {
  /** Acceptance order: an event put back keeps its place. */
  readonly seq: number;
  readonly request: FunctionInvocationRequest;
  readonly requestId: string;
  readonly acceptedAt: number;
  /** Attempts that ran in the function (failed ones). */
  attempts: number;
}

interface FunctionQueue {
  readonly waiting: QueuedEvent[];
  /** Events between a failed attempt and the next. */
  retrying: number;
  running: number;
  /** Running events by version: never more than the version's concurrency. */
  readonly runningByVersion: Map<string, number>;
  /** Set while the head event was throttled: it waits for a running invocation to end, or for the timer. */
  blocked: boolean;
  backoffMs: number;
  cancelBackoff: CancelTimer | undefined;
}

/** What the queue needs. */
export interface EventQueueOptions {
  readonly invoker: FunctionInvoker;
  readonly clock: Clock;
  readonly log: Logger;
  /** How many environments a version may run at once: the queue never starts more of its events. */
  readonly concurrencyOf: (service: string, version: string) => number;
  readonly capacity?: number;
  readonly retryDelaysMs?: readonly number[];
}

/** The background runner of `Event` invocations, one bounded queue per function. */
export class EventQueue {
  readonly #queues = new Map<string, FunctionQueue>();
  readonly #timers = new Set<CancelTimer>();
  readonly #capacity: number;
  readonly #retryDelaysMs: readonly number[];
  #closed = false;
  #seq = 0;

  /** Nothing runs until the first event. */
  constructor(private readonly options: EventQueueOptions) {
    this.#capacity = options.capacity ?? EVENT_QUEUE_CAPACITY;
    this.#retryDelaysMs = options.retryDelaysMs ?? EVENT_RETRY_DELAYS_MS;
  }

  /** Events of `service` held now (waiting, running or between attempts). */
  held(service: string): number {
    const q = this.#queues.get(service);
    return q ? q.waiting.length + q.retrying + q.running : 0;
  }

  /** Takes an event to run in the background; false when the function's queue is full (or closed). */
  enqueue(request: FunctionInvocationRequest, requestId: string): boolean {
    if (this.#closed || this.held(request.service) >= this.#capacity) return false;
    const q = this.#queue(request.service);
    q.waiting.push({ seq: this.#seq++, request, requestId, acceptedAt: this.options.clock.now(), attempts: 0 });
    this.#pump(request.service, q);
    return true;
  }

  /** Drops every waiting event and timer; invocations already running end on their own. */
  close(): void {
    this.#closed = true;
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
    let dropped = 0;
    for (const q of this.#queues.values()) {
      q.cancelBackoff?.();
      dropped += q.waiting.length + q.retrying;
      q.waiting.length = 0;
      q.retrying = 0;
    }
    if (dropped > 0) this.options.log.warn({ dropped }, 'event invocations dropped at shutdown');
  }

  #queue(service: string): FunctionQueue {
    let q = this.#queues.get(service);
    if (!q) {
      q = {
        waiting: [],
        retrying: 0,
        running: 0,
        runningByVersion: new Map(),
        blocked: false,
        backoffMs: 0,
        cancelBackoff: undefined,
      };
      this.#queues.set(service, q);
    }
    return q;
  }

  /** Starts waiting events, in order, each while its version runs fewer than its concurrency. */
  #pump(service: string, q: FunctionQueue): void {
    let i = 0;
    while (!this.#closed && !q.blocked && i < q.waiting.length) {
      const event = q.waiting[i]!;
      if (this.options.clock.now() - event.acceptedAt > EVENT_MAX_AGE_MS) {
        q.waiting.splice(i, 1);
        this.#drop(event, 'older than the maximum event age');
        continue;
      }
      const { version } = event.request;
      const running = q.runningByVersion.get(version) ?? 0;
      if (running >= this.options.concurrencyOf(service, version)) {
        i++;
        continue;
      }
      q.waiting.splice(i, 1);
      q.runningByVersion.set(version, running + 1);
      q.running++;
      void this.#run(service, q, event);
    }
  }

  async #run(service: string, q: FunctionQueue, event: QueuedEvent): Promise<void> {
    let throttled = false;
    try {
      const result = await this.options.invoker.invoke(event.request);
      q.backoffMs = 0;
      if (result.kind === 'function-error') this.#failed(service, q, event, result.payload);
    } catch (err) {
      if (isSwitchyardError(err, 'FUNCTION_THROTTLED') || isSwitchyardError(err, 'VERSION_NOT_READY')) {
        throttled = true;
        this.#putBack(q, event);
        this.#block(service, q);
      } else this.#drop(event, describeError(err));
    } finally {
      q.running--;
      const { version } = event.request;
      q.runningByVersion.set(version, (q.runningByVersion.get(version) ?? 1) - 1);
    }
    if (!throttled && q.blocked && q.cancelBackoff === undefined) q.blocked = false;
    if (!throttled) this.#pump(service, q);
  }

  /** Puts an event back in its place by acceptance order. */
  #putBack(q: FunctionQueue, event: QueuedEvent): void {
    const at = q.waiting.findIndex((e) => e.seq > event.seq);
    if (at < 0) q.waiting.push(event);
    else q.waiting.splice(at, 0, event);
  }

  /** The head event was refused for now: wait for one of ours to end, or back off when none runs. */
  #block(service: string, q: FunctionQueue): void {
    q.blocked = true;
    if (q.running > 1 || q.cancelBackoff !== undefined) return;
    q.backoffMs = Math.min(THROTTLE_BACKOFF_MS.max, q.backoffMs === 0 ? THROTTLE_BACKOFF_MS.first : q.backoffMs * 2);
    q.cancelBackoff = this.options.clock.setTimer(q.backoffMs, () => {
      q.cancelBackoff = undefined;
      q.blocked = false;
      this.#pump(service, q);
    });
  }

  /** A failed attempt: tried again after Lambda's delay while attempts remain, else dropped. */
  #failed(service: string, q: FunctionQueue, event: QueuedEvent, payload: Buffer): void {
    event.attempts++;
    const delay = this.#retryDelaysMs[event.attempts - 1];
    const { log } = this.options;
    const what = { function: service, version: event.request.version, requestId: event.requestId };
    const error = payload.toString('utf8').slice(0, 500);
    if (delay === undefined || this.#closed) {
      log.warn({ ...what, attempts: event.attempts, error }, 'event invocation failed; no attempts left, dropped');
      return;
    }
    log.warn({ ...what, attempt: event.attempts, error, retryInMs: delay }, 'event invocation failed; trying again');
    q.retrying++;
    const cancel = this.options.clock.setTimer(delay, () => {
      this.#timers.delete(cancel);
      q.retrying--;
      this.#putBack(q, event);
      this.#pump(service, q);
    });
    this.#timers.add(cancel);
  }

  #drop(event: QueuedEvent, why: string): void {
    this.options.log.warn(
      { function: event.request.service, version: event.request.version, requestId: event.requestId, why },
      'event invocation dropped',
    );
  }
}
