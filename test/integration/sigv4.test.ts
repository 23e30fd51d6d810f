/**
 * SigV4 on real sockets. CodeDeploy's `POST /` on a guarded switchyard takes calls signed by the AWS SDK
 * and by awscli, and raw requests signed by AWS's signer (@smithy/signature-v4) however unusually their
 * query and headers are written, as long as they are what was signed; tampered ones are refused with the
 * exception AWS names them by. Unusual paths are checked on a bare node:http server that runs the same
 * verifier, since the control API routes CodeDeploy's protocol at `/` alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  CodeDeployClient,
  CreateApplicationCommand,
  GetApplicationCommand,
  ListApplicationsCommand,
} from '@aws-sdk/client-codedeploy';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { startSwitchyard, type Switchyard } from '../../src/app/start.js';
import { createLogger } from '../../src/core/logger.js';
import { verifySigV4 } from '../../src/core/sigv4.js';
import { awsDeploy, skipWithoutAws } from '../support/awscli.js';
import { exchange } from '../support/raw-exchange.js';
import { configFrom, twoVersions } from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const KEY = { accessKeyId: 'AKIDSWITCHYARDSIGV4', secretAccessKey: 'sigv4-secret-0f1e2d3c4b5a69788796' };
const LIST = 'CodeDeploy_20141006.ListApplications';

/** How a raw request is signed (the signer's view) and then written on the wire. */
interface RawCall {
  /** The path the signer is given (already percent-encoded, as the SDK's serializers produce it). */
  readonly path?: string;
  /** The query the signer is given (decoded values). */
  readonly query?: Record<string, string | string[]>;
  /** The request target as written, when not simply the path and the query encoded as the SDK does. */
  readonly target?: string;
  /** Extra headers the signer signs. */
  readonly signed?: Record<string, string>;
  /** Header lines written instead of a signed header's value (repeats, other spacing), by signed name. */
  readonly wire?: Record<string, readonly [string, string][]>;
  /** Header lines written but not signed. */
  readonly unsigned?: readonly [string, string][];
  /** Headers the signer's defaults would leave out but that are signed anyway (as botocore signs them). */
  readonly alsoSign?: readonly string[];
  readonly body?: string;
  /** A body sent instead of the one signed. */
  readonly sentBody?: string;
  readonly operation?: string;
  readonly at?: number;
  readonly key?: typeof KEY;
}

/** A query as the SDK's HTTP handler writes it: RFC 3986 encoding, keys in order, `%20` for a space. */
function sdkQuery(query: Record<string, string | string[]>): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return Object.entries(query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${enc(k)}=${enc(one)}`))
    .join('&');
}

/** The bytes of a request to `port` signed by AWS's signer as `call` says, written as it says. */
async function rawRequest(port: number, call: RawCall): Promise<Buffer> {
  const host = `127.0.0.1:${port}`;
  const body = call.body ?? '{}';
  const signer = new SignatureV4({
    credentials: call.key ?? KEY,
    region: 'us-west-2',
    service: 'codedeploy',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: call.path ?? '/',
      query: call.query ?? {},
      headers: {
        host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': call.operation ?? LIST,
        ...call.signed,
      },
      body,
    },
    { signingDate: new Date(call.at ?? Date.now()), signableHeaders: new Set(call.alsoSign ?? []) },
  );
  const search = call.query ? sdkQuery(call.query) : '';
  const target = call.target ?? `${call.path ?? '/'}${search ? `?${search}` : ''}`;
  const lines: [string, string][] = [];
  for (const [name, value] of Object.entries(signed.headers)) {
    const replaced = call.wire?.[name.toLowerCase()];
    if (replaced) lines.push(...replaced);
    else lines.push([name, value]);
  }
  const sent = Buffer.from(call.sentBody ?? body);
  lines.push(...(call.unsigned ?? []), ['Content-Length', String(sent.length)], ['Connection', 'close']);
  const head = `POST ${target} HTTP/1.1\r\n${lines.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  // Header values are written as UTF-8, as the signer hashed them.
  return exchange(port, Buffer.concat([Buffer.from(head, 'utf8'), sent]));
}

/** Status and JSON body of a raw response. */
function parsed(response: Buffer): { status: number; body: Record<string, unknown> } {
  const text = response.toString('utf8');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  return { status, body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown> };
}

const portOf = (url: string) => Number(new URL(url).port);

describe('SigV4 on a guarded switchyard', () => {
  let blue: TestUpstream;
  let green: TestUpstream;
  let sy: Switchyard;
  let url: string;

  beforeAll(async () => {
    blue = await startUpstream('blue', undefined, { autoClose: false });
    green = await startUpstream('green', undefined, { autoClose: false });
    const config = configFrom({
      ...twoVersions(blue.url, green.url),
      control: { host: '127.0.0.1', port: 0, auth: KEY },
    });
    sy = await startSwitchyard(config, { log: createLogger({ level: 'silent' }) });
    url = sy.urls['control']!;
  });

  afterAll(async () => {
    await sy.close();
    await Promise.all([blue.close(), green.close()]);
  });

  /** An SDK client that adds `extraHeaders` before signing, and the Authorization headers it sent. */
  function sdk(extraHeaders: Record<string, string>): { cd: CodeDeployClient; sent: string[] } {
    const cd = new CodeDeployClient({ region: 'ap-southeast-2', endpoint: url, credentials: KEY, maxAttempts: 1 });
    const sent: string[] = [];
    const headersOf = (request: unknown) => (request as { headers: Record<string, string> }).headers;
    // Added at build, before the signing step, so the SDK signs them as it signs its own.
    cd.middlewareStack.add(
      (next) => async (args) => {
        Object.assign(headersOf(args.request), extraHeaders);
        return next(args);
      },
      { step: 'build' },
    );
    cd.middlewareStack.add(
      (next) => async (args) => {
        sent.push(headersOf(args.request)['authorization'] ?? '');
        return next(args);
      },
      { step: 'deserialize', priority: 'low' },
    );
    onTestFinished(() => cd.destroy());
    return { cd, sent };
  }

  it('takes calls the AWS SDK signs, with a body and headers out of the ordinary', async () => {
    const { cd, sent } = sdk({ 'X-Custom-MiXeD': '  spaced   out\t\tvalue  ', 'x-empty': '' });
    const tags = [{ Key: 'owner', Value: 'Zoë  Ünïcødé ✓ "quoted"  \t tab' }];
    await cd.send(new CreateApplicationCommand({ applicationName: 'sdk-signed', computePlatform: 'ECS', tags }));
    const got = await cd.send(new GetApplicationCommand({ applicationName: 'sdk-signed' }));
    expect(got.application?.applicationName).toBe('sdk-signed');
    expect((await cd.send(new ListApplicationsCommand({}))).applications).toContain('sdk-signed');
    expect(sent).toHaveLength(3);
    for (const authorization of sent) expect(authorization).toMatch(/SignedHeaders=[^,]*;x-custom-mixed;x-empty,/);
  });

  it('takes raw requests whose query is written in any way that decodes to what was signed', async () => {
    const port = portOf(url);
    const cases: RawCall[] = [
      { query: { b: '2', a: ['2', '1', '1'] } },
      { query: { e: '', f: '' }, target: '/?f&e=' },
      { query: { 'k y/ü': 'v w', 'ç=&': 'x' } },
      { query: { p: 'a+b' } },
      { query: { p: 'a+b' }, target: '/?p=a+b' },
      { query: { r: "a/b?c:d@e!$'()*,;" }, target: "/?r=a/b?c:d@e!$'()*,;" },
      { query: { amp: 'x&y=z#', tilde: '~-._' }, target: '/?tilde=~-._&amp=x%26y%3Dz%23' },
      { query: { lower: 'ü' }, target: '/?lower=%c3%bc' },
      { query: { 'X-Amz-Signature-Like': 'x', constructor: 'y', hasOwnProperty: 'z' } },
    ];
    for (const call of cases) {
      const res = parsed(await rawRequest(port, call));
      expect({ call, res }).toMatchObject({ res: { status: 200, body: { applications: expect.any(Array) } } });
    }
  });

  it('takes raw requests with headers in mixed case, repeated, padded and with inner runs of spaces and tabs', async () => {
    const port = portOf(url);
    const cases: RawCall[] = [
      { signed: { 'X-Custom-MiXeD': 'Value' }, unsigned: [['X-Not-Signed', 'anything']] },
      // A repeated header is signed as its values joined by commas, in the order sent.
      {
        signed: { 'x-rep': 'one,two,three' },
        wire: {
          'x-rep': [
            ['X-Rep', 'one'],
            ['x-REP', 'two'],
            ['X-Rep', 'three'],
          ],
        },
      },
      { signed: { 'x-space': 'a   b\t\t c \t d' } },
      { signed: { 'x-pad': '  padded   value  ' }, wire: { 'x-pad': [['X-Pad', ' \t padded \t  value \t ']] } },
      { signed: { 'x-utf8': 'Zoë ✓', 'x-empty': '' } },
      // Headers AWS's signer leaves out of its own signatures, but that botocore signs.
      { signed: { 'user-agent': 'raw/1.0', 'cache-control': 'no-cache' }, alsoSign: ['user-agent', 'cache-control'] },
    ];
    for (const call of cases) {
      const res = parsed(await rawRequest(port, call));
      expect({ call, res }).toMatchObject({ res: { status: 200, body: { applications: expect.any(Array) } } });
    }
  });

  it('refuses tampered requests with the exception AWS names them by', async () => {
    const port = portOf(url);
    const refusals: [RawCall, string, RegExp][] = [
      [{ body: '{"nextToken":"abc"}', sentBody: '{"nextToken":"abd"}' }, 'InvalidSignatureException', /does not match/],
      [
        { wire: { 'x-amz-target': [['X-Amz-Target', 'CodeDeploy_20141006.ListDeploymentConfigs']] } },
        'InvalidSignatureException',
        /does not match/,
      ],
      [{ query: { a: '1' }, target: '/?a=2' }, 'InvalidSignatureException', /does not match/],
      [
        {
          signed: { 'x-rep': 'one,two' },
          wire: {
            'x-rep': [
              ['X-Rep', 'two'],
              ['X-Rep', 'one'],
            ],
          },
        },
        'InvalidSignatureException',
        /does not match/,
      ],
      [{ at: Date.now() - 20 * 60_000 }, 'InvalidSignatureException', /^Signature expired/],
      [{ at: Date.now() + 20 * 60_000 }, 'InvalidSignatureException', /^Signature not yet current/],
      [
        { key: { ...KEY, secretAccessKey: 'not-the-configured-secret-0123' } },
        'InvalidSignatureException',
        /does not match/,
      ],
      [{ key: { ...KEY, accessKeyId: 'AKIDSOMEBODYELSE' } }, 'UnrecognizedClientException', /security token/],
    ];
    for (const [call, type, message] of refusals) {
      const res = parsed(await rawRequest(port, call));
      expect({ call, res }).toMatchObject({
        res: { status: 400, body: { __type: type, message: expect.stringMatching(message) } },
      });
    }
  });

  it('refuses a request whose X-Amz-Target was not signed with IncompleteSignatureException', async () => {
    // Signed with no X-Amz-Target at all, which is then added: the signature would fit any operation.
    const signer = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: 'codedeploy', sha256: Sha256 });
    const port = portOf(url);
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: '/',
      query: {},
      headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    const head = Object.entries(signed.headers)
      .map(([n, v]) => `${n}: ${v}\r\n`)
      .join('');
    const res = parsed(
      await exchange(
        port,
        `POST / HTTP/1.1\r\n${head}X-Amz-Target: ${LIST}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      ),
    );
    expect(res).toEqual({
      status: 400,
      body: { __type: 'IncompleteSignatureException', message: "The 'X-Amz-Target' header must be signed." },
    });
  });

  describe.skipIf(skipWithoutAws('sigv4.test.ts (awscli part)'))('awscli', { timeout: 60_000 }, () => {
    it('creates an application with tags out of the ordinary, signed by botocore', async () => {
      const home = await mkdtemp(join(tmpdir(), 'switchyard-awscli-sigv4-'));
      onTestFinished(() => rm(home, { recursive: true, force: true }));
      const tags = JSON.stringify([{ Key: 'owner', Value: 'Zoë  Ünïcødé ✓ "quoted"' }]);
      const created = await awsDeploy(
        url,
        home,
        ['create-application', '--application-name', 'awscli-signed', '--compute-platform', 'ECS', '--tags', tags],
        KEY,
      );
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const got = await awsDeploy(url, home, ['get-application', '--application-name', 'awscli-signed'], KEY);
      expect(got.code).toBe(0);
      expect(JSON.parse(got.stdout)).toMatchObject({ application: { applicationName: 'awscli-signed' } });
    });
  });
});

describe('SigV4 paths as received, on a bare node:http server', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void verifySigV4(
          { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) },
          { key: KEY, service: 'codedeploy', nowMs: Date.now() },
        ).then((verdict) => res.end(JSON.stringify(verdict)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const verdictOf = async (call: RawCall) =>
    JSON.parse((await rawRequest(port, call)).toString('utf8').split('\r\n\r\n')[1]!) as {
      ok: boolean;
      reason?: string;
    };

  it('verifies encoded, doubled, dotted and unicode paths exactly as the client signed them', async () => {
    for (const path of [
      '/%2F/a%20b',
      '//a//b/',
      '/a/./b/../c',
      '/a/b/',
      '/..',
      '/./',
      '/%C3%A9t%C3%A9/%E2%9C%93',
      '/a%2520b',
      "/~a-b_c.d/!$&'()*+,;=:@",
      '/%2e%2e/x',
    ]) {
      expect({ path, verdict: await verdictOf({ path }) }).toEqual({
        path,
        verdict: { ok: true, accessKeyId: KEY.accessKeyId },
      });
    }
  });

  it('refuses a path other than the one signed, even one that normalises alike for a file server', async () => {
    for (const [path, target] of [
      ['/a/b', '/a/c'],
      ['/a%20b', '/a+b'],
      ['/%2F', '/%252F'],
    ] as const) {
      expect(await verdictOf({ path, target })).toMatchObject({ ok: false, reason: 'signature mismatch' });
    }
  });
});
