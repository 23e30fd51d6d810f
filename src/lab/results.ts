/**
 * @module lab/results
 * What one run of an experiment measured, and the report of a whole experiment. The field names of
 * `report.json` are a contract (the README explains them, tests read them); live runs and simulated runs
 * fill the same shape, so that they can be compared figure by figure.
 */
import type { Load, PolicySpec, ScenarioSpec, VersionsSpec } from './experiment.js';

export type RunMode = 'live' | 'sim';

/** How a deployment ended: CodeDeploy's statuses, with a rollback told apart from a plain failure. */
export type RunOutcome = 'Succeeded' | 'RolledBack' | 'Stopped' | 'Failed';

/** Requests and client-visible failures of one version in one timeline bucket. */
export interface VersionCounts {
  readonly requests: number;
  readonly failed: number;
}

/**
 * One second of real time. `t` is deployment time (ms, scaled) since the deployment was created at the
 * bucket's start (negative for load before it); `weight` the replacement's percent of production traffic
 * at the bucket's end.
 */
export interface TimelinePoint {
  readonly t: number;
  readonly weight: number;
  readonly original: VersionCounts;
  readonly replacement: VersionCounts;
}

/** The figures of one run (see the README's lab section for how each is counted). */
export interface RunResult {
  readonly mode: RunMode;
  readonly policy: string;
  readonly scenario: string;
  /** 0-based. */
  readonly repeat: number;
  readonly outcome: RunOutcome;
  /** Requests sent during the run (before, during and after the deployment). */
  readonly requests: number;
  /** Client-visible failures: 5xx answers, resets and timeouts. */
  readonly failed: number;
  /** Requests the replacement answered (or failed), including those retried on the original. */
  readonly servedByReplacement: number;
  /** Of those, the ones the replacement failed (whether or not a retry on the original saved them). */
  readonly failedOnReplacement: number;
  /** Distinct users who saw at least one failure. */
  readonly usersAffected: number;
  /** Deployment time from the fault's onset to the alarm firing; null when no alarm fired. */
  readonly detectionMs: number | null;
  /** Deployment time from the start of AllowTraffic to 100% on the replacement; null when never. */
  readonly timeToFullTrafficMs: number | null;
  /** Deployment time from creation to the end (success, rollback or stop). */
  readonly durationMs: number;
  /** Client-seen latency in ms, from the moment each request was due (open loop). */
  readonly latency: { readonly p50: number; readonly p99: number };
  /** The alarm that fired and why; absent when none did. */
  readonly alarm?: { readonly name: string; readonly reason: string };
  readonly timeline: readonly TimelinePoint[];
}

/** The spread of one figure over the repeats of a mode × policy × scenario. */
export interface Spread {
  readonly median: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
}

/** The summary of the repeats of one mode × policy × scenario. */
export interface SummaryRow {
  readonly mode: RunMode;
  readonly policy: string;
  readonly scenario: string;
  readonly runs: number;
  /** How many runs ended each way. */
  readonly outcomes: Readonly<Partial<Record<RunOutcome, number>>>;
  readonly failed: Spread;
  readonly usersAffected: Spread;
  readonly servedByReplacement: Spread;
  readonly failedOnReplacement: Spread;
  /** Over the runs where an alarm fired; null when none did. */
  readonly detectionMs: Spread | null;
  /** Over the runs that reached 100%; null when none did. */
  readonly timeToFullTrafficMs: Spread | null;
  readonly durationMs: Spread;
  readonly latencyP99: Spread;
}

/** Live against simulated for one policy × scenario: do their medians agree? */
export interface AgreementRow {
  readonly policy: string;
  readonly scenario: string;
  readonly failed: { readonly live: number; readonly sim: number };
  readonly detectionMs: { readonly live: number | null; readonly sim: number | null };
  /** failed within 25% (or 10 requests) and detection within 250 ms of real time (or neither fired). */
  readonly agrees: boolean;
  /** Why not, when they disagree. */
  readonly why?: string;
}

/** The whole report: report.json. */
export interface ExperimentReport {
  readonly experiment: {
    readonly name: string;
    readonly file: string;
    readonly seed: number;
    readonly repeat: number;
    readonly timeScale: number;
    readonly bakeMs: number;
    readonly alarmEvaluationIntervalMs: number;
    readonly load: Load;
    readonly versions: VersionsSpec;
    readonly policies: readonly PolicySpec[];
    readonly scenarios: readonly ScenarioSpec[];
    readonly alarms: Readonly<Record<string, unknown>>;
  };
  readonly modes: readonly RunMode[];
  readonly startedAt: string;
  readonly finishedAt: string;
  /** False when the run was interrupted (Ctrl-C) before every run was done. */
  readonly complete: boolean;
  readonly runs: readonly RunResult[];
  /** How many runs have an empty timeline: repeats from the 11th on, but for the run charted per pair. */
  readonly timelinesOmitted?: number;
  /** Runs that could not be carried out, and why; absent when every run was. */
  readonly failures?: readonly {
    readonly mode: RunMode;
    readonly policy: string;
    readonly scenario: string;
    readonly repeat: number;
    readonly reason: string;
  }[];
  readonly summary: readonly SummaryRow[];
  /** Present with both modes. */
  readonly agreement?: readonly AgreementRow[];
  /** Plain-language verdicts, one per scenario (and mode). */
  readonly verdicts: readonly { readonly mode: RunMode; readonly scenario: string; readonly text: string }[];
}

/** One run to carry out: everything a runner needs, resolved from the experiment. */
export interface RunSpec {
  readonly policy: PolicySpec;
  readonly scenario: ScenarioSpec;
  readonly repeat: number;
  /** Seed of this run's draws (load arrivals, users, requests), derived from the experiment's. */
  readonly seed: number;
}
