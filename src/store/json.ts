/**
 * @module store/json
 * How documents are written, in every store.
 */

/** Values go through JSON either way, so what a store returns never aliases what was written. */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}
