/**
 * @module shifting/engine-context
 * What the pieces of the deployment engine share (the façade, the lifecycle walk, the endings): what the
 * engine is built from, the deployments it holds, and how a change to one is kept and told.
 */
import type { Diagnostics } from '../codedeploy/lifecycle.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { DataPlaneGate } from './data-plane-gate.js';
import {
  type AlarmWatcher,
  type DeploymentEvent,
  type DeploymentJournal,
  type DeploymentRecord,
  fixedTargets,
  type HookRunner,
  type ReplacementLauncher,
  type TimelineEvent,
  type TrafficPort,
} from './ports.js';
import type { Run } from './run.js';

/** What the engine is built from. */
export interface EngineDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly traffic: TrafficPort;
  readonly hooks: HookRunner;
  readonly launcher?: ReplacementLauncher;
  /** Watches the alarms a plan names; without it, alarms are not evaluated. */
  readonly alarms?: AlarmWatcher;
  /** Keeps every change to a deployment record (the store); without it, records live in memory only. */
  readonly journal?: DeploymentJournal;
  /** Called with every timeline entry as it is added (the event stream). */
  readonly onEvent?: (event: DeploymentEvent) => void;
  /** Remote data planes out of reach: traffic moves wait while any is beyond its grace. */
  readonly dataPlanes?: DataPlaneGate;
}

/** The diagnostics of a lifecycle event that succeeded. */
export const SUCCESS: Diagnostics = { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail: '' };

/** The engine's dependencies and deployments, and how a change to a deployment is kept and told. */
export class EngineContext {
  readonly launcher: ReplacementLauncher;
  /** Every deployment, oldest first. */
  readonly records = new Map<string, DeploymentRecord>();
  /** The deployments in flight (not yet ended), by id. */
  readonly runs = new Map<string, Run>();

  constructor(readonly deps: EngineDeps) {
    this.launcher = deps.launcher ?? fixedTargets;
  }

  /** Keeps a record after a change to it. */
  changed(record: DeploymentRecord): void {
    this.deps.journal?.save(record);
  }

  /** Runs `fn` so that what it writes is kept all or none (see {@link DeploymentJournal.atomically}). */
  atomically(fn: () => void): void {
    if (this.deps.journal) this.deps.journal.atomically(fn);
    else fn();
  }

  /** Logs a step of a deployment and appends it to its timeline, so the API and CLI never scrape logs. */
  note(run: Run, level: 'info' | 'warn', message: string, detail: Record<string, unknown> = {}): void {
    const record = run.record;
    const entry: TimelineEvent = {
      time: run.clock.now(),
      wallTime: this.deps.clock.now(),
      level,
      message,
      detail,
      status: record.status,
    };
    record.timeline.push(entry);
    run.log[level](detail, message);
    this.changed(record);
    this.deps.onEvent?.({ deploymentId: record.id, ...entry });
  }
}
