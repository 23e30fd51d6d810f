/**
 * @module api/codedeploy/context
 * What the CodeDeploy operations work on, and the shape of one operation. Kept apart from the protocol
 * route so that each resource's operations depend on this, not on each other.
 */
import type { Logger } from '../../core/logger.js';
import type { DeploymentEngine } from '../../shifting/engine.js';
import type { TrafficPort } from '../../shifting/ports.js';
import type { Registry } from '../../shifting/registry.js';

/**
 * Receives PutLifecycleEventHookExecutionStatus. Throws errors carrying `awsType` (e.g.
 * InvalidLifecycleEventHookExecutionIdException, LifecycleEventAlreadyCompletedException) for a report
 * it cannot take, so the caller sees the exception CodeDeploy would raise.
 */
export interface HookReporter {
  report(deploymentId: string, executionId: string, status: string): void;
  /** Why an AppSpec hook target names no hook, or undefined when it resolves. */
  unresolvable(target: string): string | undefined;
}

/** Everything the CodeDeploy operations need. */
export interface CodeDeployDeps {
  readonly engine: DeploymentEngine;
  readonly registry: Registry;
  readonly traffic: TrafficPort;
  readonly reporter: HookReporter;
  /** Whether the proxy has a test listener, which an ECS group's testTrafficRoute then plays. */
  readonly testListener: boolean;
  /** The time scale deployments run at unless a request asks for another (see CreateDeployment). */
  readonly timeScale: number;
  readonly log: Logger;
}

/** A JSON request body, after the protocol has checked it is an object. */
export type RequestBody = Readonly<Record<string, unknown>>;

/**
 * One CodeDeploy operation: request body in, response body out (`{}` for operations without output);
 * `Answer` is the answer's type where a client reads it (./answers.ts).
 */
export type Operation<Answer extends object = object> = (deps: CodeDeployDeps, body: RequestBody) => Answer;
