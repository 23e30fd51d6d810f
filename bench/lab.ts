/**
 * @module bench/lab
 * The policy lab's simulator at bench scale: 1,000 simulated runs of CodeDeployDefault.ECSCanary10Percent15Minutes
 * at 1,000 requests/s, at time scale 1 (real production durations), timed in a child process on the
 * bench's one core (it inherits the pinning) from the build `npm run bench` made.
 */
import { join } from 'node:path';

import { startChild } from './procs.js';
import type { TargetCheck } from './summary.js';

/** What the lab scenario measured. */
export interface LabReport {
  readonly runs: number;
  readonly wallS: number;
  readonly cpuS: number;
  readonly requestsPerRun: number;
}

/** The goal: 1,000 runs in under 30 s on one core. */
const GOAL_S = 30;

/** Times `runs` simulated runs with the built simulator's own benchmark (lab/sim/benchmark). */
export async function runLabBench(root: string, runs: number, progress: (text: string) => void): Promise<LabReport> {
  progress(`\n== lab: ${runs.toLocaleString('en-US')} simulated runs of ECSCanary10Percent15Minutes at 1,000 req/s`);
  const sim = join(root, 'dist', 'src', 'lab', 'sim', 'index.js');
  const code = `const { measureSimulation } = await import(${JSON.stringify(sim)});
const r = await measureSimulation(${runs});
process.stdout.write(JSON.stringify(r) + '\\n');`;
  const child = startChild('lab simulator', process.execPath, ['--input-type=module', '-e', code]);
  const exitCode = await child.exited;
  const line = child
    .output()
    .split('\n')
    .find((l) => l.startsWith('{'));
  if (exitCode !== 0 || !line)
    throw new Error(`the simulator bench exited with ${exitCode}: ${child.output().slice(-1_000)}`);
  const r = JSON.parse(line) as { runs: number; wallMs: number; cpuMs: number; requestsPerRun: number };
  const report = { runs: r.runs, wallS: r.wallMs / 1000, cpuS: r.cpuMs / 1000, requestsPerRun: r.requestsPerRun };
  progress(`  ${report.runs} runs in ${report.wallS.toFixed(1)} s (${report.cpuS.toFixed(1)} s CPU)`);
  return report;
}

/** The simulator's speed goal, scaled to 1,000 runs when fewer or more ran. */
export function labChecks(r: LabReport | null): TargetCheck[] {
  const goal = `lab: 1,000 simulated runs of ECSCanary10Percent15Minutes at 1,000 req/s in < ${GOAL_S} s on one core`;
  if (!r) return [{ goal, measured: '—', met: null, detail: 'needs lab' }];
  const per1000 = (r.wallS / r.runs) * 1000;
  return [
    {
      goal,
      measured: `${per1000.toFixed(1)} s per 1,000 runs (${r.runs} run, ${r.cpuS.toFixed(1)} s CPU)`,
      met: per1000 < GOAL_S,
      detail:
        per1000 < GOAL_S ? `${(GOAL_S / per1000).toFixed(1)}× under` : `over by ${(per1000 - GOAL_S).toFixed(1)} s`,
    },
  ];
}

/** The lab section of the bench report. */
export function labSection(r: LabReport): string[] {
  return [
    '### (j) Policy lab: the simulator',
    '',
    `${r.runs.toLocaleString('en-US')} simulated runs of CodeDeployDefault.ECSCanary10Percent15Minutes with a 5-minute bake at 1,000 requests/s, time scale 1 (${Math.round(r.requestsPerRun).toLocaleString('en-US')} requests a run), the real engine, alarm monitor and statistics on a virtual clock: ${r.wallS.toFixed(1)} s wall, ${r.cpuS.toFixed(1)} s CPU on one core (${((r.wallS / r.runs) * 1000).toFixed(1)} ms a run).`,
  ];
}
