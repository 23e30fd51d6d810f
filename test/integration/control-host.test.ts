/**
 * DNS rebinding against the control API, on real sockets: a page that rebinds its own name to 127.0.0.1
 * still sends that name as Host, and is refused before any route or credential check runs; names the
 * config lists, loopback names and the bound address are answered; no answer carries CORS headers.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { startProxy } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

async function get(url: string, path: string, headers: Record<string, string>) {
  const res = await request(`${url}${path}`, { headers });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

describe('control API Host check', () => {
  it('refuses a rebound name with 403 and answers its own names, with no CORS headers', async () => {
    const up = await startUpstream('a');
    const sy = await startProxy({
      control: { host: '127.0.0.1', port: 0, allowedHosts: ['deploy.test'] },
      services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }],
    });
    const url = sy.urls['control']!;
    const port = sy.addresses['control']!.port;
    const refused = await get(url, '/v1/services', {
      host: `rebound.attacker.example:${port}`,
      origin: 'http://rebound.attacker.example',
    });
    expect(refused.status).toBe(403);
    expect(refused.body['error']).toBe('HOST_NOT_ALLOWED');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `deploy.test:${port}`, 'DEPLOY.TEST.']) {
      const ok = await get(url, '/v1/services', { host, origin: 'http://rebound.attacker.example' });
      expect(ok.status, host).toBe(200);
      expect(ok.headers['access-control-allow-origin'], host).toBeUndefined();
    }
    // CodeDeploy's protocol on the same port is guarded too.
    const cd = await request(`${url}/`, {
      method: 'POST',
      headers: {
        host: 'rebound.attacker.example',
        'x-amz-target': 'CodeDeploy_20141006.ListApplications',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{}',
    });
    expect(cd.statusCode).toBe(403);
    await cd.body.dump();
  });

  it('refuses a rebound name before the token check, so it learns nothing from a 401', async () => {
    const up = await startUpstream('a');
    const sy = await startProxy({
      control: { host: '127.0.0.1', port: 0, auth: { token: 'a-token-of-sixteen-chars' } },
      services: [{ name: 'web', versions: { '1': { targets: [up.url] } }, live: '1' }],
    });
    const url = sy.urls['control']!;
    expect((await get(url, '/v1/services', { host: 'rebound.attacker.example' })).status).toBe(403);
    expect((await get(url, '/v1/services', {})).status).toBe(401);
  });
});
