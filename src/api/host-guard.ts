/**
 * @module api/host-guard
 * DNS rebinding: a web page a developer opens can make the browser resolve its own name to 127.0.0.1 and
 * send requests to a loopback control API. The browser still sends the page's name as `Host`, so the API
 * answers only requests whose `Host` names the address it is bound to, a loopback name, or a name the
 * config lists (`control.allowedHosts`); anything else is refused before any route runs.
 */
import { isIP } from 'node:net';

import type { FastifyReply, FastifyRequest } from 'fastify';

import { SwitchyardError } from '../core/errors.js';

/** What the control API may be called by. */
export interface HostRule {
  /** The host the API is bound to (`control.host`). */
  readonly bound: string;
  /** Further names the API may be reached by (behind a tunnel or a DNS name of this host). */
  readonly allowed: readonly string[];
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The host part of a Host header, lower case, without port or IPv6 brackets; undefined when malformed. */
export function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end > 1 ? value.slice(1, end) : undefined;
  }
  const name = value.replace(/:\d*$/, '').replace(/\.$/, '');
  return name.length > 0 ? name : undefined;
}

/**
 * Whether a request with this Host may be answered: loopback names, the bound address, the listed names,
 * and, when bound to every interface, any IP address (a rebinding attack always carries a name).
 */
export function hostAllowed(header: string | undefined, rule: HostRule): boolean {
  const name = hostName(header);
  if (name === undefined) return false;
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) return true;
  const bound = plainHost(rule.bound);
  if (name === bound) return true;
  if (WILDCARDS.has(bound) && isIP(name) !== 0) return true;
  return rule.allowed.some((allowed) => plainHost(allowed) === name);
}

/** A configured host (no port): lower case, without IPv6 brackets or a trailing dot. */
function plainHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/** A fastify onRequest hook that refuses a request whose Host the rule does not allow with 403. */
export function hostGuard(rule: HostRule) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (hostAllowed(req.headers.host, rule)) return;
    const body = new SwitchyardError(
      'HOST_NOT_ALLOWED',
      `the control API does not answer for Host "${req.headers.host ?? ''}"; add it to control.allowedHosts if it is yours`,
    ).toJSON();
    await reply.status(403).send(body);
  };
}
