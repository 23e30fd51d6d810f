/**
 * @module bench/proc-stats
 * What the bench reads from /proc: CPU time and resident memory of a process tree (nginx is a master and
 * a worker), busy time per core, and the machine description for the report. Linux only; elsewhere the
 * readers return zeros and the report says so.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether /proc is there to read. */
export const HAS_PROC = readText('/proc/self/stat') !== undefined;

/** Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS: number = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** The fields of /proc/<pid>/stat after the command name (which may itself contain spaces). */
function statFields(pid: number): string[] | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** `pid` and every process descending from it. */
export function processTree(pid: number): number[] {
  if (!HAS_PROC) return [pid];
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const parent = Number(statFields(child)?.[1]);
    if (!Number.isInteger(parent)) continue;
    const list = children.get(parent);
    if (list) list.push(child);
    else children.set(parent, [child]);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** User plus system CPU seconds the processes have used so far (all their threads). */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    // utime and stime are fields 14 and 15 of stat; index 0 here is field 3 (state).
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLOCK_TICKS;
}

/** Resident set size of the processes, in bytes (shared pages are counted once per process). */
export function rssBytes(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readText(`/proc/${pid}/status`) ?? '');
    if (m) kb += Number(m[1]);
  }
  return kb * 1024;
}

/** Busy and total jiffies of each core, from /proc/stat. */
export interface CoreTimes {
  readonly busy: number;
  readonly total: number;
}

export function coreTimes(): CoreTimes[] {
  const out: CoreTimes[] = [];
  for (const line of (readText('/proc/stat') ?? '').split('\n')) {
    if (!/^cpu\d+ /.test(line)) continue;
    const v = line.split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    // idle and iowait are the 4th and 5th columns.
    out.push({ busy: total - (v[3] ?? 0) - (v[4] ?? 0), total });
  }
  return out;
}

/** Fraction of each core that was busy between two readings. */
export function coreBusy(before: readonly CoreTimes[], after: readonly CoreTimes[]): number[] {
  return after.map((a, i) => {
    const b = before[i];
    if (!b || a.total === b.total) return 0;
    return (a.busy - b.busy) / (a.total - b.total);
  });
}

/** Fraction of the whole machine (all cores) that is busy over the next `ms`. */
export async function machineBusy(ms: number): Promise<number> {
  const before = coreTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = coreTimes();
  let busy = 0;
  let total = 0;
  after.forEach((a, i) => {
    busy += a.busy - (before[i]?.busy ?? 0);
    total += a.total - (before[i]?.total ?? 0);
  });
  return total > 0 ? busy / total : 0;
}

/** Samples the peak RSS of some processes until stopped. */
export class RssSampler {
  #peak = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly pids: readonly number[],
    intervalMs: number,
  ) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    this.#peak = Math.max(this.#peak, rssBytes(this.pids));
  }

  /** Stops sampling; the peak seen, in bytes, including one last reading. */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    return this.#peak;
  }
}

/** The machine line of the report. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly node: string;
  readonly kernel: string;
}

export function machineInfo(): MachineInfo {
  const model = /^model name\s*:\s*(.+)$/m.exec(readText('/proc/cpuinfo') ?? '')?.[1];
  return {
    cpuModel: model?.trim() ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    kernel: release(),
  };
}
