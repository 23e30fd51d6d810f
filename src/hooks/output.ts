/**
 * @module hooks/output
 * What an HTTP or command hook hands back to the runner (status, error code, message, output tail).
 */
import type { LifecycleErrorCode } from '../codedeploy/lifecycle.js';

/** How one hook attempt ended, before the runner adds the script name. */
export interface HookEnd {
  readonly status: 'Succeeded' | 'Failed';
  readonly errorCode: LifecycleErrorCode;
  readonly message: string;
  readonly logTail: string;
}

/** A failed end with this code and message. */
export function failed(errorCode: LifecycleErrorCode, message: string, logTail = ''): HookEnd {
  return { status: 'Failed', errorCode, message, logTail };
}

/** A started hook attempt, as the runner drives it. */
export interface HookAttempt {
  /** Ends the attempt's work once the runner has an outcome from elsewhere (report, timeout, abort). */
  stop(why: 'report' | 'timeout' | 'abort'): void;
  /** The output so far, for diagnostics when the attempt did not end by itself. */
  tail(): string;
}
