/**
 * @module core/process-ledger
 * The processes switchyard starts in their own process groups (versions run by command, command hooks)
 * outlive it when it is killed with SIGKILL. Each is written down with the kernel's start time of its
 * leader, so the next start can stop exactly those groups: a pid the kernel has since given to another
 * process has another start time and is left alone.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

import { z } from 'zod';

import type { Clock } from './clock.js';

/** Hears when a process group is started and when it has ended. */
export interface ProcessLedger {
  started(pid: number, what: string): void;
  ended(pid: number): void;
}

/** A started process group as written down. */
export const StartedProcess = z.object({
  pid: z.number().int(),
  /**
   * The host it runs on (os.hostname()): a store shared by control planes on several hosts holds theirs
   * too, and a pid means nothing on another host. Absent in what older versions wrote: taken as this host.
   */
  host: z.string().optional(),
  /** The leader's start time in clock ticks since boot (/proc/PID/stat field 22); absent where there is no /proc. */
  startTime: z.string().optional(),
  /** What it was, for the log: e.g. `web version 2 instance 0`. */
  what: z.string(),
});
export type StartedProcess = z.infer<typeof StartedProcess>;

/** The kernel's start time of process `pid`, or undefined when it does not exist (or there is no /proc). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** A process as the ledger writes it down. */
export function startedProcess(pid: number, what: string): StartedProcess {
  return { pid, host: hostname(), startTime: processStartTime(pid), what };
}

/** Whether `p` was started on this host (or written before hosts were). */
export function startedHere(p: StartedProcess): boolean {
  return p.host === undefined || p.host === hostname();
}

/** The store key of a written-down process: its host and pid, or the pid alone as older versions wrote it. */
export function processKey(p: Pick<StartedProcess, 'pid' | 'host'>): string {
  return p.host === undefined ? String(p.pid) : `${p.host}/${p.pid}`;
}

/**
 * Stops the groups of `kept` processes that are still the ones written down: SIGTERM now, SIGKILL after
 * `graceMs` on `clock` to any that are left, then `done` with each. Returns those it signalled; never
 * waits for them.
 */
export function stopLeftovers(
  kept: readonly StartedProcess[],
  clock: Clock,
  graceMs: number,
  done: (p: StartedProcess) => void = () => undefined,
): StartedProcess[] {
  const same = (p: StartedProcess) => p.startTime !== undefined && processStartTime(p.pid) === p.startTime;
  const signal = (p: StartedProcess, sig: NodeJS.Signals) => {
    try {
      process.kill(-p.pid, sig);
    } catch {
      // Gone already.
    }
  };
  const alive = kept.filter(same);
  for (const p of alive) signal(p, 'SIGTERM');
  if (alive.length > 0) {
    clock.setTimer(graceMs, () => {
      for (const p of alive) {
        if (same(p)) signal(p, 'SIGKILL');
        done(p);
      }
    });
  }
  return alive;
}
