/**
 * @module hooks/executions
 * The record of every hook execution, running and finished. Finished ones are kept (boundedly) so that a
 * late second PutLifecycleEventHookExecutionStatus still gets LifecycleEventAlreadyCompleted rather than
 * "unknown id", and so that a hook that hangs for an hour can be seen waiting.
 */
import { z } from 'zod';

import { CodeDeployRefusal } from '../codedeploy/exceptions.js';
import { Diagnostics, LifecycleEventName } from '../codedeploy/lifecycle.js';

/** How a hook target was run; `unresolved` when it named no hook and failed at once. */
export const HookKind = z.enum(['http', 'command', 'unresolved']);
export type HookKind = z.infer<typeof HookKind>;

/** One hook execution as recorded (and kept, so a restart remembers it); times are the runner's clock. */
export const HookExecution = z.object({
  executionId: z.string(),
  deploymentId: z.string(),
  event: LifecycleEventName,
  target: z.string(),
  kind: HookKind,
  startTime: z.number(),
  endTime: z.number().optional(),
  status: z.enum(['InProgress', 'Succeeded', 'Failed']),
  diagnostics: Diagnostics.optional(),
});
export type HookExecution = z.infer<typeof HookExecution>;

/** A PutLifecycleEventHookExecutionStatus that CodeDeploy would refuse; `awsType` is its `__type` name. */
export class HookReportError extends CodeDeployRefusal {}

/** Most finished executions kept; older ones are forgotten first. */
export const DEFAULT_FINISHED_LIMIT = 10_000;

/** Hears every execution written and forgotten (the store keeps them). */
export interface ExecutionObserver {
  put(execution: HookExecution): void;
  forget(executionId: string): void;
}

/** Executions by id, in start order, with finished ones bounded. */
export class ExecutionLog {
  readonly #all = new Map<string, HookExecution>();
  /** Finished ids in the order they finished: the eviction order. */
  readonly #finished = new Set<string>();
  readonly #limit: number;
  readonly #observer: ExecutionObserver | undefined;

  constructor(limit = DEFAULT_FINISHED_LIMIT, observer?: ExecutionObserver) {
    this.#limit = limit;
    this.#observer = observer;
  }

  /**
   * Puts back executions a store kept, in start order. One still running when switchyard stopped can no
   * longer be reported: it is recorded Failed now (`end`), so a late report gets
   * LifecycleEventAlreadyCompleted; the deployment that ran it starts its hook again.
   */
  restore(kept: readonly HookExecution[], end: Pick<HookExecution, 'endTime' | 'diagnostics'>): void {
    for (const execution of kept) {
      this.#all.set(execution.executionId, execution);
      if (execution.status === 'InProgress') this.finish(execution.executionId, { ...end, status: 'Failed' });
      else this.#finished.add(execution.executionId);
    }
    this.#evict();
  }

  /** The execution with this id, if still remembered. */
  get(executionId: string): HookExecution | undefined {
    return this.#all.get(executionId);
  }

  /** Records a started execution. */
  start(execution: HookExecution): void {
    this.#all.set(execution.executionId, execution);
    this.#observer?.put(execution);
  }

  /** Records how an execution ended and forgets the oldest finished ones beyond the limit. */
  finish(executionId: string, end: Pick<HookExecution, 'endTime' | 'status' | 'diagnostics'>): void {
    const running = this.#all.get(executionId);
    if (!running) return;
    const finished = { ...running, ...end };
    this.#all.set(executionId, finished);
    this.#observer?.put(finished);
    this.#finished.add(executionId);
    this.#evict();
  }

  #evict(): void {
    while (this.#finished.size > this.#limit) {
      const oldest = this.#finished.values().next().value!;
      this.#finished.delete(oldest);
      this.#all.delete(oldest);
      this.#observer?.forget(oldest);
    }
  }

  /** A deployment's executions in start order. */
  of(deploymentId: string): HookExecution[] {
    return [...this.#all.values()].filter((e) => e.deploymentId === deploymentId);
  }

  /** Executions still waiting for an outcome, in start order. */
  pending(): HookExecution[] {
    return [...this.#all.values()].filter((e) => e.status === 'InProgress');
  }
}
