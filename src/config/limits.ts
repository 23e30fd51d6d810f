/**
 * @module config/limits
 * `listeners.limits`: what one client may hold on the production and test listeners (time to send its
 * request head, stalls in an upload, idle keep-alive, open connections, requests in flight, head size).
 * Every resource a client can tie up has a bound here, so that slow or silent clients cannot starve the
 * others.
 */
import { z } from 'zod';

import { Duration, Size } from '../core/duration.js';

/** A duration that must be at least 1 ms: 0 would mean "no limit" to Node, which is what these exist to prevent. */
const Positive = Duration.pipe(z.number().min(1, 'must be at least 1ms'));

/** The limits both listeners apply to their clients; every one has a default. */
export const ListenerLimits = z.strictObject({
  /**
   * Time from a request's first byte (or the connection's opening) to the end of its head; past it the
   * client gets `408` and the connection closes. 10 s: a head is one small write for any real client,
   * so this is generous even on slow links (nginx waits 60 s, HAProxy's examples use 10 s).
   */
  headersTimeout: Positive.default(10_000),
  /**
   * Longest silence between two pieces of a request body (not a deadline for the whole upload, which
   * may stream for as long as it keeps moving); past it the upload is cut. nginx's client_body_timeout.
   */
  bodyTimeout: Positive.default(60_000),
  /** How long an idle keep-alive connection stays open waiting for its next request. */
  keepAliveTimeout: Positive.default(5_000),
  /**
   * Most client connections open at once on each listener; one past it is closed as soon as it is
   * accepted, before a byte is read. Each proxied connection may hold a second descriptor upstream.
   */
  maxConnections: z.number().int().min(1, 'must be at least 1').default(1024),
  /**
   * Most requests each listener serves at once; one past it is answered `503 PROXY_OVERLOADED` with
   * `Retry-After: 1` at once, without touching a target, and counted. A keep-alive connection has one
   * request in flight at a time, so this binds only when pipelining or when set below maxConnections.
   */
  maxRequestsInFlight: z.number().int().min(1, 'must be at least 1').default(1024),
  /** Largest request head (request line and header fields); larger gets `431` (or `414` for a long URL). */
  maxHeaderSize: Size.pipe(
    z
      .number()
      .int()
      .min(1024, 'must be at least 1KiB')
      .max(1024 * 1024, 'must be at most 1MiB'),
  ).default(16 * 1024),
});

/** The validated limits, durations in milliseconds and sizes in bytes. */
export type ListenerLimits = z.infer<typeof ListenerLimits>;

/** The defaults, for a `listeners` block that names no limits. */
export const DEFAULT_LISTENER_LIMITS: ListenerLimits = ListenerLimits.parse({});
