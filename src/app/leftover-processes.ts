/**
 * @module app/leftover-processes
 * Processes switchyard starts (versions run by command, command hooks) are written down in the store
 * while they run, so that those a killed run left behind are stopped by the next start.
 */
import { hostname } from 'node:os';

import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import {
  processKey,
  type ProcessLedger,
  startedHere,
  StartedProcess,
  startedProcess,
  stopLeftovers,
} from '../core/process-ledger.js';
import type { DeploymentStore } from '../shifting/ports.js';
import { fromStore, keptProcesses } from './recovery.js';

/** Between SIGTERM and SIGKILL for processes an earlier, killed run left running. */
const LEFTOVER_KILL_GRACE_MS = 5_000;

/**
 * Stops the processes an earlier run wrote down that are still running, and forgets the rest. Each
 * stays written down until its SIGKILL is due, so a second crash meanwhile still finds it.
 */
export function stopLeftoverProcesses(store: DeploymentStore, clock: Clock, log: Logger): void {
  // Another host's processes are its own to stop: a shared store holds them too.
  const kept = fromStore('processes', () => keptProcesses(store)).filter(startedHere);
  const leftovers = stopLeftovers(kept, clock, LEFTOVER_KILL_GRACE_MS, (p) => {
    // Unless the pid has since been written down again for a process of this run.
    if (StartedProcess.safeParse(store.get('process', processKey(p))).data?.startTime === p.startTime) {
      store.delete('process', processKey(p));
    }
  });
  if (leftovers.length > 0) log.warn({ processes: leftovers }, 'stopping processes left running by an earlier run');
  for (const p of kept) if (!leftovers.includes(p)) store.delete('process', processKey(p));
}

/** The ledger that writes this run's processes down in `store` while they run. */
export function storeLedger(store: DeploymentStore): ProcessLedger {
  return {
    started: (pid, what) => {
      const p = startedProcess(pid, what);
      store.put('process', processKey(p), p);
    },
    ended: (pid) => store.delete('process', processKey({ pid, host: hostname() })),
  };
}
