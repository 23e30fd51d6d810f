/**
 * @module core/describe-error
 * One line for any thrown value, for logs and for the messages clients read.
 */
import { SwitchyardError } from './errors.js';

/**
 * An error as one line: a system or library error's code when its message lacks it (a SwitchyardError's
 * message is written for people already), and the parts of an AggregateError.
 */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) {
    return [...new Set(err.errors.map(describeError))].join('; ');
  }
  if (!(err instanceof Error)) return String(err);
  if (err instanceof SwitchyardError) return err.message;
  const code = (err as { code?: unknown }).code;
  const message = err.message || err.name;
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
