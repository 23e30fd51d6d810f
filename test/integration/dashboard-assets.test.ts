/**
 * The dashboard's first load within its budget: the page at `/` and everything it needs before it can
 * draw (its stylesheets, its scripts, and every module app.js imports, followed statically), fetched
 * from a real control API with `accept-encoding: br, gzip`, and the compressed bytes summed.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { startProxy, twoVersions } from '../support/switchyard.js';

/** The most the first load may weigh on the wire. */
const BUDGET_BYTES = 200 * 1024;

/** The `href`/`src` of the page's stylesheets and scripts. */
function pageAssets(html: string): string[] {
  const found: string[] = [];
  for (const tag of html.match(/<(link|script)\b[^>]*>/g) ?? []) {
    if (tag.startsWith('<link') && !/rel="stylesheet"/.test(tag)) continue;
    const ref = /(?:href|src)="([^"]+)"/.exec(tag)?.[1];
    if (ref) found.push(ref);
  }
  return found;
}

/** The static imports of a module, resolved against its path. */
function staticImports(source: string, path: string): string[] {
  const specifiers = [...source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'|^\s*import\s+'([^']+)'/gm)];
  return specifiers.map((m) => new URL(m[1] ?? m[2]!, `http://x${path}`).pathname);
}

describe('the dashboard first load', () => {
  it('is under 200 KB compressed, every file it needs found', async () => {
    const sy = await startProxy(twoVersions('http://127.0.0.1:1', 'http://127.0.0.1:2'));
    const origin = sy.urls.control!;
    const sizes = new Map<string, { wire: number; raw: number; encoding: string }>();

    const fetchAsset = async (path: string): Promise<string> => {
      const res = await request(`${origin}${path}`, { headers: { 'accept-encoding': 'br, gzip' } });
      const wire = Buffer.from(await res.body.arrayBuffer());
      expect(res.statusCode, path).toBe(200);
      const encoding = String(res.headers['content-encoding'] ?? 'identity');
      const text = (
        encoding === 'br' ? brotliDecompressSync(wire) : encoding === 'gzip' ? gunzipSync(wire) : wire
      ).toString('utf8');
      sizes.set(path, { wire: wire.length, raw: Buffer.byteLength(text), encoding });
      return text;
    };

    const html = await fetchAsset('/');
    const queue = pageAssets(html);
    expect(queue).toEqual(expect.arrayContaining(['/ui/app.js', '/ui/style.css', '/ui/vendor/uPlot.iife.min.js']));
    while (queue.length > 0) {
      const path = queue.shift()!;
      if (sizes.has(path)) continue;
      const text = await fetchAsset(path);
      if (path.endsWith('.js') && path !== '/ui/vendor/uPlot.iife.min.js') queue.push(...staticImports(text, path));
    }

    const total = [...sizes.values()].reduce((sum, s) => sum + s.wire, 0);
    const raw = [...sizes.values()].reduce((sum, s) => sum + s.raw, 0);
    console.log(
      `dashboard first load: ${sizes.size} files, ${(total / 1024).toFixed(1)} KB on the wire ` +
        `(${(raw / 1024).toFixed(1)} KB uncompressed)\n` +
        [...sizes].map(([path, s]) => `  ${path}  ${s.wire} B ${s.encoding} (${s.raw} B)`).join('\n'),
    );
    // The modules were followed: the pages and the store came with app.js.
    expect([...sizes.keys()]).toEqual(
      expect.arrayContaining(['/ui/pages/services.js', '/ui/state.js', '/ui/stream.js', '/ui/charts.js']),
    );
    expect(total).toBeLessThan(BUDGET_BYTES);
  });
});
