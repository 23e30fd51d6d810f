/**
 * @module core/describe-error
 * One line for any thrown value, for logs and for the messages clients read.
 */

/** An error as one line: its code when the message lacks it, and the parts of an AggregateError. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) {
    return [...new Set(err.errors.map(describeError))].join('; ');
  }
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const message = err.message || err.name;
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
