/**
 * @module core/constant-time
 * Comparing a presented secret with the expected one without leaking, through timing, how much of it
 * matched or how long it is: both are hashed to equal-length digests first.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Whether `presented` equals `expected`, in time independent of where they differ. */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
