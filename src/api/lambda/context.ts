/**
 * @module api/lambda/context
 * What the Lambda API is given (the config's services and the invoker that runs their function versions)
 * and what its operations share once it is built. Kept apart from the routes so that each operation
 * depends on this, not on the others.
 */
import type { ServiceConfig } from '../../config/services.js';
import type { FunctionInvoker } from '../../core/function-invoker.js';
import type { Logger } from '../../core/logger.js';
import type { DeploymentEngine } from '../../shifting/engine.js';
import type { TrafficPort } from '../../shifting/ports.js';
import type { AliasPicker } from './alias.js';
import type { FunctionCatalog } from './catalog.js';
import type { EventQueue } from './event-queue.js';

/** What the composition root gives the control API to serve Lambda's API: the functions and their invoker. */
export interface FunctionApiDeps {
  readonly services: readonly ServiceConfig[];
  readonly invoker: FunctionInvoker;
}

/** What the Lambda operations work on. */
export interface LambdaContext {
  readonly catalog: FunctionCatalog;
  readonly invoker: FunctionInvoker;
  readonly traffic: TrafficPort;
  readonly picker: AliasPicker;
  readonly events: EventQueue;
  /** The deployments, when there are any: an alias is not updated by hand under one that shifts it. */
  readonly deployments: Pick<DeploymentEngine, 'activeOn'> | undefined;
  /** Alias descriptions set through UpdateAlias, by function (kept while the process runs). */
  readonly descriptions: Map<string, string>;
  readonly log: Logger;
}
