/**
 * Execution environments with real runtime processes on real sockets: the shipped Node bootstrap (ESM,
 * CommonJS, callback, errors, init error, timeout, crash) and the custom-runtime tutorial's shell bootstrap.
 */
import { dirname, join } from 'node:path';

import { afterEach, describe, expect, inject, it } from 'vitest';

import { systemClock } from '../../src/core/clock.js';
import type { ProcessLedger } from '../../src/core/process-ledger.js';
import {
  ExecutionEnvironment,
  type FunctionLogLine,
  type FunctionVersionSpec,
  type InvokeOutcome,
} from '../../src/functions/environment.js';
import { alive } from '../support/processes.js';
import { until } from '../support/until.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'functions');
const open: ExecutionEnvironment[] = [];

function environment(
  spec: Partial<FunctionVersionSpec> & { taskRoot: string; handler: string },
  logs: FunctionLogLine[] = [],
  ledger?: ProcessLedger,
  initTimeoutMs?: number,
) {
  const env = new ExecutionEnvironment(
    {
      functionName: 'orders',
      version: '3',
      runtime: 'nodejs',
      timeoutSeconds: 3,
      memorySizeMb: 256,
      region: 'eu-west-1',
      accountId: '123456789012',
      env: { CUSTOM_VAR: 'custom' },
      ...spec,
    },
    {
      clock: systemClock,
      onLog: (line) => logs.push(line),
      ...(ledger ? { ledger } : {}),
      ...(initTimeoutMs === undefined ? {} : { initTimeoutMs }),
      nodeBootstrap: join(dirname(dirname(inject('cliMain'))), 'functions', 'node-runtime', 'bootstrap.js'),
    },
  );
  open.push(env);
  return env;
}

function json(outcome: InvokeOutcome): unknown {
  if (outcome.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.body.toString('utf8'));
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((env) => env.close()));
});

describe('the shipped Node bootstrap', () => {
  it('runs an ESM handler with the context of the invocation, cold then warm', async () => {
    const logs: FunctionLogLine[] = [];
    const env = environment({ taskRoot: join(FIXTURES, 'esm'), handler: 'index.handler' }, logs);
    const first = json(await env.invoke('{"order":1}', { requestId: 'req-1' })) as Record<string, unknown>;
    expect(first).toMatchObject({
      event: { order: 1 },
      awsRequestId: 'req-1',
      functionName: 'orders',
      functionVersion: '3',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/orders',
      waits: true,
      custom: 'custom',
    });
    expect(first['remaining']).toBeGreaterThan(0);
    expect(first['remaining']).toBeLessThanOrEqual(3000);
    expect(env.lastFigures?.initDurationMs).toBeGreaterThan(0);
    const second = json(await env.invoke('{"order":2}', { requestId: 'req-2', invokedFunctionArn: 'arn:x:live' }));
    expect(second).toMatchObject({ awsRequestId: 'req-2', invokedFunctionArn: 'arn:x:live' });
    expect(env.lastFigures?.initDurationMs).toBeUndefined();
    const hello = logs.find((l) => l.line.endsWith('hello from esm'));
    expect(hello).toMatchObject({ requestId: 'req-1', stream: 'stdout' });
    expect(hello?.line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z\treq-1\tINFO\thello from esm$/);
    expect(logs).toContainEqual({ requestId: 'req-2', stream: 'platform', line: 'START RequestId: req-2 Version: 3' });
    const reports = logs.filter((l) => l.line.startsWith('REPORT'));
    expect(reports[0]?.line).toMatch(
      /^REPORT RequestId: req-1\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: 256 MB\tInit Duration: \d+\.\d\d ms\t$/,
    );
    expect(reports[1]?.line).not.toContain('Init Duration');
  });

  it('runs a CommonJS handler, a nested export and a callback handler', async () => {
    const cjs = environment({ taskRoot: join(FIXTURES, 'cjs'), handler: 'index.handler' });
    expect(json(await cjs.invoke('{"a":1}', { requestId: 'c-1' }))).toEqual({
      cjs: true,
      event: { a: 1 },
      awsRequestId: 'c-1',
    });
    const nested = environment({ taskRoot: join(FIXTURES, 'cjs'), handler: 'index.nested.deeper.handler' });
    expect(json(await nested.invoke('{}'))).toBe('nested');
    const callback = environment({ taskRoot: join(FIXTURES, 'cjs'), handler: 'index.callback' });
    expect(json(await callback.invoke('{"n":41}'))).toEqual({ viaCallback: 42 });
    expect(json(await callback.invoke('{"n":1}'))).toEqual({ viaCallback: 2 });
  });

  it('reports a thrown error as Lambda serializes it, and the environment stays warm', async () => {
    const env = environment({ taskRoot: join(FIXTURES, 'esm'), handler: 'index.throws' });
    const outcome = await env.invoke('{}');
    expect(outcome).toMatchObject({
      kind: 'error',
      phase: 'invoke',
      errorType: 'TypeError',
      errorMessage: 'no such thing',
    });
    if (outcome.kind !== 'error') throw new Error('unreachable');
    expect(outcome.trace[0]).toBe('TypeError: no such thing');
    const pid = env.pid;
    await env.invoke('{}');
    expect(env.pid).toBe(pid);
  });

  it('reports an error thrown during Init as an init error, and a missing handler likewise', async () => {
    const env = environment({ taskRoot: join(FIXTURES, 'init-error'), handler: 'index.handler' });
    expect(await env.invoke('{}')).toMatchObject({
      kind: 'error',
      phase: 'init',
      errorType: 'Error',
      errorMessage: 'cannot start: no config',
    });
    expect(env.pid).toBeUndefined();
    const missing = environment({ taskRoot: join(FIXTURES, 'esm'), handler: 'index.nothing' });
    expect(await missing.invoke('{}')).toMatchObject({
      kind: 'error',
      phase: 'init',
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'index.nothing is undefined or not exported',
    });
  });

  it('kills a process that runs past its timeout; the next invocation gets a fresh one', async () => {
    const logs: FunctionLogLine[] = [];
    const env = environment({ taskRoot: join(FIXTURES, 'esm'), handler: 'index.sleepy', timeoutSeconds: 0.5 }, logs);
    const pid = json(await env.invoke('{"ms":0}')) as number;
    const late = await env.invoke('{"ms":60000}', { requestId: 'late' });
    expect(late).toEqual({ kind: 'timeout', errorMessage: 'Task timed out after 0.50 seconds' });
    expect(logs.some((l) => l.requestId === 'late' && l.line.endsWith(' late Task timed out after 0.50 seconds'))).toBe(
      true,
    );
    expect(alive(pid)).toBe(false);
    expect(env.pid).toBeUndefined();
    const fresh = json(await env.invoke('{"ms":0}', { requestId: 'after' })) as number;
    expect(fresh).not.toBe(pid);
    expect(env.lastFigures?.initDurationMs).toBeGreaterThan(0);
  });

  it('reports a process that exits during an invocation as a crash', async () => {
    const env = environment({ taskRoot: join(FIXTURES, 'esm'), handler: 'index.crash' });
    const outcome = await env.invoke('{}', { requestId: 'boom' });
    expect(outcome).toEqual({
      kind: 'crash',
      exitCode: 3,
      signal: null,
      errorMessage: 'RequestId: boom Error: Runtime exited with error: exit status 3',
    });
  });

  it('posts an uncaught exception for the invocation, and replaces the runtime that exited after it', async () => {
    const started: number[] = [];
    const ended: number[] = [];
    const env = environment({ taskRoot: join(FIXTURES, 'esm'), handler: 'index.uncaught' }, [], {
      started: (pid) => started.push(pid),
      ended: (pid) => ended.push(pid),
    });
    const outcome = await env.invoke('{}');
    expect(outcome).toMatchObject({
      kind: 'error',
      phase: 'invoke',
      errorType: 'RangeError',
      errorMessage: 'thrown from a timer',
    });
    const pid = started[0] as number;
    await until(() => ended.includes(pid), Boolean, 3_000);
    const next = await env.invoke('{}');
    expect(next).toMatchObject({ kind: 'error', errorType: 'RangeError' });
    expect(started).toHaveLength(2);
  });

  it('fails an Init that runs past its limit, kills it, and refuses an event over the payload ceiling', async () => {
    const started: number[] = [];
    const ledger = { started: (pid: number) => started.push(pid), ended: () => {} };
    const env = environment({ taskRoot: join(FIXTURES, 'slow-init'), handler: 'index.handler' }, [], ledger, 300);
    const outcome = await env.invoke('{}', { requestId: 'slow' });
    expect(outcome).toMatchObject({ kind: 'error', phase: 'init', errorType: 'Sandbox.Timedout' });
    expect(outcome.kind === 'error' && outcome.errorMessage).toMatch(
      /^RequestId: slow Error: Init timed out after 0\.\d\d seconds$/,
    );
    expect(alive(started[0] as number)).toBe(false);
    await expect(env.invoke(Buffer.alloc(6 * 1024 * 1024 + 101))).rejects.toThrow('over 6291556');
  });

  it('leaves no process behind after close', async () => {
    const env = environment({ taskRoot: join(FIXTURES, 'esm'), handler: 'index.pid' });
    const pid = json(await env.invoke('{}')) as number;
    expect(alive(pid)).toBe(true);
    await env.close();
    expect(alive(pid)).toBe(false);
    await expect(env.invoke('{}')).rejects.toThrow('closed');
  });
});

describe('the custom runtime tutorial', () => {
  it('runs bootstrap and function.sh unmodified', async () => {
    const logs: FunctionLogLine[] = [];
    const env = environment(
      { taskRoot: join(FIXTURES, 'custom'), handler: 'function.handler', runtime: 'provided' },
      logs,
    );
    const outcome = await env.invoke('{"text":"Hello"}', { requestId: 'tut-1' });
    expect(outcome.kind).toBe('response');
    if (outcome.kind !== 'response') throw new Error('unreachable');
    expect(outcome.body.toString('utf8')).toBe(`Echoing request: '{"text":"Hello"}'`);
    expect(logs).toContainEqual({ requestId: 'tut-1', stream: 'stderr', line: '{"text":"Hello"}' });
    const again = await env.invoke('{"text":"again"}');
    expect(again.kind === 'response' && again.body.toString('utf8')).toBe(`Echoing request: '{"text":"again"}'`);
    const pid = env.pid as number;
    await env.close();
    expect(alive(pid)).toBe(false);
  });
});
