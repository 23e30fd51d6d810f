/**
 * The Lambda API on a real control API (buildApi, listening on 127.0.0.1:0) over the function host
 * switchyard runs (real runtime processes, the Node bootstrap built for this test run), without the
 * proxy, the engine or anything else of a whole switchyard. Closed (host, processes, server) when the
 * current test finishes. Also an SDK Lambda client for it.
 */
import { join } from 'node:path';

import { LambdaClient } from '@aws-sdk/client-lambda';
import { onTestFinished } from 'vitest';

import { buildApi } from '../../src/api/server.js';
import type { Config, ControlAuth } from '../../src/config/schema.js';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { FunctionHost } from '../../src/functions/host.js';
import { TrafficState } from '../../src/shifting/traffic.js';
import { logSink } from './log-sink.js';
import { builtNodeBootstrap, configFrom, type ConfigInput } from './switchyard.js';

/** The API tests' handlers (test/fixtures/functions/api/index.mjs), `<path>.<export>` as a config names them. */
export function apiHandler(name: 'echo' | 'record' | 'fail' | 'sleepy' | 'chatty'): string {
  return `${join(import.meta.dirname, '..', 'fixtures', 'functions', 'api', 'index')}.${name}`;
}

/** A control API serving the Lambda API for `input`'s functions. */
export interface LambdaApiServer {
  readonly url: string;
  readonly config: Config;
  readonly traffic: TrafficState;
  readonly host: FunctionHost;
  /** The messages logged so far (function output and platform lines among them). */
  logged(): string[];
  /** Closes the API, then the pools (done for you unless `autoClose` was false). */
  close(): Promise<void>;
}

/** Starts the control API over `input` (a config as an object); closed when the test finishes unless `autoClose` is false. */
export async function startLambdaApi(
  input: ConfigInput,
  options: { auth?: ControlAuth; autoClose?: boolean } = {},
): Promise<LambdaApiServer> {
  const config = configFrom(input);
  const traffic = new TrafficState(config);
  const sink = logSink();
  const log = createLogger({ level: 'info', destination: sink.stream });
  const host = new FunctionHost({
    services: config.services,
    clock: systemClock,
    log,
    nodeBootstrap: builtNodeBootstrap(),
  });
  const api = buildApi({
    log,
    traffic,
    metrics: { render: async () => ({ contentType: 'text/plain', body: '' }) },
    functions: { services: config.services, invoker: host },
    ...(options.auth && { auth: options.auth }),
  });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  const close = async () => {
    await api.close();
    await host.close();
  };
  if (options.autoClose !== false) onTestFinished(close);
  const logged = () => sink.lines.map((l) => String(l['msg']));
  return { url, config, traffic, host, logged, close };
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
