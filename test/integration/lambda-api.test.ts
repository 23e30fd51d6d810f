/**
 * Lambda's API on the control port driven by the real `@aws-sdk/client-lambda` against real function
 * processes: Invoke by version, by alias (exactly the split's share) and `$LATEST`, the log tail, function
 * errors, a timeout, throttling at the concurrency limit, Event invocations that run in the background
 * (and wait in the queue beyond concurrency), DryRun; GetFunction, ListVersionsByFunction, ListFunctions,
 * GetAlias, ListAliases and UpdateAlias with Lambda's refusals; SigV4 with control.auth.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  InvalidRequestContentException,
  InvokeCommand,
  type InvokeCommandOutput,
  type LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  RequestTooLargeException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { apiHandler, type LambdaApiServer, lambdaClient, startLambdaApi } from '../support/functions-api.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/until.js';

const CUSTOM_BOOTSTRAP = join(import.meta.dirname, '..', 'fixtures', 'functions', 'custom', 'bootstrap');
const dir = tempDir('switchyard-lambda-api-');

/** A function service; `pathPrefix` apart per service, as the config wants. */
function fn(name: string, versions: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}) {
  return {
    name,
    match: { pathPrefix: `/${name}` },
    versions: Object.fromEntries(Object.entries(versions).map(([label, lambda]) => [label, { lambda }])),
    live: Object.keys(versions)[0],
    ...extra,
  };
}

const SERVICES = [
  fn('orders', {
    '1': { handler: apiHandler('echo'), env: { STAGE: 'one' } },
    '2': { handler: apiHandler('echo'), timeout: '5s', memorySize: 256 },
  }),
  fn('broken', { '1': { handler: apiHandler('fail') } }),
  fn('slow', { '1': { handler: apiHandler('sleepy'), timeout: '1s', concurrency: 1 } }),
  fn('chatty', { '1': { handler: apiHandler('chatty') } }),
  fn('recorder', { '1': { handler: apiHandler('record'), concurrency: 1 } }),
  fn('shell', { '1': { bootstrap: CUSTOM_BOOTSTRAP, handler: 'function.handler' } }),
  { name: 'web', match: { pathPrefix: '/web' }, versions: { '1': { targets: ['http://127.0.0.1:9'] } }, live: '1' },
  {
    name: 'mixed',
    match: { pathPrefix: '/mixed' },
    versions: { '1': { lambda: { handler: apiHandler('echo') } }, '2': { targets: ['http://127.0.0.1:9'] } },
    live: '1',
    weights: { '1': 50, '2': 50 },
  },
];

async function setup(): Promise<{ api: LambdaApiServer; lambda: LambdaClient }> {
  const api = await startLambdaApi({ services: SERVICES });
  return { api, lambda: lambdaClient(api.url) };
}

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const json = (out: InvokeCommandOutput) => JSON.parse(text(out.Payload)) as Record<string, unknown>;
const payload = (value: unknown) => Buffer.from(JSON.stringify(value));

/** What the SDK threw (the test fails if nothing was). */
async function refusal(p: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  const outcome = await p.then(
    () => undefined,
    (err: unknown) => err as Error & { $metadata: { httpStatusCode?: number } },
  );
  if (outcome === undefined) throw new Error('the call succeeded, a refusal was expected');
  return outcome;
}

describe('Invoke', () => {
  it('runs a version, $LATEST (the newest version) and the alias, with the ARN and client context handed on', async () => {
    const { lambda } = await setup();
    const one = await lambda.send(
      new InvokeCommand({ FunctionName: 'orders', Qualifier: '1', Payload: payload({ order: 7 }) }),
    );
    expect(one.StatusCode).toBe(200);
    expect(one.ExecutedVersion).toBe('1');
    expect(one.FunctionError).toBeUndefined();
    expect(json(one)).toMatchObject({
      event: { order: 7 },
      version: '1',
      invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:orders:1',
    });
    // The answer's request id is the one the function ran under (and its log lines name).
    expect(one.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(json(one)['awsRequestId']).toBe(one.$metadata.requestId);

    const latest = await lambda.send(new InvokeCommand({ FunctionName: 'orders', Payload: payload({}) }));
    expect(latest.ExecutedVersion).toBe('$LATEST');
    expect(json(latest)).toMatchObject({
      version: '2',
      invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:orders',
    });
    const named = await lambda.send(new InvokeCommand({ FunctionName: 'orders:$LATEST' }));
    expect(named.ExecutedVersion).toBe('$LATEST');
    expect(json(named)).toMatchObject({ event: {}, version: '2' });

    const context = Buffer.from(JSON.stringify({ custom: { tenant: 'acme' } })).toString('base64');
    const alias = await lambda.send(
      new InvokeCommand({ FunctionName: 'orders', Qualifier: 'live', Payload: payload(1), ClientContext: context }),
    );
    expect(alias.ExecutedVersion).toBe('1');
    expect(json(alias)).toMatchObject({ invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:orders:live' });
    expect(JSON.stringify(json(alias)['clientContext'])).toContain('acme');
    const byArn = await lambda.send(
      new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:orders:2' }),
    );
    expect(byArn.ExecutedVersion).toBe('2');
  });

  it('splits alias invocations exactly by the alias weights, following them as they change', async () => {
    const { api, lambda } = await setup();
    const counts = async (n: number) => {
      const seen: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const out = await lambda.send(new InvokeCommand({ FunctionName: 'orders:live' }));
        seen[out.ExecutedVersion!] = (seen[out.ExecutedVersion!] ?? 0) + 1;
      }
      return seen;
    };
    api.traffic.setWeights('orders', { '1': 75, '2': 25 });
    expect(await counts(8)).toEqual({ '1': 6, '2': 2 });
    api.traffic.setWeights('orders', { '1': 90, '2': 10 });
    expect(await counts(20)).toEqual({ '1': 18, '2': 2 });
  });

  it('returns the last 4 KB of the invocation’s log with LogType Tail', async () => {
    const { lambda } = await setup();
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'chatty', LogType: 'Tail' }));
    expect(text(out.Payload)).toBe('null');
    const tail = Buffer.from(out.LogResult!, 'base64');
    expect(tail.length).toBeGreaterThan(3_000);
    expect(tail.length).toBeLessThanOrEqual(4_096);
    const log = tail.toString('utf8');
    expect(log).toContain('line 199');
    expect(log).not.toContain('line 0 ');
    expect(log).toMatch(/REPORT RequestId: \S+\tDuration: /);
    const without = await lambda.send(new InvokeCommand({ FunctionName: 'chatty' }));
    expect(without.LogResult).toBeUndefined();
  });

  it('answers a function error and a timeout with 200, FunctionError Unhandled and the error document', async () => {
    const { lambda } = await setup();
    const failed = await lambda.send(new InvokeCommand({ FunctionName: 'broken', LogType: 'Tail' }));
    expect(failed.StatusCode).toBe(200);
    expect(failed.FunctionError).toBe('Unhandled');
    expect(failed.ExecutedVersion).toBe('$LATEST');
    expect(json(failed)).toMatchObject({ errorType: 'RangeError', errorMessage: 'out of range on purpose' });
    expect(Buffer.from(failed.LogResult!, 'base64').toString('utf8')).toContain('about to fail');

    const slow = await lambda.send(new InvokeCommand({ FunctionName: 'slow', Payload: payload({ ms: 3_000 }) }));
    expect(slow.FunctionError).toBe('Unhandled');
    expect(json(slow)).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect(String(json(slow)['errorMessage'])).toContain('Task timed out after 1');
  });

  it('throttles beyond the version’s concurrency with TooManyRequestsException', async () => {
    const { api, lambda } = await setup();
    const first = lambda.send(new InvokeCommand({ FunctionName: 'slow', Payload: payload({ ms: 600 }) }));
    await until(() => api.logged().some((l) => l.startsWith('START')), Boolean, 10_000, 10, 'first invocation running');
    const err = await refusal(lambda.send(new InvokeCommand({ FunctionName: 'slow', Payload: payload({ ms: 0 }) })));
    expect(err).toBeInstanceOf(TooManyRequestsException);
    expect(err.$metadata.httpStatusCode).toBe(429);
    expect(err instanceof TooManyRequestsException && err.Reason).toBe(
      'ReservedFunctionConcurrentInvocationLimitExceeded',
    );
    expect(json(await first)).toEqual({ slept: 600 });
    // Free again: the next one runs.
    expect(
      (await lambda.send(new InvokeCommand({ FunctionName: 'slow', Payload: payload({ ms: 0 }) }))).StatusCode,
    ).toBe(200);
  });

  it('runs Event invocations in the background, queueing those beyond concurrency rather than losing them', async () => {
    const { lambda } = await setup();
    const file = join(dir.path(), 'events.txt');
    const sent = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        lambda.send(
          new InvokeCommand({
            FunctionName: 'recorder',
            InvocationType: 'Event',
            Payload: payload({ file, line: `e${i}` }),
          }),
        ),
      ),
    );
    for (const out of sent) {
      expect(out.StatusCode).toBe(202);
      expect(out.ExecutedVersion).toBe('$LATEST');
      expect(text(out.Payload)).toBe('');
    }
    const lines = await until(
      () => readFile(file, 'utf8').catch(() => ''),
      (t) => t.split('\n').filter(Boolean).length === 5,
      15_000,
      20,
      'five recorded events',
    );
    expect(lines.split('\n').filter(Boolean).sort()).toEqual(['e0 1', 'e1 1', 'e2 1', 'e3 1', 'e4 1']);
  });

  it('validates a DryRun and answers 204 without running anything', async () => {
    const { lambda } = await setup();
    const file = join(dir.path(), 'dry.txt');
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'recorder',
        InvocationType: 'DryRun',
        Payload: payload({ file, line: 'dry' }),
      }),
    );
    expect(out.StatusCode).toBe(204);
    expect(out.ExecutedVersion).toBe('$LATEST');
    const aliasDry = await lambda.send(new InvokeCommand({ FunctionName: 'orders:live', InvocationType: 'DryRun' }));
    expect(aliasDry.ExecutedVersion).toBe('1');
    await lambda.send(new InvokeCommand({ FunctionName: 'recorder', Payload: payload({ file, line: 'real' }) }));
    expect(await readFile(file, 'utf8')).toBe('real 1\n');
    const missing = await refusal(lambda.send(new InvokeCommand({ FunctionName: 'nope', InvocationType: 'DryRun' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses as Lambda does: unknown function, version or HTTP-only service, bad JSON, a qualifier mismatch, a payload over 6 MB', async () => {
    const { lambda } = await setup();
    const unknown = await refusal(lambda.send(new InvokeCommand({ FunctionName: 'nope' })));
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
    expect(unknown.$metadata.httpStatusCode).toBe(404);
    expect(unknown.message).toBe('Function not found: arn:aws:lambda:local:000000000000:function:nope');
    const version = await refusal(lambda.send(new InvokeCommand({ FunctionName: 'orders', Qualifier: '9' })));
    expect(version).toBeInstanceOf(ResourceNotFoundException);
    expect(version.message).toBe('Function not found: arn:aws:lambda:local:000000000000:function:orders:9');
    expect(await refusal(lambda.send(new InvokeCommand({ FunctionName: 'web' })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
    const bad = await refusal(
      lambda.send(new InvokeCommand({ FunctionName: 'orders', Payload: Buffer.from('{oops') })),
    );
    expect(bad).toBeInstanceOf(InvalidRequestContentException);
    expect(bad.$metadata.httpStatusCode).toBe(400);
    expect(bad.message).toMatch(/^Could not parse request body into json/);
    const mismatch = await refusal(lambda.send(new InvokeCommand({ FunctionName: 'orders:1', Qualifier: '2' })));
    expect(mismatch).toBeInstanceOf(InvalidParameterValueException);
    const big = Buffer.from(`"${'x'.repeat(6_400_000)}"`);
    const tooLarge = await refusal(lambda.send(new InvokeCommand({ FunctionName: 'orders', Payload: big })));
    expect(tooLarge).toBeInstanceOf(RequestTooLargeException);
    expect(tooLarge.$metadata.httpStatusCode).toBe(413);
  });

  it('answers a pick of an HTTP version weighted in the alias with ResourceConflictException, naming the version', async () => {
    const { api, lambda } = await setup();
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'mixed', Name: 'live' }));
    expect(alias.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.5 });
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await request(`${api.url}/2015-03-31/functions/mixed/invocations?Qualifier=live`, {
        method: 'POST',
        body: '{}',
      });
      statuses.push(`${res.statusCode} ${String(res.headers['x-amz-executed-version'])}`);
      if (res.statusCode === 409) {
        expect(res.headers['x-amzn-errortype']).toBe('ResourceConflictException');
        expect(((await res.body.json()) as { message: string }).message).toContain('Version 2 of mixed');
      } else await res.body.dump();
    }
    expect(statuses.sort()).toEqual(['200 1', '200 1', '409 2', '409 2']);
    // Named directly, an HTTP version is no function version at all.
    expect(await refusal(lambda.send(new InvokeCommand({ FunctionName: 'mixed:2' })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('says which version ran on every answer, a throttled one too (raw HTTP)', async () => {
    const { api } = await setup();
    const invokeRaw = (qualifier: string, body: string) =>
      request(`${api.url}/2015-03-31/functions/slow/invocations?Qualifier=${qualifier}`, { method: 'POST', body });
    const first = invokeRaw('1', '{"ms":500}');
    await until(() => api.logged().some((l) => l.startsWith('START')), Boolean, 10_000, 10, 'first invocation running');
    const throttled = await invokeRaw('1', '{"ms":0}');
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['x-amz-executed-version']).toBe('1');
    expect(throttled.headers['x-amzn-errortype']).toBe('TooManyRequestsException');
    expect(await throttled.body.json()).toMatchObject({
      Type: 'User',
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    });
    const ok = await first;
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-amz-executed-version']).toBe('1');
    expect(ok.headers['x-amzn-requestid']).toBeTruthy();
    await ok.body.dump();
  });
});

describe('functions, versions and the alias', () => {
  it('GetFunction and GetFunctionConfiguration describe a version as the config declares it', async () => {
    const { lambda } = await setup();
    const latest = await lambda.send(new GetFunctionCommand({ FunctionName: 'orders' }));
    expect(latest.Configuration).toMatchObject({
      FunctionName: 'orders',
      FunctionArn: 'arn:aws:lambda:local:000000000000:function:orders',
      Runtime: 'nodejs20.x',
      Handler: 'index.echo',
      Timeout: 5,
      MemorySize: 256,
      Version: '$LATEST',
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
    });
    expect(latest.Code?.Location).toMatch(/^file:\/\/.*fixtures\/functions\/api$/);
    const one = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders', Qualifier: '1' }));
    expect(one).toMatchObject({
      Version: '1',
      FunctionArn: 'arn:aws:lambda:local:000000000000:function:orders:1',
      Timeout: 3,
      MemorySize: 128,
      Environment: { Variables: { STAGE: 'one' } },
    });
    const viaAlias = await lambda.send(new GetFunctionCommand({ FunctionName: 'orders:live' }));
    expect(viaAlias.Configuration?.Version).toBe('1');
    const shell = await lambda.send(new GetFunctionCommand({ FunctionName: 'shell' }));
    expect(shell.Configuration?.Runtime).toBe('provided.al2023');
    expect(await refusal(lambda.send(new GetFunctionCommand({ FunctionName: 'web' })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('ListVersionsByFunction lists $LATEST then each version, page by page; ListFunctions lists the functions', async () => {
    const { lambda } = await setup();
    const all = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'orders' }));
    expect(all.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);
    expect(all.NextMarker).toBeUndefined();
    const first = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'orders', MaxItems: 2 }));
    expect(first.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1']);
    const second = await lambda.send(
      new ListVersionsByFunctionCommand({ FunctionName: 'orders', MaxItems: 2, Marker: first.NextMarker }),
    );
    expect(second.Versions?.map((v) => v.Version)).toEqual(['2']);
    expect(second.NextMarker).toBeUndefined();
    const functions = await lambda.send(new ListFunctionsCommand({}));
    expect(functions.Functions?.map((f) => f.FunctionName)).toEqual([
      'orders',
      'broken',
      'slow',
      'chatty',
      'recorder',
      'shell',
      'mixed',
    ]);
  });

  it('GetAlias and ListAliases show the service’s production split as the alias', async () => {
    const { api, lambda } = await setup();
    const plain = await lambda.send(new GetAliasCommand({ FunctionName: 'orders', Name: 'live' }));
    expect(plain).toMatchObject({
      AliasArn: 'arn:aws:lambda:local:000000000000:function:orders:live',
      Name: 'live',
      FunctionVersion: '1',
    });
    expect(plain.RoutingConfig).toBeUndefined();
    api.traffic.setWeights('orders', { '1': 90, '2': 10 });
    const split = await lambda.send(new GetAliasCommand({ FunctionName: 'orders', Name: 'live' }));
    expect(split.FunctionVersion).toBe('1');
    expect(split.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.1 });
    expect(split.RevisionId).not.toBe(plain.RevisionId);
    const listed = await lambda.send(new ListAliasesCommand({ FunctionName: 'orders' }));
    expect(listed.Aliases).toEqual([expect.objectContaining({ Name: 'live', FunctionVersion: '1' })]);
    const other = await refusal(lambda.send(new GetAliasCommand({ FunctionName: 'orders', Name: 'prod' })));
    expect(other).toBeInstanceOf(ResourceNotFoundException);
    expect(other.message).toBe('Alias not found: arn:aws:lambda:local:000000000000:function:orders:prod');
  });

  it('UpdateAlias moves the split, by Lambda’s rules', async () => {
    const { api, lambda } = await setup();
    const before = await lambda.send(new GetAliasCommand({ FunctionName: 'orders', Name: 'live' }));
    const canary = await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'orders',
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
        RevisionId: before.RevisionId,
        Description: 'a quarter on 2',
      }),
    );
    expect(canary).toMatchObject({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
    expect(canary.Description).toBe('a quarter on 2');
    expect(api.traffic.service('orders').weights.production).toEqual({ '1': 75, '2': 25 });

    const refuse = (input: Record<string, unknown>) =>
      refusal(lambda.send(new UpdateAliasCommand({ FunctionName: 'orders', Name: 'live', ...input })));
    const stale = await refuse({ FunctionVersion: '1', RevisionId: before.RevisionId });
    expect(stale).toBeInstanceOf(PreconditionFailedException);
    expect(stale.$metadata.httpStatusCode).toBe(412);
    const two = await refuse({ RoutingConfig: { AdditionalVersionWeights: { '2': 0.1, '1': 0.1 } } });
    expect(two).toBeInstanceOf(InvalidParameterValueException);
    expect(await refuse({ RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } })).toBeInstanceOf(
      InvalidParameterValueException,
    );
    expect(await refuse({ RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } })).toBeInstanceOf(
      InvalidParameterValueException,
    );
    expect(await refuse({ FunctionVersion: '9' })).toBeInstanceOf(ResourceNotFoundException);
    expect(
      await refusal(
        lambda.send(new UpdateAliasCommand({ FunctionName: 'orders', Name: 'prod', FunctionVersion: '2' })),
      ),
    ).toBeInstanceOf(ResourceNotFoundException);
    // Refusals changed nothing.
    expect(api.traffic.service('orders').weights.production).toEqual({ '1': 75, '2': 25 });

    const promoted = await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'orders',
        Name: 'live',
        FunctionVersion: '2',
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
    expect(promoted.FunctionVersion).toBe('2');
    expect(promoted.RoutingConfig).toBeUndefined();
    expect(api.traffic.service('orders')).toMatchObject({ live: '2', weights: { production: { '2': 100 } } });
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'orders', Qualifier: 'live' }));
    expect(out.ExecutedVersion).toBe('2');
  });
});

describe('SigV4 with control.auth', () => {
  it('takes calls signed with the configured key and refuses a wrong secret with the SDK’s error', async () => {
    const auth = {
      token: 'bearer-token-0123456789',
      accessKeyId: 'AKIDLOCAL',
      secretAccessKey: 'right-secret',
      publicMetrics: false,
    };
    const api = await startLambdaApi({ services: SERVICES }, { auth });
    const good = lambdaClient(api.url, { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'right-secret' });
    expect((await good.send(new GetAliasCommand({ FunctionName: 'orders', Name: 'live' }))).FunctionVersion).toBe('1');
    const out = await good.send(new InvokeCommand({ FunctionName: 'orders:$LATEST', Payload: payload({ a: 1 }) }));
    expect(out.ExecutedVersion).toBe('$LATEST');
    const bad = lambdaClient(api.url, { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'wrong-secret' });
    const err = await refusal(bad.send(new InvokeCommand({ FunctionName: 'orders' })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.$metadata.httpStatusCode).toBe(403);
    // The bearer token is no way around the signature.
    const raw = await request(`${api.url}/2015-03-31/functions/orders/aliases/live`, {
      headers: { authorization: `Bearer ${auth.token}` },
    });
    expect(raw.statusCode).toBe(403);
    expect(raw.headers['x-amzn-errortype']).toBe('UnrecognizedClientException');
    await raw.body.dump();
  });
});
