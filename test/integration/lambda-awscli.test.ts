/**
 * Lambda's API driven by the real awscli v2 (`aws lambda …`) in child processes against switchyard's
 * control port: `invoke` of a version, the alias and `$LATEST` with `--payload` and the outfile, the log
 * tail, a function error as awscli prints it, `get-alias` and `update-alias` with the shorthand routing
 * config (`AdditionalVersionWeights={2=0.1}`), `list-versions-by-function`, and an unknown function (exit 254 with Lambda's exception).
 *
 * Needs an awscli v2 binary (test/support/awscli.ts); without one the suite is skipped, except under CI,
 * which installs awscli (.ci/run) and so fails here instead. awscli starts in about a second, so calls are
 * kept few.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { AWS, type AwsRun, MISSING, skipWithoutAws } from '../support/awscli.js';
import { apiHandler, type LambdaApiServer, startLambdaApi } from '../support/functions-api.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const home = tempDir('switchyard-lambda-awscli-');

/** Runs `aws lambda <args>` against `endpoint`, isolated from the user's own setup (as awsDeploy does). */
async function awsLambda(endpoint: string, args: readonly string[]): Promise<AwsRun> {
  if (AWS === undefined) throw new Error(`CI is set but ${MISSING}`);
  const env = {
    PATH: process.env['PATH'],
    HOME: home.path(),
    LANG: 'C.UTF-8',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_CONFIG_FILE: join(home.path(), 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home.path(), 'no-credentials'),
    AWS_MAX_ATTEMPTS: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const argv = ['lambda', ...args, '--endpoint-url', endpoint, '--output', 'json'];
  try {
    const { stdout, stderr } = await run(AWS, argv, { env, timeout: 30_000, cwd: home.path() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function service(name: string, versions: Record<string, Record<string, unknown>>) {
  return {
    name,
    match: { pathPrefix: `/${name}` },
    versions: Object.fromEntries(Object.entries(versions).map(([label, lambda]) => [label, { lambda }])),
    live: Object.keys(versions)[0],
  };
}

async function setup(): Promise<{
  api: LambdaApiServer;
  aws: (...args: string[]) => Promise<Record<string, unknown>>;
}> {
  const api = await startLambdaApi({
    services: [
      service('orders', { '1': { handler: apiHandler('echo') }, '2': { handler: apiHandler('echo') } }),
      service('broken', { '1': { handler: apiHandler('fail') } }),
    ],
  });
  const aws = async (...args: string[]) => {
    const result = await awsLambda(api.url, args);
    if (result.code !== 0) throw new Error(`aws lambda ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
    return result.stdout.trim() === '' ? {} : (JSON.parse(result.stdout) as Record<string, unknown>);
  };
  return { api, aws };
}

// Each awscli call takes about a second, more in a loaded full run: room beyond the default 20 s.
describe.skipIf(skipWithoutAws('lambda-awscli.test.ts'))(
  'aws lambda (awscli v2) against switchyard',
  { timeout: 90_000 },
  () => {
    it('invokes a version, the alias and $LATEST, writing the payload to the outfile, with the log tail', async () => {
      const { aws } = await setup();
      const out = join(home.path(), 'out.json');
      const raw = ['--cli-binary-format', 'raw-in-base64-out'];
      const one = await aws(
        'invoke',
        '--function-name',
        'orders',
        '--qualifier',
        '1',
        ...raw,
        '--payload',
        '{"n":1}',
        out,
      );
      expect(one).toMatchObject({ StatusCode: 200, ExecutedVersion: '1' });
      expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ event: { n: 1 }, version: '1' });

      const alias = await aws(
        'invoke',
        '--function-name',
        'orders:live',
        ...raw,
        '--payload',
        '{}',
        '--log-type',
        'Tail',
        out,
      );
      expect(alias).toMatchObject({ StatusCode: 200, ExecutedVersion: '1' });
      expect(Buffer.from(String(alias['LogResult']), 'base64').toString('utf8')).toContain('echo from version 1');

      const latest = await aws('invoke', '--function-name', 'orders', out);
      expect(latest).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
      expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ event: {}, version: '2' });

      const failed = await aws('invoke', '--function-name', 'broken', out);
      expect(failed).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled', ExecutedVersion: '$LATEST' });
      expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ errorType: 'RangeError' });
    });

    it('gets and updates the alias (the production split), lists versions, and prints Lambda’s errors', async () => {
      const { api, aws } = await setup();
      expect(await aws('get-alias', '--function-name', 'orders', '--name', 'live')).toMatchObject({
        Name: 'live',
        FunctionVersion: '1',
        AliasArn: 'arn:aws:lambda:local:000000000000:function:orders:live',
      });
      const updated = await aws(
        'update-alias',
        '--function-name',
        'orders',
        '--name',
        'live',
        '--routing-config',
        'AdditionalVersionWeights={2=0.1}',
      );
      expect(updated).toMatchObject({
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } },
      });
      expect(api.traffic.service('orders').weights.production).toEqual({ '1': 90, '2': 10 });
      const versions = await aws('list-versions-by-function', '--function-name', 'orders');
      expect((versions['Versions'] as { Version: string }[]).map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);

      const missing = await awsLambda(api.url, ['get-alias', '--function-name', 'nope', '--name', 'live']);
      expect(missing.code).toBe(254);
      expect(missing.stderr).toMatch(
        /\(ResourceNotFoundException\) when calling the GetAlias operation.*: Function not found: arn:aws:lambda:local:000000000000:function:nope/,
      );
      const tooMany = await awsLambda(api.url, [
        'update-alias',
        '--function-name',
        'orders',
        '--name',
        'live',
        '--routing-config',
        '{"AdditionalVersionWeights":{"2":1.5}}',
      ]);
      expect(tooMany.code).toBe(254);
      expect(tooMany.stderr).toContain('(InvalidParameterValueException) when calling the UpdateAlias operation');
    });
  },
);
