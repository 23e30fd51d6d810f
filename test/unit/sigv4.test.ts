/**
 * SigV4 verification and signing against AWS's documented example and against requests signed by the
 * AWS SDK's own signer (@smithy/signature-v4, which @aws-sdk/client-codedeploy uses), then every way a
 * request is refused, with the exception AWS names it by.
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';

import {
  amzDateOf,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  sha256Hex,
  type SignableRequest,
  signatureOf,
  signingKey,
  signSigV4,
  verifySigV4,
} from '../../src/core/sigv4.js';

const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = Date.UTC(2026, 10, 22, 12, 36, 0);
const HOST = '127.0.0.1:9900';

/** A request as node's http server hands it over: lower-case header names, the raw path and query. */
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
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CodeDeploy_20141006.ListApplications',
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
    headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])),
    body: Buffer.from(body),
  };
}

const verify = (req: SignableRequest, nowMs = NOW) => verifySigV4(req, { key: KEY, service: 'codedeploy', nowMs });

function withHeader(req: SignableRequest, name: string, value: string | undefined): SignableRequest {
  return { ...req, headers: { ...req.headers, [name]: value } };
}

describe('SigV4 computation', () => {
  it("matches AWS's documented example (IAM ListUsers, 2015-08-30)", () => {
    const req: SignableRequest = {
      method: 'GET',
      url: '/?Action=ListUsers&Version=2010-05-08',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        host: 'iam.amazonaws.com',
        'x-amz-date': '20150830T123600Z',
      },
      body: new Uint8Array(),
    };
    const signed = ['content-type', 'host', 'x-amz-date'];
    expect(sha256Hex(canonicalRequest(req, signed, sha256Hex('')))).toBe(
      'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    );
    expect(signingKey(KEY.secretAccessKey, '20150830', 'us-east-1', 'iam').toString('hex')).toBe(
      'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
    );
    expect(
      signatureOf(
        req,
        { amzDate: '20150830T123600Z', region: 'us-east-1', service: 'iam' },
        signed,
        sha256Hex(''),
        KEY.secretAccessKey,
      ),
    ).toBe('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });

  it('canonicalises paths and queries as the SDK does', () => {
    expect(canonicalUri('/')).toBe('/');
    expect(canonicalUri('/a/./b/../c//d/')).toBe('/a/c/d/');
    // The path as sent is encoded once more: %20 becomes %2520.
    expect(canonicalUri('/a%20b/c~d')).toBe('/a%2520b/c~d');
    expect(canonicalQuery('b=2&a=1&a=0&c&X-Amz-Signature=x')).toBe('a=0&a=1&b=2&c=');
    expect(canonicalQuery('k=a%20b&sp=a+b&e=%21')).toBe('e=%21&k=a%20b&sp=a%2Bb');
  });

  it('verifies what the SDK signed, in any region, with extra unsigned headers', async () => {
    const req = await signedBySdk('{"nextToken":"a b"}');
    expect(verify(req)).toEqual({ ok: true, accessKeyId: KEY.accessKeyId });
    expect(verify(withHeader(req, 'x-forwarded-for', '10.0.0.1'))).toMatchObject({ ok: true });
  });

  it('verifies an encoded path and a query the SDK signed', async () => {
    const req = await signedBySdk('{}', { path: '/a%20b/c', query: { z: '1', a: 'x y', 'b*': "it's" } });
    expect(verify(req)).toMatchObject({ ok: true });
  });

  it('signs so that its own verifier and the SDK signer agree', async () => {
    const body = '{"applicationName":"web"}';
    const base: SignableRequest = {
      method: 'POST',
      url: '/',
      headers: {
        host: HOST,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CodeDeploy_20141006.GetApplication',
      },
      body: Buffer.from(body),
    };
    const added = signSigV4(base, { key: KEY, region: 'us-east-1', service: 'codedeploy', nowMs: NOW });
    expect(added['x-amz-date']).toBe(amzDateOf(NOW));
    expect(added['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261122\/us-east-1\/codedeploy\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    expect(verify({ ...base, headers: { ...base.headers, ...added } })).toMatchObject({ ok: true });
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
        headers: { ...base.headers, 'x-amz-content-sha256': added['x-amz-content-sha256']! },
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
    for (const value of [undefined, 'Bearer abcdefabcdefabcdef']) {
      expect(verify(withHeader(req, 'authorization', value))).toMatchObject({
        ok: false,
        exception: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      });
    }
  });

  it('an unknown access key id: UnrecognizedClientException', async () => {
    const req = await signedBySdk('{}', { key: { ...KEY, accessKeyId: 'AKIDOTHER' } });
    expect(verify(req)).toMatchObject({
      ok: false,
      exception: 'UnrecognizedClientException',
      reason: 'unknown access key id',
    });
  });

  it('a wrong secret: InvalidSignatureException', async () => {
    const req = await signedBySdk('{}', { key: { ...KEY, secretAccessKey: 'not-the-secret-at-all' } });
    const verdict = verify(req);
    expect(verdict).toMatchObject({ ok: false, exception: 'InvalidSignatureException', reason: 'signature mismatch' });
    expect(!verdict.ok && verdict.message).toMatch(
      /^The request signature we calculated does not match the signature you provided/,
    );
  });

  it('a body changed after signing, or a signed header changed: InvalidSignatureException', async () => {
    const req = await signedBySdk('{"applicationName":"web"}');
    expect(verify({ ...req, body: Buffer.from('{"applicationName":"wed"}') })).toMatchObject({
      exception: 'InvalidSignatureException',
    });
    expect(verify(withHeader(req, 'x-amz-target', 'CodeDeploy_20141006.DeleteApplication'))).toMatchObject({
      exception: 'InvalidSignatureException',
    });
  });

  it('an x-amz-content-sha256 that is not the body’s hash is refused even when signed', async () => {
    const body = '{"applicationName":"web"}';
    const base: SignableRequest = { method: 'POST', url: '/', headers: { host: HOST }, body: Buffer.from(body) };
    const added = signSigV4(base, { key: KEY, region: 'us-east-1', service: 'codedeploy', nowMs: NOW });
    const swapped = { ...base, headers: { ...base.headers, ...added }, body: Buffer.from('{"applicationName":"wed"}') };
    expect(verify(swapped)).toMatchObject({
      exception: 'InvalidSignatureException',
      reason: 'x-amz-content-sha256 differs from the body',
    });
  });

  it('X-Amz-Date more than 15 minutes from now, either way: InvalidSignatureException', async () => {
    const req = await signedBySdk('{}');
    expect(verify(req, NOW + 14 * 60_000)).toMatchObject({ ok: true });
    expect(verify(req, NOW - 14 * 60_000)).toMatchObject({ ok: true });
    const late = verify(req, NOW + 16 * 60_000);
    expect(late).toMatchObject({ exception: 'InvalidSignatureException', reason: 'signature expired' });
    expect(!late.ok && late.message).toMatch(
      /^Signature expired: 20261122T123600Z is now earlier than 20261122T123700Z/,
    );
    expect(verify(req, NOW - 16 * 60_000)).toMatchObject({
      exception: 'InvalidSignatureException',
      reason: 'signature not yet current',
    });
  });

  it('a scope for another service or another day: InvalidSignatureException', async () => {
    expect(verify(await signedBySdk('{}', { service: 'iam' }))).toMatchObject({
      exception: 'InvalidSignatureException',
    });
    const req = await signedBySdk('{}');
    const otherDay = String(req.headers['authorization']).replace('/20261122/', '/20261121/');
    expect(verify(withHeader(req, 'authorization', otherDay))).toMatchObject({
      exception: 'InvalidSignatureException',
    });
  });

  it('a malformed header, or one that does not sign host and X-Amz-Date: IncompleteSignatureException', async () => {
    const req = await signedBySdk('{}');
    const auth = String(req.headers['authorization']);
    for (const bad of [
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/codedeploy/aws4_request',
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/us-east-1/codedeploy, SignedHeaders=host, Signature=00',
      auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=x-amz-date'),
      auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=host'),
      // Signed over everything but the operation: X-Amz-Target could then be swapped.
      auth.replace(/;x-amz-target/, ''),
    ]) {
      expect(verify(withHeader(req, 'authorization', bad))).toMatchObject({
        ok: false,
        exception: 'IncompleteSignatureException',
      });
    }
  });
});
