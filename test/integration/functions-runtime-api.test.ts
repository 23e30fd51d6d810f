/**
 * The Runtime API on a real socket, driven as a runtime would drive it: headers of `next`, the status codes
 * and error bodies for calls out of order, unknown ids and oversized bodies.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { MAX_PAYLOAD_BYTES, RuntimeApi, type RuntimeReport } from '../../src/functions/runtime-api.js';
import { builtNodeBootstrap } from '../support/switchyard.js';

const apis: RuntimeApi[] = [];
afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.close()));
});

async function start(events: string[] = []) {
  const api = new RuntimeApi({
    onNext: () => events.push('next'),
    onInitError: (body, type) => events.push(`init-error ${type ?? ''} ${body.toString()}`),
  });
  apis.push(api);
  const base = `http://${await api.listen()}/2018-06-01/runtime`;
  return { api, base };
}

const invocation = {
  requestId: 'req-1',
  payload: Buffer.from('{"a":1}'),
  deadlineMs: 1_700_000_000_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f:live',
  traceId: 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1',
};

describe('the Runtime API', () => {
  it('hands an invocation to next with Lambda headers and takes its response', async () => {
    const events: string[] = [];
    const { api, base } = await start(events);
    const reported = api.deliver(invocation);
    const next = await fetch(`${base}/invocation/next`);
    expect(next.status).toBe(200);
    expect(await next.text()).toBe('{"a":1}');
    expect(next.headers.get('lambda-runtime-aws-request-id')).toBe('req-1');
    expect(next.headers.get('lambda-runtime-deadline-ms')).toBe('1700000000000');
    expect(next.headers.get('lambda-runtime-invoked-function-arn')).toBe(invocation.invokedFunctionArn);
    expect(next.headers.get('lambda-runtime-trace-id')).toBe(invocation.traceId);
    expect(next.headers.get('content-type')).toBe('application/json');
    const posted = await fetch(`${base}/invocation/req-1/response`, { method: 'POST', body: 'plain text' });
    expect(posted.status).toBe(202);
    expect(await posted.json()).toEqual({ status: 'OK' });
    const report: RuntimeReport = await reported;
    expect(report.kind).toBe('response');
    expect(report.body.toString()).toBe('plain text');
    expect(events).toEqual(['next']);
  });

  it('answers 400 for an unknown id, 403 before next and for a second answer, 404 elsewhere', async () => {
    const { api, base } = await start();
    const before = api.deliver(invocation);
    const early = await fetch(`${base}/invocation/req-1/response`, { method: 'POST', body: 'x' });
    expect(early.status).toBe(403);
    expect(await early.json()).toMatchObject({ errorType: 'InvalidStateTransition' });
    await (await fetch(`${base}/invocation/next`)).text();
    const wrong = await fetch(`${base}/invocation/other/response`, { method: 'POST', body: 'x' });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
    const error = await fetch(`${base}/invocation/req-1/error`, {
      method: 'POST',
      headers: { 'lambda-runtime-function-error-type': 'Runtime.Oops' },
      body: '{"errorType":"E","errorMessage":"m"}',
    });
    expect(error.status).toBe(202);
    expect(await before).toMatchObject({ kind: 'error', errorTypeHeader: 'Runtime.Oops' });
    const twice = await fetch(`${base}/invocation/req-1/response`, { method: 'POST', body: 'x' });
    expect(twice.status).toBe(400);
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
  });

  it('refuses a response over the payload ceiling with 413 and fails the invocation', async () => {
    const { api, base } = await start();
    const reported = api.deliver(invocation);
    await (await fetch(`${base}/invocation/next`)).text();
    const big = Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 97);
    const res = await fetch(`${base}/invocation/req-1/response`, { method: 'POST', body: big });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      errorMessage: 'Exceeded maximum allowed payload size (6291556 bytes).',
      errorType: 'RequestEntityTooLarge',
    });
    const report = await reported;
    expect(JSON.parse(report.body.toString())).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).',
    });
  });

  it('takes an init error with its type header', async () => {
    const events: string[] = [];
    const { base } = await start(events);
    const res = await fetch(`${base}/init/error`, {
      method: 'POST',
      headers: { 'lambda-runtime-function-error-type': 'Unhandled' },
      body: '{"errorMessage":"Failed to load function.","errorType":"InvalidFunctionException"}',
    });
    expect(res.status).toBe(202);
    expect(events).toEqual([
      'init-error Unhandled {"errorMessage":"Failed to load function.","errorType":"InvalidFunctionException"}',
    ]);
  });
});

describe('the Node runtime without its Runtime API', () => {
  const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'functions');

  /** Runs the built bootstrap against a port nothing listens on; resolves with how it ended. */
  async function runOrphan(taskRoot: string, handler: string) {
    const child = spawn(process.execPath, [builtNodeBootstrap()], {
      env: {
        PATH: process.env['PATH'],
        AWS_LAMBDA_RUNTIME_API: '127.0.0.1:1',
        LAMBDA_TASK_ROOT: taskRoot,
        _HANDLER: handler,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(killer);
    return { code, stderr };
  }

  it('ends (exit 1) when the Runtime API cannot be reached, after Init and after an Init error alike', async () => {
    const served = await runOrphan(join(FIXTURES, 'esm'), 'index.handler');
    expect(served.code).toBe(1);
    expect(served.stderr).toContain('the Runtime API at http://127.0.0.1:1/2018-06-01 cannot be reached');
    const failedInit = await runOrphan(join(FIXTURES, 'init-error'), 'index.handler');
    expect(failedInit.code).toBe(1);
    // One Init Error record, not one per failed report of it.
    expect(failedInit.stderr.match(/Init Error/g)).toHaveLength(1);
  });
});
