/**
 * The pieces of `control.auth` that need no server: the config section (with `${VAR}` secrets and errors
 * at line and column), the bearer header, the constant-time comparison, what counts as loopback, and the
 * environment handed to processes that call the control API back.
 */
import { describe, expect, it } from 'vitest';

import { bearerRefusal, bearerTokenOf } from '../../src/api/auth/bearer.js';
import { callerEnv, isLoopbackHost } from '../../src/api/auth/exposure.js';
import { parseConfig } from '../../src/app/config.js';
import { sameSecret } from '../../src/core/constant-time.js';
import { isSwitchyardError } from '../../src/core/errors.js';

const TOKEN = '0123456789abcdef0123';

/** A minimal config file whose `control:` section is `control` (YAML lines, indented by two). */
function configText(control: string): string {
  return `listeners:
  production: { port: 0 }
services:
  - name: web
    versions: { "1": { targets: ["http://127.0.0.1:1"] } }
    live: "1"
control:
${control}
`;
}

/** The issues parseConfig reports for `text`, formatted. */
function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, 'sy.yml', env);
  } catch (err) {
    if (isSwitchyardError(err, 'CONFIG_INVALID')) return err.toJSON().issues ?? [];
    throw err;
  }
  return [];
}

describe('control.auth in the config file', () => {
  it('keeps a control section without auth working, and the default host on loopback', () => {
    const config = parseConfig(configText('  port: 9901'), 'sy.yml', {});
    expect(config.control).toEqual({ host: '127.0.0.1', port: 9901, allowedHosts: [] });
  });

  it('reads secrets from ${VAR}, a digits-only one as text, with publicMetrics off by default', () => {
    const text = configText(
      '  port: 0\n  auth:\n    token: ${SWITCHYARD_TOKEN}\n    accessKeyId: ${KEY_ID}\n    secretAccessKey: ${SECRET}',
    );
    const config = parseConfig(text, 'sy.yml', {
      SWITCHYARD_TOKEN: '12345678901234567890',
      KEY_ID: 'AKIDLOCAL',
      SECRET: 's'.repeat(40),
    });
    // 20 digits are past a double's precision: read as a number they would silently change.
    expect(config.control.auth).toEqual({
      token: '12345678901234567890',
      accessKeyId: 'AKIDLOCAL',
      secretAccessKey: 's'.repeat(40),
      publicMetrics: false,
    });
    expect(problems(text, {})).toEqual([
      'sy.yml:10:12: environment variable SWITCHYARD_TOKEN is not set and has no default (write ${SWITCHYARD_TOKEN:-default})',
      'sy.yml:11:18: environment variable KEY_ID is not set and has no default (write ${KEY_ID:-default})',
      'sy.yml:12:22: environment variable SECRET is not set and has no default (write ${SECRET:-default})',
    ]);
  });

  it('keeps a zero-led digits-only secret as given', () => {
    const text = configText('  port: 0\n  auth:\n    token: ${SWITCHYARD_TOKEN}');
    expect(parseConfig(text, 'sy.yml', { SWITCHYARD_TOKEN: '0012345678901234' }).control.auth?.token).toBe(
      '0012345678901234',
    );
  });

  it('reports a short token, a key id without its secret and an empty auth where they stand', () => {
    expect(problems(configText('  port: 0\n  auth:\n    token: short'))).toEqual([
      'sy.yml:10:12 control.auth.token: must be at least 16 characters (e.g. openssl rand -hex 32)',
    ]);
    expect(problems(configText(`  port: 0\n  auth:\n    token: ${TOKEN}\n    accessKeyId: AKIDLOCAL`))).toEqual([
      'sy.yml:11:18 control.auth.accessKeyId: needs secretAccessKey beside it: the two come together or not at all',
    ]);
    expect(problems(configText(`  port: 0\n  auth:\n    secretAccessKey: ${TOKEN}`))).toEqual([
      'sy.yml:10:22 control.auth.secretAccessKey: needs accessKeyId beside it: the two come together or not at all',
    ]);
    expect(problems(configText('  port: 0\n  auth: {}'))).toEqual([
      'sy.yml:9:9 control.auth: needs a token, or accessKeyId and secretAccessKey, or all three',
    ]);
  });
});

describe('bearer tokens', () => {
  it('takes the token of a Bearer header, in any case of the scheme', () => {
    expect(bearerTokenOf(`Bearer ${TOKEN}`)).toBe(TOKEN);
    expect(bearerTokenOf(`bearer  ${TOKEN} `)).toBe(TOKEN);
    expect(bearerTokenOf(TOKEN)).toBeUndefined();
    expect(bearerTokenOf('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerTokenOf(undefined)).toBeUndefined();
  });

  it('says why a header is refused, never what it held', () => {
    expect(bearerRefusal(`Bearer ${TOKEN}`, TOKEN)).toBeUndefined();
    expect(bearerRefusal(undefined, TOKEN)).toBe('no Authorization header');
    expect(bearerRefusal('Basic x', TOKEN)).toBe('Authorization header is not a bearer token');
    expect(bearerRefusal(`Bearer ${TOKEN}x`, TOKEN)).toBe('wrong bearer token');
  });

  it('compares secrets of any length', () => {
    expect(sameSecret(TOKEN, TOKEN)).toBe(true);
    expect(sameSecret(TOKEN, `${TOKEN}0`)).toBe(false);
    expect(sameSecret('', TOKEN)).toBe(false);
  });
});

describe('loopback and callers', () => {
  it('counts 127.0.0.0/8, ::1 and localhost as loopback, and nothing else', () => {
    for (const host of [
      '127.0.0.1',
      '127.8.9.10',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      'localhost',
      'LOCALHOST',
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '128.0.0.1',
      '127.0.0.1.example.com',
      'example.com',
      '::ffff:10.0.0.1',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('gives a process that calls back the token and, with keys, the AWS variables', () => {
    expect(callerEnv(undefined)).toEqual({});
    expect(callerEnv({ token: TOKEN, publicMetrics: false }, {})).toEqual({ SWITCHYARD_TOKEN: TOKEN });
    expect(
      callerEnv(
        { token: TOKEN, accessKeyId: 'AKID', secretAccessKey: 'secret', publicMetrics: false },
        { AWS_REGION: 'eu-west-1' },
      ),
    ).toEqual({
      SWITCHYARD_TOKEN: TOKEN,
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'eu-west-1',
    });
    expect(callerEnv({ accessKeyId: 'AKID', secretAccessKey: 'secret', publicMetrics: false }, {})['AWS_REGION']).toBe(
      'us-east-1',
    );
  });
});
