/**
 * @module config/fields
 * Small pieces the parts of the config file's schema share.
 */
import { z } from 'zod';

/**
 * Where a string is expected, a number reads as its text: `live: 1` and `live: "${LIVE:-1}"` (a whole
 * `${VAR}` value is typed like YAML, so it turns into a number) both mean the label "1".
 */
export const numberAsText = (value: unknown) => (typeof value === 'number' ? String(value) : value);

/** An HTTP header name, compared in lower case as Node gives headers. */
export const HeaderName = z.preprocess(
  numberAsText,
  z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'must be a valid HTTP header name' })
    .transform((name) => name.toLowerCase()),
);

/**
 * Cross-field checks run even when a sibling setting has a problem of its own (zod skips them by
 * default), so that one pass reports every problem. The value may then be partly unparsed: look before use.
 */
export const ALWAYS = { when: () => true };

/** Whether `value` is a map (and not a list or null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
