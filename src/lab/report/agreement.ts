/**
 * @module lab/report/agreement
 * Live against simulated: for each policy × scenario run in both modes, do their medians agree? The two
 * modes check each other — a simulator that drifts from the real proxy, or a live run disturbed by the
 * machine, shows up here as a flagged row.
 */
import type { AgreementRow, RunResult } from '../results.js';
import { durationOrDash, humanCount, humanDuration } from './format.js';
import { medianOf } from './spread.js';

/** The failed medians agree within this share of the live median… */
export const FAILED_TOLERANCE = 0.25;
/** …or within this many requests, whichever is larger (small counts are noise). */
export const FAILED_FLOOR = 10;
/** Detection medians agree within this much real time (one default alarm evaluation interval). */
export const DETECTION_TOLERANCE_REAL_MS = 250;

/**
 * One row per policy × scenario with runs of both modes, in order of appearance. `timeScale` converts the
 * real-time detection tolerance into deployment time, in which detectionMs is counted.
 */
export function agreement(runs: readonly RunResult[], timeScale: number): AgreementRow[] {
  const pairs = new Map<string, { live: RunResult[]; sim: RunResult[] }>();
  for (const run of runs) {
    const key = JSON.stringify([run.policy, run.scenario]);
    let pair = pairs.get(key);
    if (!pair) pairs.set(key, (pair = { live: [], sim: [] }));
    pair[run.mode].push(run);
  }
  const rows: AgreementRow[] = [];
  for (const { live, sim } of pairs.values()) {
    if (live.length === 0 || sim.length === 0) continue;
    rows.push(compare(live, sim, timeScale));
  }
  return rows;
}

function compare(live: readonly RunResult[], sim: readonly RunResult[], timeScale: number): AgreementRow {
  const failed = { live: medianOf(live.map((r) => r.failed))!, sim: medianOf(sim.map((r) => r.failed))! };
  const detectionMs = { live: detectionMedian(live), sim: detectionMedian(sim) };
  const reasons: string[] = [];
  const allowed = Math.max(FAILED_TOLERANCE * failed.live, FAILED_FLOOR);
  if (Math.abs(failed.sim - failed.live) > allowed) {
    reasons.push(
      `the simulation failed ${humanCount(failed.sim)} requests (median) against ${humanCount(failed.live)} live, ` +
        `more than ${humanCount(allowed)} apart`,
    );
  }
  const detectionWhy = detectionDisagreement(detectionMs.live, detectionMs.sim, timeScale);
  if (detectionWhy) reasons.push(detectionWhy);
  const first = live[0]!;
  return {
    policy: first.policy,
    scenario: first.scenario,
    failed,
    detectionMs,
    agrees: reasons.length === 0,
    ...(reasons.length > 0 && { why: capitalise(reasons.join('; ')) + '.' }),
  };
}

function detectionMedian(runs: readonly RunResult[]): number | null {
  return medianOf(runs.map((r) => r.detectionMs).filter((v): v is number => v !== null)) ?? null;
}

function detectionDisagreement(live: number | null, sim: number | null, timeScale: number): string | undefined {
  if (live === null && sim === null) return undefined;
  if (live === null) return `an alarm fired in the simulation (after ${humanDuration(sim!)}) but never live`;
  if (sim === null) return `an alarm fired live (after ${humanDuration(live)}) but never in the simulation`;
  const allowed = DETECTION_TOLERANCE_REAL_MS * timeScale;
  const gap = sim - live;
  if (Math.abs(gap) <= allowed) return undefined;
  return (
    `the simulation detected ${humanDuration(Math.abs(gap))} ${gap > 0 ? 'later' : 'sooner'} than live ` +
    `(${humanDuration(sim)} against ${humanDuration(live)}; allowed ${humanDuration(allowed)} of deployment time, ` +
    `${DETECTION_TOLERANCE_REAL_MS} ms of real time)`
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The columns of the agreement table, in the Markdown and the HTML report alike. */
export const AGREEMENT_HEADERS = [
  '',
  'scenario',
  'policy',
  'failed live',
  'failed sim',
  'detection live',
  'detection sim',
  'why',
] as const;

/** One row of the agreement table as text, `flag` marking a disagreement. */
export function agreementCells(a: AgreementRow, flag: string): string[] {
  return [
    a.agrees ? 'agrees' : flag,
    a.scenario,
    a.policy,
    humanCount(a.failed.live),
    humanCount(a.failed.sim),
    durationOrDash(a.detectionMs.live),
    durationOrDash(a.detectionMs.sim),
    a.why ?? '',
  ];
}
