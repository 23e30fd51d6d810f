/**
 * @module bench/measure
 * One measured run: the load generator against one target while the target's CPU time, peak RSS and the
 * busy time of each core are read around it, and the upstreams' hit counts show the split it made. The
 * counters are read when the generator says the load has begun, so its own start-up is left out.
 */
import { fileURLToPath } from 'node:url';

import { get } from './http-util.js';
import type { LoadJob, LoadResult } from './loadgen.js';
import { coreBusy, type CoreTimes, coreTimes, cpuSeconds, HAS_PROC, RssSampler } from './proc-stats.js';
import { type Child, startChild } from './procs.js';
import type { LoadScenario, TargetName } from './scenarios.js';
import type { Placement, Target, Upstreams } from './targets.js';

/** Everything one run measured. */
export interface RunSample extends LoadResult {
  readonly target: TargetName;
  readonly round: number;
  /** The target's user+system CPU per response, µs (for direct: the upstream process's); null without /proc. */
  readonly cpuUsPerReq: number | null;
  /** The target's CPU time over the load's wall time, percent of one core. */
  readonly cpuPct: number | null;
  /** Busy percent of each core over the run. */
  readonly coreBusyPct: readonly number[];
  readonly rssPeakMb: number | null;
  /** Share of upstream hits that went to the second ("green") upstream. */
  readonly greenShare: number | null;
  /**
   * Busy percent of the proxy core not explained by the target itself: other programs on the machine (or
   * kernel work on its behalf). Null when nothing is pinned.
   */
  readonly foreignPct: number | null;
}

const LOADGEN = fileURLToPath(new URL('./loadgen.js', import.meta.url));
const RSS_SAMPLE_MS = 100;

/**
 * The load generator process, kept for the whole bench and fed one job at a time. Its stdout lines are
 * queued, so a line is never lost between one wait and the next.
 */
export class LoadGenerator {
  #child: Child | undefined;
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;

  constructor(readonly core: number | undefined) {}

  #ensure(): Child {
    const alive = this.#child && this.#child.proc.exitCode === null && this.#child.proc.signalCode === null;
    if (alive) return this.#child!;
    this.#lines.length = 0;
    const child = startChild('load generator', process.execPath, [LOADGEN], { core: this.core, stdinPipe: true });
    let partial = '';
    child.proc.stdout!.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      this.#lines.push(...lines);
      this.#wake?.();
    });
    void child.exited.then(() => this.#wake?.());
    this.#child = child;
    return child;
  }

  async #next(child: Child, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.#lines.length === 0) {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null)
        throw new Error(`load generator exited\n${child.output()}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        await child.stop();
        throw new Error(`load generator did not answer within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    const line = this.#lines.shift()!;
    if (line.startsWith('error ')) throw new Error(`load generator: ${line.slice(6)}`);
    return line;
  }

  /** Runs one job; `onStart` is called the moment the load begins. */
  async run(job: LoadJob, onStart: () => void): Promise<LoadResult> {
    const child = this.#ensure();
    child.proc.stdin!.write(`${JSON.stringify(job)}\n`);
    const first = await this.#next(child, 30_000);
    if (first !== 'start') throw new Error(`load generator said "${first}" instead of start`);
    onStart();
    return JSON.parse(await this.#next(child, (job.durationS + 30) * 1_000)) as LoadResult;
  }

  async stop(): Promise<void> {
    this.#child?.proc.stdin?.end();
    await this.#child?.stop();
  }
}

async function takeHits(up: Upstreams): Promise<[number, number]> {
  return JSON.parse((await get(`${up.urls[0]}/__hits`)).body) as [number, number];
}

/** Where a run happens: the upstreams, the placement of processes and the load generator. */
export interface Rig {
  readonly up: Upstreams;
  readonly place: Placement;
  readonly gen: LoadGenerator;
}

/** Runs the load once against `target` and returns what was measured. */
export async function measure(
  target: Target,
  scenario: LoadScenario,
  durationS: number,
  rig: Rig,
  round: number,
): Promise<RunSample> {
  const job: LoadJob = {
    url: target.url + scenario.path,
    connections: scenario.connections,
    durationS,
    method: scenario.method,
    ...(scenario.bodyBytes !== undefined ? { bodyBytes: scenario.bodyBytes } : {}),
    ...(scenario.overallRate !== undefined ? { overallRate: scenario.overallRate } : {}),
    ...(scenario.paced ? { paced: true } : {}),
  };
  await takeHits(rig.up);
  let cpuBefore = 0;
  let coresBefore: CoreTimes[] = [];
  let sampler: RssSampler | undefined;
  let load: LoadResult;
  try {
    load = await rig.gen.run(job, () => {
      cpuBefore = cpuSeconds(target.pids);
      coresBefore = coreTimes();
      sampler = new RssSampler(target.pids, RSS_SAMPLE_MS);
    });
  } finally {
    sampler?.stop();
  }
  const cpu = cpuSeconds(target.pids) - cpuBefore;
  const busy = coreBusy(coresBefore, coreTimes());
  const rssPeak = sampler?.stop() ?? 0;
  const [blue, green] = await takeHits(rig.up);
  const cpuPct = HAS_PROC ? (100 * cpu) / load.durationS : null;
  const proxyCore = rig.place.proxyCore;
  const proxyCoreBusy = proxyCore === undefined ? undefined : busy[proxyCore];
  // Direct's target (the upstream process) lives on the load core, so all proxy-core work is foreign then.
  const ownPct = target.name === 'direct' ? 0 : (cpuPct ?? 0);
  return {
    ...load,
    target: target.name,
    round,
    cpuUsPerReq: HAS_PROC && load.requests > 0 ? (cpu * 1e6) / load.requests : null,
    cpuPct,
    coreBusyPct: busy.map((b) => 100 * b),
    rssPeakMb: HAS_PROC ? rssPeak / 2 ** 20 : null,
    greenShare: blue + green > 0 ? green / (blue + green) : null,
    foreignPct: proxyCoreBusy === undefined ? null : Math.max(0, 100 * proxyCoreBusy - ownPct),
  };
}
