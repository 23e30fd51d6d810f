/**
 * @module api/auth/exposure
 * What start-up says about who can reach the control API, and what the processes switchyard starts need
 * to call it back once `control.auth` is set.
 */
import { isIPv4 } from 'node:net';

import type { ControlAuth } from '../../config/schema.js';
import type { Logger } from '../../core/logger.js';

/** Whether `host` is a loopback address: 127.0.0.0/8, ::1 (also IPv4-mapped, or in brackets), or localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h)) return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * Warns, in the log and in a line on stderr that stands out, when the control API listens beyond this
 * machine with no `control.auth`: anyone who can reach the port could move production traffic.
 */
export function warnWhenExposed(
  control: { readonly host: string; readonly auth?: ControlAuth | undefined },
  url: string,
  log: Logger,
  stderr: { write(text: string): unknown } = process.stderr,
): void {
  if (control.auth !== undefined || isLoopbackHost(control.host)) return;
  log.warn(
    { host: control.host, url },
    'the control API listens beyond loopback without control.auth: anyone who can reach it can move traffic',
  );
  stderr.write(
    `\n*** WARNING: switchyard's control API listens on ${url} (host ${control.host}) WITHOUT control.auth.\n` +
      '*** Anyone who can reach it can shift production traffic and run deployments.\n' +
      '*** Set control.auth (README: "Securing the control API"), or bind control.host to 127.0.0.1.\n\n',
  );
}

/**
 * Environment for a process that calls the control API back (a command hook): the bearer token as
 * SWITCHYARD_TOKEN and, when keys are configured, the AWS variables an SDK or awscli signs with. Any region
 * is accepted, so an already chosen one is kept.
 */
export function callerEnv(auth: ControlAuth | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (auth === undefined) return {};
  return {
    ...(auth.token !== undefined && { SWITCHYARD_TOKEN: auth.token }),
    ...(auth.accessKeyId !== undefined &&
      auth.secretAccessKey !== undefined && {
        AWS_ACCESS_KEY_ID: auth.accessKeyId,
        AWS_SECRET_ACCESS_KEY: auth.secretAccessKey,
        AWS_REGION: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
      }),
  };
}
