/**
 * @module bench/fuzz
 * The fuzz tests (test/fuzz: the config file, the AppSpec, the CodeDeploy API, the REST API) at bench
 * scale: `runs` cases per target, run by vitest in a child process. Each property appends one JSON line
 * to the file FUZZ_REPORT names (cases run, failures, time, seed, cases by kind); this reads them back
 * for the report.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

import { hasCommand, startChild } from './procs.js';
import type { TargetCheck } from './summary.js';

/** One fuzz target's figures. */
export interface FuzzTarget {
  readonly target: string;
  readonly cases: number;
  readonly failures: number;
  readonly seconds: number;
  readonly seed: number;
  /** Cases by kind (operation, route, mutation), as the property labelled them. */
  readonly labels: Readonly<Record<string, number>>;
  /** fast-check's report of the failure (counterexample, seed, path), when there was one. */
  readonly failure?: string;
}

/** What the fuzz scenario measured. */
export interface FuzzReport {
  readonly runsPerTarget: number;
  readonly targets: readonly FuzzTarget[];
  /** Wall time of the whole vitest run, the build of the CLI that its global setup makes included. */
  readonly wallS: number;
  readonly exitCode: number | null;
  readonly notes: readonly string[];
}

/** The targets test/fuzz has that run FUZZ_RUNS cases; one missing from the results did not get to report. */
export const FUZZ_TARGETS = ['config', 'appspec', 'experiment', 'codedeploy', 'rest'] as const;
/** `switchyard validate` in a child process per case: one case for every 30 of the others. */
const SLOW_TARGETS = ['validate-cli'] as const;
const ALL_TARGETS: readonly string[] = [...FUZZ_TARGETS, ...SLOW_TARGETS];

interface ResultLine {
  target: string;
  cases: number;
  failures: number;
  ms: number;
  seed: number;
  labels?: Record<string, number>;
  failure?: string;
}

function readResults(file: string): FuzzTarget[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ResultLine)
    .map((r) => ({
      target: r.target,
      cases: r.cases,
      failures: r.failures,
      seconds: r.ms / 1000,
      seed: r.seed,
      labels: r.labels ?? {},
      ...(r.failure !== undefined && { failure: r.failure }),
    }));
}

/**
 * Runs test/fuzz with `runs` cases per target from `root` (the repository), on every core (the bench
 * itself may be pinned to one), and collects each target's figures; its results file goes in `workDir`.
 */
export async function runFuzz(
  root: string,
  runs: number,
  workDir: string,
  progress: (text: string) => void,
): Promise<FuzzReport> {
  progress(`\n== fuzz: ${runs.toLocaleString('en-US')} cases per target (${ALL_TARGETS.join(', ')})`);
  const dir = mkdtempSync(join(workDir, 'fuzz-'));
  const file = join(dir, 'results.jsonl');
  const vitest = [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/fuzz'];
  // NO_COLOR: the lines passed on as progress are plain text.
  const env = { ...process.env, FUZZ_RUNS: String(runs), FUZZ_REPORT: file, NO_COLOR: '1' };
  // The bench pins itself to one core, and a child inherits that; vitest's workers get them all back.
  const [command, args] = hasCommand('taskset', ['-V'])
    ? ['taskset', ['-c', `0-${cpus().length - 1}`, process.execPath, ...vitest]]
    : [process.execPath, vitest];
  const started = performance.now();
  const child = startChild('vitest (fuzz)', command, args, { env });
  let partial = '';
  child.proc.stdout!.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (/✓|×|❯|Test Files|Tests|Duration|FAIL/.test(line)) progress(`  ${line.trim()}`);
  });
  const exitCode = await child.exited;
  const wallS = (performance.now() - started) / 1000;
  const order = (name: string) => ALL_TARGETS.indexOf(name);
  const targets = readResults(file).sort((a, b) => order(a.target) - order(b.target));
  rmSync(dir, { recursive: true, force: true });
  const notes: string[] = [
    'vitest runs the files two at a time (one worker per core), so the per-target times overlap; the wall time includes the build of the CLI that the tests set up first.',
    'validate-cli runs the built `switchyard validate` in a child process per case, so it runs one case for every 30 of the other targets.',
  ];
  for (const name of ALL_TARGETS)
    if (!targets.some((t) => t.target === name)) notes.push(`${name} reported no results (its file failed to run).`);
  if (exitCode !== 0) notes.push(`vitest exited with ${exitCode}:\n${child.output().slice(-2_000)}`);
  for (const t of targets)
    progress(
      `  ${t.target.padEnd(11)} ${t.cases.toLocaleString('en-US').padStart(7)} cases  ${t.failures} failed  ${t.seconds.toFixed(1)} s`,
    );
  return { runsPerTarget: runs, targets, wallS, exitCode, notes };
}

/** The fuzz goal, checked against what the scenario measured (or why it could not be). */
export function fuzzChecks(r: FuzzReport | null): TargetCheck[] {
  const goal = `fuzz: ${FUZZ_TARGETS.join(', ')}: 10,000 cases per target, no failure`;
  if (!r) return [{ goal, measured: '—', met: null, detail: 'needs fuzz' }];
  const cases = (name: string) => r.targets.find((t) => t.target === name)?.cases ?? 0;
  const failed = r.targets.filter((t) => t.failures > 0).map((t) => t.target);
  const short = FUZZ_TARGETS.filter((name) => cases(name) < 10_000);
  return [
    {
      goal,
      measured: FUZZ_TARGETS.map((name) => `${name} ${cases(name).toLocaleString('en-US')}`).join(', '),
      met: failed.length === 0 && short.length === 0,
      detail: failed.length
        ? `failed: ${failed.join(', ')}`
        : short.length
          ? `fewer than 10,000 cases: ${short.join(', ')}`
          : 'none failed',
    },
  ];
}
