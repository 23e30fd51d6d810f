import { describe, expect, it } from 'vitest';

import { hostAllowed, hostName } from '../../src/api/host-guard.js';

const LOOPBACK = { bound: '127.0.0.1', allowed: [] };

describe('control API Host check (DNS rebinding)', () => {
  it('reads the host of a Host header without port, brackets, case or a trailing dot', () => {
    expect(hostName('LocalHost:9900')).toBe('localhost');
    expect(hostName('[::1]:9900')).toBe('::1');
    expect(hostName('deploy.example.')).toBe('deploy.example');
    expect(hostName('')).toBeUndefined();
    expect(hostName(undefined)).toBeUndefined();
    expect(hostName('[::1')).toBeUndefined();
  });

  it('answers loopback names and the bound address, refuses any other name', () => {
    for (const host of ['127.0.0.1:9900', 'localhost:9900', '[::1]:9900', 'app.localhost']) {
      expect(hostAllowed(host, LOOPBACK), host).toBe(true);
    }
    for (const host of ['evil.example', 'evil.example:9900', '10.0.0.5:9900', undefined, '']) {
      expect(hostAllowed(host, LOOPBACK), String(host)).toBe(false);
    }
    expect(hostAllowed('10.0.0.5:9900', { bound: '10.0.0.5', allowed: [] })).toBe(true);
  });

  it('answers any IP address when bound to every interface, but names only when listed', () => {
    const everywhere = { bound: '0.0.0.0', allowed: ['deploy.staging.internal'] };
    expect(hostAllowed('192.0.2.7:9900', everywhere)).toBe(true);
    expect(hostAllowed('[2001:db8::1]:9900', { bound: '::', allowed: [] })).toBe(true);
    expect(hostAllowed('Deploy.Staging.Internal:9900', everywhere)).toBe(true);
    expect(hostAllowed('rebound.attacker.example:9900', everywhere)).toBe(false);
  });
});
