/**
 * @module hooks/runner
 * Runs lifecycle hooks for the deployment engine and takes their PutLifecycleEventHookExecutionStatus
 * reports. Each execution settles once, from whichever comes first: the hook's own end (a command's
 * exit, a sync answer, a failed delivery), a report, the timeout on the injected clock, or a stop.
 */
import type { Dispatcher } from 'undici';

import type { Diagnostics } from '../codedeploy/lifecycle.js';
import { describeTimeout, HookRegistry, type HooksConfig, type HookSpec } from '../config/hooks.js';
import type { CancelTimer, Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { ProcessLedger } from '../core/process-ledger.js';
import type { HookInvocation, HookOutcome, HookRunner } from '../shifting/ports.js';
import { startCommandHook } from './command-hook.js';
import { ExecutionLog, type ExecutionObserver, type HookExecution, HookReportError } from './executions.js';
import { startHttpHook } from './http-hook.js';
import { failed, type HookAttempt, type HookEnd } from './output.js';

export interface HookExecutorOptions {
  /** The config's `hooks:` map, already parsed. */
  readonly hooks?: HooksConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * The control API's base URL, given to command hooks so they can report back. A function when the
   * API's port is known only once it listens.
   */
  readonly endpoint: string | (() => string);
  /** More environment for command hooks, e.g. the control API's credentials; the invocation's own wins. */
  readonly env?: Readonly<Record<string, string>>;
  /** Between SIGTERM and SIGKILL for a command hook; default 5 s. */
  readonly killGraceMs?: number;
  /** Most finished executions remembered for reports and listings; default 10,000. */
  readonly finishedLimit?: number;
  /** Hears every execution recorded and forgotten (the store). */
  readonly observer?: ExecutionObserver;
  /** Hears every command hook's process started and ended. */
  readonly processes?: ProcessLedger;
  readonly dispatcher?: Dispatcher;
}

interface Running {
  readonly invocation: HookInvocation;
  settle(end: HookEnd, why: 'report'): void;
}

const REPORTABLE = new Set(['Succeeded', 'Failed']);

/** The HookRunner the engine uses, and the receiver of PutLifecycleEventHookExecutionStatus. */
export class HookExecutor implements HookRunner {
  readonly registry: HookRegistry;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #endpoint: () => string;
  readonly #env: Readonly<Record<string, string>>;
  readonly #killGraceMs: number;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #processes: ProcessLedger | undefined;
  readonly #log: ExecutionLog;
  readonly #running = new Map<string, Running>();

  constructor(options: HookExecutorOptions) {
    this.registry = new HookRegistry(options.hooks);
    this.#clock = options.clock;
    this.#logger = options.logger;
    const endpoint = options.endpoint;
    this.#endpoint = typeof endpoint === 'string' ? () => endpoint : endpoint;
    this.#env = options.env ?? {};
    this.#killGraceMs = options.killGraceMs ?? 5_000;
    this.#dispatcher = options.dispatcher;
    this.#processes = options.processes;
    this.#log = new ExecutionLog(options.finishedLimit, options.observer);
  }

  /** Runs one hook until it reports, ends, times out or is aborted; never rejects. */
  run(invocation: HookInvocation, signal: AbortSignal): Promise<HookOutcome> {
    const { deploymentId, executionId, event, target } = invocation;
    const log = this.#logger.child({ deploymentId, event, executionId });
    if (this.#log.get(executionId)) {
      // Two executions under one id would let one's report settle the other.
      log.error({ target }, 'hook execution id reused; refusing to run');
      return Promise.resolve({
        status: 'Failed',
        diagnostics: diagnosticsOf(
          target,
          failed('UnknownError', `hook execution id ${executionId} is already in use`),
        ),
      });
    }
    const resolved = this.registry.resolve(target);
    const kind = resolved.ok ? resolved.spec.kind : 'unresolved';
    this.#log.start({
      executionId,
      deploymentId,
      event,
      target,
      kind,
      startTime: this.#clock.now(),
      status: 'InProgress',
    });
    log.info({ target, kind, timeoutMs: invocation.timeoutMs }, 'hook started');

    return new Promise<HookOutcome>((resolve) => {
      // Filled once the hook starts; settle() may run before that (abort, unresolved target).
      const current: { attempt?: HookAttempt } = {};
      let cancelTimeout: CancelTimer | undefined;
      let settled = false;

      const settle = (end: HookEnd, why: 'self' | 'report' | 'timeout' | 'abort') => {
        if (settled) return;
        settled = true;
        cancelTimeout?.();
        signal.removeEventListener('abort', onAbort);
        this.#running.delete(executionId);
        if (why !== 'self') current.attempt?.stop(why);
        const outcome: HookOutcome = { status: end.status, diagnostics: diagnosticsOf(target, end) };
        this.#log.finish(executionId, {
          endTime: this.#clock.now(),
          status: end.status,
          diagnostics: outcome.diagnostics,
        });
        const fields = { target, kind, why, errorCode: end.errorCode };
        if (end.status === 'Succeeded') log.info(fields, 'hook succeeded');
        else log.warn({ ...fields, reason: end.message }, 'hook failed');
        resolve(outcome);
      };
      // A stop gives no reason; switchyard stopping says so (the deployment is left for the next start).
      const why = () => (typeof signal.reason === 'string' ? signal.reason : 'deployment stopped');
      const onAbort = () => settle(failed('UnknownError', why(), current.attempt?.tail() ?? ''), 'abort');

      if (signal.aborted) return onAbort();
      if (!resolved.ok) return settle(failed('ScriptMissing', resolved.message), 'self');

      signal.addEventListener('abort', onAbort, { once: true });
      this.#running.set(executionId, { invocation, settle });
      if (Number.isFinite(invocation.timeoutMs)) {
        cancelTimeout = this.#clock.setTimer(invocation.timeoutMs, () =>
          settle(
            failed(
              'ScriptTimedOut',
              timeoutMessage(resolved.spec, invocation.timeoutMs),
              current.attempt?.tail() ?? '',
            ),
            'timeout',
          ),
        );
      }
      current.attempt = this.#start(resolved.spec, invocation, (end) => settle(end, 'self'), log);
    });
  }

  /**
   * Takes a PutLifecycleEventHookExecutionStatus report; throws HookReportError with CodeDeploy's
   * exception name when CodeDeploy would refuse it.
   */
  report(deploymentId: string, executionId: string, status: string): void {
    if (!REPORTABLE.has(status)) {
      throw new HookReportError(
        'InvalidLifecycleEventHookExecutionStatusException',
        `status must be Succeeded or Failed, got ${JSON.stringify(status)}`,
      );
    }
    const known = this.#log.get(executionId);
    // An id from another deployment is treated as unknown, so one deployment cannot settle another's hook.
    if (!known || known.deploymentId !== deploymentId) {
      throw new HookReportError(
        'InvalidLifecycleEventHookExecutionIdException',
        `no lifecycle event hook execution ${executionId} in deployment ${deploymentId}`,
      );
    }
    const running = this.#running.get(executionId);
    if (!running || known.status !== 'InProgress') {
      throw new HookReportError(
        'LifecycleEventAlreadyCompletedException',
        `lifecycle event hook execution ${executionId} already completed with ${known.status}`,
      );
    }
    running.settle(
      status === 'Succeeded'
        ? { status: 'Succeeded', errorCode: 'Success', message: 'Succeeded', logTail: '' }
        : failed('ScriptFailed', 'the hook reported Failed'),
      'report',
    );
  }

  /** Puts back the executions a store kept; those that were running are recorded failed by the restart. */
  restore(kept: readonly HookExecution[]): void {
    this.#log.restore(kept, {
      endTime: this.#clock.now(),
      diagnostics: {
        errorCode: 'UnknownError',
        scriptName: '',
        message: 'switchyard restarted while the hook ran',
        logTail: '',
      },
    });
  }

  /** A deployment's hook executions in start order. */
  executions(deploymentId: string): HookExecution[] {
    return this.#log.of(deploymentId);
  }

  /** Why a target names no hook (neither a `hooks:` entry nor a URL), or undefined when it resolves. */
  unresolvable(target: string): string | undefined {
    const resolved = this.registry.resolve(target);
    return resolved.ok ? undefined : resolved.message;
  }

  /** The configured (unscaled) timeout of a target's hook; the engine scales it per deployment. */
  timeoutOf(target: string): number {
    return this.registry.timeoutOf(target);
  }

  /** Executions still waiting for an outcome, oldest first: where to look when a deployment seems to hang. */
  pending(): HookExecution[] {
    return this.#log.pending();
  }

  #start(spec: HookSpec, invocation: HookInvocation, done: (end: HookEnd) => void, log: Logger): HookAttempt {
    if (spec.kind === 'http') {
      return startHttpHook(spec, invocation, done, {
        dispatcher: this.#dispatcher,
        onDelivered: (statusCode) => log.info({ statusCode }, 'hook invocation delivered; waiting for its report'),
      });
    }
    const endpoint = this.#endpoint();
    return startCommandHook(
      spec,
      {
        // The hook's own env: wins over the credentials switchyard hands it (it may call a real AWS account).
        ...Object.fromEntries(Object.entries(this.#env).filter(([name]) => spec.env[name] === undefined)),
        DEPLOYMENT_ID: invocation.deploymentId,
        APPLICATION_NAME: invocation.applicationName,
        DEPLOYMENT_GROUP_NAME: invocation.deploymentGroupName,
        LIFECYCLE_EVENT: invocation.event,
        LIFECYCLE_EVENT_HOOK_EXECUTION_ID: invocation.executionId,
        SWITCHYARD_ENDPOINT: endpoint,
        // The AWS SDKs (v3, and awscli v2) read a per-service endpoint from this variable.
        AWS_ENDPOINT_URL_CODEDEPLOY: endpoint,
      },
      done,
      { clock: this.#clock, killGraceMs: this.#killGraceMs, processes: this.#processes },
    );
  }
}

function diagnosticsOf(target: string, end: HookEnd): Diagnostics {
  return { errorCode: end.errorCode, scriptName: target, message: end.message, logTail: end.logTail };
}

function timeoutMessage(spec: HookSpec, timeoutMs: number): string {
  const limit = describeTimeout(timeoutMs);
  if (spec.kind === 'command') return `command did not exit within ${limit}; it was terminated`;
  return spec.mode === 'sync'
    ? `hook ${spec.url} did not answer within ${limit}`
    : `no PutLifecycleEventHookExecutionStatus report within ${limit}`;
}
