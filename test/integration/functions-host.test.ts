/**
 * The function host over a config's function versions, with real runtime processes: a version made ready
 * ahead of traffic (Init measured, or its failure as Lambda reports it), invocations as the Lambda API
 * asks for them with the log tail, a timeout's error document, and a version that is not a function.
 */
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { systemClock } from '../../src/core/clock.js';
import { isSwitchyardError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { FunctionHost } from '../../src/functions/host.js';
import { builtNodeBootstrap, configFrom } from '../support/switchyard.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'functions');
const hosts: FunctionHost[] = [];

function host(versions: Record<string, unknown>): FunctionHost {
  const config = configFrom({ services: [{ name: 'fn', live: '1', versions }] });
  const made = new FunctionHost({
    services: config.services,
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    nodeBootstrap: builtNodeBootstrap(),
  });
  hosts.push(made);
  return made;
}

const ARN = 'arn:aws:lambda:local:000000000000:function:fn';

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

describe('the function host', () => {
  it('makes a version ready ahead of traffic, then answers from the warm environment with its log tail', async () => {
    const fns = host({
      '1': { lambda: { handler: `${FIXTURES}/esm/index.handler`, env: { CUSTOM_VAR: 'seen' } } },
      '2': { targets: ['http://127.0.0.1:9'] },
    });
    expect(fns.spec('fn', '1')).toMatchObject({ runtime: 'nodejs', handler: 'index.handler', root: `${FIXTURES}/esm` });
    expect(fns.spec('fn', '2')).toBeUndefined();
    const ready = await fns.warm('fn', '1');
    expect(ready.kind).toBe('ready');
    expect(ready.kind === 'ready' && ready.initMs).toBeGreaterThan(0);

    const result = await fns.invoke({
      service: 'fn',
      version: '1',
      payload: Buffer.from('{"a":1}'),
      invokedFunctionArn: `${ARN}:live`,
      tailLog: true,
    });
    expect(result.kind).toBe('response');
    const answer = JSON.parse(result.payload.toString()) as Record<string, unknown>;
    expect(answer).toMatchObject({ event: { a: 1 }, invokedFunctionArn: `${ARN}:live`, custom: 'seen' });
    const tail = result.logTail ?? '';
    expect(tail).toMatch(/^START RequestId: [0-9a-f-]{36} Version: 1$/m);
    expect(tail).toContain('hello from esm');
    expect(tail).toMatch(/^END RequestId: /m);
    // Warm: Init was paid when the version was made ready, not by this invocation.
    expect(tail).toMatch(/^REPORT RequestId: .*Duration: [\d.]+ ms/m);
    expect(tail).not.toContain('Init Duration');
    // Counted as the version's traffic, as the proxy counts a request (outcomes: 2xx, 3xx, 4xx, 5xx, error).
    expect(fns.takeStats().entries).toEqual([
      expect.objectContaining({ service: 'fn', version: '1', counts: [1, 0, 0, 0, 0] }),
    ]);
    expect(fns.takeStats().entries).toEqual([]);
  });

  it('reports an Init failure when the version is made ready, as the first invocation would see it', async () => {
    const fns = host({ '1': { lambda: { handler: `${FIXTURES}/init-error/index.handler` } } });
    const result = await fns.warm('fn', '1');
    expect(result.kind).toBe('failed');
    if (result.kind !== 'failed') return;
    expect(result.outcome).toMatchObject({ kind: 'error', phase: 'init', errorMessage: 'cannot start: no config' });
  });

  it('answers a timeout with Lambda’s Sandbox.Timedout document, and refuses a version that is not a function', async () => {
    const fns = host({
      '1': { lambda: { handler: `${FIXTURES}/esm/index.sleepy`, timeout: '1s' } },
      '2': { targets: ['http://127.0.0.1:9'] },
    });
    const result = await fns.invoke({
      service: 'fn',
      version: '1',
      payload: Buffer.from('{"ms":5000}'),
      invokedFunctionArn: ARN,
      tailLog: false,
    });
    expect(result.kind).toBe('function-error');
    expect(result.logTail).toBeUndefined();
    expect(JSON.parse(result.payload.toString())).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/),
    });
    expect(fns.takeStats().entries).toEqual([expect.objectContaining({ version: '1', counts: [0, 0, 0, 1, 0] })]);
    const refused = await fns
      .invoke({ service: 'fn', version: '2', payload: Buffer.from('{}'), invokedFunctionArn: ARN, tailLog: false })
      .catch((err: unknown) => err);
    expect(isSwitchyardError(refused) && refused.code).toBe('VERSION_NOT_FOUND');
  });
});
