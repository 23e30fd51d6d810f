/**
 * @module app/phases/ground
 * What every phase of a start builds on: the config, the log and the clock, the open store, and the
 * teardown each piece registers its close with. Also the calls from pieces built early to pieces built
 * later (health and alarms report into the engine's timelines, notifications look triggers up in the
 * registry, hooks report back to the control API), set once those exist.
 */
import type { Config } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { ProcessLedger } from '../../core/process-ledger.js';
import type { DeploymentEngine } from '../../shifting/engine.js';
import type { DeploymentStore } from '../../shifting/ports.js';
import type { Registry } from '../../shifting/registry.js';
import type { KeepOrGoOn } from '../keep-or-go-on.js';
import type { Teardown } from '../teardown.js';

/** Pieces built after those that call them; each is set by the phase that builds it. */
export interface Later {
  /** The deployment engine, whose timelines health and alarm changes go into. */
  engine: DeploymentEngine | undefined;
  /** CodeDeploy's registry, where notifications look up a group's triggers when they fire. */
  registry: Registry | undefined;
  /** Where command hooks report back: the configured address until the control API listens. */
  controlUrl: string;
  /** Hears that a target's health changed in `service`, for the event stream's service views. */
  serviceHealthChanged: ((service: string) => void) | undefined;
}

/** What every phase builds on. */
export interface Ground {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly store: DeploymentStore;
  /** Writes down the processes this run starts, for the next start to find if this one is killed. */
  readonly processes: ProcessLedger;
  readonly keepOrGoOn: KeepOrGoOn;
  /**
   * Where each piece registers its close. The store's, registered first, runs last; those registered
   * after the data plane's (what decides: the engine, alarms, notifications, health checks) run before it
   * drains. What must outlast the drain registers with the data plane phase's `afterDrain` instead.
   */
  readonly teardown: Teardown;
  readonly later: Later;
  /** Tells a store shared with other control planes where this one's API answers, once it listens. */
  readonly announce: (controlUrl: string) => void;
}
