/**
 * The Lambda API on a real control API (buildApi, listening on 127.0.0.1:0) over a small real
 * FunctionInvoker: one EnvironmentPool per function version of the config, real runtime processes, the
 * invocation's log lines kept by request id for the tail. Closed (pools, processes, server) when the
 * current test finishes. Also an SDK Lambda client for it.
 */
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';

import { LambdaClient } from '@aws-sdk/client-lambda';
import { inject, onTestFinished } from 'vitest';

import { buildApi } from '../../src/api/server.js';
import type { Config, ControlAuth } from '../../src/config/schema.js';
import { type Clock, systemClock } from '../../src/core/clock.js';
import type {
  FunctionInvocationRequest,
  FunctionInvocationResult,
  FunctionInvoker,
} from '../../src/core/function-invoker.js';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { ExecutionEnvironment, type InvokeOutcome } from '../../src/functions/environment.js';
import { EnvironmentPool } from '../../src/functions/pool.js';
import { TrafficState } from '../../src/shifting/traffic.js';
import { configFrom, type ConfigInput } from './switchyard.js';

/** The API tests' handlers (test/fixtures/functions/api/index.mjs), `<path>.<export>` as a config names them. */
export function apiHandler(name: 'echo' | 'record' | 'fail' | 'sleepy' | 'chatty'): string {
  return `${join(import.meta.dirname, '..', 'fixtures', 'functions', 'api', 'index')}.${name}`;
}

/** The built Node bootstrap of this test run. */
function nodeBootstrap(): string {
  return join(dirname(dirname(inject('cliMain'))), 'functions', 'node-runtime', 'bootstrap.js');
}

/** The error document Invoke returns for an outcome that is no response. */
function errorDocument(outcome: Exclude<InvokeOutcome, { kind: 'response' }>): Buffer {
  if (outcome.kind === 'error') return outcome.body;
  const errorType = outcome.kind === 'timeout' ? 'Sandbox.Timedout' : 'Runtime.ExitError';
  return Buffer.from(JSON.stringify({ errorType, errorMessage: outcome.errorMessage }));
}

/** A real FunctionInvoker for the tests: pools of real environments, one per function version. */
export class TestInvoker implements FunctionInvoker {
  readonly #pools = new Map<string, EnvironmentPool>();
  readonly #logs = new Map<string, string[]>();
  /** Every log line of every invocation, in order, for tests that look for a background one's output. */
  readonly lines: string[] = [];

  constructor(
    private readonly config: Config,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Runs one invocation. */
  async invoke(request: FunctionInvocationRequest): Promise<FunctionInvocationResult> {
    const requestId = randomUUID();
    this.#logs.set(requestId, []);
    try {
      const outcome = await this.#pool(request.service, request.version).invoke(request.payload, {
        requestId,
        invokedFunctionArn: request.invokedFunctionArn,
        ...(request.clientContext !== undefined && { clientContext: request.clientContext }),
      });
      const log = (this.#logs.get(requestId) ?? []).join('\n');
      const logTail = request.tailLog ? { logTail: `${log}\n` } : {};
      if (outcome.kind === 'response') return { kind: 'response', payload: outcome.body, ...logTail };
      return { kind: 'function-error', payload: errorDocument(outcome), ...logTail };
    } finally {
      this.#logs.delete(requestId);
    }
  }

  /** Closes every pool; their processes are killed. */
  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }

  #pool(service: string, version: string): EnvironmentPool {
    const key = `${service}\u0000${version}`;
    const existing = this.#pools.get(key);
    if (existing) return existing;
    const spec = this.config.services.find((s) => s.name === service)?.versions[version];
    if (spec?.kind !== 'lambda') throw new Error(`no function version ${service}/${version}`);
    const fn = spec.lambda;
    const pool = new EnvironmentPool({
      clock: this.clock,
      concurrency: fn.concurrency,
      idleMs: fn.idleMs,
      create: () =>
        new ExecutionEnvironment(
          {
            functionName: service,
            version,
            runtime: fn.runtime,
            handler: fn.handler,
            taskRoot: fn.root,
            ...(fn.bootstrap !== undefined && { bootstrap: fn.bootstrap }),
            timeoutSeconds: Math.ceil(fn.timeoutMs / 1000),
            memorySizeMb: fn.memorySizeMb,
            region: 'us-east-1',
            accountId: '123456789012',
            env: fn.env,
          },
          {
            clock: this.clock,
            nodeBootstrap: nodeBootstrap(),
            onLog: (line) => {
              this.lines.push(line.line);
              if (line.requestId !== undefined) this.#logs.get(line.requestId)?.push(line.line);
            },
          },
        ),
    });
    this.#pools.set(key, pool);
    return pool;
  }
}

/** A control API serving the Lambda API for `input`'s functions. */
export interface LambdaApiServer {
  readonly url: string;
  readonly config: Config;
  readonly traffic: TrafficState;
  readonly invoker: TestInvoker;
  readonly log: Logger;
  /** Closes the API, then the pools (done for you unless `autoClose` was false). */
  close(): Promise<void>;
}

/** Starts the control API over `input` (a config as an object); closed when the test finishes unless `autoClose` is false. */
export async function startLambdaApi(
  input: ConfigInput,
  options: { auth?: ControlAuth; log?: Logger; autoClose?: boolean } = {},
): Promise<LambdaApiServer> {
  const config = configFrom(input);
  const traffic = new TrafficState(config);
  const invoker = new TestInvoker(config);
  const log = options.log ?? createLogger({ level: 'silent' });
  const api = buildApi({
    log,
    traffic,
    metrics: { render: async () => ({ contentType: 'text/plain', body: '' }) },
    functions: { services: config.services, invoker },
    ...(options.auth && { auth: options.auth }),
  });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  const close = async () => {
    await api.close();
    await invoker.close();
  };
  if (options.autoClose !== false) onTestFinished(close);
  return { url, config, traffic, invoker, log, close };
}

/** An SDK Lambda client for `url` (no retries, so a refusal is seen as it is); destroyed when the test finishes. */
export function lambdaClient(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string } = { accessKeyId: 'local', secretAccessKey: 'local' },
): LambdaClient {
  const client = new LambdaClient({ region: 'us-east-1', endpoint: url, credentials, maxAttempts: 1 });
  onTestFinished(() => client.destroy());
  return client;
}
