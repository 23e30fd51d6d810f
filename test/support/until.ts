/**
 * Waiting for something to become true without guessing how long it takes: poll a reading until a
 * condition holds, and fail after a deadline naming the last value read.
 */
import { inspect } from 'node:util';

/**
 * Reads `read` every `everyMs` until `done` holds for what it read, and resolves with that value. After
 * `ms` it rejects with an error naming `what` and the last value read. An error thrown by `read` is not
 * retried: it rejects at once (a process that exited, a request that was refused for good).
 */
export async function until<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  ms = 5_000,
  everyMs = 10,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`${what} not met in ${ms} ms; last value ${inspect(value, { depth: 6, breakLength: Infinity })}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
