/**
 * @module bench/scenarios
 * The scenarios the issue asks for and the environment variables that shorten or narrow a run. The
 * defaults keep a full run on a 2-core machine to about six minutes, plus about three for the rollback
 * scenario and one for the functions scenario.
 */

/** A load scenario: the same load against every target in turn. */
export interface LoadScenario {
  readonly kind: 'load';
  readonly id: string;
  /** The issue's letter for it: a–e. */
  readonly letter: string;
  readonly title: string;
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly bodyBytes?: number;
  readonly connections: number;
  readonly overallRate?: number;
  /** Evenly spaced open-loop load (open-loop.ts) instead of autocannon. */
  readonly paced?: boolean;
  /** Seconds per measured run unless BENCH_DURATION says otherwise. */
  readonly durationS: number;
}

/** The 1 GiB streamed upload and download through switchyard alone. */
export interface StreamScenario {
  readonly kind: 'stream';
  readonly id: string;
  readonly letter: string;
  readonly title: string;
  readonly bytes: number;
}

/** A failing canary under load, stopped and rolled back by an alarm (rollback.ts): switchyard alone. */
export interface RollbackScenario {
  readonly kind: 'rollback';
  readonly id: string;
  readonly letter: string;
  readonly title: string;
}

/** Long load through deployments and weight flips (soak.ts): switchyard alone. */
export interface SoakScenario {
  readonly kind: 'soak';
  readonly id: string;
  readonly letter: string;
  readonly title: string;
}
/** The fuzz tests (test/fuzz) at bench scale (fuzz.ts): no proxy load, switchyard's own parsers and API. */
export interface FuzzScenario {
  readonly kind: 'fuzz';
  readonly id: string;
  readonly letter: string;
  readonly title: string;
  /** Cases per fuzz target unless BENCH_FUZZ_RUNS says otherwise. */
  readonly runs: number;
}

/** The policy lab's simulator timed over many runs (lab.ts): no proxy load. */
export interface LabScenario {
  readonly kind: 'lab';
  readonly id: string;
  readonly letter: string;
  readonly title: string;
  /** Simulated runs unless BENCH_SIM_RUNS says otherwise. */
  readonly runs: number;
}

/** A trivial Node handler behind the HTTP front next to a plain HTTP version (functions.ts): switchyard alone. */
export interface FunctionsScenario {
  readonly kind: 'functions';
  readonly id: string;
  readonly letter: string;
  readonly title: string;
}

/** One process against `--workers 2` (workers.ts): switchyard alone. */
export interface WorkersScenario {
  readonly kind: 'workers';
  readonly id: string;
  readonly letter: string;
  readonly title: string;
}

/** A control plane and two remote data planes, and a leader takeover (fleet.ts): switchyard alone. */
export interface FleetScenario {
  readonly kind: 'fleet';
  readonly id: string;
  readonly letter: string;
  readonly title: string;
}

export type Scenario =
  | FleetScenario
  | LoadScenario
  | StreamScenario
  | RollbackScenario
  | SoakScenario
  | FuzzScenario
  | LabScenario
  | FunctionsScenario
  | WorkersScenario;

export const TARGET_NAMES = [
  'direct',
  'switchyard',
  'faults-armed',
  'baseline',
  'http-proxy',
  'node-floor',
  'nginx',
] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

const KiB = 1024;
const MiB = 1024 * KiB;

export const SCENARIOS: readonly Scenario[] = [
  {
    kind: 'load',
    id: 'get-100',
    letter: 'a',
    title: '100-byte GET, 50 connections (headline)',
    path: '/bytes/100',
    method: 'GET',
    connections: 50,
    durationS: 5,
  },
  {
    kind: 'load',
    id: 'get-16k',
    letter: 'b',
    title: '16 KiB GET, 50 connections',
    path: `/bytes/${16 * KiB}`,
    method: 'GET',
    connections: 50,
    durationS: 3,
  },
  {
    kind: 'load',
    id: 'get-1m',
    letter: 'b',
    title: '1 MiB GET, 50 connections',
    path: `/bytes/${MiB}`,
    method: 'GET',
    connections: 50,
    durationS: 3,
  },
  {
    kind: 'load',
    id: 'post-64k',
    letter: 'c',
    title: '64 KiB POST, 50 connections',
    path: '/upload',
    method: 'POST',
    bodyBytes: 64 * KiB,
    connections: 50,
    durationS: 3,
  },
  {
    kind: 'load',
    id: 'rate-5k',
    letter: 'd',
    title: 'moderate load: 100-byte GET at 5,000 req/s (autocannon overallRate), 50 connections',
    path: '/bytes/100',
    method: 'GET',
    connections: 50,
    overallRate: 5_000,
    durationS: 3,
  },
  {
    kind: 'load',
    id: 'paced-5k',
    letter: 'd',
    title: 'moderate load, evenly paced: 100-byte GET at 5,000 req/s (open loop), up to 50 connections',
    path: '/bytes/100',
    method: 'GET',
    connections: 50,
    overallRate: 5_000,
    paced: true,
    durationS: 3,
  },
  {
    kind: 'load',
    id: 'conn-500',
    letter: 'e',
    title: '100-byte GET, 500 connections',
    path: '/bytes/100',
    method: 'GET',
    connections: 500,
    durationS: 3,
  },
  {
    kind: 'stream',
    id: 'stream-1g',
    letter: 'f',
    title: '1 GiB streamed upload and download through switchyard',
    bytes: 1024 * MiB,
  },
  {
    kind: 'rollback',
    id: 'rollback',
    letter: 'g',
    title: 'a failing canary under load: rollback reaction time and failed responses',
  },
  {
    kind: 'soak',
    id: 'soak',
    letter: 'h',
    title: 'soak: steady load through a canary, a rollback, a redeploy and weight flips every 200 ms',
  },
  {
    kind: 'fuzz',
    id: 'fuzz',
    letter: 'i',
    title: 'fuzzing: config file, AppSpec, CodeDeploy API and REST API, 10,000 cases each (and switchyard validate)',
    runs: 10_000,
  },
  {
    kind: 'lab',
    id: 'lab',
    letter: 'j',
    title: 'policy lab: 1,000 simulated runs of ECSCanary10Percent15Minutes at 1,000 req/s',
    runs: 1_000,
  },
  {
    kind: 'functions',
    id: 'functions',
    letter: 'k',
    title:
      'function versions: a trivial Node handler behind the HTTP front vs a plain HTTP version (invocations/s at concurrency 4, latency added at 500 req/s, cold start)',
  },
  {
    kind: 'workers',
    id: 'workers',
    letter: 'l',
    title:
      'workers: one process vs --workers 2 (CPU per request on one core and on the whole machine), route-change propagation and rollback reaction with 2 workers',
  },
  {
    kind: 'fleet',
    id: 'fleet',
    letter: 'm',
    title:
      'fleet: route-change propagation to two remote data planes, and a standby control plane taking over from a SIGKILLed leader (PostgreSQL)',
  },
];

/** How this run is shaped, from the environment. */
export interface BenchOptions {
  readonly rounds: number;
  /** Overrides every scenario's duration when set. */
  readonly durationS: number | undefined;
  readonly warmupS: number;
  readonly scenarios: readonly Scenario[];
  readonly targets: readonly TargetName[];
  /** Directory for switchyard's `--cpu-prof` output during the headline scenario, if wanted. */
  readonly cpuProfDir: string | undefined;
  /** Deployments per failure kind and retry setting in the rollback scenario, with alarms and without. */
  readonly rollbackRuns: number;
  readonly rollbackPlainRuns: number;
  /** The git revision to build and run as the target named baseline (BENCH_BASELINE). */
  readonly baseline: string | undefined;
  /** Soak: requests in all and their rate. */
  readonly soakRequests: number;
  readonly soakRate: number;
  /** Cases per fuzz target, when BENCH_FUZZ_RUNS overrides the scenario's. */
  readonly fuzzRuns: number | undefined;
  /** Simulated runs, when BENCH_SIM_RUNS overrides the lab scenario's. */
  readonly simRuns: number | undefined;
  /** Cold starts measured in the functions scenario. */
  readonly functionsColdRuns: number;
  /** Rollbacks measured with 2 workers in the workers scenario. */
  readonly workersRollbackRuns: number;
  /** Where latest.{json,md} go instead of bench/results (for trial runs that must not replace them). */
  readonly resultsDir: string | undefined;
}

export const USAGE = `environment:
  BENCH_DURATION=S     seconds per measured run (default: 5 for get-100, 3 for the rest)
  BENCH_ROUNDS=N       interleaved rounds per scenario, medians reported (default 3)
  BENCH_WARMUP=S       unmeasured warm-up seconds per target and scenario (default 1; 0 = none)
  BENCH_SCENARIOS=LIST comma list of ids or letters (default all):
                       ${SCENARIOS.map((s) => `${s.id} (${s.letter})`).join(', ')}
  BENCH_TARGETS=LIST   comma list of ${TARGET_NAMES.join(', ')} (default all; nginx only if on PATH,
                       baseline only with BENCH_BASELINE)
  BENCH_BASELINE=REV   also run switchyard built from git revision REV, as the target "baseline",
                       interleaved with this tree's: before/after of a change in one run
  BENCH_CPU_PROF=DIR   run switchyard with --cpu-prof into DIR during get-100 and summarise the profile
  BENCH_ROLLBACK_RUNS=N        rollback: deployments with alarms per failure kind and retry setting (default 10)
  BENCH_ROLLBACK_PLAIN_RUNS=N  rollback: the same without alarms, 5 s each (default 3; their figures barely vary)
  BENCH_SOAK_REQUESTS=N        soak: requests in all (default 120000)
  BENCH_SOAK_RATE=N            soak: requests per second, evenly paced (default 2000)
  BENCH_FUZZ_RUNS=N            fuzz: cases per target (default 10000; the tests alone: FUZZ_RUNS, default 300)
  BENCH_SIM_RUNS=N             lab: simulated runs (default 1000)
  BENCH_FUNCTIONS=0            leave the functions scenario out (BENCH_SCENARIOS=functions runs it alone)
  BENCH_FUNCTIONS_COLD=N       functions: cold starts measured (default 7)
  BENCH_WORKERS_ROLLBACK_RUNS=N workers: rollbacks measured with 2 workers (default 5)
  BENCH_RESULTS_DIR=DIR        write latest.{json,md} there instead of bench/results`;

function numberVar(name: string, fallback: number | undefined, allowZero = false): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero))
    throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${raw}"`);
  return n;
}

function list(name: string): string[] | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Reads the BENCH_* variables; throws with a usable message on a bad value. */
export function readOptions(): BenchOptions {
  const wanted = list('BENCH_SCENARIOS');
  const unknown = wanted?.filter((w) => !SCENARIOS.some((s) => s.id === w || s.letter === w));
  if (unknown?.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}\n\n${USAGE}`);
  const baseline = process.env['BENCH_BASELINE'] || undefined;
  const targets = list('BENCH_TARGETS') ?? TARGET_NAMES.filter((t) => t !== 'baseline' || baseline);
  if (targets.includes('baseline') && !baseline) throw new Error(`target baseline needs BENCH_BASELINE\n\n${USAGE}`);
  const badTargets = targets.filter((t) => !(TARGET_NAMES as readonly string[]).includes(t));
  if (badTargets.length) throw new Error(`unknown target(s) ${badTargets.join(', ')}\n\n${USAGE}`);
  const fuzzRuns = numberVar('BENCH_FUZZ_RUNS', undefined);
  const simRuns = numberVar('BENCH_SIM_RUNS', undefined);
  return {
    rounds: Math.max(1, Math.round(numberVar('BENCH_ROUNDS', 3)!)),
    durationS: numberVar('BENCH_DURATION', undefined),
    warmupS: numberVar('BENCH_WARMUP', 1, true)!,
    scenarios: SCENARIOS.filter(
      (s) =>
        (!wanted || wanted.includes(s.id) || wanted.includes(s.letter)) &&
        !(s.kind === 'functions' && process.env['BENCH_FUNCTIONS'] === '0'),
    ),
    targets: TARGET_NAMES.filter((t) => targets.includes(t)),
    cpuProfDir: process.env['BENCH_CPU_PROF'] || undefined,
    rollbackRuns: Math.max(1, Math.round(numberVar('BENCH_ROLLBACK_RUNS', 10)!)),
    rollbackPlainRuns: Math.round(numberVar('BENCH_ROLLBACK_PLAIN_RUNS', 3, true)!),
    baseline,
    soakRequests: Math.max(1, Math.round(numberVar('BENCH_SOAK_REQUESTS', 120_000)!)),
    soakRate: numberVar('BENCH_SOAK_RATE', 2_000)!,
    fuzzRuns: fuzzRuns === undefined ? undefined : Math.max(1, Math.round(fuzzRuns)),
    simRuns: simRuns === undefined ? undefined : Math.max(1, Math.round(simRuns)),
    functionsColdRuns: Math.max(1, Math.round(numberVar('BENCH_FUNCTIONS_COLD', 7)!)),
    workersRollbackRuns: Math.max(1, Math.round(numberVar('BENCH_WORKERS_ROLLBACK_RUNS', 5)!)),
    resultsDir: process.env['BENCH_RESULTS_DIR'] || undefined,
  };
}
