/**
 * A standby control plane's front on real sockets: calls forwarded to the leader (method, path, body,
 * auth), answered 503 naming what it knows when no leader answers, and data planes' channel upgrades
 * refused so that they try the next control URL.
 */
import { request as httpRequest } from 'node:http';

import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';

import { type LeaderInfo, standBy } from '../../src/app/standby.js';
import { createLogger } from '../../src/core/logger.js';
import { startUpstream } from '../support/upstream.js';

const log = createLogger({ level: 'silent' });

async function front(leader: () => Promise<LeaderInfo | undefined>) {
  const f = await standBy({ host: '127.0.0.1', port: 0, name: 'cp-b', leader, log });
  onTestFinished(() => f.close());
  return `http://127.0.0.1:${f.address.port}`;
}

describe('standby front', () => {
  it('forwards reads and writes to the leader, body and authorization included, and names both', async () => {
    const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
    const leader = await startUpstream('leader', (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
        res.writeHead(201, { 'content-type': 'application/json', 'x-from': 'leader' }).end('{"ok":true}');
      });
    });
    const url = await front(async () => ({ name: 'cp-a', controlUrl: leader.url }));
    const answer = await request(`${url}/v1/services/web/weight?x=1`, {
      method: 'PUT',
      headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json' },
      body: '{"weights":{"2":10}}',
    });
    expect(answer.statusCode).toBe(201);
    expect(answer.headers['x-from']).toBe('leader');
    expect(answer.headers['x-switchyard-standby']).toBe('cp-b');
    expect(answer.headers['x-switchyard-leader']).toBe('cp-a');
    expect(await answer.body.json()).toEqual({ ok: true });
    expect(seen).toEqual([
      { method: 'PUT', url: '/v1/services/web/weight?x=1', auth: 'Bearer t0ken', body: '{"weights":{"2":10}}' },
    ]);
  });

  it('answers 503 STORE_NOT_LEADER when no leader is recorded or the leader does not answer', async () => {
    const none = await front(async () => undefined);
    const a = await request(`${none}/v1/deployments`);
    expect(a.statusCode).toBe(503);
    expect(await a.body.json()).toMatchObject({ error: 'STORE_NOT_LEADER', message: expect.stringContaining('cp-b') });

    const gone = await startUpstream('gone', () => undefined, { autoClose: false });
    const goneUrl = gone.url;
    await gone.close();
    const dead = await front(async () => ({ name: 'cp-a', controlUrl: goneUrl }));
    const b = await request(`${dead}/v1/deployments`);
    expect(b.statusCode).toBe(503);
    const body = (await b.body.json()) as { message: string; leader: LeaderInfo };
    expect(body.message).toContain(`the leader cp-a at ${goneUrl} did not answer`);
    expect(body.leader).toEqual({ name: 'cp-a', controlUrl: goneUrl });
  });

  it('refuses a channel upgrade with 503 naming the leader', async () => {
    const url = await front(async () => ({ name: 'cp-a', controlUrl: 'http://127.0.0.1:9' }));
    const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${url}/v1/data-planes/connect`, {
        headers: { connection: 'upgrade', upgrade: 'websocket' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ code: res.statusCode!, body }));
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect(status.code).toBe(503);
    expect(status.body).toContain('connect to the leader cp-a at http://127.0.0.1:9');
  });
});
