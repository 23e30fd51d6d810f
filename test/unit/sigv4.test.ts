/**
 * SigV4 verification and signing against AWS's documented example and against requests signed by the
 * AWS SDK's own signer (@smithy/signature-v4, which @aws-sdk/client-codedeploy uses), then every way a
 * request is refused, with the exception AWS names it by. Requests on real sockets, with unusual paths,
 * queries and headers, are in test/integration/sigv4.test.ts.
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';

import { amzDateOf, type SignableRequest, signSigV4, verifySigV4 } from '../../src/core/sigv4.js';

const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = Date.UTC(2026, 10, 22, 12, 36, 0);
const HOST = '127.0.0.1:9900';

/** A request as node's http server hands it over: header names as sent, the raw path and query. */
async function signedBySdk(
  body: string,
  options: { path?: string; query?: Record<string, string>; at?: number; key?: typeof KEY; service?: string } = {},
): Promise<SignableRequest> {
  const signer = new SignatureV4({
    credentials: options.key ?? KEY,
    region: 'eu-west-3',
    service: options.service ?? 'codedeploy',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 9900,
      path: options.path ?? '/',
      query: options.query ?? {},
      headers: {
        host: HOST,
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'CodeDeploy_20141006.ListApplications',
        'x-amz-user-agent': 'aws-sdk-js/3  os/linux',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'not signed',
      },
      body,
    },
    { signingDate: new Date(options.at ?? NOW) },
  );
  // As the SDK's HTTP handler writes the query: %20 for a space, never `+`.
  const search = Object.entries(options.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return {
    method: 'POST',
    url: `${signed.path}${search ? `?${search}` : ''}`,
    rawHeaders: Object.entries(signed.headers).flat(),
    body: Buffer.from(body),
  };
}

const verify = (req: SignableRequest, nowMs = NOW) => verifySigV4(req, { key: KEY, service: 'codedeploy', nowMs });

/** The value of header `name` (any case) in `req`, the first one when repeated. */
function headerOf(req: SignableRequest, name: string): string {
  const i = req.rawHeaders.findIndex((v, j) => j % 2 === 0 && v.toLowerCase() === name);
  return req.rawHeaders[i + 1] ?? '';
}

/** `req` with header `name` (any case) replaced by `values`, none to drop it. */
function withHeader(req: SignableRequest, name: string, ...values: string[]): SignableRequest {
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() !== name) raw.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  return { ...req, rawHeaders: [...raw, ...values.flatMap((v) => [name, v])] };
}

describe('SigV4 computation', () => {
  it("verifies AWS's documented example (IAM ListUsers, 2015-08-30)", async () => {
    const req: SignableRequest = {
      method: 'GET',
      url: '/?Action=ListUsers&Version=2010-05-08',
      rawHeaders: [
        'Content-Type',
        'application/x-www-form-urlencoded; charset=utf-8',
        'Host',
        'iam.amazonaws.com',
        'X-Amz-Date',
        '20150830T123600Z',
        'Authorization',
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
          'SignedHeaders=content-type;host;x-amz-date, ' +
          'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
      ],
      body: new Uint8Array(),
    };
    const at = Date.UTC(2015, 7, 30, 12, 36, 0);
    expect(await verifySigV4(req, { key: KEY, service: 'iam', nowMs: at })).toEqual({
      ok: true,
      accessKeyId: 'AKIDEXAMPLE',
    });
    const other = { ...req, url: '/?Action=ListUsers&Version=2010-05-09' };
    expect(await verifySigV4(other, { key: KEY, service: 'iam', nowMs: at })).toMatchObject({
      exception: 'InvalidSignatureException',
    });
  });

  it('verifies what the SDK signed, in any region, with extra unsigned headers', async () => {
    const req = await signedBySdk('{"nextToken":"a b"}');
    expect(await verify(req)).toEqual({ ok: true, accessKeyId: KEY.accessKeyId });
    expect(await verify({ ...req, rawHeaders: [...req.rawHeaders, 'X-Forwarded-For', '10.0.0.1'] })).toMatchObject({
      ok: true,
    });
  });

  it('verifies an encoded path and a query the SDK signed', async () => {
    const req = await signedBySdk('{}', { path: '/a%20b/c', query: { z: '1', a: 'x y', 'b*': "it's" } });
    expect(await verify(req)).toMatchObject({ ok: true });
  });

  it('signs so that its own verifier and the SDK signer agree', async () => {
    const body = '{"applicationName":"web"}';
    const headers = {
      host: HOST,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'CodeDeploy_20141006.GetApplication',
    };
    const base: SignableRequest = {
      method: 'POST',
      url: '/',
      rawHeaders: Object.entries(headers).flat(),
      body: Buffer.from(body),
    };
    const added = await signSigV4(base, { key: KEY, region: 'us-east-1', service: 'codedeploy', nowMs: NOW });
    expect(added['x-amz-date']).toBe(amzDateOf(NOW));
    expect(added['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261122\/us-east-1\/codedeploy\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    expect(await verify({ ...base, rawHeaders: [...base.rawHeaders, ...Object.entries(added).flat()] })).toMatchObject({
      ok: true,
    });
    // The SDK's signer, given the same headers and time, computes the same signature.
    const sdk = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: 'codedeploy', sha256: Sha256 });
    const bySdk = await sdk.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9900,
        path: '/',
        query: {},
        headers: { ...headers, 'x-amz-content-sha256': added['x-amz-content-sha256']! },
        body,
      },
      { signingDate: new Date(NOW) },
    );
    expect(bySdk.headers['authorization']).toBe(added['authorization']);
  });
});

describe('SigV4 refusals', () => {
  it('no Authorization header, or another scheme: UnrecognizedClientException', async () => {
    const req = await signedBySdk('{}');
    for (const values of [[], ['Bearer abcdefabcdefabcdef']]) {
      expect(await verify(withHeader(req, 'authorization', ...values))).toMatchObject({
        ok: false,
        exception: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      });
    }
  });

  it('an unknown access key id: UnrecognizedClientException', async () => {
    const req = await signedBySdk('{}', { key: { ...KEY, accessKeyId: 'AKIDOTHER' } });
    expect(await verify(req)).toMatchObject({
      ok: false,
      exception: 'UnrecognizedClientException',
      reason: 'unknown access key id',
    });
  });

  it('a wrong secret: InvalidSignatureException', async () => {
    const req = await signedBySdk('{}', { key: { ...KEY, secretAccessKey: 'not-the-secret-at-all' } });
    const verdict = await verify(req);
    expect(verdict).toMatchObject({ ok: false, exception: 'InvalidSignatureException', reason: 'signature mismatch' });
    expect(!verdict.ok && verdict.message).toMatch(
      /^The request signature we calculated does not match the signature you provided/,
    );
  });

  it('a body, a signed header, the path or the query changed after signing: InvalidSignatureException', async () => {
    const req = await signedBySdk('{"applicationName":"web"}', { query: { a: '1' } });
    expect(await verify(req)).toMatchObject({ ok: true });
    for (const changed of [
      { ...req, body: Buffer.from('{"applicationName":"wed"}') },
      withHeader(req, 'x-amz-target', 'CodeDeploy_20141006.DeleteApplication'),
      { ...req, url: req.url.replace('a=1', 'a=2') },
      { ...req, url: req.url.replace('/?', '/x?') },
    ]) {
      expect(await verify(changed)).toMatchObject({ exception: 'InvalidSignatureException' });
    }
  });

  it('a signed header that is not there: InvalidSignatureException', async () => {
    const req = await signedBySdk('{}');
    expect(await verify(withHeader(req, 'x-amz-user-agent'))).toMatchObject({
      exception: 'InvalidSignatureException',
      reason: 'signed header x-amz-user-agent absent',
    });
  });

  it('an x-amz-content-sha256 that is not the body’s hash is refused even when signed', async () => {
    const body = '{"applicationName":"web"}';
    const base: SignableRequest = { method: 'POST', url: '/', rawHeaders: ['Host', HOST], body: Buffer.from(body) };
    const added = await signSigV4(base, { key: KEY, region: 'us-east-1', service: 'codedeploy', nowMs: NOW });
    const swapped = {
      ...base,
      rawHeaders: [...base.rawHeaders, ...Object.entries(added).flat()],
      body: Buffer.from('{"applicationName":"wed"}'),
    };
    expect(await verify(swapped)).toMatchObject({
      exception: 'InvalidSignatureException',
      reason: 'x-amz-content-sha256 differs from the body',
    });
  });

  it('X-Amz-Date more than 15 minutes from now, either way: InvalidSignatureException', async () => {
    const req = await signedBySdk('{}');
    expect(await verify(req, NOW + 14 * 60_000)).toMatchObject({ ok: true });
    expect(await verify(req, NOW - 14 * 60_000)).toMatchObject({ ok: true });
    const late = await verify(req, NOW + 16 * 60_000);
    expect(late).toMatchObject({ exception: 'InvalidSignatureException', reason: 'signature expired' });
    expect(!late.ok && late.message).toMatch(
      /^Signature expired: 20261122T123600Z is now earlier than 20261122T123700Z/,
    );
    expect(await verify(req, NOW - 16 * 60_000)).toMatchObject({
      exception: 'InvalidSignatureException',
      reason: 'signature not yet current',
    });
  });

  it('a scope for another service or another day: InvalidSignatureException', async () => {
    expect(await verify(await signedBySdk('{}', { service: 'iam' }))).toMatchObject({
      exception: 'InvalidSignatureException',
    });
    const req = await signedBySdk('{}');
    const otherDay = headerOf(req, 'authorization').replace('/20261122/', '/20261121/');
    expect(await verify(withHeader(req, 'authorization', otherDay))).toMatchObject({
      exception: 'InvalidSignatureException',
    });
  });

  it('a malformed header, or one that does not sign host and X-Amz-Date: IncompleteSignatureException', async () => {
    const req = await signedBySdk('{}');
    const auth = headerOf(req, 'authorization');
    for (const bad of [
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/codedeploy/aws4_request',
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/us-east-1/codedeploy, SignedHeaders=host, Signature=00',
      auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=x-amz-date'),
      auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=host'),
      // Signed over everything but the operation: X-Amz-Target could then be swapped.
      auth.replace(/;x-amz-target/, ''),
    ]) {
      expect(await verify(withHeader(req, 'authorization', bad))).toMatchObject({
        ok: false,
        exception: 'IncompleteSignatureException',
      });
    }
  });

  it('a repeated Authorization, X-Amz-Date or x-amz-content-sha256, or an impossible date: IncompleteSignatureException', async () => {
    const req = await signedBySdk('{}');
    for (const name of ['authorization', 'x-amz-date', 'x-amz-content-sha256']) {
      const value = headerOf(req, name);
      expect(await verify(withHeader(req, name, value, value))).toMatchObject({
        exception: 'IncompleteSignatureException',
        reason: `repeated ${name}`,
      });
    }
    // Month 13 would roll over into January of the next year.
    expect(await verify(withHeader(req, 'x-amz-date', '20261322T123600Z'))).toMatchObject({
      exception: 'IncompleteSignatureException',
      reason: 'malformed X-Amz-Date',
    });
  });
});
