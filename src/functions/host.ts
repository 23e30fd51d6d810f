/**
 * @module functions/host
 * The function versions of the config's services, each an {@link EnvironmentPool} made on first use: what
 * the Lambda API invokes (as a FunctionInvoker), what a version's HTTP front invokes, and what a launcher
 * warms before a version takes traffic. Function output goes to switchyard's log tagged with function,
 * version and request id; an invocation that asks for it gets its last 4 KB back, as Lambda's log tail.
 * The Lambda API's invocations are counted per version as the proxy counts requests (a StatsSource), so
 * alarms, metrics and the dashboard see them beside the listeners' traffic.
 */
import { randomUUID } from 'node:crypto';

import type { FunctionSpec } from '../config/functions.js';
import type { ServiceConfig } from '../config/schema.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../core/aws-identity.js';
import type { Clock } from '../core/clock.js';
import { isSwitchyardError, SwitchyardError } from '../core/errors.js';
import type { FunctionInvocationRequest, FunctionInvocationResult, FunctionInvoker } from '../core/function-invoker.js';
import type { Logger } from '../core/logger.js';
import type { ProcessLedger } from '../core/process-ledger.js';
import { outcomeOf, type StatsDelta } from '../core/stats-delta.js';
import { StatsRecorder } from '../core/stats-recorder.js';
import { ExecutionEnvironment, type FunctionLogLine, type InvokeOptions, type InvokeOutcome } from './environment.js';
import { EnvironmentPool } from './pool.js';

/** Lambda's log tail: the last 4 KB of the invocation's log. */
const LOG_TAIL_BYTES = 4096;

/** What the host needs. */
export interface FunctionHostDeps {
  readonly services: readonly ServiceConfig[];
  readonly clock: Clock;
  readonly log: Logger;
  /** Writes runtime processes down, so a later start stops what a killed switchyard left running. */
  readonly ledger?: ProcessLedger;
  /** Init longer than this fails (Lambda's cap, 10 s, by default). */
  readonly initTimeoutMs?: number;
  /** The built Node bootstrap; the one shipped beside this module by default. */
  readonly nodeBootstrap?: string;
}

/** How a version's Init went when it was made ready. */
export type WarmResult =
  { readonly kind: 'ready'; readonly initMs: number } | { readonly kind: 'failed'; readonly outcome: InvokeOutcome };

/** Runs the config's function versions. */
export class FunctionHost implements FunctionInvoker {
  readonly #deps: FunctionHostDeps;
  readonly #pools = new Map<string, EnvironmentPool>();
  readonly #stats = new StatsRecorder();
  /** Log lines kept for invocations that asked for their tail, by request id. */
  readonly #tails = new Map<string, string[]>();
  #closed = false;

  constructor(deps: FunctionHostDeps) {
    this.#deps = deps;
  }

  /** The spec of `version` of `service` when it is a function version. */
  spec(service: string, version: string): FunctionSpec | undefined {
    const spec = this.#deps.services.find((s) => s.name === service)?.versions[version];
    return spec?.kind === 'lambda' ? spec.lambda : undefined;
  }

  /** Initialises one environment of the version unless one is kept already. */
  async warm(service: string, version: string): Promise<WarmResult> {
    const result = await this.#pool(service, version).warm();
    if (result.kind === 'ready' && result.initMs > 0) {
      this.#deps.log.info({ function: service, version, initMs: Math.round(result.initMs) }, 'function version ready');
    }
    return result;
  }

  /** Runs one invocation as the HTTP front asks for it; throws FUNCTION_THROTTLED beyond concurrency. */
  run(service: string, version: string, event: Buffer, options: InvokeOptions = {}): Promise<InvokeOutcome> {
    return this.#pool(service, version).invoke(event, options);
  }

  async invoke(request: FunctionInvocationRequest): Promise<FunctionInvocationResult> {
    const requestId = request.requestId ?? randomUUID();
    const lines: string[] | undefined = request.tailLog ? [] : undefined;
    if (lines) this.#tails.set(requestId, lines);
    const started = this.#deps.clock.now();
    const count = (status: number) =>
      this.#stats.for(request.service, request.version).record(outcomeOf(status), this.#deps.clock.now() - started);
    try {
      const outcome = await this.run(request.service, request.version, request.payload, {
        requestId,
        invokedFunctionArn: request.invokedFunctionArn,
        ...(request.clientContext !== undefined && { clientContext: request.clientContext }),
      }).catch((err: unknown) => {
        // A throttle is an answer the caller sees (429); a refusal for a missing version is no traffic.
        if (isSwitchyardError(err) && err.code === 'FUNCTION_THROTTLED') count(429);
        throw err;
      });
      count(outcome.kind === 'response' ? 200 : 500);
      // Output and the runtime's calls travel apart: a line printed just before the answer may come after it.
      if (lines) await new Promise((resolve) => setImmediate(resolve));
      const logTail = lines ? tailOf(lines) : undefined;
      const tail = logTail === undefined ? {} : { logTail };
      if (outcome.kind === 'response') return { kind: 'response', payload: outcome.body, ...tail };
      return { kind: 'function-error', payload: errorDocument(outcome, requestId), ...tail };
    } finally {
      this.#tails.delete(requestId);
    }
  }

  /** What the Lambda API's invocations came to since the previous call (the stats hub pulls it). */
  takeStats(): StatsDelta {
    return this.#stats.takeDelta();
  }

  /** Stops a version's environments (its processes killed); the next invocation starts afresh. */
  async stop(service: string, version: string): Promise<void> {
    const key = keyOf(service, version);
    const pool = this.#pools.get(key);
    this.#pools.delete(key);
    await pool?.close();
  }

  /** Stops every environment; for shutdown. */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }

  #pool(service: string, version: string): EnvironmentPool {
    if (this.#closed) throw new SwitchyardError('VERSION_NOT_READY', 'switchyard is shutting down');
    const key = keyOf(service, version);
    const kept = this.#pools.get(key);
    if (kept) return kept;
    const spec = this.spec(service, version);
    if (!spec) {
      throw new SwitchyardError('VERSION_NOT_FOUND', `service "${service}" has no function version "${version}"`);
    }
    const { clock, ledger, initTimeoutMs, nodeBootstrap } = this.#deps;
    const log = this.#deps.log.child({ function: service, version });
    const onLog = (line: FunctionLogLine) => this.#logLine(log, line);
    const pool = new EnvironmentPool({
      clock,
      concurrency: spec.concurrency,
      idleMs: spec.idleMs,
      create: () =>
        new ExecutionEnvironment(
          {
            functionName: service,
            version,
            runtime: spec.runtime,
            handler: spec.handler,
            taskRoot: spec.root,
            ...(spec.bootstrap !== undefined && { bootstrap: spec.bootstrap }),
            timeoutSeconds: spec.timeoutMs / 1000,
            memorySizeMb: spec.memorySizeMb,
            region: LOCAL_REGION,
            accountId: LOCAL_ACCOUNT_ID,
            env: spec.env,
          },
          {
            clock,
            onLog,
            ...(ledger && { ledger }),
            ...(initTimeoutMs !== undefined && { initTimeoutMs }),
            ...(nodeBootstrap !== undefined && { nodeBootstrap }),
          },
        ),
    });
    this.#pools.set(key, pool);
    return pool;
  }

  #logLine(log: Logger, { requestId, stream, line }: FunctionLogLine): void {
    if (requestId !== undefined) this.#tails.get(requestId)?.push(line);
    log.info({ requestId, stream }, line);
  }
}

/** The error document Lambda answers a failed invocation with (a timeout and a crash have none of their own). */
export function errorDocument(outcome: Exclude<InvokeOutcome, { kind: 'response' }>, requestId: string): Buffer {
  if (outcome.kind === 'error') return outcome.body;
  const doc =
    outcome.kind === 'timeout'
      ? { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: ${outcome.errorMessage}` }
      : { errorType: 'Runtime.ExitError', errorMessage: outcome.errorMessage };
  return Buffer.from(JSON.stringify(doc));
}

/** The last 4 KB of the lines, cut at a character boundary. */
function tailOf(lines: readonly string[]): string {
  const bytes = Buffer.from(lines.length ? `${lines.join('\n')}\n` : '');
  if (bytes.length <= LOG_TAIL_BYTES) return bytes.toString('utf8');
  return bytes
    .subarray(-LOG_TAIL_BYTES)
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
}

const keyOf = (service: string, version: string) => `${service}\u0000${version}`;
