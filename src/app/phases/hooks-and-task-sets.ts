/**
 * @module app/phases/hooks-and-task-sets
 * What deployments run: lifecycle hooks, and the versions switchyard runs itself: by command (task
 * sets), in process (synthetic versions), or as Lambda-like functions in execution environments.
 */
import { callerEnv } from '../../api/auth/exposure.js';
import { FunctionHost } from '../../functions/host.js';
import { FunctionLauncher } from '../../functions/launcher.js';
import { Prober } from '../../health/probe.js';
import { HookExecutor } from '../../hooks/runner.js';
import { SyntheticLauncher } from '../../synthetic/launcher.js';
import { TaskSetLauncher } from '../../tasksets/launcher.js';
import { VersionLaunchers } from '../launchers.js';
import { fromStore, keptHookExecutions } from '../recovery.js';
import type { TrafficAndDataPlane } from './data-plane.js';
import type { Ground } from './ground.js';

/** What the hooks and task sets phase builds. */
export interface HooksAndTaskSets {
  readonly hooks: HookExecutor;
  /** Task sets and synthetic versions, each version to the launcher of its kind. */
  readonly launcher: VersionLaunchers;
  /** The function versions' execution environments (what the Lambda API invokes). */
  readonly functions: FunctionHost;
}

/**
 * Builds the hook executor, with the executions the store kept, the launchers of task sets and synthetic
 * versions, and the function host (running `nodeBootstrap` for handler versions when given).
 */
export function hooksAndTaskSets(
  { config, log, clock, store, processes, later }: Ground,
  { traffic, afterDrain }: TrafficAndDataPlane,
  nodeBootstrap?: string,
): HooksAndTaskSets {
  const hooks = new HookExecutor({
    hooks: config.hooks,
    clock,
    logger: log.child({ component: 'hooks' }),
    // Command hooks report back to the control API, whose address is known once it listens.
    endpoint: () => later.controlUrl,
    processes,
    observer: {
      put: (execution) => store.put('hookExecution', execution.executionId, execution),
      forget: (executionId) => store.delete('hookExecution', executionId),
    },
    // With control.auth set, a hook that reports back needs the credentials too.
    env: callerEnv(config.control.auth),
  });
  fromStore('hook executions', () => hooks.restore(keptHookExecutions(store)));
  // Task sets wait for readiness on a prober of their own, so their checks never queue behind health's.
  const readiness = new Prober(clock);
  afterDrain.add('readiness prober', () => readiness.close());
  const taskSets = new TaskSetLauncher({
    services: config.services,
    traffic,
    readiness,
    clock,
    log: log.child({ component: 'tasks' }),
    processes,
  });
  // Their processes answer the data plane's requests until it has drained.
  afterDrain.add('task sets', () => taskSets.close());
  const synthetic = new SyntheticLauncher({
    services: config.services,
    traffic,
    readiness,
    log: log.child({ component: 'synthetic' }),
  });
  // Likewise their servers.
  afterDrain.add('synthetic versions', () => synthetic.close());
  const functions = new FunctionHost({
    services: config.services,
    clock,
    log: log.child({ component: 'functions' }),
    ledger: processes,
    ...(nodeBootstrap !== undefined && { nodeBootstrap }),
  });
  const functionLauncher = new FunctionLauncher({
    services: config.services,
    traffic,
    host: functions,
    clock,
    readiness,
    log: log.child({ component: 'functions' }),
  });
  // Likewise their fronts, then their runtimes.
  afterDrain.add('function versions', async () => {
    await functionLauncher.close();
    await functions.close();
  });
  const launcher = new VersionLaunchers(
    { services: config.services, traffic, log },
    taskSets,
    synthetic,
    functionLauncher,
  );
  return { hooks, launcher, functions };
}
