/**
 * @module notify/backoff
 * When a failed notification is tried again, and when it is given up: exponential back-off with equal
 * jitter, so that many notifications failing together (a receiver restarting) do not retry in step.
 */

/** No retry waits longer than this (unless the first delay itself is longer). */
export const MAX_RETRY_DELAY_MS = 30_000;

/**
 * The wait after `failedAttempts` (≥ 1) failed attempts: `firstDelayMs` doubled per earlier failure,
 * capped at {@link MAX_RETRY_DELAY_MS}, then jittered into its upper half by `random()` ∈ [0, 1).
 */
export function retryDelay(failedAttempts: number, firstDelayMs: number, random: () => number = Math.random): number {
  const cap = Math.max(MAX_RETRY_DELAY_MS, firstDelayMs);
  // Past 2^30 the product is over any cap; the exponent is bounded so it never overflows to Infinity.
  const base = Math.min(cap, firstDelayMs * 2 ** Math.min(Math.max(failedAttempts - 1, 0), 30));
  return Math.round(base * (0.5 + random() * 0.5));
}

/** Whether a retry due at `retryAt` would fall past the give-up bound of a notification queued at `createdAt`. */
export function pastGiveUp(createdAt: number, retryAt: number, giveUpAfterMs: number): boolean {
  return retryAt > createdAt + giveUpAfterMs;
}
