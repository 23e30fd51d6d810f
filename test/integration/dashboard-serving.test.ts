/**
 * The dashboard's files on a real socket: the page at each of its routes, files under /ui/ with their
 * ETag and brotli or gzip as asked, the chart library from its package, the security headers, nothing
 * outside the folder, and no token asked for them while `/v1` routes still want it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import Fastify from 'fastify';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { controlGuard } from '../../src/api/auth/guard.js';
import { dashboardRoutes } from '../../src/api/dashboard.js';
import { handleApiError } from '../../src/api/errors.js';
import { systemClock } from '../../src/core/clock.js';

const TOKEN = 'dashboard-test-token-3c9e1f';
const INDEX = '<!doctype html><title>switchyard</title><script type="module" src="/ui/app.js"></script>';
const APP = `export const text = ${JSON.stringify('switchyard '.repeat(200))};\n`;

let root: string;
let url: string;
let close: () => Promise<void>;
let client: Client;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'switchyard-dashboard-'));
  await mkdir(join(root, 'pages'));
  await writeFile(join(root, 'index.html'), INDEX);
  await writeFile(join(root, 'app.js'), APP);
  await writeFile(join(root, 'pages', 'lab.js'), 'export {};\n');
  await writeFile(join(root, 'globals.d.ts'), 'declare const x: number;\n');
  await writeFile(join(root, 'notes.txt'), 'not served\n');
  const app = Fastify();
  app.setErrorHandler(handleApiError);
  app.addHook('onRequest', controlGuard({ token: TOKEN, publicMetrics: false }, systemClock).requireBearer);
  await app.register(dashboardRoutes, { root });
  app.get('/v1/services', async () => ({ services: [] }));
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  client = new Client(url);
  close = async () => {
    await client.close();
    await app.close();
  };
});

afterAll(async () => {
  await close();
  await rm(root, { recursive: true, force: true });
});

async function get(path: string, headers: Record<string, string> = {}) {
  // As the path is given, not parsed as a URL, so `..` reaches the server as sent.
  const res = await client.request({ path, method: 'GET', headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

describe('the dashboard on the control port', () => {
  it('answers every page route with index.html, without a token, under a strict CSP', async () => {
    for (const path of ['/', '/history', '/deployments/d-ABC123', '/lab', '/lab/policies']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body.toString()).toBe(INDEX);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    expect((await get('/v1/services')).status).toBe(401);
    expect((await get('/v1/services', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('sends brotli or gzip as the client accepts, the same bytes once decoded', async () => {
    const plain = await get('/ui/app.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(APP);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');

    const br = await get('/ui/app.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.body.length).toBeLessThan(APP.length / 5);
    expect(brotliDecompressSync(br.body).toString()).toBe(APP);

    const gz = await get('/ui/app.js', { 'accept-encoding': 'gzip, br;q=0' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(APP);
    expect(gz.headers.vary).toBe('accept-encoding');
  });

  it('answers 304 to a matching ETag, and serves files in subfolders', async () => {
    const first = await get('/ui/pages/lab.js');
    expect(first.status).toBe(200);
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    expect(first.headers['cache-control']).toBe('no-cache');
    const again = await get('/ui/pages/lab.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('serves the chart library from its package', async () => {
    const script = await get('/ui/vendor/uPlot.iife.min.js');
    expect(script.status).toBe(200);
    expect(script.body.toString()).toContain('uPlot');
    expect((await get('/ui/vendor/uPlot.min.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('serves nothing else: no other file types, no type declarations, nothing outside the folder', async () => {
    for (const path of ['/ui/notes.txt', '/ui/globals.d.ts', '/ui/missing.js', '/ui/']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body.toString())).toMatchObject({ error: 'NO_ROUTE' });
    }
    // The router may not even reach the dashboard for these (then the guard answers as for any unknown
    // route); what matters is that nothing outside the folder is sent.
    for (const path of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json']) {
      const res = await get(path);
      expect([401, 404], path).toContain(res.status);
      expect(res.body.toString()).not.toContain('"devDependencies"');
    }
  });
});
