/**
 * @module bench/rollback-stats
 * The rollback scenario's samples turned into report rows (medians and maxima per failure kind, alarm
 * and retry setting), the progress line for each run, and the notes on runs that did not go as planned.
 */
import type { RollbackSample } from './rollback-run.js';
import { type FailureKind, OBSERVE_MS } from './rollback-settings.js';

/** One line of the report: a failure kind, alarm or not, retry or not, over its runs. */
export interface RollbackRow {
  readonly failure: FailureKind;
  readonly alarm: boolean;
  readonly retry: boolean;
  readonly runs: number;
  /** Runs the alarm stopped within the observation period. */
  readonly stopped: number;
  readonly reactionP50Ms: number | null;
  readonly reactionMaxMs: number | null;
  readonly failedMedian: number | null;
  readonly failedMax: number | null;
  readonly slowMedian: number | null;
  readonly slowMax: number | null;
  readonly requestsMedian: number | null;
}

/** The median (mean of the middle two for an even count); null for no values. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** The largest value; null for no values. */
export const maxOf = (values: readonly number[]) => (values.length ? Math.max(...values) : null);

/** Milliseconds for the report, 'never' for a rollback that did not happen. */
export const ms = (n: number | null) => (n === null ? 'never' : `${n.toFixed(0)} ms`);

/** The progress line for one run. */
export function describe(x: RollbackSample): string {
  const head = `${x.failure.padEnd(4)} ${x.alarm ? 'alarm   ' : 'no alarm'} retry ${x.retry ? 'on ' : 'off'} r${x.run}`;
  const why = x.errorMessage ? `  (${x.status}: ${x.errorMessage})` : `  (${x.status})`;
  const early = x.stoppedBeforeFailure ? '  STOPPED BEFORE GREEN FAILED' : '';
  return `  ${head}${early}  reaction ${ms(x.reactionMs).padStart(7)}  failed ${String(x.failed).padStart(4)}  slow ${String(x.slow).padStart(4)}  of ${x.requests} responses${why}`;
}

/** The report row for one failure kind, alarm and retry setting; false alarms are left out. */
export function rowOf(
  failure: FailureKind,
  alarm: boolean,
  retry: boolean,
  samples: readonly RollbackSample[],
): RollbackRow {
  const runs = samples.filter(
    (x) => x.failure === failure && x.alarm === alarm && x.retry === retry && !x.stoppedBeforeFailure,
  );
  const reactions = runs.map((x) => x.reactionMs).filter((x): x is number => x !== null);
  return {
    failure,
    alarm,
    retry,
    runs: runs.length,
    stopped: reactions.length,
    reactionP50Ms: median(reactions),
    reactionMaxMs: maxOf(reactions),
    failedMedian: median(runs.map((x) => x.failed)),
    failedMax: maxOf(runs.map((x) => x.failed)),
    slowMedian: median(runs.map((x) => x.slow)),
    slowMax: maxOf(runs.map((x) => x.slow)),
    requestsMedian: median(runs.map((x) => x.requests)),
  };
}

/** Some sanity checks on the runs, as notes for the report. */
export function anomalies(samples: readonly RollbackSample[]): string[] {
  const notes: string[] = [];
  for (const x of samples) {
    const which = `${x.failure}, ${x.alarm ? 'alarm' : 'no alarm'}, retry ${x.retry ? 'on' : 'off'}, run ${x.run}`;
    if (x.stoppedBeforeFailure) {
      notes.push(
        `(${which}) the deployment was already ${x.status} before green failed (a false alarm): ${x.errorMessage ?? ''}. Left out of the figures.`,
      );
      continue;
    }
    if (Math.abs(x.greenShareBefore - 0.1) > 0.03)
      notes.push(
        `(${which}) version 2 answered ${(100 * x.greenShareBefore).toFixed(1)}% before the failure, not 10%.`,
      );
    if (x.alarm && x.status !== 'Stopped')
      notes.push(`(${which}) no alarm stopped the deployment within ${OBSERVE_MS / 1000} s (status ${x.status}).`);
    if (!x.alarm && x.status !== 'InProgress')
      notes.push(`(${which}) the deployment without alarms ended on its own: ${x.status} ${x.errorMessage ?? ''}`);
    if (x.alarm && x.failure === 'slow' && x.errorMessage !== null && !x.errorMessage.includes('green-p99'))
      notes.push(`(${which}) stopped by something other than the latency alarm: ${x.errorMessage}`);
  }
  return notes;
}
