/**
 * @module config/synthetic
 * The behaviour of a synthetic version: a tiny HTTP service switchyard runs itself, for rehearsals and
 * policy-lab experiments that need no service of the user's. The same model drives the live server
 * and the lab's simulator, so both read it from here:
 * - every request takes a latency drawn from `latency` (fixed, or lognormal by median and p99);
 * - `errors.percent` of requests are answered with `errors.status`;
 * - `warmup`: for its first `duration` of real time since it started (or its first `requests`), the
 *   latency is multiplied by `factor`, falling linearly to 1 — a cold JIT, empty caches;
 * - `capacity`: at most `inFlight` requests are served at once; more wait in a FIFO queue of `queue`
 *   places for at most `queueTimeout`, and a request finding the queue full (or waiting too long) is
 *   answered 503 — an under-scaled replacement that suddenly gets all the traffic.
 */
import { z } from 'zod';

import { Duration } from '../core/duration.js';

const Positive = Duration.pipe(z.number().positive({ error: 'must be longer than 0' }));

/** A latency: `fixed`, or a lognormal with median `p50` and 99th percentile `p99`. */
export const LatencyModel = z
  .strictObject({ fixed: Duration.optional(), p50: Positive.optional(), p99: Positive.optional() })
  .superRefine((l, ctx) => {
    const drawn = l.p50 !== undefined || l.p99 !== undefined;
    if ((l.fixed !== undefined) === drawn)
      ctx.addIssue({ code: 'custom', message: 'must give either fixed, or p50 and p99' });
    else if (drawn && (l.p50 === undefined || l.p99 === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a drawn latency needs both p50 and p99' });
    } else if (drawn && l.p99! < l.p50!)
      ctx.addIssue({ code: 'custom', path: ['p99'], message: 'must be at least p50' });
  })
  .transform((l): LatencySpec => (l.fixed !== undefined ? { fixedMs: l.fixed } : { p50Ms: l.p50!, p99Ms: l.p99! }));

/** A latency in milliseconds, as {@link LatencyModel} gives it. */
export type LatencySpec = { readonly fixedMs: number } | { readonly p50Ms: number; readonly p99Ms: number };

const Errors = z.strictObject({
  percent: z.number().min(0).max(100),
  status: z.number().int().min(500, 'must be a 5xx status').max(599, 'must be a 5xx status').default(500),
});

const Warmup = z
  .strictObject({
    duration: Positive.optional(),
    requests: z.number().int().min(1).optional(),
    factor: z.number().min(1, 'must be at least 1').max(1000).default(5),
  })
  .superRefine((w, ctx) => {
    if ((w.duration === undefined) === (w.requests === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'must give either duration or requests' });
    }
  })
  .transform((w): WarmupSpec =>
    w.duration !== undefined
      ? { durationMs: w.duration, factor: w.factor }
      : { requests: w.requests!, factor: w.factor },
  );

/** A warm-up over real time or over the first requests served. */
export type WarmupSpec =
  { readonly durationMs: number; readonly factor: number } | { readonly requests: number; readonly factor: number };

const Capacity = z
  .strictObject({
    inFlight: z.number().int().min(1).max(100_000),
    queue: z.number().int().min(0).max(1_000_000).default(100),
    queueTimeout: Positive.default(5_000),
  })
  .transform((c) => ({ inFlight: c.inFlight, queue: c.queue, queueTimeoutMs: c.queueTimeout }));

/** A synthetic version's behaviour (see the module's comment for what each part does). */
export const SyntheticConfig = z
  .strictObject({
    latency: LatencyModel.default({ p50Ms: 2, p99Ms: 10 }),
    errors: Errors.optional(),
    warmup: Warmup.optional(),
    capacity: Capacity.optional(),
    /** Bytes of body in each answer. */
    bodyBytes: z.number().int().min(0).max(1_048_576).default(64),
    /** Seeds the draws; without one, each start draws differently. */
    seed: z.number().int().min(0).max(0xffff_ffff).optional(),
  })
  .transform((s) => ({
    latency: s.latency,
    bodyBytes: s.bodyBytes,
    // Absent stays absent, so parsed configs compare and print cleanly.
    ...(s.errors && { errors: s.errors }),
    ...(s.warmup && { warmup: s.warmup }),
    ...(s.capacity && { capacity: s.capacity }),
    ...(s.seed !== undefined && { seed: s.seed }),
  }));
export type SyntheticConfig = z.infer<typeof SyntheticConfig>;

/** The warm-up's latency multiplier after `elapsedMs` of real time and `served` requests since the start. */
export function warmupFactor(warmup: WarmupSpec | undefined, elapsedMs: number, served: number): number {
  if (!warmup) return 1;
  const done = 'durationMs' in warmup ? elapsedMs / warmup.durationMs : served / warmup.requests;
  return done >= 1 ? 1 : warmup.factor - (warmup.factor - 1) * Math.max(0, done);
}
