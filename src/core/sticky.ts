/**
 * @module core/sticky
 * The sticky split's hash: a key (a user's id, a cookie) to one of 10,000 buckets. The proxy routes by
 * it and the policy lab's simulator predicts the same routing from it, so both import it from here.
 */

/** Number of sticky buckets; a weight in basis points is a bucket count. */
export const STICKY_BUCKETS = 10_000;

/** FNV-1a over the UTF-16 code units of `key`, folded into 0..9999. */
export function stickyBucket(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % STICKY_BUCKETS;
}
