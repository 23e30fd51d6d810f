/**
 * @module lab/sim/benchmark
 * How fast the simulator runs: `runs` runs of a 10% canary held 15 minutes (CodeDeployDefault.
 * ECSCanary10Percent15Minutes) at 1,000 requests/s, time scale 1 and a 5-minute bake, a healthy
 * replacement and an error-rate alarm evaluated every 250 ms — 20 minutes of production traffic each,
 * the longest kind of run, one after another on one core.
 */
import { parseExperiment } from '../experiment.js';
import { simulateRun } from './simulate.js';

const REFERENCE = `
name: sim-benchmark
timeScale: 1
bake: 5m
load: { rate: 1000, users: 2000, before: 1s }
versions:
  synthetic:
    original: { latency: { p50: 2ms, p99: 8ms } }
    replacement: { latency: { p50: 2ms, p99: 8ms } }
alarms:
  errors: { kind: error-rate, threshold: 0.05, minRequests: 20 }
policies:
  - { name: canary-15m, config: CodeDeployDefault.ECSCanary10Percent15Minutes }
scenarios:
  - name: healthy
`;

/** What {@link measureSimulation} measured. */
export interface SimulationSpeed {
  readonly runs: number;
  /** Real time for all of them, ms. */
  readonly wallMs: number;
  /** CPU time (user and system) of this process meanwhile, ms. */
  readonly cpuMs: number;
  /** Simulated requests per run. */
  readonly requestsPerRun: number;
}

/** Times `runs` simulated runs of the reference experiment (the first few warm the JIT up and are not counted). */
export async function measureSimulation(runs = 1000, warmup = 5): Promise<SimulationSpeed> {
  const experiment = parseExperiment(REFERENCE, '');
  const policy = experiment.policies[0]!;
  const scenario = experiment.scenarios[0]!;
  for (let i = 0; i < warmup; i++) await simulateRun(experiment, { policy, scenario, repeat: i, seed: i });
  const cpu = process.cpuUsage();
  const began = performance.now();
  let requests = 0;
  for (let i = 0; i < runs; i++) {
    requests += (await simulateRun(experiment, { policy, scenario, repeat: i, seed: 1000 + i })).requests;
  }
  const wallMs = performance.now() - began;
  const used = process.cpuUsage(cpu);
  return { runs, wallMs, cpuMs: (used.user + used.system) / 1000, requestsPerRun: requests / runs };
}
