/**
 * @module app/phases/engine
 * The deployment engine and CodeDeploy's registry of applications, groups and configurations, with
 * what the store kept and what the config declares.
 */
import { EventStream } from '../../api/event-stream.js';
import { applyDeclarations } from '../../shifting/declarations.js';
import { DeploymentEngine } from '../../shifting/engine.js';
import { Registry } from '../../shifting/registry.js';
import { fromStore, restoreRegistry } from '../recovery.js';
import type { AlarmsAndNotifications } from './alarms-and-notifications.js';
import type { TrafficAndDataPlane } from './data-plane.js';
import type { Ground } from './ground.js';
import type { HooksAndTaskSets } from './hooks-and-task-sets.js';

/** What the engine phase builds. */
export interface EngineAndRegistry {
  readonly engine: DeploymentEngine;
  readonly registry: Registry;
  /** The engine's deployment events, for the control API to stream. */
  readonly events: EventStream;
}

/** Builds the engine (its deployments are restored once the API is built) and the registry, restored and declared. */
export function engineAndRegistry(
  { config, log, clock, store, keepOrGoOn, teardown, later }: Ground,
  {
    traffic,
    remote,
    hooks,
    launcher,
    monitor,
    notifications,
    alarms,
  }: TrafficAndDataPlane & HooksAndTaskSets & AlarmsAndNotifications,
): EngineAndRegistry {
  const events = new EventStream(clock);
  const engine = new DeploymentEngine({
    clock,
    log: log.child({ component: 'shifting' }),
    traffic,
    hooks,
    launcher,
    alarms: monitor,
    journal: {
      // A record and the notifications its change queues are kept together, or neither.
      save: (record) =>
        keepOrGoOn(`deployment ${record.id}`, () =>
          store.transaction(() => {
            store.put('deployment', record.id, record);
            notifications.observe(record);
          }),
        ),
      atomically: (fn) => keepOrGoOn('a deployment step', () => store.transaction(fn)),
    },
    onEvent: events.publish,
    // Traffic waits rather than moves while a remote data plane is out of reach beyond its grace.
    dataPlanes: remote,
  });
  // Registered last, so it stops first: no deployment moves traffic or runs a hook while the rest closes.
  teardown.add('engine', () => engine.close());
  // No step of a fault's schedule publishes a table to a data plane or store that is closing.
  teardown.add('fault schedules', () => traffic.close());
  later.engine = engine;
  const registry = new Registry(clock, {
    alarmDeclared: alarms.has,
    onChange: (change) =>
      change.value === undefined
        ? store.delete(change.kind, change.key)
        : store.put(change.kind, change.key, change.value),
    // What one call changes (a rename, an application with its groups) is kept whole or not at all; the
    // registry changes in memory only after this returns.
    atomically: (write) => store.transaction(write),
  });
  later.registry = registry;
  fromStore('applications, groups and configurations', () => restoreRegistry(store, registry));
  applyDeclarations(registry, config);
  return { engine, registry, events };
}
