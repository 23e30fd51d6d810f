/**
 * @module shifting/data-plane-gate
 * Pause instead of moving blind: a deployment does not move traffic while a data plane it depends on has
 * been unreachable beyond a grace, since that data plane would go on routing by the old split and the
 * deployment's alarms would not see its traffic. It waits (it does not fail) until the data plane is back
 * or forgotten, and its timeline says why. A rollback never passes through here: it goes out at once.
 */
import type { Clock } from '../core/clock.js';
import { Halted, type Run } from './run.js';

/** A data plane that has been unreachable beyond the grace. */
export interface UnreachableDataPlane {
  readonly name: string;
  /** Since when (epoch ms, the control plane's clock). */
  readonly since: number;
}

/** Which data planes the traffic depends on are out of reach; implemented by the app's fleet. */
export interface DataPlaneGate {
  /** The grace, in milliseconds: how long a data plane may be unreachable before traffic stops moving. */
  readonly graceMs: number;
  /** The data planes unreachable for longer than the grace now. */
  unreachable(): readonly UnreachableDataPlane[];
  /** Calls `listener` whenever one comes back or is forgotten; returns a way to stop. */
  onReturn(listener: () => void): () => void;
}

/** Adds an entry to the run's timeline (the engine's note). */
export type Note = (run: Run, level: 'info' | 'warn', message: string, detail: Record<string, unknown>) => void;

/**
 * Resolves when traffic may move (`move` names it for the timeline); rejects with Halted if the
 * deployment is stopped while it waits. Without a gate (no remote data planes) it never waits.
 */
export async function clearToMove(
  gate: DataPlaneGate | undefined,
  { run, clock, note }: { run: Run; clock: Clock; note: Note },
  move: string,
): Promise<void> {
  if (!gate || gate.unreachable().length === 0) return;
  const pausedAt = clock.now();
  let told = '';
  for (let away = gate.unreachable(); away.length > 0; away = gate.unreachable()) {
    const names = away.map((d) => d.name).join(', ');
    // One entry per change of who is missing, not one per wake-up.
    if (names !== told) {
      note(run, 'warn', 'traffic move paused: data planes unreachable', {
        move,
        dataPlanes: away.map((d) => ({ name: d.name, unreachableSince: d.since })),
        graceMs: gate.graceMs,
      });
      told = names;
    }
    await untilReturn(gate, run);
  }
  note(run, 'info', 'traffic move resumed: every data plane reachable', {
    move,
    pausedMs: clock.now() - pausedAt,
  });
}

/** Resolves at the next return (or forgetting) of a data plane; rejects with Halted when the run is stopped. */
function untilReturn(gate: DataPlaneGate, run: Run): Promise<void> {
  const signal = run.abort.signal;
  if (signal.aborted) return Promise.reject(new Halted());
  return new Promise((resolve, reject) => {
    const done = () => {
      stop();
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(new Halted());
    };
    const stop = gate.onReturn(() => {
      done();
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
