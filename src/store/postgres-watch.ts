/**
 * @module store/postgres-watch
 * How a leader knows its session still stands. The server ends the session of a host it no longer hears
 * from (keepalive, see postgres-session), and a standby takes the lock at once; the leader must have
 * stopped by then. So a leader checks its idle session every second and gives every commit and check a
 * deadline: past it, the session counts as lost, well before the server's keepalive would end it.
 */
import type pg from 'pg';

import type { Clock } from '../core/clock.js';
import { describeError } from '../core/describe-error.js';

/** Defaults: check an idle session every second; the server answers within 5 s or the lead is given up. */
export const PING_EVERY_MS = 1_000;
export const ANSWER_WITHIN_MS = 5_000;

/** A leader's watch over its session. */
export interface SessionWatch {
  /** Runs `work` on the session; if it takes longer than the deadline, the session counts as lost. */
  answered<T>(what: string, work: () => Promise<T>): Promise<T>;
  /** Stops checking (the store closes or is lost). */
  stop(): void;
}

/** Starts checking `session` while `busy` says no commit is under way; `lost` hears the first failure. */
export function watchSession(
  session: pg.Client,
  options: { readonly clock: Clock; readonly pingEveryMs?: number; readonly answerWithinMs?: number },
  commits: { readonly busy: boolean },
  lost: (reason: string) => void,
): SessionWatch {
  const { clock } = options;
  const everyMs = options.pingEveryMs ?? PING_EVERY_MS;
  const withinMs = options.answerWithinMs ?? ANSWER_WITHIN_MS;
  let stopped = false;
  let cancel: (() => void) | undefined;

  const answered = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    const late = clock.setTimer(withinMs, () => lost(`PostgreSQL did not answer ${what} within ${withinMs} ms`));
    try {
      return await work();
    } finally {
      late();
    }
  };

  const check = (): void => {
    if (stopped) return;
    // A commit under way checks the session as well as a ping would.
    if (commits.busy) return schedule();
    answered('a check of its session', () => session.query('SELECT 1')).then(schedule, (err: unknown) => {
      if (!stopped) lost(`its PostgreSQL session failed: ${describeError(err)}`);
    });
  };
  const schedule = (): void => {
    if (!stopped && everyMs > 0) cancel = clock.setTimer(everyMs, check);
  };
  schedule();

  return {
    answered,
    stop: () => {
      stopped = true;
      cancel?.();
    },
  };
}
