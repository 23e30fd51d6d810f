import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ERROR_CODES, formatIssue, isSwitchyardError, SwitchyardError } from '../../src/core/errors.js';
import { PROXY_ERRORS } from '../../src/proxy/proxy-error.js';

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('error registry', () => {
  it('documents every code in the README error table, with its status, and nothing else', () => {
    const documented = new Map(
      [...README.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [m[1]!, Number(m[2])]),
    );
    expect(Object.fromEntries(documented)).toEqual(ERROR_CODES);
  });

  it('gives every code a status from 400 to 599', () => {
    for (const status of Object.values(ERROR_CODES)) expect(status).toBeGreaterThanOrEqual(400);
    for (const status of Object.values(ERROR_CODES)) expect(status).toBeLessThan(600);
  });

  it('keeps data-plane codes and statuses the same as the registry', () => {
    for (const [code, status] of Object.entries(PROXY_ERRORS)) {
      expect(ERROR_CODES[code as keyof typeof ERROR_CODES]).toBe(status);
    }
  });

  it('serialises with code, message and formatted issues', () => {
    const err = new SwitchyardError('CONFIG_INVALID', 'x.yml: 1 problem', {
      issues: [{ location: { file: 'x.yml', line: 3, column: 7 }, path: 'services[0].live', message: 'bad' }],
    });
    expect(err.statusCode).toBe(400);
    expect(err.toJSON()).toEqual({
      error: 'CONFIG_INVALID',
      message: 'x.yml: 1 problem',
      issues: ['x.yml:3:7 services[0].live: bad'],
    });
    expect(isSwitchyardError(err, 'CONFIG_INVALID')).toBe(true);
    expect(isSwitchyardError(err, 'INTERNAL')).toBe(false);
    expect(isSwitchyardError(new Error('x'))).toBe(false);
    expect(formatIssue({ location: undefined, path: '', message: 'just this' })).toBe('just this');
  });
});
