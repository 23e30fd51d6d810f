import { describe, expect, it } from 'vitest';

import { clientResponseHeaders, stripUpgradeHopByHop, upstreamRequestHeaders } from '../../src/proxy/headers.js';

const fwd = { clientAddress: '192.0.2.10', proto: 'http' };

/** Flat [name, value, ...] as pairs, for readable expectations. */
function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function raw(...flat: string[]): Buffer[] {
  return flat.map((s) => Buffer.from(s, 'latin1'));
}

describe('upstreamRequestHeaders', () => {
  it('keeps end-to-end headers in order, with their case, repeated ones included', () => {
    const input = ['Host', 'a.test', 'X-Dup', '1', 'accept', '*/*', 'x-dup', '2', 'Cookie', 'a=1'];
    const out = upstreamRequestHeaders(input, fwd);
    expect(pairs(out).slice(0, 5)).toEqual([
      ['Host', 'a.test'],
      ['X-Dup', '1'],
      ['accept', '*/*'],
      ['x-dup', '2'],
      ['Cookie', 'a=1'],
    ]);
    // The input array is Node's req.rawHeaders and must be left alone.
    expect(input).toHaveLength(10);
  });

  it('drops every hop-by-hop header whatever its case', () => {
    const out = upstreamRequestHeaders(
      [
        'CONNECTION',
        'keep-alive',
        'Keep-Alive',
        'timeout=5',
        'TE',
        'trailers',
        'Trailer',
        'X-Sum',
        'Transfer-Encoding',
        'chunked',
        'Upgrade',
        'h2c',
        'Proxy-Authorization',
        'Basic eA==',
        'proxy-connection',
        'keep-alive',
        'Expect',
        '100-continue',
        'HTTP2-Settings',
        'AAMAAABkAAQAAP__',
        'x-kept',
        'yes',
      ],
      fwd,
    );
    expect(pairs(out).map(([n]) => n)).toEqual(['x-kept', 'x-forwarded-for', 'x-forwarded-proto']);
  });

  it('drops the headers Connection names, before or after it, across several Connection fields', () => {
    const out = upstreamRequestHeaders(
      [
        'X-Early',
        '1',
        'Connection',
        ' X-Early ,close,, x-LATE',
        'connection',
        'X-Second-Field',
        'X-Late',
        '2',
        'x-second-field',
        '3',
        'X-Close',
        'not named by "close"',
      ],
      fwd,
    );
    expect(pairs(out).map(([n]) => n)).toEqual(['X-Close', 'x-forwarded-for', 'x-forwarded-proto']);
  });

  it('does not take a name that merely starts like a hop-by-hop one for it', () => {
    const out = upstreamRequestHeaders(['Connectionx', 'a', 'TEx', 'b', 'Upgrade-Insecure-Requests', '1'], fwd);
    expect(pairs(out).map(([n]) => n)).toEqual([
      'Connectionx',
      'TEx',
      'Upgrade-Insecure-Requests',
      'x-forwarded-for',
      'x-forwarded-proto',
    ]);
  });

  it('adds X-Forwarded-For, -Proto and -Host when absent', () => {
    const out = upstreamRequestHeaders(['Host', 'shop.test:8080'], { clientAddress: '::1', proto: 'https' });
    expect(pairs(out)).toEqual([
      ['Host', 'shop.test:8080'],
      ['x-forwarded-for', '::1'],
      ['x-forwarded-proto', 'https'],
      ['x-forwarded-host', 'shop.test:8080'],
    ]);
  });

  it('appends the client to X-Forwarded-For, joining several fields into one in order', () => {
    const out = upstreamRequestHeaders(
      ['X-Forwarded-For', '203.0.113.1', 'accept', '*/*', 'x-forwarded-for', '198.51.100.2, 10.0.0.3'],
      fwd,
    );
    const xff = pairs(out).filter(([n]) => n.toLowerCase() === 'x-forwarded-for');
    expect(xff).toEqual([['x-forwarded-for', '203.0.113.1, 198.51.100.2, 10.0.0.3, 192.0.2.10']]);
  });

  it('keeps an earlier hop’s X-Forwarded-Proto and X-Forwarded-Host, once each', () => {
    const out = upstreamRequestHeaders(
      ['Host', 'internal', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'shop.test'],
      fwd,
    );
    expect(pairs(out)).toEqual([
      ['Host', 'internal'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', 'shop.test'],
      ['x-forwarded-for', '192.0.2.10'],
    ]);
  });

  it('adds no X-Forwarded-Host when there is no Host', () => {
    expect(pairs(upstreamRequestHeaders([], fwd))).toEqual([
      ['x-forwarded-for', '192.0.2.10'],
      ['x-forwarded-proto', 'http'],
    ]);
  });
});

describe('clientResponseHeaders', () => {
  it('keeps end-to-end headers in order and case, set-cookie fields separate, and adds the version', () => {
    const out = clientResponseHeaders(
      raw('Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2, c=3', 'Content-Length', '5'),
      'x-switchyard-version',
      '2',
    );
    expect(pairs(out)).toEqual([
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'a=1'],
      ['set-cookie', 'b=2, c=3'],
      ['Content-Length', '5'],
      ['x-switchyard-version', '2'],
    ]);
  });

  it('replaces a version header the upstream sent with its own', () => {
    const out = clientResponseHeaders(raw('X-Switchyard-Version', 'spoofed', 'x-a', '1'), 'x-switchyard-version', '2');
    expect(pairs(out)).toEqual([
      ['x-a', '1'],
      ['x-switchyard-version', '2'],
    ]);
    // With the header turned off, an upstream's header of that name is just another header.
    expect(clientResponseHeaders(raw('X-Switchyard-Version', 'own'), false, '2')).toEqual([
      'X-Switchyard-Version',
      'own',
    ]);
  });

  it('treats a Connection of just keep-alive or close as naming nothing', () => {
    const out = clientResponseHeaders(
      raw('Connection', ' Keep-Alive ', 'Keep-Alive', 'timeout=5', 'Close', 'x', 'connection', 'close'),
      false,
      '',
    );
    expect(out).toEqual(['Close', 'x']);
  });

  it('reads names in any case and spelling, known or not, and keeps each as sent', () => {
    const out = clientResponseHeaders(
      raw('DATE', 'd', 'CONNECTION', 'close', 'TRANSFER-encoding', 'chunked', 'X-SWITCHYARD-version', 'x', 'dAtE', 'e'),
      'x-switchyard-version',
      '2',
    );
    expect(out).toEqual(['DATE', 'd', 'dAtE', 'e', 'x-switchyard-version', '2']);
  });

  it('gives the same answer when a repeating value comes again or changes', () => {
    const first = [...clientResponseHeaders(raw('Date', 'Mon, 07 Dec 2026 10:00:00 GMT'), false, '')];
    const again = [...clientResponseHeaders(raw('Date', 'Mon, 07 Dec 2026 10:00:00 GMT'), false, '')];
    const next = [...clientResponseHeaders(raw('Date', 'Mon, 07 Dec 2026 10:00:01 GMT'), false, '')];
    expect(again).toEqual(first);
    expect(next).toEqual(['Date', 'Mon, 07 Dec 2026 10:00:01 GMT']);
    // A shorter list after a longer one holds only its own headers.
    clientResponseHeaders(raw('a', '1', 'b', '2', 'c', '3'), false, '');
    expect(clientResponseHeaders(raw('d', '4'), false, '')).toEqual(['d', '4']);
  });

  it('adds no version header when it is turned off', () => {
    expect(clientResponseHeaders(raw('ETag', '"x"'), false, '2')).toEqual(['ETag', '"x"']);
    expect(clientResponseHeaders([], false, '2')).toEqual([]);
  });

  it('drops hop-by-hop headers and the ones Connection names, wherever they stand', () => {
    const out = clientResponseHeaders(
      raw(
        'X-Listed',
        'a',
        'Transfer-Encoding',
        'chunked',
        'Connection',
        'close, X-Listed',
        'Keep-Alive',
        'timeout=5',
        'Trailer',
        'X-Digest',
        'Upgrade',
        'h2c',
        'Proxy-Authenticate',
        'Basic',
        'Proxy-Connection',
        'close',
        'X-End',
        'kept',
      ),
      'v',
      '1',
    );
    expect(pairs(out)).toEqual([
      ['X-End', 'kept'],
      ['v', '1'],
    ]);
  });

  it('passes bytes above ASCII through unchanged (latin1 in, latin1 out)', () => {
    const value = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xc3, 0xa9]); // "café " then UTF-8 "é"
    const [, out] = clientResponseHeaders([Buffer.from('X-Name'), value], false, '');
    expect(Buffer.from(out!, 'latin1').equals(value)).toBe(true);
  });
});

describe('stripUpgradeHopByHop', () => {
  it('keeps what the upgrade needs and drops the rest of the hop-by-hop headers', () => {
    const headers: Record<string, string | string[] | undefined> = {
      host: 'a.test',
      connection: 'keep-alive, Upgrade, X-Hop',
      upgrade: 'websocket',
      'sec-websocket-key': 'k',
      'sec-websocket-version': '13',
      'x-hop': 'gone',
      'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic eA==',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      'x-kept': 'yes',
    };
    stripUpgradeHopByHop(headers);
    expect(headers).toEqual({
      host: 'a.test',
      connection: 'keep-alive, Upgrade, X-Hop',
      upgrade: 'websocket',
      'sec-websocket-key': 'k',
      'sec-websocket-version': '13',
      'x-kept': 'yes',
    });
  });
});
