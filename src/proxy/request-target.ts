/**
 * @module proxy/request-target
 * What a request must be before it is routed (RFC 9112 §2.3, §3.2, §6.1): HTTP/1.x, a Host when it is
 * HTTP/1.1, an origin-form target without a fragment, and no transfer coding on HTTP/1.0, whose framing
 * a Transfer-Encoding makes ambiguous. An absolute-form target (`GET http://host/path`) is accepted and
 * rewritten in place to the origin-form the rest of the data plane routes and forwards, its authority
 * becoming the Host, as RFC 9112 §3.2.2 has a server and a proxy do. Everything else is refused.
 */
import type { IncomingMessage } from 'node:http';

/** How a request that is not to be routed is answered. */
export type TargetVerdict =
  /** Routed and forwarded as it now is. */
  | undefined
  /** `OPTIONS *`: a question about the server in general, answered by switchyard itself. */
  | 'server-options'
  /** Refused with 400: why. */
  | { readonly invalid: string };

/** An absolute-form target: scheme, then authority, then the rest (path and query). */
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)(.*)$/i;

/** An authority switchyard routes by: a reg-name or IPv4 address, or a bracketed IP literal, and a port. */
const AUTHORITY = /^(?:[\w\-.~!$&'()*+,;=%]+|\[[\w\-.~!$&'()*+,;=%:]+\])(?::\d*)?$/;

/**
 * Checks `req` before routing; an absolute-form target is rewritten to origin-form in `req.url`, and its
 * authority replaces every Host header in `req.rawHeaders` and `req.headers`. The common request (an
 * HTTP/1.1 origin-form target with a Host) is passed with a handful of comparisons.
 */
export function checkTarget(req: IncomingMessage): TargetVerdict {
  const url = req.url!;
  if (
    url.charCodeAt(0) === 47 /* / */ &&
    req.httpVersionMinor === 1 &&
    req.httpVersionMajor === 1 &&
    req.headers.host !== undefined &&
    !url.includes('#')
  ) {
    return undefined;
  }
  return slowCheck(req, url);
}

function slowCheck(req: IncomingMessage, url: string): TargetVerdict {
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1) {
    return { invalid: `HTTP/${req.httpVersion} is not offered: switchyard speaks HTTP/1.1 and 1.0` };
  }
  if (req.httpVersionMinor === 0 && hasTransferEncoding(req.rawHeaders)) {
    return { invalid: 'an HTTP/1.0 request with Transfer-Encoding has no reliable length' };
  }
  if (url.includes('#')) return { invalid: 'a request target may not carry a #fragment' };
  if (url === '*') {
    return req.method === 'OPTIONS' ? 'server-options' : { invalid: `${req.method} * is not a request for a resource` };
  }
  if (url.charCodeAt(0) !== 47) {
    const absolute = ABSOLUTE_FORM.exec(url);
    if (!absolute) return { invalid: 'the request target is not a path or an http(s) URL' };
    const authority = absolute[1]!;
    if (!AUTHORITY.test(authority)) return { invalid: 'the request target has no valid host' };
    // RFC 9112 §3.2 holds for this form too: one Host line, required in HTTP/1.1, whatever its value.
    const hosts = replaceHost(req, authority);
    if (hosts > 1) return { invalid: 'more than one Host header' };
    if (hosts === 0 && req.httpVersionMinor === 1) return { invalid: 'an HTTP/1.1 request must have a Host header' };
    const rest = absolute[2]!;
    req.url = rest === '' ? '/' : rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest;
    return undefined;
  }
  if (req.httpVersionMinor === 1 && req.headers.host === undefined) {
    return { invalid: 'an HTTP/1.1 request must have a Host header' };
  }
  return undefined;
}

function hasTransferEncoding(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 17 && raw[i]!.toLowerCase() === 'transfer-encoding') return true;
  }
  return false;
}

/**
 * Drops every Host line the client sent and adds one naming `authority` (RFC 9112 §3.2.2); returns how
 * many it dropped.
 */
function replaceHost(req: IncomingMessage, authority: string): number {
  const raw = req.rawHeaders;
  const kept: string[] = ['Host', authority];
  let dropped = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') dropped++;
    else kept.push(raw[i]!, raw[i + 1]!);
  }
  req.rawHeaders = kept;
  req.headers.host = authority;
  return dropped;
}
